//! Subresources as strategies on the same store: each says which part of the stored object a
//! write through it may change (`status` only status, `finalize` only the namespace's spec
//! finalizers, ...), whether the kind's update validation runs and whether the writer's
//! field ownership is recorded. The main resource is the entry without a name.

use api_types::resources::ResourceInfo;
use api_types::validation::FieldError;
use serde_json::{json, Value};

use super::strategy::Strategy;
use crate::error::{ApiError, ApiResult};
use crate::object::metadata_mut;

/// How writes through one subresource (or the main resource) become the stored object.
pub struct SubresourceStrategy {
    /// `None`: the main resource.
    pub name: Option<&'static str>,
    /// Builds the object to store from the stored one and the one written.
    pub merge: fn(&Strategy, &Value, Value) -> Value,
    /// Defaults are applied to the result (the main resource's writes).
    pub defaults: bool,
    /// The kind's update validation runs on the result.
    pub validate_update: bool,
    /// The writer's field ownership is recorded in managedFields.
    pub managed_fields: bool,
    /// The subresource's own update validation (old, new), instead of or beside the kind's.
    pub validate: Option<fn(&Value, &Value) -> Vec<FieldError>>,
}

/// Every subresource served from storage, and the main resource first.
pub static SUBRESOURCES: &[SubresourceStrategy] = &[
    SubresourceStrategy {
        name: None,
        merge: main_merge,
        defaults: true,
        validate_update: true,
        managed_fields: true,
        validate: None,
    },
    SubresourceStrategy {
        name: Some("status"),
        merge: status_merge,
        defaults: false,
        validate_update: true,
        managed_fields: true,
        validate: None,
    },
    // The scale writer builds the object from the stored one with only `spec.replicas`
    // changed, so it merges as the main resource does.
    SubresourceStrategy {
        name: Some("scale"),
        merge: main_merge,
        defaults: false,
        validate_update: true,
        managed_fields: true,
        validate: None,
    },
    SubresourceStrategy {
        name: Some("finalize"),
        merge: finalize_merge,
        defaults: false,
        validate_update: true,
        managed_fields: true,
        validate: None,
    },
    SubresourceStrategy {
        name: Some("approval"),
        merge: approval_merge,
        defaults: false,
        validate_update: true,
        managed_fields: true,
        validate: None,
    },
    // A binding sets the pod's node and its PodScheduled condition, which the pod's own update
    // validation forbids (`spec.nodeName` is immutable), and, as upstream, is not recorded in
    // the pod's managedFields: the Binding object itself was validated.
    SubresourceStrategy {
        name: Some("binding"),
        merge: take_new,
        defaults: false,
        validate_update: false,
        managed_fields: false,
        validate: None,
    },
    // `pods/ephemeralcontainers` changes only `spec.ephemeralContainers` (kubectl debug adds
    // one there); the pod's own update validation forbids that, so the subresource has its
    // own. Defaults fill the new containers' fields.
    SubresourceStrategy {
        name: Some("ephemeralcontainers"),
        merge: ephemeral_containers_merge,
        defaults: true,
        validate_update: false,
        managed_fields: true,
        validate: Some(api_types::validation::validate_ephemeral_containers_update),
    },
];

/// The strategy of a subresource served from storage (`None`: the main resource).
pub fn of(info: &ResourceInfo, name: Option<&str>) -> ApiResult<&'static SubresourceStrategy> {
    SUBRESOURCES.iter().find(|s| s.name == name).ok_or_else(|| {
        ApiError::path_not_found(&format!(
            "{}/{}",
            info.qualified_plural(),
            name.unwrap_or("")
        ))
    })
}

fn main_merge(strategy: &Strategy, old: &Value, mut new: Value) -> Value {
    (strategy.prepare_for_update)(old, &mut new);
    if strategy.status_is_subresource() {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
    new
}

fn status_merge(_: &Strategy, old: &Value, new: Value) -> Value {
    let mut r = old.clone();
    match new.get("status") {
        Some(s) => r["status"] = s.clone(),
        None => {
            r.as_object_mut().map(|m| m.remove("status"));
        }
    }
    r
}

fn finalize_merge(_: &Strategy, old: &Value, new: Value) -> Value {
    let mut r = old.clone();
    r["spec"]["finalizers"] = new
        .pointer("/spec/finalizers")
        .cloned()
        .unwrap_or(json!([]));
    r
}

fn approval_merge(_: &Strategy, old: &Value, new: Value) -> Value {
    let mut r = old.clone();
    r["status"]["conditions"] = new
        .pointer("/status/conditions")
        .cloned()
        .unwrap_or(json!([]));
    r
}

fn ephemeral_containers_merge(_: &Strategy, old: &Value, new: Value) -> Value {
    let mut r = old.clone();
    match new.pointer("/spec/ephemeralContainers") {
        Some(list) => r["spec"]["ephemeralContainers"] = list.clone(),
        None => {
            if let Some(spec) = r.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("ephemeralContainers");
            }
        }
    }
    r
}

