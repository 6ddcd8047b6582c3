//! The kubelet's Node: what the machine offers (capacity, allocatable), registration (create,
//! or reconcile the labels and pod CIDR of an existing Node), and the status loop that keeps
//! addresses, nodeInfo and the Ready/MemoryPressure/DiskPressure/PIDPressure conditions fresh.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use api_types::quantity::{Format, Quantity};
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

use crate::options::Config;

/// The version this kubelet reports (`nodeInfo.kubeletVersion`): the API level it speaks.
pub const KUBELET_VERSION: &str = "v1.33.0";

/// Upstream's default hard eviction thresholds, which the pressure conditions follow.
const MEMORY_AVAILABLE_MIN: i64 = 100 << 20;
const NODEFS_AVAILABLE_MIN_PERCENT: u64 = 10;

/// What the machine has, read once at start and on each status update.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpus: u32,
    pub memory_bytes: i64,
    pub memory_available_bytes: i64,
    pub disk_bytes: i64,
    pub disk_available_bytes: i64,
    pub pids_max: i64,
}

impl Machine {
    /// Reads the machine's CPUs, memory (/proc/meminfo) and the file system under `root_dir`.
    pub fn read(root_dir: &Path) -> Machine {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |name: &str| -> i64 {
            meminfo
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<i64>()
                        .ok()
                })
                .map(|kib| kib * 1024)
                .unwrap_or(0)
        };
        // The file system holding the root dir; its closest existing ancestor before the
        // directory is made.
        let mut dir = root_dir;
        while !dir.exists() {
            dir = dir.parent().unwrap_or(Path::new("/"));
        }
        let (disk_bytes, disk_available_bytes) = match rustix::fs::statvfs(dir) {
            Ok(s) => (
                (s.f_blocks * s.f_frsize) as i64,
                (s.f_bavail * s.f_frsize) as i64,
            ),
            Err(_) => (0, 0),
        };
        let pids_max = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(32768);
        Machine {
            cpus,
            memory_bytes: field("MemTotal:"),
            memory_available_bytes: field("MemAvailable:"),
            disk_bytes,
            disk_available_bytes,
            pids_max,
        }
    }

    /// `status.capacity`: the machine's resources and `--max-pods`.
    pub fn capacity(&self, max_pods: u32) -> BTreeMap<String, Quantity> {
        BTreeMap::from([
            (
                "cpu".to_string(),
                Quantity::new(self.cpus as i64, Format::DecimalSI),
            ),
            (
                "memory".to_string(),
                Quantity::new(self.memory_bytes / 1024 * 1024, Format::BinarySI),
            ),
            (
                "ephemeral-storage".to_string(),
                Quantity::new(self.disk_bytes / 1024 * 1024, Format::BinarySI),
            ),
            (
                "pods".to_string(),
                Quantity::new(max_pods as i64, Format::DecimalSI),
            ),
        ])
    }
}

/// `status.allocatable`: capacity minus kube-reserved and system-reserved (never below zero).
pub fn allocatable(
    capacity: &BTreeMap<String, Quantity>,
    reserved: &BTreeMap<String, Quantity>,
) -> BTreeMap<String, Quantity> {
    capacity
        .iter()
        .map(|(name, cap)| {
            let value = match reserved.get(name) {
                Some(r) => {
                    let left = cap.sub(r);
                    if left.signum() < 0 {
                        Quantity::zero().with_format(cap.format())
                    } else {
                        left.with_format(cap.format())
                    }
                }
                None => *cap,
            };
            (name.clone(), value)
        })
        .collect()
}

fn to_k8s(map: &BTreeMap<String, Quantity>) -> BTreeMap<String, KQuantity> {
    map.iter()
        .map(|(k, v)| (k.clone(), KQuantity(v.to_string())))
        .collect()
}

/// `kubernetes.io/arch` as Go names architectures.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The Node as the kubelet registers it: metadata and spec (status is written apart).
pub fn node_object(config: &Config) -> Node {
    let mut labels = BTreeMap::from([
        (
            "kubernetes.io/hostname".to_string(),
            config.node_name.clone(),
        ),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), go_arch().to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), go_arch().to_string()),
    ]);
    labels.extend(config.node_labels.clone());
    Node {
        metadata: ObjectMeta {
            name: Some(config.node_name.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                "volumes.kubernetes.io/controller-managed-attach-detach".to_string(),
                "true".to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: config.pod_cidr.clone(),
            pod_cidrs: config.pod_cidr.clone().map(|c| vec![c]),
            taints: (!config.register_with_taints.is_empty())
                .then(|| config.register_with_taints.clone()),
            ..Default::default()
        }),
        status: None,
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn os_image() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".to_string())
}

/// `status.nodeInfo`.
pub fn node_info(runtime_version: &str) -> NodeSystemInfo {
    NodeSystemInfo {
        architecture: go_arch().to_string(),
        boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
        container_runtime_version: runtime_version.to_string(),
        kernel_version: read_trimmed("/proc/sys/kernel/osrelease"),
        kube_proxy_version: String::new(),
        kubelet_version: KUBELET_VERSION.to_string(),
        machine_id: read_trimmed("/etc/machine-id"),
        operating_system: "linux".to_string(),
        os_image: os_image(),
        system_uuid: read_trimmed("/sys/class/dmi/id/product_uuid"),
        ..Default::default()
    }
}

