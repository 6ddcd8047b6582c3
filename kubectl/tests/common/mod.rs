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

/// A self-signed RSA certificate and its PKCS#8 key, both PEM.
pub fn self_signed(cn: &str) -> (Vec<u8>, Vec<u8>) {
    use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (
        b.build().to_pem().unwrap(),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
}
