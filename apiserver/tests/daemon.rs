//! The kube-apiserver binary as an operator meets it: bad flags exit with one clear line and
//! a non-zero status before anything starts; started before etcd (static pods start in any
//! order), it serves at once, reports etcd in its health checks and waits for it.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apiserver::bootstrap::loopback::Loopback;

fn apiserver(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kube-apiserver"))
        .args(args)
        .output()
        .expect("kube-apiserver runs")
}

fn one_line_error(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "must fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "one line, got: {err}");
    assert!(err.starts_with("kube-apiserver: "), "{err}");
    err
}

#[test]
fn bad_flags_exit_with_one_line() {
    let err = one_line_error(&apiserver(&[
        "--etcd-servers=http://127.0.0.1:1",
        "--secure-port=notaport",
    ]));
    assert!(err.contains("--secure-port"), "{err}");
    let err = one_line_error(&apiserver(&["--etcd-servers=127.0.0.1:2379"]));
    assert!(err.contains("--etcd-servers"), "{err}");
    let err = one_line_error(&apiserver(&["--no-such-flag"]));
    assert!(err.contains("--no-such-flag"), "{err}");
    let err = one_line_error(&apiserver(&[
        "--etcd-servers=http://127.0.0.1:1",
        "--etcd-compaction-interval=5x",
    ]));
    assert!(err.contains("--etcd-compaction-interval"), "{err}");
}

/// A child process killed by its PID when dropped, also when the test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_etcd(dir: &std::path::Path, client_port: u16, peer_port: u16) -> Killed {
    let client = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    let log = std::fs::File::create(dir.join("etcd.log")).unwrap();
    Killed(
        Command::new("etcd")
            .arg("--name=test")
            .arg(format!("--data-dir={}", dir.join("etcd").display()))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=test={peer}"))
            .arg("--log-level=error")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("etcd runs (Debian's etcd-server package)"),
    )
}

/// Polls `path` until `done` accepts the answer; the last answer otherwise.
async fn poll(
    client: &Loopback,
    path: &str,
    within: Duration,
    done: impl Fn(&apiserver::bootstrap::loopback::Response) -> bool,
) -> Result<apiserver::bootstrap::loopback::Response, String> {
    let deadline = Instant::now() + within;
    let mut last = Err("no answer yet".to_string());
    while Instant::now() < deadline {
        last = client.get(path).await;
        if last.as_ref().is_ok_and(&done) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{path}: not as expected within {within:?}; last: {last:?}"
    ))
}

#[tokio::test]
async fn started_before_etcd_it_serves_at_once_and_becomes_ready_when_etcd_comes() {
    let dir = tempfile::tempdir().unwrap();
    let (etcd_port, peer_port, port) = (free_port(), free_port(), free_port());
    let log = std::fs::File::create(dir.path().join("apiserver.log")).unwrap();
    let _apiserver = Killed(
        Command::new(env!("CARGO_BIN_EXE_kube-apiserver"))
            .arg(format!("--etcd-servers=http://127.0.0.1:{etcd_port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--secure-port={port}"))
            .arg(format!("--cert-dir={}", dir.path().join("certs").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let client = Loopback::new(SocketAddr::from(([127, 0, 0, 1], port)), "anonymous".into());

    // Without etcd it answers at once: alive but failing its etcd check, in upstream's form.
    let livez = poll(&client, "/livez?verbose", Duration::from_secs(30), |r| {
        r.code == 500
    })
    .await
    .unwrap();
    let body = livez.body.as_str().unwrap_or_default().to_string();
    assert!(
        body.starts_with("[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n"),
        "{body}"
    );
    assert!(body.ends_with("livez check failed\n"), "{body}");
    let etcd = client.get("/readyz/etcd").await.unwrap();
    assert_eq!(etcd.code, 500);
    // Requests for objects get upstream's "storage is (re)initializing", to be retried.
    let early = client.get("/api/v1/namespaces/default").await.unwrap();
    assert_eq!(early.code, 429, "{early:?}");
    assert_eq!(early.body["message"], "storage is (re)initializing");
    assert_eq!(early.body["details"]["retryAfterSeconds"], 1);
    assert_eq!(early.headers["retry-after"], "1");

    // etcd comes seconds later, on the port the apiserver was told.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _etcd = start_etcd(dir.path(), etcd_port, peer_port);
    let ready = poll(&client, "/readyz?verbose", Duration::from_secs(60), |r| {
        r.code == 200
    })
    .await
    .unwrap();
    let body = ready.body.as_str().unwrap_or_default().to_string();
    assert!(body.contains("[+]etcd ok\n"), "{body}");
    assert!(body.ends_with("readyz check passed\n"), "{body}");
    let ns = client.get("/api/v1/namespaces/default").await.unwrap();
    assert_eq!(ns.code, 200, "{ns:?}");
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "after-etcd"}, "data": {"k": "v"}});
    let created = client
        .post("/api/v1/namespaces/default/configmaps", &cm)
        .await
        .unwrap();
    assert_eq!(created.code, 201, "{created:?}");
}
