//! kubectl-bench: our kubectl beside upstream kubectl on the same cluster, one run each:
//! wall time and peak resident memory of `get pods -A` over many pods, and of `apply -f` of a
//! folder of 100 objects (first apply: creates; second: nothing changed; third: one field
//! changed in every object), client-side and server-side.
//!
//! It starts its own etcd and apiserver (in this process) on loopback and stops them at the
//! end, also on error. Build it and our kubectl in release mode first:
//! `cargo build --release -p e2e --bin kubectl-bench -p kubectl`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use e2e::TestCluster;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use serde_json::json;

/// Times our kubectl and upstream kubectl on the same calls.
#[derive(Debug, Parser)]
#[command(name = "kubectl-bench")]
struct Args {
    /// Pods stored for `get pods -A`.
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// Objects in the applied folder (half ConfigMaps, half Deployments).
    #[arg(long, default_value_t = 100)]
    objects: usize,
    /// Our kubectl (default: `kubectl` next to this binary).
    #[arg(long)]
    ours: Option<PathBuf>,
    /// Upstream kubectl's minor version to compare with.
    #[arg(long, default_value_t = 33)]
    upstream_minor: u32,
}

/// One finished command: wall time and the child's peak resident set.
struct Run {
    wall: Duration,
    max_rss_kib: i64,
}

/// Runs a command to completion with stdout discarded, under GNU time for its peak resident
/// set; fails on a non-zero exit.
fn measure(bin: &Path, kubeconfig: &Path, args: &[&str]) -> Result<Run> {
    let stats = kubeconfig.with_file_name("time.out");
    let start = Instant::now();
    let out = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&stats)
        .arg(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", kubeconfig.parent().unwrap_or(Path::new("/tmp")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {} under {GNU_TIME}", bin.display()))?;
    let wall = start.elapsed();
    if !out.status.success() {
        bail!(
            "{} {args:?} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let max_rss_kib = std::fs::read_to_string(&stats)?
        .trim()
        .parse()
        .context("reading GNU time's %M")?;
    Ok(Run { wall, max_rss_kib })
}

/// Writes `n` objects (ConfigMaps and Deployments, no namespace) into `dir`, one file each;
/// `generation` goes into a field of every object so a later run changes each of them.
fn write_manifests(dir: &Path, n: usize, generation: u32) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for i in 0..n {
        let doc = if i % 2 == 0 {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels: {{app: bench}}\n\
                 data:\n  index: \"{i}\"\n  generation: \"{generation}\"\n"
            )
        } else {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  labels: {{app: bench}}\n\
                 spec:\n  replicas: {generation}\n  selector: {{matchLabels: {{app: web-{i}}}}}\n  template:\n    \
                 metadata: {{labels: {{app: web-{i}}}}}\n    spec:\n      containers:\n      - name: nginx\n        \
                 image: nginx:1.27\n        ports: [{{containerPort: 80}}]\n        env: [{{name: INDEX, value: \"{i}\"}}]\n"
            )
        };
        std::fs::write(dir.join(format!("obj-{i:03}.yaml")), doc)?;
    }
    Ok(())
}

/// GNU time (Debian package `time`), for a child's peak resident set.
const GNU_TIME: &str = "/usr/bin/time";

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let ours = match args.ours.clone() {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("the benchmark binary has a directory")?
            .join("kubectl"),
    };
    if !Path::new(GNU_TIME).exists() {
        bail!("{GNU_TIME} is missing (apt-get install time)");
    }
    if !ours.exists() {
        bail!(
            "our kubectl is not at {} (cargo build --release -p kubectl)",
            ours.display()
        );
    }
    let upstream = e2e::upstream_kubectl(args.upstream_minor).with_context(|| {
        format!(
            "upstream kubectl 1.{} is not installed next to `kubectl`",
            args.upstream_minor
        )
    })?;
    let cluster = TestCluster::start().await?;
    let result = run(&cluster, &args, &ours, &upstream).await;
    cluster.stop().await;
    result
}

async fn run(cluster: &TestCluster, args: &Args, ours: &Path, upstream: &Path) -> Result<()> {
    let kc = &cluster.kubeconfig;
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(kc)?,
        &Default::default(),
    )
    .await?;
    let client = kube::Client::try_from(config)?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in [
        "pods",
        "apply-ours",
        "apply-upstream",
        "ssa-ours",
        "ssa-upstream",
    ] {
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns}}))?,
            )
            .await?;
    }

    println!("storing {} pods ...", args.pods);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "pods");
    let start = Instant::now();
    futures::stream::iter(0..args.pods)
        .map(|i| {
            let pods = pods.clone();
            async move {
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {"name": format!("pod-{i:05}"), "labels": {"app": "bench"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                             "command": ["sleep", "3600"]}]}
                }))?;
                pods.create(&PostParams::default(), &pod).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<()>()
        .await?;
    println!("  stored in {:.1} s", start.elapsed().as_secs_f64());

    let tools = [("ours", ours), ("upstream 1.33", upstream)];
    println!();
    println!(
        "{:<56} {:>16} {:>16}",
        "call", "ours s / MiB", "upstream s / MiB"
    );
    let report = |what: &str, a: &Run, b: &Run| {
        println!(
            "{what:<56} {:>7.2} / {:>6.1} {:>7.2} / {:>6.1}",
            a.wall.as_secs_f64(),
            mib(a.max_rss_kib),
            b.wall.as_secs_f64(),
            mib(b.max_rss_kib)
        );
    };
    for call in [
        &["get", "pods", "-A"][..],
        &["get", "pods", "-A", "-o", "name"],
    ] {
        // Warm the page cache and the discovery cache of each, then measure.
        for (_, bin) in tools {
            measure(bin, kc, call)?;
        }
        let a = measure(ours, kc, call)?;
        let b = measure(upstream, kc, call)?;
        report(&format!("{} ({} pods)", call.join(" "), args.pods), &a, &b);
    }

    let dir = cluster.dir.path().join("manifests");
    for (mode, extra) in [("apply", &[][..]), ("ssa", &["--server-side"][..])] {
        for (step, generation) in [("create", 1), ("unchanged", 1), ("one field changed", 2)] {
            write_manifests(&dir, args.objects, generation)?;
            let dir_s = dir.display().to_string();
            let mut runs = Vec::new();
            for (who, bin) in [("ours", ours), ("upstream", upstream)] {
                let ns = format!("{mode}-{who}");
                let mut call = vec!["apply", "-f", &dir_s, "-n", &ns];
                call.extend_from_slice(extra);
                runs.push(measure(bin, kc, &call)?);
            }
            report(
                &format!(
                    "apply -f {} objects {}: {step}",
                    args.objects,
                    extra.join(" ")
                ),
                &runs[0],
                &runs[1],
            );
        }
    }
    // Both applied the same objects: check the namespaces hold the same content.
    for mode in ["apply", "ssa"] {
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(client.clone(), &format!("{mode}-ours"));
        let theirs: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(client.clone(), &format!("{mode}-upstream"));
        let a: Vec<_> = cms
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .map(|c| c.data)
            .collect();
        let b: Vec<_> = theirs
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .map(|c| c.data)
            .collect();
        if a != b {
            bail!("{mode}: our kubectl and upstream's left different ConfigMaps");
        }
    }
    Ok(())
}
