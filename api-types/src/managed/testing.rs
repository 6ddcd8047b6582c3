//! Helpers the managed-fields tests share: fixed times, sample objects, and readers of the
//! resulting entries.

use serde_json::{json, Value};

use super::*;

pub(super) const T0: &str = "2024-01-01T00:00:00Z";
pub(super) const T1: &str = "2024-01-01T00:01:00Z";
pub(super) const T2: &str = "2024-01-01T00:02:00Z";

pub(super) fn cm(data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default"},
        "data": data,
    })
}

pub(super) fn apply_cm(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
) -> Result<Value, ApplyError> {
    apply("", "ConfigMap", "v1", live, applied, manager, false, T1)
}

pub(super) fn nginx(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]},
            },
        },
    })
}

pub(super) fn apply_deploy(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
) -> Result<Value, ApplyError> {
    apply(
        "apps",
        "Deployment",
        "apps/v1",
        live,
        applied,
        manager,
        force,
        T1,
    )
}

pub(super) fn entries(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(super) fn entry(obj: &Value, manager: &str, op: &str) -> Option<Value> {
    entries(obj)
        .into_iter()
        .find(|e| e["manager"] == manager && e["operation"] == op)
}

pub(super) fn fields(obj: &Value, manager: &str, op: &str) -> Value {
    entry(obj, manager, op)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

pub(super) fn paths(obj: &Value, manager: &str, op: &str) -> Vec<String> {
    fields_v1_paths(&fields(obj, manager, op)).unwrap_or_default()
}

pub(super) fn conflicts(r: Result<Value, ApplyError>) -> Vec<Conflict> {
    match r {
        Err(ApplyError::Conflicts(c)) => c,
        other => panic!("expected conflicts, got {other:?}"),
    }
}
