//! Stream scenarios (owned by the `kserver` work): the kubelet's server reached through the
//! apiserver, as users reach it: `kubectl logs` (upstream 1.33 and 1.27), `kubectl exec -i`
//! and `port-forward` (upstream 1.33, over websockets), and exec and port-forward with kube-rs
//! (the client our kubectl is built on). kubectl 1.27's SPDY needs the apiserver's SPDY relay.
//!
//! Until the kubelet's pod workers run pods, the scenario plays the kubelet's part itself:
//! it registers a Node of its own (`kserver-streams`) at the worker's address, binds a Pod to
//! it, makes the pod's sandbox and containers through the worker's containerd (with the
//! kubelet's labels and log paths), and serves `kubelet::server` from a thread that entered
//! the worker's network namespace (where the runtime's streaming server listens on
//! loopback). Once the kubelet runs pods, the same checks apply to a pod it runs.

use std::collections::HashMap;
use std::os::fd::AsFd as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use e2e::node::{Node, BUSYBOX_IMAGE};
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Node as NodeObject, Pod};
use kube::api::{AttachParams, DeleteParams, PostParams};
use kube::Api;
use kubelet::cri::{
    Cri, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
};
use kubelet::server::{self, ServerOptions};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};

use crate::{Ctx, Scenario};

pub const SCENARIOS: &[Scenario] = &[Scenario {
    name: "streams: kubectl logs (1.33, 1.27), exec -i and port-forward (1.33, kube-rs) through the apiserver to the kubelet's server",
    run: |ctx| Box::pin(streams(ctx)),
    timeout: Duration::from_secs(120),
}];

const NODE: &str = "kserver-streams";
const POD: &str = "streams";
const NS: &str = "default";
/// The web container's port inside the pod's network.
const WEB_PORT: u16 = 8080;

