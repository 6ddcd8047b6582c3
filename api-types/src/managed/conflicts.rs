//! Apply conflicts: the fields another manager owns that an apply would change, and the
//! `409 Conflict` message, causes and Status upstream answers with.

use serde_json::{json, Value};

use super::fieldset::quote;
use super::UPDATE;

/// A field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// Its entry's operation: `Apply` or `Update`.
    pub operation: String,
    /// Its entry's `apiVersion`.
    pub api_version: String,
    /// Its entry's subresource, if any.
    pub subresource: Option<String>,
    /// The field, as upstream prints paths: `.spec.replicas`,
    /// `.spec.template.spec.containers[name="nginx"].image`.
    pub field_path: String,
}

impl Conflict {
    /// The manager as upstream names it in conflict messages: `"m"` for an applier,
    /// `"m" using apps/v1` for an updater, `"m" with subresource "status" using v1`.
    pub fn manager_display(&self) -> String {
        let mut s = quote(&self.manager);
        if let Some(sub) = &self.subresource {
            s = format!("{s} with subresource {}", quote(sub));
        }
        if self.operation == UPDATE {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn manager_order(&self) -> (&str, &str, &str, Option<&str>) {
        (
            &self.manager,
            &self.operation,
            &self.api_version,
            self.subresource.as_deref(),
        )
    }
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Fields other managers own would change (HTTP 409; see [`conflict_status`]).
    #[error("{}", conflict_message("", .0))]
    Conflicts(Vec<Conflict>),
    /// The applied configuration is not acceptable (HTTP 400 upstream, or 422 for the
    /// typed-object errors): managed fields in the body, duplicate or keyless list elements.
    #[error("{0}")]
    Invalid(String),
}

/// Upstream's message for a conflicted apply: `Apply failed with 1 conflict: conflict with
/// "m" using apps/v1: .spec.replicas`, or for several, the conflicts grouped by manager:
/// `Apply failed with 2 conflicts: conflicts with "m" using v1:\n- .data.a\n- .data.b`.
/// The resource is not part of upstream's text; the parameter is accepted for callers that
/// name it elsewhere.
pub fn conflict_message(_resource: &str, conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager_display(),
            c.field_path
        );
    }
    let mut groups: Vec<(&Conflict, Vec<&str>)> = Vec::new();
    for c in conflicts {
        match groups
            .iter_mut()
            .find(|(first, _)| first.manager_order() == c.manager_order())
        {
            Some((_, paths)) => paths.push(&c.field_path),
            None => groups.push((c, vec![&c.field_path])),
        }
    }
    groups.sort_by(|a, b| a.0.manager_order().cmp(&b.0.manager_order()));
    let mut lines = Vec::new();
    for (c, paths) in groups {
        lines.push(format!("conflicts with {}:", c.manager_display()));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The `details.causes` of the 409 status: one `FieldManagerConflict` per conflict.
pub fn conflict_causes(conflicts: &[Conflict]) -> Vec<Value> {
    conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager_display()),
                "field": c.field_path,
            })
        })
        .collect()
}

