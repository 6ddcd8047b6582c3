//! PersistentVolumeClaims and PersistentVolumes (core/v1) and StorageClasses (storage.k8s.io).

use serde_json::Value;

use super::common::*;
use super::errors::FieldError;
use crate::quantity::Quantity;

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn validate_access_modes(spec: &Value, errs: &mut Errs) {
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(
            "spec.accessModes",
            "at least 1 access mode is required",
        ));
    }
    for m in modes {
        let m = m.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                "spec.accessModes",
                m,
                ACCESS_MODES,
            ));
        }
    }
    check_enum(spec, "volumeMode", "spec", &["Block", "Filesystem"], errs);
}

/// A quantity that must be present and positive, at `path`.
fn check_positive_quantity(v: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        errs.push(FieldError::required(path, ""));
        return;
    };
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    match Quantity::parse(text.trim()) {
        Err(e) => errs.push(FieldError::invalid(path, text, e.to_string())),
        Ok(q) if q.signum() <= 0 => errs.push(FieldError::invalid(
            path,
            q.to_string(),
            "must be greater than zero",
        )),
        Ok(_) => {}
    }
}

pub(super) fn validate_pvc(spec: &Value, errs: &mut Errs) {
    validate_access_modes(spec, errs);
    let storage = sub(sub(spec, "resources"), "requests").get("storage");
    check_positive_quantity(storage, "spec.resources[storage]", errs);
    if let Some(sel) = spec.get("selector").filter(|s| !s.is_null()) {
        errs.extend(validate_label_selector(sel, "spec.selector"));
    }
}

/// Fields of a PersistentVolume spec that are not its volume source.
const PV_NON_SOURCE_FIELDS: &[&str] = &[
    "accessModes",
    "capacity",
    "claimRef",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "mountOptions",
    "volumeMode",
    "nodeAffinity",
    "volumeAttributesClassName",
];

fn pv_sources(spec: &Value) -> Vec<&String> {
    spec.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !PV_NON_SOURCE_FIELDS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, _)| k)
        .collect()
}

pub(super) fn validate_pv(spec: &Value, errs: &mut Errs) {
    validate_access_modes(spec, errs);
    if !has(spec, "capacity") {
        errs.push(FieldError::required("spec.capacity", ""));
    } else {
        check_positive_quantity(
            sub(spec, "capacity").get("storage"),
            "spec.capacity[storage]",
            errs,
        );
    }
    match pv_sources(spec).as_slice() {
        [] => errs.push(FieldError::required("spec", "must specify a volume type")),
        [_] => {}
        [_, second, ..] => errs.push(FieldError::forbidden(
            child("spec", second),
            "may not specify more than 1 volume type",
        )),
    }
    check_enum(
        spec,
        "persistentVolumeReclaimPolicy",
        "spec",
        &["Delete", "Recycle", "Retain"],
        errs,
    );
}

pub(super) fn validate_storage_class(obj: &Value, errs: &mut Errs) {
    if str_of(obj, "provisioner").is_empty() {
        errs.push(FieldError::required("provisioner", ""));
    }
    check_enum(obj, "reclaimPolicy", "", &["Delete", "Retain"], errs);
    check_enum(
        obj,
        "volumeBindingMode",
        "",
        &["Immediate", "WaitForFirstConsumer"],
        errs,
    );
}

pub(super) fn validate_pvc_update(old: &Value, new: &Value, errs: &mut Errs) {
    let strip = |s: &Value, old_volume_name: &str| {
        let mut s = normalized(s);
        if let Some(m) = s.as_object_mut() {
            m.remove("volumeAttributesClassName");
            // The binder sets volumeName once; that is not a user change.
            if old_volume_name.is_empty() {
                m.remove("volumeName");
            }
            if let Some(Value::Object(r)) = m.get_mut("resources") {
                r.remove("requests");
            }
        }
        normalized(&s)
    };
    let old_volume = str_of(old, "volumeName");
    if strip(old, old_volume) != strip(new, old_volume) {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
}

/// A PersistentVolume's source (whichever volume type it names) is fixed at creation.
pub(super) fn validate_pv_update(old_spec: &Value, new_spec: &Value, errs: &mut Errs) {
    let source = |s: &Value| {
        let keys = pv_sources(s);
        keys.iter()
            .map(|k| (k.to_string(), normalized(sub(s, k))))
            .collect::<Vec<_>>()
    };
    if source(old_spec) != source(new_spec) {
        errs.push(FieldError::forbidden(
            "spec.persistentvolumesource",
            "spec.persistentvolumesource is immutable after creation",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn persistent_volume_claims() {
        let pvc = |spec: Value| {
            check(
                "",
                "persistentvolumeclaims",
                true,
                json!({"metadata": {"name": "data"}, "spec": spec}),
            )
        };
        assert!(pvc(
            json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}})
        )
        .is_empty());
        assert_eq!(
            pvc(json!({})),
            [
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value"
            ]
        );
        assert_eq!(
            pvc(json!({"accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "0"}}})),
            [
                "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.resources[storage]: Invalid value: \"0\": must be greater than zero"
            ]
        );
        let pv = |spec: Value| {
            check(
                "",
                "persistentvolumes",
                false,
                json!({"metadata": {"name": "pv1"}, "spec": spec}),
            )
        };
        assert!(pv(json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/d"}})).is_empty());
        assert_eq!(
            pv(json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}})),
            ["spec: Required value: must specify a volume type"]
        );
    }

    #[test]
    fn pvc_spec_is_immutable_except_requests() {
        let pvc = |size: &str, mode: &str| json!({"metadata": {"name": "d"}, "spec": {"accessModes": [mode], "resources": {"requests": {"storage": size}}}});
        assert!(update(
            "",
            "persistentvolumeclaims",
            pvc("1Gi", "ReadWriteOnce"),
            pvc("2Gi", "ReadWriteOnce")
        )
        .is_empty());
        assert_eq!(
            update("", "persistentvolumeclaims", pvc("1Gi", "ReadWriteOnce"), pvc("1Gi", "ReadWriteMany")),
            ["spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"]
        );
        let mut bound = pvc("1Gi", "ReadWriteOnce");
        bound["spec"]["volumeName"] = json!("pv-1");
        assert!(update(
            "",
            "persistentvolumeclaims",
            pvc("1Gi", "ReadWriteOnce"),
            bound
        )
        .is_empty());
    }
}
