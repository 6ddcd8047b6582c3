//! Per-kind behaviour of the generic store, as upstream's registry strategies: what a create
//! and an update keep or reset, defaulting, validation, create-on-update, generation tracking,
//! graceful deletion and finalizers. Every stored kind names its strategy in `kinds.rs`; no
//! code elsewhere matches on a kind to decide how it is written.

use api_types::resources::ResourceInfo;
use api_types::validation::{self, FieldError};
use serde_json::{json, Map, Value};

/// What a create does with the `status` the client sent.
#[derive(Clone, Copy)]
pub enum CreateStatus {
    /// The kind has no status the server owns: keep what was sent.
    Keep,
    /// Status belongs to the `/status` subresource: a create starts without one.
    Reset,
    /// The server sets the initial status from the object (pods, namespaces).
    Initial(fn(&Map<String, Value>) -> Value),
}

/// How one kind is written. A `const` per kind, built from `Strategy::new` so that every hook
/// is set (a kind cannot be registered without its validation).
pub struct Strategy {
    pub create_status: CreateStatus,
    /// Kind-specific changes to a new object after its metadata is set (namespaces' spec
    /// finalizer).
    pub prepare_for_create: fn(&mut Map<String, Value>),
    /// Kind-specific carry-over from the stored object into an update of the main resource
    /// (a Service's allocated addresses).
    pub prepare_for_update: fn(&Value, &mut Value),
    /// Spec changes bump `metadata.generation`.
    pub tracks_generation: bool,
    /// An update of a missing object creates it (upstream's `AllowCreateOnUpdate`).
    pub allow_create_on_update: bool,
    /// Deletion waits `terminationGracePeriodSeconds` for the kubelet (pods).
    pub graceful_deletion: bool,
    /// `spec.finalizers` hold the object's deletion as `metadata.finalizers` do (namespaces).
    pub spec_finalizers: bool,
    pub defaults: fn(&ResourceInfo, &mut Value),
    pub validate: fn(&ResourceInfo, &Value) -> Vec<FieldError>,
    pub validate_update: fn(&ResourceInfo, &Value, &Value) -> Vec<FieldError>,
}

impl Strategy {
    /// A kind with upstream's table-driven defaults and validation (`api_types`), keeping or
    /// resetting status as given.
    pub const fn new(create_status: CreateStatus) -> Self {
        Strategy {
            create_status,
            prepare_for_create: no_create_changes,
            prepare_for_update: no_update_changes,
            tracks_generation: false,
            allow_create_on_update: false,
            graceful_deletion: false,
            spec_finalizers: false,
            defaults: table_defaults,
            validate: table_validation,
            validate_update: table_update_validation,
        }
    }

    /// A kind without a status subresource.
    pub const fn plain() -> Self {
        Self::new(CreateStatus::Keep)
    }

    /// A kind whose status is written only through `/status`.
    pub const fn with_status() -> Self {
        Self::new(CreateStatus::Reset)
    }

    pub const fn generation(mut self) -> Self {
        self.tracks_generation = true;
        self
    }

    pub const fn create_on_update(mut self) -> Self {
        self.allow_create_on_update = true;
        self
    }

    /// Whether the main resource ignores the status a client sends (it belongs to `/status`).
    pub fn status_is_subresource(&self) -> bool {
        !matches!(self.create_status, CreateStatus::Keep)
    }
}

fn no_create_changes(_: &mut Map<String, Value>) {}

fn no_update_changes(_: &Value, _: &mut Value) {}

fn table_defaults(sinfo: &ResourceInfo, obj: &mut Value) {
    api_types::defaults::apply(sinfo.group, sinfo.plural, obj);
}

fn table_validation(sinfo: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    validation::validate(sinfo.group, sinfo.plural, sinfo.namespaced, obj)
}

fn table_update_validation(sinfo: &ResourceInfo, old: &Value, new: &Value) -> Vec<FieldError> {
    validation::validate_update(sinfo.group, sinfo.plural, sinfo.namespaced, old, new)
}

// ----- the kinds with behaviour of their own ---------------------------------------------------

