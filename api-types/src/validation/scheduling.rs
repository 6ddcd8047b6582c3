//! The small groups that steer scheduling and scaling: Leases (coordination.k8s.io),
//! PodDisruptionBudgets (policy), HorizontalPodAutoscalers (autoscaling) and PriorityClasses
//! (scheduling.k8s.io).

use serde_json::Value;

use super::common::*;
use super::errors::FieldError;
use super::names::is_valid_path_segment_name;

pub(super) fn validate_lease(spec: &Value, errs: &mut Errs) {
    if let Some(d) = int_of(spec, "leaseDurationSeconds") {
        if d <= 0 {
            errs.push(FieldError::invalid(
                "spec.leaseDurationSeconds",
                d,
                "must be greater than 0",
            ));
        }
    }
    check_nonnegative(spec, "leaseTransitions", "spec", errs);
}

pub(super) fn validate_pdb(spec: &Value, errs: &mut Errs) {
    if has(spec, "minAvailable") && has(spec, "maxUnavailable") {
        errs.push(FieldError::invalid_rendered(
            "spec",
            normalized(spec).to_string(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    check_int_or_percent(spec, "minAvailable", "spec", errs);
    check_int_or_percent(spec, "maxUnavailable", "spec", errs);
    if let Some(sel) = spec.get("selector").filter(|s| !s.is_null()) {
        errs.extend(validate_label_selector(sel, "spec.selector"));
    }
    check_enum(
        spec,
        "unhealthyPodEvictionPolicy",
        "spec",
        &["AlwaysAllow", "IfHealthyBudget"],
        errs,
    );
}

pub(super) fn validate_hpa(spec: &Value, errs: &mut Errs) {
    let target = sub(spec, "scaleTargetRef");
    if str_of(target, "kind").is_empty() {
        errs.push(FieldError::required("spec.scaleTargetRef.kind", ""));
    }
    let name = str_of(target, "name");
    if name.is_empty() {
        errs.push(FieldError::required("spec.scaleTargetRef.name", ""));
    } else {
        push_msgs(
            errs,
            "spec.scaleTargetRef.name",
            name,
            is_valid_path_segment_name(name),
        );
    }
    let min = int_of(spec, "minReplicas");
    if let Some(m) = min.filter(|m| *m < 1) {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            m,
            "must be greater than or equal to 1",
        ));
    }
    let max = int_of(spec, "maxReplicas").unwrap_or(0);
    if max < 1 {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            max,
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|m| max < m) {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
}

/// Priority classes upstream creates itself, with their values.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i64)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

pub(super) fn validate_priority_class(obj: &Value, errs: &mut Errs) {
    let name = str_of(sub(obj, "metadata"), "name");
    let value = int_of(obj, "value").unwrap_or(0);
    if name.starts_with("system-") {
        let known = SYSTEM_PRIORITY_CLASSES
            .iter()
            .any(|(n, v)| *n == name && *v == value);
        if !known {
            errs.push(FieldError::forbidden(
                "metadata.name",
                format!(
                    "priority class names with 'system-' prefix are reserved for system use only. error: {name} is not a known system priority class"
                ),
            ));
        }
    } else if value > HIGHEST_USER_PRIORITY {
        errs.push(FieldError::forbidden(
            "value",
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"),
        ));
    }
    check_enum(
        obj,
        "preemptionPolicy",
        "",
        &["Never", "PreemptLowerPriority"],
        errs,
    );
}

/// A PriorityClass's value and preemption policy are fixed at creation.
pub(super) fn validate_priority_class_update(old: &Value, new: &Value, errs: &mut Errs) {
    if int_of(old, "value") != int_of(new, "value") {
        errs.push(FieldError::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    let policy = |o: &Value| {
        opt_str(o, "preemptionPolicy")
            .unwrap_or("PreemptLowerPriority")
            .to_string()
    };
    if policy(old) != policy(new) {
        errs.push(FieldError::invalid(
            "preemptionPolicy",
            policy(new),
            "field is immutable",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn disruption_budgets_and_autoscalers() {
        assert_eq!(
            check("policy", "poddisruptionbudgets", true, json!({"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "maxUnavailable": 1}})),
            ["spec: Invalid value: {\"minAvailable\":1,\"maxUnavailable\":1}: minAvailable and maxUnavailable cannot be both set"]
        );
        assert!(check("policy", "poddisruptionbudgets", true, json!({"metadata": {"name": "p"}, "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}})).is_empty());
        let hpa = |spec: Value| {
            check(
                "autoscaling",
                "horizontalpodautoscalers",
                true,
                json!({"metadata": {"name": "h"}, "spec": spec}),
            )
        };
        assert!(hpa(json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 3})).is_empty());
        assert_eq!(
            hpa(json!({"scaleTargetRef": {}, "minReplicas": 5, "maxReplicas": 3})),
            [
                "spec.scaleTargetRef.kind: Required value",
                "spec.scaleTargetRef.name: Required value",
                "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"
            ]
        );
    }

    #[test]
    fn priority_classes() {
        assert_eq!(
            check(
                "scheduling.k8s.io",
                "priorityclasses",
                false,
                json!({"metadata": {"name": "high"}, "value": 2_000_000_000})
            ),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
        );
        assert!(check(
            "scheduling.k8s.io",
            "priorityclasses",
            false,
            json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000})
        )
        .is_empty());
        assert_eq!(
            check("scheduling.k8s.io", "priorityclasses", false, json!({"metadata": {"name": "system-mine"}, "value": 1})),
            ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]
        );
    }
}
