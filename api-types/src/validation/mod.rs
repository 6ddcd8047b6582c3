//! Validation of names and objects, returning errors with field paths as upstream words them.
//!
//! `validate` and `validate_update` work on objects as JSON (already decoded into the typed
//! form once by the apiserver, so field types are right) and return every problem found, each
//! a `FieldError` whose `message()` reads exactly like upstream's, e.g.
//! `spec.containers[0].image: Required value`. Checks follow upstream's documented rules for
//! the common kinds; rules that need cluster state (quota, admission) live elsewhere.
//!
//! Every built-in kind has one entry in `RULES`, naming what it checks on create and on
//! update; a kind whose only rules are its metadata says so with `metadata_only`, so a kind
//! left out is a test failure, never a silent skip. The checks live by API group:
//! `errors` (field errors and Go renderings), `names` (name and format checks), `common`
//! (JSON access and shared checks), `meta` (object metadata), then `pods`, `core`,
//! `networking`, `storage`, `apps`, `batch`, `scheduling` and `rbac`.

use serde_json::Value;

mod apps;
mod batch;
mod common;
mod core;
mod errors;
mod meta;
mod names;
mod networking;
mod pods;
mod rbac;
mod scheduling;
mod storage;
#[cfg(test)]
mod testing;

pub use batch::check_cron_schedule;
pub use common::{validate_annotations, validate_label_selector, validate_labels};
pub use errors::{aggregate_message, go_quote, go_value, ErrorKind, FieldError};
pub use names::{
    inclusive_range_error, is_config_map_key, is_dns1035_label, is_dns1123_label,
    is_dns1123_subdomain, is_env_var_name, is_qualified_name, is_valid_cidr, is_valid_ip,
    is_valid_ipv4_address, is_valid_ipv6_address, is_valid_label_value, is_valid_path_segment_name,
    is_valid_path_segment_prefix, is_valid_percent, is_valid_port_name, is_valid_port_num,
    is_wildcard_dns1123_subdomain, max_len_error, name_rule, regex_error, NameRule,
    DNS1035_LABEL_MAX_LENGTH, DNS1123_LABEL_MAX_LENGTH, DNS1123_SUBDOMAIN_MAX_LENGTH,
    LABEL_VALUE_MAX_LENGTH, MAX_SECRET_SIZE, QUALIFIED_NAME_MAX_LENGTH,
    TOTAL_ANNOTATION_SIZE_LIMIT,
};
pub use pods::{validate_ephemeral_containers_update, POD_UPDATE_FORBIDDEN};

use common::{check_selector_immutable, str_of, sub, Errs};

/// What one kind checks beyond its metadata.
struct Rules {
    group: &'static str,
    plural: &'static str,
    /// Checks on the whole object, on create and on update.
    object: fn(&Value, &mut Errs),
    /// Checks of an update against the stored object (immutable fields), after `object`.
    update: fn(&Value, &Value, &mut Errs),
}

/// A kind checked by `object` on create and update, with no immutable fields of its own.
const fn kind(group: &'static str, plural: &'static str, object: fn(&Value, &mut Errs)) -> Rules {
    Rules {
        group,
        plural,
        object,
        update: no_update_rules,
    }
}

impl Rules {
    const fn on_update(self, update: fn(&Value, &Value, &mut Errs)) -> Rules {
        Rules { update, ..self }
    }
}

/// For kinds upstream checks only by their metadata (name, namespace, labels...).
fn metadata_only(_obj: &Value, _errs: &mut Errs) {}

/// For kinds whose updates are checked like creates, with no immutable fields.
fn no_update_rules(_old: &Value, _new: &Value, _errs: &mut Errs) {}