/// Pods start `Pending` with their QoS class, and are deleted gracefully.
pub const POD: Strategy = Strategy {
    graceful_deletion: true,
    ..Strategy::new(CreateStatus::Initial(pod_initial_status))
};

/// Namespaces start `Active` with the `kubernetes` finalizer, which `/finalize` removes.
pub const NAMESPACE: Strategy = Strategy {
    prepare_for_create: namespace_finalizer,
    spec_finalizers: true,
    ..Strategy::new(CreateStatus::Initial(namespace_initial_status))
};

/// A node registers itself with its status: a create keeps it.
pub const NODE: Strategy = Strategy::plain();

/// A Service keeps the addresses allocated to it when an update leaves them out.
pub const SERVICE: Strategy = Strategy {
    prepare_for_update: keep_allocated_service_fields,
    ..Strategy::with_status()
};

/// Workloads whose spec changes bump `metadata.generation`.
pub const WORKLOAD: Strategy = Strategy::with_status().generation();

/// Kinds without status or generation.
pub const PLAIN: Strategy = Strategy::plain();

/// Kinds with a status subresource and no generation.
pub const STATUS: Strategy = Strategy::with_status();

/// Kinds without status that updates may create (leases, endpoints, events, RBAC).
pub const CREATE_ON_UPDATE: Strategy = Strategy::plain().create_on_update();

/// NetworkPolicies track generation and have no status subresource.
pub const PLAIN_GENERATION: Strategy = Strategy::plain().generation();

/// A Binding is never stored: it is validated as written, then assigns its pod through
/// `pods/binding`.
pub const BINDING: Strategy = Strategy {
    validate: validate_binding,
    ..Strategy::plain()
};

/// Upstream's `ValidatePodBinding` on top of the metadata checks.
fn validate_binding(sinfo: &ResourceInfo, binding: &Value) -> Vec<FieldError> {
    let mut errs = table_validation(sinfo, binding);
    let target = |k: &str| {
        binding
            .pointer(&format!("/target/{k}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    if !target("kind").is_empty() && target("kind") != "Node" {
        errs.push(FieldError::not_supported(
            "target.kind",
            target("kind"),
            &["Node"],
        ));
    }
    if target("name").is_empty() {
        errs.push(FieldError::required("target.name", ""));
    }
    errs
}

fn pod_initial_status(pod: &Map<String, Value>) -> Value {
    json!({"phase": "Pending", "qosClass": pod_qos(pod.get("spec"))})
}

fn namespace_initial_status(_: &Map<String, Value>) -> Value {
    json!({"phase": "Active"})
}

fn namespace_finalizer(ns: &mut Map<String, Value>) {
    let spec = ns.entry("spec").or_insert_with(|| json!({}));
    if spec.get("finalizers").is_none() {
        spec["finalizers"] = json!(["kubernetes"]);
    }
}

/// A Service's allocated addresses survive an update that leaves them out, as upstream's
/// registry copies them before validating.
fn keep_allocated_service_fields(old: &Value, new: &mut Value) {
    for field in ["clusterIP", "clusterIPs", "ipFamilies"] {
        let unset = new
            .pointer(&format!("/spec/{field}"))
            .is_none_or(|v| v.is_null() || v == "" || v.as_array().is_some_and(|a| a.is_empty()));
        if let (true, Some(prev)) = (unset, old.pointer(&format!("/spec/{field}"))) {
            if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert(field.to_string(), prev.clone());
            }
        }
    }
}

/// The pod's QoS class from its containers' requests and limits.
pub fn pod_qos(spec: Option<&Value>) -> &'static str {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(res));
            let request = requests.and_then(|r| r.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        assert_eq!(
            pod_qos(Some(&json!({"containers": [{"name": "a"}]}))),
            "BestEffort"
        );
        let g = json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(pod_qos(Some(&g)), "Guaranteed");
        let b = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(pod_qos(Some(&b)), "Burstable");
    }

    #[test]
    fn service_updates_keep_the_allocated_cluster_ip() {
        let old = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}});
        let mut new = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 81}]}});
        (SERVICE.prepare_for_update)(&old, &mut new);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.96.0.10"]));
        assert_eq!(new["spec"]["ports"][0]["port"], 81);
    }
}
