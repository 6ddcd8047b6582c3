//! apiserver-bench's processes: etcd and kube-apiserver started on loopback with free ports,
//! killed by PID when stopped or dropped, and what /proc says about them (CPU time, RSS, open
//! descriptors) and about the machine (load).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use e2e::{free_port, kubeconfig_yaml, TEST_TOKEN};
use kube::Client;
use tokio::process::{Child, Command};

/// A child process (etcd or kube-apiserver), killed by PID when dropped or stopped.
pub(crate) struct Proc {
    pub(crate) name: &'static str,
    child: Child,
    pub(crate) pid: u32,
    log: PathBuf,
}

impl Proc {
    pub(crate) fn new(name: &'static str, child: Child, pid: u32, log: PathBuf) -> Self {
        Proc {
            name,
            child,
            pid,
            log,
        }
    }

    pub(crate) async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }

    pub(crate) fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// Every process the bench started, stopped explicitly at the end (and by `kill_on_drop` if
/// the bench unwinds).
#[derive(Default)]
pub(crate) struct Procs(pub(crate) Vec<Proc>);

impl Procs {
    pub(crate) async fn stop_all(&mut self) {
        for p in self.0.iter_mut().rev() {
            p.stop().await;
            eprintln!("stopped {} (pid {})", p.name, p.pid);
        }
        self.0.clear();
    }

    pub(crate) fn get(&self, i: usize) -> &Proc {
        &self.0[i]
    }
}

/// VmRSS of `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User plus system CPU time of `pid` (`self` for this process), from /proc/<pid>/stat.
pub(crate) fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU used by a set of processes between `start` and `per`.
pub(crate) struct CpuMeter {
    start: Vec<(String, String, Option<Duration>)>,
}

impl CpuMeter {
    pub(crate) fn start(procs: &[(&str, String)]) -> Self {
        CpuMeter {
            start: procs
                .iter()
                .map(|(n, p)| (n.to_string(), p.clone(), cpu_time(p)))
                .collect(),
        }
    }

