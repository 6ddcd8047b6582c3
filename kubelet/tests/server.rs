//! The kubelet's server against a real containerd (its own root, state and socket in a temp
//! dir): a host-network pod made through CRI with the kubelet's labels and log paths, then
//! healthz, pods, metrics, stats, logs (tail, follow to the container's exit, long lines the
//! runtime splits), exec over websockets v4 and v5 (stdin in and closed, stdout, stderr and
//! the exit code out, a TTY's size), attach, the SPDY upgrade relayed to the streaming server,
//! port-forward over websockets, and client-certificate authentication. (Upstream kubectl
//! over SPDY, through the real apiserver, is in the whole-cluster streams scenario.)
//! Host networking keeps every byte on loopback.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use futures::{SinkExt as _, StreamExt as _};
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::Pod;
use kubelet::cri::{
    Cri, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
};
use kubelet::server::{self, ServerOptions};
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest as _, Message};

const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.9";
const BUSYBOX_IMAGE: &str = "docker.io/library/busybox:1.35";
const NS: &str = "default";
const POD: &str = "streams";
const UID: &str = "7c4e6f0a-0000-4000-8000-000000000001";

/// A containerd of the test's own; killed (by PID) when dropped.
struct Containerd {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Mounts containerd left under the test's folder (a failed teardown) go too.
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let dir = self.dir.display().to_string();
            let mut points: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split(' ').nth(1))
                .filter(|p| p.starts_with(&dir))
                .collect();
            points.sort_by_key(|p| std::cmp::Reverse(p.len()));
            for p in points {
                let _ = Command::new("umount").arg("-l").arg(p).status();
            }
        }
    }
}

fn images_dir() -> Result<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hack/images/build.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(out.status.success(), "{} failed", script.display());
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

