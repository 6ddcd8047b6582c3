//! Helpers the validation tests share: object builders and message collectors.

use serde_json::{json, Value};

use super::*;

pub(super) const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
pub(super) const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
pub(super) const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

pub(super) fn msgs(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(FieldError::message).collect()
}

pub(super) fn check(group: &str, plural: &str, namespaced: bool, obj: Value) -> Vec<String> {
    msgs(&validate(group, plural, namespaced, &obj))
}

pub(super) fn pod(spec: Value) -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

pub(super) fn check_pod(spec: Value) -> Vec<String> {
    check("", "pods", true, pod(spec))
}

pub(super) fn container() -> Value {
    json!({"name": "app", "image": "nginx"})
}

pub(super) fn deployment(spec: Value) -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

pub(super) fn good_deployment_spec() -> Value {
    json!({
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [container()]}
        }
    })
}

pub(super) fn update(group: &str, plural: &str, old: Value, new: Value) -> Vec<String> {
    msgs(&validate_update(group, plural, true, &old, &new))
}
