//! The kubelet's serving certificate and TLS: `--tls-cert-file`/`--tls-private-key-file`, or
//! else a self-signed pair for the node in `<root-dir>/pki/kubelet.{crt,key}` (reused when
//! present, as upstream); client certificates checked against `--client-ca-file`.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context as _;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslRef, SslVerifyMode};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509Name, X509VerifyResult, X509};
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

/// The serving pair: the flags' files, or the self-signed pair in `<root-dir>/pki`, made on
/// first start and reused afterwards (so clients that pinned it keep trusting it).
pub fn load_or_generate_serving_cert(opts: &ServerOptions) -> anyhow::Result<ServingCert> {
    match (&opts.tls_cert_file, &opts.tls_private_key_file) {
        (Some(cert), Some(key)) => {
            return Ok(ServingCert {
                cert_file: cert.clone(),
                key_file: key.clone(),
            })
        }
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!("--tls-cert-file and --tls-private-key-file must be given together")
        }
        (None, None) => {}
    }
    let dir = opts.root_dir.join("pki");
    let pair = ServingCert {
        cert_file: dir.join("kubelet.crt"),
        key_file: dir.join("kubelet.key"),
    };
    if pair.cert_file.exists() && pair.key_file.exists() {
        return Ok(pair);
    }
    let host = if opts.node_name.is_empty() {
        "localhost"
    } else {
        opts.node_name.as_str()
    };
    let (cert, key) = self_signed(host, &opts.node_ips)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    write_private(&pair.key_file, &key)?;
    std::fs::write(&pair.cert_file, cert)
        .with_context(|| format!("writing {}", pair.cert_file.display()))?;
    tracing::info!(cert = %pair.cert_file.display(), "generated a self-signed serving certificate");
    Ok(pair)
}

fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(data)
        .with_context(|| format!("writing {}", path.display()))
}

/// A self-signed certificate (PEM) and its RSA key (PEM) for `host` and `ips`, valid a year,
/// named `<host>@<unix time>` as upstream names its own.
pub fn self_signed(host: &str, ips: &[std::net::IpAddr]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut name = X509Name::builder()?;
    name.append_entry_by_nid(Nid::COMMONNAME, &format!("{host}@{now}"))?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(63, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    // Valid from an hour ago, so a node whose clock is a little behind still accepts it.
    let not_before = Asn1Time::from_unix(now as i64 - 3600)?;
    let not_after = Asn1Time::days_from_now(365)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .key_cert_sign()
            .build()?,
    )?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    match host.parse::<std::net::IpAddr>() {
        Ok(_) => san.ip(host),
        Err(_) => san.dns(host),
    };
    for ip in ips {
        san.ip(&ip.to_string());
    }
    let san = san.build(&b.x509v3_context(None, None))?;
    b.append_extension(san)?;
    b.sign(&key, MessageDigest::sha256())?;
    Ok((b.build().to_pem()?, key.private_key_to_pem_pkcs8()?))
}

/// The TLS acceptor: the serving pair, HTTP/1.1, and when a client CA is given, a request for
/// a client certificate. The handshake never fails over the client's certificate: the
/// request is refused with upstream's 401 instead, after `caller` has looked at it.
pub fn acceptor(cert: &ServingCert, client_ca: Option<&Path>) -> anyhow::Result<SslAcceptor> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_certificate_chain_file(&cert.cert_file)
        .with_context(|| format!("loading {}", cert.cert_file.display()))?;
    b.set_private_key_file(&cert.key_file, openssl::ssl::SslFiletype::PEM)
        .with_context(|| format!("loading {}", cert.key_file.display()))?;
    b.check_private_key().with_context(|| {
        format!(
            "{} does not match {}",
            cert.key_file.display(),
            cert.cert_file.display()
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
        assert_eq!(
            sans,
            vec!["node-a".to_string(), "[10, 0, 0, 2]".to_string()]
        );
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
