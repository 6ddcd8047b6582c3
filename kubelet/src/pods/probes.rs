//! Liveness, readiness and startup probes: one small tokio task per probe of a running
//! container (exec through CRI ExecSync, httpGet, tcpSocket), honouring the spec's initial
//! delay, period, timeout and thresholds; results are kept per container and the pod's
//! worker is woken when one changes, as upstream's prober workers do.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::cri::Cri;

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Liveness,
    Readiness,
    Startup,
}

/// The probes of one pod and their latest results, keyed by container name and kind.
#[derive(Default)]
pub struct Probes {
    tasks: HashMap<(String, Kind), (String, JoinHandle<()>)>,
    results: Arc<Mutex<HashMap<(String, Kind), bool>>>,
}

impl Drop for Probes {
    fn drop(&mut self) {
        for (_, (_, t)) in self.tasks.drain() {
            t.abort();
        }
    }
}

/// Where a probe runs: the container's ID and the pod's IP.
pub struct Target {
    pub container_id: String,
    pub pod_ip: String,
}

impl Probes {
    fn result(&self, name: &str, kind: Kind) -> Option<bool> {
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(name.to_string(), kind))
            .copied()
    }

    /// Starts probes for running containers (`running`: name → target) and stops those of
    /// containers that are gone or were replaced.
    pub fn update(
        &mut self,
        cri: &Cri,
        containers: &[Container],
        running: &HashMap<String, Target>,
        wake: &Arc<Notify>,
    ) {
        let mut wanted = HashSet::new();
        for c in containers {
            let Some(target) = running.get(&c.name) else {
                continue;
            };
            for (kind, probe) in [
                (Kind::Liveness, &c.liveness_probe),
                (Kind::Readiness, &c.readiness_probe),
                (Kind::Startup, &c.startup_probe),
            ] {
                let Some(probe) = probe else { continue };
                let key = (c.name.clone(), kind);
                wanted.insert(key.clone());
                if self
                    .tasks
                    .get(&key)
                    .is_some_and(|(id, _)| id == &target.container_id)
                {
                    continue;
                }
                if let Some((_, old)) = self.tasks.remove(&key) {
                    old.abort();
                }
                self.results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&key);
                let task = tokio::spawn(run_probe(
                    cri.clone(),
                    c.clone(),
                    kind,
                    probe.clone(),
                    target.container_id.clone(),
                    target.pod_ip.clone(),
                    self.results.clone(),
                    wake.clone(),
                ));
                self.tasks.insert(key, (target.container_id.clone(), task));
            }
        }
        self.tasks.retain(|k, (_, t)| {
            let keep = wanted.contains(k);
            if !keep {
                t.abort();
            }
            keep
        });
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, _| wanted.contains(k));
    }

    /// Containers whose liveness probe failed, or whose startup probe gave up.
    pub fn unhealthy(&self, containers: &[Container]) -> Vec<String> {
        containers
            .iter()
            .filter(|c| {
                (c.liveness_probe.is_some() && self.result(&c.name, Kind::Liveness) == Some(false))
                    || (c.startup_probe.is_some()
                        && self.result(&c.name, Kind::Startup) == Some(false))
            })
            .map(|c| c.name.clone())
            .collect()
    }

    /// Containers with a readiness probe that has not succeeded (yet).
    pub fn unready(&self, containers: &[Container]) -> HashSet<String> {
        containers
            .iter()
            .filter(|c| {
                c.readiness_probe.is_some() && self.result(&c.name, Kind::Readiness) != Some(true)
            })
            .map(|c| c.name.clone())
            .collect()
    }

    /// Containers with a startup probe that has not succeeded (yet).
    pub fn not_started(&self, containers: &[Container]) -> HashSet<String> {
        containers
            .iter()
            .filter(|c| {
                c.startup_probe.is_some() && self.result(&c.name, Kind::Startup) != Some(true)
            })
            .map(|c| c.name.clone())
            .collect()
    }
}

