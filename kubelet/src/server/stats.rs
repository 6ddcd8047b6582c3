//! `/pods`, `/metrics` and `/stats/summary`: the kubelet's pods as a PodList, Prometheus
//! text with upstream's metric names, and the Summary API's node and per-pod basics from
//! `/proc`, the root directory's filesystem and CRI's container and sandbox stats.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hyper::Response;
use k8s_cri::v1::{
    ContainerState, ContainerStats, CpuUsage, ListContainerStatsRequest, ListContainersRequest,
    ListPodSandboxRequest, ListPodSandboxStatsRequest, MemoryUsage, PodSandboxState,
    PodSandboxStats,
};
use prometheus::{Encoder as _, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use serde_json::{json, Map, Value};

use super::http_util::{full, json, text, Body};
use super::State;
use crate::cri::{LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID};

/// `/pods`: the pods the kubelet runs, as upstream's `PodList`.
pub fn pods(state: &State) -> Response<Body> {
    let items: Vec<Value> = (state.pods)()
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    json(
        200,
        &json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}),
    )
}

/// The kubelet's metrics registry: gauges set from CRI at every scrape, and the process's
/// own figures (`process_resident_memory_bytes`, ...).
pub struct Metrics {
    registry: Registry,
    running_pods: IntGauge,
    running_containers: IntGaugeVec,
}

impl Metrics {
    pub fn new(node: &str) -> anyhow::Result<Self> {
        let registry = Registry::new();
        let running_pods = IntGauge::with_opts(Opts::new(
            "kubelet_running_pods",
            "Number of pods that have a running pod sandbox",
        ))?;
        let running_containers = IntGaugeVec::new(
            Opts::new(
                "kubelet_running_containers",
                "Number of containers currently running",
            ),
            &["container_state"],
        )?;
        let node_name = IntGaugeVec::new(
            Opts::new(
                "kubelet_node_name",
                "The node's name. The count is always 1.",
            ),
            &["node"],
        )?;
        node_name.with_label_values(&[node]).set(1);
        registry.register(Box::new(running_pods.clone()))?;
        registry.register(Box::new(running_containers.clone()))?;
        registry.register(Box::new(node_name))?;
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Metrics {
            registry,
            running_pods,
            running_containers,
        })
    }

    /// Counts sandboxes and containers in the runtime, then encodes every metric.
    pub async fn render(&self, state: &State) -> Response<Body> {
        let mut rt = state.cri.runtime.clone();
        if let Ok(r) = rt.list_pod_sandbox(ListPodSandboxRequest::default()).await {
            let ready = r
                .into_inner()
                .items
                .iter()
                .filter(|s| s.state == PodSandboxState::SandboxReady as i32)
                .count();
            self.running_pods.set(ready as i64);
        }
        if let Ok(r) = rt.list_containers(ListContainersRequest::default()).await {
            let mut counts: BTreeMap<&str, i64> = [
                ("created", 0),
                ("exited", 0),
                ("running", 0),
                ("unknown", 0),
            ]
            .into();
            for c in r.into_inner().containers {
                let s = match ContainerState::try_from(c.state) {
                    Ok(ContainerState::ContainerCreated) => "created",
                    Ok(ContainerState::ContainerRunning) => "running",
                    Ok(ContainerState::ContainerExited) => "exited",
                    _ => "unknown",
                };
                *counts.entry(s).or_default() += 1;
            }
            for (s, n) in counts {
                self.running_containers.with_label_values(&[s]).set(n);
            }
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            return text(500, e.to_string());
        }
        Response::builder()
            .status(200)
            .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .body(full(out))
            .unwrap_or_else(|_| text(500, "building the response"))
    }
}

