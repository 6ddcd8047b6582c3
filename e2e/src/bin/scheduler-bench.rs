//! scheduler-bench: upstream scheduler_perf's `SchedulingBasic` on this machine. etcd, our
//! kube-apiserver and our kube-scheduler run as processes of their own (release binaries next
//! to this one); nodes are API objects (no kubelet). It prints the raw rate at which the
//! apiserver accepts bindings with no scheduling at all, then the scheduler's throughput over
//! `--pods` pending pods (average and p50/p90/p99 over one-second windows, seen through a
//! watch) and its resident memory. Everything it starts is killed by PID at the end, also on
//! error or at `--time-limit`. All traffic stays on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::Client;
use serde_json::json;
use tokio::process::Command;

// The process helpers are apiserver-bench's; this binary uses some of them.
#[allow(dead_code)]
#[path = "apiserver-bench/procs.rs"]
mod procs;

use procs::{loadavg, raise_nofile, rss_kib, start_apiserver, start_etcd, Proc, Procs};

/// Benchmarks kube-scheduler's throughput against a real apiserver and etcd.
#[derive(Debug, Parser)]
#[command(name = "scheduler-bench")]
struct Args {
    /// Nodes (API objects with 4 cpu, 32 GiB and 110 pods allocatable).
    #[arg(long, default_value_t = 5000)]
    nodes: usize,
    /// Pods created already bound before the measurement.
    #[arg(long, default_value_t = 1000)]
    init_pods: usize,
    /// Pending pods the scheduler must place (the measured phase).
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// Pods bound directly for the raw binding rate.
    #[arg(long, default_value_t = 3000)]
    raw_bindings: usize,
    /// Concurrent clients creating objects and posting raw bindings.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Stop everything after this many seconds.
    #[arg(long, default_value_t = 480)]
    time_limit: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    raise_nofile(65536)?;
    let dir = tempfile::Builder::new()
        .prefix("scheduler-bench-")
        .tempdir()?;
    let mut procs = Procs::default();
    let limit = Duration::from_secs(args.time_limit);
    let result = match tokio::time::timeout(limit, run(&args, dir.path(), &mut procs)).await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!(
            "stopped at --time-limit {}s",
            args.time_limit
        )),
    };
    procs.stop_all().await;
    result
}

