//! HorizontalPodAutoscaler metrics between autoscaling/v2's form and the v1 `MetricSpec` and
//! `MetricStatus` encodings upstream writes into the autoscaling/v1 annotations.

use serde_json::{json, Map, Value};

pub(super) fn is_cpu_utilization_v2(metric: &Value) -> bool {
    metric.get("type").and_then(Value::as_str) == Some("Resource")
        && metric.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
        && metric
            .pointer("/resource/target/averageUtilization")
            .is_some_and(|v| !v.is_null())
}

pub(super) fn is_cpu_utilization_v1(metric: &Value) -> bool {
    metric.get("type").and_then(Value::as_str) == Some("Resource")
        && metric.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
        && metric
            .pointer("/resource/targetAverageUtilization")
            .is_some_and(|v| !v.is_null())
}

/// `v` if present and not null.
pub(super) fn some<'a>(obj: &'a Value, pointer: &str) -> Option<&'a Value> {
    obj.pointer(pointer).filter(|v| !v.is_null())
}

/// A required quantity: upstream writes a zero quantity as "0".
fn quantity_or_zero(obj: &Value, pointer: &str) -> Value {
    some(obj, pointer).cloned().unwrap_or_else(|| json!("0"))
}

pub(super) fn put(out: &mut Map<String, Value>, key: &str, v: Option<&Value>) {
    if let Some(v) = v {
        out.insert(key.to_string(), v.clone());
    }
}

fn cross_version_ref(r: Option<&Value>) -> Value {
    let mut out = Map::new();
    if let Some(r) = r {
        for k in ["kind", "name", "apiVersion"] {
            put(&mut out, k, r.get(k));
        }
    }
    Value::Object(out)
}

/// A v2 `MetricSpec` in the v1 annotation encoding.
pub(super) fn metric_spec_v2_to_v1(m: &Value) -> Value {
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = Map::new();
    out.insert("type".into(), json!(ty));
    match ty {
        "Object" => {
            let src = m.get("object").cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert(
                "target".into(),
                cross_version_ref(src.get("describedObject")),
            );
            o.insert("metricName".into(), json!(str_at(&src, "/metric/name")));
            o.insert(
                "targetValue".into(),
                quantity_or_zero(&src, "/target/value"),
            );
            put(&mut o, "selector", some(&src, "/metric/selector"));
            put(&mut o, "averageValue", some(&src, "/target/averageValue"));
            out.insert("object".into(), Value::Object(o));
        }
        "Pods" => {
            let src = m.get("pods").cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert("metricName".into(), json!(str_at(&src, "/metric/name")));
            o.insert(
                "targetAverageValue".into(),
                quantity_or_zero(&src, "/target/averageValue"),
            );
            put(&mut o, "selector", some(&src, "/metric/selector"));
            out.insert("pods".into(), Value::Object(o));
        }
        "Resource" | "ContainerResource" => {
            let key = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = m.get(key).cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert("name".into(), json!(str_at(&src, "/name")));
            put(
                &mut o,
                "targetAverageUtilization",
                some(&src, "/target/averageUtilization"),
            );
            put(
                &mut o,
                "targetAverageValue",
                some(&src, "/target/averageValue"),
            );
            if ty == "ContainerResource" {
                o.insert("container".into(), json!(str_at(&src, "/container")));
            }
            out.insert(key.into(), Value::Object(o));
        }
        "External" => {
            let src = m.get("external").cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert("metricName".into(), json!(str_at(&src, "/metric/name")));
            put(&mut o, "metricSelector", some(&src, "/metric/selector"));
            put(&mut o, "targetValue", some(&src, "/target/value"));
            put(
                &mut o,
                "targetAverageValue",
                some(&src, "/target/averageValue"),
            );
            out.insert("external".into(), Value::Object(o));
        }
        _ => {}
    }
    Value::Object(out)
}

fn metric_identifier(name: &Value, selector: Option<&Value>) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), name.clone());
    put(&mut o, "selector", selector);
    Value::Object(o)
}

fn target(ty: &str, fields: &[(&str, Option<&Value>)]) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(ty));
    for (k, v) in fields {
        put(&mut o, k, *v);
    }
    Value::Object(o)
}

