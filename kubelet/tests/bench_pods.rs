//! A benchmark, not a check (run it by hand; it is `#[ignore]`d): on a one-worker cluster,
//! pod start-up latency (created to Running as a watch sees it) over 110 pods, time until all
//! run, the raw CRI sequence (RunPodSandbox, CreateContainer, StartContainer) for the same
//! image on the same node for comparison, and the kubelet's RSS idle and with 110 pods.
//!
//! `cargo test -p kubelet --test bench_pods -- --ignored --nocapture` (root).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use e2e::node::{ClusterConfig, NodeCluster, BUSYBOX_IMAGE};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::watcher;
use kube::Api;

const PODS: usize = 110;
const RAW: usize = 20;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand with --ignored --nocapture"]
async fn pod_startup_latency_and_kubelet_memory() {
    let mut cluster = NodeCluster::start(ClusterConfig::default()).await.unwrap();
    let kubelet = Path::new(env!("CARGO_BIN_EXE_kubelet"));
    cluster.start_kubelets(kubelet, &[]).unwrap();
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let api: Api<Pod> = Api::default_namespaced(client.clone());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let worker = cluster.node("worker").unwrap();
    let pid = worker.kubelet_pid().unwrap();
    let idle = rss_kib(pid);

    // Raw CRI on the same node, same image, for comparison.
    let (mut rt, mut images) = e2e::node::cri_connect(&worker.containerd_socket)
        .await
        .unwrap();
    images
        .pull_image(k8s_cri::v1::PullImageRequest {
            image: Some(k8s_cri::v1::ImageSpec {
                image: BUSYBOX_IMAGE.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut raw = Vec::new();
    let mut raw_ids = Vec::new();
    for i in 0..RAW {
        let config = k8s_cri::v1::PodSandboxConfig {
            metadata: Some(k8s_cri::v1::PodSandboxMetadata {
                name: format!("raw-{i}"),
                uid: format!("raw-uid-{i}"),
                namespace: "bench".into(),
                attempt: 0,
            }),
            log_directory: worker.dir.join("raw-logs").to_string_lossy().into_owned(),
            ..Default::default()
        };
        let t = Instant::now();
        let sb = rt
            .run_pod_sandbox(k8s_cri::v1::RunPodSandboxRequest {
                config: Some(config.clone()),
                runtime_handler: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .pod_sandbox_id;
        let c = rt
            .create_container(k8s_cri::v1::CreateContainerRequest {
                pod_sandbox_id: sb.clone(),
                config: Some(k8s_cri::v1::ContainerConfig {
                    metadata: Some(k8s_cri::v1::ContainerMetadata {
                        name: "c".into(),
                        attempt: 0,
                    }),
                    image: Some(k8s_cri::v1::ImageSpec {
                        image: BUSYBOX_IMAGE.into(),
                        ..Default::default()
                    }),
                    command: vec!["sleep".into(), "3600".into()],
                    log_path: format!("c-{i}.log"),
                    ..Default::default()
                }),
                sandbox_config: Some(config),
            })
            .await
            .unwrap()
            .into_inner()
            .container_id;
        rt.start_container(k8s_cri::v1::StartContainerRequest { container_id: c })
            .await
            .unwrap();
        raw.push(t.elapsed());
        raw_ids.push(sb);
    }
    for sb in raw_ids {
        let _ = rt
            .stop_pod_sandbox(k8s_cri::v1::StopPodSandboxRequest {
                pod_sandbox_id: sb.clone(),
            })
            .await;
        let _ = rt
            .remove_pod_sandbox(k8s_cri::v1::RemovePodSandboxRequest { pod_sandbox_id: sb })
            .await;
    }

    // 110 pods through the kubelet; a watch records when each is first seen Running.
    let mut created: HashMap<String, Instant> = HashMap::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch_api = api.clone();
    let watch = tokio::spawn(async move {
        let mut s = watcher(watch_api, watcher::Config::default()).boxed();
        while let Some(Ok(ev)) = s.next().await {
            let pods = match ev {
                watcher::Event::Apply(p) | watcher::Event::InitApply(p) => vec![p],
                _ => vec![],
            };
            for p in pods {
                if p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running") {
                    let _ = tx.send((p.metadata.name.unwrap_or_default(), Instant::now()));
                }
            }
        }
    });
    // One pod at a time first: the kubelet's own overhead over the raw CRI sequence.
    let mut sequential = Vec::new();
    for i in 0..RAW {
        let name = format!("seq-{i}");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "spec": {"nodeName": "worker", "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"]}]}
        }))
        .unwrap();
        let t = Instant::now();
        api.create(&PostParams::default(), &pod).await.unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
                Ok(Some((seen, at))) if seen == name => {
                    sequential.push(at.saturating_duration_since(t));
                    break;
                }
                Ok(Some(_)) => {}
                _ => panic!("pod {name} did not reach Running"),
            }
        }
    }
    sequential.sort();
    println!(
        "kubelet bench: created->Running one pod at a time ({RAW}) p50 {:?} p99 {:?}",
        percentile(&sequential, 0.5),
        percentile(&sequential, 0.99)
    );
    api.delete_collection(&DeleteParams::default(), &Default::default())
        .await
        .unwrap();
    // Let the kubelet remove them before the burst.
    tokio::time::sleep(Duration::from_secs(10)).await;
    while rx.try_recv().is_ok() {}

    let start = Instant::now();
    for i in 0..PODS {
        let name = format!("bench-{i}");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "spec": {"nodeName": "worker", "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"]}]}
        }))
        .unwrap();
        api.create(&PostParams::default(), &pod).await.unwrap();
        created.insert(name, Instant::now());
    }
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut seen = std::collections::HashSet::new();
    while seen.len() < PODS && Instant::now() < deadline {
        if let Ok(Some((name, at))) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await
        {
            if created.contains_key(&name) && seen.insert(name.clone()) {
                if let Some(c) = created.get(&name) {
                    latencies.push(at.saturating_duration_since(*c));
                }
            }
        }
    }
    let all_running = start.elapsed();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let loaded = rss_kib(pid);
    watch.abort();
    latencies.sort();
    raw.sort();
    println!(
        "kubelet bench: {} of {PODS} pods Running in {:.1}s",
        seen.len(),
        all_running.as_secs_f64()
    );
    if !latencies.is_empty() {
        println!(
            "kubelet bench: created->Running p50 {:?} p99 {:?}",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
    }
    println!(
        "kubelet bench: raw CRI RunPodSandbox+CreateContainer+StartContainer ({RAW} serial) p50 {:?} p99 {:?}",
        percentile(&raw, 0.5),
        percentile(&raw, 0.99)
    );
    println!(
        "kubelet bench: kubelet RSS idle {} KiB, with {PODS} pods {} KiB",
        idle, loaded
    );
    api.delete_collection(&DeleteParams::default(), &Default::default())
        .await
        .unwrap();
    // The pods vanish at once (grace period 0); wait until the kubelet has stopped and
    // removed every sandbox, so the teardown finds nothing running.
    let deadline = Instant::now() + Duration::from_secs(180);
    let stopping = Instant::now();
    loop {
        let left = rt
            .list_pod_sandbox(k8s_cri::v1::ListPodSandboxRequest { filter: None })
            .await
            .map(|r| r.into_inner().items.len())
            .unwrap_or(0);
        if left == 0 || Instant::now() > deadline {
            println!(
                "kubelet bench: {PODS} pods stopped and removed in {:.1}s ({left} sandboxes left)",
                stopping.elapsed().as_secs_f64()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    cluster.stop().await.unwrap();
    assert_eq!(seen.len(), PODS, "every pod reached Running");
}
