//! `kubectl create namespace|deployment|configmap|secret generic|serviceaccount`: objects built
//! from flags in upstream's shapes (and key order, which `-o json` shows), then created with
//! JSON bodies, or only printed with `--dry-run=client`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::path::Path;

use anyhow::bail;
use base64::Engine as _;
use http::Method;
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::discovery::ResourceType;
use crate::output::Format;
use crate::printers;

#[derive(clap::Subcommand, Debug)]
pub enum Generator {
    /// Create a namespace with the specified name.
    #[command(visible_alias = "ns")]
    Namespace(NamespaceArgs),
    /// Create a deployment with the specified name.
    #[command(visible_alias = "deploy")]
    Deployment(DeploymentArgs),
    /// Create a config map from a local file, directory or literal value.
    #[command(name = "configmap", visible_alias = "cm")]
    ConfigMap(ConfigMapArgs),
    /// Create a secret using a specified subcommand.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Create a service account with the specified name.
    #[command(name = "serviceaccount", visible_alias = "sa")]
    ServiceAccount(ServiceAccountArgs),
}

#[derive(clap::Subcommand, Debug)]
pub enum SecretCommand {
    /// Create a secret from a local file, directory, or literal value.
    Generic(SecretArgs),
    /// Create a secret for use with a Docker registry.
    DockerRegistry(DockerRegistryArgs),
    /// Create a TLS secret.
    Tls(TlsArgs),
}

#[derive(clap::Args, Debug)]
pub struct DockerRegistryArgs {
    /// NAME
    pub names: Vec<String>,
    /// Server location for Docker registry.
    #[arg(long, default_value = "https://index.docker.io/v1/")]
    pub docker_server: String,
    /// Username for Docker registry authentication.
    #[arg(long)]
    pub docker_username: Option<String>,
    /// Password for Docker registry authentication.
    #[arg(long)]
    pub docker_password: Option<String>,
    /// Email for Docker registry.
    #[arg(long, default_value = "")]
    pub docker_email: String,
    /// Key files (`[key=]path`), e.g. `.dockerconfigjson=path/to/config.json`.
    #[arg(long = "from-file")]
    pub from_file: Vec<String>,
    /// Append a hash of the secret to its name.
    #[arg(long)]
    pub append_hash: bool,
    #[command(flatten)]
    pub common: CommonFlags,
}

#[derive(clap::Args, Debug)]
pub struct TlsArgs {
    /// NAME
    pub names: Vec<String>,
    /// Path to PEM encoded public key certificate.
    #[arg(long)]
    pub cert: Option<String>,
    /// Path to private key associated with given certificate.
    #[arg(long)]
    pub key: Option<String>,
    /// Append a hash of the secret to its name.
    #[arg(long)]
    pub append_hash: bool,
    #[command(flatten)]
    pub common: CommonFlags,
}

/// The flags every generator takes.
#[derive(clap::Args, Debug)]
pub struct CommonFlags {
    /// Output format: json, yaml, name, jsonpath=..., jsonpath-file=...
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long, default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: String,
    /// Save the configuration in the last-applied-configuration annotation.
    #[arg(long)]
    pub save_config: bool,
    /// Schema validation (accepted for compatibility; the server validates).
    #[arg(long, default_value = "strict", num_args = 0..=1, require_equals = true, default_missing_value = "strict")]
    pub validate: String,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-create")]
    pub field_manager: String,
}

#[derive(clap::Args, Debug)]
pub struct NamespaceArgs {
    /// NAME
    pub names: Vec<String>,
    #[command(flatten)]
    pub common: CommonFlags,
}

#[derive(clap::Args, Debug)]
pub struct ServiceAccountArgs {
    /// NAME
    pub names: Vec<String>,
    #[command(flatten)]
    pub common: CommonFlags,
}

