//! ConfigMaps, Secrets, Namespaces, Nodes and ResourceQuotas (core/v1).

use std::collections::BTreeSet;

use serde_json::Value;

use super::common::*;
use super::errors::FieldError;
use super::names::*;
use super::pods::TAINT_EFFECTS;
use crate::quantity::Quantity;

/// The decoded size of a base64 value (Secret data and ConfigMap binaryData are base64 in JSON).
fn base64_decoded_len(s: &str) -> usize {
    let s = s.trim_end_matches('=');
    s.len() * 3 / 4
}

pub(super) fn validate_config_map(obj: &Value, errs: &mut Errs) {
    let mut total = 0;
    let binary = obj_of(obj, "binaryData");
    for (k, v) in obj_of(obj, "data").into_iter().flatten() {
        let p = key_path("data", k);
        push_msgs(errs, &p, k, is_config_map_key(k));
        if binary.is_some_and(|b| b.contains_key(k)) {
            errs.push(FieldError::invalid(
                p,
                k.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total += v.as_str().map_or(0, str::len);
    }
    for (k, v) in binary.into_iter().flatten() {
        push_msgs(errs, &key_path("binaryData", k), k, is_config_map_key(k));
        total += v.as_str().map_or(0, base64_decoded_len);
    }
    if total > MAX_SECRET_SIZE {
        // Upstream reports the size against the whole object, with an empty path.
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE));
    }
}

pub(super) fn validate_secret(obj: &Value, errs: &mut Errs) {
    let mut total = 0;
    let mut keys = BTreeSet::new();
    for (k, v) in obj_of(obj, "data").into_iter().flatten() {
        push_msgs(errs, &key_path("data", k), k, is_config_map_key(k));
        total += v.as_str().map_or(0, base64_decoded_len);
        keys.insert(k.clone());
    }
    // stringData is merged into data on write; check it the same way.
    for (k, v) in obj_of(obj, "stringData").into_iter().flatten() {
        push_msgs(errs, &key_path("stringData", k), k, is_config_map_key(k));
        total += v.as_str().map_or(0, str::len);
        keys.insert(k.clone());
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", MAX_SECRET_SIZE));
    }
    let has_key = |k: &str| keys.contains(k);
    match str_of(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let annotations = sub(sub(obj, "metadata"), "annotations");
            if str_of(annotations, "kubernetes.io/service-account.name").is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" if !has_key(".dockercfg") => {
            errs.push(FieldError::required("data[.dockercfg]", ""));
        }
        "kubernetes.io/dockerconfigjson" if !has_key(".dockerconfigjson") => {
            errs.push(FieldError::required("data[.dockerconfigjson]", ""));
        }
        "kubernetes.io/basic-auth" if !has_key("username") && !has_key("password") => {
            errs.push(FieldError::required("data[username]", ""));
            errs.push(FieldError::required("data[password]", ""));
        }
        "kubernetes.io/ssh-auth" if !has_key("ssh-privatekey") => {
            errs.push(FieldError::required("data[ssh-privatekey]", ""));
        }
        "kubernetes.io/tls" => {
            for k in ["tls.crt", "tls.key"] {
                if !has_key(k) {
                    errs.push(FieldError::required(key_path("data", k), ""));
                }
            }
        }
        _ => {}
    }
}

pub(super) fn validate_namespace(spec: &Value, errs: &mut Errs) {
    for f in arr(spec, "finalizers") {
        let f = f.as_str().unwrap_or("");
        let msgs = is_qualified_name(f);
        if !msgs.is_empty() {
            push_msgs(errs, "spec.finalizers", f, msgs);
        } else if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            errs.push(FieldError::invalid(
                "spec.finalizers",
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

pub(super) fn validate_node(spec: &Value, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, taint) in arr(spec, "taints").iter().enumerate() {
        let p = index("spec.taints", i);
        let key = str_of(taint, "key");
        push_msgs(errs, &child(&p, "key"), key, is_qualified_name(key));
        let value = str_of(taint, "value");
        push_msgs(
            errs,
            &child(&p, "value"),
            value,
            is_valid_label_value(value),
        );
        let effect = str_of(taint, "effect");
        if effect.is_empty() {
            errs.push(FieldError::required(child(&p, "effect"), ""));
        } else if !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                child(&p, "effect"),
                effect,
                TAINT_EFFECTS,
            ));
        }
        if !seen.insert((key.to_string(), effect.to_string())) {
            let mut e = FieldError::duplicate(p, taint.clone());
            e.detail = "taints must be unique by key and effect pair".into();
            errs.push(e);
        }
    }
    if let Some(cidr) = opt_str(spec, "podCIDR").filter(|c| !c.is_empty()) {
        push_msgs(errs, "spec.podCIDR", cidr, is_valid_cidr(cidr));
    }
    for (i, cidr) in arr(spec, "podCIDRs").iter().enumerate() {
        let cidr = cidr.as_str().unwrap_or("");
        push_msgs(errs, &index("spec.podCIDRs", i), cidr, is_valid_cidr(cidr));
    }
}

pub(super) fn validate_resource_quota(spec: &Value, errs: &mut Errs) {
    for which in ["hard", "used"] {
        for (name, v) in obj_of(spec, which).into_iter().flatten() {
            let p = key_path(&child("spec", which), name);
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match Quantity::parse(text.trim()) {
                Err(e) => errs.push(FieldError::invalid(p, text, e.to_string())),
                Ok(q) if q.signum() < 0 => errs.push(FieldError::invalid(
                    p,
                    q.to_string(),
                    "must be greater than or equal to 0",
                )),
                Ok(_) => {}
            }
        }
    }
}

