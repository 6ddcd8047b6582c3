//! The replicaset controller: keeps `spec.replicas` active pods matching each ReplicaSet's
//! selector. Pods are claimed as upstream does (adopt matching orphans, release owned pods
//! that stopped matching), created in slow-start batches (1, 2, 4, ...), deleted in the order
//! upstream prefers (unassigned, pending, not ready, most restarted, newest first), with
//! expectations so a lagging informer never causes double creates, and the status
//! (replicas, fullyLabeled, ready, available, observedGeneration) written back.

use std::sync::Arc;

use client::{Expectations, Informer, WorkQueue};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

use super::common::{
    controller_of, controller_ref, is_active, is_available, is_ready, key, pod_from_template,
    selector_matches,
};

/// Upstream's `BurstReplicas`: at most this many creates or deletes per sync.
pub const BURST_REPLICAS: usize = 500;

#[derive(Clone)]
pub struct ReplicaSetController {
    pub client: Client,
    pub replicasets: Informer<ReplicaSet>,
    pub pods: Informer<Pod>,
    pub queue: WorkQueue<String>,
    pub expectations: Expectations,
    pub recorder: client::EventRecorder,
}

impl ReplicaSetController {
    /// Wires the informers to the queue: ReplicaSet changes enqueue it; pod changes enqueue
    /// their controller (and observe expectations), or every matching ReplicaSet for orphans.
    pub fn watch(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let rs_task = self.replicasets.enqueue_keys(self.queue.clone());
        let this = self.clone();
        let pod_task = self.pods.add_event_handler(move |n| {
            use client::Notification::*;
            match n {
                Added(pod) => {
                    if let Some(owner) = this.owner_key(&pod) {
                        this.expectations.creation_observed(&owner);
                        this.queue.add(owner);
                    } else {
                        this.enqueue_matching(&pod);
                    }
                }
                Updated { old, new } => {
                    let (o, n) = (this.owner_key(&old), this.owner_key(&new));
                    if new.metadata.deletion_timestamp.is_some()
                        && old.metadata.deletion_timestamp.is_none()
                    {
                        // A graceful delete started: upstream counts it as observed now.
                        if let Some(k) = &n {
                            this.expectations.deletion_observed(k);
                        }
                    }
                    if o != n {
                        if let Some(k) = o {
                            this.queue.add(k);
                        }
                    }
                    match n {
                        Some(k) => this.queue.add(k),
                        None => this.enqueue_matching(&new),
                    }
                }
                Deleted(pod) => {
                    if let Some(owner) = this.owner_key(&pod) {
                        if pod.metadata.deletion_timestamp.is_none() {
                            this.expectations.deletion_observed(&owner);
                        }
                        this.queue.add(owner);
                    }
                }
            }
        });
        vec![rs_task, pod_task]
    }