    /// "name X µs, name Y µs" of CPU per operation, for `ops` operations.
    pub(crate) fn per(&self, ops: usize) -> String {
        self.start
            .iter()
            .map(|(name, pid, t0)| match (t0, cpu_time(pid)) {
                (Some(a), Some(b)) => format!(
                    "{name} {:.0} µs",
                    (b.saturating_sub(*a)).as_secs_f64() * 1e6 / ops.max(1) as f64
                ),
                _ => format!("{name} n/a"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// CPU per operation of the process named `name`, in µs.
    pub(crate) fn micros(&self, name: &str, ops: usize) -> Option<f64> {
        let (_, pid, t0) = self.start.iter().find(|(n, _, _)| n == name)?;
        let used = cpu_time(pid)?.saturating_sub((*t0)?);
        Some(used.as_secs_f64() * 1e6 / ops.max(1) as f64)
    }

    /// "name X ms, ..." of CPU in total.
    pub(crate) fn total(&self) -> String {
        self.start
            .iter()
            .map(|(name, pid, t0)| match (t0, cpu_time(pid)) {
                (Some(a), Some(b)) => {
                    format!(
                        "{name} {:.0} ms",
                        (b.saturating_sub(*a)).as_secs_f64() * 1e3
                    )
                }
                _ => format!("{name} n/a"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The machine's load averages: other work on the shared CPUs skews every figure.
pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// Open file descriptors of `pid`.
pub(crate) fn fd_count(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Starts a fresh etcd (flags as the test harness's) with its data under `dir`; returns its
/// index in `procs` and its client URL.
pub(crate) async fn start_etcd(procs: &mut Procs, dir: &Path) -> Result<(usize, String)> {
    let mut last = None;
    for _ in 0..5 {
        let client_port = free_port()?;
        let peer_port = free_port()?;
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let log = dir.join(format!("etcd-{client_port}.log"));
        let file = std::fs::File::create(&log)?;
        let child = Command::new("etcd")
            .arg("--name=bench")
            .arg(format!(
                "--data-dir={}",
                dir.join(format!("etcd-{client_port}")).display()
            ))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=bench={peer_url}"))
            .arg("--log-level=error")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .context("starting etcd")?;
        let pid = child.id().context("etcd has a pid")?;
        procs.0.push(Proc::new("etcd", child, pid, log));
        let idx = procs.0.len() - 1;
        match wait_etcd(&mut procs.0[idx], &client_url).await {
            Ok(()) => {
                eprintln!("etcd up on {client_url} (pid {pid})");
                return Ok((idx, client_url));
            }
            Err(e) => {
                let mut p = procs.0.remove(idx);
                p.stop().await;
                last = Some(e);
            }
        }
    }
    Err(last.expect("tried at least once"))
}

pub(crate) async fn wait_etcd(p: &mut Proc, url: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = p.child.try_wait()? {
            bail!("etcd exited at start with {status}: {}", p.log_tail());
        }
        let probe = async {
            let mut c = etcd_client::Client::connect([url], None).await?;
            c.get("health-probe", None).await?;
            Ok::<_, etcd_client::Error>(())
        };
        if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(2), probe).await {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("etcd did not answer on {url} within 20s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts kube-apiserver against `etcd`, waits for `/readyz`, and returns its index in
/// `procs` and a client.
pub(crate) async fn start_apiserver(
    procs: &mut Procs,
    dir: &Path,
    etcd: &str,
    workers: Option<usize>,
) -> Result<(usize, Client)> {
    let exe = std::env::current_exe()?
        .parent()
        .context("the bench binary has a directory")?
        .join("kube-apiserver");
    if !exe.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p apiserver --bin kube-apiserver`",
            exe.display()
        );
    }
    let cert_dir = dir.join("certs");
    let mut last = None;
    for _ in 0..3 {
        let port = free_port()?;
        let log = dir.join(format!("apiserver-{port}.log"));
        let file = std::fs::File::create(&log)?;
        let mut cmd = Command::new(&exe);
        cmd.arg(format!("--etcd-servers={etcd}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--secure-port={port}"))
            .arg(format!("--cert-dir={}", cert_dir.display()));
        if let Some(w) = workers {
            cmd.arg(format!("--workers={w}"));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let pid = child.id().context("kube-apiserver has a pid")?;
        procs.0.push(Proc::new("kube-apiserver", child, pid, log));
        let idx = procs.0.len() - 1;
        let url = format!("https://127.0.0.1:{port}");
        match wait_apiserver(&mut procs.0[idx], dir, &url, &cert_dir).await {
            Ok(client) => {
                eprintln!("kube-apiserver up on {url} (pid {pid})");
                return Ok((idx, client));
            }
            Err(e) => {
                let mut p = procs.0.remove(idx);
                p.stop().await;
                last = Some(e);
            }
        }
    }
    Err(last.expect("tried at least once"))
}

pub(crate) async fn wait_apiserver(
    p: &mut Proc,
    dir: &Path,
    url: &str,
    cert_dir: &Path,
) -> Result<Client> {
    let ca = cert_dir.join("apiserver.crt");
    let kubeconfig = dir.join("kubeconfig");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut client = None;
    loop {
        if let Some(status) = p.child.try_wait()? {
            bail!(
                "kube-apiserver exited at start with {status}:\n{}",
                p.log_tail()
            );
        }
        if client.is_none() && ca.is_file() {
            std::fs::write(&kubeconfig, kubeconfig_yaml(url, &ca, TEST_TOKEN))?;
            let kc = kube::config::Kubeconfig::read_from(&kubeconfig)?;
            let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
            client = Some(Client::try_from(cfg)?);
        }
        if let Some(c) = &client {
            let req = http::Request::get("/readyz").body(Vec::new())?;
            if let Ok(Ok(body)) =
                tokio::time::timeout(Duration::from_secs(5), c.request_text(req)).await
            {
                if body.trim() == "ok" {
                    return Ok(c.clone());
                }
            }
        }
        if Instant::now() > deadline {
            bail!(
                "kube-apiserver not ready on {url} within 60s:\n{}",
                p.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Raises the soft open-file limit so the watchers (and, inheriting it, the apiserver) have
/// descriptors enough.
pub(crate) fn raise_nofile(wanted: u64) -> Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let cur = getrlimit(Resource::Nofile);
    let soft = cur.current.unwrap_or(u64::MAX);
    if soft >= wanted {
        return Ok(soft);
    }
    let new = match cur.maximum {
        Some(max) => wanted.min(max),
        None => wanted,
    };
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(new),
            maximum: cur.maximum,
        },
    )
    .context("raising RLIMIT_NOFILE")?;
    Ok(new)
}

/// `perf record` attached to one process for one phase (`--perf-record`): software CPU-clock
/// samples (this machine's VMs have no hardware counters) with DWARF call graphs, so a release
/// build without frame pointers still unwinds. Stopped with SIGINT so perf writes its file.
pub(crate) struct PerfRecord {
    child: Child,
    out: PathBuf,
}

impl PerfRecord {
    pub(crate) async fn start(pid: u32, out: &Path) -> Result<Self> {
        let mut child = Command::new("perf")
            .args(["record", "-e", "cpu-clock", "-F", "999"])
            .args(["--call-graph", "dwarf,16384", "-o"])
            .arg(out)
            .arg("-p")
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting perf (apt-get install -y linux-perf)")?;
        // perf needs a moment to attach before the phase starts.
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(status) = child.try_wait()? {
            bail!("perf record -p {pid} exited at start with {status}");
        }
        eprintln!("perf recording pid {pid} into {}", out.display());
        Ok(PerfRecord {
            child,
            out: out.to_path_buf(),
        })
    }

    pub(crate) async fn stop(mut self) -> Result<()> {
        use rustix::process::{kill_process, Pid, Signal};
        let pid = self
            .child
            .id()
            .and_then(|p| Pid::from_raw(i32::try_from(p).ok()?))
            .context("perf is running")?;
        kill_process(pid, Signal::INT).context("stopping perf")?;
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(status) => {
                eprintln!("perf wrote {} ({})", self.out.display(), status?);
                Ok(())
            }
            Err(_) => {
                let _ = self.child.kill().await;
                bail!(
                    "perf did not finish writing {} within 60s",
                    self.out.display()
                )
            }
        }
    }
}
