//! Defaulting: the values upstream fills in when a client leaves fields unset.
//!
//! [`apply`] runs on every create and update of a stored object (not on subresource writes),
//! on the object in its storage version. It mirrors upstream's `SetDefaults_*` functions and
//! declarative `+default` markers for the built-in API groups, plus the few create-strategy
//! steps whose results upstream clients always see in the stored form (a Job's generated
//! selector, a Service's IP family fields). Rules:
//!
//! - a field counts as unset when it is absent or `null`; string enums also when `""`
//!   (upstream's zero value), pointers (`replicas`, `suspend`, ...) only when absent or null;
//! - a value the client set is never overwritten (the one upstream exception, the
//!   `kubernetes.io/metadata.name` namespace label, always equals the name);
//! - applying twice is the same as applying once.
//!
//! Not covered: admission plugins (service account, priority, default tolerations, limit
//! ranges), IP allocation, and upstream's rounding of resource quantities to milli-units.
//!
//! Every built-in kind has an entry in `DEFAULTS`, `no_defaults` for the kinds upstream
//! leaves as they are, so a kind cannot go without defaulting by omission. The steps live by
//! API group: `pods`, `core`, `networking`, `apps`, `batch` and `cluster`, built from the
//! helpers in `common`.

use serde_json::Value;

mod apps;
mod batch;
mod cluster;
mod common;
mod core;
mod networking;
mod pods;
#[cfg(test)]
mod testing;

pub use pods::{image_tag, pull_policy};

use common::{object, Obj};

/// How one kind is defaulted: its fields filled in place.
type Defaulting = fn(&mut Obj);

/// For kinds upstream does not default.
fn no_defaults(_o: &mut Obj) {}

/// Every built-in kind at its storage version, with its defaulting.
#[rustfmt::skip]
static DEFAULTS: &[(&str, &str, Defaulting)] = &[
    // core/v1
    ("", "bindings", no_defaults),
    ("", "configmaps", no_defaults),
    ("", "endpoints", networking::endpoints),
    ("", "events", no_defaults),
    ("", "limitranges", core::limit_range),
    ("", "namespaces", core::namespace),
    ("", "nodes", core::node),
    ("", "persistentvolumeclaims", core::persistent_volume_claim),
    ("", "persistentvolumes", core::persistent_volume),
    ("", "pods", pods::pod),
    ("", "podtemplates", |o| {
        if let Some(t) = object(o, "template") {
            pods::pod_template(t);
        }
    }),
    ("", "replicationcontrollers", apps::replication_controller),
    ("", "resourcequotas", no_defaults),
    ("", "secrets", core::secret),
    ("", "serviceaccounts", no_defaults),
    ("", "services", networking::service),
    // apps/v1
    ("apps", "controllerrevisions", no_defaults),
    ("apps", "daemonsets", apps::daemon_set),
    ("apps", "deployments", apps::deployment),
    ("apps", "replicasets", apps::replica_set),
    ("apps", "statefulsets", apps::stateful_set),
    // autoscaling/v2
    ("autoscaling", "horizontalpodautoscalers", apps::horizontal_pod_autoscaler),
    // batch/v1
    ("batch", "cronjobs", batch::cron_job),
    ("batch", "jobs", batch::job),
    // certificates.k8s.io/v1
    ("certificates.k8s.io", "certificatesigningrequests", cluster::certificate_signing_request),
    // coordination.k8s.io/v1
    ("coordination.k8s.io", "leases", no_defaults),
    // discovery.k8s.io/v1
    ("discovery.k8s.io", "endpointslices", networking::endpoint_slice),
    // networking.k8s.io/v1
    ("networking.k8s.io", "ingressclasses", networking::ingress_class),
    ("networking.k8s.io", "ingresses", no_defaults),
    ("networking.k8s.io", "networkpolicies", networking::network_policy),
    // policy/v1
    ("policy", "poddisruptionbudgets", no_defaults),
    // rbac.authorization.k8s.io/v1
    ("rbac.authorization.k8s.io", "clusterrolebindings", cluster::role_binding),
    ("rbac.authorization.k8s.io", "clusterroles", no_defaults),
    ("rbac.authorization.k8s.io", "rolebindings", cluster::role_binding),
    ("rbac.authorization.k8s.io", "roles", no_defaults),
    // scheduling.k8s.io/v1
    ("scheduling.k8s.io", "priorityclasses", cluster::priority_class),
    // storage.k8s.io/v1
    ("storage.k8s.io", "csidrivers", cluster::csi_driver),
    ("storage.k8s.io", "csinodes", no_defaults),
    ("storage.k8s.io", "csistoragecapacities", no_defaults),
    ("storage.k8s.io", "storageclasses", cluster::storage_class),
    ("storage.k8s.io", "volumeattachments", no_defaults),
];