#[derive(clap::Args, Debug)]
pub struct DeploymentArgs {
    /// NAME
    pub names: Vec<String>,
    /// Image names to run. A deployment can have multiple images set for multi-container pod.
    #[arg(long = "image")]
    pub images: Vec<String>,
    /// Number of replicas to create. Default is 1.
    #[arg(short = 'r', long, default_value_t = 1, allow_negative_numbers = true)]
    pub replicas: i32,
    /// The containerPort that this deployment exposes.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub port: i32,
    /// COMMAND [args...] after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
    #[command(flatten)]
    pub common: CommonFlags,
}

/// Where a config map's or secret's data comes from.
#[derive(clap::Args, Debug)]
pub struct DataSources {
    /// Key files: a file (key = its basename, or `key=path`) or a directory (one key per file).
    #[arg(long = "from-file")]
    pub from_file: Vec<String>,
    /// A key and literal value to insert (i.e. mykey=somevalue).
    #[arg(long = "from-literal")]
    pub from_literal: Vec<String>,
    /// Path to a file to read lines of key=val pairs from.
    #[arg(long = "from-env-file")]
    pub from_env_file: Vec<String>,
    /// Append a hash of the data to the name.
    #[arg(long)]
    pub append_hash: bool,
}

#[derive(clap::Args, Debug)]
pub struct ConfigMapArgs {
    /// NAME
    pub names: Vec<String>,
    #[command(flatten)]
    pub sources: DataSources,
    #[command(flatten)]
    pub common: CommonFlags,
}

#[derive(clap::Args, Debug)]
pub struct SecretArgs {
    /// NAME
    pub names: Vec<String>,
    /// The type of secret to create.
    #[arg(long = "type")]
    pub type_: Option<String>,
    #[command(flatten)]
    pub sources: DataSources,
    #[command(flatten)]
    pub common: CommonFlags,
}

