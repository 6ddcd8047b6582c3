//! The kubelet's command line (upstream's flag names and defaults) and its `--config`
//! KubeletConfiguration file (kubelet.config.k8s.io/v1beta1, YAML or JSON), merged into one
//! validated [`Config`] before anything starts: flags given on the command line win over the
//! file, as upstream's.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use api_types::quantity::Quantity;
use k8s_openapi::api::core::v1::Taint;

/// Errors in flags or the configuration file; each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read kubelet config file {path:?}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to decode kubelet config file {path:?}: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}

/// The kubelet's flags. Values left unset fall back to the `--config` file, then to
/// upstream's defaults.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(name = "kubelet", about = "The Kubernetes node agent", version)]
pub struct Options {
    /// Path to a kubeconfig file, specifying how to connect to the API server. Without it the
    /// kubelet runs standalone (static pods only).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The Kubelet will load its initial configuration from this file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The endpoint of the remote runtime service.
    #[arg(long)]
    pub container_runtime_endpoint: Option<String>,
    /// Directory path for managing kubelet files (volume mounts, etc).
    #[arg(long, default_value = "/var/lib/kubelet")]
    pub root_dir: PathBuf,
    /// Path to the directory containing static pod files to run.
    #[arg(long)]
    pub pod_manifest_path: Option<PathBuf>,
    /// If non-empty, will use this string as identification instead of the actual hostname.
    #[arg(long)]
    pub hostname_override: Option<String>,
    /// IP address of the node. If set, kubelet will use this IP address for the node.
    #[arg(long)]
    pub node_ip: Option<IpAddr>,
    /// The IP address for the Kubelet to serve on.
    #[arg(long)]
    pub address: Option<IpAddr>,
    /// The port for the Kubelet to serve on.
    #[arg(long)]
    pub port: Option<u16>,
    /// The IP address for the healthz server to serve on.
    #[arg(long)]
    pub healthz_bind_address: Option<IpAddr>,
    /// The port of the localhost healthz endpoint (set to 0 to disable).
    #[arg(long)]
    pub healthz_port: Option<u16>,
    /// File containing x509 Certificate used for serving HTTPS.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// File containing x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// If set, any request presenting a client certificate signed by one of the authorities
    /// in the client-ca-file is authenticated.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// Enables anonymous requests to the Kubelet server.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub anonymous_auth: Option<bool>,
    /// Labels to add when registering the node in the cluster (key=value pairs, comma separated).
    #[arg(long)]
    pub node_labels: Option<String>,
    /// Register the node with the given list of taints (`<key>=<value>:<effect>`, comma separated).
    #[arg(long)]
    pub register_with_taints: Option<String>,
    /// Register the node with the apiserver.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub register_node: Option<bool>,
    /// Driver that the kubelet uses to manipulate cgroups on the host (cgroupfs or systemd).
    #[arg(long)]
    pub cgroup_driver: Option<String>,
    /// Optional root cgroup to use for pods.
    #[arg(long)]
    pub cgroup_root: Option<String>,
    /// Number of Pods that can run on this Kubelet.
    #[arg(long)]
    pub max_pods: Option<u32>,
    /// The CIDR to use for pod IP addresses.
    #[arg(long)]
    pub pod_cidr: Option<String>,
    /// Resources reserved for kubernetes system components (`cpu=200m,memory=500Mi`).
    #[arg(long)]
    pub kube_reserved: Option<String>,
    /// Resources reserved for non-kubernetes components (`cpu=200m,memory=500Mi`).
    #[arg(long)]
    pub system_reserved: Option<String>,
    /// Comma-separated list of DNS server IP addresses.
    #[arg(long)]
    pub cluster_dns: Option<String>,
    /// Domain for this cluster.
    #[arg(long)]
    pub cluster_domain: Option<String>,
    /// Resolver configuration file used as the basis for the container DNS resolution.
    #[arg(long)]
    pub resolv_conf: Option<PathBuf>,
    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub v: u8,
}

