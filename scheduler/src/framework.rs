//! The scheduling framework's vocabulary: what a node looks like to plugins (`NodeInfo`: the
//! node plus what the pods on it already ask for), the verdict a filter gives (`Status`), and
//! the plugin traits for the extension points built so far (PreEnqueue, Filter, Score with
//! NormalizeScore). The cycle that drives them is `cycle.rs`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::resources::{pod_requests, Resources};

/// The highest score a plugin gives a node (upstream's `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// A node as the scheduler sees it: the Node and the sum of what its pods (bound, being bound
/// and assumed) request.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub node: Arc<Node>,
    /// Requests of the pods on the node (init containers and overhead included).
    pub requested: Resources,
    /// The same with upstream's non-zero defaults for containers that request nothing, which
    /// scoring uses so empty pods still spread.
    pub non_zero_requested: Resources,
    pub pod_count: usize,
    /// Host ports in use: (hostIP, protocol, port); hostIP "0.0.0.0" for any address.
    pub used_ports: HashSet<(String, String, i32)>,
    /// The pods on the node, by `namespace/name`, with the requests counted for them.
    pub pods: BTreeMap<String, (Arc<Pod>, Resources, Resources)>,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> Self {
        NodeInfo {
            node,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pod_count: 0,
            used_ports: HashSet::new(),
            pods: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }

    /// The node's allocatable resources (capacity where allocatable is not reported).
    pub fn allocatable(&self) -> Resources {
        let status = self.node.status.as_ref();
        let list = status
            .and_then(|s| s.allocatable.as_ref())
            .or_else(|| status.and_then(|s| s.capacity.as_ref()));
        list.map(Resources::from_list).unwrap_or_default()
    }

    /// Counts `pod` against the node.
    pub fn add_pod(&mut self, key: String, pod: Arc<Pod>) {
        if self.pods.contains_key(&key) {
            self.remove_pod(&key);
        }
        let (req, non_zero) = pod_requests(&pod);
        self.requested.add(&req);
        self.non_zero_requested.add(&non_zero);
        self.pod_count += 1;
        for port in host_ports(&pod) {
            self.used_ports.insert(port);
        }
        self.pods.insert(key, (pod, req, non_zero));
    }

    /// Stops counting the pod with `key`; false when it was not counted.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        let Some((pod, req, non_zero)) = self.pods.remove(key) else {
            return false;
        };
        self.requested.sub(&req);
        self.non_zero_requested.sub(&non_zero);
        self.pod_count -= 1;
        for port in host_ports(&pod) {
            // Two pods cannot hold the same port, so removing it is exact.
            self.used_ports.remove(&port);
        }
        true
    }
}

/// The host ports a pod asks for: (hostIP or "0.0.0.0", protocol, port).
pub fn host_ports(pod: &Pod) -> Vec<(String, String, i32)> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let host_port = p.host_port.filter(|hp| *hp > 0)?;
            let ip = p
                .host_ip
                .clone()
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| "0.0.0.0".to_string());
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            Some((ip, proto, host_port))
        })
        .collect()
}

/// A filter's verdict for one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    /// The pod does not fit now but might after preemption or a change in the cluster.
    Unschedulable(Vec<String>),
    /// The pod will not fit on this node whatever is preempted (a mismatched selector, a taint).
    UnschedulableAndUnresolvable(Vec<String>),
    /// The plugin itself failed.
    Error(String),
}

impl Status {
    pub fn unschedulable(reason: impl Into<String>) -> Self {
        Status::Unschedulable(vec![reason.into()])
    }

    pub fn unresolvable(reason: impl Into<String>) -> Self {
        Status::UnschedulableAndUnresolvable(vec![reason.into()])
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Status::Success)
    }

    /// The reasons to count in the "0/N nodes are available" summary.
    pub fn reasons(&self) -> &[String] {
        match self {
            Status::Success => &[],
            Status::Unschedulable(r) | Status::UnschedulableAndUnresolvable(r) => r,
            Status::Error(e) => std::slice::from_ref(e),
        }
    }
}

/// State computed once per pod per cycle and shared by the plugins (upstream's CycleState):
/// the pod's requests and its host ports, so filters do not recompute them per node.
#[derive(Clone, Debug)]
pub struct CycleState {
    pub requests: Resources,
    pub non_zero_requests: Resources,
    pub host_ports: Vec<(String, String, i32)>,
}

impl CycleState {
    pub fn for_pod(pod: &Pod) -> Self {
        let (requests, non_zero_requests) = pod_requests(pod);
        CycleState {
            requests,
            non_zero_requests,
            host_ports: host_ports(pod),
        }
    }
}

/// PreEnqueue: whether a pod may enter the active queue at all (SchedulingGates).
pub trait PreEnqueuePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    fn pre_enqueue(&self, pod: &Pod) -> Status;
}

/// Filter: whether the pod may run on the node.
pub trait FilterPlugin: Send + Sync {
    fn name(&self) -> &'static str;
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Status;
}

/// Score: how well the node suits the pod, then NormalizeScore over every feasible node's
/// score (in place) so the result lies in 0..=MAX_NODE_SCORE.
pub trait ScorePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64;
    fn normalize(&self, _scores: &mut [i64]) {}
}

/// Scales scores to 0..=MAX_NODE_SCORE by the highest one, optionally reversed (fewer is
/// better), as upstream's DefaultNormalizeScore.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let v = *s * MAX_NODE_SCORE / max;
        *s = if reverse { MAX_NODE_SCORE - v } else { v };
    }
}

/// The summary upstream writes when no node fits: `0/3 nodes are available: 1 Insufficient
/// cpu, 2 node(s) had untolerated taint {k: v}.` (reasons counted over nodes, sorted).
pub fn fit_error_message(total_nodes: usize, statuses: &[Status]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in statuses {
        for r in s.reasons() {
            *counts.entry(r.as_str()).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    if parts.is_empty() {
        return format!("0/{total_nodes} nodes are available.");
    }
    format!("0/{total_nodes} nodes are available: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_error_counts_and_sorts_reasons_as_upstream() {
        let statuses = vec![
            Status::unschedulable("Insufficient cpu"),
            Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            ),
            Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            ),
        ];
        assert_eq!(
            fit_error_message(3, &statuses),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }."
        );
        assert_eq!(fit_error_message(0, &[]), "0/0 nodes are available.");
    }

    #[test]
    fn normalize_scales_and_reverses() {
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, false);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, true);
        assert_eq!(s, vec![100, 50, 0]);
        let mut s = vec![0, 0];
        default_normalize(&mut s, true);
        assert_eq!(s, vec![100, 100]);
    }
}
