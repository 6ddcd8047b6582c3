//! The serving certificate: the files given with `--tls-cert-file`/`--tls-private-key-file`,
//! or, as upstream does, a self-signed CA and serving certificate made once in `--cert-dir`
//! (`apiserver.crt` holds the serving certificate followed by its CA, `apiserver.key` the key).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::ssl::SslAcceptorBuilder;
#[cfg(test)]
use openssl::x509::X509;

pub use client::serving::Error as TlsError;

/// The certificate and key files to serve with, made in `cert_dir` when not given: a CA and a
/// serving certificate for loopback, the bind address, the host name and the in-cluster
/// names of the `kubernetes` Service.
pub fn ensure_serving_cert(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    cert_dir: &Path,
    bind: IpAddr,
) -> Result<(PathBuf, PathBuf), TlsError> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string());
    let names = [
        host.as_str(),
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ];
    let mut ips = vec![IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])];
    if !bind.is_unspecified() && !bind.is_loopback() {
        ips.push(bind);
    }
    client::serving::ensure_serving_cert(cert_file, key_file, cert_dir, "apiserver", &names, &ips)
}

/// An acceptor serving `cert` (with its chain) and `key`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<SslAcceptorBuilder, TlsError> {
    client::serving::acceptor(cert, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_chain_verifies_and_names_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) =
            ensure_serving_cert(None, None, dir.path(), "0.0.0.0".parse().unwrap()).unwrap();
        let pems = X509::stack_from_pem(&std::fs::read(&cert).unwrap()).unwrap();
        assert_eq!(pems.len(), 2);
        assert!(pems[0].verify(&pems[1].public_key().unwrap()).unwrap());
        let sans: Vec<String> = pems[0]
            .subject_alt_names()
            .unwrap()
            .iter()
            .filter_map(|n| n.ipaddress().map(|ip| format!("{ip:?}")))
            .collect();
        assert!(sans.iter().any(|s| s.contains("127, 0, 0, 1")), "{sans:?}");
        assert!(acceptor(&cert, &key).is_ok());
        // A second call reuses the files rather than making new ones.
        let before = std::fs::read(&cert).unwrap();
        ensure_serving_cert(None, None, dir.path(), "0.0.0.0".parse().unwrap()).unwrap();
        assert_eq!(before, std::fs::read(&cert).unwrap());
    }
}
