//! CRI requests built from a pod spec: the sandbox config (labels, log directory, hostname,
//! DNS, namespaces, port mappings, cgroup parent) and a container config (command, env,
//! mounts, resources, security context, log path), with upstream's conventions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use api_types::quantity::Quantity;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};

use crate::cri::{
    ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
};
use crate::options::{CgroupDriver, Config};

/// Upstream's default masked and read-only /proc and /sys paths for unprivileged containers.
const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];
const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

pub fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}
pub fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}
pub fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// `<podLogsDir>/<namespace>_<name>_<uid>`.
pub fn log_directory(config: &Config, pod: &Pod) -> PathBuf {
    config
        .pod_logs_dir
        .join(format!("{}_{}_{}", namespace(pod), name(pod), uid(pod)))
}

/// The pod's QoS class (the apiserver's, else computed from the containers' resources).
pub fn qos_class(pod: &Pod) -> String {
    if let Some(q) = pod.status.as_ref().and_then(|s| s.qos_class.clone()) {
        return q;
    }
    let spec = pod.spec.clone().unwrap_or_default();
    let mut any = false;
    let mut guaranteed = true;
    for c in &spec.containers {
        let r = c.resources.clone().unwrap_or_default();
        let limits = r.limits.unwrap_or_default();
        let requests = r.requests.unwrap_or_default();
        if !limits.is_empty() || !requests.is_empty() {
            any = true;
        }
        for res in ["cpu", "memory"] {
            match (limits.get(res), requests.get(res)) {
                (Some(l), Some(q)) if l == q => {}
                (Some(_), None) => {}
                _ => guaranteed = false,
            }
        }
    }
    if !any {
        "BestEffort".into()
    } else if guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}

/// The pod's cgroup parent under `--cgroup-root`, as upstream's QoS hierarchy names it.
pub fn cgroup_parent(config: &Config, pod: &Pod) -> String {
    let qos = qos_class(pod);
    let uid = uid(pod);
    match config.cgroup_driver {
        CgroupDriver::Cgroupfs => {
            let root = config.cgroup_root.trim_end_matches('/');
            match qos.as_str() {
                "Guaranteed" => format!("{root}/kubepods/pod{uid}"),
                q => format!("{root}/kubepods/{}/pod{uid}", q.to_lowercase()),
            }
        }
        CgroupDriver::Systemd => {
            let uid = uid.replace('-', "_");
            match qos.as_str() {
                "Guaranteed" => format!("kubepods-pod{uid}.slice"),
                q => format!("kubepods-{}-pod{uid}.slice", q.to_lowercase()),
            }
        }
    }
}

fn dns_config(config: &Config, pod: &Pod) -> Option<cri::DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let host_network = spec.host_network == Some(true);
    let host = || {
        let text = std::fs::read_to_string(&config.resolv_conf).unwrap_or_default();
        let mut d = cri::DnsConfig::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => d.servers.extend(words.map(str::to_string)),
                Some("search") => d.searches = words.map(str::to_string).collect(),
                Some("options") => d.options.extend(words.map(str::to_string)),
                _ => {}
            }
        }
        d
    };
    let mut d = match policy {
        "ClusterFirstWithHostNet" | "ClusterFirst"
            if !config.cluster_dns.is_empty()
                && (policy == "ClusterFirstWithHostNet" || !host_network) =>
        {
            let domain = &config.cluster_domain;
            let ns = namespace(pod);
            let mut searches = vec![
                format!("{ns}.svc.{domain}"),
                format!("svc.{domain}"),
                domain.clone(),
            ];
            searches.extend(host().searches);
            cri::DnsConfig {
                servers: config.cluster_dns.iter().map(|i| i.to_string()).collect(),
                searches,
                options: vec!["ndots:5".into()],
            }
        }
        "None" => cri::DnsConfig::default(),
        _ => host(),
    };
    if let Some(extra) = &spec.dns_config {
        d.servers
            .extend(extra.nameservers.clone().unwrap_or_default());
        d.searches
            .extend(extra.searches.clone().unwrap_or_default());
        for o in extra.options.iter().flatten() {
            let name = o.name.clone().unwrap_or_default();
            d.options
                .retain(|x| x.split(':').next() != Some(name.as_str()));
            d.options.push(match &o.value {
                Some(v) => format!("{name}:{v}"),
                None => name,
            });
        }
    }
    Some(d)
}