/// A generator's input errors, worded as upstream's.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("exactly one NAME is required, got {got}\nSee 'kubectl create {command} -h' for help and examples")]
    OneName { got: usize, command: &'static str },
    #[error("required flag(s) \"image\" not set")]
    NoImage,
    #[error("cannot specify multiple --image options and command")]
    ImagesAndCommand,
    #[error("unable to match a printer suitable for the output format \"{0}\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml")]
    Output(String),
    #[error("from-env-file cannot be combined with from-file or from-literal")]
    EnvFileCombined,
    #[error("invalid literal source {0}, expected key=value")]
    Literal(String),
    #[error("key name for file path {0} missing")]
    MissingKey(String),
    #[error("file path for key name {0} missing")]
    MissingPath(String),
    #[error("cannot give a key name for a directory path")]
    KeyForDirectory,
    #[error("error reading {0}: no such file or directory")]
    NoSuchFile(String),
    #[error("error reading {0}: {1}")]
    Read(String, std::io::Error),
    #[error("env config file cannot be a directory")]
    EnvFileIsDirectory,
    #[error("{0:?} is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')")]
    EnvKey(String),
    #[error("{key:?} is not a valid key name for a ConfigMap: {CONFIG_KEY_RULE}")]
    ConfigMapKey { key: String },
    #[error("{key:?} is not valid key name for a Secret {CONFIG_KEY_RULE}")]
    SecretKey { key: String },
    #[error("cannot add key {key:?}, another key by that name already exists in {field} for ConfigMap {name:?}")]
    ConfigMapDuplicate {
        key: String,
        field: &'static str,
        name: String,
    },
    #[error("cannot add key {0}, another key by that name already exists")]
    SecretDuplicate(String),
    #[error("either --from-file or the combination of --docker-username, --docker-password and --docker-server is required")]
    DockerCredentials,
    #[error("key and cert must be specified")]
    TlsFiles,
    #[error("Cannot read file {path}, open {path}: {reason}")]
    TlsRead { path: String, reason: String },
    #[error("{0}")]
    TlsPair(&'static str),
}

const CONFIG_KEY_RULE: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// How a generated object is sent, and what is said when the server refuses it.
struct Plan {
    object: Value,
    resource: ResourceType,
    common: CommonFlags,
    /// Upstream wraps some generators' server errors: `failed to create deployment: ...`.
    error_prefix: Option<&'static str>,
}

pub async fn run(ctx: &mut Ctx, g: Generator) -> anyhow::Result<()> {
    let explicit_ns = ctx.explicit_namespace.then(|| ctx.namespace.clone());
    let plan = match g {
        Generator::Namespace(a) => Plan {
            object: namespace(one_name(&a.names, "namespace")?),
            resource: builtin("v1", "Namespace"),
            common: a.common,
            error_prefix: None,
        },
        Generator::ServiceAccount(a) => Plan {
            object: service_account(
                one_name(&a.names, "serviceaccount")?,
                explicit_ns.as_deref(),
            ),
            resource: builtin("v1", "ServiceAccount"),
            common: a.common,
            error_prefix: None,
        },
        Generator::Deployment(a) => Plan {
            object: deployment(
                if a.images.is_empty() {
                    return Err(GenerateError::NoImage.into());
                } else {
                    one_name(&a.names, "deployment")?
                },
                explicit_ns.as_deref(),
                &a.images,
                a.replicas,
                a.port,
                &a.command,
            )?,
            resource: builtin("apps/v1", "Deployment"),
            common: a.common,
            error_prefix: Some("failed to create deployment: "),
        },
        Generator::ConfigMap(a) => Plan {
            object: config_map(
                one_name(&a.names, "configmap")?,
                explicit_ns.as_deref(),
                &a.sources,
            )?,
            resource: builtin("v1", "ConfigMap"),
            common: a.common,
            error_prefix: Some("failed to create configmap: "),
        },
        Generator::Secret(SecretCommand::DockerRegistry(a)) => secret_plan(
            docker_registry_secret(
                one_name(&a.names, "secret docker-registry")?,
                explicit_ns.as_deref(),
                &a,
            )?,
            a.common,
        ),
        Generator::Secret(SecretCommand::Tls(a)) => secret_plan(
            tls_secret(
                one_name(&a.names, "secret tls")?,
                explicit_ns.as_deref(),
                &a,
            )?,
            a.common,
        ),
        Generator::Secret(SecretCommand::Generic(a)) => secret_plan(
            secret(
                one_name(&a.names, "secret generic")?,
                explicit_ns.as_deref(),
                a.type_.as_deref().unwrap_or(""),
                &a.sources,
            )?,
            a.common,
        ),
    };
    send(ctx, plan).await
}

fn secret_plan(object: Value, common: CommonFlags) -> Plan {
    Plan {
        object,
        resource: builtin("v1", "Secret"),
        common,
        error_prefix: Some("failed to create secret "),
    }
}

fn one_name<'a>(names: &'a [String], command: &'static str) -> Result<&'a str, GenerateError> {
    match names {
        [name] => Ok(name),
        _ => Err(GenerateError::OneName {
            got: names.len(),
            command,
        }),
    }
}

/// A built-in resource from the api-types table; generators know their kinds, and a client
/// dry run must not need the server.
fn builtin(api_version: &str, kind: &str) -> ResourceType {
    let (group, version) = api_types::resources::split_api_version(api_version);
    let info = api_types::resources::find_by_kind(group, version, kind)
        .expect("generators only make built-in kinds");
    ResourceType::from_table(info)
}

/// The `-o` formats `create` takes.
fn create_format(o: Option<&str>) -> anyhow::Result<Option<Format>> {
    let Some(o) = o.filter(|o| !o.is_empty()) else {
        return Ok(None);
    };
    match Format::parse(Some(o))? {
        Format::Table { .. } | Format::CustomColumns(_) => {
            Err(GenerateError::Output(o.to_string()).into())
        }
        f => Ok(Some(f)),
    }
}

async fn send(ctx: &mut Ctx, plan: Plan) -> anyhow::Result<()> {
    let Plan {
        mut object,
        resource,
        common,
        error_prefix,
    } = plan;
    let format = create_format(common.output.as_deref())?;
    let (dry, dry_q) = super::create::dry_run_query(&common.dry_run)?;
    if common.save_config {
        set_last_applied_in_order(&mut object)?;
    }
    if dry && dry_q.is_empty() {
        let name = object["metadata"]["name"].as_str().unwrap_or("");
        match &format {
            None => println!("{}/{name} created (dry run)", resource.kind_prefix()),
            Some(Format::Json) => print!("{}", printers::to_json_in_order(&object)),
            Some(f) => print!(
                "{}",
                crate::output::print_objects(f, vec![object], true, false)?
            ),
        }
        return Ok(());
    }
    let ns = super::ns_for(&resource, &ctx.namespace);
    let mut path = format!(
        "{}?fieldManager={}",
        resource.collection_path(ns),
        crate::rest::encode(&common.field_manager)
    );
    if !dry_q.is_empty() {
        path = format!("{path}&{dry_q}");
    }
    let created = match ctx
        .rest
        .send_json(Method::POST, &path, "application/json", &object)
        .await
    {
        Ok(v) => v,
        Err(e) => match error_prefix {
            Some(p) => bail!("{p}{}", e.message()),
            None => return Err(e.into()),
        },
    };
    let suffix = if dry { " (server dry run)" } else { "" };
    super::create::print_result(&format, &resource, &created, "created", suffix)
}

/// `metadata` in ObjectMeta's field order: name, namespace, creationTimestamp, labels.
fn metadata(name: &str, namespace: Option<&str>, labels: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    if let Some(ns) = namespace {
        m.insert("namespace".into(), ns.into());
    }
    m.insert("creationTimestamp".into(), Value::Null);
    if let Some(l) = labels {
        m.insert("labels".into(), l);
    }
    Value::Object(m)
}

/// `kind` then `apiVersion`, as Go's TypeMeta prints them.
fn typed(kind: &str, api_version: &str, meta: Value) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("kind".into(), kind.into());
    o.insert("apiVersion".into(), api_version.into());
    o.insert("metadata".into(), meta);
    o
}