fn defaulting(group: &str, plural: &str) -> Option<Defaulting> {
    DEFAULTS
        .iter()
        .find(|(g, p, _)| *g == group && *p == plural)
        .map(|(_, _, f)| *f)
}

/// Whether `group`/`plural` (a storage resource) has an entry in the defaulting table, with
/// defaults or explicitly none. Every built-in kind has one; custom resources do not.
pub fn is_known(group: &str, plural: &str) -> bool {
    defaulting(group, plural).is_some()
}

/// Fills unset fields of `obj` (a `group`/`plural` object in its storage version).
pub fn apply(group: &str, plural: &str, obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    if let Some(default) = defaulting(group, plural) {
        default(o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testing::*;
    use crate::resources::kind_table_problems;
    use serde_json::json;

    #[test]
    fn user_values_are_kept() {
        let p = defaulted(
            "",
            "pods",
            json!({
                "metadata": {"name": "p"},
                "spec": {
                    "restartPolicy": "Never",
                    "dnsPolicy": "Default",
                    "schedulerName": "mine",
                    "terminationGracePeriodSeconds": 0,
                    "enableServiceLinks": false,
                    "securityContext": {"runAsUser": 1000},
                    "containers": [{
                        "name": "c", "image": "nginx",
                        "imagePullPolicy": "Never",
                        "terminationMessagePath": "/tmp/x",
                        "terminationMessagePolicy": "FallbackToLogsOnError"
                    }]
                }
            }),
        );
        let spec = &p["spec"];
        assert_eq!(spec["restartPolicy"], "Never");
        assert_eq!(spec["dnsPolicy"], "Default");
        assert_eq!(spec["schedulerName"], "mine");
        assert_eq!(spec["terminationGracePeriodSeconds"], 0);
        assert_eq!(spec["enableServiceLinks"], false);
        assert_eq!(spec["securityContext"], json!({"runAsUser": 1000}));
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Never");
        assert_eq!(c["terminationMessagePath"], "/tmp/x");
        assert_eq!(c["terminationMessagePolicy"], "FallbackToLogsOnError");
    }

    #[test]
    fn empty_strings_count_as_unset() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {"restartPolicy": "", "containers": [{"name": "c", "image": "a:1", "imagePullPolicy": ""}]}}),
        );
        assert_eq!(p["spec"]["restartPolicy"], "Always");
        assert_eq!(
            p["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn unknown_resources_and_non_objects_are_left_alone() {
        let mut cm = json!({"data": {"a": "b"}});
        apply("", "configmaps", &mut cm);
        assert_eq!(cm, json!({"data": {"a": "b"}}));
        let mut crd = json!({"spec": {"replicas": null}});
        apply("example.com", "widgets", &mut crd);
        assert_eq!(crd, json!({"spec": {"replicas": null}}));
        let mut not_object = json!("x");
        apply("", "pods", &mut not_object);
        assert_eq!(not_object, json!("x"));
    }

    #[test]
    fn null_counts_as_unset() {
        let d = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"replicas": null, "strategy": null}}),
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    }

    #[test]
    fn every_served_resource_has_a_defaulting_entry() {
        let keys = DEFAULTS.iter().map(|(group, plural, _)| (*group, *plural));
        assert_eq!(kind_table_problems(keys), Vec::<String>::new());
        assert!(!is_known("example.com", "widgets"));
    }
}
