//! Deployments, ReplicaSets, StatefulSets and DaemonSets (apps/v1), and ReplicationControllers
//! (core/v1), which share their selector and pod-template rules.

use serde_json::{Map, Value};

use super::common::*;
use super::errors::{go_label_selector, go_string_map, FieldError};
use super::names::{is_dns1123_label, is_dns1123_subdomain};
use super::pods::{validate_pod_template, RESTART_POLICIES};
use crate::labels::LabelSelector;

/// The singular name upstream uses in workload messages.
fn workload_word(plural: &str) -> &'static str {
    match plural {
        "statefulsets" => "statefulset",
        "daemonsets" => "daemonset",
        // Upstream's ReplicaSet check also says "deployment".
        _ => "deployment",
    }
}

/// Selector required and non-empty, template labels matching it.
fn validate_selector_and_template(spec: &Value, word: &str, errs: &mut Errs) {
    let sel = sub(spec, "selector");
    if sel.is_null() {
        errs.push(FieldError::required("spec.selector", ""));
    } else {
        errs.extend(validate_label_selector(sel, "spec.selector"));
        if arr(sel, "matchExpressions").is_empty()
            && obj_of(sel, "matchLabels").is_none_or(Map::is_empty)
        {
            errs.push(FieldError::invalid_rendered(
                "spec.selector",
                go_label_selector(sel),
                format!("empty selector is invalid for {word}"),
            ));
        }
    }
    check_template_matches_selector(spec, sel, errs);
}

fn check_template_matches_selector(spec: &Value, sel: &Value, errs: &mut Errs) {
    if sel.is_null() {
        return;
    }
    let labels = sub(sub(sub(spec, "template"), "metadata"), "labels");
    match selector_of(sel) {
        None => errs.push(FieldError::invalid_rendered(
            "spec.selector",
            go_label_selector(sel),
            "invalid label selector",
        )),
        Some(s) if !s.is_empty() && !s.matches(&string_map(labels)) => {
            errs.push(FieldError::invalid_rendered(
                "spec.template.metadata.labels",
                go_string_map(labels),
                "`selector` does not match template `labels`",
            ));
        }
        Some(_) => {}
    }
}

