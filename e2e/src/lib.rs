//! Test harness: a real etcd (Debian's `etcd` binary) on free loopback ports with its own
//! data directory, and our apiserver started in-process on port 0, plus a kubeconfig that
//! upstream kubectl, kube-rs and our own tools can use. Everything started is stopped when the
//! harness is dropped, also when a test fails.

pub mod inprocess;
pub mod node;
pub mod raw;
pub mod standin_kubelet;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

/// The bearer token the test kubeconfig carries. The apiserver allows anonymous requests
/// until authentication lands, but kubectl prompts for a password when a user has no
/// credential at all, so the kubeconfig must name one.
pub const TEST_TOKEN: &str = "e2e-test-token";

/// Picks a free loopback port by binding port 0 and releasing it.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a free loopback port")?;
    Ok(l.local_addr()?.port())
}

/// A real etcd process on loopback, killed (by its PID) when dropped.
pub struct TestEtcd {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    data_dir: PathBuf,
    log_dir: PathBuf,
    client_port: u16,
    peer_port: u16,
}

impl TestEtcd {
    /// Starts etcd with its data under `dir` and waits until it answers.
    pub async fn start(dir: &Path) -> Result<Self> {
        let mut last_err = None;
        // A port picked by `free_port` can be taken by someone else before etcd binds it;
        // try a few times before giving up.
        for _ in 0..5 {
            match Self::try_start(dir).await {
                Ok(etcd) => return Ok(etcd),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one attempt was made"))
    }

    async fn try_start(dir: &Path) -> Result<Self> {
        let client_port = free_port()?;
        let peer_port = free_port()?;
        let data_dir = dir.join(format!("etcd-{client_port}"));
        let child = spawn_etcd(&data_dir, dir, client_port, peer_port).await?;
        Ok(TestEtcd {
            child,
            endpoint: format!("http://127.0.0.1:{client_port}"),
            data_dir,
            log_dir: dir.to_path_buf(),
            client_port,
            peer_port,
        })
    }

    /// Stops etcd and waits for it to exit.
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Sends SIGKILL to etcd without waiting (for `Drop`, outside async code).
    pub fn kill_now(&mut self) {
        let _ = self.child.start_kill();
    }

    /// Kills etcd (SIGKILL to its PID, no clean shutdown) and starts it again on the same
    /// data directory and ports, as after a crash; returns once it answers.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await;
        self.child = spawn_etcd(
            &self.data_dir,
            &self.log_dir,
            self.client_port,
            self.peer_port,
        )
        .await?;
        Ok(())
    }

    /// Kills etcd and starts it on the same data directory but another client port, which no
    /// apiserver knows: the test may change etcd behind the apiservers' backs. Returns that
    /// endpoint; `restart` brings etcd back on its own port.
    pub async fn restart_unseen(&mut self) -> Result<String> {
        self.stop().await;
        let port = free_port()?;
        self.child = spawn_etcd(&self.data_dir, &self.log_dir, port, self.peer_port).await?;
        Ok(format!("http://127.0.0.1:{port}"))
    }
}

/// Starts etcd on `data_dir` with loopback ports and waits until it answers.
async fn spawn_etcd(
    data_dir: &Path,
    log_dir: &Path,
    client_port: u16,
    peer_port: u16,
) -> Result<Child> {
    let client_url = format!("http://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join(format!("etcd-{client_port}.log")))?;
    let mut child = Command::new("etcd")
        .arg("--name=test")
        .arg(format!("--data-dir={}", data_dir.display()))
        .arg(format!("--listen-client-urls={client_url}"))
        .arg(format!("--advertise-client-urls={client_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=test={peer_url}"))
        .arg("--log-level=error")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting etcd (install Debian's etcd-server package)")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr: SocketAddr = format!("127.0.0.1:{client_port}").parse()?;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("etcd exited at start with {status}");
        }
        if tokio::net::TcpStream::connect(addr).await.is_ok() && health(&client_url).await {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill().await;
            bail!("etcd did not become healthy on {client_url} within 20s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether etcd's `/health` answers `true` (etcd serves it over plain HTTP on the client port).
async fn health(url: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hostport = url.trim_start_matches("http://");
    let Ok(mut s) = tokio::net::TcpStream::connect(hostport).await else {
        return false;
    };
    let req = format!("GET /health HTTP/1.0\r\nHost: {hostport}\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut buf)).await;
    matches!(read, Ok(Ok(_))) && String::from_utf8_lossy(&buf).contains("\"health\":\"true\"")
}

/// etcd plus our apiserver, in a temporary directory of its own. The apiserver runs on a
/// runtime of its own, so a test may block (on a kubectl process, say) without stalling it.
pub struct TestCluster {
    pub etcd: TestEtcd,
    apiserver: Option<apiserver::RunningServer>,
    runtime: Option<tokio::runtime::Runtime>,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// A kubeconfig naming `url`, the serving CA and `TEST_TOKEN`.
    pub kubeconfig: PathBuf,
    /// The CA bundle that verifies the apiserver's serving certificate.
    pub ca_file: PathBuf,
    pub dir: tempfile::TempDir,
}

impl TestCluster {
    /// Starts etcd and the apiserver with default flags.
    pub async fn start() -> Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts etcd and the apiserver with extra apiserver flags (`--flag=value`).
    pub async fn start_with(extra_flags: &[&str]) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("e2e-").tempdir()?;
        let etcd = TestEtcd::start(dir.path()).await?;
        let mut a = TestApiserver::start(&etcd.endpoint, dir.path(), "", extra_flags).await?;
        // The cluster owns the first apiserver's parts; what is left of `a` drops as a no-op.
        Ok(TestCluster {
            etcd,
            apiserver: a.server.take(),
            runtime: a.runtime.take(),
            url: std::mem::take(&mut a.url),
            kubeconfig: std::mem::take(&mut a.kubeconfig),
            ca_file: std::mem::take(&mut a.ca_file),
            dir,
        })
    }

    /// Starts one more apiserver on the same etcd (as a highly available control plane
    /// runs several), with its own port, serving certificate and kubeconfig.
    pub async fn start_apiserver(&self, extra_flags: &[&str]) -> Result<TestApiserver> {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(2);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let suffix = format!("-{n}");
        TestApiserver::start(&self.etcd.endpoint, self.dir.path(), &suffix, extra_flags).await
    }

    /// The apiserver's address.
    pub fn apiserver_addr(&self) -> SocketAddr {
        self.apiserver
            .as_ref()
            .expect("the apiserver runs until stop")
            .local_addr()
    }

    /// Stops the apiserver, then etcd.
    pub async fn stop(mut self) {
        if let (Some(server), Some(rt)) = (self.apiserver.take(), self.runtime.as_ref()) {
            let _ = rt.spawn(server.stop()).await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        // Dropping the rest kills etcd.
    }
}

/// An apiserver on its own runtime. Dropped, its runtime ends at once, as a crash would:
/// nothing is cleaned up (`stop` is the graceful way).
pub struct TestApiserver {
    server: Option<apiserver::RunningServer>,
    runtime: Option<tokio::runtime::Runtime>,
    /// `https://<bind address>:<port>`.
    pub url: String,
    /// A kubeconfig naming `url`, the serving CA and `TEST_TOKEN`.
    pub kubeconfig: PathBuf,
    /// The CA bundle that verifies the apiserver's serving certificate.
    pub ca_file: PathBuf,
}

impl TestApiserver {
    async fn start(etcd: &str, dir: &Path, suffix: &str, extra_flags: &[&str]) -> Result<Self> {
        let bind = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_at(etcd, dir, suffix, bind, extra_flags).await
    }

    /// Starts an apiserver on `etcd` bound at `bind` (port 0: a free one), with its
    /// certificates in `dir/certs<suffix>` and its kubeconfig at `dir/kubeconfig<suffix>`,
    /// and waits until it is ready.
    pub async fn start_at(
        etcd: &str,
        dir: &Path,
        suffix: &str,
        bind: SocketAddr,
        extra_flags: &[&str],
    ) -> Result<Self> {
        let cert_dir = dir.join(format!("certs{suffix}"));
        let mut args = vec![
            "kube-apiserver".to_string(),
            format!("--etcd-servers={etcd}"),
            format!("--bind-address={}", bind.ip()),
            format!("--secure-port={}", bind.port()),
            format!("--cert-dir={}", cert_dir.display()),
        ];
        args.extend(extra_flags.iter().map(|s| s.to_string()));
        let options = apiserver::Options::try_parse_from(args)?;
        // Building the server is not `Send`, so it happens on a thread that owns the runtime.
        let (runtime, started) = tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("building the apiserver's runtime");
            // The apiserver serves before it is ready; tests start once it is, as upstream's
            // test server waits for /healthz.
            let started = runtime.block_on(async {
                let server = apiserver::start(options).await?;
                server.wait_ready(Duration::from_secs(60)).await?;
                Ok::<_, anyhow::Error>(server)
            });
            (runtime, started)
        })
        .await?;
        let server = match started {
            Ok(s) => s,
            Err(e) => {
                runtime.shutdown_background();
                return Err(e.context(format!("starting the apiserver on {bind}")));
            }
        };
        let url = format!("https://{}", server.local_addr());
        let ca_file = cert_dir.join("apiserver.crt");
        let kubeconfig = dir.join(format!("kubeconfig{suffix}"));
        std::fs::write(&kubeconfig, kubeconfig_yaml(&url, &ca_file, TEST_TOKEN))?;
        Ok(TestApiserver {
            server: Some(server),
            runtime: Some(runtime),
            url,
            kubeconfig,
            ca_file,
        })
    }

    /// Where it serves.
    pub fn local_addr(&self) -> SocketAddr {
        self.server
            .as_ref()
            .expect("the apiserver runs until stop")
            .local_addr()
    }

    /// Stops the apiserver gracefully.
    pub async fn stop(mut self) {
        if let (Some(server), Some(rt)) = (self.server.take(), self.runtime.as_ref()) {
            let _ = rt.spawn(server.stop()).await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for TestApiserver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        // A test that panicked before `stop`: end the apiserver's runtime without blocking.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A kube-rs client from a test kubeconfig (`TestCluster::kubeconfig` or a second
/// apiserver's).
pub async fn kube_client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig readable");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig valid");
    kube::Client::try_from(cfg).expect("client builds")
}

/// A kubeconfig with one cluster, one token user and one current context named `test`.
pub fn kubeconfig_yaml(url: &str, ca_file: &Path, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {url}
    certificate-authority: {ca}
users:
- name: test
  user:
    token: {token}
contexts:
- name: test
  context:
    cluster: test
    user: test
    namespace: default
current-context: test
",
        ca = ca_file.display()
    )
}

/// The directory holding upstream kubectl binaries (`kubectl.1.27` ... `kubectl.1.33`).
pub fn upstream_kubectl(minor: u32) -> Option<PathBuf> {
    let default = which("kubectl")?;
    let real = std::fs::canonicalize(default).ok()?;
    let candidate = real.parent()?.join(format!("kubectl.1.{minor}"));
    candidate.exists().then_some(candidate)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