    /// `namespace/name` of the pod's controlling ReplicaSet.
    fn owner_key(&self, pod: &Pod) -> Option<String> {
        let r = controller_of(&pod.metadata)?;
        if r.kind != "ReplicaSet" {
            return None;
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let rs = self.replicasets.get(&format!("{ns}/{}", r.name))?;
        (rs.metadata.uid.as_deref() == Some(r.uid.as_str())).then(|| format!("{ns}/{}", r.name))
    }

    fn enqueue_matching(&self, pod: &Pod) {
        if controller_of(&pod.metadata).is_some() || !is_active(pod) {
            return;
        }
        let ns = pod.metadata.namespace.as_deref();
        for rs in self.replicasets.list() {
            let sel = rs.spec.as_ref().map(|s| &s.selector);
            if rs.metadata.namespace.as_deref() == ns
                && sel.is_some_and(|s| selector_matches(s, pod.metadata.labels.as_ref()))
            {
                self.queue.add(key(&rs.metadata));
            }
        }
    }

    /// One reconcile of `namespace/name`.
    pub async fn sync(&self, rs_key: String) -> anyhow::Result<()> {
        let Some(rs) = self.replicasets.get(&rs_key) else {
            self.expectations.delete(&rs_key);
            return Ok(());
        };
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let spec = rs.spec.clone().unwrap_or_default();
        let pods_api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);

        // Claim: owned pods that still match, plus matching orphans (adopted).
        let mut owned: Vec<Arc<Pod>> = Vec::new();
        for pod in self.pods.list() {
            if pod.metadata.namespace.as_deref() != Some(ns.as_str()) || !is_active(&pod) {
                continue;
            }
            let matches = selector_matches(&spec.selector, pod.metadata.labels.as_ref());
            match controller_of(&pod.metadata) {
                Some(r) if r.uid == uid => {
                    if matches {
                        owned.push(pod);
                    } else {
                        self.release(&pods_api, &pod, &uid).await?;
                    }
                }
                Some(_) => {}
                None if matches && rs.metadata.deletion_timestamp.is_none() => {
                    let pod_name = pod.metadata.name.clone().unwrap_or_default();
                    let owner = controller_ref("apps/v1", "ReplicaSet", &name, &uid);
                    let patch =
                        json!({"metadata": {"ownerReferences": [owner], "uid": pod.metadata.uid}});
                    match pods_api
                        .patch(&pod_name, &PatchParams::default(), &Patch::Strategic(patch))
                        .await
                    {
                        Ok(p) => owned.push(Arc::new(p)),
                        Err(kube::Error::Api(e))
                            if e.code == 404 || e.code == 409 || e.code == 422 => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                None => {}
            }
        }

        let mut create_error = None;
        if self.expectations.satisfied(&rs_key) && rs.metadata.deletion_timestamp.is_none() {
            let want = spec.replicas.unwrap_or(1).max(0) as usize;
            if owned.len() < want {
                let n = (want - owned.len()).min(BURST_REPLICAS);
                create_error = self.create_pods(&rs, &rs_key, n).await.err();
            } else if owned.len() > want {
                let n = (owned.len() - want).min(BURST_REPLICAS);
                let mut doomed = owned.clone();
                doomed.sort_by(|a, b| deletion_order(a, b));
                doomed.truncate(n);
                self.expectations.expect(&rs_key, 0, n);
                for pod in doomed {
                    let pod_name = pod.metadata.name.clone().unwrap_or_default();
                    match pods_api.delete(&pod_name, &DeleteParams::default()).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(e)) if e.code == 404 => {
                            self.expectations.deletion_observed(&rs_key);
                        }
                        Err(e) => {
                            self.expectations.deletion_observed(&rs_key);
                            return Err(e.into());
                        }
                    }
                }
            }
        }
        self.update_status(&rs, &owned, create_error.as_ref())
            .await?;
        if let Some(e) = create_error {
            return Err(e);
        }
        // Pods becoming available after minReadySeconds need another look then.
        if spec.min_ready_seconds.unwrap_or(0) > 0 {
            self.queue.add_after(
                rs_key,
                std::time::Duration::from_secs(spec.min_ready_seconds.unwrap_or(0) as u64),
            );
        }
        Ok(())
    }

    /// Creates `n` pods in slow-start batches; stops at the first failing batch.
    async fn create_pods(&self, rs: &ReplicaSet, rs_key: &str, n: usize) -> anyhow::Result<()> {
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let template = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        let pod = pod_from_template(
            &template,
            &ns,
            &name,
            controller_ref("apps/v1", "ReplicaSet", &name, &uid),
        );
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let pp = PostParams::default();
        self.expectations.expect(rs_key, n, 0);
        let mut remaining = n;
        let mut batch = 1;
        while remaining > 0 {
            let size = batch.min(remaining);
            let results = futures::future::join_all((0..size).map(|_| api.create(&pp, &pod))).await;
            let mut failed = None;
            for r in results {
                if let Err(e) = r {
                    // Never seen by the informer: stop waiting for it.
                    self.expectations.creation_observed(rs_key);
                    failed = Some(e);
                }
            }
            remaining -= size;
            if let Some(e) = failed {
                for _ in 0..remaining {
                    self.expectations.creation_observed(rs_key);
                }
                let msg = e.to_string();
                self.recorder.emit(
                    &client::events::object_reference(rs),
                    client::EventType::Warning,
                    "FailedCreate",
                    "Create",
                    Some(&format!("Error creating: {msg}")),
                );
                return Err(anyhow::anyhow!("creating pods for {rs_key}: {msg}"));
            }
            batch *= 2;
        }
        self.recorder.emit(
            &client::events::object_reference(rs),
            client::EventType::Normal,
            "SuccessfulCreate",
            "Create",
            Some(&format!("Created {n} pod(s)")),
        );
        Ok(())
    }