/// The kubelet's server, served from a thread inside a node's network namespace.
struct NodeServer {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NodeServer {
    fn start(node: &Node, pod: Pod) -> Result<Self> {
        let netns = std::fs::File::open(format!("/run/netns/{}", node.netns))
            .with_context(|| format!("opening the namespace of {}", node.name))?;
        let endpoint = node.runtime_endpoint();
        let root = node.dir.join("kserver-streams");
        let ip = node.ip;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<u16>>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            // Sockets this thread opens from now on live in the node's namespace.
            let entered = rustix::thread::move_into_link_name_space(
                netns.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            );
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let (Ok(()), Ok(runtime)) = (entered, runtime) else {
                let _ = ready_tx.send(Err(anyhow::anyhow!("entering the node's namespace")));
                return;
            };
            runtime.block_on(async move {
                let started = async {
                    let cri = Cri::connect(&endpoint).await?;
                    let pods: server::PodLister = Arc::new(move || vec![pod.clone()]);
                    server::serve(
                        ServerOptions {
                            address: ip.into(),
                            port: 0,
                            healthz_port: None,
                            root_dir: root,
                            node_name: NODE.into(),
                            node_ips: vec![ip.into()],
                            // The apiserver presents no client certificate yet.
                            anonymous_auth: true,
                            ..Default::default()
                        },
                        cri,
                        pods,
                    )
                    .await
                }
                .await;
                match started {
                    Ok(srv) => {
                        let _ = ready_tx.send(Ok(srv.addr().port()));
                        let _ = stopped.await;
                        srv.stop().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let port = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .context("the kubelet's server did not start")??;
        Ok(NodeServer {
            port,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn labels(uid: &str, container: Option<&str>) -> HashMap<String, String> {
    let mut l = HashMap::from([
        (LABEL_POD_NAME.to_string(), POD.to_string()),
        (LABEL_POD_NAMESPACE.to_string(), NS.to_string()),
        (LABEL_POD_UID.to_string(), uid.to_string()),
    ]);
    if let Some(c) = container {
        l.insert(LABEL_CONTAINER_NAME.to_string(), c.to_string());
    }
    l
}

/// The pod's sandbox and containers, made through CRI as the kubelet makes them.
async fn run_pod(cri: &Cri, node: &Node, uid: &str) -> Result<String> {
    let mut rt = cri.runtime.clone();
    cri.images
        .clone()
        .pull_image(cri::PullImageRequest {
            image: Some(cri::ImageSpec {
                image: BUSYBOX_IMAGE.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .context("pulling busybox")?;
    let config = cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: POD.into(),
            uid: uid.into(),
            namespace: NS.into(),
            attempt: 0,
        }),
        hostname: POD.into(),
        log_directory: node
            .pod_logs_dir()
            .join(format!("{NS}_{POD}_{uid}"))
            .display()
            .to_string(),
        labels: labels(uid, None),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: format!("{}/kserver-streams", node.cgroup_root),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sandbox = rt
        .run_pod_sandbox(cri::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: String::new(),
        })
        .await
        .context("RunPodSandbox")?
        .into_inner()
        .pod_sandbox_id;
    let web = format!(
        "mkdir -p /www && echo hello-pf > /www/index.html && exec httpd -f -p {WEB_PORT} -h /www"
    );
    for (name, script) in [
        (
            "main",
            "echo hello; i=0; while [ $i -lt 3 ]; do echo tick $i; i=$((i+1)); sleep 1; done",
        ),
        ("web", web.as_str()),
    ] {
        let c = cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: name.into(),
                attempt: 0,
            }),
            image: Some(cri::ImageSpec {
                image: BUSYBOX_IMAGE.into(),
                ..Default::default()
            }),
            command: vec!["sh".into(), "-c".into(), script.into()],
            log_path: format!("{name}/0.log"),
            labels: labels(uid, Some(name)),
            annotations: HashMap::from([(ANNOTATION_RESTART_COUNT.to_string(), "0".to_string())]),
            ..Default::default()
        };
        let id = rt
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox.clone(),
                config: Some(c),
                sandbox_config: Some(config.clone()),
            })
            .await
            .with_context(|| format!("CreateContainer {name}"))?
            .into_inner()
            .container_id;
        rt.start_container(cri::StartContainerRequest { container_id: id })
            .await
            .with_context(|| format!("StartContainer {name}"))?;
    }
    Ok(sandbox)
}

async fn kubectl(bin: &Path, kubeconfig: &Path, args: &[&str]) -> Result<(bool, String, String)> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(bin)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(args)
            .output(),
    )
    .await
    .with_context(|| format!("kubectl {args:?} timed out"))??;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

async fn streams(ctx: &mut Ctx) -> Result<()> {
    let nodes: Api<NodeObject> = Api::all(ctx.client.clone());
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), NS);
    let worker = ctx
        .cluster
        .nodes
        .iter()
        .find(|n| n.name == "worker")
        .context("no worker node")?;
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": POD, "namespace": NS},
        "spec": {"nodeName": NODE, "containers": [
            {"name": "main", "image": BUSYBOX_IMAGE},
            {"name": "web", "image": BUSYBOX_IMAGE, "ports": [{"containerPort": WEB_PORT}]}
        ]}
    }))?;
    let pod = pods.create(&PostParams::default(), &pod).await?;
    let uid = pod.metadata.uid.clone().context("the pod has no uid")?;
    let cri = Cri::connect(&worker.runtime_endpoint()).await?;
    let mut server = None;
    let result = async {
        run_pod(&cri, worker, &uid).await?;
        let srv = NodeServer::start(worker, pod.clone())?;
        let port = srv.port;
        server = Some(srv);
        let node: NodeObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": NODE},
            "status": {
                "addresses": [{"type": "InternalIP", "address": worker.ip.to_string()}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}
            }
        }))?;
        let created = nodes.create(&PostParams::default(), &node).await?;
        if created
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .is_none()
        {
            nodes
                .replace_status(
                    NODE,
                    &PostParams::default(),
                    &NodeObject {
                        status: node.status.clone(),
                        ..created
                    },
                )
                .await?;
        }
        // What the kubelet would report: kubectl port-forward wants a running pod.
        let mut running = pods.get_status(POD).await?;
        running.status = Some(serde_json::from_value(serde_json::json!({
            "phase": "Running",
            "hostIP": worker.ip.to_string(),
        }))?);
        pods.replace_status(POD, &PostParams::default(), &running)
            .await?;
        checks(ctx, &pods).await
    }
    .await;
    drop(server);
    let mut rt = cri.runtime.clone();
    if let Ok(list) = rt
        .list_pod_sandbox(cri::ListPodSandboxRequest {
            filter: Some(cri::PodSandboxFilter {
                label_selector: labels(&uid, None),
                ..Default::default()
            }),
        })
        .await
    {
        for s in list.into_inner().items {
            let _ = rt
                .stop_pod_sandbox(cri::StopPodSandboxRequest {
                    pod_sandbox_id: s.id.clone(),
                })
                .await;
            let _ = rt
                .remove_pod_sandbox(cri::RemovePodSandboxRequest {
                    pod_sandbox_id: s.id,
                })
                .await;
        }
    }
    let _ = pods
        .delete(POD, &DeleteParams::default().grace_period(0))
        .await;
    let _ = nodes.delete(NODE, &DeleteParams::default()).await;
    result
}