async fn start_containerd(dir: &Path) -> Result<(Containerd, Cri)> {
    let socket = dir.join("containerd.sock");
    let cni = dir.join("cni");
    std::fs::create_dir_all(&cni)?;
    let d = dir.display();
    let config = format!(
        r#"version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{socket}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{d}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
"#,
        socket = socket.display(),
        cni = cni.display(),
    );
    std::fs::write(dir.join("config.toml"), config)?;
    let log = std::fs::File::create(dir.join("containerd.log"))?;
    let child = Command::new("containerd")
        .arg("--config")
        .arg(dir.join("config.toml"))
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting containerd")?;
    let ctrd = Containerd {
        child,
        socket: socket.clone(),
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let cri = loop {
        if socket.exists() {
            if let Ok(c) = Cri::connect(socket.to_str().unwrap_or_default()).await {
                if c.runtime_version().await.is_ok() {
                    break c;
                }
            }
        }
        ensure!(Instant::now() < deadline, "containerd did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    Ok((ctrd, cri))
}

fn import(ctrd: &Containerd, archive: &Path, name: &str) -> Result<()> {
    let st = Command::new("ctr")
        .arg("--address")
        .arg(&ctrd.socket)
        .args(["-n", "k8s.io", "images", "import", "--index-name", name])
        .arg(archive)
        .stdout(Stdio::null())
        .status()?;
    ensure!(st.success(), "importing {}", archive.display());
    Ok(())
}

/// The pod's cgroup (cgroupfs), the test's own, removed at the end.
fn cgroup_parent() -> String {
    format!("/kubelet-server-test-{}", std::process::id())
}

/// Removes the test's cgroup from every hierarchy (empty once the pod is gone).
fn remove_cgroups() {
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for h in hierarchies.flatten() {
        let dir = h.path().join(cgroup_parent().trim_start_matches('/'));
        if dir.exists() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

fn host_network() -> cri::NamespaceOption {
    cri::NamespaceOption {
        network: cri::NamespaceMode::Node as i32,
        ..Default::default()
    }
}

fn labels(container: Option<&str>) -> HashMap<String, String> {
    let mut l = HashMap::from([
        (LABEL_POD_NAME.to_string(), POD.to_string()),
        (LABEL_POD_NAMESPACE.to_string(), NS.to_string()),
        (LABEL_POD_UID.to_string(), UID.to_string()),
    ]);
    if let Some(c) = container {
        l.insert(LABEL_CONTAINER_NAME.to_string(), c.to_string());
    }
    l
}

/// A host-network pod as the kubelet makes them (labels, log directory and paths).
async fn run_pod(cri: &Cri, logs: &Path, containers: &[(&str, &str)]) -> Result<String> {
    let mut rt = cri.runtime.clone();
    let config = cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: POD.into(),
            uid: UID.into(),
            namespace: NS.into(),
            attempt: 0,
        }),
        // No hostname: a host-network pod shares the host's UTS namespace.
        log_directory: logs.join(format!("{NS}_{POD}_{UID}")).display().to_string(),
        labels: labels(None),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent(),
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(host_network()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sandbox = rt
        .run_pod_sandbox(cri::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: String::new(),
        })
        .await?
        .into_inner()
        .pod_sandbox_id;
    for (name, script) in containers {
        let c = cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: name.to_string(),
                attempt: 0,
            }),
            image: Some(cri::ImageSpec {
                image: BUSYBOX_IMAGE.into(),
                ..Default::default()
            }),
            command: vec!["sh".into(), "-c".into(), script.to_string()],
            log_path: format!("{name}/0.log"),
            labels: labels(Some(name)),
            annotations: HashMap::from([(ANNOTATION_RESTART_COUNT.to_string(), "0".to_string())]),
            linux: Some(cri::LinuxContainerConfig {
                security_context: Some(cri::LinuxContainerSecurityContext {
                    namespace_options: Some(host_network()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = rt
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox.clone(),
                config: Some(c),
                sandbox_config: Some(config.clone()),
            })
            .await?
            .into_inner()
            .container_id;
        rt.start_container(cri::StartContainerRequest { container_id: id })
            .await?;
    }
    Ok(sandbox)
}

async fn remove_pods(cri: &Cri) -> Result<()> {
    let mut rt = cri.runtime.clone();
    let list = rt
        .list_pod_sandbox(cri::ListPodSandboxRequest::default())
        .await?
        .into_inner()
        .items;
    for s in list {
        rt.stop_pod_sandbox(cri::StopPodSandboxRequest {
            pod_sandbox_id: s.id.clone(),
        })
        .await?;
        rt.remove_pod_sandbox(cri::RemovePodSandboxRequest {
            pod_sandbox_id: s.id,
        })
        .await?;
    }
    Ok(())
}

fn the_pod() -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": POD, "namespace": NS, "uid": UID},
        "spec": {"containers": [
            {"name": "main", "image": BUSYBOX_IMAGE},
            {"name": "web", "image": BUSYBOX_IMAGE},
            {"name": "ticker", "image": BUSYBOX_IMAGE},
            {"name": "never", "image": BUSYBOX_IMAGE}
        ]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "never", "ready": false, "restartCount": 0, "image": BUSYBOX_IMAGE,
             "imageID": "", "state": {"waiting": {"reason": "ContainerCreating"}}}
        ]}
    }))
    .expect("a valid pod")
}

/// A TLS client: trusting the kubelet's self-signed certificate, with a client pair or none.
struct Client {
    addr: SocketAddr,
    connector: SslConnector,
}

impl Client {
    fn new(addr: SocketAddr, ca: &Path, pair: Option<(&Path, &Path)>) -> Result<Self> {
        let mut b = SslConnector::builder(SslMethod::tls_client())?;
        b.set_ca_file(ca)?;
        b.set_verify(SslVerifyMode::PEER);
        if let Some((cert, key)) = pair {
            b.set_certificate_file(cert, SslFiletype::PEM)?;
            b.set_private_key_file(key, SslFiletype::PEM)?;
        }
        Ok(Client {
            addr,
            connector: b.build(),
        })
    }

    async fn connect(&self) -> Result<SslStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr).await?;
        let ssl = self.connector.configure()?.into_ssl("127.0.0.1")?;
        let mut s = SslStream::new(ssl, tcp)?;
        std::pin::Pin::new(&mut s).connect().await?;
        Ok(s)
    }

    /// An HTTP/1.0 GET (the server closes after the body, so no chunked decoding): status
    /// and body.
    async fn get(&self, path: &str) -> Result<(u16, String)> {
        self.request("GET", path, "").await
    }

    /// A request with extra header lines (each ending in `\r\n`); status and body.
    async fn request(&self, method: &str, path: &str, headers: &str) -> Result<(u16, String)> {
        let mut s = self.connect().await?;
        s.write_all(
            format!("{method} {path} HTTP/1.0\r\nHost: kubelet\r\n{headers}\r\n").as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf))
            .await
            .context("response timeout")??;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").context("no response head")?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status")?;
        Ok((status, body.to_string()))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

