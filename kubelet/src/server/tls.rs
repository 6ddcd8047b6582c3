//! The kubelet's serving certificate and TLS: `--tls-cert-file`/`--tls-private-key-file`, or
//! else a self-signed pair for the node in `<root-dir>/pki/kubelet.{crt,key}` (reused when
//! present, as upstream, made by `client::serving`); client certificates checked against
//! `--client-ca-file`.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context as _;
use openssl::nid::Nid;
use openssl::ssl::{Ssl, SslAcceptor, SslRef, SslVerifyMode};
use openssl::x509::{X509VerifyResult, X509};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use super::{Caller, ServerOptions};

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The files the server presents.
#[derive(Clone, Debug, PartialEq)]
pub struct ServingCert {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// The serving pair: the flags' files, or the self-signed pair in `<root-dir>/pki` (a CA and
/// a certificate for the node's name and addresses, `client::serving`'s, as upstream makes
/// it), made on first start and reused afterwards so clients that pinned it keep trusting it.
pub fn load_or_generate_serving_cert(opts: &ServerOptions) -> anyhow::Result<ServingCert> {
    match (&opts.tls_cert_file, &opts.tls_private_key_file) {
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!("--tls-cert-file and --tls-private-key-file must be given together")
        }
        _ => {}
    }
    let host = if opts.node_name.is_empty() {
        "localhost"
    } else {
        opts.node_name.as_str()
    };
    let (cert_file, key_file) = client::serving::ensure_serving_cert(
        opts.tls_cert_file.as_deref(),
        opts.tls_private_key_file.as_deref(),
        &opts.root_dir.join("pki"),
        "kubelet",
        &[host],
        &opts.node_ips,
    )?;
    Ok(ServingCert {
        cert_file,
        key_file,
    })
}

/// The TLS acceptor: the serving pair, HTTP/1.1, and when a client CA is given, a request for
/// a client certificate. The handshake never fails over the client's certificate: the
/// request is refused with upstream's 401 instead, after `caller` has looked at it.
pub fn acceptor(cert: &ServingCert, client_ca: Option<&Path>) -> anyhow::Result<SslAcceptor> {
    let mut b = client::serving::acceptor(&cert.cert_file, &cert.key_file).with_context(|| {
        format!(
            "loading {} and {}",
            cert.cert_file.display(),
            cert.key_file.display()
        )
    })?;
    b.set_alpn_select_callback(|_, client| {
        openssl::ssl::select_next_proto(b"\x08http/1.1", client)
            .ok_or(openssl::ssl::AlpnError::NOACK)
    });
    if let Some(ca) = client_ca {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        let certs = X509::stack_from_pem(&pem)
            .with_context(|| format!("no certificate in {}", ca.display()))?;
        if certs.is_empty() {
            anyhow::bail!("no certificate in {}", ca.display());
        }
        b.set_ca_file(ca)
            .with_context(|| format!("loading {}", ca.display()))?;
        let mut names = openssl::stack::Stack::new()?;
        for c in &certs {
            names.push(c.subject_name().to_owned()?)?;
        }
        b.set_client_ca_list(names);
        b.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
    }
    Ok(b.build())
}

/// The server side of a TLS handshake, bounded in time.
pub async fn handshake(
    acceptor: &SslAcceptor,
    tcp: TcpStream,
) -> anyhow::Result<SslStream<TcpStream>> {
    let ssl = Ssl::new(acceptor.context())?;
    let mut stream = SslStream::new(ssl, tcp)?;
    tokio::time::timeout(HANDSHAKE_TIMEOUT, Pin::new(&mut stream).accept())
        .await
        .map_err(|_| anyhow::anyhow!("TLS handshake timeout"))??;
    Ok(stream)
}

/// Who the handshake says is calling: the common name of a client certificate that chains to
/// the client CA, or anonymous.
pub fn caller(ssl: &SslRef) -> Caller {
    let Some(cert) = ssl.peer_certificate() else {
        return Caller::Anonymous;
    };
    let result = ssl.verify_result();
    if result != X509VerifyResult::OK {
        return Caller::BadCertificate(format!("verifying certificate: {}", result.error_string()));
    }
    let cn = cert
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_default();
    Caller::User(cn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_pair_is_written_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let opts = ServerOptions {
            root_dir: dir.path().to_path_buf(),
            node_name: "node-a".into(),
            node_ips: vec!["10.0.0.2".parse().unwrap()],
            ..Default::default()
        };
        let pair = load_or_generate_serving_cert(&opts).unwrap();
        assert_eq!(pair.cert_file, dir.path().join("pki/kubelet.crt"));
        assert_eq!(pair.key_file, dir.path().join("pki/kubelet.key"));
        let first = std::fs::read(&pair.cert_file).unwrap();
        let cert = X509::from_pem(&first).unwrap();
        let sans: Vec<String> = cert
            .subject_alt_names()
            .unwrap()
            .iter()
            .map(|n| {
                n.dnsname()
                    .map(String::from)
                    .or_else(|| n.ipaddress().map(|ip| format!("{ip:?}")))
                    .unwrap()
            })
            .collect();
        assert!(sans.contains(&"node-a".to_string()), "{sans:?}");
        assert!(sans.contains(&"[10, 0, 0, 2]".to_string()), "{sans:?}");
        let cn = cert
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .unwrap()
            .data()
            .to_string()
            .unwrap();
        assert!(cn.starts_with("node-a@"), "{cn}");
        // A second start reuses the pair rather than minting a new one.
        load_or_generate_serving_cert(&opts).unwrap();
        assert_eq!(std::fs::read(&pair.cert_file).unwrap(), first);
        // And the pair is usable.
        acceptor(&pair, None).unwrap();
    }

    #[test]
    fn half_a_pair_is_an_error() {
        let opts = ServerOptions {
            tls_cert_file: Some("/x.crt".into()),
            ..Default::default()
        };
        let err = load_or_generate_serving_cert(&opts)
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be given together"), "{err}");
    }
}