async fn checks(ctx: &Ctx, pods: &Api<Pod>) -> Result<()> {
    let kubeconfig = ctx.cluster.kubeconfig.clone();
    // `logs -f` from the start ends by itself when the container exits, with every line.
    for minor in [33, 27] {
        let bin = e2e::upstream_kubectl(minor)
            .with_context(|| format!("upstream kubectl 1.{minor} is not installed"))?;
        let (ok, out, err) = kubectl(&bin, &kubeconfig, &["logs", "-f", POD, "-c", "main"]).await?;
        ensure!(
            ok && out == "hello\ntick 0\ntick 1\ntick 2\n",
            "kubectl 1.{minor} logs -f: {out:?} {err}"
        );
        let (ok, out, err) =
            kubectl(&bin, &kubeconfig, &["logs", "--tail=1", POD, "-c", "main"]).await?;
        ensure!(
            ok && out == "tick 2\n",
            "kubectl 1.{minor} logs --tail=1: {out:?} {err}"
        );
        let (ok, _, err) = kubectl(
            &bin,
            &kubeconfig,
            &["logs", "--previous", POD, "-c", "main"],
        )
        .await?;
        ensure!(
            !ok && err
                .contains(r#"previous terminated container "main" in pod "streams" not found"#),
            "kubectl 1.{minor} logs --previous: {err}"
        );
    }

    // Upstream kubectl over websockets: exec -i (1.30+: v5.channel.k8s.io, stdin closed at
    // its end, the exit code back) and port-forward (1.31+: SPDY tunnelled in websocket
    // messages). kubectl 1.27-1.30 speak SPDY/3.1 for these: add them here once the
    // apiserver relays SPDY upgrades.
    for minor in [33] {
        kubectl_exec_and_forward(minor, &kubeconfig).await?;
    }

    // Exec over websockets: stdin in, stdout, stderr and the exit code out.
    let mut attached = pods
        .exec(
            POD,
            ["sh", "-c", "read x; echo got $x; echo oops >&2; exit 3"],
            &AttachParams::default()
                .container("web")
                .stdin(true)
                .stderr(true),
        )
        .await
        .context("exec")?;
    let mut stdin = attached.stdin().context("no stdin")?;
    stdin.write_all(b"hi\n").await?;
    let mut stdout = attached.stdout().context("no stdout")?;
    let mut stderr = attached.stderr().context("no stderr")?;
    let status = attached.take_status().context("no status")?;
    let (mut out, mut err) = (String::new(), String::new());
    stdout.read_to_string(&mut out).await?;
    stderr.read_to_string(&mut err).await?;
    let status = status.await.context("no exit status")?;
    ensure!(
        out == "got hi\n" && err == "oops\n",
        "exec: {out:?} {err:?}"
    );
    let code = status
        .details
        .and_then(|d| d.causes)
        .and_then(|c| {
            c.into_iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message);
    ensure!(code.as_deref() == Some("3"), "exec exit code: {code:?}");
    drop(stdin);
    attached.join().await.ok();

    // Port-forward over websockets to the web container's port in the pod's network.
    let mut pf = pods
        .portforward(POD, &[WEB_PORT])
        .await
        .context("port-forward")?;
    let mut conn = pf.take_stream(WEB_PORT).context("no stream")?;
    conn.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut reply))
        .await
        .context("port-forward reply")??;
    let reply = String::from_utf8_lossy(&reply);
    ensure!(
        reply.starts_with("HTTP/1.1 200 OK") && reply.ends_with("hello-pf\n"),
        "port-forward: {reply:?}"
    );
    drop(conn);
    pf.abort();
    Ok(())
}

/// `kubectl exec -i` (stdin in, its end seen, the exit code out) and `kubectl port-forward`
/// with upstream kubectl 1.`minor`.
async fn kubectl_exec_and_forward(minor: u32, kubeconfig: &Path) -> Result<()> {
    let bin = e2e::upstream_kubectl(minor)
        .with_context(|| format!("upstream kubectl 1.{minor} is not installed"))?;
    let mut exec = tokio::process::Command::new(&bin)
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .args([
            "exec",
            "-i",
            POD,
            "-c",
            "web",
            "--",
            "sh",
            "-c",
            "cat; exit 4",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = exec.stdin.take().context("no stdin")?;
    stdin.write_all(b"hello\n").await?;
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), exec.wait_with_output())
        .await
        .context("kubectl 1.{minor} exec -i did not end")??;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    ensure!(
        out.status.code() == Some(4)
            && stdout == "hello\n"
            && stderr == "command terminated with exit code 4\n",
        "kubectl 1.{minor} exec -i: {:?} {stdout:?} {stderr:?}",
        out.status
    );
    let local = e2e::free_port()?;
    let mut forward = tokio::process::Command::new(&bin)
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .args(["port-forward", POD, &format!("{local}:{WEB_PORT}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let forwarded = async {
        // kubectl says when it listens.
        let mut lines =
            tokio::io::BufReader::new(forward.stdout.take().context("no stdout")?).lines();
        while let Some(line) = lines.next_line().await? {
            if line.starts_with("Forwarding from 127.0.0.1") {
                break;
            }
        }
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", local)).await?;
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
        let mut reply = Vec::new();
        c.read_to_end(&mut reply).await?;
        anyhow::Ok(String::from_utf8_lossy(&reply).into_owned())
    };
    let reply = tokio::time::timeout(Duration::from_secs(30), forwarded).await;
    let _ = forward.kill().await;
    let reply = reply.context("kubectl 1.{minor} port-forward timed out")??;
    ensure!(
        reply.starts_with("HTTP/1.1 200 OK") && reply.ends_with("hello-pf\n"),
        "kubectl 1.{minor} port-forward: {reply:?}"
    );
    Ok(())
}