/// The node's addresses: `--node-ip` (else the first non-loopback address is left to the
/// apiserver's callers) and the hostname.
pub fn addresses(config: &Config) -> Vec<NodeAddress> {
    let mut out = Vec::new();
    if let Some(ip) = config.node_ip {
        out.push(NodeAddress {
            type_: "InternalIP".to_string(),
            address: ip.to_string(),
        });
    }
    out.push(NodeAddress {
        type_: "Hostname".to_string(),
        address: config.hostname.clone(),
    });
    out
}

/// The health the conditions report.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// `None` when the runtime and its network are ready, else why not.
    pub runtime_problem: Option<String>,
    pub memory_pressure: bool,
    pub disk_pressure: bool,
    pub pid_pressure: bool,
}

impl Health {
    pub fn of_machine(m: &Machine, runtime_problem: Option<String>) -> Health {
        let disk_pressure = m.disk_bytes > 0
            && (m.disk_available_bytes as u64) * 100
                < (m.disk_bytes as u64) * NODEFS_AVAILABLE_MIN_PERCENT;
        Health {
            runtime_problem,
            memory_pressure: m.memory_available_bytes > 0
                && m.memory_available_bytes < MEMORY_AVAILABLE_MIN,
            disk_pressure,
            pid_pressure: false,
        }
    }
}

/// The four conditions, with upstream's reasons and messages; transition times carried over
/// from `previous` where the status did not change.
pub fn conditions(health: &Health, previous: &[NodeCondition], now: Time) -> Vec<NodeCondition> {
    let cond = |type_: &str, status: bool, reason: &str, message: &str| {
        let status = if status { "True" } else { "False" }.to_string();
        let transition = previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .and_then(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| now.clone());
        NodeCondition {
            type_: type_.to_string(),
            status,
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            last_heartbeat_time: Some(now.clone()),
            last_transition_time: Some(transition),
        }
    };
    let mut out = vec![
        if health.memory_pressure {
            cond(
                "MemoryPressure",
                true,
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available",
            )
        } else {
            cond(
                "MemoryPressure",
                false,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            )
        },
        if health.disk_pressure {
            cond(
                "DiskPressure",
                true,
                "KubeletHasDiskPressure",
                "kubelet has disk pressure",
            )
        } else {
            cond(
                "DiskPressure",
                false,
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            )
        },
        if health.pid_pressure {
            cond(
                "PIDPressure",
                true,
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available",
            )
        } else {
            cond(
                "PIDPressure",
                false,
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            )
        },
    ];
    out.push(match &health.runtime_problem {
        None => cond(
            "Ready",
            true,
            "KubeletReady",
            "kubelet is posting ready status",
        ),
        Some(problem) => cond("Ready", false, "KubeletNotReady", problem),
    });
    out
}

/// The whole status the kubelet writes.
pub fn node_status(
    config: &Config,
    machine: &Machine,
    runtime_version: &str,
    conditions: Vec<NodeCondition>,
) -> NodeStatus {
    let capacity = machine.capacity(config.max_pods);
    let allocatable = allocatable(&capacity, &config.reserved);
    NodeStatus {
        capacity: Some(to_k8s(&capacity)),
        allocatable: Some(to_k8s(&allocatable)),
        addresses: Some(addresses(config)),
        conditions: Some(conditions),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: config.port as i32,
            }),
        }),
        node_info: Some(node_info(runtime_version)),
        ..Default::default()
    }
}

/// Errors talking to the apiserver about the Node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("registering node {node:?}: {source}")]
    Register {
        node: String,
        #[source]
        source: kube::Error,
    },
    #[error("updating status of node {node:?}: {source}")]
    Status {
        node: String,
        #[source]
        source: kube::Error,
    },
}

