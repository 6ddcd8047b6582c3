//! What the end-to-end tests of our kubectl share: running a kubectl binary against a test
//! cluster and capturing what it printed.
#![allow(dead_code)] // Each test file uses its own part.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use e2e::TestCluster;

#[derive(Debug, PartialEq)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

pub fn run_bin(bin: &Path, kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut child = Command::new(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env(
            "HOME",
            kubeconfig.parent().expect("kubeconfig has a directory"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kubectl");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin piped")
            .write_all(input.as_bytes())
            .expect("writing stdin");
    }
    let out = child.wait_with_output().expect("waiting for kubectl");
    Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl"))
}

pub fn kubectl(c: &TestCluster, args: &[&str]) -> Out {
    run_bin(&ours(), &c.kubeconfig, args, None)
}

pub fn kubectl_in(c: &TestCluster, args: &[&str], stdin: &str) -> Out {
    run_bin(&ours(), &c.kubeconfig, args, Some(stdin))
}

pub fn ok(c: &TestCluster, args: &[&str]) -> String {
    let o = kubectl(c, args);
    assert_eq!(
        o.code, 0,
        "kubectl {args:?} failed: {}{}",
        o.stdout, o.stderr
    );
    o.stdout
}

/// Runs ours and requires exit code 1, returning stderr.
pub fn fails(c: &TestCluster, args: &[&str]) -> String {
    let o = kubectl(c, args);
    assert_eq!(o.code, 1, "kubectl {args:?} should fail: {}", o.stdout);
    o.stderr
}
