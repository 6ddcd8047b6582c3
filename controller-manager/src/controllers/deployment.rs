//! The deployment controller: one ReplicaSet per pod template (named `<deployment>-<hash>`,
//! labelled `pod-template-hash`), rolled as the strategy says. RollingUpdate scales the new
//! ReplicaSet up within `maxSurge` and old ones down while keeping `replicas - maxUnavailable`
//! pods available; Recreate scales old ones to zero, waits for their pods to go, then scales the
//! new one up. Revisions (`deployment.kubernetes.io/revision`) feed `kubectl rollout history`
//! and `undo`; old ReplicaSets beyond `revisionHistoryLimit` are deleted; the status and its
//! Available and Progressing conditions are what `kubectl rollout status` reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use client::{Informer, WorkQueue};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

use super::common::{controller_of, controller_ref, is_active, key, selector_matches};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

#[derive(Clone)]
pub struct DeploymentController {
    pub client: Client,
    pub deployments: Informer<Deployment>,
    pub replicasets: Informer<ReplicaSet>,
    pub pods: Informer<Pod>,
    pub queue: WorkQueue<String>,
    pub recorder: client::EventRecorder,
}

/// Upstream's `rand.SafeEncodeString` alphabet (no vowels, no confusable digits).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The `pod-template-hash` of a template: FNV-1a over its JSON and the collision count,
/// written in the safe alphabet, as upstream's `ComputeHash` does in spirit.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x01000193);
        }
    };
    feed(&serde_json::to_vec(template).unwrap_or_default());
    if let Some(c) = collision_count {
        feed(&c.to_le_bytes());
    }
    h.to_string()
        .bytes()
        .map(|b| SAFE[usize::from(b) % SAFE.len()] as char)
        .collect()
}

