//! NodeResourcesFit (the requests fit in what the node has left, with LeastAllocated or
//! MostAllocated scoring over cpu and memory) and NodeResourcesBalancedAllocation (prefer
//! nodes whose cpu and memory use stay even).

use k8s_openapi::api::core::v1::Pod;

use crate::framework::{CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status, MAX_NODE_SCORE};
use crate::resources::Resources;

/// `scoringStrategy.type` of NodeResourcesFitArgs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    #[default]
    LeastAllocated,
    MostAllocated,
}

pub struct NodeResourcesFit {
    pub strategy: ScoringStrategy,
}

/// How many pods the node takes (`allocatable.pods`, 110 if not reported as upstream's default).
fn allowed_pods(node: &NodeInfo) -> usize {
    let status = node.node.status.as_ref();
    status
        .and_then(|s| s.allocatable.as_ref().or(s.capacity.as_ref()))
        .and_then(|l| l.get("pods"))
        .and_then(|q| q.0.parse::<usize>().ok())
        .unwrap_or(110)
}

/// The reasons the pod's requests do not fit (empty when they do), upstream's wording.
pub fn insufficient(req: &Resources, node: &NodeInfo) -> Vec<String> {
    let mut reasons = Vec::new();
    if node.pod_count + 1 > allowed_pods(node) {
        reasons.push("Too many pods".to_string());
    }
    let alloc = node.allocatable();
    let used = &node.requested;
    if req.milli_cpu > 0 && req.milli_cpu > alloc.milli_cpu - used.milli_cpu {
        reasons.push("Insufficient cpu".to_string());
    }
    if req.memory > 0 && req.memory > alloc.memory - used.memory {
        reasons.push("Insufficient memory".to_string());
    }
    if req.ephemeral_storage > 0
        && req.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
    {
        reasons.push("Insufficient ephemeral-storage".to_string());
    }
    for (name, want) in &req.scalar {
        if *want == 0 {
            continue;
        }
        let have = alloc.scalar.get(name).copied().unwrap_or(0)
            - used.scalar.get(name).copied().unwrap_or(0);
        if *want > have {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    reasons
}

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filter(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> Status {
        let reasons = insufficient(&state.requests, node);
        if reasons.is_empty() {
            Status::Success
        } else {
            Status::Unschedulable(reasons)
        }
    }
}

/// (requested after placing the pod, allocatable) for cpu and memory, with non-zero requests.
fn cpu_and_memory(state: &CycleState, node: &NodeInfo) -> [(i64, i64); 2] {
    let alloc = node.allocatable();
    let used = &node.non_zero_requested;
    let want = &state.non_zero_requests;
    [
        (used.milli_cpu + want.milli_cpu, alloc.milli_cpu),
        (used.memory + want.memory, alloc.memory),
    ]
}

impl ScorePlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn score(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> i64 {
        let pairs = cpu_and_memory(state, node);
        let per: i64 = pairs
            .iter()
            .map(|&(requested, capacity)| {
                if capacity <= 0 || requested > capacity {
                    return 0;
                }
                match self.strategy {
                    ScoringStrategy::LeastAllocated => {
                        (capacity - requested) * MAX_NODE_SCORE / capacity
                    }
                    ScoringStrategy::MostAllocated => requested * MAX_NODE_SCORE / capacity,
                }
            })
            .sum();
        per / pairs.len() as i64
    }
}

pub struct BalancedAllocation;

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn score(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> i64 {
        let fractions: Vec<f64> = cpu_and_memory(state, node)
            .iter()
            .map(|&(requested, capacity)| {
                if capacity <= 0 {
                    1.0
                } else {
                    (requested as f64 / capacity as f64).min(1.0)
                }
            })
            .collect();
        // With two resources the standard deviation is half their difference.
        let std = (fractions[0] - fractions[1]).abs() / 2.0;
        ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn node(cpu: &str, mem: &str, pods: &str) -> NodeInfo {
        NodeInfo::new(Arc::new(
            serde_json::from_value(serde_json::json!({"metadata": {"name": "n"},
                "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": pods}}}))
            .unwrap(),
        ))
    }

    fn pod(cpu: &str, mem: &str) -> Pod {
        serde_json::from_value(
            serde_json::json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [
            {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}),
        )
        .unwrap()
    }

    #[test]
    fn fit_names_every_insufficient_resource() {
        let mut n = node("1", "1Gi", "1");
        n.add_pod("d/x".into(), Arc::new(pod("500m", "512Mi")));
        let p = pod("600m", "100Mi");
        let st = CycleState::for_pod(&p);
        let fit = NodeResourcesFit {
            strategy: ScoringStrategy::LeastAllocated,
        };
        assert_eq!(
            fit.filter(&st, &p, &n),
            Status::Unschedulable(vec!["Too many pods".into(), "Insufficient cpu".into()])
        );
        assert!(n.remove_pod("d/x"));
        assert!(fit.filter(&st, &p, &n).is_success());
    }

    #[test]
    fn least_allocated_prefers_the_emptier_node() {
        let empty = node("4", "8Gi", "110");
        let mut busy = node("4", "8Gi", "110");
        busy.add_pod("d/x".into(), Arc::new(pod("3", "6Gi")));
        let p = pod("500m", "1Gi");
        let st = CycleState::for_pod(&p);
        let fit = NodeResourcesFit {
            strategy: ScoringStrategy::LeastAllocated,
        };
        assert!(fit.score(&st, &p, &empty) > fit.score(&st, &p, &busy));
        let most = NodeResourcesFit {
            strategy: ScoringStrategy::MostAllocated,
        };
        assert!(most.score(&st, &p, &empty) < most.score(&st, &p, &busy));
        assert_eq!(BalancedAllocation.score(&st, &p, &empty), 100);
    }
}