/// The KubeletConfiguration file, as far as this kubelet uses it. Unknown fields are
/// reported as warnings, as upstream's lenient decoding does.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfiguration {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub healthz_bind_address: Option<String>,
    pub healthz_port: Option<u16>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_private_key_file: Option<PathBuf>,
    pub authentication: Option<Authentication>,
    pub static_pod_path: Option<PathBuf>,
    pub cgroup_driver: Option<String>,
    pub cgroup_root: Option<String>,
    pub max_pods: Option<u32>,
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Option<String>,
    pub pod_logs_dir: Option<PathBuf>,
    #[serde(rename = "clusterDNS")]
    pub cluster_dns: Option<Vec<String>>,
    pub cluster_domain: Option<String>,
    pub resolv_conf: Option<PathBuf>,
    pub register_node: Option<bool>,
    pub register_with_taints: Option<Vec<Taint>>,
    pub kube_reserved: Option<BTreeMap<String, String>>,
    pub system_reserved: Option<BTreeMap<String, String>>,
    pub container_runtime_endpoint: Option<String>,
    pub node_status_update_frequency: Option<String>,
    pub sync_frequency: Option<String>,
    pub file_check_frequency: Option<String>,
    pub node_lease_duration_seconds: Option<i32>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authentication {
    pub x509: Option<X509>,
    pub anonymous: Option<Anonymous>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509 {
    #[serde(rename = "clientCAFile")]
    pub client_ca_file: Option<PathBuf>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Anonymous {
    pub enabled: Option<bool>,
}

/// The cgroup driver the runtime is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupDriver {
    Cgroupfs,
    Systemd,
}

/// The kubelet's resolved, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub kubeconfig: Option<PathBuf>,
    pub container_runtime_endpoint: String,
    pub root_dir: PathBuf,
    pub pod_manifest_path: Option<PathBuf>,
    /// The Node's name (lower-cased hostname or `--hostname-override`).
    pub node_name: String,
    /// The Node's `Hostname` address: `--hostname-override`, else the machine's hostname.
    pub hostname: String,
    pub node_ip: Option<IpAddr>,
    pub address: IpAddr,
    pub port: u16,
    pub healthz_bind_address: IpAddr,
    pub healthz_port: u16,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_private_key_file: Option<PathBuf>,
    pub client_ca_file: Option<PathBuf>,
    pub anonymous_auth: bool,
    pub node_labels: BTreeMap<String, String>,
    pub register_with_taints: Vec<Taint>,
    pub register_node: bool,
    pub cgroup_driver: CgroupDriver,
    pub cgroup_root: String,
    pub max_pods: u32,
    pub pod_cidr: Option<String>,
    pub pod_logs_dir: PathBuf,
    pub cluster_dns: Vec<IpAddr>,
    pub cluster_domain: String,
    pub resolv_conf: PathBuf,
    /// kube-reserved plus system-reserved, by resource name.
    pub reserved: BTreeMap<String, Quantity>,
    pub node_status_update_frequency: Duration,
    pub sync_frequency: Duration,
    pub file_check_frequency: Duration,
    pub node_lease_duration_seconds: i32,
    pub verbosity: u8,
}