/// A v1-annotation `MetricSpec` as a v2 `MetricSpec`.
pub(super) fn metric_spec_v1_to_v2(m: &Value) -> Value {
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = Map::new();
    out.insert("type".into(), json!(ty));
    let name_of = |src: &Value, key: &str| src.get(key).cloned().unwrap_or_else(|| json!(""));
    match ty {
        "Object" => {
            let src = m.get("object").cloned().unwrap_or(Value::Null);
            let average = some(&src, "/averageValue");
            // Upstream always sets `value` from the required v1 `targetValue`; an average-value
            // target whose `targetValue` is only the required zero had no value in v2.
            let value = some(&src, "/targetValue")
                .filter(|v| average.is_none() || !is_zero_quantity(v))
                .cloned()
                .or_else(|| average.is_none().then(|| json!("0")));
            let ty = if average.is_none() {
                "Value"
            } else {
                "AverageValue"
            };
            let mut o = Map::new();
            o.insert(
                "describedObject".into(),
                cross_version_ref(src.get("target")),
            );
            o.insert(
                "target".into(),
                target(ty, &[("value", value.as_ref()), ("averageValue", average)]),
            );
            o.insert(
                "metric".into(),
                metric_identifier(&name_of(&src, "metricName"), some(&src, "/selector")),
            );
            out.insert("object".into(), Value::Object(o));
        }
        "Pods" => {
            let src = m.get("pods").cloned().unwrap_or(Value::Null);
            let average = quantity_or_zero(&src, "/targetAverageValue");
            let mut o = Map::new();
            o.insert(
                "metric".into(),
                metric_identifier(&name_of(&src, "metricName"), some(&src, "/selector")),
            );
            o.insert(
                "target".into(),
                target("AverageValue", &[("averageValue", Some(&average))]),
            );
            out.insert("pods".into(), Value::Object(o));
        }
        "Resource" | "ContainerResource" => {
            let key = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = m.get(key).cloned().unwrap_or(Value::Null);
            let utilization = some(&src, "/targetAverageUtilization");
            let ty = if utilization.is_none() {
                "AverageValue"
            } else {
                "Utilization"
            };
            let mut o = Map::new();
            o.insert("name".into(), name_of(&src, "name"));
            o.insert(
                "target".into(),
                target(
                    ty,
                    &[
                        ("averageUtilization", utilization),
                        ("averageValue", some(&src, "/targetAverageValue")),
                    ],
                ),
            );
            if key == "containerResource" {
                o.insert("container".into(), name_of(&src, "container"));
            }
            out.insert(key.into(), Value::Object(o));
        }
        "External" => {
            let src = m.get("external").cloned().unwrap_or(Value::Null);
            let value = some(&src, "/targetValue");
            let ty = if value.is_none() {
                "AverageValue"
            } else {
                "Value"
            };
            let mut o = Map::new();
            o.insert(
                "metric".into(),
                metric_identifier(&name_of(&src, "metricName"), some(&src, "/metricSelector")),
            );
            o.insert(
                "target".into(),
                target(
                    ty,
                    &[
                        ("value", value),
                        ("averageValue", some(&src, "/targetAverageValue")),
                    ],
                ),
            );
            out.insert("external".into(), Value::Object(o));
        }
        _ => {}
    }
    Value::Object(out)
}

/// A v2 `MetricStatus` in the v1 annotation encoding.
pub(super) fn metric_status_v2_to_v1(m: &Value) -> Value {
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = Map::new();
    out.insert("type".into(), json!(ty));
    match ty {
        "Object" => {
            let src = m.get("object").cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert(
                "target".into(),
                cross_version_ref(src.get("describedObject")),
            );
            o.insert("metricName".into(), json!(str_at(&src, "/metric/name")));
            o.insert(
                "currentValue".into(),
                quantity_or_zero(&src, "/current/value"),
            );
            put(&mut o, "selector", some(&src, "/metric/selector"));
            put(&mut o, "averageValue", some(&src, "/current/averageValue"));
            out.insert("object".into(), Value::Object(o));
        }
        "Pods" => {
            let src = m.get("pods").cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert("metricName".into(), json!(str_at(&src, "/metric/name")));
            o.insert(
                "currentAverageValue".into(),
                quantity_or_zero(&src, "/current/averageValue"),
            );
            put(&mut o, "selector", some(&src, "/metric/selector"));
            out.insert("pods".into(), Value::Object(o));
        }
        "Resource" | "ContainerResource" => {
            let key = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = m.get(key).cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert("name".into(), json!(str_at(&src, "/name")));
            put(
                &mut o,
                "currentAverageUtilization",
                some(&src, "/current/averageUtilization"),
            );
            o.insert(
                "currentAverageValue".into(),
                quantity_or_zero(&src, "/current/averageValue"),
            );
            if key == "containerResource" {
                o.insert("container".into(), json!(str_at(&src, "/container")));
            }
            out.insert(key.into(), Value::Object(o));
        }
        "External" => {
            let src = m.get("external").cloned().unwrap_or(Value::Null);
            let mut o = Map::new();
            o.insert("metricName".into(), json!(str_at(&src, "/metric/name")));
            put(&mut o, "metricSelector", some(&src, "/metric/selector"));
            o.insert(
                "currentValue".into(),
                quantity_or_zero(&src, "/current/value"),
            );
            put(
                &mut o,
                "currentAverageValue",
                some(&src, "/current/averageValue"),
            );
            out.insert("external".into(), Value::Object(o));
        }
        _ => {}
    }
    Value::Object(out)
}

