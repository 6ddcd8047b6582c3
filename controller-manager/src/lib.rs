//! kube-controller-manager as a library: flags, the shared informers, the controllers that
//! `--controllers` turns on (each a work queue with `--concurrent-*-syncs` workers), leader
//! election, and `/healthz` + `/metrics` on 10257. `main.rs` parses flags and calls [`run`];
//! tests start it in process.

pub mod controllers;

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use client::{EventRecorder, SharedInformerFactory, WorkQueue};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Service, ServiceAccount};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::controllers::deployment::DeploymentController;
use crate::controllers::endpointslice::EndpointSliceController;
use crate::controllers::replicaset::ReplicaSetController;
use crate::controllers::serviceaccount::{RootCaPublisher, ServiceAccountController};
use crate::controllers::Controller;

/// Every controller's work queue by name, for the `workqueue_depth` metric.
type Queues = Arc<std::sync::Mutex<Vec<(&'static str, WorkQueue<String>)>>>;
/// A controller's start, run once the informers have synced.
type Starter = Box<dyn FnOnce(&mut Vec<tokio::task::JoinHandle<()>>) + Send>;

/// kube-controller-manager's flags, upstream's names and defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-controller-manager",
    version,
    about = "The Kubernetes controller manager: the control loops that drive the cluster to its desired state."
)]
pub struct Options {
    /// Path to a kubeconfig file with authorization and master location information.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Controllers to enable: '*' enables every default controller, 'foo' enables foo, '-foo' disables foo.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,
    #[command(flatten)]
    pub leader_election: client::daemon::LeaderElectionFlags,
    /// Deployments synced concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_deployment_syncs: usize,
    /// ReplicaSets synced concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_replicaset_syncs: usize,
    /// Services whose EndpointSlices are synced concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_service_endpoint_syncs: usize,
    /// Namespaces whose ServiceAccounts are synced concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_serviceaccount_syncs: usize,
    /// The root CA published as `kube-root-ca.crt` in every namespace (the publisher is off without it).
    #[arg(long)]
    pub root_ca_file: Option<PathBuf>,
    /// The port on which to serve HTTPS (/healthz, /metrics); 0 turns it off.
    #[arg(long, default_value_t = 10257)]
    pub secure_port: u16,
    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// Log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Options {
    /// Everything that can be checked before connecting anywhere.
    pub fn validate(&self) -> anyhow::Result<(Vec<&'static str>, Option<String>)> {
        let enabled = controllers::enabled(&self.controllers).map_err(anyhow::Error::msg)?;
        self.leader_election.config().map_err(anyhow::Error::msg)?;
        let ca = match &self.root_ca_file {
            Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
                anyhow::anyhow!("error reading root-ca-file at {}: {e}", p.display())
            })?),
            None => None,
        };
        Ok((enabled, ca))
    }
}

/// Runs the controllers until `shutdown` completes (or leadership is lost, an error: a fresh
/// process campaigns again, as upstream exits).
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let (enabled, ca) = opts.validate()?;
    let client = client::client_from_kubeconfig(opts.kubeconfig.as_deref(), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let queues: Queues = Arc::default();
    let registry = Registry::new();
    let depth = IntGaugeVec::new(
        Opts::new("workqueue_depth", "Current depth of workqueue"),
        &["name"],
    )?;
    registry.register(Box::new(depth.clone()))?;
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    let render = {
        let queues = queues.clone();
        Arc::new(move || {
            for (name, q) in queues.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                depth.with_label_values(&[name]).set(q.len() as i64);
            }
            let mut out = Vec::new();
            let _ = TextEncoder::new().encode(&registry.gather(), &mut out);
            out
        })
    };
    let serving = client::daemon::serve_health(opts.bind_address, opts.secure_port, render).await?;
    let identity = client::daemon::LeaderElectionFlags::identity();
    let work = controllers_loop(
        client.clone(),
        opts.clone(),
        enabled,
        ca,
        queues,
        identity.clone(),
    );
    let result = if opts.leader_election.leader_elect {
        let elector = client::LeaderElector::new(
            client,
            client::LeaseLock {
                namespace: opts.leader_election.resource_namespace.clone(),
                name: opts
                    .leader_election
                    .resource_name
                    .clone()
                    .unwrap_or_else(|| "kube-controller-manager".into()),
                identity,
            },
            opts.leader_election.config().map_err(anyhow::Error::msg)?,
        )?;
        match elector.run(shutdown, || work).await {
            client::leaderelection::Outcome::LostLeadership => {
                Err(anyhow::anyhow!("leaderelection lost"))
            }
            _ => Ok(()),
        }
    } else {
        tokio::select! {
            _ = work => Ok(()),
            _ = shutdown => Ok(()),
        }
    };
    serving.stop().await;
    result
}

