//! Stream scenarios: the kubelet's server reached through the apiserver, as users reach it:
//! `kubectl logs` (upstream 1.33 and 1.27), `kubectl exec -i` and `port-forward` (upstream
//! 1.33 over websockets, 1.27 over SPDY/3.1), and exec and port-forward with kube-rs (the
//! client our kubectl is built on), all on a pod the real kubelet runs on the worker.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use e2e::node::BUSYBOX_IMAGE;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{AttachParams, DeleteParams, PostParams};
use kube::Api;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};

use crate::{Ctx, Scenario};

pub const SCENARIOS: &[Scenario] = &[Scenario {
    name: "streams: kubectl logs, exec -i and port-forward (1.33 websockets, 1.27 SPDY) and kube-rs exec and port-forward through the apiserver to the kubelet",
    run: |ctx| Box::pin(streams(ctx)),
    timeout: Duration::from_secs(180),
}];

const POD: &str = "streams";
const NS: &str = "default";
/// The web container's port inside the pod's network.
const WEB_PORT: u16 = 8080;

async fn streams(ctx: &mut Ctx) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), NS);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": POD, "namespace": NS},
        "spec": {"nodeName": "worker", "restartPolicy": "Never", "containers": [
            {"name": "main", "image": BUSYBOX_IMAGE, "command": ["sh", "-c",
                "echo hello; i=0; while [ $i -lt 3 ]; do echo tick $i; i=$((i+1)); sleep 1; done"]},
            {"name": "web", "image": BUSYBOX_IMAGE, "ports": [{"containerPort": WEB_PORT}],
             "command": ["sh", "-c", format!("mkdir -p /www && echo hello-pf > /www/index.html && exec httpd -f -p {WEB_PORT} -h /www")]}
        ]}
    }))?;
    pods.create(&PostParams::default(), &pod).await?;
    let result = async {
        // Wait until `web` runs (and `main` has started), as the kubelet reports them.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let p = pods.get(POD).await?;
            let statuses = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.clone())
                .unwrap_or_default();
            let running = |name: &str| {
                statuses.iter().any(|c| {
                    c.name == name && c.state.as_ref().is_some_and(|s| s.running.is_some())
                })
            };
            let started = |name: &str| {
                statuses
                    .iter()
                    .any(|c| c.name == name && c.container_id.is_some())
            };
            if running("web") && started("main") {
                break;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "pod {POD} not running: {:?}",
                p.status
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        checks(ctx, &pods).await
    }
    .await;
    let _ = pods.delete(POD, &DeleteParams::default()).await;
    // The kubelet finishes the deletion; wait so later scenarios start clean.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while pods.get_opt(POD).await.ok().flatten().is_some() && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    result
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

    // Upstream kubectl: exec -i (1.30+: v5.channel.k8s.io, stdin closed at its end, the exit
    // code back) and port-forward (1.31+: SPDY tunnelled in websocket messages); 1.27 speaks
    // SPDY/3.1 for both, relayed by the apiserver and the kubelet.
    for minor in [33, 27] {
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
