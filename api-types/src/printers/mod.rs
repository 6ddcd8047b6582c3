//! Server-side table printing: the columns `kubectl get` shows for each resource and the
//! cells of one object's row, computed the way upstream kube-apiserver's printers compute them
//! (always in wide form: kubectl hides priority-1 columns unless `-o wide`).
//!
//! Objects are read as JSON. events.k8s.io/v1 Events and autoscaling/v1 HPAs are converted to
//! core/v1 and autoscaling/v2 first, as upstream prints both from one internal type.
//! Resources without an upstream printer get the default `Name` / `Created At` table.
//! Quantities print in canonical form, as upstream's `Quantity.String()` does.
//!
//! Each kind's printer (its columns and its row) lives with its API group: `pods`, `core`,
//! `apps`, `batch`, `networking`, `storage` and `cluster`; `cells` holds what they share
//! (durations, JSON access, labels and selectors) and `doc` the column descriptions.

use jiff::Timestamp;
use serde_json::{json, Value};

mod apps;
mod batch;
mod cells;
mod cluster;
mod core;
mod doc;
mod networking;
mod pods;
mod storage;
#[cfg(test)]
mod testing;

pub use cells::{format_label_selector, format_labels, human_duration, translate_timestamp_since};
pub use pods::{pod_ready, pod_status};

use cells::{age, created_at, s};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: &'static str,
    /// `name` for the name column, otherwise empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for default columns, 1 for `-o wide` only.
    pub priority: i32,
}