    /// Drops this ReplicaSet's controller reference from a pod that no longer matches.
    async fn release(&self, api: &Api<Pod>, pod: &Pod, uid: &str) -> anyhow::Result<()> {
        let refs: Vec<_> = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .filter(|r| r.uid != uid)
            .cloned()
            .collect();
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": pod.metadata.uid}});
        let name = pod.metadata.name.clone().unwrap_or_default();
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn update_status(
        &self,
        rs: &ReplicaSet,
        owned: &[Arc<Pod>],
        create_error: Option<&anyhow::Error>,
    ) -> anyhow::Result<()> {
        let spec = rs.spec.clone().unwrap_or_default();
        let now = jiff::Timestamp::now();
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let template_labels = spec
            .template
            .as_ref()
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let fully_labeled = owned
            .iter()
            .filter(|p| {
                let labels = p.metadata.labels.clone().unwrap_or_default();
                template_labels
                    .iter()
                    .all(|(k, v)| labels.get(k) == Some(v))
            })
            .count() as i32;
        let old = rs.status.clone().unwrap_or_default();
        let mut conditions = old.conditions.clone().unwrap_or_default();
        conditions.retain(|c| c.type_ != "ReplicaFailure");
        if let Some(e) = create_error {
            conditions.push(k8s_openapi::api::apps::v1::ReplicaSetCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: Some("FailedCreate".into()),
                message: Some(e.to_string()),
                last_transition_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    now,
                )),
            });
        }
        let status = ReplicaSetStatus {
            replicas: owned.len() as i32,
            fully_labeled_replicas: Some(fully_labeled),
            ready_replicas: Some(owned.iter().filter(|p| is_ready(p)).count() as i32),
            available_replicas: Some(
                owned
                    .iter()
                    .filter(|p| is_available(p, min_ready, now))
                    .count() as i32,
            ),
            observed_generation: rs.metadata.generation,
            conditions: (!conditions.is_empty()).then_some(conditions),
            terminating_replicas: old.terminating_replicas,
        };
        let same = old.replicas == status.replicas
            && old.fully_labeled_replicas.unwrap_or(0)
                == status.fully_labeled_replicas.unwrap_or(0)
            && old.ready_replicas.unwrap_or(0) == status.ready_replicas.unwrap_or(0)
            && old.available_replicas.unwrap_or(0) == status.available_replicas.unwrap_or(0)
            && old.observed_generation == status.observed_generation
            && old.conditions.as_ref().map(|c| c.len()).unwrap_or(0)
                == status.conditions.as_ref().map(|c| c.len()).unwrap_or(0);
        if same {
            return Ok(());
        }
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        let mut patch = json!({"status": status});
        // Zero counts are left out by the serializer; the status must say 0, not keep the old value.
        for f in ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"] {
            if patch["status"].get(f).is_none() {
                patch["status"][f] = json!(0);
            }
        }
        if status.conditions.is_none() {
            patch["status"]["conditions"] = serde_json::Value::Null;
        }
        match api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn phase_rank(pod: &Pod) -> u8 {
    match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Pending") | None => 0,
        Some("Unknown") => 1,
        _ => 2,
    }
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

/// Upstream's order of pods to delete first: unassigned, then pending before unknown before
/// running, not ready before ready, more restarts first, newer first.
pub fn deletion_order(a: &Pod, b: &Pod) -> std::cmp::Ordering {
    let assigned = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    assigned(a)
        .cmp(&assigned(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| is_ready(a).cmp(&is_ready(b)))
        .then_with(|| restarts(b).cmp(&restarts(a)))
        .then_with(|| {
            b.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .cmp(&a.metadata.creation_timestamp.as_ref().map(|t| t.0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(node: Option<&str>, phase: &str, ready: bool, created: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": created, "creationTimestamp": created},
            "spec": {"containers": [], "nodeName": node},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        }))
        .unwrap()
    }

    #[test]
    fn deletes_the_pods_upstream_would() {
        let mut pods = [
            pod(Some("n"), "Running", true, "2026-01-01T00:00:00Z"),
            pod(Some("n"), "Running", true, "2026-01-02T00:00:00Z"),
            pod(Some("n"), "Running", false, "2026-01-01T00:00:00Z"),
            pod(None, "Pending", false, "2026-01-01T00:00:00Z"),
            pod(Some("n"), "Pending", false, "2026-01-03T00:00:00Z"),
        ];
        pods.sort_by(deletion_order);
        let order: Vec<(Option<String>, String, bool)> = pods
            .iter()
            .map(|p| {
                (
                    p.spec.as_ref().unwrap().node_name.clone(),
                    p.metadata.name.clone().unwrap(),
                    is_ready(p),
                )
            })
            .collect();
        assert_eq!(order[0].0, None);
        assert_eq!(order[1].1, "2026-01-03T00:00:00Z");
        assert!(!order[2].2);
        // Among ready running pods, the newer goes first.
        assert_eq!(order[3].1, "2026-01-02T00:00:00Z");
    }
}