fn namespace_options(pod: &Pod) -> cri::NamespaceOption {
    let spec = pod.spec.clone().unwrap_or_default();
    let mode = |host: Option<bool>, default: cri::NamespaceMode| {
        if host == Some(true) {
            cri::NamespaceMode::Node as i32
        } else {
            default as i32
        }
    };
    let pid_default = if spec.share_process_namespace == Some(true) {
        cri::NamespaceMode::Pod
    } else {
        cri::NamespaceMode::Container
    };
    cri::NamespaceOption {
        network: mode(spec.host_network, cri::NamespaceMode::Pod),
        pid: mode(spec.host_pid, pid_default),
        ipc: mode(spec.host_ipc, cri::NamespaceMode::Pod),
        ..Default::default()
    }
}

fn labels(pod: &Pod) -> HashMap<String, String> {
    let mut l: HashMap<String, String> = pod
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    l.insert(LABEL_POD_NAME.into(), name(pod).into());
    l.insert(LABEL_POD_NAMESPACE.into(), namespace(pod).into());
    l.insert(LABEL_POD_UID.into(), uid(pod).into());
    l
}

/// The sandbox config of `pod`'s `attempt`-th sandbox.
pub fn sandbox_config(config: &Config, pod: &Pod, attempt: u32) -> cri::PodSandboxConfig {
    let spec = pod.spec.clone().unwrap_or_default();
    let hostname = if spec.host_network == Some(true) {
        config.hostname.clone()
    } else {
        spec.hostname
            .clone()
            .unwrap_or_else(|| name(pod).to_string())
    };
    let mut port_mappings = Vec::new();
    for c in &spec.containers {
        for p in c.ports.iter().flatten() {
            let protocol = match p.protocol.as_deref() {
                Some("UDP") => cri::Protocol::Udp,
                Some("SCTP") => cri::Protocol::Sctp,
                _ => cri::Protocol::Tcp,
            };
            port_mappings.push(cri::PortMapping {
                protocol: protocol as i32,
                container_port: p.container_port,
                host_port: p.host_port.unwrap_or(0),
                host_ip: p.host_ip.clone().unwrap_or_default(),
            });
        }
    }
    let privileged = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| c.security_context.as_ref().and_then(|s| s.privileged) == Some(true));
    let psc = spec.security_context.clone().unwrap_or_default();
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: name(pod).into(),
            uid: uid(pod).into(),
            namespace: namespace(pod).into(),
            attempt,
        }),
        hostname,
        log_directory: log_directory(config, pod).to_string_lossy().into_owned(),
        dns_config: dns_config(config, pod),
        port_mappings,
        labels: labels(pod),
        annotations: pod
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent(config, pod),
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(namespace_options(pod)),
                run_as_user: psc.run_as_user.map(|value| cri::Int64Value { value }),
                run_as_group: psc.run_as_group.map(|value| cri::Int64Value { value }),
                supplemental_groups: psc.supplemental_groups.clone().unwrap_or_default(),
                privileged,
                ..Default::default()
            }),
            sysctls: psc
                .sysctls
                .iter()
                .flatten()
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect(),
            ..Default::default()
        }),
        windows: None,
    }
}

fn quantity(
    m: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
    name: &str,
) -> Option<Quantity> {
    m.and_then(|m| m.get(name))
        .and_then(|q| Quantity::parse(&q.0).ok())
}