pub fn namespace(name: &str) -> Value {
    let mut o = typed("Namespace", "v1", metadata(name, None, None));
    o.insert("spec".into(), json!({}));
    o.insert("status".into(), json!({}));
    Value::Object(o)
}

pub fn service_account(name: &str, namespace: Option<&str>) -> Value {
    Value::Object(typed(
        "ServiceAccount",
        "v1",
        metadata(name, namespace, None),
    ))
}

pub fn deployment(
    name: &str,
    namespace: Option<&str>,
    images: &[String],
    replicas: i32,
    port: i32,
    command: &[String],
) -> Result<Value, GenerateError> {
    if images.len() > 1 && !command.is_empty() {
        return Err(GenerateError::ImagesAndCommand);
    }
    let labels = json!({"app": name});
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let mut c = Map::new();
            c.insert("name".into(), container_name(image).into());
            c.insert("image".into(), image.as_str().into());
            if !command.is_empty() {
                c.insert("command".into(), json!(command));
            }
            if i == 0 && port >= 0 {
                c.insert("ports".into(), json!([{"containerPort": port}]));
            }
            c.insert("resources".into(), json!({}));
            Value::Object(c)
        })
        .collect();
    let mut o = typed(
        "Deployment",
        "apps/v1",
        metadata(name, namespace, Some(labels.clone())),
    );
    o.insert(
        "spec".into(),
        json!({
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": labels},
                "spec": {"containers": containers},
            },
            "strategy": {},
        }),
    );
    o.insert("status".into(), json!({}));
    Ok(Value::Object(o))
}

/// A container's name from its image: the last path element without tag or digest; names
/// with `_` or `.` get dashes and a random suffix so they stay valid and distinct.
pub fn container_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let name = last.split(':').next().unwrap_or(last);
    let name = name.split('@').next().unwrap_or(name);
    if name.contains(['_', '.']) {
        format!("{}-{}", name.replace(['_', '.'], "-"), random_suffix(5))
    } else {
        name.to_string()
    }
}

