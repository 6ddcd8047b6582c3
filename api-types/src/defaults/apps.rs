//! Deployments, ReplicaSets, StatefulSets and DaemonSets (apps/v1), ReplicationControllers
//! (core/v1) and HorizontalPodAutoscalers (autoscaling).

use serde_json::{json, Value};

use super::common::*;
use super::core::persistent_volume_claim;
use super::pods::pod_template;

pub(super) fn replication_controller(o: &mut Obj) {
    let template_labels = o
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned();
    if let Some(labels) = template_labels {
        if let Some(spec) = ensure_object(o, "spec") {
            if !non_empty_object(spec.get("selector")) {
                spec.insert("selector".into(), Value::Object(labels.clone()));
            }
        }
        if let Some(meta) = ensure_object(o, "metadata") {
            if !non_empty_object(meta.get("labels")) {
                meta.insert("labels".into(), Value::Object(labels));
            }
        }
    }
    if let Some(spec) = ensure_object(o, "spec") {
        default_value(spec, "replicas", json!(1));
        if let Some(t) = object(spec, "template") {
            pod_template(t);
        }
    }
}

/// The pod template under `spec.template`, when there is one.
pub(super) fn spec_template(spec: &mut Obj) {
    if let Some(t) = object(spec, "template") {
        pod_template(t);
    }
}

pub(super) fn deployment(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_value(spec, "replicas", json!(1));
    if let Some(strategy) = ensure_object(spec, "strategy") {
        default_str(strategy, "type", "RollingUpdate");
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(rolling) = ensure_object(strategy, "rollingUpdate") {
                default_value(rolling, "maxUnavailable", json!("25%"));
                default_value(rolling, "maxSurge", json!("25%"));
            }
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    default_value(spec, "progressDeadlineSeconds", json!(600));
    spec_template(spec);
}

pub(super) fn replica_set(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        default_value(spec, "replicas", json!(1));
        spec_template(spec);
    }
}

pub(super) fn stateful_set(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = ensure_object(spec, "updateStrategy") {
        if unset_str(strategy.get("type")) {
            strategy.insert("type".into(), json!("RollingUpdate"));
            default_value(strategy, "rollingUpdate", json!({}));
        }
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(rolling) = object(strategy, "rollingUpdate") {
                default_value(rolling, "partition", json!(0));
            }
        }
    }
    if let Some(policy) = ensure_object(spec, "persistentVolumeClaimRetentionPolicy") {
        default_str(policy, "whenDeleted", "Retain");
        default_str(policy, "whenScaled", "Retain");
    }
    default_value(spec, "replicas", json!(1));
    default_value(spec, "revisionHistoryLimit", json!(10));
    spec_template(spec);
    for_each(spec, "volumeClaimTemplates", persistent_volume_claim);
}

pub(super) fn daemon_set(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    if let Some(strategy) = ensure_object(spec, "updateStrategy") {
        default_str(strategy, "type", "RollingUpdate");
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(rolling) = ensure_object(strategy, "rollingUpdate") {
                default_value(rolling, "maxUnavailable", json!(1));
                default_value(rolling, "maxSurge", json!(0));
            }
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    spec_template(spec);
}

pub(super) fn horizontal_pod_autoscaler(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_value(spec, "minReplicas", json!(1));
    if !non_empty_array(spec.get("metrics")) {
        spec.insert(
            "metrics".into(),
            json!([{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80}
                }
            }]),
        );
    }
    if let Some(behavior) = object(spec, "behavior") {
        let scale_up = json!({
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}
            ]
        });
        let scale_down = json!({
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        });
        for (key, defaults) in [("scaleUp", scale_up), ("scaleDown", scale_down)] {
            let Some(rules) = ensure_object(behavior, key) else {
                continue;
            };
            if let Value::Object(defaults) = defaults {
                for (k, v) in defaults {
                    default_value(rules, &k, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::defaults::testing::*;
    use serde_json::json;

    #[test]
    fn deployment_defaults() {
        let d = defaulted(
            "apps",
            "deployments",
            json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
        );
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");

        let recreate = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}}),
        );
        assert_eq!(recreate["spec"]["replicas"], 0);
        assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));

        let partial = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 2}}}}),
        );
        assert_eq!(
            partial["spec"]["strategy"]["rollingUpdate"],
            json!({"maxSurge": 2, "maxUnavailable": "25%"})
        );
    }

    #[test]
    fn replica_set_and_replication_controller() {
        let rs = defaulted("apps", "replicasets", json!({"spec": {}}));
        assert_eq!(rs["spec"]["replicas"], 1);

        let rc = defaulted(
            "",
            "replicationcontrollers",
            json!({"metadata": {"name": "rc"}, "spec": {"template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "a:1"}]}}}}),
        );
        assert_eq!(rc["spec"]["replicas"], 1);
        assert_eq!(rc["spec"]["selector"], json!({"app": "x"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "x"}));
        assert_eq!(rc["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");

        let own = defaulted(
            "",
            "replicationcontrollers",
            json!({"metadata": {"name": "rc", "labels": {"mine": "1"}}, "spec": {"selector": {"app": "x"},
                "template": {"metadata": {"labels": {"app": "x", "v": "2"}}}}}),
        );
        assert_eq!(own["spec"]["selector"], json!({"app": "x"}));
        assert_eq!(own["metadata"]["labels"], json!({"mine": "1"}));
    }

    #[test]
    fn stateful_set_defaults() {
        let s = defaulted(
            "apps",
            "statefulsets",
            json!({"spec": {"serviceName": "s", "template": {"spec": {"containers": [{"name": "c", "image": "a:1"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}}),
        );
        let spec = &s["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(
            spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
            "Filesystem"
        );
        assert_eq!(
            spec["volumeClaimTemplates"][0]["status"]["phase"],
            "Pending"
        );
        assert_eq!(
            spec["template"]["spec"]["schedulerName"],
            "default-scheduler"
        );

        // An explicit RollingUpdate without rollingUpdate gets no partition (as upstream).
        let explicit = defaulted(
            "apps",
            "statefulsets",
            json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}}),
        );
        assert_eq!(
            explicit["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate"})
        );
        let on_delete = defaulted(
            "apps",
            "statefulsets",
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn daemon_set_defaults() {
        let d = defaulted("apps", "daemonsets", json!({"spec": {}}));
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let on_delete = defaulted(
            "apps",
            "daemonsets",
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn autoscaler_defaults() {
        let h = defaulted(
            "autoscaling",
            "horizontalpodautoscalers",
            json!({"spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "d"}}}),
        );
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert!(h["spec"].get("behavior").is_none());

        let b = defaulted(
            "autoscaling",
            "horizontalpodautoscalers",
            json!({"spec": {"minReplicas": 2, "maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
        );
        let behavior = &b["spec"]["behavior"];
        assert_eq!(b["spec"]["minReplicas"], 2);
        assert_eq!(behavior["scaleUp"]["stabilizationWindowSeconds"], 0);
        assert_eq!(behavior["scaleUp"]["policies"].as_array().unwrap().len(), 2);
        assert_eq!(behavior["scaleDown"]["stabilizationWindowSeconds"], 60);
        assert_eq!(behavior["scaleDown"]["selectPolicy"], "Max");
        assert_eq!(
            behavior["scaleDown"]["policies"],
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}])
        );
    }
}