/// A controller's start: its informer handlers, then `workers` tasks reconciling its keys.
/// Its queue is registered for the `workqueue_depth` metric at once.
fn starter<C: Controller>(name: &'static str, c: C, workers: usize, queues: &Queues) -> Starter {
    queues
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((name, c.queue().clone()));
    Box::new(move |tasks| {
        tasks.extend(c.watch());
        for _ in 0..workers.max(1) {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                let q = c.queue().clone();
                q.run_worker(|key| c.reconcile(key)).await;
            }));
        }
    })
}

/// The leader's work: informers, then each enabled controller's handlers and workers.
async fn controllers_loop(
    client: client::Client,
    opts: Options,
    enabled: Vec<&'static str>,
    ca: Option<String>,
    queues: Queues,
    identity: String,
) {
    let factory = SharedInformerFactory::new(client.clone());
    let recorder = |component: &str| EventRecorder::new(client.clone(), component, Some(&identity));
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let on = |name: &str| enabled.contains(&name);
    let mut pending: Vec<Starter> = Vec::new();

    if on("replicaset") {
        let c = ReplicaSetController {
            client: client.clone(),
            replicasets: factory.informer::<ReplicaSet>(),
            pods: factory.informer::<Pod>(),
            queue: WorkQueue::new(),
            expectations: client::Expectations::new(),
            recorder: recorder("replicaset-controller"),
        };
        pending.push(starter(
            "replicaset",
            c,
            opts.concurrent_replicaset_syncs,
            &queues,
        ));
    }
    if on("deployment") {
        let c = DeploymentController {
            client: client.clone(),
            deployments: factory.informer::<Deployment>(),
            replicasets: factory.informer::<ReplicaSet>(),
            pods: factory.informer::<Pod>(),
            queue: WorkQueue::new(),
            recorder: recorder("deployment-controller"),
        };
        pending.push(starter(
            "deployment",
            c,
            opts.concurrent_deployment_syncs,
            &queues,
        ));
    }
    if on("endpointslice") {
        let c = EndpointSliceController {
            client: client.clone(),
            services: factory.informer::<Service>(),
            pods: factory.informer::<Pod>(),
            slices: factory.informer::<EndpointSlice>(),
            queue: WorkQueue::new(),
        };
        pending.push(starter(
            "endpoint_slice",
            c,
            opts.concurrent_service_endpoint_syncs,
            &queues,
        ));
    }
    if on("serviceaccount") {
        let c = ServiceAccountController {
            client: client.clone(),
            namespaces: factory.informer::<Namespace>(),
            serviceaccounts: factory.informer::<ServiceAccount>(),
            queue: WorkQueue::new(),
        };
        pending.push(starter(
            "serviceaccount",
            c,
            opts.concurrent_serviceaccount_syncs,
            &queues,
        ));
    }
    if let (true, Some(ca)) = (on("root-ca-cert-publisher"), ca) {
        let c = RootCaPublisher {
            client: client.clone(),
            namespaces: factory.informer::<Namespace>(),
            configmaps: factory.informer::<ConfigMap>(),
            queue: WorkQueue::new(),
            ca,
        };
        pending.push(starter("root_ca_cert_publisher", c, 1, &queues));
    }
    // Controllers start once every informer has its first list, as upstream waits for sync.
    if let Err(e) = factory.wait_for_cache_sync(Duration::from_secs(120)).await {
        tracing::error!(error = %e, "informers did not sync");
        return;
    }
    for start in pending {
        start(&mut tasks);
    }
    tracing::info!(controllers = ?enabled, "controllers started");
    // Runs until the leader election (or shutdown) drops this future.
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_as_upstream_and_refused_early() {
        let o = Options::try_parse_from(["kube-controller-manager"]).unwrap();
        assert_eq!(o.secure_port, 10257);
        assert!(o.leader_election.leader_elect);
        assert_eq!(o.validate().unwrap().0.len(), controllers::KNOWN.len());
        let o =
            Options::try_parse_from(["kube-controller-manager", "--controllers=*,-bogus"]).unwrap();
        assert!(o
            .validate()
            .unwrap_err()
            .to_string()
            .contains("\"bogus\" is not in the list of known controllers"));
        let o = Options::try_parse_from([
            "kube-controller-manager",
            "--root-ca-file=/nonexistent/ca.crt",
        ])
        .unwrap();
        assert!(o
            .validate()
            .unwrap_err()
            .to_string()
            .contains("error reading root-ca-file"));
    }
}