/// The whole 409 `Status` object upstream returns for a conflicted apply.
pub fn conflict_status(conflicts: &[Conflict]) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": conflict_message("", conflicts),
        "reason": "Conflict",
        "details": {"causes": conflict_causes(conflicts)},
        "code": 409,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::entries::sorted;
    use crate::managed::testing::*;
    use crate::managed::*;
    use serde_json::json;

    #[test]
    fn conflicting_value_fails() {
        let v1 = apply_deploy(None, &nginx(3, "nginx"), "one", false).unwrap();
        let c = conflicts(apply_deploy(Some(&v1), &nginx(5, "nginx"), "two", false));
        assert_eq!(
            c,
            vec![Conflict {
                manager: "one".into(),
                operation: "Apply".into(),
                api_version: "apps/v1".into(),
                subresource: None,
                field_path: ".spec.replicas".into(),
            }]
        );
        assert_eq!(
            conflict_message("deployments.apps \"nginx\"", &c),
            "Apply failed with 1 conflict: conflict with \"one\": .spec.replicas"
        );
    }

    #[test]
    fn same_value_is_shared_without_conflict() {
        let v1 = apply_deploy(None, &nginx(3, "nginx"), "one", false).unwrap();
        let v2 = apply_deploy(Some(&v1), &nginx(3, "nginx"), "two", false).unwrap();
        assert!(paths(&v2, "one", "Apply").contains(&".spec.replicas".to_string()));
        assert!(paths(&v2, "two", "Apply").contains(&".spec.replicas".to_string()));
        // Shared: now neither may change it alone.
        let c = conflicts(apply_deploy(Some(&v2), &nginx(4, "nginx"), "one", false));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].manager, "two");
    }

    #[test]
    fn force_takes_ownership() {
        let v1 = apply_deploy(None, &nginx(3, "nginx"), "one", false).unwrap();
        let v2 = apply_deploy(Some(&v1), &nginx(5, "nginx:2"), "two", true).unwrap();
        assert_eq!(v2["spec"]["replicas"], 5);
        let one = paths(&v2, "one", "Apply");
        assert!(!one.contains(&".spec.replicas".to_string()), "{one:?}");
        assert!(!one.iter().any(|p| p.ends_with(".image")), "{one:?}");
        assert!(one.contains(&".spec.selector".to_string()));
        let two = paths(&v2, "two", "Apply");
        assert!(two.contains(&".spec.replicas".to_string()));
        assert!(two.contains(&".spec.template.spec.containers[name=\"nginx\"].image".to_string()));
    }

    #[test]
    fn conflict_paths_name_list_elements() {
        let v1 = apply_deploy(None, &nginx(3, "nginx:1"), "one", false).unwrap();
        let c = conflicts(apply_deploy(Some(&v1), &nginx(3, "nginx:2"), "two", false));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].field_path,
            ".spec.template.spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn conflicts_with_updaters_name_their_version() {
        let d = nginx(3, "nginx");
        let v1 = update(
            "apps",
            "Deployment",
            "apps/v1",
            None,
            &d,
            "kubectl-client-side-apply",
            None,
            T0,
        );
        let c = conflicts(apply_deploy(Some(&v1), &nginx(4, "nginx"), "ssa", false));
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            conflict_causes(&c),
            vec![json!({
                "reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
                "field": ".spec.replicas",
            })]
        );
        let status = conflict_status(&c);
        assert_eq!(status["code"], 409);
        assert_eq!(status["reason"], "Conflict");
    }

    #[test]
    fn several_conflicts_are_grouped_by_manager() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1", "b": "1"})),
            "m",
            None,
            T0,
        );
        let c = conflicts(apply_cm(Some(&v1), &cm(json!({"a": "2", "b": "2"})), "x"));
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 2 conflicts: conflicts with \"m\" using v1:\n- .data.a\n- .data.b"
        );
        assert_eq!(
            ApplyError::Conflicts(c).to_string(),
            "Apply failed with 2 conflicts: conflicts with \"m\" using v1:\n- .data.a\n- .data.b"
        );
    }

    #[test]
    fn manager_display_names_subresources() {
        let c = Conflict {
            manager: "kubelet".into(),
            operation: "Update".into(),
            api_version: "v1".into(),
            subresource: Some("status".into()),
            field_path: ".status.phase".into(),
        };
        assert_eq!(
            c.manager_display(),
            "\"kubelet\" with subresource \"status\" using v1"
        );
    }

    #[test]
    fn adding_a_new_field_another_manager_owns_the_parent_of_is_fine() {
        let v1 = apply_cm(None, &cm(json!({"a": "1"})), "one").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"b": "1"})), "two").unwrap();
        assert!(v2["data"]["b"] == "1");
    }

    #[test]
    fn first_apply_to_an_untracked_object_conflicts_with_before_first_apply() {
        let old = cm(json!({"a": "1"}));
        let c = conflicts(apply_cm(Some(&old), &cm(json!({"a": "2"})), "m"));
        assert_eq!(c[0].manager, BEFORE_FIRST_APPLY);
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.a"
        );
        let out = apply(
            "",
            "ConfigMap",
            "v1",
            Some(&old),
            &cm(json!({"a": "2"})),
            "m",
            true,
            T1,
        )
        .unwrap();
        assert_eq!(paths(&out, "m", "Apply"), vec![".data.a"]);
        assert_eq!(paths(&out, BEFORE_FIRST_APPLY, "Update"), vec![".data"]);
    }

    fn client_side_applied(replicas: i64, live_replicas: i64) -> Value {
        let config = nginx(replicas, "nginx:1");
        let mut live = config.clone();
        live["metadata"]["annotations"] =
            json!({LAST_APPLIED_ANNOTATION: sorted(&config).to_string() + "\n"});
        let v1 = update(
            "apps",
            "Deployment",
            "apps/v1",
            None,
            &live,
            CLIENT_SIDE_APPLY_MANAGER,
            None,
            T0,
        );
        if live_replicas == replicas {
            return v1;
        }
        let mut scaled = v1.clone();
        scaled["spec"]["replicas"] = json!(live_replicas);
        update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &scaled,
            "kubectl-scale",
            None,
            T1,
        )
    }

    #[test]
    fn kubectl_upgrades_from_client_side_apply_without_conflicts() {
        let live = client_side_applied(3, 3);
        let out = apply_deploy(Some(&live), &nginx(3, "nginx:2"), "kubectl", false).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
        let csa = paths(&out, CLIENT_SIDE_APPLY_MANAGER, "Update");
        assert!(!csa.iter().any(|p| p.ends_with(".image")), "{csa:?}");
        // The annotation follows the applied configuration.
        let last: Value = serde_json::from_str(
            out["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(last, nginx(3, "nginx:2"));
    }

    #[test]
    fn fields_changed_since_client_side_apply_still_conflict() {
        let live = client_side_applied(3, 5);
        let c = conflicts(apply_deploy(
            Some(&live),
            &nginx(3, "nginx:2"),
            "kubectl",
            false,
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].manager, "kubectl-scale");
        assert_eq!(c[0].field_path, ".spec.replicas");
    }

    #[test]
    fn other_managers_do_not_get_the_upgrade() {
        let live = client_side_applied(3, 3);
        let c = conflicts(apply_deploy(
            Some(&live),
            &nginx(3, "nginx:2"),
            "my-manager",
            false,
        ));
        assert_eq!(c[0].manager, CLIENT_SIDE_APPLY_MANAGER);
    }

    #[test]
    fn last_applied_of_another_version_does_not_upgrade() {
        let mut live = client_side_applied(3, 3);
        let mut config = nginx(3, "nginx:1");
        config["apiVersion"] = json!("apps/v1beta2");
        live["metadata"]["annotations"][LAST_APPLIED_ANNOTATION] = json!(config.to_string());
        let c = conflicts(apply_deploy(
            Some(&live),
            &nginx(3, "nginx:2"),
            "kubectl",
            false,
        ));
        assert_eq!(c[0].manager, CLIENT_SIDE_APPLY_MANAGER);
    }
}