/// The pod template of a workload whose pods run forever (restartPolicy Always).
fn validate_long_running_template(spec: &Value, kind: &str, errs: &mut Errs) {
    let tpl = sub(spec, "template");
    validate_pod_template(tpl, "spec.template", errs);
    let pod_spec = sub(tpl, "spec");
    if let Some(policy) = opt_str(pod_spec, "restartPolicy") {
        if policy != "Always" && RESTART_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                "spec.template.spec.restartPolicy",
                policy,
                &["Always"],
            ));
        }
    }
    if let Some(secs) = int_of(pod_spec, "activeDeadlineSeconds") {
        errs.push(FieldError::invalid(
            "spec.template.spec.activeDeadlineSeconds",
            secs,
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

pub(super) fn validate_workload(plural: &str, spec: &Value, errs: &mut Errs) {
    validate_selector_and_template(spec, workload_word(plural), errs);
    let kind = match plural {
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        _ => "ReplicaSet",
    };
    validate_long_running_template(spec, kind, errs);
    if plural != "daemonsets" {
        check_nonnegative(spec, "replicas", "spec", errs);
    }
    check_nonnegative(spec, "minReadySeconds", "spec", errs);
    check_nonnegative(spec, "revisionHistoryLimit", "spec", errs);
    match plural {
        "deployments" => validate_deployment_strategy(spec, errs),
        "daemonsets" => {
            let strategy = sub(spec, "updateStrategy");
            check_enum(
                strategy,
                "type",
                "spec.updateStrategy",
                &["OnDelete", "RollingUpdate"],
                errs,
            );
            let ru = sub(strategy, "rollingUpdate");
            check_int_or_percent(
                ru,
                "maxUnavailable",
                "spec.updateStrategy.rollingUpdate",
                errs,
            );
            check_int_or_percent(ru, "maxSurge", "spec.updateStrategy.rollingUpdate", errs);
        }
        "statefulsets" => {
            check_enum(
                spec,
                "podManagementPolicy",
                "spec",
                &["OrderedReady", "Parallel"],
                errs,
            );
            let strategy = sub(spec, "updateStrategy");
            check_enum(
                strategy,
                "type",
                "spec.updateStrategy",
                &["OnDelete", "RollingUpdate"],
                errs,
            );
            let ru = sub(strategy, "rollingUpdate");
            check_nonnegative(ru, "partition", "spec.updateStrategy.rollingUpdate", errs);
            check_int_or_percent(
                ru,
                "maxUnavailable",
                "spec.updateStrategy.rollingUpdate",
                errs,
            );
            if let Some(name) = opt_str(spec, "serviceName").filter(|n| !n.is_empty()) {
                push_msgs(errs, "spec.serviceName", name, is_dns1123_label(name));
            }
            for (i, pvc) in arr(spec, "volumeClaimTemplates").iter().enumerate() {
                let name = str_of(sub(pvc, "metadata"), "name");
                let p = index("spec.volumeClaimTemplates", i);
                if name.is_empty() {
                    errs.push(FieldError::required(child(&p, "metadata.name"), ""));
                } else {
                    push_msgs(
                        errs,
                        &child(&p, "metadata.name"),
                        name,
                        is_dns1123_subdomain(name),
                    );
                }
            }
        }
        _ => {}
    }
}

fn validate_deployment_strategy(spec: &Value, errs: &mut Errs) {
    let strategy = sub(spec, "strategy");
    let strategy_type = opt_str(strategy, "type").unwrap_or("RollingUpdate");
    let ru = sub(strategy, "rollingUpdate");
    match strategy_type {
        "Recreate" if !ru.is_null() => errs.push(FieldError::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        "Recreate" | "RollingUpdate" => {}
        other => errs.push(FieldError::not_supported(
            "spec.strategy.type",
            other,
            &["Recreate", "RollingUpdate"],
        )),
    }
    let rp = "spec.strategy.rollingUpdate";
    check_int_or_percent(ru, "maxUnavailable", rp, errs);
    check_int_or_percent(ru, "maxSurge", rp, errs);
    if is_zero_int_or_percent(ru.get("maxUnavailable"))
        && is_zero_int_or_percent(ru.get("maxSurge"))
    {
        errs.push(FieldError::invalid(
            child(rp, "maxUnavailable"),
            ru.get("maxUnavailable").cloned().unwrap_or(Value::Null),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    check_nonnegative(spec, "progressDeadlineSeconds", "spec", errs);
    if let Some(deadline) = int_of(spec, "progressDeadlineSeconds") {
        if deadline <= int_of(spec, "minReadySeconds").unwrap_or(0) {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
}

pub(super) fn validate_replication_controller(spec: &Value, errs: &mut Errs) {
    let selector = sub(spec, "selector");
    if let Some(sel) = selector.as_object() {
        // v1 defaults a missing selector from the template labels, so only an explicit
        // empty one is an error.
        if sel.is_empty() {
            errs.push(FieldError::required("spec.selector", ""));
        } else {
            errs.extend(validate_labels(selector, "spec.selector"));
            let labels = sub(sub(sub(spec, "template"), "metadata"), "labels");
            if !LabelSelector::from_set(&string_map(selector)).matches(&string_map(labels)) {
                errs.push(FieldError::invalid_rendered(
                    "spec.template.metadata.labels",
                    go_string_map(labels),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    check_nonnegative(spec, "replicas", "spec", errs);
    check_nonnegative(spec, "minReadySeconds", "spec", errs);
    if sub(spec, "template").is_null() {
        errs.push(FieldError::required("spec.template", ""));
    } else {
        validate_long_running_template(spec, "ReplicationController", errs);
    }
}

pub(super) fn validate_stateful_set_update(old: &Value, new: &Value, errs: &mut Errs) {
    let strip = |s: &Value| {
        let mut s = normalized(s);
        if let Some(m) = s.as_object_mut() {
            for k in [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ] {
                m.remove(k);
            }
        }
        s
    };
    if strip(old) != strip(new) {
        errs.push(FieldError::forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}

/// A workload's selector is fixed at creation.
pub(super) fn validate_workload_update(old: &Value, new: &Value, errs: &mut Errs) {
    check_selector_immutable(sub(old, "spec"), sub(new, "spec"), errs);
}

#[cfg(test)]
mod tests {
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn valid_deployment_passes() {
        assert_eq!(
            check(
                "apps",
                "deployments",
                true,
                deployment(good_deployment_spec())
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn deployment_selector_must_match_template() {
        let mut spec = good_deployment_spec();
        spec["template"]["metadata"]["labels"] = json!({"app": "other", "tier": "fe"});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\", \"tier\":\"fe\"}: `selector` does not match template `labels`"]
        );
    }

    #[test]
    fn deployment_selector_required_and_non_empty() {
        let mut spec = good_deployment_spec();
        spec.as_object_mut().unwrap().remove("selector");
        assert_eq!(
            check("apps", "deployments", true, deployment(spec.clone())),
            ["spec.selector: Required value"]
        );
        spec["selector"] = json!({});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
        );
        let mut spec = good_deployment_spec();
        spec["selector"] = json!({"matchExpressions": [{"key": "app", "operator": "In"}]});
        let errs = check("apps", "deployments", true, deployment(spec));
        assert_eq!(errs[0], "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
    }

    #[test]
    fn deployment_numbers_and_strategy() {
        let mut spec = good_deployment_spec();
        spec["replicas"] = json!(-1);
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
        let mut spec = good_deployment_spec();
        spec["strategy"] = json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]
        );
        let mut spec = good_deployment_spec();
        spec["strategy"] = json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"]
        );
        let mut spec = good_deployment_spec();
        spec["strategy"] = json!({"rollingUpdate": {"maxUnavailable": "120%"}});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%"]
        );
        let mut spec = good_deployment_spec();
        spec["minReadySeconds"] = json!(10);
        spec["progressDeadlineSeconds"] = json!(5);
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"]
        );
    }

    #[test]
    fn workload_templates_are_pod_specs_that_restart_always() {
        let mut spec = good_deployment_spec();
        spec["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("image");
        spec["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            check("apps", "replicasets", true, deployment(spec)),
            [
                "spec.template.spec.containers[0].image: Required value",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }

    #[test]
    fn statefulsets_and_daemonsets() {
        let mut spec = good_deployment_spec();
        spec["podManagementPolicy"] = json!("Random");
        assert_eq!(
            check("apps", "statefulsets", true, deployment(spec)),
            ["spec.podManagementPolicy: Unsupported value: \"Random\": supported values: \"OrderedReady\", \"Parallel\""]
        );
        let mut spec = good_deployment_spec();
        spec["selector"] = json!({});
        let errs = check("apps", "daemonsets", true, deployment(spec));
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].ends_with("empty selector is invalid for daemonset"),
            "{errs:?}"
        );
    }

    #[test]
    fn replication_controllers() {
        let rc = json!({"metadata": {"name": "rc"}, "spec": {
            "selector": {"app": "a"},
            "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [container()]}}
        }});
        assert_eq!(
            check("", "replicationcontrollers", true, rc),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"b\"}: `selector` does not match template `labels`"]
        );
    }

    #[test]
    fn workload_selectors_are_immutable() {
        let old = deployment(good_deployment_spec());
        let mut new_spec = good_deployment_spec();
        new_spec["selector"] = json!({"matchLabels": {"app": "web", "v": "2"}});
        new_spec["template"]["metadata"]["labels"] = json!({"app": "web", "v": "2"});
        assert_eq!(
            update("apps", "deployments", old.clone(), deployment(new_spec)),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
        );
        let mut scaled = good_deployment_spec();
        scaled["replicas"] = json!(5);
        assert!(update("apps", "deployments", old, deployment(scaled)).is_empty());
    }

    #[test]
    fn stateful_set_spec_is_mostly_immutable() {
        let old = deployment(good_deployment_spec());
        let mut new_spec = good_deployment_spec();
        new_spec["serviceName"] = json!("other");
        assert_eq!(
            update("apps", "statefulsets", old.clone(), deployment(new_spec)),
            ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]
        );
        let mut new_spec = good_deployment_spec();
        new_spec["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
        assert!(update("apps", "statefulsets", old, deployment(new_spec)).is_empty());
    }
}
