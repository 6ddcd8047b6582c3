//! The node's heartbeat: a Lease named after the node in `kube-node-lease`, owned by the Node
//! and renewed every 10 s (a quarter of its 40 s duration), as upstream's node lease
//! controller does.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::PostParams;
use kube::Api;

/// The namespace holding node leases.
pub const NAMESPACE: &str = "kube-node-lease";
/// How often the lease is renewed.
pub const RENEW_INTERVAL: Duration = Duration::from_secs(10);

/// Errors renewing the lease.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to ensure lease exists for node {node:?}: {source}")]
    Ensure {
        node: String,
        #[source]
        source: kube::Error,
    },
    #[error("failed to update lease for node {node:?}: {source}")]
    Update {
        node: String,
        #[source]
        source: kube::Error,
    },
}

/// The lease as a new one is created: held by the node, renewed now, owned by the Node when
/// its UID is known (so the lease goes with the Node).
pub fn new_lease(node: &str, duration_seconds: i32, owner: Option<&Node>) -> Lease {
    let owner_references = owner.and_then(|n| {
        Some(vec![OwnerReference {
            api_version: "v1".to_string(),
            kind: "Node".to_string(),
            name: n.metadata.name.clone()?,
            uid: n.metadata.uid.clone()?,
            ..Default::default()
        }])
    });
    Lease {
        metadata: ObjectMeta {
            name: Some(node.to_string()),
            namespace: Some(NAMESPACE.to_string()),
            owner_references,
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(node.to_string()),
            lease_duration_seconds: Some(duration_seconds),
            renew_time: Some(MicroTime(jiff::Timestamp::now())),
            ..Default::default()
        }),
    }
}

/// Renews the lease once: creates it when missing, else replaces it with a fresh renew time
/// (the resourceVersion it was read at guards against lost updates).
pub async fn renew(
    leases: &Api<Lease>,
    nodes: &Api<Node>,
    node: &str,
    duration_seconds: i32,
) -> Result<(), Error> {
    let ensure = |source| Error::Ensure {
        node: node.to_string(),
        source,
    };
    match leases.get_opt(node).await.map_err(ensure)? {
        None => {
            let owner = nodes.get_opt(node).await.ok().flatten();
            let lease = new_lease(node, duration_seconds, owner.as_ref());
            leases
                .create(&PostParams::default(), &lease)
                .await
                .map_err(ensure)?;
        }
        Some(mut lease) => {
            if lease.metadata.owner_references.is_none() {
                if let Ok(Some(n)) = nodes.get_opt(node).await {
                    lease.metadata.owner_references = new_lease(node, duration_seconds, Some(&n))
                        .metadata
                        .owner_references;
                }
            }
            let spec = lease.spec.get_or_insert_with(Default::default);
            spec.holder_identity = Some(node.to_string());
            spec.lease_duration_seconds = Some(duration_seconds);
            spec.renew_time = Some(MicroTime(jiff::Timestamp::now()));
            leases
                .replace(node, &PostParams::default(), &lease)
                .await
                .map_err(|source| Error::Update {
                    node: node.to_string(),
                    source,
                })?;
        }
    }
    Ok(())
}

/// Renews the lease every [`RENEW_INTERVAL`] until cancelled; failures are retried sooner
/// (upstream retries with back-off from 200 ms up to the interval).
pub async fn run(client: kube::Client, node: String, duration_seconds: i32) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
    let nodes: Api<Node> = Api::all(client);
    let mut retry = Duration::from_millis(200);
    loop {
        match renew(&leases, &nodes, &node, duration_seconds).await {
            Ok(()) => {
                retry = Duration::from_millis(200);
                tokio::time::sleep(RENEW_INTERVAL).await;
            }
            Err(e) => {
                tracing::warn!("{e}");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RENEW_INTERVAL);
            }
        }
    }
}