/// Container resources as cgroup limits (upstream's shares, quota and memory mapping).
pub fn linux_resources(c: &Container, qos: &str) -> cri::LinuxContainerResources {
    let r = c.resources.clone().unwrap_or_default();
    let cpu_request =
        quantity(r.requests.as_ref(), "cpu").or_else(|| quantity(r.limits.as_ref(), "cpu"));
    let cpu_limit = quantity(r.limits.as_ref(), "cpu");
    let memory_limit = quantity(r.limits.as_ref(), "memory");
    let memory_request = quantity(r.requests.as_ref(), "memory");
    let shares = cpu_request
        .map(|q| (q.milli_value() as i64 * 1024 / 1000).max(2))
        .unwrap_or(2);
    let (quota, period) = match cpu_limit {
        Some(q) => ((q.milli_value() as i64 * 100_000 / 1000).max(1000), 100_000),
        None => (0, 0),
    };
    let oom_score_adj = match qos {
        "Guaranteed" => -997,
        "BestEffort" => 1000,
        _ => {
            let total = crate::node::Machine::read(Path::new("/"))
                .memory_bytes
                .max(1);
            let req = memory_request.map(|q| q.value() as i64).unwrap_or(0);
            (1000 - 1000 * req / total).clamp(3, 999)
        }
    };
    cri::LinuxContainerResources {
        cpu_period: period,
        cpu_quota: quota,
        cpu_shares: shares,
        memory_limit_in_bytes: memory_limit.map(|q| q.value() as i64).unwrap_or(0),
        oom_score_adj,
        ..Default::default()
    }
}