/// Lowercase letters and digits without vowels or look-alikes, as upstream's random names.
fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut bits = h.finish();
    (0..n)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
            bits /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Keys and values read from the sources, in the order read.
#[derive(Default, Debug)]
struct Collected {
    entries: Vec<(String, Vec<u8>)>,
}

/// Which object the keys go to; key rules and messages differ.
#[derive(Clone, Copy)]
enum Target<'a> {
    ConfigMap(&'a str),
    Secret,
}

impl Collected {
    fn add(&mut self, target: Target, key: &str, value: Vec<u8>) -> Result<(), GenerateError> {
        if !valid_config_key(key) {
            return Err(match target {
                Target::ConfigMap(_) => GenerateError::ConfigMapKey { key: key.into() },
                Target::Secret => GenerateError::SecretKey { key: key.into() },
            });
        }
        if let Some((_, existing)) = self.entries.iter().find(|(k, _)| k == key) {
            return Err(match target {
                Target::ConfigMap(name) => GenerateError::ConfigMapDuplicate {
                    key: key.into(),
                    field: if std::str::from_utf8(existing).is_ok() {
                        "Data"
                    } else {
                        "BinaryData"
                    },
                    name: name.into(),
                },
                Target::Secret => GenerateError::SecretDuplicate(key.into()),
            });
        }
        self.entries.push((key.to_string(), value));
        Ok(())
    }
}

fn valid_config_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        && key != "."
        && key != ".."
        && !key.starts_with("..")
}

fn valid_env_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b"-._".contains(&b) => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

fn read_file(path: &str) -> Result<Vec<u8>, GenerateError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => GenerateError::NoSuchFile(path.to_string()),
        _ => GenerateError::Read(path.to_string(), e),
    })
}

/// Reads `--from-file`, `--from-literal` and `--from-env-file` in upstream's order.
fn collect(target: Target, s: &DataSources) -> Result<Collected, GenerateError> {
    if !s.from_env_file.is_empty() && (!s.from_file.is_empty() || !s.from_literal.is_empty()) {
        return Err(GenerateError::EnvFileCombined);
    }
    let mut out = Collected::default();
    for source in &s.from_file {
        let (key, path) = match source.split_once('=') {
            Some(("", path)) => return Err(GenerateError::MissingKey(path.to_string())),
            Some((key, "")) => return Err(GenerateError::MissingPath(key.to_string())),
            Some((key, path)) => (Some(key), path),
            None => (None, source.as_str()),
        };
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => GenerateError::NoSuchFile(path.to_string()),
            _ => GenerateError::Read(path.to_string(), e),
        })?;
        if meta.is_dir() {
            if key.is_some() {
                return Err(GenerateError::KeyForDirectory);
            }
            let mut files: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(path)
                .map_err(|e| GenerateError::Read(path.to_string(), e))?
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect();
            files.sort();
            for (name, p) in files {
                let value = read_file(&p.to_string_lossy())?;
                out.add(target, &name, value)?;
            }
        } else {
            let key = match key {
                Some(k) => k.to_string(),
                None => Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            let value = read_file(path)?;
            out.add(target, &key, value)?;
        }
    }
    for literal in &s.from_literal {
        match literal.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                out.add(target, key, value.as_bytes().to_vec())?
            }
            _ => return Err(GenerateError::Literal(literal.clone())),
        }
    }
    for path in &s.from_env_file {
        if Path::new(path).is_dir() {
            return Err(GenerateError::EnvFileIsDirectory);
        }
        let bytes = read_file(path)?;
        for (key, value) in parse_env_file(&String::from_utf8_lossy(&bytes))? {
            out.add(target, &key, value.into_bytes())?;
        }
    }
    Ok(out)
}

/// `KEY=value` lines; blank lines and `#` comments skipped, leading spaces dropped, a bare
/// `KEY` takes its value from the environment.
fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, GenerateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, v.to_string()),
            None => (line, std::env::var(line).unwrap_or_default()),
        };
        if !valid_env_name(key) {
            return Err(GenerateError::EnvKey(key.to_string()));
        }
        out.push((key.to_string(), value));
    }
    Ok(out)
}

