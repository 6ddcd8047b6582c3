//! The kube-scheduler binary refuses bad flags and configuration with one clear line before
//! connecting to anything.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kube-scheduler"))
        .args(args)
        .output()
        .expect("kube-scheduler runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_flags_and_configs_exit_with_one_line() {
    let (code, err) = run(&["--no-such-flag"]);
    assert_ne!(code, 0);
    assert!(err.contains("--no-such-flag"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.yaml");
    let (code, err) = run(&["--config", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("failed to read config file"), "{err}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 101\n",
    )
    .unwrap();
    let (code, err) = run(&["--config", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("percentageOfNodesToScore: Invalid value: 101"),
        "{err}"
    );
}
