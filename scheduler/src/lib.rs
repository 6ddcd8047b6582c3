//! kube-scheduler as a library: flags and configuration, the informers that feed the cache
//! and the queue, leader election, and the `/healthz` + `/metrics` server on 10259.
//! `main.rs` parses flags and calls [`run`]; tests start it in process.

pub mod cache;
pub mod config;
pub mod cycle;
pub mod framework;
pub mod metrics;
pub mod plugins;
pub mod queue;
pub mod resources;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use client::{EventRecorder, Notification, SharedInformerFactory};
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::cache::Cache;
use crate::config::{KubeSchedulerConfiguration, ProfileSettings};
use crate::cycle::{scheduler_name, Scheduler};
use crate::metrics::Metrics;
use crate::plugins::Plugins;
use crate::queue::SchedulingQueue;

/// kube-scheduler's flags, upstream's names and defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-scheduler",
    version,
    about = "The Kubernetes scheduler: places pending pods on nodes."
)]
pub struct Options {
    /// Path to a kubeconfig file with authorization and master location information.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The path to the KubeSchedulerConfiguration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub leader_election: client::daemon::LeaderElectionFlags,
    /// The port on which to serve HTTPS (/healthz, /metrics); 0 turns it off.
    #[arg(long, default_value_t = 10259)]
    pub secure_port: u16,
    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// Log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

/// Flags and the config file, resolved and checked before anything starts.
#[derive(Debug, Clone)]
pub struct Settings {
    pub kubeconfig: Option<PathBuf>,
    pub leader_elect: bool,
    pub lease_name: String,
    pub lease_namespace: String,
    pub percentage: u32,
    pub profiles: Vec<ProfileSettings>,
}

impl Options {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let cfg = match &self.config {
            Some(path) => KubeSchedulerConfiguration::load(path)?,
            None => KubeSchedulerConfiguration::default(),
        };
        let le = cfg.leader_election.as_ref();
        let settings = Settings {
            kubeconfig: self
                .kubeconfig
                .clone()
                .or_else(|| cfg.client_connection.kubeconfig.clone()),
            leader_elect: le
                .and_then(|l| l.leader_elect)
                .unwrap_or(self.leader_election.leader_elect),
            lease_name: le
                .and_then(|l| l.resource_name.clone())
                .or_else(|| self.leader_election.resource_name.clone())
                .unwrap_or_else(|| "kube-scheduler".into()),
            lease_namespace: le
                .and_then(|l| l.resource_namespace.clone())
                .unwrap_or_else(|| self.leader_election.resource_namespace.clone()),
            percentage: cfg.percentage_of_nodes_to_score.unwrap_or(0),
            profiles: cfg.profiles()?,
        };
        self.leader_election.config().map_err(anyhow::Error::msg)?;
        Ok(settings)
    }
}

/// Runs the scheduler until `shutdown` completes (or leadership is lost, which is an error:
/// upstream exits so a fresh process campaigns again).
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let settings = opts.settings()?;
    let client = client::client_from_kubeconfig(settings.kubeconfig.as_deref(), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let metrics = Metrics::new();
    let queue = SchedulingQueue::new();
    let render = {
        let (metrics, queue) = (metrics.clone(), queue.clone());
        Arc::new(move || metrics.render(queue.pending()))
    };
    let serving = client::daemon::serve_health(opts.bind_address, opts.secure_port, render).await?;
    if let Some(addr) = serving.addr {
        tracing::info!(%addr, "serving securely");
    }
    let identity = client::daemon::LeaderElectionFlags::identity();
    let schedule = schedule(
        client.clone(),
        settings.clone(),
        metrics,
        queue.clone(),
        identity.clone(),
    );
    let result = if settings.leader_elect {
        let elector = client::LeaderElector::new(
            client,
            client::LeaseLock {
                namespace: settings.lease_namespace.clone(),
                name: settings.lease_name.clone(),
                identity,
            },
            opts.leader_election.config().map_err(anyhow::Error::msg)?,
        )?;
        match elector.run(shutdown, || schedule).await {
            client::leaderelection::Outcome::LostLeadership => {
                Err(anyhow::anyhow!("leaderelection lost"))
            }
            _ => Ok(()),
        }
    } else {
        tokio::select! {
            _ = schedule => Ok(()),
            _ = shutdown => Ok(()),
        }
    };
    queue.close();
    serving.stop().await;
    result
}

/// Whether the scheduler should place this pod: unassigned, not being deleted, not finished.
fn pending(pod: &Pod) -> bool {
    let assigned = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !assigned
        && pod.metadata.deletion_timestamp.is_none()
        && !matches!(phase, Some("Succeeded") | Some("Failed"))
}

