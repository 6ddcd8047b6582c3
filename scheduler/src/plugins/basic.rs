//! The simple plugins: SchedulingGates, NodeUnschedulable, NodeName and NodePorts, with
//! upstream's reason strings.

use k8s_openapi::api::core::v1::Pod;

use crate::framework::{CycleState, FilterPlugin, NodeInfo, PreEnqueuePlugin, Status};

/// Keeps pods with `spec.schedulingGates` out of the active queue.
pub struct SchedulingGates;

impl PreEnqueuePlugin for SchedulingGates {
    fn name(&self) -> &'static str {
        "SchedulingGates"
    }

    fn pre_enqueue(&self, pod: &Pod) -> Status {
        let gates: Vec<&str> = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduling_gates.as_ref())
            .map(|g| g.iter().map(|g| g.name.as_str()).collect())
            .unwrap_or_default();
        if gates.is_empty() {
            Status::Success
        } else {
            Status::unresolvable(format!(
                "waiting for scheduling gates: [{}]",
                gates.join(" ")
            ))
        }
    }
}

/// Refuses cordoned nodes unless the pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`.
pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let cordoned = node
            .node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if !cordoned {
            return Status::Success;
        }
        let tolerated = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_ref())
            .is_some_and(|ts| {
                ts.iter().any(|t| {
                    let key_ok = match t.key.as_deref() {
                        None | Some("") => t.operator.as_deref() == Some("Exists"),
                        Some(k) => k == "node.kubernetes.io/unschedulable",
                    };
                    let effect_ok =
                        matches!(t.effect.as_deref(), None | Some("") | Some("NoSchedule"));
                    key_ok && effect_ok
                })
            });
        if tolerated {
            Status::Success
        } else {
            Status::unresolvable("node(s) were unschedulable")
        }
    }
}

/// Keeps a pod whose `spec.nodeName` is set (by a user, before binding) on that node.
pub struct NodeName;

impl FilterPlugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        match pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(n) if !n.is_empty() && n != node.name() => {
                Status::unresolvable("node(s) didn't match the requested node name")
            }
            _ => Status::Success,
        }
    }
}

/// Refuses nodes where a requested host port is taken (0.0.0.0 conflicts with every address).
pub struct NodePorts;

impl FilterPlugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn filter(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> Status {
        let conflict = state.host_ports.iter().any(|(ip, proto, port)| {
            node.used_ports.iter().any(|(uip, uproto, uport)| {
                uport == port
                    && uproto == proto
                    && (ip == "0.0.0.0" || uip == "0.0.0.0" || ip == uip)
            })
        });
        if conflict {
            Status::unschedulable("node(s) didn't have free ports for the requested pod ports")
        } else {
            Status::Success
        }
    }
}
