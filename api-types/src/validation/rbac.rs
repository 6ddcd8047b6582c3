//! Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (rbac.authorization.k8s.io).

use serde_json::Value;

use super::common::*;
use super::errors::{go_quote, FieldError};
use super::names::{is_dns1123_subdomain, is_valid_path_segment_name};

pub(super) fn validate_rules(obj: &Value, namespaced: bool, errs: &mut Errs) {
    for (i, rule) in arr(obj, "rules").iter().enumerate() {
        let p = index("rules", i);
        if arr(rule, "verbs").is_empty() {
            errs.push(FieldError::required(
                child(&p, "verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = arr(rule, "nonResourceURLs");
        if !urls.is_empty() {
            let shown = Value::Array(urls.to_vec());
            if namespaced {
                errs.push(FieldError::invalid(
                    child(&p, "nonResourceURLs"),
                    shown.clone(),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !arr(rule, "apiGroups").is_empty()
                || !arr(rule, "resources").is_empty()
                || !arr(rule, "resourceNames").is_empty()
            {
                errs.push(FieldError::invalid(
                    child(&p, "nonResourceURLs"),
                    shown,
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if arr(rule, "apiGroups").is_empty() {
            errs.push(FieldError::required(
                child(&p, "apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(rule, "resources").is_empty() {
            errs.push(FieldError::required(
                child(&p, "resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub(super) fn validate_binding(obj: &Value, namespaced: bool, errs: &mut Errs) {
    let role_ref = sub(obj, "roleRef");
    let group = str_of(role_ref, "apiGroup");
    if group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            "roleRef.apiGroup",
            group,
            &[RBAC_GROUP],
        ));
    }
    let kind = str_of(role_ref, "kind");
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported("roleRef.kind", kind, kinds));
    }
    let name = str_of(role_ref, "name");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        push_msgs(errs, "roleRef.name", name, is_valid_path_segment_name(name));
    }
    for (i, subject) in arr(obj, "subjects").iter().enumerate() {
        let p = index("subjects", i);
        let name = str_of(subject, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        }
        let api_group = str_of(subject, "apiGroup");
        match str_of(subject, "kind") {
            "ServiceAccount" => {
                if !name.is_empty() {
                    push_msgs(errs, &child(&p, "name"), name, is_dns1123_subdomain(name));
                }
                if !api_group.is_empty() {
                    errs.push(FieldError::not_supported(
                        child(&p, "apiGroup"),
                        api_group,
                        &[""],
                    ));
                }
                if !namespaced && str_of(subject, "namespace").is_empty() {
                    errs.push(FieldError::required(child(&p, "namespace"), ""));
                }
            }
            "User" | "Group" => {
                if api_group != RBAC_GROUP {
                    errs.push(FieldError::not_supported(
                        child(&p, "apiGroup"),
                        api_group,
                        &[RBAC_GROUP],
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
}

/// A binding's `roleRef` is fixed at creation.
pub(super) fn validate_binding_update(old: &Value, new: &Value, errs: &mut Errs) {
    let (old_ref, new_ref) = (sub(old, "roleRef"), sub(new, "roleRef"));
    if !same(old_ref, new_ref) {
        errs.push(FieldError::invalid_rendered(
            "roleRef",
            format!(
                "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                go_quote(str_of(new_ref, "apiGroup")),
                go_quote(str_of(new_ref, "kind")),
                go_quote(str_of(new_ref, "name"))
            ),
            "cannot change roleRef",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn rbac_rules_and_bindings() {
        assert_eq!(
            check(
                "rbac.authorization.k8s.io",
                "roles",
                true,
                json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]})
            ),
            ["rules[0].verbs: Required value: verbs must contain at least one value"]
        );
        assert_eq!(
            check("rbac.authorization.k8s.io", "roles", true, json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]})),
            ["rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs"]
        );
        assert!(check("rbac.authorization.k8s.io", "clusterroles", false, json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]})).is_empty());
        let binding = |role_ref: Value, subjects: Value| json!({"metadata": {"name": "b"}, "roleRef": role_ref, "subjects": subjects});
        let good_ref = json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "view"});
        assert!(check(
            "rbac.authorization.k8s.io",
            "rolebindings",
            true,
            binding(
                good_ref.clone(),
                json!([{"kind": "ServiceAccount", "name": "default"}])
            )
        )
        .is_empty());
        assert_eq!(
            check(
                "rbac.authorization.k8s.io",
                "clusterrolebindings",
                false,
                binding(
                    json!({"apiGroup": RBAC_GROUP, "kind": "Role", "name": "r"}),
                    json!([{"kind": "ServiceAccount", "name": "default"}])
                )
            ),
            [
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value"
            ]
        );
        assert_eq!(
            check("rbac.authorization.k8s.io", "rolebindings", true, binding(good_ref, json!([{"kind": "User", "name": "jane"}, {"kind": "Robot", "name": "r2"}]))),
            [
                "subjects[0].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                "subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
            ]
        );
    }

    #[test]
    fn role_ref_is_immutable() {
        let b = |name: &str| json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name}});
        assert_eq!(
            update("rbac.authorization.k8s.io", "rolebindings", b("view"), b("edit")),
            ["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"]
        );
    }
}