/// A websocket over the kubelet's TLS: the frames received until the server closes, by
/// channel.
async fn websocket(
    client: &Client,
    path: &str,
    protocol: &str,
    send: Vec<Vec<u8>>,
    until: impl Fn(&HashMap<u8, Vec<u8>>) -> bool,
) -> Result<HashMap<u8, Vec<u8>>> {
    let stream = client.connect().await?;
    let mut req = format!("wss://127.0.0.1{path}").into_client_request()?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse()?);
    let (mut ws, resp) = tokio_tungstenite::client_async(req, stream)
        .await
        .with_context(|| format!("websocket {path}"))?;
    ensure!(
        resp.headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            == Some(protocol),
        "negotiated {:?}",
        resp.headers().get("sec-websocket-protocol")
    );
    for frame in send {
        ws.send(Message::Binary(frame.into())).await?;
    }
    let mut got: HashMap<u8, Vec<u8>> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !until(&got) {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .with_context(|| format!("waiting on {path}, got {got:?}"))?;
        match msg {
            Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                got.entry(b[0]).or_default().extend_from_slice(&b[1..]);
            }
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("websocket {path}: {e}"),
        }
    }
    let _ = ws.close(None).await;
    Ok(got)
}

/// A CA and a client certificate it signed (PEM files), for the authentication checks.
fn client_pki(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::extension::BasicConstraints;
    use openssl::x509::{X509Name, X509};
    let cert = |cn: &str, ca: Option<(&X509, &PKey<openssl::pkey::Private>)>| -> Result<_> {
        let key = PKey::from_rsa(Rsa::generate(2048)?)?;
        let mut name = X509Name::builder()?;
        name.append_entry_by_text("CN", cn)?;
        let name = name.build();
        let mut b = X509::builder()?;
        b.set_version(2)?;
        b.set_subject_name(&name)?;
        b.set_pubkey(&key)?;
        b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
        b.set_not_after(&*Asn1Time::days_from_now(1)?)?;
        match ca {
            None => {
                b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
                b.set_issuer_name(&name)?;
                b.sign(&key, MessageDigest::sha256())?;
            }
            Some((ca, ca_key)) => {
                b.set_issuer_name(ca.subject_name())?;
                b.sign(ca_key, MessageDigest::sha256())?;
            }
        }
        Ok((b.build(), key))
    };
    let (ca, ca_key) = cert("test-ca", None)?;
    let (user, user_key) = cert("system:apiserver", Some((&ca, &ca_key)))?;
    let paths = (
        dir.join("ca.crt"),
        dir.join("client.crt"),
        dir.join("client.key"),
    );
    std::fs::write(&paths.0, ca.to_pem()?)?;
    std::fs::write(&paths.1, user.to_pem()?)?;
    std::fs::write(&paths.2, user_key.private_key_to_pem_pkcs8()?)?;
    Ok(paths)
}