/// Every built-in kind at its storage version, with its rules. `validate` and
/// `validate_update` read only this table; `has_rules` tells a kind that is missing.
#[rustfmt::skip]
static RULES: &[Rules] = &[
    // core/v1
    kind("", "bindings", metadata_only),
    kind("", "configmaps", core::validate_config_map)
        .on_update(|old, new, errs| core::validate_immutable_data(old, new, &["data", "binaryData"], errs)),
    kind("", "endpoints", networking::validate_endpoints),
    kind("", "events", metadata_only),
    kind("", "limitranges", metadata_only),
    kind("", "namespaces", |obj, errs| core::validate_namespace(sub(obj, "spec"), errs)),
    kind("", "nodes", |obj, errs| core::validate_node(sub(obj, "spec"), errs))
        .on_update(|old, new, errs| core::validate_node_update(sub(old, "spec"), sub(new, "spec"), errs)),
    kind("", "persistentvolumeclaims", |obj, errs| storage::validate_pvc(sub(obj, "spec"), errs))
        .on_update(|old, new, errs| storage::validate_pvc_update(sub(old, "spec"), sub(new, "spec"), errs)),
    kind("", "persistentvolumes", |obj, errs| storage::validate_pv(sub(obj, "spec"), errs))
        .on_update(|old, new, errs| storage::validate_pv_update(sub(old, "spec"), sub(new, "spec"), errs)),
    kind("", "pods", |obj, errs| pods::validate_pod_spec(sub(obj, "spec"), "spec", true, errs))
        .on_update(|old, new, errs| pods::validate_pod_update(sub(old, "spec"), sub(new, "spec"), errs)),
    kind("", "podtemplates", |obj, errs| pods::validate_pod_template(sub(obj, "template"), "template", errs)),
    kind("", "replicationcontrollers", |obj, errs| apps::validate_replication_controller(sub(obj, "spec"), errs)),
    kind("", "resourcequotas", |obj, errs| core::validate_resource_quota(sub(obj, "spec"), errs)),
    kind("", "secrets", core::validate_secret).on_update(core::validate_secret_update),
    kind("", "serviceaccounts", metadata_only),
    kind("", "services", |obj, errs| networking::validate_service(sub(obj, "spec"), errs))
        .on_update(|old, new, errs| networking::validate_service_update(sub(old, "spec"), sub(new, "spec"), errs)),
    // apps/v1
    kind("apps", "controllerrevisions", metadata_only),
    kind("apps", "daemonsets", |obj, errs| apps::validate_workload("daemonsets", sub(obj, "spec"), errs))
        .on_update(apps::validate_workload_update),
    kind("apps", "deployments", |obj, errs| apps::validate_workload("deployments", sub(obj, "spec"), errs))
        .on_update(apps::validate_workload_update),
    kind("apps", "replicasets", |obj, errs| apps::validate_workload("replicasets", sub(obj, "spec"), errs))
        .on_update(apps::validate_workload_update),
    kind("apps", "statefulsets", |obj, errs| apps::validate_workload("statefulsets", sub(obj, "spec"), errs))
        .on_update(|old, new, errs| {
            apps::validate_workload_update(old, new, errs);
            apps::validate_stateful_set_update(sub(old, "spec"), sub(new, "spec"), errs);
        }),
    // autoscaling/v2
    kind("autoscaling", "horizontalpodautoscalers", |obj, errs| scheduling::validate_hpa(sub(obj, "spec"), errs)),
    // batch/v1
    kind("batch", "cronjobs", batch::validate_cron_job),
    kind("batch", "jobs", |obj, errs| batch::validate_job_spec(sub(obj, "spec"), "spec", errs))
        .on_update(|old, new, errs| {
            check_selector_immutable(sub(old, "spec"), sub(new, "spec"), errs);
            batch::validate_job_template_update(old, new, errs);
        }),
    // certificates.k8s.io/v1
    kind("certificates.k8s.io", "certificatesigningrequests", metadata_only),
    // coordination.k8s.io/v1
    kind("coordination.k8s.io", "leases", |obj, errs| scheduling::validate_lease(sub(obj, "spec"), errs)),
    // discovery.k8s.io/v1
    kind("discovery.k8s.io", "endpointslices", networking::validate_endpoint_slice)
        .on_update(networking::validate_endpoint_slice_update),
    // networking.k8s.io/v1
    kind("networking.k8s.io", "ingressclasses", |obj, errs| {
        if str_of(sub(obj, "spec"), "controller").is_empty() {
            errs.push(FieldError::required("spec.controller", ""));
        }
    }),
    kind("networking.k8s.io", "ingresses", |obj, errs| networking::validate_ingress(sub(obj, "spec"), errs)),
    kind("networking.k8s.io", "networkpolicies", |obj, errs| networking::validate_network_policy(sub(obj, "spec"), errs)),
    // policy/v1
    kind("policy", "poddisruptionbudgets", |obj, errs| scheduling::validate_pdb(sub(obj, "spec"), errs)),
    // rbac.authorization.k8s.io/v1
    kind("rbac.authorization.k8s.io", "clusterrolebindings", |obj, errs| rbac::validate_binding(obj, false, errs))
        .on_update(rbac::validate_binding_update),
    kind("rbac.authorization.k8s.io", "clusterroles", |obj, errs| rbac::validate_rules(obj, false, errs)),
    kind("rbac.authorization.k8s.io", "rolebindings", |obj, errs| rbac::validate_binding(obj, true, errs))
        .on_update(rbac::validate_binding_update),
    kind("rbac.authorization.k8s.io", "roles", |obj, errs| rbac::validate_rules(obj, true, errs)),
    // scheduling.k8s.io/v1
    kind("scheduling.k8s.io", "priorityclasses", scheduling::validate_priority_class)
        .on_update(scheduling::validate_priority_class_update),
    // storage.k8s.io/v1
    kind("storage.k8s.io", "csidrivers", metadata_only),
    kind("storage.k8s.io", "csinodes", metadata_only),
    kind("storage.k8s.io", "csistoragecapacities", metadata_only),
    kind("storage.k8s.io", "storageclasses", storage::validate_storage_class),
    kind("storage.k8s.io", "volumeattachments", metadata_only),
];

