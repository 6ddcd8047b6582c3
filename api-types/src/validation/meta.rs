//! Object metadata: name or generateName by the resource's rule, namespace by scope, labels,
//! annotations, finalizers and owner references.

use serde_json::Value;

use super::common::*;
use super::errors::FieldError;
use super::names::*;

pub(super) fn validate_object_meta(
    meta: &Value,
    namespaced: bool,
    rule: NameRule,
    errs: &mut Errs,
) {
    let name = str_of(meta, "name");
    let generate_name = str_of(meta, "generateName");
    if !generate_name.is_empty() {
        push_msgs(
            errs,
            "metadata.generateName",
            generate_name,
            rule.check(generate_name, true),
        );
    }
    if name.is_empty() {
        // The apiserver fills the name in from generateName before storing.
        if generate_name.is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        push_msgs(errs, "metadata.name", name, rule.check(name, false));
    }
    let namespace = str_of(meta, "namespace");
    if namespaced {
        // An empty namespace is filled in from the request path by the caller.
        if !namespace.is_empty() {
            push_msgs(
                errs,
                "metadata.namespace",
                namespace,
                is_dns1123_label(namespace),
            );
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    errs.extend(validate_labels(sub(meta, "labels"), "metadata.labels"));
    errs.extend(validate_annotations(
        sub(meta, "annotations"),
        "metadata.annotations",
    ));
    let finalizers = arr(meta, "finalizers");
    for f in finalizers {
        let f = f.as_str().unwrap_or("");
        push_msgs(errs, "metadata.finalizers", f, is_qualified_name(f));
    }
    let has_finalizer = |n: &str| finalizers.iter().any(|f| f.as_str() == Some(n));
    if has_finalizer("orphan") && has_finalizer("foregroundDeletion") {
        errs.push(FieldError::invalid(
            "metadata.finalizers",
            Value::Array(finalizers.to_vec()),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    let owners = arr(meta, "ownerReferences");
    for owner in owners {
        let api_version = str_of(owner, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errs.push(FieldError::invalid(
                "metadata.ownerReferences.apiVersion",
                api_version,
                "version must not be empty",
            ));
        }
        for (field, what) in [("kind", "kind"), ("name", "name"), ("uid", "uid")] {
            if str_of(owner, field).is_empty() {
                errs.push(FieldError::invalid(
                    format!("metadata.ownerReferences.{field}"),
                    "",
                    format!("{what} must not be empty"),
                ));
            }
        }
    }
    let controllers: Vec<String> = owners
        .iter()
        .filter(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|o| format!("{}/{}", str_of(o, "kind"), str_of(o, "name")))
        .collect();
    if controllers.len() > 1 {
        errs.push(FieldError::invalid_rendered(
            "metadata.ownerReferences",
            Value::Array(owners.to_vec()).to_string(),
            format!(
                "Only one reference can have Controller set to true. Found \"true\" in references for {}",
                controllers.join(" and ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn name_or_generate_name_is_required() {
        assert_eq!(
            check("", "configmaps", true, json!({"metadata": {}})),
            ["metadata.name: Required value: name or generateName is required"]
        );
        assert!(check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"generateName": "cm-"}})
        )
        .is_empty());
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"generateName": "CM-"}})
            ),
            [format!(
                "metadata.generateName: Invalid value: \"CM-\": {SUBDOMAIN_MSG}"
            )]
        );
    }

    #[test]
    fn names_follow_each_resource_rule() {
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "My_Config"}})
            ),
            [format!(
                "metadata.name: Invalid value: \"My_Config\": {SUBDOMAIN_MSG}"
            )]
        );
        assert_eq!(
            check(
                "",
                "namespaces",
                false,
                json!({"metadata": {"name": "a.b"}})
            ),
            ["metadata.name: Invalid value: \"a.b\": must not contain dots"]
        );
        assert_eq!(
            check(
                "",
                "services",
                true,
                json!({"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}})
            ),
            [format!(
                "metadata.name: Invalid value: \"1svc\": {DNS1035_MSG}"
            )]
        );
        assert!(check(
            "rbac.authorization.k8s.io",
            "clusterroles",
            false,
            json!({"metadata": {"name": "system:controller:x"}})
        )
        .is_empty());
        assert_eq!(
            check(
                "rbac.authorization.k8s.io",
                "roles",
                true,
                json!({"metadata": {"name": "a/b"}})
            ),
            ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
        assert!(check(
            "",
            "events",
            true,
            json!({"metadata": {"name": "Pod.Web:1"}})
        )
        .is_empty());
        assert!(check(
            "",
            "nodes",
            false,
            json!({"metadata": {"name": "node-1.example.com"}})
        )
        .is_empty());
        assert!(check(
            "example.com",
            "widgets",
            true,
            json!({"metadata": {"name": "w1"}})
        )
        .is_empty());
    }

    #[test]
    fn namespace_must_be_absent_on_cluster_scoped_objects() {
        assert_eq!(
            check(
                "",
                "nodes",
                false,
                json!({"metadata": {"name": "n1", "namespace": "default"}})
            ),
            ["metadata.namespace: Forbidden: not allowed on this type"]
        );
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c", "namespace": "Bad"}})
            ),
            [format!(
                "metadata.namespace: Invalid value: \"Bad\": {LABEL_MSG}"
            )]
        );
    }

    #[test]
    fn labels_and_annotations_are_checked() {
        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c", "labels": {"bad key": "ok", "k": "bad value"}}}),
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0]
            .starts_with("metadata.labels: Invalid value: \"bad key\": name part must consist"));
        assert!(errs[1]
            .starts_with("metadata.labels: Invalid value: \"bad value\": a valid label must"));

        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c", "annotations": {"Example.COM/Key": "x"}}}),
        );
        assert!(
            errs.is_empty(),
            "annotation keys are case-insensitive: {errs:?}"
        );

        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c", "annotations": {"a": big}}})
            ),
            ["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
    }

    #[test]
    fn finalizers_and_owner_references() {
        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c", "finalizers": ["example.com/ok", "bad finalizer"]}}),
        );
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("metadata.finalizers: Invalid value: \"bad finalizer\": name part")
        );
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": ""}]}})
            ),
            ["metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"]
        );
    }
}
