//! The pods of this node: the manager that merges the pod sources (the apiserver's pods bound
//! here, static pods from files), runs one worker task per pod UID, wakes workers on PLEG
//! events and removes sandboxes of pods that no longer exist.

pub mod actions;
pub mod backoff;
pub mod env;
pub mod pleg;
pub mod probes;
pub mod runtime;
pub mod spec;
pub mod status;
pub mod volumes;
pub mod worker;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use api_types::quantity::Quantity;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::sync::{mpsc, watch, Notify};

use crate::cri::Cri;
use crate::options::Config;

/// The annotation of a mirror pod, holding its static pod's hash.
pub const ANNOTATION_MIRROR: &str = "kubernetes.io/config.mirror";
/// Where a pod came from (`api` or `file`).
pub const ANNOTATION_SOURCE: &str = "kubernetes.io/config.source";
/// The static pod's hash (its UID).
pub const ANNOTATION_HASH: &str = "kubernetes.io/config.hash";

/// What every worker shares.
pub struct Context {
    pub config: Arc<Config>,
    pub cri: Cri,
    /// `None` when running standalone (no kubeconfig).
    pub client: Option<kube::Client>,
    /// `containerd` in container IDs (`containerd://...`).
    pub runtime_name: String,
    pub host_ip: Option<String>,
    /// The node's allocatable resources (defaults of resourceFieldRef limits).
    pub allocatable: BTreeMap<String, Quantity>,
    /// Records the pods' events (`None` standalone).
    pub events: Option<client::EventRecorder>,
    /// The pods the kubelet runs, with the status it last computed (the server lists these).
    pub pods: Mutex<HashMap<String, Arc<Pod>>>,
}

impl Context {
    /// The pods the kubelet runs, with their latest status.
    pub fn running_pods(&self) -> Vec<Pod> {
        self.pods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|p| (**p).clone())
            .collect()
    }
}

/// Whether the pod came from a file (a static pod).
pub fn is_static(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_SOURCE))
        .is_some_and(|s| s == "file")
}

/// The hash a mirror pod carries.
pub fn mirror_hash(pod: &Pod) -> Option<&str> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_MIRROR))
        .map(String::as_str)
}

/// The mirror pod's name: the static pod's (already `<name>-<node>`).
pub fn mirror_name(pod: &Pod) -> String {
    spec::name(pod).to_string()
}

/// The mirror pod of a static pod: its spec, labels and annotations, with the mirror
/// annotation, bound to this node, without the static pod's UID.
pub fn mirror_pod(pod: &Pod, node: &str) -> Pod {
    let mut annotations = pod.metadata.annotations.clone().unwrap_or_default();
    annotations.insert(ANNOTATION_MIRROR.to_string(), spec::uid(pod).to_string());
    let mut spec = pod.spec.clone().unwrap_or_default();
    spec.node_name = Some(node.to_string());
    Pod {
        metadata: ObjectMeta {
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            labels: pod.metadata.labels.clone(),
            annotations: Some(annotations),
            owner_references: pod.metadata.owner_references.clone(),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// A change of one pod in one of the sources.
#[derive(Debug)]
pub enum SourceEvent {
    /// Added or updated.
    Upsert(Arc<Pod>),
    /// Gone from its source.
    Remove(Arc<Pod>),
    /// The source listed everything it has (the apiserver's first sync, or a manifest
    /// folder scan): orphaned sandboxes may be cleaned up from now on.
    Synced(&'static str),
}

/// Runs the manager until `events` closes.
pub async fn manage(
    ctx: Arc<Context>,
    mut events: mpsc::Receiver<SourceEvent>,
    expected_sources: usize,
) {
    let (pleg_tx, mut pleg_rx) = mpsc::channel(2);
    let pleg = tokio::spawn(pleg::run(ctx.cri.clone(), pleg_tx));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
    let mut workers: HashMap<String, worker::Handle> = HashMap::new();
    let mut synced: HashSet<&'static str> = HashSet::new();
    let mut cleaning: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                match ev {
                    SourceEvent::Upsert(pod) => upsert(&ctx, &mut workers, &done_tx, pod, false),
                    SourceEvent::Remove(pod) => upsert(&ctx, &mut workers, &done_tx, pod, true),
                    SourceEvent::Synced(source) => { synced.insert(source); }
                }
            }
            Some(relist) = pleg_rx.recv() => {
                for uid in &relist.changed {
                    if let Some(w) = workers.get(uid) {
                        w.wake.notify_one();
                    }
                }
                // Forget removals that finished (their sandbox is gone from the runtime).
                cleaning.retain(|id| relist.sandboxes.iter().any(|(s, _)| s == id));
                if synced.len() >= expected_sources {
                    for (id, uid) in relist.sandboxes {
                        if !workers.contains_key(&uid) && cleaning.insert(id.clone()) {
                            tracing::info!(sandbox = %id, pod_uid = %uid, "removing the sandbox of a pod that no longer exists");
                            let cri = ctx.cri.clone();
                            let root = ctx.config.root_dir.clone();
                            tokio::spawn(remove_orphan(cri, id, uid, root));
                        }
                    }
                }
            }
            Some(uid) = done_rx.recv() => {
                // A worker that finished while a newer update was queued is restarted by
                // the next update; the map only forgets finished workers.
                if workers.get(&uid).is_some_and(|w| w.updates.is_closed() || w.updates.borrow().removed || w.updates.borrow().pod.metadata.deletion_timestamp.is_some()) {
                    workers.remove(&uid);
                }
            }
        }
    }
    pleg.abort();
}

fn upsert(
    ctx: &Arc<Context>,
    workers: &mut HashMap<String, worker::Handle>,
    done: &mpsc::UnboundedSender<String>,
    pod: Arc<Pod>,
    removed: bool,
) {
    if mirror_hash(&pod).is_some() {
        // Mirror pods only reflect static pods; the static pod's worker runs them.
        return;
    }
    let uid = spec::uid(&pod).to_string();
    if uid.is_empty() {
        return;
    }
    let update = worker::Update { pod, removed };
    if let Some(w) = workers.get(&uid) {
        if w.updates.send(update.clone()).is_ok() {
            return;
        }
    }
    if removed {
        // No worker runs it (it finished, or never started): whatever the runtime still
        // holds for it is an orphan the PLEG relist finds and removes.
        workers.remove(&uid);
        return;
    }
    let (tx, rx) = watch::channel(update);
    let wake = Arc::new(Notify::new());
    tokio::spawn(worker::run(ctx.clone(), rx, wake.clone(), done.clone()));
    workers.insert(uid, worker::Handle { updates: tx, wake });
}

/// Stops and removes an orphaned sandbox (with its containers) and the pod's directory.
async fn remove_orphan(cri: Cri, id: String, uid: String, root: std::path::PathBuf) {
    let mut rt = cri.runtime.clone();
    let _ = rt
        .stop_pod_sandbox(k8s_cri::v1::StopPodSandboxRequest {
            pod_sandbox_id: id.clone(),
        })
        .await;
    if let Err(e) = rt
        .remove_pod_sandbox(k8s_cri::v1::RemovePodSandboxRequest {
            pod_sandbox_id: id.clone(),
        })
        .await
    {
        tracing::warn!(sandbox = %id, "removing orphaned sandbox: {}", e.message());
    }
    if let Err(e) = volumes::teardown(&root, &uid) {
        tracing::warn!(pod_uid = %uid, "removing orphaned pod directory: {e}");
    }
}