/// The template without the `pod-template-hash` label, to compare a ReplicaSet's template
/// with the deployment's.
fn without_hash(t: &PodTemplateSpec) -> serde_json::Value {
    let mut t = t.clone();
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty() {
            if let Some(m) = t.metadata.as_mut() {
                m.labels = None;
            }
        }
    }
    serde_json::to_value(t).unwrap_or_default()
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// `maxSurge`/`maxUnavailable` against `replicas`: percentages round up for surge and down
/// for unavailability; both zero would stall, so unavailability becomes 1, as upstream.
pub fn resolve_fenceposts(
    surge: Option<&IntOrString>,
    unavailable: Option<&IntOrString>,
    replicas: i32,
) -> (i32, i32) {
    let resolve = |v: Option<&IntOrString>, up: bool| -> i32 {
        match v {
            None => {
                let x = f64::from(replicas) * 0.25;
                (if up { x.ceil() } else { x.floor() }) as i32
            }
            Some(IntOrString::Int(i)) => *i,
            Some(IntOrString::String(s)) => {
                let pct: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
                let x = f64::from(replicas) * pct / 100.0;
                (if up { x.ceil() } else { x.floor() }) as i32
            }
        }
    };
    let surge = resolve(surge, true);
    let mut unavailable = resolve(unavailable, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

impl DeploymentController {
    pub fn watch(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let d_task = self.deployments.enqueue_keys(self.queue.clone());
        let this = self.clone();
        let rs_task = self.replicasets.add_event_handler(move |n| {
            let rs = n.object();
            match this.owner_key(&rs.metadata) {
                Some(k) => this.queue.add(k),
                None => {
                    for d in this.deployments.list() {
                        let sel = d.spec.as_ref().map(|s| &s.selector);
                        if d.metadata.namespace == rs.metadata.namespace
                            && sel.is_some_and(|s| selector_matches(s, rs.metadata.labels.as_ref()))
                        {
                            this.queue.add(key(&d.metadata));
                        }
                    }
                }
            }
        });
        // Recreate waits for old pods to go: their deletion wakes the deployment.
        let this = self.clone();
        let pod_task = self.pods.add_event_handler(move |n| {
            if let client::Notification::Deleted(pod) = n {
                let Some(r) = controller_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet")
                else {
                    return;
                };
                let ns = pod.metadata.namespace.clone().unwrap_or_default();
                if let Some(rs) = this.replicasets.get(&format!("{ns}/{}", r.name)) {
                    if let Some(k) = this.owner_key(&rs.metadata) {
                        this.queue.add(k);
                    }
                }
            }
        });
        vec![d_task, rs_task, pod_task]
    }

    fn owner_key(&self, meta: &ObjectMeta) -> Option<String> {
        let r = controller_of(meta).filter(|r| r.kind == "Deployment")?;
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let d = self.deployments.get(&format!("{ns}/{}", r.name))?;
        (d.metadata.uid.as_deref() == Some(r.uid.as_str())).then(|| format!("{ns}/{}", r.name))
    }

    pub async fn sync(&self, d_key: String) -> anyhow::Result<()> {
        let Some(d) = self.deployments.get(&d_key) else {
            return Ok(());
        };
        if d.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let spec = d.spec.clone().unwrap_or_default();
        let rs_api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);

        // Claim ReplicaSets: owned ones that match, adopt matching orphans.
        let mut all: Vec<Arc<ReplicaSet>> = Vec::new();
        for rs in self.replicasets.list() {
            if rs.metadata.namespace.as_deref() != Some(ns.as_str())
                || rs.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            let matches = selector_matches(&spec.selector, rs.metadata.labels.as_ref());
            match controller_of(&rs.metadata) {
                Some(r) if r.uid == uid => all.push(rs),
                None if matches => {
                    let owner = controller_ref("apps/v1", "Deployment", &name, &uid);
                    let patch =
                        json!({"metadata": {"ownerReferences": [owner], "uid": rs.metadata.uid}});
                    let rs_name = rs.metadata.name.clone().unwrap_or_default();
                    match rs_api
                        .patch(&rs_name, &PatchParams::default(), &Patch::Strategic(patch))
                        .await
                    {
                        Ok(adopted) => all.push(Arc::new(adopted)),
                        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                _ => {}
            }
        }
        let template = spec.template.clone();
        let want = without_hash(&template);
        let (new_rs, mut old): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| without_hash(t) == want)
        });
        let mut new_rs = new_rs.into_iter().max_by_key(|rs| revision(rs));
        old.sort_by_key(|rs| {
            (
                revision(rs),
                rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
            )
        });
        let replicas = spec.replicas.unwrap_or(1);

        if spec.paused == Some(true) {
            return self.update_status(&d, new_rs.as_deref(), &all, None).await;
        }
        let strategy = spec.strategy.clone().unwrap_or_default();
        let rolling = strategy.rolling_update.clone().unwrap_or_default();
        let (max_surge, max_unavailable) = if strategy.type_.as_deref() == Some("Recreate") {
            (0, replicas)
        } else {
            resolve_fenceposts(
                rolling.max_surge.as_ref(),
                rolling.max_unavailable.as_ref(),
                replicas,
            )
        };
        let mut created = None;

        if strategy.type_.as_deref() == Some("Recreate") {
            let mut scaled = false;
            for rs in old.iter().filter(|rs| spec_replicas(rs) > 0) {
                self.scale(&rs_api, rs, 0, replicas, max_surge).await?;
                scaled = true;
            }
            let old_uids: Vec<&str> = old
                .iter()
                .filter_map(|r| r.metadata.uid.as_deref())
                .collect();
            let old_pods_running = self.pods.list().iter().any(|p| {
                p.metadata.namespace.as_deref() == Some(ns.as_str())
                    && is_active(p)
                    && controller_of(&p.metadata)
                        .is_some_and(|r| old_uids.contains(&r.uid.as_str()))
            });
            if !scaled && !old_pods_running {
                if new_rs.is_none() {
                    let rs = self
                        .create_new_rs(&d, &old, replicas, replicas, max_surge)
                        .await?;
                    created = Some(rs.metadata.name.clone().unwrap_or_default());
                    new_rs = Some(Arc::new(rs));
                } else if let Some(rs) = new_rs.as_ref().filter(|rs| spec_replicas(rs) != replicas)
                {
                    self.scale(&rs_api, rs, replicas, replicas, max_surge)
                        .await?;
                }
            }
        } else {
            // RollingUpdate. The new ReplicaSet first (created or scaled up within the surge).
            let current: i32 = all.iter().map(|rs| spec_replicas(rs)).sum();
            match &new_rs {
                None => {
                    let room = (replicas + max_surge - current).max(0).min(replicas);
                    let rs = self
                        .create_new_rs(&d, &old, room, replicas, max_surge)
                        .await?;
                    created = Some(rs.metadata.name.clone().unwrap_or_default());
                    new_rs = Some(Arc::new(rs));
                }
                Some(rs) => {
                    let have = spec_replicas(rs);
                    let target = if have > replicas {
                        replicas
                    } else {
                        let up = (replicas + max_surge - current).max(0).min(replicas - have);
                        have + up
                    };
                    if target != have {
                        self.scale(&rs_api, rs, target, replicas, max_surge).await?;
                        return self.update_status(&d, new_rs.as_deref(), &all, None).await;
                    }
                }
            }
            // Then old ReplicaSets down, keeping the minimum available.
            let old_total: i32 = old.iter().map(|rs| spec_replicas(rs)).sum();
            if old_total > 0 {
                let all_total: i32 =
                    old_total + new_rs.as_ref().map(|r| spec_replicas(r)).unwrap_or(0);
                let min_available = replicas - max_unavailable;
                let new_unavailable = new_rs
                    .as_ref()
                    .map(|r| spec_replicas(r) - available(r))
                    .unwrap_or(0);
                let max_scaled_down = all_total - min_available - new_unavailable;
                if max_scaled_down > 0 {
                    // Unhealthy old replicas go first, then old ones while availability allows.
                    let mut budget = max_scaled_down;
                    let mut current_old: Vec<(Arc<ReplicaSet>, i32)> =
                        old.iter().map(|r| (r.clone(), spec_replicas(r))).collect();
                    for (rs, n) in current_old.iter_mut() {
                        if budget <= 0 {
                            break;
                        }
                        let unhealthy = (*n - available(rs)).max(0).min(budget);
                        if unhealthy > 0 {
                            *n -= unhealthy;
                            budget -= unhealthy;
                        }
                    }
                    let available_total: i32 = all.iter().map(|r| available(r)).sum();
                    let mut can = (available_total - min_available).min(budget).max(0);
                    for (_, n) in current_old.iter_mut() {
                        if can <= 0 {
                            break;
                        }
                        let down = (*n).min(can);
                        *n -= down;
                        can -= down;
                    }
                    for (rs, n) in &current_old {
                        if *n != spec_replicas(rs) {
                            self.scale(&rs_api, rs, *n, replicas, max_surge).await?;
                        }
                    }
                }
            }
        }
        self.cleanup(&rs_api, &d, &old).await?;
        self.update_status(&d, new_rs.as_deref(), &all, created)
            .await
    }

    async fn create_new_rs(
        &self,
        d: &Deployment,
        old: &[Arc<ReplicaSet>],
        replicas: i32,
        desired: i32,
        surge: i32,
    ) -> anyhow::Result<ReplicaSet> {
        let spec = d.spec.clone().unwrap_or_default();
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let collisions = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = template_hash(&spec.template, collisions);
        let mut template = spec.template.clone();
        let meta = template.metadata.get_or_insert_with(Default::default);
        meta.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let next_revision = old.iter().map(|r| revision(r)).max().unwrap_or(0) + 1;
        let mut annotations: BTreeMap<String, String> = d
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| {
                k != REVISION
                    && k != "kubectl.kubernetes.io/last-applied-configuration"
                    && k != "deployment.kubernetes.io/revision-history"
            })
            .collect();
        annotations.insert(REVISION.into(), next_revision.to_string());
        annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
        annotations.insert(MAX_REPLICAS.into(), (desired + surge).to_string());
        let rs_name = format!("{name}-{hash}");
        let rs: ReplicaSet = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name, "namespace": ns,
                "labels": template.metadata.as_ref().and_then(|m| m.labels.clone()),
                "annotations": annotations,
                "ownerReferences": [controller_ref("apps/v1", "Deployment", &name, &uid)],
            },
            "spec": {
                "replicas": replicas,
                "minReadySeconds": spec.min_ready_seconds.unwrap_or(0),
                "selector": selector,
                "template": template,
            }
        }))?;
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        match api.create(&PostParams::default(), &rs).await {
            Ok(created) => {
                self.recorder.emit(
                    &client::events::object_reference(d),
                    client::EventType::Normal,
                    "ScalingReplicaSet",
                    "Scale",
                    Some(&format!(
                        "Scaled up replica set {rs_name} from 0 to {replicas}"
                    )),
                );
                Ok(created)
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                // A ReplicaSet of that name with another template: count the collision so the
                // next hash differs, as upstream.
                let existing = api.get(&rs_name).await?;
                let same = existing
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| without_hash(t) == without_hash(&spec.template));
                if same && controller_of(&existing.metadata).is_some_and(|r| r.uid == uid) {
                    return Ok(existing);
                }
                let count = collisions.unwrap_or(0) + 1;
                let dapi: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
                dapi.patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"collisionCount": count}})),
                )
                .await?;
                anyhow::bail!(
                    "hash collision for replica set {rs_name}; collisionCount now {count}"
                )
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn scale(
        &self,
        api: &Api<ReplicaSet>,
        rs: &ReplicaSet,
        to: i32,
        desired: i32,
        surge: i32,
    ) -> anyhow::Result<()> {
        let name = rs.metadata.name.clone().unwrap_or_default();
        let from = spec_replicas(rs);
        let patch = json!({
            "metadata": {"annotations": {DESIRED_REPLICAS: desired.to_string(), MAX_REPLICAS: (desired + surge).to_string()}},
            "spec": {"replicas": to},
        });
        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        if from != to {
            if let Some(d) = self
                .owner_key(&rs.metadata)
                .and_then(|k| self.deployments.get(&k))
            {
                let verb = if to > from { "up" } else { "down" };
                self.recorder.emit(
                    &client::events::object_reference(d.as_ref()),
                    client::EventType::Normal,
                    "ScalingReplicaSet",
                    "Scale",
                    Some(&format!(
                        "Scaled {verb} replica set {name} from {from} to {to}"
                    )),
                );
            }
        }
        Ok(())
    }

    /// Deletes the oldest empty ReplicaSets beyond `revisionHistoryLimit` (10 by default).
    async fn cleanup(
        &self,
        api: &Api<ReplicaSet>,
        d: &Deployment,
        old: &[Arc<ReplicaSet>],
    ) -> anyhow::Result<()> {
        let limit = d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let empty: Vec<&Arc<ReplicaSet>> = old
            .iter()
            .filter(|rs| {
                spec_replicas(rs) == 0 && rs.status.as_ref().map(|s| s.replicas).unwrap_or(0) == 0
            })
            .collect();
        if empty.len() <= limit {
            return Ok(());
        }
        for rs in &empty[..empty.len() - limit] {
            let name = rs.metadata.name.clone().unwrap_or_default();
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn update_status(
        &self,
        d: &Deployment,
        new_rs: Option<&ReplicaSet>,
        all: &[Arc<ReplicaSet>],
        created: Option<String>,
    ) -> anyhow::Result<()> {
        let spec = d.spec.clone().unwrap_or_default();
        let replicas = spec.replicas.unwrap_or(1);
        let (_, max_unavailable) =
            if spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate") {
                (0, replicas)
            } else {
                let r = spec
                    .strategy
                    .as_ref()
                    .and_then(|s| s.rolling_update.clone())
                    .unwrap_or_default();
                resolve_fenceposts(r.max_surge.as_ref(), r.max_unavailable.as_ref(), replicas)
            };
        // The new ReplicaSet may be fresher than the informer's list.
        let rs_status = |rs: &ReplicaSet| rs.status.clone().unwrap_or_default();
        let sum = |f: &dyn Fn(&ReplicaSet) -> i32| -> i32 { all.iter().map(|r| f(r)).sum() };
        let total = sum(&|r| rs_status(r).replicas);
        let ready = sum(&|r| rs_status(r).ready_replicas.unwrap_or(0));
        let avail = sum(&|r| rs_status(r).available_replicas.unwrap_or(0));
        let updated = new_rs.map(|r| rs_status(r).replicas).unwrap_or(0);
        let now = Time(jiff::Timestamp::now());
        let old = d.status.clone().unwrap_or_default();
        let mut conditions: Vec<DeploymentCondition> = old.conditions.clone().unwrap_or_default();
        let mut set = |type_: &str, status: &str, reason: &str, message: String| match conditions
            .iter_mut()
            .find(|c| c.type_ == type_)
        {
            Some(c) => {
                if c.status != status {
                    c.last_transition_time = Some(now.clone());
                }
                if c.reason.as_deref() != Some(reason)
                    || c.message.as_deref() != Some(message.as_str())
                {
                    c.last_update_time = Some(now.clone());
                }
                c.status = status.into();
                c.reason = Some(reason.into());
                c.message = Some(message);
            }
            None => conditions.push(DeploymentCondition {
                type_: type_.into(),
                status: status.into(),
                reason: Some(reason.into()),
                message: Some(message),
                last_transition_time: Some(now.clone()),
                last_update_time: Some(now.clone()),
            }),
        };
        if avail >= replicas - max_unavailable {
            set(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            );
        } else {
            set(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            );
        }
        let new_name = new_rs
            .and_then(|r| r.metadata.name.clone())
            .unwrap_or_default();
        if let Some(c) = created {
            set(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                format!("Created new replica set \"{c}\""),
            );
        } else if new_rs.is_some() && updated == replicas && total == replicas && avail >= replicas
        {
            set(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            );
        } else if new_rs.is_some() {
            set(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{new_name}\" is progressing."),
            );
        }
        // Available first, then Progressing, as upstream lists them.
        conditions.sort_by_key(|c| if c.type_ == "Available" { 0 } else { 1 });
        let status = json!({
            "observedGeneration": d.metadata.generation,
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": avail,
            "unavailableReplicas": (replicas - avail).max(0),
            "conditions": conditions,
            "collisionCount": old.collision_count,
        });
        let unchanged = old.observed_generation == d.metadata.generation
            && old.replicas.unwrap_or(0) == total
            && old.updated_replicas.unwrap_or(0) == updated
            && old.ready_replicas.unwrap_or(0) == ready
            && old.available_replicas.unwrap_or(0) == avail
            && serde_json::to_value(&old.conditions).ok() == Some(status["conditions"].clone());
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
        // The new ReplicaSet's revision is the deployment's.
        if let Some(rev) = new_rs.map(revision).filter(|r| *r > 0) {
            let current = d
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .cloned();
            if current.as_deref() != Some(rev.to_string().as_str()) {
                api.patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(
                        json!({"metadata": {"annotations": {REVISION: rev.to_string()}}}),
                    ),
                )
                .await?;
            }
        }
        if unchanged {
            return Ok(());
        }
        match api
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_round_as_upstream() {
        assert_eq!(resolve_fenceposts(None, None, 10), (3, 2));
        assert_eq!(resolve_fenceposts(None, None, 1), (1, 0));
        let zero = IntOrString::Int(0);
        assert_eq!(resolve_fenceposts(Some(&zero), Some(&zero), 3), (0, 1));
        let half = IntOrString::String("50%".into());
        assert_eq!(resolve_fenceposts(Some(&half), Some(&half), 5), (3, 2));
    }

    #[test]
    fn hashes_are_stable_safe_and_change_with_collisions() {
        let t: PodTemplateSpec = serde_json::from_value(json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}})).unwrap();
        let a = template_hash(&t, None);
        assert_eq!(a, template_hash(&t, None));
        assert!(a.bytes().all(|b| SAFE.contains(&b)), "{a}");
        assert_ne!(a, template_hash(&t, Some(1)));
    }
}
