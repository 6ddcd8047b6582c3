//! The scheduling cycle and the binding cycle. One pod at a time: filter the nodes (a
//! rotating window of them, upstream's `percentageOfNodesToScore`), score the feasible ones,
//! pick the best (ties at random), assume it in the cache, then bind through `pods/binding`
//! in a task of its own so the next pod need not wait for the apiserver. A pod no node fits
//! gets `PodScheduled=False` with upstream's summary and a `FailedScheduling` event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use client::{EventRecorder, EventType};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use rand::Rng as _;

use crate::cache::Cache;
use crate::framework::{fit_error_message, CycleState, NodeInfo, Status};
use crate::metrics::Metrics;
use crate::plugins::Plugins;
use crate::queue::{QueuedPod, SchedulingQueue};

/// Upstream's floor on how many feasible nodes a cycle looks for.
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// And on the adaptive percentage.
const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;

/// How many feasible nodes to look for among `all` (upstream's `numFeasibleNodesToFind`):
/// everything below 100 nodes; otherwise `percentage`% (0 = adaptive: 50% minus 1% per 125
/// nodes, at least 5%), at least 100.
pub fn feasible_nodes_to_find(all: usize, percentage: u32) -> usize {
    if all < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100 {
        return all;
    }
    let pct = if percentage == 0 {
        (50usize.saturating_sub(all / 125)).max(MIN_FEASIBLE_NODES_PERCENTAGE)
    } else {
        percentage as usize
    };
    (all * pct / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// What a cycle decided for a pod.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Schedule on this node.
    Node(String),
    /// No node fits; the message for the PodScheduled condition.
    Unschedulable(String),
}

/// Runs filters and scores over the cache for one pod. Pure over the cache: no I/O.
pub fn find_node(
    plugins: &Plugins,
    cache: &Cache,
    pod: &Pod,
    percentage: u32,
    start: &AtomicUsize,
) -> Outcome {
    let state = CycleState::for_pod(pod);
    let all = cache.node_count();
    let want = feasible_nodes_to_find(all, percentage);
    let first = if all == 0 {
        0
    } else {
        start.load(Ordering::Relaxed) % all
    };
    let mut feasible: Vec<&NodeInfo> = Vec::new();
    let mut failures: Vec<Status> = Vec::new();
    let mut examined = 0;
    for i in 0..all {
        if feasible.len() >= want {
            break;
        }
        examined += 1;
        let Some(node) = cache.node_at((first + i) % all) else {
            continue;
        };
        let verdict = plugins
            .filter
            .iter()
            .map(|f| f.filter(&state, pod, node))
            .find(|s| !s.is_success());
        match verdict {
            None => feasible.push(node),
            Some(s) => failures.push(s),
        }
    }
    if all > 0 {
        start.store((first + examined) % all, Ordering::Relaxed);
    }
    if feasible.is_empty() {
        return Outcome::Unschedulable(fit_error_message(all, &failures));
    }
    if feasible.len() == 1 || plugins.score.is_empty() {
        return Outcome::Node(feasible[0].name().to_string());
    }
    let mut totals = vec![0i64; feasible.len()];
    for (plugin, weight) in &plugins.score {
        let mut scores: Vec<i64> = feasible
            .iter()
            .map(|n| plugin.score(&state, pod, n))
            .collect();
        plugin.normalize(&mut scores);
        for (t, s) in totals.iter_mut().zip(scores) {
            *t += s * weight;
        }
    }
    // The best score; among equals, each is equally likely (reservoir sampling).
    let mut rng = rand::rng();
    let mut best = 0;
    let mut ties = 0u32;
    for i in 0..totals.len() {
        if totals[i] > totals[best] {
            best = i;
            ties = 1;
        } else if totals[i] == totals[best] {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    Outcome::Node(feasible[best].name().to_string())
}

/// Everything a scheduling loop needs.
pub struct Scheduler {
    pub client: Client,
    pub profiles: HashMap<String, Plugins>,
    pub cache: Arc<Mutex<Cache>>,
    pub queue: SchedulingQueue,
    pub recorder: EventRecorder,
    pub percentage: u32,
    pub start: AtomicUsize,
    pub metrics: Metrics,
}

impl Scheduler {
    pub fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        crate::cache::lock(&self.cache)
    }

    /// Schedules pods until the queue closes.
    pub async fn run(self: Arc<Self>) {
        while let Some(qp) = self.queue.pop().await {
            self.schedule_one(qp).await;
        }
    }

    async fn schedule_one(self: &Arc<Self>, qp: QueuedPod) {
        let began = Instant::now();
        if self.cache().is_assumed(&qp.key) {
            // Already placed by an earlier cycle; its binding is in flight.
            self.queue.remove(&qp.key);
            return;
        }
        let name = scheduler_name(&qp.pod);
        let Some(plugins) = self.profiles.get(name) else {
            self.queue.remove(&qp.key);
            return;
        };
        let outcome = {
            let cache = self.cache();
            find_node(plugins, &cache, &qp.pod, self.percentage, &self.start)
        };
        match outcome {
            Outcome::Node(node) => {
                let mut assumed = (*qp.pod).clone();
                if let Some(spec) = assumed.spec.as_mut() {
                    spec.node_name = Some(node.clone());
                }
                self.cache().assume(&qp.key, &node, Arc::new(assumed));
                self.metrics.attempt("scheduled", name, began.elapsed());
                let this = self.clone();
                tokio::spawn(async move { this.bind(qp, node).await });
            }
            Outcome::Unschedulable(message) => {
                self.metrics.attempt("unschedulable", name, began.elapsed());
                tracing::info!(pod = %qp.key, %message, "unable to schedule pod");
                self.queue.requeue_unschedulable(&qp.key);
                self.report_unschedulable(&qp.pod, &message).await;
            }
        }
    }

    async fn bind(self: Arc<Self>, qp: QueuedPod, node: String) {
        let (ns, name) = client::split_key(&qp.key);
        let ns = ns.unwrap_or("default");
        let uid = qp.pod.metadata.uid.clone();
        let binding = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": ns, "uid": uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let started = Instant::now();
        let result = api
            .create_subresource::<_, serde_json::Value>(
                "binding",
                name,
                &PostParams::default(),
                &binding,
            )
            .await;
        self.metrics.binding(started.elapsed());
        match result {
            Ok(_) => {
                self.queue.remove(&qp.key);
                let note = format!("Successfully assigned {ns}/{name} to {node}");
                self.recorder.emit(
                    &client::events::object_reference(qp.pod.as_ref()),
                    EventType::Normal,
                    "Scheduled",
                    "Binding",
                    Some(&note),
                );
            }
            Err(e) => {
                tracing::warn!(pod = %qp.key, %node, error = %e, "binding failed");
                self.cache().remove_pod(&qp.key);
                self.metrics
                    .attempt("error", scheduler_name(&qp.pod), started.elapsed());
                self.queue.requeue_backoff(&qp.key);
                // The node freed by the failed binding may fit someone else.
                self.queue.move_all_to_active_or_backoff();
            }
        }
    }

    async fn report_unschedulable(&self, pod: &Pod, message: &str) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let already = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
            .is_some_and(|c| {
                c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
                    && c.message.as_deref() == Some(message)
            });
        if !already {
            let now = jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let patch = serde_json::json!({"status": {"conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": null,
                "lastTransitionTime": now,
            }]}});
            let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
            if let Err(e) = api
                .patch_status(name, &PatchParams::default(), &Patch::Strategic(patch))
                .await
            {
                tracing::warn!(pod = %format!("{ns}/{name}"), error = %e, "updating PodScheduled");
            }
        }
        self.recorder.emit(
            &client::events::object_reference(pod),
            EventType::Warning,
            "FailedScheduling",
            "Scheduling",
            Some(message),
        );
    }
}

