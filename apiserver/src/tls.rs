//! The serving certificate: the files given with `--tls-cert-file`/`--tls-private-key-file`,
//! or, as upstream does, a self-signed CA and serving certificate made once in `--cert-dir`
//! (`apiserver.crt` holds the serving certificate followed by its CA, `apiserver.key` the key).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509NameBuilder, X509};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The certificate and key files to serve with, made in `cert_dir` when not given.
pub fn ensure_serving_cert(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    cert_dir: &Path,
    bind: IpAddr,
) -> Result<(PathBuf, PathBuf), TlsError> {
    if let (Some(c), Some(k)) = (cert_file, key_file) {
        return Ok((c.to_path_buf(), k.to_path_buf()));
    }
    let cert = cert_dir.join("apiserver.crt");
    let key = cert_dir.join("apiserver.key");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let write = |path: &Path, data: &[u8]| {
        std::fs::create_dir_all(cert_dir)
            .and_then(|_| std::fs::write(path, data))
            .map_err(|source| TlsError::Write {
                path: path.to_path_buf(),
                source,
            })
    };
    let (cert_pem, key_pem) = self_signed(bind)?;
    write(&key, &key_pem)?;
    write(&cert, &cert_pem)?;
    Ok((cert, key))
}

fn new_key() -> Result<PKey<Private>, TlsError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

fn serial() -> Result<openssl::asn1::Asn1Integer, TlsError> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    Ok(bn.to_asn1_integer()?)
}

/// A CA valid for a year and a serving certificate it signed for loopback, the bind address,
/// the host name and the in-cluster names of the `kubernetes` Service.
fn self_signed(bind: IpAddr) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string());
    let stamp = jiff::Timestamp::now().as_second();

    let ca_key = new_key()?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, &format!("{host}-ca@{stamp}"))?;
    let ca_name = name.build();
    let mut ca = X509::builder()?;
    ca.set_version(2)?;
    let sn = serial()?;
    ca.set_serial_number(&sn)?;
    ca.set_subject_name(&ca_name)?;
    ca.set_issuer_name(&ca_name)?;
    ca.set_pubkey(&ca_key)?;
    let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(365)?);
    ca.set_not_before(&from)?;
    ca.set_not_after(&until)?;
    ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    ca.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    ca.sign(&ca_key, MessageDigest::sha256())?;
    let ca = ca.build();

    let key = new_key()?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, &format!("{host}@{stamp}"))?;
    let name = name.build();
    let mut leaf = X509::builder()?;
    leaf.set_version(2)?;
    let sn = serial()?;
    leaf.set_serial_number(&sn)?;
    leaf.set_subject_name(&name)?;
    leaf.set_issuer_name(ca.subject_name())?;
    leaf.set_pubkey(&key)?;
    let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(365)?);
    leaf.set_not_before(&from)?;
    leaf.set_not_after(&until)?;
    leaf.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    leaf.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    for dns in [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        host.as_str(),
    ] {
        san.dns(dns);
    }
    san.ip("127.0.0.1").ip("::1");
    if !bind.is_unspecified() && !bind.is_loopback() {
        san.ip(&bind.to_string());
    }
    let san = san.build(&leaf.x509v3_context(Some(&ca), None))?;
    leaf.append_extension(san)?;
    leaf.sign(&ca_key, MessageDigest::sha256())?;
    let leaf = leaf.build();

    let mut chain = leaf.to_pem()?;
    chain.extend(ca.to_pem()?);
    Ok((chain, key.private_key_to_pem_pkcs8()?))
}

/// An acceptor serving `cert` (with its chain) and `key`, offering HTTP/2 and HTTP/1.1.
pub fn acceptor(cert: &Path, key: &Path) -> Result<SslAcceptorBuilder, TlsError> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    builder.set_certificate_chain_file(cert)?;
    builder.set_private_key_file(key, SslFiletype::PEM)?;
    builder.check_private_key()?;
    Ok(builder)
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
