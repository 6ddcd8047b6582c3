//! The node harness itself: a two-node cluster comes up, a pod sandbox made over CRI in a
//! node's containerd gets an IP from that node's pod CIDR that the other node reaches, the
//! images come from the local registry, and teardown leaves nothing behind.

use std::collections::HashMap;
use std::path::Path;

use e2e::node::{cri_connect, ClusterConfig, NodeCluster, BUSYBOX_IMAGE};
use k8s_cri::v1 as cri;

fn netns_list() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a pod sandbox; returns its id, IP and network namespace path.
async fn sandbox(
    socket: &Path,
    dir: &Path,
    cgroup_root: &str,
    name: &str,
) -> (String, String, String) {
    let (mut rt, _) = cri_connect(socket).await.unwrap();
    let config = cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: name.into(),
            uid: format!("uid-{name}"),
            namespace: "default".into(),
            attempt: 0,
        }),
        hostname: name.into(),
        log_directory: dir.join(format!("logs-{name}")).display().to_string(),
        labels: HashMap::from([("io.kubernetes.pod.name".to_string(), name.to_string())]),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: format!("{cgroup_root}/pod-{name}"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = rt
        .run_pod_sandbox(cri::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: String::new(),
        })
        .await
        .expect("RunPodSandbox")
        .into_inner()
        .pod_sandbox_id;
    let status = rt
        .pod_sandbox_status(cri::PodSandboxStatusRequest {
            pod_sandbox_id: id.clone(),
            verbose: true,
        })
        .await
        .expect("PodSandboxStatus")
        .into_inner();
    // containerd's verbose info names the namespace it mounted for the sandbox.
    let info = status.info.get("info").cloned().unwrap_or_default();
    let netns = info
        .split('"')
        .find(|s| s.contains("/netns/cni-"))
        .unwrap_or_default()
        .to_string();
    let ip = status
        .status
        .expect("a status")
        .network
        .expect("a network status")
        .ip;
    (id, ip, netns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_gets_a_pod_ip_the_other_node_reaches_and_teardown_leaves_nothing() {
    let cluster = NodeCluster::start(ClusterConfig::default())
        .await
        .expect("cluster starts");
    let id = cluster.id.clone();
    let dir = cluster.dir.clone();
    assert_eq!(cluster.nodes.len(), 2);
    let (cp, worker) = (&cluster.nodes[0], &cluster.nodes[1]);

    // No default route in a node: nothing leaves the machine from there.
    let routes = worker.exec(&["ip", "route"]).await.unwrap();
    assert!(!routes.contains("default"), "{routes}");
    assert!(routes.contains(&cp.pod_cidr), "{routes}");

    let (sandbox_id, ip, _) = sandbox(
        &worker.containerd_socket,
        &worker.dir,
        &worker.cgroup_root,
        "a",
    )
    .await;
    let prefix = worker.pod_cidr.trim_end_matches("0/24");
    assert!(
        ip.starts_with(prefix),
        "pod IP {ip} outside {}",
        worker.pod_cidr
    );

    // The other node reaches the pod through the routes between pod CIDRs.
    cp.exec(&["busybox", "ping", "-c", "1", "-W", "2", &ip])
        .await
        .expect("control-plane reaches the pod");

    // PullImage from the local registry, by the name the tests use.
    let (_, mut images) = cri_connect(&worker.containerd_socket).await.unwrap();
    let image = images
        .pull_image(cri::PullImageRequest {
            image: Some(cri::ImageSpec {
                image: BUSYBOX_IMAGE.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("PullImage of busybox from the local registry")
        .into_inner()
        .image_ref;
    assert!(image.starts_with("sha256:"), "{image}");

    // A busybox container runs in the sandbox (and is still running at teardown).
    let (mut rt, _) = cri_connect(&worker.containerd_socket).await.unwrap();
    let sandbox_config = cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: "a".into(),
            uid: "uid-a".into(),
            namespace: "default".into(),
            attempt: 0,
        }),
        log_directory: worker.dir.join("logs-a").display().to_string(),
        ..Default::default()
    };
    let container = rt
        .create_container(cri::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.clone(),
            config: Some(cri::ContainerConfig {
                metadata: Some(cri::ContainerMetadata {
                    name: "sleep".into(),
                    attempt: 0,
                }),
                image: Some(cri::ImageSpec {
                    image: BUSYBOX_IMAGE.into(),
                    ..Default::default()
                }),
                command: vec!["sleep".into(), "3600".into()],
                log_path: "sleep/0.log".into(),
                ..Default::default()
            }),
            sandbox_config: Some(sandbox_config),
        })
        .await
        .expect("CreateContainer")
        .into_inner()
        .container_id;
    rt.start_container(cri::StartContainerRequest {
        container_id: container.clone(),
    })
    .await
    .expect("StartContainer");
    let state = rt
        .container_status(cri::ContainerStatusRequest {
            container_id: container,
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap()
        .state;
    assert_eq!(state, cri::ContainerState::ContainerRunning as i32);

    // The apiserver comes back at the same address (kubelets' kubeconfig stays valid).
    let mut cluster = cluster;
    let url = cluster.url.clone();
    cluster.stop_apiserver().await;
    cluster
        .start_apiserver()
        .await
        .expect("the apiserver restarts");
    assert_eq!(cluster.url, url);
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let v = client
        .apiserver_version()
        .await
        .expect("the apiserver answers");
    assert!(!v.git_version.is_empty());

    cluster.stop().await.expect("clean teardown");
    assert!(!netns_list().contains(&id), "namespaces left");
    let links = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&links.stdout).contains(&id),
        "links left"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&*dir.to_string_lossy()), "mounts left");
    assert!(!dir.exists(), "files left");
    assert!(!Path::new("/sys/fs/cgroup/memory")
        .join(format!("k8s-{id}-worker"))
        .exists());
}

