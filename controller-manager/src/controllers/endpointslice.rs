//! The endpointslice controller: for every Service with a selector, EndpointSlices
//! (`kubernetes.io/service-name`, managed by `endpointslice-controller.k8s.io`) listing the
//! matching pods that have an IP, with upstream's conditions (ready, serving, terminating),
//! at most 100 endpoints per slice, target ports resolved (numbers and named container
//! ports), `publishNotReadyAddresses` honoured. kube-proxy programs what these say.

use std::collections::BTreeMap;

use client::{Informer, WorkQueue};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, PostParams};
use kube::Client;
use serde_json::{json, Value};

use super::common::{is_ready, key};

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// Upstream's `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

#[derive(Clone)]
pub struct EndpointSliceController {
    pub client: Client,
    pub services: Informer<Service>,
    pub pods: Informer<Pod>,
    pub slices: Informer<EndpointSlice>,
    pub queue: WorkQueue<String>,
}

fn selects(svc: &Service, pod: &Pod) -> bool {
    let Some(sel) = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    svc.metadata.namespace == pod.metadata.namespace
        && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The port number `target` names in `pod` (a number, or a named container port).
fn resolve_port(target: Option<&IntOrString>, port: i32, pod: &Pod, protocol: &str) -> Option<i32> {
    match target {
        None => Some(port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| {
                p.name.as_deref() == Some(name.as_str())
                    && p.protocol.as_deref().unwrap_or("TCP") == protocol
            })
            .map(|p| p.container_port),
    }
}

impl EndpointSliceController {
    pub fn watch(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let svc_task = self.services.enqueue_keys(self.queue.clone());
        let this = self.clone();
        let pod_task = self.pods.add_event_handler(move |n| {
            let (old, new) = match &n {
                client::Notification::Added(p) | client::Notification::Deleted(p) => {
                    (None, p.clone())
                }
                client::Notification::Updated { old, new } => (Some(old.clone()), new.clone()),
            };
            for svc in this.services.list() {
                if selects(&svc, &new) || old.as_ref().is_some_and(|o| selects(&svc, o)) {
                    this.queue.add(key(&svc.metadata));
                }
            }
        });
        let queue = self.queue.clone();
        let slice_task = self.slices.add_event_handler(move |n| {
            let s = n.object();
            let managed = s
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(MANAGED_BY_LABEL))
                .map(String::as_str)
                == Some(MANAGED_BY);
            if let (true, Some(svc)) = (
                managed,
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(SERVICE_NAME_LABEL)),
            ) {
                queue.add(format!(
                    "{}/{svc}",
                    s.metadata.namespace.as_deref().unwrap_or_default()
                ));
            }
        });
        vec![svc_task, pod_task, slice_task]
    }

    /// The slices' wanted contents for a Service: ports and endpoints, chunked.
    fn desired(&self, svc: &Service) -> (Vec<Value>, Vec<Vec<Value>>) {
        let spec = svc.spec.clone().unwrap_or_default();
        let publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
        let svc_ports = spec.ports.clone().unwrap_or_default();
        let mut pods: Vec<_> = self
            .pods
            .list()
            .into_iter()
            .filter(|p| selects(svc, p))
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.pod_ip.as_ref())
                    .is_some_and(|ip| !ip.is_empty())
            })
            .filter(|p| {
                !matches!(
                    p.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Succeeded") | Some("Failed")
                )
            })
            .collect();
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        // Ports as the first pod resolves them (named ports may differ per pod upstream; one
        // slice per port mapping is left for later).
        let ports: Vec<Value> = svc_ports
            .iter()
            .map(|p| {
                let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                let number = pods.first().and_then(|pod| resolve_port(p.target_port.as_ref(), p.port, pod, &proto)).unwrap_or(p.port);
                json!({"name": p.name.clone().unwrap_or_default(), "port": number, "protocol": proto})
            })
            .collect();
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|p| {
                let terminating = p.metadata.deletion_timestamp.is_some();
                let ready = is_ready(p);
                json!({
                    "addresses": [p.status.as_ref().and_then(|s| s.pod_ip.clone())],
                    "conditions": {
                        "ready": (ready && !terminating) || publish_not_ready,
                        "serving": ready || publish_not_ready,
                        "terminating": terminating,
                    },
                    "nodeName": p.spec.as_ref().and_then(|s| s.node_name.clone()),
                    "targetRef": {"kind": "Pod", "namespace": p.metadata.namespace, "name": p.metadata.name, "uid": p.metadata.uid},
                })
            })
            .collect();
        let chunks: Vec<Vec<Value>> = if endpoints.is_empty() {
            vec![Vec::new()]
        } else {
            endpoints
                .chunks(MAX_ENDPOINTS_PER_SLICE)
                .map(|c| c.to_vec())
                .collect()
        };
        (ports, chunks)
    }

    pub async fn sync(&self, svc_key: String) -> anyhow::Result<()> {
        let (ns, name) = client::split_key(&svc_key);
        let ns = ns.unwrap_or_default().to_string();
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), &ns);
        let mut existing: Vec<_> = self
            .slices
            .list()
            .into_iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|s| {
                let l = s.metadata.labels.clone().unwrap_or_default();
                l.get(SERVICE_NAME_LABEL).map(String::as_str) == Some(name)
                    && l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
            })
            .collect();
        existing.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        let svc = self.services.get(&svc_key);
        let wanted = match svc.as_ref() {
            Some(s)
                if s.spec
                    .as_ref()
                    .and_then(|sp| sp.selector.as_ref())
                    .is_some_and(|sel| !sel.is_empty()) =>
            {
                Some(self.desired(s))
            }
            _ => None,
        };
        let Some((ports, chunks)) = wanted else {
            // No Service, or one without a selector: our slices go.
            for s in existing {
                let n = s.metadata.name.clone().unwrap_or_default();
                match api.delete(&n, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(());
        };
        let svc = svc.expect("wanted implies a service");
        let mut labels: BTreeMap<String, String> = svc.metadata.labels.clone().unwrap_or_default();
        labels.insert(SERVICE_NAME_LABEL.into(), name.to_string());
        labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
        let owner = json!({"apiVersion": "v1", "kind": "Service", "name": name, "uid": svc.metadata.uid,
            "controller": true, "blockOwnerDeletion": true});
        for (i, eps) in chunks.iter().enumerate() {
            let body = |meta: Value| {
                json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": meta, "addressType": "IPv4", "ports": ports, "endpoints": eps})
            };
            match existing.get(i) {
                Some(cur) => {
                    let same = serde_json::to_value(&cur.endpoints).ok() == Some(json!(eps))
                        && serde_json::to_value(&cur.ports).ok() == Some(json!(ports));
                    if same {
                        continue;
                    }
                    let mut meta = serde_json::to_value(&cur.metadata)?;
                    meta["labels"] = json!(labels);
                    let slice: EndpointSlice = serde_json::from_value(body(meta))?;
                    let n = cur.metadata.name.clone().unwrap_or_default();
                    match api.replace(&n, &PostParams::default(), &slice).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {
                            anyhow::bail!("EndpointSlice {ns}/{n} changed meanwhile; retrying")
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                None => {
                    let meta = json!({"generateName": format!("{name}-"), "namespace": ns, "labels": labels, "ownerReferences": [owner]});
                    let slice: EndpointSlice = serde_json::from_value(body(meta))?;
                    api.create(&PostParams::default(), &slice).await?;
                }
            }
        }
        for extra in existing.iter().skip(chunks.len()) {
            let n = extra.metadata.name.clone().unwrap_or_default();
            match api.delete(&n, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