impl Column {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// A default (priority 0) column.
const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A `-o wide` (priority 1) column.
const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

const fn name_col() -> Column {
    Column {
        name: "Name",
        type_: "string",
        format: "name",
        description: doc::NAME,
        priority: 0,
    }
}

const fn age_col() -> Column {
    col("Age", "string", doc::CREATED)
}

const CONTAINERS: &str = "Names of each container in the template.";
const IMAGES: &str = "Images referenced by each container in the template.";

/// How one kind prints: its columns, and one object's cells (one per column) at a time.
#[derive(Clone, Copy)]
struct Printer {
    columns: fn() -> Vec<Column>,
    row: fn(&Value, Timestamp) -> Vec<Value>,
}

/// Resources without an upstream printer: `Name` and `Created At`.
const DEFAULT: Printer = Printer {
    columns: || vec![name_col(), col("Created At", "date", doc::CREATED)],
    row: |obj, _now| vec![name_cell(obj), json!(created_at(obj))],
};

/// The printer upstream uses for `group`/`plural`.
fn printer(group: &str, plural: &str) -> Printer {
    match (group, plural) {
        ("", "pods") => pods::POD,
        ("", "podtemplates") => pods::POD_TEMPLATE,
        ("policy", "poddisruptionbudgets") => apps::POD_DISRUPTION_BUDGET,
        ("", "replicationcontrollers") => apps::REPLICATION_CONTROLLER,
        ("apps", "replicasets") => apps::REPLICA_SET,
        ("apps", "daemonsets") => apps::DAEMON_SET,
        ("batch", "jobs") => batch::JOB,
        ("batch", "cronjobs") => batch::CRON_JOB,
        ("", "services") => networking::SERVICE,
        ("networking.k8s.io", "ingresses") => networking::INGRESS,
        ("networking.k8s.io", "ingressclasses") => networking::INGRESS_CLASS,
        ("apps", "statefulsets") => apps::STATEFUL_SET,
        ("", "endpoints") => networking::ENDPOINTS,
        ("", "nodes") => core::NODE,
        ("", "events") | ("events.k8s.io", "events") => core::EVENT,
        ("", "namespaces") => core::NAMESPACE,
        ("", "secrets") => core::SECRET,
        ("", "serviceaccounts") => core::SERVICE_ACCOUNT,
        ("", "persistentvolumes") => storage::PERSISTENT_VOLUME,
        ("", "persistentvolumeclaims") => storage::PERSISTENT_VOLUME_CLAIM,
        ("apps", "deployments") => apps::DEPLOYMENT,
        ("autoscaling", "horizontalpodautoscalers") => apps::HORIZONTAL_POD_AUTOSCALER,
        ("", "configmaps") => core::CONFIG_MAP,
        ("networking.k8s.io", "networkpolicies") => networking::NETWORK_POLICY,
        ("rbac.authorization.k8s.io", "rolebindings") => cluster::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => cluster::CLUSTER_ROLE_BINDING,
        ("certificates.k8s.io", "certificatesigningrequests") => {
            cluster::CERTIFICATE_SIGNING_REQUEST
        }
        ("coordination.k8s.io", "leases") => cluster::LEASE,
        ("storage.k8s.io", "storageclasses") => storage::STORAGE_CLASS,
        ("apps", "controllerrevisions") => apps::CONTROLLER_REVISION,
        ("", "resourcequotas") => core::RESOURCE_QUOTA,
        ("scheduling.k8s.io", "priorityclasses") => cluster::PRIORITY_CLASS,
        ("storage.k8s.io", "volumeattachments") => storage::VOLUME_ATTACHMENT,
        ("discovery.k8s.io", "endpointslices") => networking::ENDPOINT_SLICE,
        ("storage.k8s.io", "csinodes") => storage::CSI_NODE,
        ("storage.k8s.io", "csidrivers") => storage::CSI_DRIVER,
        ("storage.k8s.io", "csistoragecapacities") => storage::CSI_STORAGE_CAPACITY,
        _ => DEFAULT,
    }
}

/// The columns for `group`/`plural`.
pub fn columns(group: &str, plural: &str) -> Vec<Column> {
    (printer(group, plural).columns)()
}

/// The cells of `obj`'s row, one per column, computed at `now`.
pub fn row(group: &str, plural: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    (printer(group, plural).row)(obj, now)
}

/// The `Name` cell every printer starts with.
fn name_cell(obj: &Value) -> Value {
    Value::String(s(obj, "/metadata/name").to_string())
}

/// The `Age` cell: the object's age at `now`, as kubectl shows it.
fn age_cell(obj: &Value, now: Timestamp) -> Value {
    Value::String(age(obj, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testing::*;
    use crate::printers::{columns, row};
    use crate::resources::RESOURCES;

    #[test]
    fn resources_without_an_upstream_printer_get_name_and_created_at() {
        for (g, p) in [
            ("", "limitranges"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "clusterroles"),
            ("example.com", "widgets"),
        ] {
            let cols = columns(g, p);
            assert_eq!(names(&cols), ["Name", "Created At"], "{p}");
            assert_eq!(cols[1].type_, "date");
        }
        let obj =
            json!({"metadata": {"name": "admin", "creationTimestamp": "2024-01-02T03:04:05Z"}});
        assert_eq!(
            row("rbac.authorization.k8s.io", "clusterroles", &obj, now()),
            vec![json!("admin"), json!("2024-01-02T03:04:05Z")]
        );
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(
            row("", "limitranges", &bare, now())[1],
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn every_resource_has_one_cell_per_column() {
        let samples = [
            json!({}),
            json!({"metadata": {"name": "x", "creationTimestamp": ago(30)}}),
            json!({"metadata": {"name": "x"}, "spec": {}, "status": {}}),
        ];
        for r in RESOURCES {
            let cols = columns(r.group, r.plural);
            assert!(!cols.is_empty());
            assert_eq!(
                cols.iter()
                    .filter(|c| c.format == "name" && c.name == "Name")
                    .count(),
                1
            );
            for obj in &samples {
                assert_eq!(
                    row(r.group, r.plural, obj, now()).len(),
                    cols.len(),
                    "{}/{} {}",
                    r.group,
                    r.version,
                    r.plural
                );
            }
        }
    }

    #[test]
    fn column_json_has_the_table_fields() {
        let c = &columns("", "pods")[5];
        let j = c.to_json();
        assert_eq!(j["name"], "IP");
        assert_eq!(j["type"], "string");
        assert_eq!(j["format"], "");
        assert_eq!(j["priority"], 1);
        assert!(j["description"].as_str().unwrap().contains("podIP"));
    }
}