impl Options {
    /// Reads `--config`, applies the flags over it and validates the result.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => read_config_file(path)?,
            None => KubeletConfiguration::default(),
        };
        let hostname = machine_hostname();
        self.resolve_with(file, &hostname)
    }

    fn resolve_with(
        &self,
        file: KubeletConfiguration,
        hostname: &str,
    ) -> Result<Config, ConfigError> {
        let node_name = match &self.hostname_override {
            Some(h) if !h.trim().is_empty() => h.trim().to_lowercase(),
            _ => hostname.to_lowercase(),
        };
        if !is_dns_subdomain(&node_name) {
            return Err(invalid(format!(
                "node name {node_name:?} is not a valid DNS subdomain (use --hostname-override)"
            )));
        }
        let address = match (self.address, &file.address) {
            (Some(a), _) => a,
            (None, Some(a)) => parse_ip("address", a)?,
            (None, None) => IpAddr::from([0, 0, 0, 0]),
        };
        let healthz_bind_address = match (self.healthz_bind_address, &file.healthz_bind_address) {
            (Some(a), _) => a,
            (None, Some(a)) => parse_ip("healthzBindAddress", a)?,
            (None, None) => IpAddr::from([127, 0, 0, 1]),
        };
        let auth = file.authentication.unwrap_or_default();
        let cgroup_driver = match self
            .cgroup_driver
            .clone()
            .or(file.cgroup_driver)
            .as_deref()
            .unwrap_or("cgroupfs")
        {
            "cgroupfs" => CgroupDriver::Cgroupfs,
            "systemd" => CgroupDriver::Systemd,
            other => {
                return Err(invalid(format!(
                    "invalid cgroup driver {other:?}: must be \"cgroupfs\" or \"systemd\""
                )))
            }
        };
        let cgroup_root = self
            .cgroup_root
            .clone()
            .or(file.cgroup_root)
            .unwrap_or_else(|| "/".to_string());
        if !cgroup_root.starts_with('/') {
            return Err(invalid(format!(
                "invalid cgroup root {cgroup_root:?}: must be an absolute cgroup path"
            )));
        }
        let max_pods = self.max_pods.or(file.max_pods).unwrap_or(110);
        if max_pods == 0 {
            return Err(invalid("maxPods must be greater than 0"));
        }
        let pod_cidr = self
            .pod_cidr
            .clone()
            .or(file.pod_cidr)
            .filter(|c| !c.is_empty());
        if let Some(cidr) = &pod_cidr {
            parse_cidr(cidr)?;
        }
        let cluster_dns = match (&self.cluster_dns, file.cluster_dns) {
            (Some(flag), _) => split_list(flag)
                .map(|s| parse_ip("--cluster-dns", s))
                .collect::<Result<_, _>>()?,
            (None, Some(list)) => list
                .iter()
                .map(|s| parse_ip("clusterDNS", s))
                .collect::<Result<_, _>>()?,
            (None, None) => Vec::new(),
        };
        let node_labels = match &self.node_labels {
            Some(s) => parse_labels(s)?,
            None => BTreeMap::new(),
        };
        let register_with_taints = match (&self.register_with_taints, file.register_with_taints) {
            (Some(s), _) => parse_taints(s)?,
            (None, Some(t)) => {
                for taint in &t {
                    check_taint(taint)?;
                }
                t
            }
            (None, None) => Vec::new(),
        };
        let mut reserved: BTreeMap<String, Quantity> = BTreeMap::new();
        for (what, flag, map) in [
            ("--kube-reserved", &self.kube_reserved, file.kube_reserved),
            (
                "--system-reserved",
                &self.system_reserved,
                file.system_reserved,
            ),
        ] {
            let pairs = match (flag, map) {
                (Some(s), _) => parse_map(what, s)?,
                (None, Some(m)) => m,
                (None, None) => BTreeMap::new(),
            };
            for (name, value) in pairs {
                if !["cpu", "memory", "ephemeral-storage", "pid"].contains(&name.as_str()) {
                    return Err(invalid(format!("{what}: unsupported resource {name:?}")));
                }
                let q = Quantity::parse(&value)
                    .map_err(|e| invalid(format!("{what}: {name}={value:?}: {e}")))?;
                let sum = reserved.get(&name).map(|old| old.add(&q)).unwrap_or(q);
                reserved.insert(name, sum);
            }
        }
        let duration = |name: &str, v: Option<String>, default: u64| match v {
            Some(s) => parse_duration(&s).ok_or_else(|| {
                invalid(format!(
                    "{name}: invalid duration {s:?} (for example \"10s\")"
                ))
            }),
            None => Ok(Duration::from_secs(default)),
        };
        let tls_cert_file = self.tls_cert_file.clone().or(file.tls_cert_file);
        let tls_private_key_file = self
            .tls_private_key_file
            .clone()
            .or(file.tls_private_key_file);
        if tls_cert_file.is_some() != tls_private_key_file.is_some() {
            return Err(invalid(
                "--tls-cert-file and --tls-private-key-file must be given together",
            ));
        }
        let container_runtime_endpoint = self
            .container_runtime_endpoint
            .clone()
            .or(file.container_runtime_endpoint)
            .unwrap_or_else(|| "unix:///run/containerd/containerd.sock".to_string());
        crate::cri::socket_path(&container_runtime_endpoint).map_err(|e| invalid(e.to_string()))?;
        let config = Config {
            kubeconfig: self.kubeconfig.clone(),
            container_runtime_endpoint,
            root_dir: self.root_dir.clone(),
            pod_manifest_path: self
                .pod_manifest_path
                .clone()
                .or(file.static_pod_path)
                .filter(|p| !p.as_os_str().is_empty()),
            node_name,
            // Upstream's kubelet reports the overridden name as its Hostname address too.
            hostname: match &self.hostname_override {
                Some(h) if !h.trim().is_empty() => h.trim().to_lowercase(),
                _ => hostname.to_string(),
            },
            node_ip: self.node_ip,
            address,
            port: self.port.or(file.port).unwrap_or(10250),
            healthz_bind_address,
            healthz_port: self.healthz_port.or(file.healthz_port).unwrap_or(10248),
            tls_cert_file,
            tls_private_key_file,
            client_ca_file: self
                .client_ca_file
                .clone()
                .or(auth.x509.and_then(|x| x.client_ca_file)),
            anonymous_auth: self
                .anonymous_auth
                .or(auth.anonymous.and_then(|a| a.enabled))
                // The flag's default is true; a KubeletConfiguration file defaults it to false.
                .unwrap_or(self.config.is_none()),
            node_labels,
            register_with_taints,
            register_node: self.register_node.or(file.register_node).unwrap_or(true),
            cgroup_driver,
            cgroup_root,
            max_pods,
            pod_cidr,
            pod_logs_dir: file
                .pod_logs_dir
                .unwrap_or_else(|| PathBuf::from("/var/log/pods")),
            cluster_dns,
            cluster_domain: self
                .cluster_domain
                .clone()
                .or(file.cluster_domain)
                .unwrap_or_default(),
            resolv_conf: self
                .resolv_conf
                .clone()
                .or(file.resolv_conf)
                .unwrap_or_else(|| PathBuf::from("/etc/resolv.conf")),
            reserved,
            node_status_update_frequency: duration(
                "nodeStatusUpdateFrequency",
                file.node_status_update_frequency,
                10,
            )?,
            sync_frequency: duration("syncFrequency", file.sync_frequency, 60)?,
            file_check_frequency: duration("fileCheckFrequency", file.file_check_frequency, 20)?,
            node_lease_duration_seconds: file.node_lease_duration_seconds.unwrap_or(40),
            verbosity: self.v,
        };
        if !config.root_dir.is_absolute() {
            return Err(invalid(format!(
                "--root-dir {:?} must be an absolute path",
                config.root_dir
            )));
        }
        if !config.pod_logs_dir.is_absolute() {
            return Err(invalid(format!(
                "podLogsDir {:?} must be an absolute path",
                config.pod_logs_dir
            )));
        }
        if config.node_lease_duration_seconds <= 0 {
            return Err(invalid("nodeLeaseDurationSeconds must be greater than 0"));
        }
        Ok(config)
    }
}

