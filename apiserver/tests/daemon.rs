//! The kube-apiserver binary as an operator meets it: bad flags exit with one clear line and
//! a non-zero status before anything starts; an unreachable etcd is reported, not a hang.

use std::process::Command;
use std::time::{Duration, Instant};

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

#[test]
fn unreachable_etcd_is_reported_not_hung() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = apiserver(&[
        &format!("--etcd-servers=http://127.0.0.1:{port}"),
        "--bind-address=127.0.0.1",
        "--secure-port=0",
        &format!("--cert-dir={}", dir.path().display()),
    ]);
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("etcd"), "{err}");
}