fn value_status(fields: &[(&str, Option<&Value>)]) -> Value {
    let mut o = Map::new();
    for (k, v) in fields {
        put(&mut o, k, *v);
    }
    Value::Object(o)
}

/// A v1-annotation `MetricStatus` as a v2 `MetricStatus`.
pub(super) fn metric_status_v1_to_v2(m: &Value) -> Value {
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = Map::new();
    out.insert("type".into(), json!(ty));
    let name_of = |src: &Value, key: &str| src.get(key).cloned().unwrap_or_else(|| json!(""));
    match ty {
        "Object" => {
            let src = m.get("object").cloned().unwrap_or(Value::Null);
            let value = quantity_or_zero(&src, "/currentValue");
            let mut o = Map::new();
            o.insert(
                "metric".into(),
                metric_identifier(&name_of(&src, "metricName"), some(&src, "/selector")),
            );
            o.insert(
                "current".into(),
                value_status(&[
                    ("value", Some(&value)),
                    ("averageValue", some(&src, "/averageValue")),
                ]),
            );
            o.insert(
                "describedObject".into(),
                cross_version_ref(src.get("target")),
            );
            out.insert("object".into(), Value::Object(o));
        }
        "Pods" => {
            let src = m.get("pods").cloned().unwrap_or(Value::Null);
            let average = quantity_or_zero(&src, "/currentAverageValue");
            let mut o = Map::new();
            o.insert(
                "metric".into(),
                metric_identifier(&name_of(&src, "metricName"), some(&src, "/selector")),
            );
            o.insert(
                "current".into(),
                value_status(&[("averageValue", Some(&average))]),
            );
            out.insert("pods".into(), Value::Object(o));
        }
        "Resource" | "ContainerResource" => {
            let key = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = m.get(key).cloned().unwrap_or(Value::Null);
            let average = quantity_or_zero(&src, "/currentAverageValue");
            let mut o = Map::new();
            o.insert("name".into(), name_of(&src, "name"));
            o.insert(
                "current".into(),
                value_status(&[
                    ("averageValue", Some(&average)),
                    (
                        "averageUtilization",
                        some(&src, "/currentAverageUtilization"),
                    ),
                ]),
            );
            if key == "containerResource" {
                o.insert("container".into(), name_of(&src, "container"));
            }
            out.insert(key.into(), Value::Object(o));
        }
        "External" => {
            let src = m.get("external").cloned().unwrap_or(Value::Null);
            let value = quantity_or_zero(&src, "/currentValue");
            let mut o = Map::new();
            o.insert(
                "metric".into(),
                metric_identifier(&name_of(&src, "metricName"), some(&src, "/metricSelector")),
            );
            o.insert(
                "current".into(),
                value_status(&[
                    ("value", Some(&value)),
                    ("averageValue", some(&src, "/currentAverageValue")),
                ]),
            );
            out.insert("external".into(), Value::Object(o));
        }
        _ => {}
    }
    Value::Object(out)
}

fn is_zero_quantity(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            let digits: String = s
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '+' || *c == '-')
                .collect();
            !digits.is_empty() && digits.chars().all(|c| matches!(c, '0' | '.' | '+' | '-'))
        }
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::convert;
    use crate::convert::METRIC_SPECS_ANNOTATION;

    use serde_json::json;

    #[test]
    fn object_metric_with_average_value_round_trips() {
        let v2 = json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "x"},
            "spec": {"maxReplicas": 2, "metrics": [{"type": "Object", "object": {
                "describedObject": {"kind": "Service", "name": "s"},
                "metric": {"name": "rps"},
                "target": {"type": "AverageValue", "averageValue": "5"}}}]},
        });
        let v1 = convert(v2.clone(), "autoscaling/v2", "autoscaling/v1").unwrap();
        let ann: Value = serde_json::from_str(
            v1["metadata"]["annotations"][METRIC_SPECS_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            ann[0]["object"]["targetValue"], "0",
            "v1 targetValue is required"
        );
        assert_eq!(convert(v1, "autoscaling/v1", "autoscaling/v2").unwrap(), v2);
    }
}
