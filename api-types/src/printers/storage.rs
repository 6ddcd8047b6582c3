//! PersistentVolumes and PersistentVolumeClaims (core/v1), StorageClasses, VolumeAttachments,
//! CSINodes, CSIDrivers and CSIStorageCapacities (storage.k8s.io).

use jiff::Timestamp;
use serde_json::{json, Value};

use super::cells::*;
use super::{age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer};

fn persistent_volume_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let claim = match obj.pointer("/spec/claimRef").filter(|c| c.is_object()) {
        Some(c) => format!("{}/{}", s(c, "/namespace"), s(c, "/name")),
        None => String::new(),
    };
    let phase = if deleting(obj) {
        "Terminating"
    } else {
        s(obj, "/status/phase")
    };
    let class =
        annotation(obj, BETA_STORAGE_CLASS).unwrap_or_else(|| s(obj, "/spec/storageClassName"));
    vec![
        name_cell(obj),
        json!(quantity(obj.pointer("/spec/capacity/storage"))),
        json!(access_modes(list(obj, "/spec/accessModes"))),
        json!(s(obj, "/spec/persistentVolumeReclaimPolicy")),
        json!(phase),
        json!(claim),
        json!(class),
        json!(str_or(obj, "/spec/volumeAttributesClassName", "<unset>")),
        json!(s(obj, "/status/reason")),
        age_cell(obj, now),
        json!(str_or(obj, "/spec/volumeMode", "<unset>")),
    ]
}

#[rustfmt::skip]
fn persistent_volume_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Capacity", "string", doc::PV_CAPACITY),
        col("Access Modes", "string", doc::PV_ACCESS_MODES),
        col("Reclaim Policy", "string", doc::PV_RECLAIM),
        col("Status", "string", doc::PV_PHASE),
        col("Claim", "string", doc::PV_CLAIM),
        col("StorageClass", "string", "StorageClass of the pv"),
        col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
        col("Reason", "string", doc::PV_REASON),
        age_col(),
        wide("VolumeMode", "string", doc::PV_VOLUME_MODE),
    ]
}

pub(super) const PERSISTENT_VOLUME: Printer = Printer {
    columns: persistent_volume_columns,
    row: persistent_volume_row,
};

fn persistent_volume_claim_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let phase = if deleting(obj) {
        "Terminating"
    } else {
        s(obj, "/status/phase")
    };
    let volume = s(obj, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(obj.pointer("/status/capacity/storage")),
            access_modes(list(obj, "/status/accessModes")),
        )
    };
    let class = annotation(obj, BETA_STORAGE_CLASS)
        .or_else(|| {
            obj.pointer("/spec/storageClassName")
                .and_then(Value::as_str)
        })
        .unwrap_or("");
    vec![
        name_cell(obj),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(class),
        json!(str_or(obj, "/spec/volumeAttributesClassName", "<unset>")),
        age_cell(obj, now),
        json!(str_or(obj, "/spec/volumeMode", "<unset>")),
    ]
}

#[rustfmt::skip]
fn persistent_volume_claim_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Status", "string", doc::PVC_PHASE),
        col("Volume", "string", doc::PVC_VOLUME),
        col("Capacity", "string", doc::PVC_CAPACITY),
        col("Access Modes", "string", doc::PVC_ACCESS_MODES),
        col("StorageClass", "string", "StorageClass of the pvc"),
        col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
        age_col(),
        wide("VolumeMode", "string", doc::PVC_VOLUME_MODE),
    ]
}

pub(super) const PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: persistent_volume_claim_columns,
    row: persistent_volume_claim_row,
};

fn storage_class_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let mut display = s(obj, "/metadata/name").to_string();
    if is_default_class(obj) {
        display.push_str(" (default)");
    }
    vec![
        json!(display),
        json!(s(obj, "/provisioner")),
        json!(str_or(obj, "/reclaimPolicy", "Delete")),
        json!(str_or(obj, "/volumeBindingMode", "Immediate")),
        json!(obj
            .get("allowVolumeExpansion")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn storage_class_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Provisioner", "string", doc::SC_PROVISIONER),
        col("ReclaimPolicy", "string", doc::SC_RECLAIM),
        col("VolumeBindingMode", "string", doc::SC_BINDING_MODE),
        col("AllowVolumeExpansion", "string", doc::SC_EXPANSION),
        age_col(),
    ]
}

pub(super) const STORAGE_CLASS: Printer = Printer {
    columns: storage_class_columns,
    row: storage_class_row,
};

fn volume_attachment_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(s(obj, "/spec/attacher")),
        json!(s(obj, "/spec/source/persistentVolumeName")),
        json!(s(obj, "/spec/nodeName")),
        json!(obj
            .pointer("/status/attached")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn volume_attachment_columns() -> Vec<Column> {
    vec![
        name_col(),
        // Upstream marks this column as a name column too.
        Column {
            format: "name",
            ..col("Attacher", "string", doc::VA_ATTACHER)
        },
        col("PV", "string", doc::VA_PV),
        col("Node", "string", doc::VA_NODE),
        col("Attached", "boolean", doc::VA_ATTACHED),
        age_col(),
    ]
}

pub(super) const VOLUME_ATTACHMENT: Printer = Printer {
    columns: volume_attachment_columns,
    row: volume_attachment_row,
};

fn csi_node_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(list(obj, "/spec/drivers").len()),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn csi_node_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
        age_col(),
    ]
}

pub(super) const CSI_NODE: Printer = Printer {
    columns: csi_node_columns,
    row: csi_node_row,
};