pub fn config_map(
    name: &str,
    namespace: Option<&str>,
    sources: &DataSources,
) -> Result<Value, GenerateError> {
    let collected = collect(Target::ConfigMap(name), sources)?;
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in collected.entries {
        match String::from_utf8(v) {
            Ok(s) => {
                data.insert(k, s.into());
            }
            Err(e) => {
                binary.insert(k, base64_of(e.as_bytes()).into());
            }
        }
    }
    let data = printers::sorted(&Value::Object(data));
    let binary = printers::sorted(&Value::Object(binary));
    let name = if sources.append_hash {
        let mut h = Map::new();
        h.insert("kind".into(), "ConfigMap".into());
        h.insert("name".into(), name.into());
        h.insert("data".into(), data.clone());
        if binary.as_object().is_some_and(|b| !b.is_empty()) {
            h.insert("binaryData".into(), binary.clone());
        }
        format!("{name}-{}", content_hash(&Value::Object(h)))
    } else {
        name.to_string()
    };
    let mut o = typed("ConfigMap", "v1", metadata(&name, namespace, None));
    if data.as_object().is_some_and(|d| !d.is_empty()) {
        o.insert("data".into(), data);
    }
    if binary.as_object().is_some_and(|d| !d.is_empty()) {
        o.insert("binaryData".into(), binary);
    }
    Ok(Value::Object(o))
}

pub fn secret(
    name: &str,
    namespace: Option<&str>,
    type_: &str,
    sources: &DataSources,
) -> Result<Value, GenerateError> {
    let collected = collect(Target::Secret, sources)?;
    let mut data = Map::new();
    for (k, v) in collected.entries {
        data.insert(k, base64_of(&v).into());
    }
    let data = printers::sorted(&Value::Object(data));
    let name = if sources.append_hash {
        let h = json!({"kind": "Secret", "name": name, "data": data, "type": type_});
        format!("{name}-{}", content_hash(&h))
    } else {
        name.to_string()
    };
    let mut o = typed("Secret", "v1", metadata(&name, namespace, None));
    if data.as_object().is_some_and(|d| !d.is_empty()) {
        o.insert("data".into(), data);
    }
    if !type_.is_empty() {
        o.insert("type".into(), type_.into());
    }
    Ok(Value::Object(o))
}

/// `create secret docker-registry`: a `.dockerconfigjson` from the flags (or `--from-file`).
pub fn docker_registry_secret(
    name: &str,
    namespace: Option<&str>,
    a: &DockerRegistryArgs,
) -> Result<Value, GenerateError> {
    let mut sources = DataSources {
        from_file: a.from_file.clone(),
        from_literal: Vec::new(),
        from_env_file: Vec::new(),
        append_hash: a.append_hash,
    };
    if a.from_file.is_empty() {
        let (Some(user), Some(password)) = (&a.docker_username, &a.docker_password) else {
            return Err(GenerateError::DockerCredentials);
        };
        // Go's struct order: username, password, email (omitted when empty), auth.
        let mut entry = Map::new();
        entry.insert("username".into(), user.as_str().into());
        entry.insert("password".into(), password.as_str().into());
        if !a.docker_email.is_empty() {
            entry.insert("email".into(), a.docker_email.as_str().into());
        }
        entry.insert(
            "auth".into(),
            base64_of(format!("{user}:{password}").as_bytes()).into(),
        );
        let config = json!({"auths": {a.docker_server.as_str(): entry}});
        sources.from_literal = vec![format!(".dockerconfigjson={}", go_json(&config))];
    }
    secret(name, namespace, "kubernetes.io/dockerconfigjson", &sources)
}