/// A CRI timestamp (nanoseconds) in the API's form.
fn time(nanos: i64) -> Value {
    match jiff::Timestamp::from_nanosecond(nanos as i128) {
        Ok(t) if nanos > 0 => Value::String(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        _ => Value::Null,
    }
}

fn now() -> Value {
    Value::String(
        jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    )
}

/// Inserts the fields that have a value.
fn put(m: &mut Map<String, Value>, k: &str, v: Option<u64>) {
    if let Some(v) = v {
        m.insert(k.to_string(), Value::from(v));
    }
}

fn cpu_json(c: Option<&CpuUsage>) -> Option<Value> {
    let c = c?;
    let mut m = Map::new();
    m.insert("time".into(), time(c.timestamp));
    put(
        &mut m,
        "usageNanoCores",
        c.usage_nano_cores.as_ref().map(|v| v.value),
    );
    put(
        &mut m,
        "usageCoreNanoSeconds",
        c.usage_core_nano_seconds.as_ref().map(|v| v.value),
    );
    Some(Value::Object(m))
}

fn memory_json(c: Option<&MemoryUsage>) -> Option<Value> {
    let c = c?;
    let mut m = Map::new();
    m.insert("time".into(), time(c.timestamp));
    put(
        &mut m,
        "availableBytes",
        c.available_bytes.as_ref().map(|v| v.value),
    );
    put(
        &mut m,
        "usageBytes",
        c.usage_bytes.as_ref().map(|v| v.value),
    );
    put(
        &mut m,
        "workingSetBytes",
        c.working_set_bytes.as_ref().map(|v| v.value),
    );
    put(&mut m, "rssBytes", c.rss_bytes.as_ref().map(|v| v.value));
    put(
        &mut m,
        "pageFaults",
        c.page_faults.as_ref().map(|v| v.value),
    );
    put(
        &mut m,
        "majorPageFaults",
        c.major_page_faults.as_ref().map(|v| v.value),
    );
    Some(Value::Object(m))
}

fn container_json(s: &ContainerStats, started: i64) -> Value {
    let attrs = s.attributes.clone().unwrap_or_default();
    let name = attrs
        .labels
        .get(LABEL_CONTAINER_NAME)
        .cloned()
        .or_else(|| attrs.metadata.map(|m| m.name))
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("name".into(), Value::String(name));
    m.insert("startTime".into(), time(started));
    if let Some(v) = cpu_json(s.cpu.as_ref()) {
        m.insert("cpu".into(), v);
    }
    if let Some(v) = memory_json(s.memory.as_ref()) {
        m.insert("memory".into(), v);
    }
    if let Some(fs) = &s.writable_layer {
        let mut r = Map::new();
        r.insert("time".into(), time(fs.timestamp));
        put(&mut r, "usedBytes", fs.used_bytes.as_ref().map(|v| v.value));
        put(
            &mut r,
            "inodesUsed",
            fs.inodes_used.as_ref().map(|v| v.value),
        );
        m.insert("rootfs".into(), Value::Object(r));
    }
    Value::Object(m)
}

/// The node's CPU time (all CPUs, in nanoseconds) from `/proc/stat`.
fn node_cpu_nanos() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let busy: u64 = v
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, n)| n)
        .sum();
    // USER_HZ is 100 on Linux: one tick is 10 ms.
    Some(busy * 10_000_000)
}

/// `/proc/meminfo` in bytes, by key.
fn meminfo() -> BTreeMap<String, u64> {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let kb: u64 = v.split_whitespace().next()?.parse().ok()?;
            Some((k.to_string(), kb * 1024))
        })
        .collect()
}

/// The previous CPU sample, to turn cumulative time into a rate.
static LAST_CPU: Mutex<Option<(std::time::Instant, u64)>> = Mutex::new(None);

fn node_json(state: &State) -> Value {
    let mut node = Map::new();
    node.insert("nodeName".into(), Value::String(state.node_name.clone()));
    if let Some(total) = node_cpu_nanos() {
        let now_i = std::time::Instant::now();
        let mut cpu = Map::new();
        cpu.insert("time".into(), now());
        if let Ok(mut last) = LAST_CPU.lock() {
            if let Some((t, prev)) = *last {
                let secs = now_i.duration_since(t).as_secs_f64();
                if secs > 0.0 && total >= prev {
                    put(
                        &mut cpu,
                        "usageNanoCores",
                        Some(((total - prev) as f64 / secs) as u64),
                    );
                }
            }
            *last = Some((now_i, total));
        }
        put(&mut cpu, "usageCoreNanoSeconds", Some(total));
        node.insert("cpu".into(), Value::Object(cpu));
    }
    let mi = meminfo();
    if let (Some(total), Some(avail)) = (mi.get("MemTotal"), mi.get("MemAvailable")) {
        let used = total.saturating_sub(*avail);
        node.insert(
            "memory".into(),
            json!({"time": now(), "availableBytes": avail, "usageBytes": used,
                   "workingSetBytes": used}),
        );
    }
    if let Ok(fs) = rustix::fs::statvfs(&state.root_dir) {
        let capacity = fs.f_blocks * fs.f_frsize;
        let available = fs.f_bavail * fs.f_frsize;
        node.insert(
            "fs".into(),
            json!({"time": now(), "availableBytes": available, "capacityBytes": capacity,
                   "usedBytes": capacity.saturating_sub(fs.f_bfree * fs.f_frsize),
                   "inodesFree": fs.f_ffree, "inodes": fs.f_files,
                   "inodesUsed": fs.f_files.saturating_sub(fs.f_ffree)}),
        );
    }
    Value::Object(node)
}

