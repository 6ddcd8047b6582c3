//! NamespaceLifecycle, upstream's first admission plugin: nothing is created in a namespace
//! that does not exist or is being terminated, and the namespaces the system needs
//! (`default`, `kube-system`, `kube-public`) cannot be deleted.

use serde_json::Value;

use super::{Attributes, Context, Mutating, Operation};
use crate::error::{ApiError, ApiResult, StatusCause, StatusDetails};

/// Namespaces that may never be deleted.
const IMMORTAL: &[&str] = &["default", "kube-system", "kube-public"];

pub struct NamespaceLifecycle;

fn is_namespaces(attrs: &Attributes) -> bool {
    attrs.resource.group.is_empty() && attrs.resource.plural == "namespaces"
}

/// Upstream's `NewForbidden`: `<resource> "<name>" is forbidden: <why>`.
fn forbidden(attrs: &Attributes, why: &str, cause: Option<StatusCause>) -> ApiError {
    let resource = attrs.resource.qualified_plural();
    let message = if attrs.name.is_empty() {
        format!("{resource} is forbidden: {why}")
    } else {
        format!("{resource} \"{}\" is forbidden: {why}", attrs.name)
    };
    ApiError::forbidden(message).with_details(StatusDetails {
        name: attrs.name.into(),
        group: attrs.resource.group.into(),
        kind: attrs.resource.plural.into(),
        causes: cause.into_iter().collect(),
        ..Default::default()
    })
}

impl Mutating for NamespaceLifecycle {
    fn name(&self) -> &'static str {
        "NamespaceLifecycle"
    }

    fn admit(&self, ctx: &Context, attrs: &Attributes, _: Option<&mut Value>) -> ApiResult<()> {
        if is_namespaces(attrs) {
            if attrs.operation == Operation::Delete && IMMORTAL.contains(&attrs.name) {
                return Err(forbidden(attrs, "this namespace may not be deleted", None));
            }
            return Ok(());
        }
        // Deleting what is left in a namespace is always allowed.
        let Some(ns) = attrs
            .namespace
            .filter(|_| attrs.operation != Operation::Delete)
        else {
            return Ok(());
        };
        let namespaces = ctx
            .cache
            .resource("namespaces")
            .expect("namespaces are cached");
        let Some(found) = namespaces.get(ns) else {
            return Err(ApiError::namespace_not_found(ns));
        };
        if attrs.operation == Operation::Create
            && found
                .value()
                .pointer("/status/phase")
                .and_then(Value::as_str)
                == Some("Terminating")
        {
            let cause = StatusCause {
                reason: "NamespaceTerminating".into(),
                message: format!("namespace {ns} is being terminated"),
                field: "metadata.namespace".into(),
            };
            return Err(forbidden(
                attrs,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
                Some(cause),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::find;

    fn attrs<'a>(plural: &str, name: &'a str, op: Operation) -> Attributes<'a> {
        Attributes {
            operation: op,
            resource: find("", "v1", plural).unwrap(),
            subresource: None,
            namespace: None,
            name,
            old: None,
            dry_run: false,
            user: None,
        }
    }

    #[test]
    fn forbidden_reads_like_upstreams_new_forbidden() {
        let e = forbidden(
            &attrs("namespaces", "default", Operation::Delete),
            "this namespace may not be deleted",
            None,
        );
        assert_eq!(e.code, 403);
        assert_eq!(e.reason, "Forbidden");
        assert_eq!(
            e.message,
            "namespaces \"default\" is forbidden: this namespace may not be deleted"
        );
        let d = e.details.unwrap();
        assert_eq!(
            (d.name.as_str(), d.kind.as_str()),
            ("default", "namespaces")
        );
        // A generated name is not known yet: upstream leaves the quotes out.
        let e = forbidden(&attrs("configmaps", "", Operation::Create), "why", None);
        assert_eq!(e.message, "configmaps is forbidden: why");
    }
}