/// The leader's work: informers, event handlers, the flush loop and the scheduling loop.
async fn schedule(
    client: client::Client,
    settings: Settings,
    metrics: Metrics,
    queue: SchedulingQueue,
    identity: String,
) {
    let factory = SharedInformerFactory::new(client.clone());
    let pods = factory.informer::<Pod>();
    let nodes = factory.informer::<Node>();
    let profiles: HashMap<String, Plugins> = settings
        .profiles
        .iter()
        .map(|p| {
            (
                p.scheduler_name.clone(),
                Plugins::default_profile(&p.disabled, &p.weights, p.strategy),
            )
        })
        .collect();
    let cache = Arc::new(Mutex::new(Cache::default()));
    let gates: Vec<Arc<dyn framework::PreEnqueuePlugin>> = profiles
        .values()
        .flat_map(|p| p.pre_enqueue.iter().cloned())
        .collect();
    let names: Vec<String> = profiles.keys().cloned().collect();

    let node_events = {
        let cache = cache.clone();
        let queue = queue.clone();
        nodes.add_event_handler(move |n| {
            match &n {
                Notification::Added(node) | Notification::Updated { new: node, .. } => {
                    cache::lock(&cache).set_node(node.clone());
                }
                Notification::Deleted(node) => {
                    cache::lock(&cache)
                        .remove_node(node.metadata.name.as_deref().unwrap_or_default());
                }
            }
            if !matches!(n, Notification::Deleted(_)) {
                queue.move_all_to_active_or_backoff();
            }
        })
    };
    let pod_events = {
        let cache = cache.clone();
        let queue = queue.clone();
        pods.add_event_handler(move |n| {
            let key = n.key();
            match &n {
                Notification::Added(pod) | Notification::Updated { new: pod, .. } => {
                    let node = pod
                        .spec
                        .as_ref()
                        .and_then(|s| s.node_name.clone())
                        .unwrap_or_default();
                    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                    if !node.is_empty() {
                        queue.remove(&key);
                        if matches!(phase, Some("Succeeded") | Some("Failed")) {
                            cache::lock(&cache).remove_pod(&key);
                            queue.move_all_to_active_or_backoff();
                        } else {
                            cache::lock(&cache).add_pod(&key, &node, pod.clone());
                        }
                    } else if pending(pod) && names.iter().any(|s| s == scheduler_name(pod)) {
                        if cache::lock(&cache).is_assumed(&key) {
                            return;
                        }
                        if gates.iter().all(|g| g.pre_enqueue(pod).is_success()) {
                            queue.add_or_update(key, pod.clone());
                        } else {
                            queue.remove(&key);
                        }
                    } else {
                        queue.remove(&key);
                    }
                }
                Notification::Deleted(pod) => {
                    queue.remove(&key);
                    let was_assigned = pod
                        .spec
                        .as_ref()
                        .and_then(|s| s.node_name.as_deref())
                        .is_some_and(|n| !n.is_empty());
                    cache::lock(&cache).remove_pod(&key);
                    if was_assigned {
                        queue.move_all_to_active_or_backoff();
                    }
                }
            }
        })
    };
    if let Err(e) = factory.wait_for_cache_sync(Duration::from_secs(120)).await {
        tracing::error!(error = %e, "informers did not sync");
        return;
    }
    tracing::info!(%identity, "scheduler started");
    let scheduler = Arc::new(Scheduler {
        recorder: EventRecorder::new(client.clone(), "default-scheduler", Some(&identity)),
        client,
        profiles,
        cache,
        queue: queue.clone(),
        percentage: settings.percentage,
        start: AtomicUsize::new(0),
        metrics,
    });
    let flush = queue.clone();
    tokio::select! {
        _ = scheduler.run() => {}
        _ = flush.run_flush() => {}
    }
    node_events.abort();
    pod_events.abort();
    factory.shutdown();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_as_upstream() {
        let o = Options::try_parse_from(["kube-scheduler"]).unwrap();
        assert!(o.leader_election.leader_elect);
        assert_eq!(o.secure_port, 10259);
        let o =
            Options::try_parse_from(["kube-scheduler", "--leader-elect=false", "--secure-port=0"])
                .unwrap();
        assert!(!o.leader_election.leader_elect);
        assert!(
            Options::try_parse_from(["kube-scheduler", "--leader-elect-lease-duration=5x"])
                .is_err()
        );
    }

    #[test]
    fn a_lease_shorter_than_the_renew_deadline_is_refused() {
        let o = Options::try_parse_from(["kube-scheduler", "--leader-elect-lease-duration=5s"])
            .unwrap();
        let err = o.settings().unwrap_err().to_string();
        assert!(
            err.contains("lease duration must be greater than renew deadline"),
            "{err}"
        );
    }
}
