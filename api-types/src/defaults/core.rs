//! Namespaces, PersistentVolumeClaims, PersistentVolumes, Nodes and LimitRanges (core/v1).

use serde_json::{json, Value};

use super::common::*;
use super::pods::volume_source;

pub(super) fn namespace(o: &mut Obj) {
    let name = o
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let terminating = o
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|t| !t.is_null());
    if !name.is_empty() {
        if let Some(labels) = ensure_object(o, "metadata").and_then(|m| ensure_object(m, "labels"))
        {
            labels.insert("kubernetes.io/metadata.name".into(), Value::String(name));
        }
    }
    if !terminating {
        if let Some(spec) = ensure_object(o, "spec") {
            default_value(spec, "finalizers", json!(["kubernetes"]));
        }
    }
    if let Some(status) = ensure_object(o, "status") {
        default_str(status, "phase", "Active");
    }
}

/// Defaults of a `PersistentVolumeClaim`, also used for claim templates.
pub(super) fn persistent_volume_claim(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        default_str(spec, "volumeMode", "Filesystem");
    }
    if let Some(status) = ensure_object(o, "status") {
        default_str(status, "phase", "Pending");
    }
}

pub(super) fn persistent_volume(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        default_str(spec, "volumeMode", "Filesystem");
        volume_source(spec);
    }
    if let Some(status) = ensure_object(o, "status") {
        default_str(status, "phase", "Pending");
    }
}

pub(super) fn node(o: &mut Obj) {
    if let Some(status) = object(o, "status") {
        if unset(status.get("allocatable")) {
            if let Some(capacity) = status.get("capacity").filter(|c| c.is_object()).cloned() {
                status.insert("allocatable".into(), capacity);
            }
        }
    }
}

pub(super) fn limit_range(o: &mut Obj) {
    if let Some(spec) = object(o, "spec") {
        for_each(spec, "limits", |item| {
            if str_of(item, "type") == "Container" {
                copy_missing_keys(item, "max", "default");
                copy_missing_keys(item, "default", "defaultRequest");
                copy_missing_keys(item, "min", "defaultRequest");
            }
        });
    }
}

pub(super) fn secret(o: &mut Obj) {
    default_str(o, "type", "Opaque");
}

#[cfg(test)]
mod tests {

    use crate::defaults::testing::*;
    use serde_json::json;

    #[test]
    fn namespace_defaults() {
        let n = defaulted("", "namespaces", json!({"metadata": {"name": "team-a"}}));
        assert_eq!(
            n["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team-a"
        );
        assert_eq!(n["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(n["status"]["phase"], "Active");

        let forged = defaulted(
            "",
            "namespaces",
            json!({"metadata": {"name": "b", "labels": {"kubernetes.io/metadata.name": "x", "k": "v"}},
                   "spec": {"finalizers": []}}),
        );
        assert_eq!(
            forged["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "b"
        );
        assert_eq!(forged["metadata"]["labels"]["k"], "v");
        assert_eq!(forged["spec"]["finalizers"], json!([]));

        let terminating = defaulted(
            "",
            "namespaces",
            json!({"metadata": {"name": "c", "deletionTimestamp": "2024-01-01T00:00:00Z"}, "spec": {}}),
        );
        assert!(terminating["spec"].get("finalizers").is_none());
    }

    #[test]
    fn secrets_volumes_nodes() {
        let s = defaulted("", "secrets", json!({"metadata": {"name": "s"}}));
        assert_eq!(s["type"], "Opaque");
        let tls = defaulted("", "secrets", json!({"type": "kubernetes.io/tls"}));
        assert_eq!(tls["type"], "kubernetes.io/tls");

        let pvc = defaulted(
            "",
            "persistentvolumeclaims",
            json!({"spec": {"accessModes": ["ReadWriteOnce"]}}),
        );
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pvc["status"]["phase"], "Pending");

        let pv = defaulted(
            "",
            "persistentvolumes",
            json!({"spec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}}),
        );
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pv["spec"]["hostPath"]["type"], "");
        assert_eq!(pv["status"]["phase"], "Pending");

        let node = defaulted(
            "",
            "nodes",
            json!({"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}}),
        );
        assert_eq!(
            node["status"]["allocatable"],
            json!({"cpu": "4", "pods": "110"})
        );
        assert!(node.get("spec").is_none());

        let sa = defaulted("", "serviceaccounts", json!({"metadata": {"name": "sa"}}));
        assert_eq!(sa, json!({"metadata": {"name": "sa"}}));
    }
}
