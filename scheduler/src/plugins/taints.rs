//! TaintToleration: a node's NoSchedule and NoExecute taints keep off pods that do not
//! tolerate them; untolerated PreferNoSchedule taints lower the node's score.

use k8s_openapi::api::core::v1::{Pod, Taint, Toleration};

use crate::framework::{
    default_normalize, CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status,
};

/// Whether `t` tolerates `taint` (upstream's `ToleratesTaint`).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if effect != taint.effect {
            return false;
        }
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" => {
            !key.is_empty()
                && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or(&[])
}

fn taints(node: &NodeInfo) -> &[Taint] {
    node.node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[])
}

pub struct TaintToleration;

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Status {
        let tols = tolerations(pod);
        let untolerated = taints(node).iter().find(|taint| {
            matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
                && !tols.iter().any(|t| tolerates(t, taint))
        });
        match untolerated {
            None => Status::Success,
            Some(t) => Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key,
                t.value.as_deref().unwrap_or("")
            )),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn score(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        // Only PreferNoSchedule tolerations count here, as upstream.
        let tols: Vec<&Toleration> = tolerations(pod)
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .collect();
        taints(node)
            .iter()
            .filter(|taint| taint.effect == "PreferNoSchedule")
            .filter(|taint| !tols.iter().any(|t| tolerates(t, taint)))
            .count() as i64
    }

    fn normalize(&self, scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn node(taints: serde_json::Value) -> NodeInfo {
        NodeInfo::new(Arc::new(
            serde_json::from_value(
                serde_json::json!({"metadata": {"name": "n"}, "spec": {"taints": taints}}),
            )
            .unwrap(),
        ))
    }

    fn pod(tols: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({"spec": {"containers": [], "tolerations": tols}}))
            .unwrap()
    }

    #[test]
    fn untolerated_taints_are_named_as_upstream() {
        let n = node(
            serde_json::json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        );
        let p = pod(serde_json::json!([]));
        let st = CycleState::for_pod(&p);
        assert_eq!(
            TaintToleration.filter(&st, &p, &n),
            Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
            )
        );
        let p = pod(
            serde_json::json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]),
        );
        assert!(TaintToleration.filter(&st, &p, &n).is_success());
        let p = pod(serde_json::json!([{"operator": "Exists"}]));
        assert!(TaintToleration.filter(&st, &p, &n).is_success());
    }

    #[test]
    fn equal_needs_the_value() {
        let taint: Taint = serde_json::from_value(
            serde_json::json!({"key": "k", "value": "v", "effect": "NoExecute"}),
        )
        .unwrap();
        let t = |j| serde_json::from_value::<Toleration>(j).unwrap();
        assert!(tolerates(
            &t(serde_json::json!({"key": "k", "value": "v"})),
            &taint
        ));
        assert!(!tolerates(
            &t(serde_json::json!({"key": "k", "value": "w"})),
            &taint
        ));
        assert!(!tolerates(
            &t(serde_json::json!({"key": "k", "value": "v", "effect": "NoSchedule"})),
            &taint
        ));
        assert!(tolerates(
            &t(serde_json::json!({"key": "k", "operator": "Exists"})),
            &taint
        ));
    }
}