/// `create secret tls`: the certificate and key files, checked to be a matching pair, as a
/// secret with the keys `tls.crt` and `tls.key`.
pub fn tls_secret(
    name: &str,
    namespace: Option<&str>,
    a: &TlsArgs,
) -> Result<Value, GenerateError> {
    let (Some(cert), Some(key)) = (&a.cert, &a.key) else {
        return Err(GenerateError::TlsFiles);
    };
    let read = |path: &str| {
        std::fs::read(path).map_err(|e| GenerateError::TlsRead {
            path: path.to_string(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".into(),
                _ => e.to_string(),
            },
        })
    };
    let (cert_pem, key_pem) = (read(cert)?, read(key)?);
    // Go's tls.X509KeyPair checks, with its words.
    let x509 = openssl::x509::X509::from_pem(&cert_pem).map_err(|_| {
        GenerateError::TlsPair("tls: failed to find any PEM data in certificate input")
    })?;
    let pkey = openssl::pkey::PKey::private_key_from_pem(&key_pem)
        .map_err(|_| GenerateError::TlsPair("tls: failed to find any PEM data in key input"))?;
    let public = x509
        .public_key()
        .map_err(|_| GenerateError::TlsPair("tls: failed to parse certificate"))?;
    if public.id() != pkey.id() {
        return Err(GenerateError::TlsPair(
            "tls: private key type does not match public key type",
        ));
    }
    if !public.public_eq(&pkey) {
        return Err(GenerateError::TlsPair(
            "tls: private key does not match public key",
        ));
    }
    let sources = DataSources {
        from_file: vec![format!("tls.crt={cert}"), format!("tls.key={key}")],
        from_literal: Vec::new(),
        from_env_file: Vec::new(),
        append_hash: a.append_hash,
    };
    secret(name, namespace, "kubernetes.io/tls", &sources)
}

/// Compact JSON with Go's HTML escaping, as `json.Marshal` writes it.
fn go_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `--append-hash`: the SHA-256 of the object's compact JSON (keys sorted, HTML characters
/// escaped as Go does), ten hex digits with the ones that could spell words swapped out.
pub fn content_hash(v: &Value) -> String {
    let text = go_json(&printers::sorted(v));
    let digest = openssl::sha::sha256(text.as_bytes());
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(10)
        .map(|n| match n {
            0 => 'g',
            1 => 'h',
            3 => 'k',
            0xa => 'm',
            0xe => 't',
            n => char::from_digit(u32::from(n), 16).unwrap_or('x'),
        })
        .collect()
}

