//! Serving certificates for the daemons' HTTPS endpoints (`/healthz`, `/metrics` on 10257,
//! 10259, 10250): the files given by flags, or, as upstream does without them, a self-signed
//! CA and a serving certificate for the given names made once in a folder and reused.

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
pub enum Error {
    #[error("tls: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `cert_file`/`key_file` when both are given; else `<dir>/<stem>.crt` and `.key`, made
/// (self-signed, for `dns_names` and `ips` plus localhost) when they do not exist yet.
pub fn ensure_serving_cert(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    dir: &Path,
    stem: &str,
    dns_names: &[&str],
    ips: &[std::net::IpAddr],
) -> Result<(PathBuf, PathBuf), Error> {
    if let (Some(c), Some(k)) = (cert_file, key_file) {
        return Ok((c.to_path_buf(), k.to_path_buf()));
    }
    let cert = dir.join(format!("{stem}.crt"));
    let key = dir.join(format!("{stem}.key"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let (cert_pem, key_pem) = self_signed(dns_names, ips)?;
    let write = |path: &Path, data: &[u8]| {
        std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(path, data))
            .map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })
    };
    write(&key, &key_pem)?;
    // The private key is for this daemon only, as upstream writes it (0600).
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| Error::Write {
                path: key.clone(),
                source,
            },
        )?;
    }
    write(&cert, &cert_pem)?;
    Ok((cert, key))
}

fn new_key() -> Result<PKey<Private>, Error> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

fn serial() -> Result<openssl::asn1::Asn1Integer, Error> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    Ok(bn.to_asn1_integer()?)
}

fn name(cn: &str) -> Result<openssl::x509::X509Name, Error> {
    let mut b = X509NameBuilder::new()?;
    b.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(b.build())
}

/// A CA valid for a year and a serving certificate it signed; PEM of the chain and the key.
pub fn self_signed(
    dns_names: &[&str],
    ips: &[std::net::IpAddr],
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let first = dns_names.first().copied().unwrap_or("localhost");
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ca_key = new_key()?;
    let ca_name = name(&format!("{first}-ca@{stamp}"))?;
    let mut ca = X509::builder()?;
    ca.set_version(2)?;
    ca.set_serial_number(&*serial()?)?;
    ca.set_subject_name(&ca_name)?;
    ca.set_issuer_name(&ca_name)?;
    ca.set_pubkey(&ca_key)?;
    ca.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    ca.set_not_after(&*Asn1Time::days_from_now(365)?)?;
    ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    ca.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .digital_signature()
            .build()?,
    )?;
    ca.sign(&ca_key, MessageDigest::sha256())?;
    let ca = ca.build();

    let key = new_key()?;
    let mut leaf = X509::builder()?;
    leaf.set_version(2)?;
    leaf.set_serial_number(&*serial()?)?;
    leaf.set_subject_name(&*name(&format!("{first}@{stamp}"))?)?;
    leaf.set_issuer_name(ca.subject_name())?;
    leaf.set_pubkey(&key)?;
    leaf.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    leaf.set_not_after(&*Asn1Time::days_from_now(365)?)?;
    leaf.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    leaf.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    san.dns("localhost");
    for dns in dns_names {
        san.dns(dns);
    }
    san.ip("127.0.0.1");
    for ip in ips {
        san.ip(&ip.to_string());
    }
    let san = san.build(&leaf.x509v3_context(Some(&ca), None))?;
    leaf.append_extension(san)?;
    leaf.sign(&ca_key, MessageDigest::sha256())?;
    let leaf = leaf.build();
    let mut chain = leaf.to_pem()?;
    chain.extend(ca.to_pem()?);
    Ok((chain, key.private_key_to_pem_pkcs8()?))
}

/// An acceptor serving `cert` (with its chain) and `key`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<SslAcceptorBuilder, Error> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    builder.set_certificate_chain_file(cert)?;
    builder.set_private_key_file(key, SslFiletype::PEM)?;
    builder.check_private_key()?;
    Ok(builder)
}

/// An acceptor serving a certificate chain and key held in memory (PEM), for daemons that
/// make a self-signed certificate at start-up without writing it anywhere.
pub fn acceptor_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<SslAcceptorBuilder, Error> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    let mut certs = X509::stack_from_pem(chain_pem)?.into_iter();
    if let Some(leaf) = certs.next() {
        builder.set_certificate(&leaf)?;
    }
    for extra in certs {
        builder.add_extra_chain_cert(extra)?;
    }
    builder.set_private_key(&*PKey::private_key_from_pem(key_pem)?)?;
    builder.check_private_key()?;
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let ip: std::net::IpAddr = "10.0.0.7".parse().unwrap();
        let (c, k) = ensure_serving_cert(None, None, dir.path(), "x", &["node-1"], &[ip]).unwrap();
        let first = std::fs::read(&c).unwrap();
        let again = ensure_serving_cert(None, None, dir.path(), "x", &["node-1"], &[ip]).unwrap();
        assert_eq!(again, (c.clone(), k.clone()));
        assert_eq!(std::fs::read(&c).unwrap(), first);
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leaf = X509::from_pem(&first).unwrap();
        let names: Vec<String> = leaf
            .subject_alt_names()
            .unwrap()
            .iter()
            .filter_map(|n| {
                n.dnsname()
                    .map(str::to_string)
                    .or(n.ipaddress().map(|b| format!("{b:?}")))
            })
            .collect();
        assert!(names.contains(&"node-1".to_string()), "{names:?}");
        assert!(acceptor(&c, &k).is_ok());
        let (chain, key) = self_signed(&["x"], &[]).unwrap();
        assert!(acceptor_from_pem(&chain, &key).is_ok());
    }
}