/// Reads a KubeletConfiguration file (YAML, of which JSON is a subset).
pub fn read_config_file(path: &Path) -> Result<KubeletConfiguration, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let decode = |message: String| ConfigError::Decode {
        path: path.to_path_buf(),
        message,
    };
    let value: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| decode(e.to_string()))?;
    let mut unknown = Vec::new();
    let file: KubeletConfiguration =
        serde_ignored::deserialize(value, |p| unknown.push(p.to_string()))
            .map_err(|e: serde_yaml::Error| decode(e.to_string()))?;
    for field in unknown {
        tracing::warn!(path = %path.display(), field, "unknown field in kubelet config file");
    }
    match file.kind.as_deref() {
        Some("KubeletConfiguration") => {}
        Some(other) => {
            return Err(decode(format!(
                "kind {other:?} is not \"KubeletConfiguration\""
            )))
        }
        None => return Err(decode("Object 'Kind' is missing".to_string())),
    }
    match file.api_version.as_deref() {
        Some("kubelet.config.k8s.io/v1beta1") | Some("kubelet.config.k8s.io/v1") => {}
        other => {
            return Err(decode(format!(
                "no kind \"KubeletConfiguration\" is registered for version {:?}",
                other.unwrap_or("")
            )))
        }
    }
    Ok(file)
}

