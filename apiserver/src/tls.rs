//! The serving certificate: the files given with `--tls-cert-file`/`--tls-private-key-file`,
//! or, as upstream does, a self-signed CA and serving certificate made once in `--cert-dir`
//! (`apiserver.crt` holds the serving certificate followed by its CA, `apiserver.key` the key);
//! and the client side of kubelet connections (`KubeletTls`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::ssl::{SslAcceptorBuilder, SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("{flag}: loading {path}: {source}")]
    Load {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: openssl::error::ErrorStack,
    },
    #[error("{flag}: {path} holds no PEM certificate")]
    NoCertificate { flag: &'static str, path: PathBuf },
    #[error("{flag}: reading {path}: {source}")]
    Read {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Making or loading the serving certificate (`client::serving`).
    #[error(transparent)]
    Serving(#[from] client::serving::Error),
}

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
    Ok(client::serving::ensure_serving_cert(
        cert_file,
        key_file,
        cert_dir,
        "apiserver",
        &names,
        &ips,
    )?)
}

/// An acceptor serving `cert` (with its chain) and `key`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<SslAcceptorBuilder, TlsError> {
    Ok(client::serving::acceptor(cert, key)?)
}

/// How the apiserver connects to kubelets, as upstream's `KubeletClientConfig`: it presents
/// `--kubelet-client-certificate`/`--kubelet-client-key` when given, and verifies the kubelet's
/// serving certificate (chain and the address dialled) against `--kubelet-certificate-authority`
/// when given, else not at all (upstream's default).
pub struct KubeletTls {
    verifying: SslConnector,
    insecure: SslConnector,
    verifies: bool,
}

impl KubeletTls {
    /// Loads the files (the flags' values); an error names the flag and the file.
    pub fn new(
        client_cert: Option<&Path>,
        client_key: Option<&Path>,
        ca: Option<&Path>,
    ) -> Result<Self, TlsError> {
        Ok(KubeletTls {
            verifying: kubelet_connector(client_cert, client_key, ca)?,
            insecure: kubelet_connector(client_cert, client_key, None)?,
            verifies: ca.is_some(),
        })
    }

    /// The connector for a kubelet, and whether the peer's name must be checked: with
    /// `skip_verify` (pods/log's `insecureSkipTLSVerifyBackend`) the serving certificate is
    /// not verified even with a certificate authority.
    pub fn connector(&self, skip_verify: bool) -> (&SslConnector, bool) {
        if self.verifies && !skip_verify {
            (&self.verifying, true)
        } else {
            (&self.insecure, false)
        }
    }
}

fn kubelet_connector(
    client_cert: Option<&Path>,
    client_key: Option<&Path>,
    ca: Option<&Path>,
) -> Result<SslConnector, TlsError> {
    fn load<'a>(
        flag: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(openssl::error::ErrorStack) -> TlsError + 'a {
        move |source| TlsError::Load {
            flag,
            path: path.to_path_buf(),
            source,
        }
    }
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    if let (Some(cert), Some(key)) = (client_cert, client_key) {
        b.set_certificate_chain_file(cert)
            .map_err(load("--kubelet-client-certificate", cert))?;
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(load("--kubelet-client-key", key))?;
        b.check_private_key()
            .map_err(load("--kubelet-client-key", key))?;
    }
    match ca {
        Some(ca) => {
            // Only this authority, not the system's, as upstream's RootCAs.
            let flag = "--kubelet-certificate-authority";
            let pem = std::fs::read(ca).map_err(|source| TlsError::Read {
                flag,
                path: ca.to_path_buf(),
                source,
            })?;
            let certs = X509::stack_from_pem(&pem).map_err(load(flag, ca))?;
            if certs.is_empty() {
                return Err(TlsError::NoCertificate {
                    flag,
                    path: ca.to_path_buf(),
                });
            }
            let mut store = X509StoreBuilder::new()?;
            for c in certs {
                store.add_cert(c).map_err(load(flag, ca))?;
            }
            b.set_cert_store(store.build());
            b.set_verify(SslVerifyMode::PEER);
        }
        None => b.set_verify(SslVerifyMode::NONE),
    }
    b.set_alpn_protos(b"\x08http/1.1")?;
    Ok(b.build())
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