fn csi_driver_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let flag =
        |p: &str, default: bool| json!(obj.pointer(p).and_then(Value::as_bool).unwrap_or(default));
    let tokens = match obj.pointer("/spec/tokenRequests").and_then(Value::as_array) {
        Some(ts) => ts
            .iter()
            .map(|t| s(t, "/audience"))
            .collect::<Vec<_>>()
            .join(","),
        None => "<unset>".into(),
    };
    let modes = list(obj, "/spec/volumeLifecycleModes")
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",");
    vec![
        name_cell(obj),
        flag("/spec/attachRequired", true),
        flag("/spec/podInfoOnMount", false),
        flag("/spec/storageCapacity", false),
        json!(tokens),
        flag("/spec/requiresRepublish", false),
        json!(none_if_empty(modes)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn csi_driver_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("AttachRequired", "boolean", doc::CSID_ATTACH),
        col("PodInfoOnMount", "boolean", doc::CSID_POD_INFO),
        col("StorageCapacity", "boolean", doc::CSID_CAPACITY),
        col("TokenRequests", "string", doc::CSID_TOKENS),
        col("RequiresRepublish", "boolean", doc::CSID_REPUBLISH),
        col("Modes", "string", doc::CSID_MODES),
        age_col(),
    ]
}

pub(super) const CSI_DRIVER: Printer = Printer {
    columns: csi_driver_columns,
    row: csi_driver_row,
};

fn csi_storage_capacity_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    let capacity = match obj.get("capacity").filter(|c| !c.is_null()) {
        Some(c) => quantity(Some(c)),
        None => "<unset>".into(),
    };
    vec![
        name_cell(obj),
        json!(s(obj, "/storageClassName")),
        json!(capacity),
    ]
}

#[rustfmt::skip]
fn csi_storage_capacity_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("StorageClassName", "string", doc::CSC_CLASS),
        col("Capacity", "string", doc::CSC_CAPACITY),
    ]
}

pub(super) const CSI_STORAGE_CAPACITY: Printer = Printer {
    columns: csi_storage_capacity_columns,
    row: csi_storage_capacity_row,
};

const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// Access modes in upstream's short form and fixed order: `RWO,ROX,RWX,RWOP`.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(long, _)| has(long))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn is_default_class(sc: &Value) -> bool {
    annotation(sc, "storageclass.kubernetes.io/is-default-class") == Some("true")
        || annotation(sc, "storageclass.beta.kubernetes.io/is-default-class") == Some("true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::row;
    use crate::printers::testing::*;

    #[test]
    fn persistent_volume_row() {
        let pv = json!({"metadata": {"name": "pv-1", "creationTimestamp": ago(60)},
            "spec": {"capacity": {"storage": "10240Mi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast",
                "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            row("", "persistentvolumes", &pv, now()),
            vec![
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("fast"),
                json!("<unset>"),
                json!(""),
                json!("60s"),
                json!("Filesystem"),
            ]
        );
    }

    #[test]
    fn persistent_volume_claim_rows() {
        let pending = json!({"metadata": {"name": "data", "annotations": {"volume.beta.kubernetes.io/storage-class": "old"}},
            "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Pending"}});
        let r = row("", "persistentvolumeclaims", &pending, now());
        assert_eq!(
            &r[1..8],
            &[
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("old"),
                json!("<unset>"),
                json!("<unknown>")
            ]
        );
        assert_eq!(r[8], "<unset>");
        let mut bound = json!({"metadata": {"name": "data"},
            "spec": {"volumeName": "pv-1", "storageClassName": "fast"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOncePod"]}});
        let r = row("", "persistentvolumeclaims", &bound, now());
        assert_eq!(
            &r[1..6],
            &[
                json!("Bound"),
                json!("pv-1"),
                json!("10Gi"),
                json!("RWOP"),
                json!("fast")
            ]
        );
        bound["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(
            cell("", "persistentvolumeclaims", &bound, "Status"),
            "Terminating"
        );
    }

    #[test]
    fn storage_class_row_marks_the_default() {
        let sc = json!({"metadata": {"name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path"});
        let r = row("storage.k8s.io", "storageclasses", &sc, now());
        assert_eq!(
            &r[..5],
            &[
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("Immediate"),
                json!(false)
            ]
        );
    }

    #[test]
    fn csi_and_volume_attachment_rows() {
        let d = json!({"metadata": {"name": "csi.example.com"}, "spec": {}});
        let r = row("storage.k8s.io", "csidrivers", &d, now());
        assert_eq!(
            &r[1..7],
            &[
                json!(true),
                json!(false),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("<none>")
            ]
        );
        let d = json!({"metadata": {"name": "x"}, "spec": {"attachRequired": false,
            "tokenRequests": [{"audience": "a"}, {"audience": "b"}], "volumeLifecycleModes": ["Persistent", "Ephemeral"]}});
        let r = row("storage.k8s.io", "csidrivers", &d, now());
        assert_eq!(
            &[r[1].clone(), r[4].clone(), r[6].clone()],
            &[json!(false), json!("a,b"), json!("Persistent,Ephemeral")]
        );
        let n = json!({"metadata": {"name": "node-1"}, "spec": {"drivers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(cell("storage.k8s.io", "csinodes", &n, "Drivers"), 2);
        let va = json!({"metadata": {"name": "csi-123"}, "spec": {"attacher": "csi.example.com",
            "source": {"persistentVolumeName": "pv-1"}, "nodeName": "node-1"}, "status": {"attached": true}});
        let r = row("storage.k8s.io", "volumeattachments", &va, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("csi.example.com"),
                json!("pv-1"),
                json!("node-1"),
                json!(true)
            ]
        );
        let cap = json!({"metadata": {"name": "c"}, "storageClassName": "fast"});
        assert_eq!(
            row("storage.k8s.io", "csistoragecapacities", &cap, now())[2],
            "<unset>"
        );
    }
}