/// `--save-config` for a generated object: the annotation holds the object's compact JSON
/// in its own key order, and goes after the labels as ObjectMeta orders its fields.
fn set_last_applied_in_order(obj: &mut Value) -> anyhow::Result<()> {
    let text = serde_json::to_string(obj)? + "\n";
    let meta = obj
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow::anyhow!("object has no metadata"))?;
    meta.insert(
        "annotations".into(),
        json!({ crate::apply::LAST_APPLIED: text }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[&str], literals: &[&str], env: &[&str]) -> DataSources {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        DataSources {
            from_file: v(files),
            from_literal: v(literals),
            from_env_file: v(env),
            append_hash: false,
        }
    }

    #[test]
    fn deployments_have_upstreams_shape_and_key_order() {
        let d = deployment("x", None, &["nginx".into()], 1, -1, &[]).unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"x","creationTimestamp":null,"labels":{"app":"x"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"x"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}},"strategy":{}},"status":{}}"#
        );
        let d = deployment(
            "x",
            Some("ns"),
            &["busybox:1.36".into()],
            3,
            80,
            &["sleep".into(), "10".into()],
        )
        .unwrap();
        assert_eq!(d["metadata"]["namespace"], "ns");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "busybox", "image": "busybox:1.36", "command": ["sleep", "10"], "ports": [{"containerPort": 80}], "resources": {}})
        );
        assert!(matches!(
            deployment("x", None, &["a".into(), "b".into()], 1, -1, &["c".into()]),
            Err(GenerateError::ImagesAndCommand)
        ));
    }

    #[test]
    fn container_names_come_from_images() {
        assert_eq!(container_name("nginx:1.2"), "nginx");
        assert_eq!(container_name("docker.io/foo/bar@sha256:abc"), "bar");
        assert_eq!(container_name("localhost:5000/foo"), "foo");
        let n = container_name("my_img.x:1");
        assert!(
            n.starts_with("my-img-x-") && n.len() == "my-img-x-".len() + 5,
            "{n}"
        );
    }

    #[test]
    fn hashes_match_upstreams() {
        // Names upstream 1.33 printed for the same data with --append-hash.
        let cm = config_map("c", None, &{
            let mut s = sources(&[], &["a=b"], &[]);
            s.append_hash = true;
            s
        })
        .unwrap();
        assert_eq!(cm["metadata"]["name"], "c-m4h6ctkgb2");
        let empty = config_map("c", None, &{
            let mut s = sources(&[], &[], &[]);
            s.append_hash = true;
            s
        })
        .unwrap();
        assert_eq!(empty["metadata"]["name"], "c-94b26g54cg");
        let s = secret("s", None, "foo", &{
            let mut s = sources(&[], &["a=b"], &[]);
            s.append_hash = true;
            s
        })
        .unwrap();
        assert_eq!(s["metadata"]["name"], "s-76gkfd766k");
    }

    #[test]
    fn env_files_parse_like_upstreams() {
        let path = std::env::var("PATH").unwrap_or_default();
        let got = parse_env_file("\u{feff}# c\nFOO=bar\nPATH\nQ= spaced \n\n  R=1\nE=\n").unwrap();
        let want: Vec<(String, String)> = [
            ("FOO", "bar"),
            ("PATH", path.as_str()),
            ("Q", " spaced "),
            ("R", "1"),
            ("E", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            parse_env_file("export X=1\n").unwrap_err().to_string(),
            "\"export X\" is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
        );
    }

    #[test]
    fn bad_sources_read_like_upstream() {
        let err = |s: DataSources| config_map("c", None, &s).unwrap_err().to_string();
        assert_eq!(
            err(sources(&[], &["a=1", "a=2"], &[])),
            "cannot add key \"a\", another key by that name already exists in Data for ConfigMap \"c\""
        );
        assert_eq!(
            err(sources(&[], &["a"], &[])),
            "invalid literal source a, expected key=value"
        );
        assert_eq!(
            err(sources(&[], &["=v"], &[])),
            "invalid literal source =v, expected key=value"
        );
        assert_eq!(
            err(sources(&["=p"], &[], &[])),
            "key name for file path p missing"
        );
        assert_eq!(
            err(sources(&["k="], &[], &[])),
            "file path for key name k missing"
        );
        assert_eq!(
            err(sources(&["/nonexistent-kubectl-test"], &[], &[])),
            "error reading /nonexistent-kubectl-test: no such file or directory"
        );
        assert_eq!(
            err(sources(&["x"], &[], &["e"])),
            "from-env-file cannot be combined with from-file or from-literal"
        );
        let s = secret("s", None, "", &sources(&[], &["b@d=1"], &[]));
        assert_eq!(
            s.unwrap_err().to_string(),
            format!("\"b@d\" is not valid key name for a Secret {CONFIG_KEY_RULE}")
        );
    }

    #[test]
    fn files_and_directories_become_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.txt"), "a\nb\n").unwrap();
        std::fs::write(dir.path().join("bin.dat"), b"bin\x00\xff").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        let cm = config_map("c", None, &sources(&[&d], &["z=1"], &[])).unwrap();
        assert_eq!(cm["data"], json!({"one.txt": "a\nb\n", "z": "1"}));
        assert_eq!(cm["binaryData"], json!({"bin.dat": "YmluAP8="}));
        let s = secret(
            "s",
            None,
            "Opaque",
            &sources(&[&format!("k={d}/one.txt")], &[], &[]),
        )
        .unwrap();
        assert_eq!(s["data"], json!({"k": "YQpiCg=="}));
        assert_eq!(s["type"], "Opaque");
        assert!(matches!(
            config_map("c", None, &sources(&[&format!("k={d}")], &[], &[])),
            Err(GenerateError::KeyForDirectory)
        ));
    }
}