/// The profile a pod asks for (`default-scheduler` when unset).
pub fn scheduler_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.scheduler_name.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default-scheduler")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::resources::ScoringStrategy;

    #[test]
    fn adaptive_percentage_as_upstream() {
        assert_eq!(feasible_nodes_to_find(50, 0), 50);
        assert_eq!(feasible_nodes_to_find(1000, 0), 420);
        assert_eq!(feasible_nodes_to_find(5000, 0), 500);
        assert_eq!(feasible_nodes_to_find(5000, 100), 5000);
        assert_eq!(feasible_nodes_to_find(200, 10), 100);
    }

    fn node(name: &str, cpu: &str, taint: bool) -> Arc<k8s_openapi::api::core::v1::Node> {
        let taints = if taint {
            serde_json::json!([{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}])
        } else {
            serde_json::json!([])
        };
        Arc::new(
            serde_json::from_value(serde_json::json!({"metadata": {"name": name},
                "spec": {"taints": taints},
                "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}}))
            .unwrap(),
        )
    }

    fn pod(cpu: &str) -> Pod {
        serde_json::from_value(
            serde_json::json!({"metadata": {"name": "p", "namespace": "d"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}),
        )
        .unwrap()
    }

    #[test]
    fn picks_the_emptier_node_and_explains_a_misfit() {
        let plugins = Plugins::default_profile(&[], &[], ScoringStrategy::LeastAllocated);
        let mut cache = Cache::default();
        cache.set_node(node("a", "2", false));
        cache.set_node(node("b", "4", false));
        cache.set_node(node("c", "64", true));
        let start = AtomicUsize::new(0);
        assert_eq!(
            find_node(&plugins, &cache, &pod("1"), 0, &start),
            Outcome::Node("b".into())
        );
        assert_eq!(
            find_node(&plugins, &cache, &pod("8"), 0, &start),
            Outcome::Unschedulable(
                "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu."
                    .into()
            )
        );
    }
}