pub(super) fn validate_immutable_data(old: &Value, new: &Value, fields: &[&str], errs: &mut Errs) {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden(
            "immutable",
            "field is immutable when `immutable` is set",
        ));
    }
    for f in fields {
        if !same(sub(old, f), sub(new, f)) {
            errs.push(FieldError::forbidden(
                *f,
                "field is immutable when `immutable` is set",
            ));
        }
    }
}

/// A Secret's data follows `immutable`, and its type never changes (empty counts as `Opaque`).
pub(super) fn validate_secret_update(old: &Value, new: &Value, errs: &mut Errs) {
    validate_immutable_data(old, new, &["data"], errs);
    let secret_type = |o: &Value| {
        opt_str(o, "type")
            .filter(|t| !t.is_empty())
            .unwrap_or("Opaque")
            .to_string()
    };
    if secret_type(old) != secret_type(new) {
        errs.push(FieldError::invalid(
            "type",
            secret_type(new),
            "field is immutable",
        ));
    }
}

/// A node's pod CIDRs may be set once, never changed.
pub(super) fn validate_node_update(old_spec: &Value, new_spec: &Value, errs: &mut Errs) {
    let old_cidrs = arr(old_spec, "podCIDRs");
    if !old_cidrs.is_empty() && !same(&Value::Array(old_cidrs.to_vec()), sub(new_spec, "podCIDRs"))
    {
        errs.push(FieldError::forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn config_maps() {
        assert!(check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c"}, "data": {"app.conf": "x"}})
        )
        .is_empty());
        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c"}, "data": {"bad key": "x"}}),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with(
            "data[bad key]: Invalid value: \"bad key\": a valid config key must consist"
        ));
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c"}, "data": {"a": "x"}, "binaryData": {"a": "eA=="}})
            ),
            ["data[a]: Invalid value: \"a\": duplicate of key present in binaryData"]
        );
        let big = "x".repeat(MAX_SECRET_SIZE + 1);
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c"}, "data": {"a": big}})
            ),
            [": Too long: may not be more than 1048576 bytes"]
        );
    }

    #[test]
    fn secrets() {
        assert!(check(
            "",
            "secrets",
            true,
            json!({"metadata": {"name": "s"}, "data": {"password": "cGFzcw=="}})
        )
        .is_empty());
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})
            ),
            ["data[tls.key]: Required value"]
        );
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "type": "kubernetes.io/basic-auth"})
            ),
            [
                "data[username]: Required value",
                "data[password]: Required value"
            ]
        );
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "type": "kubernetes.io/dockerconfigjson", "stringData": {"x": "y"}})
            ),
            ["data[.dockerconfigjson]: Required value"]
        );
        // 1 MiB of decoded data is fine; a little more is not.
        let at_limit = "A".repeat(MAX_SECRET_SIZE / 3 * 4);
        assert!(check(
            "",
            "secrets",
            true,
            json!({"metadata": {"name": "s"}, "data": {"a": at_limit}})
        )
        .is_empty());
        let over = "A".repeat((MAX_SECRET_SIZE / 3 + 1) * 4);
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "data": {"a": over}})
            ),
            ["data: Too long: may not be more than 1048576 bytes"]
        );
    }

    #[test]
    fn namespaces_and_nodes() {
        assert_eq!(
            check("", "namespaces", false, json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["custom"]}})),
            ["spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"]
        );
        assert!(check(
            "",
            "namespaces",
            false,
            json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}})
        )
        .is_empty());
        assert_eq!(
            check("", "nodes", false, json!({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Nope"}]}})),
            ["spec.taints[0].effect: Unsupported value: \"Nope\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""]
        );
        let dup = check(
            "",
            "nodes",
            false,
            json!({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule", "value": "v"}]}}),
        );
        assert_eq!(dup.len(), 1);
        assert!(
            dup[0].starts_with("spec.taints[1]: Duplicate value: "),
            "{dup:?}"
        );
        assert!(dup[0].ends_with(": taints must be unique by key and effect pair"));
        assert_eq!(
            check("", "nodes", false, json!({"metadata": {"name": "n"}, "spec": {"podCIDR": "10.0.0.0/99"}})),
            ["spec.podCIDR: Invalid value: \"10.0.0.0/99\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]
        );
    }

    #[test]
    fn immutable_config_maps_and_secrets() {
        let cm = |data: Value, immutable: bool| json!({"metadata": {"name": "c"}, "data": data, "immutable": immutable});
        assert_eq!(
            update(
                "",
                "configmaps",
                cm(json!({"a": "1"}), true),
                cm(json!({"a": "2"}), true)
            ),
            ["data: Forbidden: field is immutable when `immutable` is set"]
        );
        assert_eq!(
            update(
                "",
                "configmaps",
                cm(json!({"a": "1"}), true),
                cm(json!({"a": "1"}), false)
            ),
            ["immutable: Forbidden: field is immutable when `immutable` is set"]
        );
        assert!(update(
            "",
            "configmaps",
            cm(json!({"a": "1"}), false),
            cm(json!({"a": "2"}), true)
        )
        .is_empty());
        let secret =
            |t: Value| json!({"metadata": {"name": "s"}, "type": t, "data": {"a": "eA=="}});
        assert_eq!(
            update(
                "",
                "secrets",
                secret(json!("Opaque")),
                secret(json!("example.com/custom"))
            ),
            ["type: Invalid value: \"example.com/custom\": field is immutable"]
        );
        assert!(update("", "secrets", secret(Value::Null), secret(json!("Opaque"))).is_empty());
    }
}
