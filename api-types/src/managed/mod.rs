//! Server-side apply and `metadata.managedFields`: which manager owns which fields of an
//! object, how an apply merges into the live object and when it conflicts, and how ordinary
//! writes move ownership.
//!
//! The apiserver calls [`apply`] (or [`apply_subresource`]) for `application/apply-patch+yaml`
//! patches and [`update`] for every other write (create, update, non-apply patch); both return
//! the object to store, `metadata.managedFields` included.
//!
//! The model follows upstream's structured-merge-diff:
//!
//! - A manager's fields are a set of paths. A path steps through struct/map fields
//!   (`f:<name>`), associative-list elements by key (`k:{"name":"nginx"}`, the key fields'
//!   JSON with the names sorted) and set elements by value (`v:"x"`). Scalars, atomic lists
//!   and atomic maps/structs are owned whole as leaves. An apply owns the leaves and list
//!   elements it sets; an update also owns each map, list and element it creates (an empty
//!   one included). The set is stored as `fieldsV1`, nested objects whose `.` key marks a
//!   node that is itself in the set and also has children in it.
//! - List types come from [`crate::strategic::field_strategy`]: a list with a merge key is an
//!   associative list (`containers` by `name`; container and service `ports` by port and
//!   `protocol`, which defaults to `TCP`), a scalar list with merge strategy is a set
//!   (`finalizers`), every other list is atomic. Label selectors, `nodeSelector`, the
//!   service and replication controller `selector` maps, env `valueFrom` references and
//!   `ownerReferences` elements are atomic, as upstream marks them. Kinds the resource table
//!   does not know (custom resources) get only the `metadata` rules: maps are granular and
//!   lists atomic.
//! - An apply merges the applied configuration into the live object (maps key by key,
//!   associative lists by key, sets by value, everything else replaced; a `null` is owned
//!   but not stored), removes what the applier applied last time, omits now and nobody else
//!   owns (with the maps that leaves empty), and fails with conflicts
//!   when it changes a field (a value that differs, or is new) another manager owns, unless
//!   forced; forcing takes the field from the other managers. The applier's `Apply` entry
//!   becomes exactly the applied fields.
//! - An update gives its manager's `Update` entry every field it added or changed, takes
//!   those fields from every other manager, and drops removed fields from every manager.
//!   Entries whose sets become empty go. More than ten `Update` entries are folded, oldest
//!   first, into `ancient-changes` entries.
//! - The `apiVersion`, `kind`, `metadata.name`, `metadata.namespace` and server-populated
//!   metadata fields are never owned. On the main resource of a kind with a status
//!   subresource `status` is not tracked; on the `status` subresource `metadata` and `spec`
//!   are not. (Resetting those fields in the stored object stays the caller's strategy.)
//! - An update of an existing object that has no managed fields is not tracked (upstream's
//!   "skip non-applied" rule; clearing them with `managedFields: [{}]` leaves them cleared),
//!   while the first apply to such an object first records everything in it as owned by
//!   `before-first-apply`.
//! - `kubectl` upgrading from client-side apply: when the applier is `kubectl` and the live
//!   object has the `kubectl.kubernetes.io/last-applied-configuration` annotation, conflicts
//!   on fields that the annotation lists with the live value are allowed (the apply is then
//!   forced); afterwards the annotation is rewritten to the applied configuration, so a
//!   later client-side apply still works.
//!
//! The code follows those concerns: `fieldset` (paths and sets, `fieldsV1`), `schema` (list
//! and map semantics per kind), `entries` (the managedFields entries), `apply`, `update` and
//! `conflicts`.

use serde_json::{Map, Value};

mod apply;
mod conflicts;
mod entries;
mod fieldset;
mod schema;
#[cfg(test)]
mod testing;
mod update;

pub use apply::{apply, apply_subresource};
pub use conflicts::{conflict_causes, conflict_message, conflict_status, ApplyError, Conflict};
pub use entries::fields_v1_paths;
pub use update::{manager_name, update};

pub(super) type Obj = Map<String, Value>;

/// The manager that owns every field of an object without managed fields, on its first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";
/// The manager that the oldest `Update` entries are folded into.
pub const ANCIENT_CHANGES: &str = "ancient-changes";
/// How many `Update` entries an object keeps before folding the oldest.
pub const MAX_UPDATE_MANAGERS: usize = 10;
/// Client-side apply's record of the last applied configuration.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// kubectl's manager for client-side apply.
pub const CLIENT_SIDE_APPLY_MANAGER: &str = "kubectl-client-side-apply";

pub(super) const APPLY: &str = "Apply";
pub(super) const UPDATE: &str = "Update";
pub(super) const KUBECTL: &str = "kubectl";
/// Upstream's limit on the total size of an object's annotations.
pub(super) const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::testing::*;
    use serde_json::json;

    #[test]
    fn a_deployments_life() {
        // kubectl apply --server-side creates it.
        let v1 = apply_deploy(None, &nginx(3, "nginx:1"), "kubectl", false).unwrap();
        // The controller writes status through the subresource.
        let mut st = v1.clone();
        st["status"] =
            json!({"replicas": 3, "conditions": [{"type": "Available", "status": "True"}]});
        let v2 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &st,
            "kube-controller-manager",
            Some("status"),
            T1,
        );
        assert_eq!(
            paths(&v2, "kube-controller-manager", "Update"),
            vec![
                ".status.conditions",
                ".status.replicas",
                ".status.conditions[type=\"Available\"]",
                ".status.conditions[type=\"Available\"].status",
                ".status.conditions[type=\"Available\"].type",
            ]
        );
        // A new image applies without conflict, status untouched.
        let v3 = apply_deploy(Some(&v2), &nginx(3, "nginx:2"), "kubectl", false).unwrap();
        assert_eq!(v3["status"]["replicas"], 3);
        // An autoscaler scales; the next apply of replicas conflicts with it.
        let mut scaled = v3.clone();
        scaled["spec"]["replicas"] = json!(7);
        let v4 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v3),
            &scaled,
            "hpa",
            Some("scale"),
            T2,
        );
        let c = conflicts(apply_deploy(
            Some(&v4),
            &nginx(3, "nginx:2"),
            "kubectl",
            false,
        ));
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 1 conflict: conflict with \"hpa\" with subresource \"scale\" using apps/v1: .spec.replicas"
        );
        // Dropping replicas from the manifest leaves the autoscaler's value.
        let mut no_replicas = nginx(3, "nginx:2");
        no_replicas["spec"]
            .as_object_mut()
            .unwrap()
            .remove("replicas");
        let v5 = apply_deploy(Some(&v4), &no_replicas, "kubectl", false).unwrap();
        assert_eq!(v5["spec"]["replicas"], 7);
        assert_eq!(entries(&v5).len(), 3);
    }
}