/// Creates the Node, or reconciles an existing one: our labels added, the pod CIDR set if it
/// had none (upstream's `reconcileExtendedResource`/`updateDefaultLabels` in spirit).
pub async fn register(api: &Api<Node>, config: &Config) -> Result<(), Error> {
    let node = node_object(config);
    let err = |source| Error::Register {
        node: config.node_name.clone(),
        source,
    };
    match api.create(&PostParams::default(), &node).await {
        Ok(_) => {
            tracing::info!(node = %config.node_name, "successfully registered node");
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let existing = api.get(&config.node_name).await.map_err(err)?;
            let mut patch = json!({"metadata": {"labels": node.metadata.labels}});
            let has_cidr = existing
                .spec
                .as_ref()
                .and_then(|s| s.pod_cidr.as_ref())
                .is_some_and(|c| !c.is_empty());
            if !has_cidr && config.pod_cidr.is_some() {
                patch["spec"] = json!({"podCIDR": config.pod_cidr, "podCIDRs": [config.pod_cidr]});
            }
            api.patch(
                &config.node_name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map_err(err)?;
            tracing::info!(node = %config.node_name, "node was previously registered");
            Ok(())
        }
        Err(e) => Err(err(e)),
    }
}

/// Writes the status (merge patch on `nodes/status`), returning the conditions written.
pub async fn update_status(
    api: &Api<Node>,
    config: &Config,
    status: NodeStatus,
) -> Result<(), Error> {
    let patch = json!({ "status": status });
    api.patch_status(
        &config.node_name,
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map_err(|source| Error::Status {
        node: config.node_name.clone(),
        source,
    })?;
    Ok(())
}

/// How often the status is written even when nothing changed (upstream's
/// nodeStatusReportFrequency), so heartbeats stay recent.
const REPORT_EVERY: Duration = Duration::from_secs(300);

/// Registers the node (retrying until it works) and keeps its status fresh until cancelled.
pub async fn run(
    api: Api<Node>,
    config: std::sync::Arc<Config>,
    cri: crate::cri::Cri,
    runtime_version: String,
) {
    if config.register_node {
        let mut delay = Duration::from_millis(100);
        loop {
            match register(&api, &config).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!("{e}; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(7));
                }
            }
        }
    }
    let mut previous: Vec<NodeCondition> = Vec::new();
    let mut last_report = tokio::time::Instant::now() - REPORT_EVERY;
    let mut ticker = tokio::time::interval(config.node_status_update_frequency);
    loop {
        ticker.tick().await;
        let machine = Machine::read(&config.root_dir);
        let health = Health::of_machine(&machine, cri.runtime_problem().await);
        let now = Time(jiff::Timestamp::now());
        let conds = conditions(&health, &previous, now);
        let changed = !same_conditions(&conds, &previous);
        if !changed && last_report.elapsed() < REPORT_EVERY {
            continue;
        }
        let status = node_status(&config, &machine, &runtime_version, conds.clone());
        match update_status(&api, &config, status).await {
            Ok(()) => {
                previous = conds;
                last_report = tokio::time::Instant::now();
            }
            Err(e) => tracing::warn!("{e}"),
        }
    }
}

fn same_conditions(a: &[NodeCondition], b: &[NodeCondition]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.type_ == y.type_ && x.status == y.status && x.reason == y.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Config {
        crate::options::Options::try_parse_from(
            std::iter::once("kubelet").chain(args.iter().copied()),
        )
        .unwrap()
        .resolve()
        .unwrap()
    }

    #[test]
    fn allocatable_subtracts_reserved() {
        let m = Machine {
            cpus: 4,
            memory_bytes: 8 << 30,
            memory_available_bytes: 4 << 30,
            disk_bytes: 100 << 30,
            disk_available_bytes: 50 << 30,
            pids_max: 1000,
        };
        let c = config(&[
            "--hostname-override=n1",
            "--kube-reserved=cpu=500m,memory=1Gi",
            "--system-reserved=cpu=6",
            "--max-pods=20",
        ]);
        let cap = m.capacity(c.max_pods);
        let alloc = allocatable(&cap, &c.reserved);
        assert_eq!(cap["cpu"].to_string(), "4");
        assert_eq!(cap["pods"].to_string(), "20");
        assert_eq!(alloc["cpu"].to_string(), "0");
        assert_eq!(alloc["memory"].to_string(), "7Gi");
        assert_eq!(alloc["pods"].to_string(), "20");
    }

    #[test]
    fn node_object_carries_labels_taints_and_cidr() {
        let c = config(&[
            "--hostname-override=N1",
            "--node-labels=zone=a",
            "--register-with-taints=dedicated=x:NoSchedule",
            "--pod-cidr=10.244.1.0/24",
        ]);
        let n = node_object(&c);
        let labels = n.metadata.labels.unwrap();
        assert_eq!(labels["kubernetes.io/hostname"], "n1");
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(labels["zone"], "a");
        let spec = n.spec.unwrap();
        assert_eq!(spec.pod_cidr.as_deref(), Some("10.244.1.0/24"));
        assert_eq!(spec.taints.unwrap()[0].effect, "NoSchedule");
    }

    #[test]
    fn conditions_keep_transition_times_while_unchanged() {
        let t0 = Time(jiff::Timestamp::from_second(1000).unwrap());
        let t1 = Time(jiff::Timestamp::from_second(2000).unwrap());
        let first = conditions(&Health::default(), &[], t0.clone());
        assert_eq!(
            first.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(),
            ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        );
        let second = conditions(&Health::default(), &first, t1.clone());
        assert_eq!(second[3].last_transition_time, Some(t0));
        assert_eq!(second[3].last_heartbeat_time, Some(t1.clone()));
        let sick = Health {
            runtime_problem: Some("container runtime network not ready".into()),
            ..Default::default()
        };
        let third = conditions(&sick, &second, t1.clone());
        assert_eq!(third[3].status, "False");
        assert_eq!(third[3].reason.as_deref(), Some("KubeletNotReady"));
        assert_eq!(third[3].last_transition_time, Some(t1));
        assert!(!same_conditions(&second, &third));
    }
}