fn secs(v: Option<i32>, default: i32) -> Duration {
    Duration::from_secs(v.unwrap_or(default).max(0) as u64)
}

/// Counts consecutive outcomes and says when the result flips, as upstream's thresholds do.
#[derive(Debug)]
pub struct Thresholds {
    success: i32,
    failure: i32,
    run: i32,
    last: Option<bool>,
}

impl Thresholds {
    pub fn new(probe: &Probe) -> Thresholds {
        Thresholds {
            success: probe.success_threshold.unwrap_or(1).max(1),
            failure: probe.failure_threshold.unwrap_or(3).max(1),
            run: 0,
            last: None,
        }
    }

    /// Records one outcome; returns the new result when it changes.
    pub fn record(&mut self, ok: bool) -> Option<bool> {
        self.run = match (ok, self.run) {
            (true, r) if r > 0 => r + 1,
            (true, _) => 1,
            (false, r) if r < 0 => r - 1,
            (false, _) => -1,
        };
        let flipped = if ok && self.run >= self.success {
            Some(true)
        } else if !ok && -self.run >= self.failure {
            Some(false)
        } else {
            None
        };
        match flipped {
            Some(v) if self.last != Some(v) => {
                self.last = Some(v);
                Some(v)
            }
            _ => None,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_probe(
    cri: Cri,
    c: Container,
    kind: Kind,
    probe: Probe,
    container_id: String,
    pod_ip: String,
    results: Arc<Mutex<HashMap<(String, Kind), bool>>>,
    wake: Arc<Notify>,
) {
    tokio::time::sleep(secs(probe.initial_delay_seconds, 0)).await;
    let period = secs(probe.period_seconds, 10).max(Duration::from_secs(1));
    let timeout = secs(probe.timeout_seconds, 1).max(Duration::from_secs(1));
    let mut t = Thresholds::new(&probe);
    let key = (c.name.clone(), kind);
    loop {
        // Liveness and readiness wait until the startup probe (if any) has succeeded.
        let gated = kind != Kind::Startup
            && c.startup_probe.is_some()
            && results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(c.name.clone(), Kind::Startup))
                != Some(&true);
        if !gated {
            let ok = probe_once(&cri, &c, &probe, &container_id, &pod_ip, timeout).await;
            if let Some(v) = t.record(ok) {
                tracing::debug!(container = %c.name, ?kind, result = v, "probe result changed");
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key.clone(), v);
                wake.notify_one();
                // A startup probe that succeeded is done; one that gave up lets the
                // worker kill the container.
                if kind == Kind::Startup {
                    return;
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}

fn port_of(c: &Container, port: &IntOrString) -> Option<u16> {
    match port {
        IntOrString::Int(p) => u16::try_from(*p).ok(),
        IntOrString::String(name) => c
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .or_else(|| name.parse().ok()),
    }
}

pub(crate) async fn probe_once(
    cri: &Cri,
    c: &Container,
    probe: &Probe,
    container_id: &str,
    pod_ip: &str,
    timeout: Duration,
) -> bool {
    if let Some(exec) = &probe.exec {
        let req = k8s_cri::v1::ExecSyncRequest {
            container_id: container_id.to_string(),
            cmd: exec.command.clone().unwrap_or_default(),
            timeout: timeout.as_secs() as i64,
        };
        return match tokio::time::timeout(
            timeout + Duration::from_secs(1),
            cri.runtime.clone().exec_sync(req),
        )
        .await
        {
            Ok(Ok(r)) => r.into_inner().exit_code == 0,
            _ => false,
        };
    }
    if let Some(tcp) = &probe.tcp_socket {
        let Some(port) = port_of(c, &tcp.port) else {
            return false;
        };
        let host = tcp.host.clone().unwrap_or_else(|| pod_ip.to_string());
        return matches!(
            tokio::time::timeout(
                timeout,
                tokio::net::TcpStream::connect((host.as_str(), port))
            )
            .await,
            Ok(Ok(_))
        );
    }
    if let Some(http) = &probe.http_get {
        let Some(port) = port_of(c, &http.port) else {
            return false;
        };
        if http.scheme.as_deref() == Some("HTTPS") {
            tracing::warn!(container = %c.name, "HTTPS probes are not supported; failing");
            return false;
        }
        let host = http.host.clone().unwrap_or_else(|| pod_ip.to_string());
        let path = http.path.clone().unwrap_or_else(|| "/".into());
        let mut headers = String::new();
        let mut host_header = format!("{host}:{port}");
        for h in http.http_headers.iter().flatten() {
            if h.name.eq_ignore_ascii_case("host") {
                host_header = h.value.clone();
            } else {
                headers.push_str(&format!("{}: {}\r\n", h.name, h.value));
            }
        }
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n{headers}\r\n"
        );
        let attempt = async {
            let mut s = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .ok()?;
            s.write_all(request.as_bytes()).await.ok()?;
            let mut buf = vec![0u8; 64];
            let n = s.read(&mut buf).await.ok()?;
            let line = String::from_utf8_lossy(&buf[..n]).to_string();
            let code: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some((200..400).contains(&code))
        };
        return matches!(tokio::time::timeout(timeout, attempt).await, Ok(Some(true)));
    }
    // gRPC probes are not supported: count them as passing rather than killing containers.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(success: i32, failure: i32) -> Probe {
        Probe {
            success_threshold: Some(success),
            failure_threshold: Some(failure),
            ..Default::default()
        }
    }

    #[test]
    fn thresholds_need_consecutive_outcomes() {
        let mut t = Thresholds::new(&probe(1, 3));
        assert_eq!(t.record(true), Some(true));
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(true), None, "a success breaks the failure streak");
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), Some(false));
        assert_eq!(t.record(false), None, "reported once");
        let mut t = Thresholds::new(&probe(2, 1));
        assert_eq!(t.record(true), None);
        assert_eq!(t.record(true), Some(true));
    }

