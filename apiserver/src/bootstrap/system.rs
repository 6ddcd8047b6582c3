//! The objects every cluster starts with, kept in place as upstream's post-start hooks keep
//! them: the system namespaces (`start-system-namespaces-controller`, re-checked every
//! minute, so a deleted `kube-system` comes back) and the two system PriorityClasses
//! (`scheduling/bootstrap-system-priority-classes`, created once).

use serde_json::{json, Value};

use super::loopback::Loopback;

/// Upstream's system namespaces, in the order its controller creates them.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["kube-system", "kube-public", "default", "kube-node-lease"];

/// Upstream's `system-node-critical` and `system-cluster-critical` classes.
pub fn system_priority_classes() -> [Value; 2] {
    [
        json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "system-node-critical"},
            "value": 2_000_001_000,
            "description": "Used for system critical pods that must not be moved from their current node.",
        }),
        json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "system-cluster-critical"},
            "value": 2_000_000_000,
            "description": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        }),
    ]
}

/// Creates `path/name` from `obj` unless it exists; true when it was created.
pub(super) async fn create_if_missing(
    client: &Loopback,
    collection: &str,
    obj: &Value,
) -> Result<bool, String> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let item = format!("{collection}/{name}");
    let got = client.get(&item).await?;
    if got.ok() {
        return Ok(false);
    }
    if got.code != 404 {
        return Err(got.describe("GET", &item));
    }
    let created = client.post(collection, obj).await?;
    match created {
        r if r.ok() => Ok(true),
        // Another apiserver created it in between.
        r if r.reason() == "AlreadyExists" => Ok(false),
        r => Err(r.describe("POST", collection)),
    }
}

/// One pass of the system namespaces controller.
pub async fn ensure_system_namespaces(client: &Loopback) -> Result<(), String> {
    // All at once: start-up waits for them.
    let results = futures::future::join_all(SYSTEM_NAMESPACES.map(|name| async move {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let created = create_if_missing(client, "/api/v1/namespaces", &ns).await?;
        if created {
            tracing::info!(namespace = name, "created system namespace");
        }
        Ok::<_, String>(())
    }))
    .await;
    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Creates the system PriorityClasses that do not exist.
pub async fn ensure_system_priority_classes(client: &Loopback) -> Result<(), String> {
    for pc in system_priority_classes() {
        let created =
            create_if_missing(client, "/apis/scheduling.k8s.io/v1/priorityclasses", &pc).await?;
        if created {
            tracing::info!(
                name = pc["metadata"]["name"].as_str().unwrap_or_default(),
                value = pc["value"].as_i64().unwrap_or_default(),
                "created PriorityClass"
            );
        }
    }
    Ok(())
}
