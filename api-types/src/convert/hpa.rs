//! autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscalers.
//!
//! They follow upstream's scheme: autoscaling/v1 carries only a CPU utilization target, and
//! everything v2 has that v1 cannot say (other metrics, current metrics, conditions, scaling
//! behavior) travels in `autoscaling.alpha.kubernetes.io/*` annotations, in the same encodings
//! upstream writes, so objects copied from an upstream cluster convert the same way. One
//! extension keeps metric order across a v2→v1→v2 round trip: when the CPU utilization metric
//! is not the last metric, it is also written (at its position) into the metrics annotation,
//! and reading such an annotation puts the `targetCPUUtilizationPercentage` there instead of
//! appending it.

use serde_json::{json, Map, Value};

use super::hpa_metrics::{
    is_cpu_utilization_v1, is_cpu_utilization_v2, metric_spec_v1_to_v2, metric_spec_v2_to_v1,
    metric_status_v1_to_v2, metric_status_v2_to_v1, put, some,
};
use super::{
    carry, typed, BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, DEFAULT_CPU_UTILIZATION,
    METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, ROUND_TRIP_ANNOTATIONS,
};

/// camelCase v2 behavior keys ↔ the Go field names upstream's annotation uses.
const BEHAVIOR_KEYS: &[(&str, &str)] = &[
    ("scaleUp", "ScaleUp"),
    ("scaleDown", "ScaleDown"),
    ("stabilizationWindowSeconds", "StabilizationWindowSeconds"),
    ("selectPolicy", "SelectPolicy"),
    ("policies", "Policies"),
    ("tolerance", "Tolerance"),
    ("type", "Type"),
    ("value", "Value"),
    ("periodSeconds", "PeriodSeconds"),
];

/// The v2 `spec.behavior` encoded as upstream's annotation: Go field names, unset pointers
/// as null.
fn behavior_to_annotation(behavior: &Value) -> String {
    fn rules(r: Option<&Value>) -> Value {
        let Some(r) = r.filter(|v| v.is_object()) else {
            return Value::Null;
        };
        let mut o = Map::new();
        for (camel, go) in [
            ("stabilizationWindowSeconds", "StabilizationWindowSeconds"),
            ("selectPolicy", "SelectPolicy"),
            ("policies", "Policies"),
        ] {
            let v = r.get(camel).cloned().unwrap_or(Value::Null);
            let v = if camel == "policies" {
                match v {
                    Value::Array(ps) => Value::Array(
                        ps.iter()
                            .map(|p| {
                                json!({
                                    "Type": p.get("type").cloned().unwrap_or(json!("")),
                                    "Value": p.get("value").cloned().unwrap_or(json!(0)),
                                    "PeriodSeconds":
                                        p.get("periodSeconds").cloned().unwrap_or(json!(0)),
                                })
                            })
                            .collect(),
                    ),
                    other => other,
                }
            } else {
                v
            };
            o.insert(go.into(), v);
        }
        if let Some(t) = r.get("tolerance") {
            o.insert("Tolerance".into(), t.clone());
        }
        Value::Object(o)
    }
    let out = json!({
        "ScaleUp": rules(behavior.get("scaleUp")),
        "ScaleDown": rules(behavior.get("scaleDown")),
    });
    out.to_string()
}

/// Reads upstream's behavior annotation (Go field names, matched case-insensitively as Go's
/// decoder does) back into v2 camelCase. Null members are dropped.
fn behavior_from_annotation(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, val) in m {
                if val.is_null() {
                    continue;
                }
                let camel = BEHAVIOR_KEYS
                    .iter()
                    .find(|(c, go)| c.eq_ignore_ascii_case(k) || go.eq_ignore_ascii_case(k))
                    .map(|(c, _)| c.to_string());
                let Some(camel) = camel else { continue };
                out.insert(camel, behavior_from_annotation(val));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(behavior_from_annotation).collect()),
        other => other.clone(),
    }
}

/// Upstream's scale-up rules when `behavior` is given without them.
fn default_scale_up() -> Value {
    json!({
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ],
    })
}

/// Upstream's scale-down rules when `behavior` is given without them.
fn default_scale_down() -> Value {
    json!({
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    })
}