/// The machine's hostname, as the kernel reports it.
pub fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty())
}

fn parse_ip(what: &str, s: &str) -> Result<IpAddr, ConfigError> {
    s.trim()
        .parse()
        .map_err(|_| invalid(format!("{what}: invalid IP address {s:?}")))
}

fn parse_cidr(cidr: &str) -> Result<(), ConfigError> {
    let bad = || invalid(format!("invalid pod CIDR {cidr:?}"));
    let (ip, bits) = cidr.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let bits: u8 = bits.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(bad());
    }
    Ok(())
}

fn parse_map(what: &str, s: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut map = BTreeMap::new();
    for pair in split_list(s) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| invalid(format!("{what}: {pair:?} is not of the form key=value")))?;
        map.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(map)
}

/// `--node-labels`: `key=value` pairs separated by commas.
pub fn parse_labels(s: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let map = parse_map("--node-labels", s)?;
    for (k, v) in &map {
        if !is_qualified_name(k) {
            return Err(invalid(format!("--node-labels: invalid label key {k:?}")));
        }
        if !v.is_empty() && !is_label_value(v) {
            return Err(invalid(format!("--node-labels: invalid label value {v:?}")));
        }
    }
    Ok(map)
}

/// `--register-with-taints`: `key=value:Effect` or `key:Effect`, comma separated.
pub fn parse_taints(s: &str) -> Result<Vec<Taint>, ConfigError> {
    let mut taints = Vec::new();
    for spec in split_list(s) {
        let (kv, effect) = spec.rsplit_once(':').ok_or_else(|| {
            invalid(format!(
                "invalid taint spec: {spec}: expected key=value:effect or key:effect"
            ))
        })?;
        let (key, value) = match kv.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (kv, None),
        };
        let taint = Taint {
            key: key.to_string(),
            value: value.filter(|v| !v.is_empty()),
            effect: effect.to_string(),
            time_added: None,
        };
        check_taint(&taint)?;
        taints.push(taint);
    }
    Ok(taints)
}

fn check_taint(taint: &Taint) -> Result<(), ConfigError> {
    if !is_qualified_name(&taint.key) {
        return Err(invalid(format!("invalid taint key {:?}", taint.key)));
    }
    if let Some(v) = &taint.value {
        if !is_label_value(v) {
            return Err(invalid(format!("invalid taint value {v:?}")));
        }
    }
    match taint.effect.as_str() {
        "NoSchedule" | "PreferNoSchedule" | "NoExecute" => Ok(()),
        other => Err(invalid(format!(
            "invalid taint effect: {other}, unsupported taint effect"
        ))),
    }
}