/// The config of container `c` at restart count `attempt`.
pub fn container_config(
    pod: &Pod,
    c: &Container,
    attempt: u32,
    env: &[(String, String)],
    mounts: Vec<cri::Mount>,
    image: String,
) -> cri::ContainerConfig {
    let sc = c.security_context.clone().unwrap_or_default();
    let psc = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.clone())
        .unwrap_or_default();
    let privileged = sc.privileged == Some(true);
    let caps = sc.capabilities.clone().unwrap_or_default();
    let mut labels: HashMap<String, String> = HashMap::new();
    labels.insert(LABEL_POD_NAME.into(), name(pod).into());
    labels.insert(LABEL_POD_NAMESPACE.into(), namespace(pod).into());
    labels.insert(LABEL_POD_UID.into(), uid(pod).into());
    labels.insert(LABEL_CONTAINER_NAME.into(), c.name.clone());
    let mut annotations = HashMap::new();
    annotations.insert(ANNOTATION_RESTART_COUNT.to_string(), attempt.to_string());
    annotations.insert(
        "io.kubernetes.container.terminationMessagePath".to_string(),
        c.termination_message_path
            .clone()
            .unwrap_or_else(|| "/dev/termination-log".into()),
    );
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: c.name.clone(),
            attempt,
        }),
        image: Some(cri::ImageSpec {
            image,
            user_specified_image: c.image.clone().unwrap_or_default(),
            ..Default::default()
        }),
        command: super::env::expand_all(c.command.as_ref(), env),
        args: super::env::expand_all(c.args.as_ref(), env),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        envs: env
            .iter()
            .map(|(k, v)| cri::KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        mounts,
        labels,
        annotations,
        log_path: format!("{}/{attempt}.log", c.name),
        stdin: c.stdin == Some(true),
        stdin_once: c.stdin_once == Some(true),
        tty: c.tty == Some(true),
        linux: Some(cri::LinuxContainerConfig {
            resources: Some(linux_resources(c, &qos_class(pod))),
            security_context: Some(cri::LinuxContainerSecurityContext {
                capabilities: Some(cri::Capability {
                    add_capabilities: caps.add.unwrap_or_default(),
                    drop_capabilities: caps.drop.unwrap_or_default(),
                    ..Default::default()
                }),
                privileged,
                namespace_options: Some(namespace_options(pod)),
                run_as_user: sc
                    .run_as_user
                    .or(psc.run_as_user)
                    .map(|value| cri::Int64Value { value }),
                run_as_group: sc
                    .run_as_group
                    .or(psc.run_as_group)
                    .map(|value| cri::Int64Value { value }),
                readonly_rootfs: sc.read_only_root_filesystem == Some(true),
                supplemental_groups: psc.supplemental_groups.clone().unwrap_or_default(),
                no_new_privs: sc.allow_privilege_escalation == Some(false),
                masked_paths: if privileged {
                    vec![]
                } else {
                    MASKED_PATHS.iter().map(|s| s.to_string()).collect()
                },
                readonly_paths: if privileged {
                    vec![]
                } else {
                    READONLY_PATHS.iter().map(|s| s.to_string()).collect()
                },
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

/// CRI mounts of `c`'s volumeMounts from the prepared volume paths.
pub fn mounts(
    pod: &Pod,
    c: &Container,
    volumes: &HashMap<String, PathBuf>,
) -> Result<Vec<cri::Mount>, String> {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut out = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let Some(host) = volumes.get(&m.name) else {
            return Err(format!(
                "cannot find volume {:?} to mount into container {:?}",
                m.name, c.name
            ));
        };
        let mut host = host.clone();
        if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            if sub.starts_with('/') || sub.split('/').any(|p| p == "..") {
                return Err(format!("invalid subPath {sub:?}"));
            }
            host = host.join(sub);
            if !host.exists() {
                std::fs::create_dir_all(&host).map_err(|e| e.to_string())?;
            }
        }
        let volume = spec.volumes.iter().flatten().find(|v| v.name == m.name);
        let default_ro = volume.is_some_and(|v| {
            v.config_map.is_some()
                || v.secret.is_some()
                || v.downward_api.is_some()
                || v.projected.is_some()
        });
        out.push(cri::Mount {
            container_path: m.mount_path.clone(),
            host_path: host.to_string_lossy().into_owned(),
            readonly: m.read_only.unwrap_or(default_ro),
            ..Default::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config() -> Config {
        crate::options::Options::try_parse_from([
            "kubelet",
            "--hostname-override=n1",
            "--cgroup-root=/n1",
            "--cluster-dns=10.96.0.10",
            "--cluster-domain=cluster.local",
        ])
        .unwrap()
        .resolve()
        .unwrap()
    }

    fn pod() -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "u-1", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                "command": ["sh", "-c", "echo $(A)"],
                "ports": [{"containerPort": 80, "hostPort": 8080}],
                "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}]},
            "status": {"qosClass": "Guaranteed"}
        }))
        .unwrap()
    }

    #[test]
    fn sandbox_config_follows_the_contract() {
        let c = config();
        let s = sandbox_config(&c, &pod(), 2);
        assert_eq!(s.metadata.as_ref().unwrap().attempt, 2);
        assert_eq!(s.log_directory, "/var/log/pods/ns_web_u-1");
        assert_eq!(s.labels[LABEL_POD_UID], "u-1");
        assert_eq!(s.labels["app"], "x");
        assert_eq!(s.hostname, "web");
        assert_eq!(s.port_mappings[0].host_port, 8080);
        assert_eq!(
            s.linux.as_ref().unwrap().cgroup_parent,
            "/n1/kubepods/podu-1"
        );
        let dns = s.dns_config.unwrap();
        assert_eq!(dns.servers, ["10.96.0.10"]);
        assert_eq!(dns.searches[0], "ns.svc.cluster.local");
        assert_eq!(dns.options, ["ndots:5"]);
    }

    #[test]
    fn container_config_maps_resources_and_env() {
        let p = pod();
        let c = &p.spec.as_ref().unwrap().containers[0];
        let cfg = container_config(
            &p,
            c,
            3,
            &[("A".into(), "hi".into())],
            vec![],
            "busybox".into(),
        );
        assert_eq!(cfg.command, ["sh", "-c", "echo hi"]);
        assert_eq!(cfg.log_path, "c/3.log");
        assert_eq!(cfg.annotations[ANNOTATION_RESTART_COUNT], "3");
        assert_eq!(cfg.labels[LABEL_CONTAINER_NAME], "c");
        let r = cfg.linux.unwrap().resources.unwrap();
        assert_eq!(r.cpu_quota, 50_000);
        assert_eq!(r.cpu_period, 100_000);
        assert_eq!(r.cpu_shares, 512);
        assert_eq!(r.memory_limit_in_bytes, 64 << 20);
        assert_eq!(r.oom_score_adj, -997);
    }

    #[test]
    fn qos_classes() {
        let mut p = pod();
        p.status = None;
        assert_eq!(qos_class(&p), "Guaranteed");
        p.spec.as_mut().unwrap().containers[0].resources = None;
        assert_eq!(qos_class(&p), "BestEffort");
        assert_eq!(
            cgroup_parent(&config(), &p),
            "/n1/kubepods/besteffort/podu-1"
        );
    }
}