    #[test]
    fn named_ports_resolve_from_the_container() {
        let c: Container = serde_json::from_value(serde_json::json!({
            "name": "c", "ports": [{"name": "http", "containerPort": 8080}]
        }))
        .unwrap();
        assert_eq!(port_of(&c, &IntOrString::String("http".into())), Some(8080));
        assert_eq!(port_of(&c, &IntOrString::Int(81)), Some(81));
        assert_eq!(port_of(&c, &IntOrString::String("nope".into())), None);
    }

    #[tokio::test]
    async fn http_and_tcp_probes_against_a_local_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let status = if req.starts_with("GET /ok ") {
                    "200 OK"
                } else {
                    "500 Oops"
                };
                let _ = s
                    .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await;
            }
        });
        let c: Container = serde_json::from_value(serde_json::json!({"name": "c"})).unwrap();
        let http = |path: &str| -> Probe {
            serde_json::from_value(serde_json::json!({"httpGet": {"path": path, "port": port}}))
                .unwrap()
        };
        // A Cri handle is only used by exec probes; build one lazily over a dead socket path.
        let dummy = lazy_cri().await;
        let t = Duration::from_secs(1);
        assert!(probe_once(&dummy, &c, &http("/ok"), "id", "127.0.0.1", t).await);
        assert!(!probe_once(&dummy, &c, &http("/bad"), "id", "127.0.0.1", t).await);
        let tcp: Probe =
            serde_json::from_value(serde_json::json!({"tcpSocket": {"port": port}})).unwrap();
        assert!(probe_once(&dummy, &c, &tcp, "id", "127.0.0.1", t).await);
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let tcp: Probe =
            serde_json::from_value(serde_json::json!({"tcpSocket": {"port": closed_port}}))
                .unwrap();
        assert!(!probe_once(&dummy, &c, &tcp, "id", "127.0.0.1", t).await);
    }

    /// A CRI handle on a socket that answers nothing (a listener that never speaks gRPC).
    async fn lazy_cri() -> Cri {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cri.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let _dir = dir;
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        Cri::connect(path.to_str().unwrap()).await.unwrap()
    }
}