/// Runs `op(0..n)` on `c` concurrent tasks; returns operations per second.
async fn timed<F, Fut>(n: usize, c: usize, op: F) -> Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..c.max(1) {
        let (op, next) = (op.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                op(i).await.with_context(|| format!("operation {i}"))?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

fn pod_json(name: &str, node: Option<&str>) -> serde_json::Value {
    let mut spec = json!({"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.9",
        "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}]});
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

async fn create_namespace(client: &Client, name: &str) -> Result<()> {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    Ok(())
}

async fn create_pods(
    client: &Client,
    ns: &str,
    prefix: &str,
    n: usize,
    c: usize,
    nodes: usize,
) -> Result<f64> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let prefix = prefix.to_string();
    timed(n, c, move |i| {
        let api = api.clone();
        let name = format!("{prefix}-{i}");
        let node = (nodes > 0).then(|| format!("node-{}", i % nodes));
        async move {
            let pod: Pod = serde_json::from_value(pod_json(&name, node.as_deref()))?;
            api.create(&PostParams::default(), &pod).await?;
            Ok(())
        }
    })
    .await
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn start_scheduler(procs: &mut Procs, dir: &Path) -> Result<usize> {
    let exe = std::env::current_exe()?
        .parent()
        .context("the bench binary has a directory")?
        .join("kube-scheduler");
    if !exe.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p scheduler --bin kube-scheduler`",
            exe.display()
        );
    }
    let log = dir.join("scheduler.log");
    let file = std::fs::File::create(&log)?;
    let child = Command::new(&exe)
        .arg(format!("--kubeconfig={}", dir.join("kubeconfig").display()))
        .arg("--secure-port=0")
        .arg("--leader-elect=false")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let pid = child.id().context("kube-scheduler has a pid")?;
    procs.0.push(Proc::new("kube-scheduler", child, pid, log));
    eprintln!("kube-scheduler started (pid {pid})");
    Ok(procs.0.len() - 1)
}

async fn run(args: &Args, dir: &Path, procs: &mut Procs) -> Result<()> {
    let (_, etcd) = start_etcd(procs, dir).await?;
    let (_, client) = start_apiserver(procs, dir, &etcd, None).await?;
    let c = args.concurrency;

    // Nodes, as a kubelet would register them.
    let nodes: Api<Node> = Api::all(client.clone());
    let t = Instant::now();
    let api = nodes.clone();
    timed(args.nodes, c, move |i| {
        let api = api.clone();
        async move {
            let name = format!("node-{i}");
            let node: Node = serde_json::from_value(json!({"metadata": {"name": name,
                "labels": {"kubernetes.io/hostname": name}}}))?;
            api.create(&PostParams::default(), &node).await?;
            let status = json!({"status": {
                "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}]}});
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(status)).await?;
            Ok(())
        }
    })
    .await?;
    eprintln!("{} nodes in {:.1}s", args.nodes, t.elapsed().as_secs_f64());
    create_namespace(&client, "init").await?;
    create_pods(&client, "init", "init", args.init_pods, c, args.nodes).await?;
    eprintln!("{} initial pods bound", args.init_pods);

    // The ceiling: bindings posted directly, no scheduling.
    create_namespace(&client, "raw").await?;
    create_pods(&client, "raw", "raw", args.raw_bindings, c, 0).await?;
    let api: Api<Pod> = Api::namespaced(client.clone(), "raw");
    let n_nodes = args.nodes;
    let raw_rate = timed(args.raw_bindings, c, move |i| {
        let api = api.clone();
        async move {
            let binding = json!({"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": format!("raw-{i}")},
                "target": {"apiVersion": "v1", "kind": "Node", "name": format!("node-{}", i % n_nodes)}});
            api.create_subresource::<_, serde_json::Value>("binding", &format!("raw-{i}"), &PostParams::default(), &binding)
                .await?;
            Ok(())
        }
    })
    .await?;
    eprintln!("raw bindings: {raw_rate:.0}/s");

    // The measured phase: the scheduler places --pods pending pods, counted through a watch.
    create_namespace(&client, "measured").await?;
    let sched = start_scheduler(procs, dir).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "measured");
    let stream = pods.watch(&WatchParams::default(), "0").await?.boxed();
    let want = args.pods;
    let counter = tokio::spawn(async move {
        let mut stream = stream;
        let mut bound = std::collections::HashSet::new();
        let mut per_second: BTreeMap<u64, usize> = BTreeMap::new();
        let mut first: Option<Instant> = None;
        while let Some(ev) = stream.try_next().await? {
            if let WatchEvent::Added(p) | WatchEvent::Modified(p) = ev {
                let on_node = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
                if on_node && bound.insert(p.metadata.name.clone().unwrap_or_default()) {
                    let start = *first.get_or_insert_with(Instant::now);
                    *per_second.entry(start.elapsed().as_secs()).or_default() += 1;
                    if bound.len() >= want {
                        return Ok::<_, anyhow::Error>((start.elapsed(), per_second));
                    }
                }
            }
        }
        bail!("watch ended after {} bound pods", bound.len())
    });
    let t = Instant::now();
    let create_rate = create_pods(&client, "measured", "p", args.pods, c, 0).await?;
    eprintln!("{} pending pods created at {create_rate:.0}/s", args.pods);
    let (took, per_second) = counter.await??;
    let total = t.elapsed();
    let sched_pid = procs.get(sched).pid;
    let rss = rss_kib(sched_pid).unwrap_or(0) as f64 / 1024.0;
    // Full one-second windows only (the last one is partial).
    let mut windows: Vec<f64> = per_second.values().map(|v| *v as f64).collect();
    windows.pop();
    windows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let avg = args.pods as f64 / took.as_secs_f64();
    println!("== scheduler-bench (SchedulingBasic): {} nodes, {} initial pods, {} pods to schedule; load {}", args.nodes, args.init_pods, args.pods, loadavg());
    println!("raw bindings (no scheduling):   {raw_rate:.0}/s at concurrency {c}");
    println!(
        "scheduled:                      {avg:.0} pods/s average (first to last binding, {:.1}s; {:.1}s from the first create)",
        took.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "per one-second window:          p50 {:.0}  p90 {:.0}  p99 {:.0} pods/s ({} windows)",
        percentile(&windows, 0.5),
        percentile(&windows, 0.9),
        percentile(&windows, 0.99),
        windows.len()
    );
    println!("ratio to raw bindings:          {:.2}", avg / raw_rate);
    println!("pending pods created at:        {create_rate:.0}/s");
    println!("kube-scheduler RSS:             {rss:.1} MiB");
    Ok(())
}
