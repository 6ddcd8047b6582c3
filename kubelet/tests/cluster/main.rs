//! The whole-cluster test: brings one cluster up on this machine (etcd, the apiserver on the
//! test network's host address, a control-plane node and a worker, each a network namespace
//! with its own containerd and our kubelet), runs every scenario of the modules below in
//! turn, always tears the cluster down, and exits non-zero if any scenario failed.
//!
//! `cargo test -p kubelet --test cluster [-- FILTER...]` runs the scenarios whose name
//! contains one of the filters (all without one). Needs root (namespaces, mounts, cgroups).

mod network;
mod pods;
mod streams;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::Result;
use e2e::node::{ClusterConfig, NodeCluster};

/// A scenario's future; it borrows the context for its whole run.
pub type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// One named check run against the shared cluster. A scenario leaves the cluster as it found
/// it (deletes its pods, restarts what it stopped), since the next one runs on it too.
pub struct Scenario {
    pub name: &'static str,
    /// Written `|ctx| Box::pin(my_scenario(ctx))` with `async fn my_scenario(ctx: &mut Ctx)`.
    pub run: for<'a> fn(&'a mut Ctx) -> ScenarioFuture<'a>,
    /// How long it may take before it counts as failed (a hang must not stall the run).
    pub timeout: Duration,
}

/// What every scenario gets: the cluster (nodes, kubeconfig, ...), a client, the kubelet.
pub struct Ctx {
    pub cluster: NodeCluster,
    /// A kube-rs client on the cluster's kubeconfig (token user, `default` namespace).
    pub client: kube::Client,
    /// The kubelet binary this test was built with.
    pub kubelet: PathBuf,
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("building the test's runtime");
    let code = runtime.block_on(run(filters));
    runtime.shutdown_timeout(Duration::from_secs(5));
    std::process::exit(code);
}

async fn run(filters: Vec<String>) -> i32 {
    let all: Vec<&Scenario> = network::SCENARIOS
        .iter()
        .chain(pods::SCENARIOS)
        .chain(streams::SCENARIOS)
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.name.contains(f.as_str())))
        .collect();
    if all.is_empty() {
        println!("cluster: no scenario matches {filters:?}");
        return 0;
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("cluster: needs root (network namespaces, mounts, cgroups)");
        return 1;
    }
    let started = Instant::now();
    let cluster = match NodeCluster::start(ClusterConfig {
        workers: 1,
        ..Default::default()
    })
    .await
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cluster: bringing the cluster up failed: {e:#}");
            return 1;
        }
    };
    let kubelet = PathBuf::from(env!("CARGO_BIN_EXE_kubelet"));
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let mut ctx = Ctx {
        cluster,
        client,
        kubelet,
    };
    if let Err(e) = ctx.cluster.start_kubelets(&ctx.kubelet, &[]) {
        eprintln!("cluster: starting the kubelets failed: {e:#}");
    }
    // A kubelet that exits at once (a bad flag, say) fails the pod scenarios; say why early.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for node in &mut ctx.cluster.nodes {
        if !node.kubelet_running() {
            println!(
                "cluster: the kubelet of {} exited at start: {}",
                node.name,
                e2e::node::tail(&node.kubelet_log(), 5)
            );
        }
    }
    println!(
        "cluster: up in {:.1}s (id {}, nodes {})",
        started.elapsed().as_secs_f64(),
        ctx.cluster.id,
        ctx.cluster
            .nodes
            .iter()
            .map(|n| format!("{} {}", n.name, n.ip))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut failed = Vec::new();
    for s in &all {
        let t = Instant::now();
        let result = match tokio::time::timeout(s.timeout, (s.run)(&mut ctx)).await {
            Ok(r) => r,
            Err(_) => Err(anyhow::anyhow!("timed out after {:?}", s.timeout)),
        };
        let secs = t.elapsed().as_secs_f64();
        match result {
            Ok(()) => println!("scenario {} ... ok ({secs:.1}s)", s.name),
            Err(e) => {
                println!("scenario {} ... FAILED ({secs:.1}s): {e:#}", s.name);
                failed.push(s.name);
            }
        }
    }
    if !failed.is_empty() {
        // What the kubelets said helps more than anything else when a scenario failed.
        for node in &mut ctx.cluster.nodes {
            let state = if node.kubelet_running() {
                "running"
            } else {
                "not running"
            };
            println!(
                "--- kubelet of {} ({state}), last lines of {}:\n{}",
                node.name,
                node.kubelet_log().display(),
                e2e::node::tail(&node.kubelet_log(), 30)
            );
        }
    }
    let t = Instant::now();
    let teardown = ctx.cluster.stop().await;
    println!("cluster: torn down in {:.1}s", t.elapsed().as_secs_f64());
    let mut code = 0;
    if let Err(e) = teardown {
        println!("cluster: teardown: {e:#}");
        code = 1;
    }
    println!(
        "cluster: {} scenarios, {} passed, {} failed{}; {:.1}s in all",
        all.len(),
        all.len() - failed.len(),
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        },
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        code = 1;
    }
    code
}
