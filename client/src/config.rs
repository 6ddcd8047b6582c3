//! Building a `kube::Client`: from a kubeconfig (explicit path, `$KUBECONFIG`, `~/.kube/config`)
//! with an optional context override, from the in-cluster service account, or from a server
//! URL plus CA bundle plus bearer token as daemons are often given on the command line.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Errors building a client configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading kubeconfig {path}: {source}")]
    ReadKubeconfig {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("loading kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    #[error("no kubeconfig and no in-cluster configuration: {0}")]
    Infer(#[from] kube::config::InferConfigError),
    #[error("invalid server url {url:?}: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("reading ca file {path}: {source}")]
    ReadCa {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing ca file {path}: {source}")]
    ParseCa {
        path: PathBuf,
        #[source]
        source: openssl::error::ErrorStack,
    },
    #[error("ca file {0} holds no certificate")]
    EmptyCa(PathBuf),
    #[error("reading token file {path}: {source}")]
    ReadToken {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("building client: {0}")]
    Client(#[from] kube::Error),
}

/// Loads a client configuration.
///
/// With `path`, that kubeconfig file alone is read. Without it, `$KUBECONFIG` (a list of
/// files, merged as kubectl merges them) or else `~/.kube/config` is read, and when there is no
/// kubeconfig at all the in-cluster service account configuration is used. `context`
/// overrides the kubeconfig's current context.
pub async fn load_config(path: Option<&Path>, context: Option<&str>) -> Result<Config, Error> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    if let Some(path) = path {
        let kubeconfig = Kubeconfig::read_from(path).map_err(|source| Error::ReadKubeconfig {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(Config::from_custom_kubeconfig(kubeconfig, &options).await?);
    }
    if context.is_some() {
        // A context only means something in a kubeconfig, so do not silently fall back to
        // the in-cluster configuration when it cannot be loaded.
        return Ok(Config::from_kubeconfig(&options).await?);
    }
    Ok(Config::infer().await?)
}

/// A client from a kubeconfig; see [`load_config`] for where the configuration comes from.
pub async fn client_from_kubeconfig(
    path: Option<&Path>,
    context: Option<&str>,
) -> Result<Client, Error> {
    let config = load_config(path, context).await?;
    Ok(Client::try_from(config)?)
}

/// How a daemon authenticates when it is given a server URL directly.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// No credential (anonymous).
    #[default]
    None,
    /// A bearer token.
    Token(String),
    /// A file holding a bearer token, re-read by kube as it is rotated.
    TokenFile(PathBuf),
}

/// A configuration for `url`, trusting the PEM certificates in `ca_file` (or the system's roots
/// when `None`) and authenticating with `credentials`.
pub fn config_from_parts(
    url: &str,
    ca_file: Option<&Path>,
    credentials: Credentials,
) -> Result<Config, Error> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| Error::InvalidUrl {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    if uri.scheme().is_none() || uri.host().is_none() {
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            message: "expected scheme://host[:port]".to_string(),
        });
    }
    let mut config = Config::new(uri);
    if let Some(ca_file) = ca_file {
        config.root_cert = Some(read_ca_bundle(ca_file)?);
    }
    match credentials {
        Credentials::None => {}
        Credentials::Token(token) => {
            config.auth_info.token = Some(secrecy::SecretString::from(token));
        }
        Credentials::TokenFile(path) => {
            // Fail early on an unreadable file; kube reads it again on every refresh.
            std::fs::read_to_string(&path).map_err(|source| Error::ReadToken {
                path: path.clone(),
                source,
            })?;
            config.auth_info.token_file = Some(path.display().to_string());
        }
    }
    Ok(config)
}

/// A client for `url`; see [`config_from_parts`].
pub fn client_from_parts(
    url: &str,
    ca_file: Option<&Path>,
    credentials: Credentials,
) -> Result<Client, Error> {
    Ok(Client::try_from(config_from_parts(
        url,
        ca_file,
        credentials,
    )?)?)
}

/// Reads a PEM bundle into the DER certificates kube's `Config::root_cert` wants.
pub fn read_ca_bundle(path: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let pem = std::fs::read(path).map_err(|source| Error::ReadCa {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_err = |source| Error::ParseCa {
        path: path.to_path_buf(),
        source,
    };
    let certs = openssl::x509::X509::stack_from_pem(&pem).map_err(parse_err)?;
    if certs.is_empty() {
        return Err(Error::EmptyCa(path.to_path_buf()));
    }
    certs
        .iter()
        .map(|c| c.to_der().map_err(parse_err))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CONTEXTS: &str = "apiVersion: v1
kind: Config
clusters:
- name: one
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
- name: two
  cluster:
    server: https://127.0.0.2:7443
users:
- name: u
  user:
    token: secret-token
contexts:
- name: first
  context: {cluster: one, user: u, namespace: team-a}
- name: second
  context: {cluster: two, user: u}
current-context: first
";

    fn self_signed_pem() -> Vec<u8> {
        use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "test-ca").unwrap();
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
        b.build().to_pem().unwrap()
    }

    #[tokio::test]
    async fn explicit_kubeconfig_uses_current_context_or_the_override() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, TWO_CONTEXTS).unwrap();

        let c = load_config(Some(&path), None).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(c.default_namespace, "team-a");
        assert!(c.accept_invalid_certs);

        let c = load_config(Some(&path), Some("second")).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.2:7443/");
        assert_eq!(c.default_namespace, "default");
        assert!(!c.accept_invalid_certs);

        assert!(load_config(Some(&path), Some("third")).await.is_err());
        let missing = dir.path().join("nope");
        let err = load_config(Some(&missing), None).await.unwrap_err();
        assert!(err.to_string().starts_with("reading kubeconfig "), "{err}");
        // Building the client itself needs no connection.
        client_from_kubeconfig(Some(&path), None).await.unwrap();
    }

    #[tokio::test]
    async fn url_ca_and_token_make_a_config() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.crt");
        let pem = self_signed_pem();
        // A bundle of two certificates yields two roots.
        std::fs::write(&ca, [pem.clone(), pem].concat()).unwrap();
        let c = config_from_parts(
            "https://127.0.0.1:6443",
            Some(&ca),
            Credentials::Token("t0k3n".into()),
        )
        .unwrap();
        assert_eq!(c.root_cert.as_ref().map(Vec::len), Some(2));
        assert!(c.auth_info.token.is_some());
        client_from_parts("https://127.0.0.1:6443", Some(&ca), Credentials::None).unwrap();

        let token = dir.path().join("token");
        std::fs::write(&token, "abc").unwrap();
        let c = config_from_parts(
            "https://127.0.0.1:6443",
            None,
            Credentials::TokenFile(token),
        )
        .unwrap();
        assert!(c.auth_info.token_file.is_some());
        assert!(c.root_cert.is_none());
    }

    #[test]
    fn bad_inputs_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.crt");
        std::fs::write(&empty, "").unwrap();
        let err = config_from_parts("https://h:1", Some(&empty), Credentials::None).unwrap_err();
        assert!(
            matches!(err, Error::EmptyCa(_) | Error::ParseCa { .. }),
            "{err}"
        );
        let err = config_from_parts("not a url", None, Credentials::None).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
        let err = config_from_parts("/just/a/path", None, Credentials::None).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
        let err = config_from_parts(
            "https://h:1",
            None,
            Credentials::TokenFile(dir.path().join("missing")),
        )
        .unwrap_err();
        assert!(matches!(err, Error::ReadToken { .. }), "{err}");
    }
}