fn take_new(_: &Strategy, _: &Value, new: Value) -> Value {
    new
}

/// Everything but `metadata` and `status`: what counts as the spec for `generation`.
fn spec_changed(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return old != new;
    };
    // Compared in place: no copy of either object.
    let spec = |(k, _): &(&String, &Value)| *k != "metadata" && *k != "status";
    o.iter().filter(spec).count() != n.iter().filter(spec).count()
        || o.iter().filter(spec).any(|(k, v)| n.get(k) != Some(v))
}

/// The object to store for a write of `new` over `old` through `sub`: the subresource's part
/// taken, the metadata the server owns kept, generation bumped on spec changes, defaults
/// filled for the main resource.
pub fn prepare_for_update(
    strategy: &Strategy,
    sub: &SubresourceStrategy,
    sinfo: &ResourceInfo,
    old: &Value,
    new: Value,
) -> Value {
    let mut result = (sub.merge)(strategy, old, new);
    let old_meta = old.get("metadata").and_then(Value::as_object);
    let meta = metadata_mut(&mut result).expect("objects have metadata");
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "name",
        "namespace",
        "generateName",
    ] {
        match old_meta.and_then(|m| m.get(k)) {
            Some(v) => meta.insert(k.into(), v.clone()),
            None => meta.remove(k),
        };
    }
    meta.remove("selfLink");
    let old_gen = old_meta.and_then(|m| m.get("generation"));
    if strategy.tracks_generation {
        let gen = old_gen.and_then(Value::as_i64).unwrap_or(1);
        let changed = spec_changed(old, &result);
        result["metadata"]["generation"] = json!(if changed { gen + 1 } else { gen });
    } else if let Some(g) = old_gen {
        result["metadata"]["generation"] = g.clone();
    }
    if sub.defaults {
        (strategy.defaults)(sinfo, &mut result);
    }
    result
}

// ----- scale -------------------------------------------------------------------------------

/// The `autoscaling/v1` Scale of a workload: its replicas and its selector as a string.
pub fn scale_view(obj: &Value) -> ApiResult<Value> {
    use api_types::labels::LabelSelector;
    let selector = match obj.pointer("/spec/selector") {
        // Deployments, ReplicaSets and StatefulSets have a LabelSelector.
        Some(sel) if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() => {
            let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
                serde_json::from_value(sel.clone())
                    .map_err(|e| ApiError::internal(format!("stored selector is invalid: {e}")))?;
            LabelSelector::from_label_selector(&typed)
                .map_err(|e| ApiError::internal(format!("stored selector is invalid: {e}")))?
                .to_string()
        }
        // ReplicationControllers have a plain map.
        Some(Value::Object(m)) => {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            pairs.sort();
            pairs.join(",")
        }
        _ => String::new(),
    };
    let mut scale_meta = serde_json::Map::new();
    if let Some(meta) = obj.get("metadata") {
        for k in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
        ] {
            if let Some(v) = meta.get(k) {
                scale_meta.insert(k.into(), v.clone());
            }
        }
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::kinds::strategy_of;
    use api_types::resources::find;

    #[test]
    fn main_resource_updates_keep_status_and_bump_generation_on_spec_change() {
        let deploy = find("apps", "v1", "deployments").unwrap();
        let strategy = strategy_of(deploy);
        let main = of(deploy, None).unwrap();
        let old = json!({"metadata": {"name": "d", "uid": "u", "generation": 3, "creationTimestamp": "t"},
            "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let new = json!({"metadata": {"name": "d", "uid": "forged"}, "spec": {"replicas": 2}, "status": {"replicas": 9}});
        let merged = prepare_for_update(strategy, main, deploy, &old, new);
        assert_eq!(merged["status"]["replicas"], 1);
        assert_eq!(merged["metadata"]["uid"], "u");
        assert_eq!(merged["metadata"]["generation"], 4);
        assert_eq!(merged["spec"]["replicas"], 2);

        let status = of(deploy, Some("status")).unwrap();
        let status_only =
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 7}, "status": {"replicas": 5}});
        let merged = prepare_for_update(strategy, status, deploy, &old, status_only);
        assert_eq!(merged["spec"]["replicas"], 1);
        assert_eq!(merged["status"]["replicas"], 5);
        assert_eq!(merged["metadata"]["generation"], 3);
    }

    #[test]
    fn service_updates_keep_the_allocated_cluster_ip_through_the_store_merge() {
        let svc = find("", "v1", "services").unwrap();
        let old = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}});
        let new = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 81}]}});
        let merged = prepare_for_update(strategy_of(svc), of(svc, None).unwrap(), svc, &old, new);
        assert_eq!(merged["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(merged["spec"]["ports"][0]["port"], 81);
    }

    #[test]
    fn unknown_subresources_are_refused() {
        let pods = find("", "v1", "pods").unwrap();
        assert_eq!(of(pods, Some("nonsense")).err().unwrap().code, 404);
    }
}