/// A test that panics never calls `stop`: dropping the cluster must remove everything too,
/// running sandboxes included. Runs beside the test above, so two clusters coexist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_cluster_with_a_running_sandbox_leaves_nothing() {
    let cluster = NodeCluster::start(ClusterConfig {
        workers: 0,
        ..Default::default()
    })
    .await
    .expect("cluster starts");
    let id = cluster.id.clone();
    let dir = cluster.dir.clone();
    let node = &cluster.nodes[0];
    assert_eq!(node.name, "control-plane");
    let (_, ip, netns) = sandbox(&node.containerd_socket, &node.dir, &node.cgroup_root, "b").await;
    assert!(!ip.is_empty());
    assert!(Path::new(&netns).exists(), "sandbox namespace {netns:?}");
    drop(cluster);
    assert!(!netns_list().contains(&id), "namespaces left");
    assert!(
        !Path::new(&netns).exists(),
        "the sandbox's namespace {netns} is left"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&*dir.to_string_lossy()), "mounts left");
    assert!(!mounts.contains(&netns), "mounts left");
    assert!(!dir.exists(), "files left");
}

/// containerd crashed (SIGKILL): its shims and sandboxes keep running, and teardown must find
/// and remove them without it (the path CRI cannot take).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_after_containerd_died_kills_its_shims_and_unmounts_its_namespaces() {
    let cluster = NodeCluster::start(ClusterConfig {
        workers: 0,
        ..Default::default()
    })
    .await
    .expect("cluster starts");
    let dir = cluster.dir.clone();
    let node = &cluster.nodes[0];
    let socket = node.containerd_socket.to_string_lossy().into_owned();
    let cgroup = format!("/sys/fs/cgroup/pids{}", node.cgroup_root);
    let (_, _, netns) = sandbox(&node.containerd_socket, &node.dir, &node.cgroup_root, "c").await;
    assert!(Path::new(&cgroup).exists(), "the sandbox's cgroup {cgroup}");
    let pid = node.containerd_pid().expect("containerd runs");
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(
        !shims_of(&socket).is_empty(),
        "the shim outlives containerd"
    );
    drop(cluster);
    assert!(shims_of(&socket).is_empty(), "shims left");
    assert!(
        !Path::new(&netns).exists(),
        "the sandbox's namespace {netns} is left"
    );
    assert!(!Path::new(&cgroup).exists(), "cgroup {cgroup} left");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&*dir.to_string_lossy()), "mounts left");
    assert!(!dir.exists(), "files left");
}

/// Processes whose command line names `socket` (the shims of one containerd).
fn shims_of(socket: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .filter(|c| c.contains("containerd-shim") && c.contains(socket))
        .collect()
}