/// A Go-style duration: `10s`, `1m30s`, `500ms`, `2h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += Duration::from_secs_f64(number * secs);
    }
    Some(total)
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Options {
        Options::try_parse_from(std::iter::once("kubelet").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_are_upstreams() {
        let c = parse(&[])
            .resolve_with(KubeletConfiguration::default(), "Node-1")
            .unwrap();
        assert_eq!(c.node_name, "node-1");
        assert_eq!(c.port, 10250);
        assert_eq!(c.healthz_port, 10248);
        assert_eq!(c.healthz_bind_address.to_string(), "127.0.0.1");
        assert_eq!(c.address.to_string(), "0.0.0.0");
        assert_eq!(c.max_pods, 110);
        assert_eq!(c.root_dir, PathBuf::from("/var/lib/kubelet"));
        assert_eq!(c.pod_logs_dir, PathBuf::from("/var/log/pods"));
        assert_eq!(
            c.container_runtime_endpoint,
            "unix:///run/containerd/containerd.sock"
        );
        assert!(c.register_node);
        assert!(c.anonymous_auth, "the flag's default without a config file");
        assert_eq!(c.cgroup_driver, CgroupDriver::Cgroupfs);
        assert_eq!(c.node_status_update_frequency, Duration::from_secs(10));
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(
            &path,
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             maxPods: 50\nport: 11250\npodLogsDir: /tmp/logs\nstaticPodPath: /etc/m\n\
             clusterDNS: [10.0.0.10]\nclusterDomain: cluster.local\ncgroupRoot: /n1\n\
             authentication:\n  anonymous:\n    enabled: true\n  x509:\n    clientCAFile: /ca.crt\n\
             kubeReserved:\n  cpu: 100m\nsystemReserved:\n  cpu: 200m\n  memory: 1Gi\n\
             registerWithTaints:\n- key: a\n  effect: NoSchedule\n",
        )
        .unwrap();
        let opts = parse(&[
            "--config",
            path.to_str().unwrap(),
            "--max-pods=20",
            "--anonymous-auth=false",
        ]);
        let file = read_config_file(&path).unwrap();
        let c = opts.resolve_with(file, "n").unwrap();
        assert_eq!(c.max_pods, 20);
        assert_eq!(c.port, 11250);
        assert!(!c.anonymous_auth);
        assert_eq!(c.pod_logs_dir, PathBuf::from("/tmp/logs"));
        assert_eq!(c.pod_manifest_path, Some(PathBuf::from("/etc/m")));
        assert_eq!(c.cluster_dns.len(), 1);
        assert_eq!(c.cluster_domain, "cluster.local");
        assert_eq!(c.cgroup_root, "/n1");
        assert_eq!(c.client_ca_file, Some(PathBuf::from("/ca.crt")));
        assert_eq!(c.reserved["cpu"].milli_value(), 300);
        assert_eq!(c.reserved["memory"].value(), 1 << 30);
        assert_eq!(c.register_with_taints[0].key, "a");
    }

    #[test]
    fn bad_input_is_one_clear_error() {
        let cases: &[(&[&str], &str)] = &[
            (&["--cgroup-driver=foo"], "invalid cgroup driver"),
            (&["--register-with-taints=a=b:Bad"], "invalid taint effect"),
            (&["--register-with-taints=nocolon"], "invalid taint spec"),
            (&["--node-labels=a"], "not of the form key=value"),
            (&["--node-labels=-a=b"], "invalid label key"),
            (&["--pod-cidr=10.0.0.0/40"], "invalid pod CIDR"),
            (&["--kube-reserved=gpu=1"], "unsupported resource"),
            (&["--kube-reserved=cpu=lots"], "cpu=\"lots\""),
            (&["--container-runtime-endpoint=tcp://x:1"], "not supported"),
            (&["--tls-cert-file=/a"], "must be given together"),
            (
                &["--hostname-override=Bad_Name"],
                "not a valid DNS subdomain",
            ),
        ];
        for (args, want) in cases {
            let err = parse(args)
                .resolve_with(KubeletConfiguration::default(), "n")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{args:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn config_file_kind_and_version_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, r#"{"kind":"Pod","apiVersion":"v1"}"#).unwrap();
        let err = read_config_file(&path).unwrap_err().to_string();
        assert!(err.contains("is not \"KubeletConfiguration\""), "{err}");
        std::fs::write(
            &path,
            r#"{"kind":"KubeletConfiguration","apiVersion":"v9"}"#,
        )
        .unwrap();
        let err = read_config_file(&path).unwrap_err().to_string();
        assert!(err.contains("no kind"), "{err}");
        std::fs::write(
            &path,
            r#"{"kind":"KubeletConfiguration","apiVersion":"kubelet.config.k8s.io/v1beta1","maxPods":"x"}"#,
        )
        .unwrap();
        let err = read_config_file(&path).unwrap_err().to_string();
        assert!(err.contains("failed to decode"), "{err}");
        let err = read_config_file(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("failed to read"), "{err}");
    }

    #[test]
    fn taints_and_labels_parse_as_upstream() {
        let t = parse_taints("a=b:NoSchedule,c:NoExecute").unwrap();
        assert_eq!(t[0].value.as_deref(), Some("b"));
        assert_eq!(t[1].value, None);
        assert_eq!(t[1].effect, "NoExecute");
        let l = parse_labels("node-role.kubernetes.io/worker=,zone=a").unwrap();
        assert_eq!(l["node-role.kubernetes.io/worker"], "");
        assert_eq!(l["zone"], "a");
    }

    #[test]
    fn durations_in_go_form() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("ten"), None);
        assert_eq!(parse_duration("10"), None);
    }
}
