//! Thin helpers over kube's typed (`Api<K>`) and dynamic (`Api<DynamicObject>`) access, and the
//! `namespace/name` object keys that informers and work queues use.

use k8s_openapi::NamespaceResourceScope;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope};
use kube::{Api, Client, Resource, ResourceExt};

/// Errors resolving a resource.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("discovering {0}: {1}")]
    Discovery(String, #[source] kube::Error),
}

/// A typed API for a namespaced resource: one namespace, or all namespaces with `None`.
pub fn namespaced_or_all<K>(client: Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

/// The kube `ApiResource` for an entry of our built-in resource table.
pub fn api_resource(info: &api_types::resources::ResourceInfo) -> ApiResource {
    let gvk = GroupVersionKind::gvk(info.group, info.version, info.kind);
    ApiResource::from_gvk_with_plural(&gvk, info.plural)
}

/// The built-in resource `group/version/plural` and whether it is namespaced, from our
/// resource table without asking the server.
pub fn builtin(group: &str, version: &str, plural: &str) -> Option<(ApiResource, bool)> {
    let info = api_types::resources::find(group, version, plural)?;
    Some((api_resource(info), info.namespaced))
}

/// A dynamic API for `resource`: in `namespace`, or across all namespaces (and for
/// cluster-scoped resources) with `None`.
pub fn dynamic(
    client: Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client, ns, resource),
        None => Api::all_with(client, resource),
    }
}

/// Asks the server's discovery for the resource serving `group/version/kind` (for kinds not in
/// our table, such as custom resources). Returns the resource and whether it is namespaced.
pub async fn discover(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
) -> Result<(ApiResource, bool), Error> {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, caps): (ApiResource, ApiCapabilities) =
        kube::discovery::pinned_kind(client, &gvk)
            .await
            .map_err(|e| Error::Discovery(format!("{group}/{version}/{kind}"), e))?;
    Ok((resource, caps.scope == Scope::Namespaced))
}

/// The key upstream's `MetaNamespaceKeyFunc` gives an object: `namespace/name`, or `name` for
/// cluster-scoped objects.
pub fn key_of<K: Resource>(obj: &K) -> String {
    match obj.namespace() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{}", obj.name_any()),
        _ => obj.name_any(),
    }
}

/// Splits a key made by [`key_of`] into its namespace (if any) and name.
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Node};
    use kube::api::ObjectMeta;

    #[test]
    fn keys_round_trip() {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some("cfg".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(key_of(&cm), "kube-system/cfg");
        assert_eq!(split_key("kube-system/cfg"), (Some("kube-system"), "cfg"));
        let node = Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(key_of(&node), "n1");
        assert_eq!(split_key("n1"), (None, "n1"));
    }

    #[test]
    fn builtin_resources_map_to_api_resources() {
        let (ar, namespaced) = builtin("apps", "v1", "deployments").expect("deployments");
        assert_eq!(ar.api_version, "apps/v1");
        assert_eq!(ar.kind, "Deployment");
        assert_eq!(ar.plural, "deployments");
        assert!(namespaced);
        let (ar, namespaced) = builtin("", "v1", "nodes").expect("nodes");
        assert_eq!(ar.api_version, "v1");
        assert!(!namespaced);
        assert!(builtin("", "v1", "nonsense").is_none());
    }
}