fn rules(group: &str, plural: &str) -> Option<&'static Rules> {
    RULES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

/// Whether `group`/`plural` (a storage resource) has an entry in the validation table. Every
/// built-in kind has one; a kind without one (a custom resource) gets only its metadata
/// checked.
pub fn has_rules(group: &str, plural: &str) -> bool {
    rules(group, plural).is_some()
}

/// Validates a whole object of `group`/`plural` (as stored: its storage version).
pub fn validate(group: &str, plural: &str, namespaced: bool, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    meta::validate_object_meta(
        sub(obj, "metadata"),
        namespaced,
        name_rule(group, plural),
        &mut errs,
    );
    if let Some(rules) = rules(group, plural) {
        (rules.object)(obj, &mut errs);
    }
    errs
}

/// Validates an update: everything `validate` checks plus immutable fields. The caller checks
/// that `metadata.name` and `metadata.namespace` did not change.
pub fn validate_update(
    group: &str,
    plural: &str,
    namespaced: bool,
    old: &Value,
    new: &Value,
) -> Vec<FieldError> {
    let mut errs = validate(group, plural, namespaced, new);
    if let Some(rules) = rules(group, plural) {
        (rules.update)(old, new, &mut errs);
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{kind_table_problems, storage_of, RESOURCES};
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn update_also_validates_the_new_object() {
        let old = json!({"metadata": {"name": "c"}, "data": {"a": "1"}});
        let new = json!({"metadata": {"name": "c"}, "data": {"bad key": "1"}});
        assert_eq!(update("", "configmaps", old, new).len(), 1);
    }

    #[test]
    fn every_served_resource_has_rules() {
        let keys = RULES.iter().map(|r| (r.group, r.plural));
        assert_eq!(kind_table_problems(keys), Vec::<String>::new());
        // Objects are validated at their storage version, so that is the entry each needs.
        for r in RESOURCES.iter().map(storage_of) {
            assert!(has_rules(r.group, r.plural), "{}", r.qualified_plural());
        }
    }

    #[test]
    fn kinds_without_rules_get_their_metadata_checked() {
        assert!(!has_rules("example.com", "widgets"));
        let bad = json!({"metadata": {"name": "Bad_Name"}, "spec": {"anything": 1}});
        let errs = check("example.com", "widgets", true, bad);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("metadata.name: Invalid value: \"Bad_Name\""),
            "{errs:?}"
        );
        let good = json!({"metadata": {"name": "w"}, "spec": {"anything": 1}});
        assert!(check("example.com", "widgets", true, good).is_empty());
    }

    #[test]
    fn metadata_only_kinds_still_check_metadata() {
        assert!(has_rules("", "serviceaccounts"));
        let errs = check("", "serviceaccounts", true, json!({"metadata": {}}));
        assert_eq!(
            errs,
            ["metadata.name: Required value: name or generateName is required"]
        );
    }
}