async fn scenarios(dir: &Path, cri: &Cri, web_port: u16) -> Result<()> {
    let logs = dir.join("pods");
    run_pod(
        cri,
        &logs,
        &[
            (
                "main",
                // A line longer than the runtime's 16 KiB buffer is written as partial (P)
                // pieces; the ticks give `follow` something to wait for; then it exits.
                "echo hello; head -c 20000 /dev/zero | tr '\\0' a; echo; \
                 i=0; while [ $i -lt 3 ]; do echo tick $i; i=$((i+1)); sleep 1; done; echo bye >&2",
            ),
            ("ticker", "while true; do echo tick; sleep 0.2; done"),
            (
                "web",
                &format!(
                    "mkdir -p /www && echo hello-pf > /www/index.html && \
                     exec httpd -f -p 127.0.0.1:{web_port} -h /www"
                ),
            ),
        ],
    )
    .await?;
    let pods: server::PodLister = Arc::new(|| vec![the_pod()]);
    let root = dir.join("kubelet");
    let srv = server::serve(
        ServerOptions {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            healthz_port: Some(0),
            root_dir: root.clone(),
            node_name: "127.0.0.1".into(),
            anonymous_auth: true,
            ..Default::default()
        },
        cri.clone(),
        pods.clone(),
    )
    .await?;
    let result = anonymous_scenarios(&srv, &root, web_port).await;
    srv.stop().await;
    result?;

    // Authentication: with a client CA and anonymous auth off, only certificates it signed.
    let (ca, cert, key) = client_pki(dir)?;
    let srv = server::serve(
        ServerOptions {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            healthz_port: None,
            root_dir: root.clone(),
            node_name: "127.0.0.1".into(),
            anonymous_auth: false,
            client_ca_file: Some(ca),
            ..Default::default()
        },
        cri.clone(),
        pods,
    )
    .await?;
    let kubelet_ca = root.join("pki/kubelet.crt");
    let result = async {
        let anonymous = Client::new(srv.addr(), &kubelet_ca, None)?;
        let (status, body) = anonymous.get("/pods").await?;
        ensure!(status == 401 && body == "Unauthorized", "{status} {body}");
        // A certificate from another CA is refused too (the kubelet's own pair, self-signed).
        let key_file = root.join("pki/kubelet.key");
        let stranger = Client::new(srv.addr(), &kubelet_ca, Some((&kubelet_ca, &key_file)))?;
        let (status, _) = stranger.get("/healthz").await?;
        ensure!(status == 401, "a stranger's certificate got {status}");
        let apiserver = Client::new(srv.addr(), &kubelet_ca, Some((&cert, &key)))?;
        let (status, body) = apiserver.get("/healthz").await?;
        ensure!(status == 200 && body == "ok", "{status} {body}");
        Ok(())
    }
    .await;
    srv.stop().await;
    result
}