/// `/stats/summary`: the node, and every ready sandbox with its containers.
pub async fn summary(state: &State) -> Response<Body> {
    let mut rt = state.cri.runtime.clone();
    let sandboxes = match rt.list_pod_sandbox(ListPodSandboxRequest::default()).await {
        Ok(r) => r.into_inner().items,
        Err(e) => return text(500, format!("failed to list pod stats: {e}")),
    };
    let containers = rt
        .list_containers(ListContainersRequest::default())
        .await
        .map(|r| r.into_inner().containers)
        .unwrap_or_default();
    let container_stats = rt
        .list_container_stats(ListContainerStatsRequest::default())
        .await
        .map(|r| r.into_inner().stats)
        .unwrap_or_default();
    // Runtimes without sandbox stats get per-pod figures summed from their containers.
    let sandbox_stats: Vec<PodSandboxStats> = rt
        .list_pod_sandbox_stats(ListPodSandboxStatsRequest::default())
        .await
        .map(|r| r.into_inner().stats)
        .unwrap_or_default();
    let mut pods = Vec::new();
    for sb in sandboxes
        .iter()
        .filter(|s| s.state == PodSandboxState::SandboxReady as i32)
    {
        let label = |k: &str| sb.labels.get(k).cloned().unwrap_or_default();
        let mut cs = Vec::new();
        let mut cpu_sum: Option<(u64, u64)> = None;
        let mut mem_sum: Option<u64> = None;
        for c in containers.iter().filter(|c| {
            c.pod_sandbox_id == sb.id && c.state == ContainerState::ContainerRunning as i32
        }) {
            if let Some(s) = container_stats
                .iter()
                .find(|s| s.attributes.as_ref().is_some_and(|a| a.id == c.id))
            {
                if let Some(cpu) = &s.cpu {
                    let e = cpu_sum.get_or_insert((0, 0));
                    e.0 += cpu.usage_core_nano_seconds.as_ref().map_or(0, |v| v.value);
                    e.1 += cpu.usage_nano_cores.as_ref().map_or(0, |v| v.value);
                }
                if let Some(ws) = s.memory.as_ref().and_then(|m| m.working_set_bytes.as_ref()) {
                    *mem_sum.get_or_insert(0) += ws.value;
                }
                cs.push(container_json(s, c.created_at));
            }
        }
        let mut pod = Map::new();
        pod.insert(
            "podRef".into(),
            json!({"name": label(LABEL_POD_NAME), "namespace": label(LABEL_POD_NAMESPACE),
                   "uid": label(LABEL_POD_UID)}),
        );
        pod.insert("startTime".into(), time(sb.created_at));
        pod.insert("containers".into(), Value::Array(cs));
        let linux = sandbox_stats
            .iter()
            .find(|s| s.attributes.as_ref().is_some_and(|a| a.id == sb.id))
            .and_then(|s| s.linux.as_ref());
        match linux.and_then(|l| cpu_json(l.cpu.as_ref())) {
            Some(v) => {
                pod.insert("cpu".into(), v);
            }
            None => {
                if let Some((total, rate)) = cpu_sum {
                    pod.insert(
                        "cpu".into(),
                        json!({"time": now(), "usageNanoCores": rate, "usageCoreNanoSeconds": total}),
                    );
                }
            }
        }
        match linux.and_then(|l| memory_json(l.memory.as_ref())) {
            Some(v) => {
                pod.insert("memory".into(), v);
            }
            None => {
                if let Some(ws) = mem_sum {
                    pod.insert(
                        "memory".into(),
                        json!({"time": now(), "workingSetBytes": ws}),
                    );
                }
            }
        }
        if let Some(net) = linux.and_then(|l| l.network.as_ref()) {
            let iface = |i: &k8s_cri::v1::NetworkInterfaceUsage| {
                json!({"name": i.name,
                       "rxBytes": i.rx_bytes.as_ref().map(|v| v.value),
                       "rxErrors": i.rx_errors.as_ref().map(|v| v.value),
                       "txBytes": i.tx_bytes.as_ref().map(|v| v.value),
                       "txErrors": i.tx_errors.as_ref().map(|v| v.value)})
            };
            let mut n = match net.default_interface.as_ref().map(iface) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            n.insert("time".into(), time(net.timestamp));
            n.insert(
                "interfaces".into(),
                Value::Array(net.interfaces.iter().map(iface).collect()),
            );
            pod.insert("network".into(), Value::Object(n));
        }
        pods.push(Value::Object(pod));
    }
    json(200, &json!({"node": node_json(state), "pods": pods}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cri_times_in_the_api_form() {
        assert_eq!(
            time(1_700_000_000_123_456_789),
            json!("2023-11-14T22:13:20Z")
        );
        assert_eq!(time(0), Value::Null);
    }

    #[test]
    fn node_figures_come_from_proc() {
        assert!(node_cpu_nanos().unwrap() > 0);
        let mi = meminfo();
        assert!(mi["MemTotal"] >= mi["MemAvailable"]);
    }
}