/// Metadata without the round-trip annotations (and without `annotations` if that leaves it
/// empty).
fn strip_round_trip_annotations(metadata: Option<&Value>) -> Option<Value> {
    let mut md = metadata.cloned()?;
    if let Some(m) = md.as_object_mut() {
        let now_empty = match m.get_mut("annotations").and_then(Value::as_object_mut) {
            Some(ann) => {
                let had = ROUND_TRIP_ANNOTATIONS.iter().any(|k| ann.contains_key(*k));
                for k in ROUND_TRIP_ANNOTATIONS {
                    ann.remove(k);
                }
                had && ann.is_empty()
            }
            None => false,
        };
        if now_empty {
            m.remove("annotations");
        }
    }
    Some(md)
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// An autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1.
pub fn hpa_v2_to_v1(obj: &Value) -> Value {
    let mut out = typed("autoscaling/v1", "HorizontalPodAutoscaler");
    let mut metadata = strip_round_trip_annotations(obj.get("metadata"));
    let mut annotations: Vec<(&str, String)> = Vec::new();

    if let Some(spec) = obj.get("spec") {
        let mut s = Map::new();
        carry(spec, "scaleTargetRef", &mut s, "scaleTargetRef");
        carry(spec, "minReplicas", &mut s, "minReplicas");
        carry(spec, "maxReplicas", &mut s, "maxReplicas");
        let metrics = spec
            .get("metrics")
            .and_then(Value::as_array)
            .map(Vec::as_slice);
        let metrics = metrics.unwrap_or(&[]);
        let cpu_at = metrics.iter().position(is_cpu_utilization_v2);
        if let Some(i) = cpu_at {
            put(
                &mut s,
                "targetCPUUtilizationPercentage",
                metrics[i].pointer("/resource/target/averageUtilization"),
            );
        }
        let keep_cpu_position = cpu_at.is_some_and(|i| i + 1 != metrics.len());
        let others: Vec<Value> = metrics
            .iter()
            .enumerate()
            .filter(|(i, m)| !is_cpu_utilization_v2(m) || (keep_cpu_position && Some(*i) == cpu_at))
            .map(|(_, m)| metric_spec_v2_to_v1(m))
            .collect();
        if !others.is_empty() {
            annotations.push((METRIC_SPECS_ANNOTATION, Value::Array(others).to_string()));
        }
        if let Some(b) = spec.get("behavior").filter(|b| !b.is_null()) {
            annotations.push((BEHAVIOR_ANNOTATION, behavior_to_annotation(b)));
        }
        out.insert("spec".into(), Value::Object(s));
    }

    if let Some(status) = obj.get("status") {
        let mut s = Map::new();
        for k in [
            "observedGeneration",
            "lastScaleTime",
            "currentReplicas",
            "desiredReplicas",
        ] {
            carry(status, k, &mut s, k);
        }
        let current = status.get("currentMetrics").and_then(Value::as_array);
        let current = current.map(Vec::as_slice).unwrap_or(&[]);
        for m in current {
            if m.get("type").and_then(Value::as_str) == Some("Resource")
                && m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
            {
                if let Some(u) = some(m, "/resource/current/averageUtilization") {
                    s.insert("currentCPUUtilizationPercentage".into(), u.clone());
                }
            }
        }
        if !current.is_empty() {
            let enc: Vec<Value> = current.iter().map(metric_status_v2_to_v1).collect();
            annotations.push((METRIC_STATUSES_ANNOTATION, Value::Array(enc).to_string()));
        }
        if let Some(conds) = status.get("conditions").and_then(Value::as_array) {
            if !conds.is_empty() {
                let enc: Vec<Value> = conds
                    .iter()
                    .map(|c| {
                        let mut o = Map::new();
                        for k in ["type", "status", "lastTransitionTime", "reason", "message"] {
                            carry(c, k, &mut o, k);
                        }
                        Value::Object(o)
                    })
                    .collect();
                annotations.push((CONDITIONS_ANNOTATION, Value::Array(enc).to_string()));
            }
        }
        out.insert("status".into(), Value::Object(s));
    }

    if !annotations.is_empty() {
        let md = metadata.get_or_insert_with(|| json!({}));
        if let Some(m) = md.as_object_mut() {
            let ann = m.entry("annotations").or_insert_with(|| json!({}));
            if !ann.is_object() {
                *ann = json!({});
            }
            if let Some(a) = ann.as_object_mut() {
                for (k, v) in annotations {
                    a.insert(k.to_string(), Value::String(v));
                }
            }
        }
    }
    if let Some(md) = metadata {
        insert_after_type(&mut out, "metadata", md);
    }
    Value::Object(out)
}

/// Inserts `key` right after `apiVersion`/`kind`, keeping the usual field order.
fn insert_after_type(out: &mut Map<String, Value>, key: &str, v: Value) {
    let rest: Vec<(String, Value)> = out
        .iter()
        .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.retain(|k, _| k == "apiVersion" || k == "kind");
    out.insert(key.to_string(), v);
    for (k, v) in rest {
        out.insert(k, v);
    }
}

fn parse_list(s: Option<&str>) -> Option<Vec<Value>> {
    let v: Value = serde_json::from_str(s?).ok()?;
    match v {
        Value::Array(items) => Some(items),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

fn cpu_metric_v2(utilization: &Value) -> Value {
    json!({
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": utilization},
        },
    })
}

/// An autoscaling/v1 HorizontalPodAutoscaler as autoscaling/v2.
pub fn hpa_v1_to_v2(obj: &Value) -> Value {
    let mut out = typed("autoscaling/v2", "HorizontalPodAutoscaler");
    if let Some(md) = strip_round_trip_annotations(obj.get("metadata")) {
        out.insert("metadata".into(), md);
    }

    let spec_in = obj.get("spec").cloned().unwrap_or(Value::Null);
    let mut spec = Map::new();
    carry(&spec_in, "scaleTargetRef", &mut spec, "scaleTargetRef");
    carry(&spec_in, "minReplicas", &mut spec, "minReplicas");
    carry(&spec_in, "maxReplicas", &mut spec, "maxReplicas");
    let target_cpu = some(&spec_in, "/targetCPUUtilizationPercentage");
    let mut metrics: Vec<Value> = Vec::new();
    let mut cpu_placed = false;
    if let Some(others) = parse_list(annotation(obj, METRIC_SPECS_ANNOTATION)) {
        for m in &others {
            if is_cpu_utilization_v1(m) {
                // Our own encoding: the CPU target's position in the v2 list.
                if !cpu_placed {
                    if let Some(t) = target_cpu {
                        metrics.push(cpu_metric_v2(t));
                    }
                    cpu_placed = true;
                }
                continue;
            }
            metrics.push(metric_spec_v1_to_v2(m));
        }
    }
    if !cpu_placed {
        if let Some(t) = target_cpu {
            metrics.push(cpu_metric_v2(t));
        }
    }
    if metrics.is_empty() {
        metrics.push(cpu_metric_v2(&json!(DEFAULT_CPU_UTILIZATION)));
    }
    spec.insert("metrics".into(), Value::Array(metrics));
    if let Some(enc) = annotation(obj, BEHAVIOR_ANNOTATION) {
        if let Ok(b) = serde_json::from_str::<Value>(enc) {
            // Like upstream: an all-null behavior is no behavior; a missing direction gets
            // the default rules.
            let b = behavior_from_annotation(&b);
            if let Some(m) = b.as_object().filter(|m| !m.is_empty()) {
                let up = m.get("scaleUp").cloned().unwrap_or_else(default_scale_up);
                let down = m
                    .get("scaleDown")
                    .cloned()
                    .unwrap_or_else(default_scale_down);
                spec.insert("behavior".into(), json!({"scaleUp": up, "scaleDown": down}));
            }
        }
    }
    if obj.get("spec").is_some() || !spec.is_empty() {
        out.insert("spec".into(), Value::Object(spec));
    }

    let status_in = obj.get("status");
    let mut status = Map::new();
    if let Some(st) = status_in {
        for k in [
            "observedGeneration",
            "lastScaleTime",
            "currentReplicas",
            "desiredReplicas",
        ] {
            carry(st, k, &mut status, k);
        }
    }
    let current = match parse_list(annotation(obj, METRIC_STATUSES_ANNOTATION)) {
        Some(list) => Some(list.iter().map(metric_status_v1_to_v2).collect::<Vec<_>>()),
        None => status_in
            .and_then(|st| some(st, "/currentCPUUtilizationPercentage"))
            .map(|u| {
                vec![json!({
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": u}},
                })]
            }),
    };
    if let Some(current) = current.filter(|c| !c.is_empty()) {
        status.insert("currentMetrics".into(), Value::Array(current));
    }
    if let Some(conds) = parse_list(annotation(obj, CONDITIONS_ANNOTATION)) {
        if !conds.is_empty() {
            status.insert("conditions".into(), Value::Array(conds));
        }
    }
    if status_in.is_some() || !status.is_empty() {
        out.insert("status".into(), Value::Object(status));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::convert;

    use serde_json::json;

    fn hpa_v2() -> Value {
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 10,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 60}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"},
                        "target": {"type": "AverageValue", "averageValue": "1k"}}},
                    {"type": "Object", "object": {
                        "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
                        "metric": {"name": "requests", "selector": {"matchLabels": {"a": "b"}}},
                        "target": {"type": "Value", "value": "2k"}}},
                    {"type": "External", "external": {"metric": {"name": "queue"},
                        "target": {"type": "AverageValue", "averageValue": "30"}}},
                    {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                        "target": {"type": "Utilization", "averageUtilization": 70}}},
                ],
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                        {"type": "Pods", "value": 4, "periodSeconds": 15},
                        {"type": "Percent", "value": 100, "periodSeconds": 15}]},
                    "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Min", "policies": [
                        {"type": "Percent", "value": 10, "periodSeconds": 60}]},
                },
            },
            "status": {
                "observedGeneration": 3,
                "lastScaleTime": "2024-05-01T10:00:00Z",
                "currentReplicas": 4,
                "desiredReplicas": 5,
                "currentMetrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageValue": "250m", "averageUtilization": 75}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "current": {"averageValue": "400Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "900"}}},
                    {"type": "Object", "object": {"metric": {"name": "requests", "selector": {"matchLabels": {"a": "b"}}},
                        "current": {"value": "1500"},
                        "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"}}},
                    {"type": "External", "external": {"metric": {"name": "queue"},
                        "current": {"value": "0", "averageValue": "12"}}},
                ],
                "conditions": [
                    {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2024-05-01T09:00:00Z",
                     "reason": "ReadyForNewScale", "message": "recommended size matches current size"},
                    {"type": "ScalingActive", "status": "True", "lastTransitionTime": "2024-05-01T09:00:00Z",
                     "reason": "ValidMetricFound", "message": "ok"},
                ],
            },
        })
    }

    #[test]
    fn hpa_v2_to_v1_keeps_cpu_target_and_stashes_the_rest() {
        let v1 = convert(hpa_v2(), "autoscaling/v2", "autoscaling/v1").unwrap();
        assert_eq!(v1["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);
        assert_eq!(v1["spec"]["minReplicas"], 2);
        assert_eq!(v1["spec"]["maxReplicas"], 10);
        assert_eq!(v1["spec"]["scaleTargetRef"]["name"], "web");
        assert!(v1["spec"].get("metrics").is_none());
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 75);
        assert_eq!(v1["status"]["currentReplicas"], 4);
        assert_eq!(v1["status"]["desiredReplicas"], 5);
        assert!(v1["status"].get("conditions").is_none());
        let ann = &v1["metadata"]["annotations"];
        assert_eq!(ann["team"], "a");
        let metrics: Value =
            serde_json::from_str(ann[METRIC_SPECS_ANNOTATION].as_str().unwrap()).unwrap();
        // The CPU target is not last, so it keeps its slot in the annotation.
        assert_eq!(metrics.as_array().unwrap().len(), 6);
        assert_eq!(metrics[1]["resource"]["targetAverageValue"], "500Mi");
        assert_eq!(metrics[2]["pods"]["metricName"], "qps");
        assert_eq!(metrics[2]["pods"]["targetAverageValue"], "1k");
        assert_eq!(metrics[3]["object"]["target"]["kind"], "Ingress");
        assert_eq!(metrics[3]["object"]["targetValue"], "2k");
        assert_eq!(metrics[4]["external"]["targetAverageValue"], "30");
        assert_eq!(metrics[5]["containerResource"]["container"], "app");
        let statuses: Value =
            serde_json::from_str(ann[METRIC_STATUSES_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(statuses[0]["resource"]["currentAverageUtilization"], 75);
        assert_eq!(statuses[0]["resource"]["currentAverageValue"], "250m");
        let conds: Value =
            serde_json::from_str(ann[CONDITIONS_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(conds[1]["reason"], "ValidMetricFound");
        let behavior: Value =
            serde_json::from_str(ann[BEHAVIOR_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(behavior["ScaleDown"]["StabilizationWindowSeconds"], 300);
        assert_eq!(behavior["ScaleDown"]["Policies"][0]["PeriodSeconds"], 60);
    }

    #[test]
    fn hpa_v2_round_trips_through_v1_unchanged() {
        let v2 = hpa_v2();
        let v1 = convert(v2.clone(), "autoscaling/v2", "autoscaling/v1").unwrap();
        let back = convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap();
        assert_eq!(back, v2);
    }

    #[test]
    fn hpa_v2_with_cpu_last_writes_upstream_annotation_and_round_trips() {
        let mut v2 = hpa_v2();
        let metrics = v2["spec"]["metrics"].as_array_mut().unwrap();
        let cpu = metrics.remove(0);
        metrics.push(cpu);
        let v1 = convert(v2.clone(), "autoscaling/v2", "autoscaling/v1").unwrap();
        let ann = v1["metadata"]["annotations"][METRIC_SPECS_ANNOTATION]
            .as_str()
            .unwrap();
        let others: Value = serde_json::from_str(ann).unwrap();
        assert_eq!(
            others.as_array().unwrap().len(),
            5,
            "CPU utilization is not stashed"
        );
        assert_eq!(convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap(), v2);
    }

    #[test]
    fn hpa_v2_without_annotations_round_trips_without_annotations() {
        let v2 = json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50}}}],
            },
        });
        let v1 = convert(v2.clone(), "autoscaling/v2", "autoscaling/v1").unwrap();
        assert!(v1["metadata"].get("annotations").is_none());
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
        assert_eq!(convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap(), v2);
    }

    fn hpa_v1() -> Value {
        json!({
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1,
                "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 70,
            },
            "status": {
                "observedGeneration": 1,
                "lastScaleTime": "2024-05-01T10:00:00Z",
                "currentReplicas": 2,
                "desiredReplicas": 3,
                "currentCPUUtilizationPercentage": 85,
            },
        })
    }

    #[test]
    fn hpa_v1_to_v2_makes_a_cpu_metric() {
        let v2 = convert(hpa_v1(), "autoscaling/v1", "autoscaling/v2").unwrap();
        assert_eq!(v2["apiVersion"], "autoscaling/v2");
        assert_eq!(
            v2["spec"]["metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70}}}])
        );
        assert_eq!(
            v2["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"],
            85
        );
        assert_eq!(v2["status"]["desiredReplicas"], 3);
        assert!(v2["spec"].get("targetCPUUtilizationPercentage").is_none());
    }

    #[test]
    fn hpa_v1_round_trips_through_v2_unchanged() {
        let v1 = hpa_v1();
        let v2 = convert(v1.clone(), "autoscaling/v1", "autoscaling/v2").unwrap();
        let back = convert(v2, "autoscaling/v2", "autoscaling/v1").unwrap();
        // The v2 current metric is stored in the annotation too, as upstream does.
        let mut expected = v1;
        expected["metadata"]["annotations"] = json!({
            METRIC_STATUSES_ANNOTATION:
                r#"[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":85,"currentAverageValue":"0"}}]"#
        });
        assert_eq!(back, expected);
        // And that annotated v1 object is a fixed point.
        let again = convert(
            convert(back.clone(), "autoscaling/v1", "autoscaling/v2").unwrap(),
            "autoscaling/v2",
            "autoscaling/v1",
        )
        .unwrap();
        assert_eq!(again, back);
    }

    #[test]
    fn hpa_v1_without_status_round_trips_exactly() {
        let mut v1 = hpa_v1();
        v1.as_object_mut().unwrap().remove("status");
        let v2 = convert(v1.clone(), "autoscaling/v1", "autoscaling/v2").unwrap();
        assert!(v2.get("status").is_none());
        assert_eq!(convert(v2, "autoscaling/v2", "autoscaling/v1").unwrap(), v1);
    }

    #[test]
    fn hpa_v1_without_cpu_target_gets_the_implicit_80_percent() {
        let mut v1 = hpa_v1();
        v1["spec"]
            .as_object_mut()
            .unwrap()
            .remove("targetCPUUtilizationPercentage");
        let v2 = convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap();
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
    }

    #[test]
    fn upstream_metrics_annotation_is_read_with_cpu_last() {
        let mut v1 = hpa_v1();
        v1["metadata"]["annotations"] = json!({
            METRIC_SPECS_ANNOTATION:
                r#"[{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}}]"#,
            "keep": "me",
        });
        let v2 = convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap();
        let m = &v2["spec"]["metrics"];
        assert_eq!(m[0]["pods"]["metric"]["name"], "qps");
        assert_eq!(
            m[0]["pods"]["target"],
            json!({"type": "AverageValue", "averageValue": "10"})
        );
        assert_eq!(m[1]["resource"]["name"], "cpu");
        assert_eq!(v2["metadata"]["annotations"], json!({"keep": "me"}));
    }

    #[test]
    fn upstream_behavior_annotation_is_read_and_defaults_fill_missing_directions() {
        let mut v1 = hpa_v1();
        v1["metadata"]["annotations"] = json!({
            BEHAVIOR_ANNOTATION:
                r#"{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":120,"SelectPolicy":null,"Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":60}]}}"#,
        });
        let v2 = convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap();
        let b = &v2["spec"]["behavior"];
        assert_eq!(b["scaleDown"]["stabilizationWindowSeconds"], 120);
        assert_eq!(
            b["scaleDown"]["policies"][0],
            json!({"type": "Pods", "value": 1, "periodSeconds": 60})
        );
        assert!(b["scaleDown"].get("selectPolicy").is_none());
        assert_eq!(b["scaleUp"], default_scale_up());
        assert!(v2["metadata"].get("annotations").is_none());
    }

    #[test]
    fn stale_round_trip_annotations_on_v2_are_replaced() {
        let mut v2 = hpa_v2();
        v2["metadata"]["annotations"][CONDITIONS_ANNOTATION] = json!("[]");
        v2["status"].as_object_mut().unwrap().remove("conditions");
        let v1 = convert(v2, "autoscaling/v2", "autoscaling/v1").unwrap();
        assert!(v1["metadata"]["annotations"]
            .get(CONDITIONS_ANNOTATION)
            .is_none());
    }

    #[test]
    fn edited_v1_cpu_target_wins_over_the_stashed_position() {
        let v1 = convert(hpa_v2(), "autoscaling/v2", "autoscaling/v1").unwrap();
        let mut edited = v1.clone();
        edited["spec"]["targetCPUUtilizationPercentage"] = json!(90);
        let v2 = convert(edited, "autoscaling/v1", "autoscaling/v2").unwrap();
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            90
        );
        let mut removed = v1;
        removed["spec"]
            .as_object_mut()
            .unwrap()
            .remove("targetCPUUtilizationPercentage");
        let v2 = convert(removed, "autoscaling/v1", "autoscaling/v2").unwrap();
        assert_eq!(v2["spec"]["metrics"].as_array().unwrap().len(), 5);
        assert_eq!(v2["spec"]["metrics"][0]["resource"]["name"], "memory");
    }

    #[test]
    fn hpa_lists_convert() {
        let list = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscalerList",
            "metadata": {}, "items": [hpa_v2()]});
        let v1 = convert(list.clone(), "autoscaling/v2", "autoscaling/v1").unwrap();
        assert_eq!(v1["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["items"][0]["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["items"][0]["spec"]["targetCPUUtilizationPercentage"], 60);
        assert_eq!(
            convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap(),
            list
        );
    }
}