async fn anonymous_scenarios(srv: &server::Server, root: &Path, web_port: u16) -> Result<()> {
    // The self-signed pair was written where upstream writes it, and verifies as 127.0.0.1.
    let client = Client::new(srv.addr(), &root.join("pki/kubelet.crt"), None)?;
    let (status, body) = client.get("/healthz").await?;
    ensure!(status == 200 && body == "ok", "healthz: {status} {body}");
    let healthz = srv.healthz_addr().context("no healthz port")?;
    let mut plain = TcpStream::connect(healthz).await?;
    plain.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").await?;
    let mut buf = String::new();
    plain.read_to_string(&mut buf).await?;
    ensure!(
        buf.starts_with("HTTP/1.0 200") && buf.ends_with("\r\n\r\nok"),
        "{buf}"
    );

    let (status, body) = client.get("/pods").await?;
    let list: serde_json::Value = serde_json::from_str(&body)?;
    ensure!(
        status == 200 && list["kind"] == "PodList" && list["items"][0]["metadata"]["name"] == POD,
        "pods: {status} {body}"
    );

    // Follow from the start: ends by itself once the container has exited.
    let started = Instant::now();
    let (status, body) = client
        .get(&format!("/containerLogs/{NS}/{POD}/main?follow=true"))
        .await?;
    let long = "a".repeat(20000);
    ensure!(
        status == 200 && body == format!("hello\n{long}\ntick 0\ntick 1\ntick 2\nbye\n"),
        "follow: {status} {:?}",
        &body[..body.len().min(200)]
    );
    ensure!(
        started.elapsed() >= Duration::from_secs(2),
        "follow returned before the exit"
    );
    let (_, body) = client
        .get(&format!(
            "/containerLogs/{NS}/{POD}/main?tailLines=2&timestamps=true"
        ))
        .await?;
    let lines: Vec<&str> = body.lines().collect();
    ensure!(
        lines.len() == 2 && lines[0].ends_with(" tick 2") && lines[1].ends_with(" bye"),
        "tail: {body:?}"
    );
    let (_, body) = client
        .get(&format!("/containerLogs/{NS}/{POD}/main?limitBytes=3"))
        .await?;
    ensure!(body == "hel", "limitBytes: {body:?}");
    for (path, want_status, want) in [
        (
            "/containerLogs/default/nope/main",
            404,
            r#"pod "nope" does not exist"#,
        ),
        (
            "/containerLogs/default/streams/other",
            404,
            r#"container "other" not found in pod "streams""#,
        ),
        (
            "/containerLogs/default/streams/main?previous=true",
            400,
            r#"previous terminated container "main" in pod "streams" not found"#,
        ),
        (
            "/containerLogs/default/streams/never",
            400,
            r#"container "never" in pod "streams" is waiting to start: ContainerCreating"#,
        ),
        (
            "/containerLogs/default/streams/main?tailLines=-1",
            422,
            r#"{"message": "Invalid request."}"#,
        ),
    ] {
        let (status, body) = client.get(path).await?;
        ensure!(
            status == want_status && body == want,
            "{path}: {status} {body}"
        );
    }

    let (_, metrics) = client.get("/metrics").await?;
    for want in [
        "kubelet_running_pods 1",
        "kubelet_running_containers{container_state=\"running\"} 2",
        "kubelet_running_containers{container_state=\"exited\"} 1",
        "process_resident_memory_bytes",
    ] {
        ensure!(metrics.contains(want), "metrics lack {want}: {metrics}");
    }
    let (status, body) = client.get("/stats/summary").await?;
    let summary: serde_json::Value = serde_json::from_str(&body)?;
    ensure!(
        status == 200
            && summary["node"]["nodeName"] == "127.0.0.1"
            && summary["pods"][0]["podRef"]["uid"] == UID
            && summary["pods"][0]["containers"]
                .as_array()
                .is_some_and(|c| c.len() == 2 && c.iter().any(|c| c["name"] == "web"))
            && summary["pods"][0]["memory"]["workingSetBytes"].as_u64() > Some(0),
        "summary: {body}"
    );

    // Exec over websockets: stdin in, stdout and stderr out, the exit code on channel 3.
    let got = websocket(
        &client,
        &format!(
            "/exec/{NS}/{POD}/web?command=sh&command=-c&command=read+x%3B+echo+got+%24x%3B+echo+oops+%3E%262%3B+exit+3&input=1&output=1&error=1"
        ),
        "v4.channel.k8s.io",
        vec![b"\x00hi\n".to_vec()],
        |g| g.contains_key(&3),
    )
    .await?;
    ensure!(
        got.get(&1).map(Vec::as_slice) == Some(b"got hi\n"),
        "stdout {got:?}"
    );
    ensure!(
        got.get(&2).map(Vec::as_slice) == Some(b"oops\n"),
        "stderr {got:?}"
    );
    let status: serde_json::Value = serde_json::from_slice(&got[&3])?;
    ensure!(
        status["reason"] == "NonZeroExitCode" && status["details"]["causes"][0]["message"] == "3",
        "exit status {status}"
    );

    // The same over v5 (kubectl 1.30+, kube-rs), which the kubelet translates to SPDY for
    // the runtime: stdin can now be closed (255, 0) while the output keeps coming.
    let got = websocket(
        &client,
        &format!(
            "/exec/{NS}/{POD}/web?command=sh&command=-c&command=cat%3B+echo+done+%3E%262%3B+exit+5&input=1&output=1&error=1"
        ),
        "v5.channel.k8s.io",
        vec![b"\x00abc".to_vec(), b"\x00def\n".to_vec(), vec![255, 0]],
        |g| g.contains_key(&3),
    )
    .await?;
    ensure!(
        got.get(&1).map(Vec::as_slice) == Some(b"abcdef\n"),
        "v5 stdout {got:?}"
    );
    ensure!(
        got.get(&2).map(Vec::as_slice) == Some(b"done\n"),
        "v5 stderr {got:?}"
    );
    let status: serde_json::Value = serde_json::from_slice(&got[&3])?;
    ensure!(
        status["details"]["causes"][0]["message"] == "5",
        "v5 exit status {status}"
    );

    // A TTY over v5: the terminal size sent on the resize channel reaches the process.
    let got = websocket(
        &client,
        &format!(
            "/exec/{NS}/{POD}/web?command=sh&command=-c&command=sleep+1%3B+stty+size&input=1&output=1&tty=1"
        ),
        "v5.channel.k8s.io",
        vec![b"\x04{\"Width\":91,\"Height\":17}".to_vec()],
        |g| g.contains_key(&3),
    )
    .await?;
    ensure!(
        String::from_utf8_lossy(got.get(&1).map(Vec::as_slice).unwrap_or_default()).trim()
            == "17 91",
        "tty size {got:?}"
    );

    // Attach: the running process's output, as it comes.
    let got = websocket(
        &client,
        &format!("/attach/{NS}/{POD}/ticker?output=1&error=1"),
        "v4.channel.k8s.io",
        Vec::new(),
        |g| g.get(&1).is_some_and(|o| o.starts_with(b"tick\ntick\n")),
    )
    .await?;
    ensure!(got[&1].starts_with(b"tick\ntick\n"), "attach: {got:?}");
    // And over v5, through the translation to SPDY.
    let got = websocket(
        &client,
        &format!("/attach/{NS}/{POD}/ticker?output=1"),
        "v5.channel.k8s.io",
        Vec::new(),
        |g| g.get(&1).is_some_and(|o| o.starts_with(b"tick\ntick\n")),
    )
    .await?;
    ensure!(
        got[&1].starts_with(b"tick\ntick\n"),
        "attach over v5: {got:?}"
    );

    // A stream request without an upgrade, and exec in a container that is not running:
    // upstream's 500s.
    let (status, body) = client
        .get(&format!("/exec/{NS}/{POD}/web?command=true&output=1"))
        .await?;
    ensure!(
        status == 500 && body == "Upgrade request required\n",
        "{status} {body}"
    );
    let (status, body) = client
        .request(
            "POST",
            &format!("/exec/{NS}/{POD}/main?command=true&output=1"),
            "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n",
        )
        .await?;
    ensure!(
        status == 500 && body == r#"container not found ("main")"#,
        "{status} {body}"
    );
    let (status, body) = client
        .get(&format!("/exec/{NS}/{POD}/web?command=true"))
        .await?;
    ensure!(
        status == 400 && body == "you must specify at least 1 of stdin, stdout, stderr",
        "{status} {body}"
    );

    // SPDY/3.1: the streaming server's 101 comes back through the kubelet, with the protocol
    // it chose.
    let mut s = client.connect().await?;
    s.write_all(
        format!(
            "POST /exec/{NS}/{POD}/web?command=true&output=1 HTTP/1.1\r\nHost: kubelet\r\n\
             Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
             X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\
             X-Stream-Protocol-Version: channel.k8s.io\r\n\r\n"
        )
        .as_bytes(),
    )
    .await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut byte)).await??;
        ensure!(
            n == 1,
            "closed during the head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    ensure!(
        head.starts_with("http/1.1 101")
            && head.contains("upgrade: spdy/3.1")
            && head.contains("x-stream-protocol-version: v4.channel.k8s.io"),
        "SPDY upgrade: {head}"
    );
    drop(s);

    // Port-forward over websockets (the runtime speaks `v4.channel.k8s.io` there;
    // `portforward.k8s.io` is SPDY's name): a data and an error channel per port, each
    // opening with the port number.
    let got = websocket(
        &client,
        &format!("/portForward/{NS}/{POD}?port={web_port}"),
        "v4.channel.k8s.io",
        vec![b"\x00GET / HTTP/1.0\r\n\r\n".to_vec()],
        |g| {
            g.get(&0)
                .is_some_and(|d| String::from_utf8_lossy(d).contains("hello-pf"))
        },
    )
    .await?;
    let data = &got[&0];
    ensure!(
        data.len() > 2
            && data[..2] == web_port.to_le_bytes()
            && String::from_utf8_lossy(&data[2..]).starts_with("HTTP/1.1 200 OK"),
        "port-forward: {:?}",
        String::from_utf8_lossy(data)
    );
    // SPDY/3.1 with upstream kubectl 1.27 (exec -i, port-forward) runs through the real
    // apiserver in the whole-cluster streams scenario (tests/cluster/streams.rs).
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_against_a_real_containerd() {
    let dir = tempfile::tempdir().expect("temp dir");
    let images = images_dir().expect("building the test images");
    let (ctrd, cri) = start_containerd(dir.path()).await.expect("containerd");
    import(&ctrd, &images.join("pause.tar"), PAUSE_IMAGE).expect("pause image");
    import(&ctrd, &images.join("busybox.tar"), BUSYBOX_IMAGE).expect("busybox image");
    // The web container listens on the host's loopback (host network); the scenarios reach
    // it last, seconds after it started.
    let web_port = free_port();
    let result = scenarios(dir.path(), &cri, web_port).await;
    let cleanup = remove_pods(&cri).await;
    drop(ctrd);
    remove_cgroups();
    if let Err(e) = &result {
        let log = std::fs::read_to_string(dir.path().join("containerd.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        eprintln!(
            "containerd log (last lines, newest first):\n{}",
            tail.join("\n")
        );
        panic!("{e:#}");
    }
    cleanup.expect("removing the pods");
}
