//! apiserver-bench: throughput, latency and memory figures for our kube-apiserver against a
//! real etcd, in one run on one machine. Raw etcd puts are the baseline for pod creates; then
//! GET latency, full and paged LISTs of many pods, watch fan-out delivery latency, the
//! apiserver's resident memory, and last the other write paths (bindings, status updates,
//! merge patches; `apiserver-bench/writes.rs`) beside raw etcd update transactions. The
//! apiserver runs as its own process (the `kube-apiserver` binary next to this one) so its
//! memory and CPU time are its own; every process started is killed by PID at the end, also on
//! error or at `--time-limit` (`apiserver-bench/procs.rs`). All traffic stays on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures::AsyncBufReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::Client;
use serde::Deserialize;
use serde_json::{json, Value};

// Paths, not `mod x;` files next to this one: cargo would take `src/bin/x.rs` for a binary of
// its own.
#[path = "apiserver-bench/procs.rs"]
mod procs;
#[path = "apiserver-bench/writes.rs"]
mod writes;

use procs::{
    fd_count, loadavg, raise_nofile, rss_kib, start_apiserver, start_etcd, CpuMeter, PerfRecord,
    Procs,
};

/// Benchmarks kube-apiserver against a raw etcd baseline.
#[derive(Debug, Parser)]
#[command(name = "apiserver-bench")]
struct Args {
    /// Concurrent clients for etcd puts and apiserver creates.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Puts (raw etcd) and pod creates (apiserver) to time.
    #[arg(long, default_value_t = 5000)]
    creates: usize,
    /// Pods stored for the GET/LIST/memory figures (topped up after the timed creates).
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// Concurrent watchers for the fan-out figure.
    #[arg(long, default_value_t = 1000)]
    watchers: usize,
    /// Writes the watchers must each see.
    #[arg(long, default_value_t = 20)]
    watch_writes: usize,
    /// Sequential GETs of one pod.
    #[arg(long, default_value_t = 2000)]
    gets: usize,
    /// Pods bound, then status-updated (PUT /status), then merge-patched, one request each
    /// per phase (at most the pods stored), each phase beside raw etcd update transactions.
    #[arg(long, default_value_t = 5000)]
    updates: usize,
    /// Passed to kube-apiserver as --workers (default: its own, one per CPU).
    #[arg(long)]
    apiserver_workers: Option<usize>,
    /// Seconds the whole run may take; past it, everything started is stopped and the figures
    /// so far are printed.
    #[arg(long, default_value_t = 480)]
    time_limit: u64,
    /// Records the apiserver with `perf record` during one timed phase into this file (then
    /// `perf report -i FILE --no-children`).
    #[arg(long)]
    perf_record: Option<PathBuf>,
    /// The phase `--perf-record` records.
    #[arg(long, value_enum, default_value_t = Profiled::Creates)]
    perf_phase: Profiled,
}

/// A timed apiserver phase that `--perf-record` can record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Profiled {
    Creates,
    Bindings,
    Status,
    Patches,
}

const NAMESPACE: &str = "bench";
/// Upper bound for any one phase.
const PHASE_TIMEOUT: Duration = Duration::from_secs(900);

/// The apiserver's own count of open pod watches (`apiserver_longrunning_requests`).
async fn server_pod_watches(client: &Client) -> Option<i64> {
    let text = get_text(client, "/metrics").await.ok()?;
    Some(
        text.lines()
            .filter(|l| l.starts_with("apiserver_longrunning_requests{"))
            .filter(|l| l.contains("\"WATCH\"") && l.contains("resource=\"pods\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
            .sum(),
    )
}

// ----- objects ---------------------------------------------------------------------------------

/// A pod as a Deployment's ReplicaSet makes it, with the fields upstream's defaulting and
/// service-account admission add: about 2 KB of JSON.
fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "generateName": "web-7d9f8b6c5d-",
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8b6c5d"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8b6c5d",
                "uid": "4c5d3a8e-9b1f-4f0e-8a57-2f6d1c9e7b30",
                "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "containers": [{
                "name": "web",
                "image": "registry.example.com/team/web:1.24.3",
                "imagePullPolicy": "IfNotPresent",
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
                ],
                "env": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
                ],
                "resources": {
                    "requests": {"cpu": "250m", "memory": "256Mi"},
                    "limits": {"cpu": "1", "memory": "512Mi"}
                },
                "volumeMounts": [
                    {"name": "kube-api-access-x7k2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}
                ],
                "readinessProbe": {
                    "httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
                    "timeoutSeconds": 1, "periodSeconds": 5,
                    "successThreshold": 1, "failureThreshold": 3
                },
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }],
            "volumes": [
                {"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
                ]}}
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "enableServiceLinks": true
        }
    })
}

/// The name of the `i`th benchmark pod.
fn pod_name(i: usize) -> String {
    format!("web-7d9f8b6c5d-{i:05}")
}

/// The pod as the apiserver would store it (server-set metadata and status added).
fn stored_pod(name: &str, i: usize) -> Vec<u8> {
    let mut p = pod(name);
    p["metadata"]["uid"] = json!(format!("0f1e2d3c-4b5a-4978-8695-{i:012}"));
    p["metadata"]["creationTimestamp"] = json!("2025-05-01T10:00:00Z");
    p["status"] = json!({"phase": "Pending", "qosClass": "Burstable"});
    serde_json::to_vec(&p).expect("JSON values serialize")
}

// ----- statistics ------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib_kib(kib: Option<u64>) -> String {
    match kib {
        Some(k) => format!("{:.1} MiB", k as f64 / 1024.0),
        None => "n/a".into(),
    }
}

/// The figures, in the order they are printed, and a summary of the write paths after them.
#[derive(Default)]
struct Report(Vec<(String, String)>, Vec<String>);

impl Report {
    fn add(&mut self, k: impl Into<String>, v: impl Into<String>) {
        let (k, v) = (k.into(), v.into());
        eprintln!("  {k}: {v}");
        self.0.push((k, v));
    }

    /// One line of the write-path summary (apiserver beside raw etcd).
    fn summary(&mut self, line: String) {
        self.1.push(line);
    }

    fn print(&self) {
        let width = self.0.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        println!();
        println!("==== apiserver-bench results ====");
        for (k, v) in &self.0 {
            println!("{k:<width$} : {v}");
        }
        if !self.1.is_empty() {
            println!();
            println!(
                "==== write paths: apiserver beside raw etcd (same run, same concurrency) ===="
            );
            println!(
                "(etcd put: the fresh baseline etcd; etcd update txn: mod-revision compare on \
                 copies of the pods' stored bytes, on the apiserver's etcd, apiserver idle. \
                 Goals: creates >= 0.5 x etcd put, apiserver CPU per create < 250 µs)"
            );
            for line in &self.1 {
                println!("{line}");
            }
        }
    }
}

/// Result of a throughput run: ops/s and sorted per-op latencies.
struct Throughput {
    per_sec: f64,
    wall: Duration,
    lat: Vec<Duration>,
}

impl Throughput {
    /// "ops/s  (wall, p50, p99; CPU/op: ...)".
    fn describe(&self, cpu: &str) -> String {
        format!(
            "{:.0}  (wall {:.2}s, p50 {}, p99 {}; CPU/op: {cpu})",
            self.per_sec,
            self.wall.as_secs_f64(),
            ms(percentile(&self.lat, 50.0)),
            ms(percentile(&self.lat, 99.0))
        )
    }
}

// ----- etcd baseline ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum EtcdMode {
    /// Plain puts, all tasks sharing one client (one HTTP/2 connection).
    PutShared,
    /// Plain puts, each task with its own client connection.
    PutPerTask,
    /// The apiserver's create transaction (create_revision == 0 → put, else get), shared client.
    TxnShared,
}

async fn etcd_throughput(url: &str, mode: EtcdMode, n: usize, c: usize) -> Result<Throughput> {
    let shared = etcd_client::Client::connect([url], None).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let tag = format!("{mode:?}").to_lowercase();
    // Values built up front so the timed loop only talks to etcd.
    let values: Arc<Vec<Vec<u8>>> = Arc::new((0..n).map(|i| stored_pod(&pod_name(i), i)).collect());
    let mut clients = Vec::with_capacity(c);
    for _ in 0..c {
        clients.push(match mode {
            EtcdMode::PutPerTask => etcd_client::Client::connect([url], None).await?,
            _ => shared.clone(),
        });
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut client in clients {
        let next = next.clone();
        let values = values.clone();
        let tag = tag.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= values.len() {
                    return Ok::<_, etcd_client::Error>(lat);
                }
                let key = format!("/registry/pods/{tag}/{}", pod_name(i));
                let value = values[i].clone();
                let t = Instant::now();
                match mode {
                    EtcdMode::PutShared | EtcdMode::PutPerTask => {
                        client.put(key, value, None).await?;
                    }
                    EtcdMode::TxnShared => {
                        use etcd_client::{Compare, CompareOp, Txn, TxnOp};
                        let txn = Txn::new()
                            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                            .and_then([TxnOp::put(key.clone(), value, None)])
                            .or_else([TxnOp::get(key, None)]);
                        let r = client.txn(txn).await?;
                        assert!(r.succeeded(), "fresh keys are created");
                    }
                }
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        lat.extend(t.await??);
    }
    let wall = started.elapsed();
    lat.sort();
    Ok(Throughput {
        per_sec: n as f64 / wall.as_secs_f64(),
        wall,
        lat,
    })
}

// ----- apiserver -------------------------------------------------------------------------------

fn pods_path() -> String {
    format!("/api/v1/namespaces/{NAMESPACE}/pods")
}

async fn post_json(client: &Client, path: &str, body: Vec<u8>) -> Result<String, kube::Error> {
    let req = http::Request::post(path)
        .header("Content-Type", "application/json")
        .body(body)
        .expect("valid request");
    client.request_text(req).await
}

/// Creates pods `first..first+n` (names `web-7d9f8b6c5d-<i>`) with `c` concurrent clients.
/// Bodies are serialized up front, so the timed loop is the HTTPS round trip.
async fn create_pods(client: &Client, first: usize, n: usize, c: usize) -> Result<Throughput> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (first..first + n)
            .map(|i| serde_json::to_vec(&pod(&pod_name(i))).expect("JSON values serialize"))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c {
        let client = client.clone();
        let next = next.clone();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let path = pods_path();
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    return Ok::<_, kube::Error>(lat);
                }
                let t = Instant::now();
                post_json(&client, &path, bodies[i].clone()).await?;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        lat.extend(t.await??);
    }
    let wall = started.elapsed();
    lat.sort();
    Ok(Throughput {
        per_sec: n as f64 / wall.as_secs_f64(),
        wall,
        lat,
    })
}

#[derive(Deserialize)]
struct ListBody {
    metadata: ListMeta,
    items: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ListMeta {
    #[serde(rename = "resourceVersion")]
    resource_version: Option<String>,
    #[serde(rename = "continue")]
    cont: Option<String>,
}

async fn get_text(client: &Client, path: &str) -> Result<String> {
    let req = http::Request::get(path).body(Vec::new())?;
    Ok(client.request_text(req).await?)
}

/// One full list: wall time, bytes, items.
async fn full_list(client: &Client) -> Result<(Duration, usize, usize)> {
    let t = Instant::now();
    let text = get_text(client, &pods_path()).await?;
    let wall = t.elapsed();
    let body: ListBody = serde_json::from_str(&text)?;
    Ok((wall, text.len(), body.items.len()))
}

/// A paged list as kubectl does it: wall time, pages, bytes, items.
async fn paged_list(client: &Client, limit: usize) -> Result<(Duration, usize, usize, usize)> {
    let t = Instant::now();
    let (mut pages, mut bytes, mut items) = (0, 0, 0);
    let mut cont: Option<String> = None;
    loop {
        let mut path = format!("{}?limit={limit}", pods_path());
        if let Some(c) = &cont {
            path.push_str("&continue=");
            path.push_str(&url_escape(c));
        }
        let text = get_text(client, &path).await?;
        let body: ListBody = serde_json::from_str(&text)?;
        pages += 1;
        bytes += text.len();
        items += body.items.len();
        match body.metadata.cont.filter(|c| !c.is_empty()) {
            Some(c) => cont = Some(c),
            None => break,
        }
        if pages > 100_000 {
            bail!("paged list did not end");
        }
    }
    Ok((t.elapsed(), pages, bytes, items))
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ----- watch fan-out ---------------------------------------------------------------------------

/// The `k` of an ADDED event for pod `watch-<k>`. A byte search rather than a JSON parse, so
/// the bench's 1,000 watchers cost the shared CPUs as little as possible: the pod's name is
/// the only `"name":"watch-` in its JSON.
fn watch_write_index(line: &[u8]) -> Option<usize> {
    const ADDED: &[u8] = b"{\"type\":\"ADDED\"";
    const NAME: &[u8] = b"\"name\":\"watch-";
    if !line.starts_with(ADDED) {
        return None;
    }
    let at = line.windows(NAME.len()).position(|w| w == NAME)? + NAME.len();
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

struct FanOut {
    open_wall: Duration,
    opened: usize,
    failed: usize,
    delivered: usize,
    expected: usize,
    lat: Vec<Duration>,
    write_lat: Vec<Duration>,
    apiserver_rss_watching: Option<u64>,
    /// p99 over the deliveries of every write but the first.
    warm_p99: Duration,
    /// Median over writes of the first and of the last watcher's delivery latency.
    first_median: Duration,
    last_median: Duration,
    /// The apiserver's gauge of open pod watches while all were open.
    server_watches_open: Option<i64>,
    apiserver_fds_watching: Option<usize>,
    /// CPU used from the first write until every event was delivered.
    cpu: String,
}

async fn watch_fan_out(
    client: &Client,
    watchers: usize,
    writes: usize,
    apiserver_pid: u32,
    cpu_of: &[(&str, String)],
) -> Result<FanOut> {
    // A list's resourceVersion, as an informer starts its watch from.
    let text = get_text(client, &format!("{}?limit=1", pods_path())).await?;
    let body: ListBody = serde_json::from_str(&text)?;
    let rv = body
        .metadata
        .resource_version
        .context("a list has a resourceVersion")?;
    let path = format!(
        "{}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=600",
        pods_path()
    );
    let opened = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Opening 1,000 TLS connections at once would overrun the accept backlog; 64 at a time.
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let client = client.clone();
        let path = path.clone();
        let (opened, failed, delivered) = (opened.clone(), failed.clone(), delivered.clone());
        let gate = gate.clone();
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut got: Vec<(usize, Instant)> = Vec::with_capacity(writes);
            let permit = gate.acquire_owned().await;
            let req = http::Request::get(path.as_str())
                .body(Vec::new())
                .expect("valid request");
            let stream = match client.request_stream(req).await {
                Ok(s) => s,
                Err(e) => {
                    failed.fetch_add(1, Ordering::SeqCst);
                    return Err(anyhow::anyhow!("opening a watch: {e}"));
                }
            };
            drop(permit);
            opened.fetch_add(1, Ordering::SeqCst);
            let mut stream = Box::pin(stream);
            let mut line = Vec::new();
            // Read until told to stop, not until the last expected event: closing 1,000 TLS
            // connections while the last write is still being delivered would slow it down.
            loop {
                line.clear();
                let read = tokio::select! {
                    r = stream.read_until(b'\n', &mut line) => r,
                    _ = stop.changed() => break,
                };
                let now = Instant::now();
                match read {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => return Err(anyhow::anyhow!("reading a watch: {e}")),
                }
                let Some(k) = watch_write_index(&line) else {
                    continue;
                };
                got.push((k, now));
                delivered.fetch_add(1, Ordering::Relaxed);
            }
            Ok(got)
        }));
    }
    // Wait until every watch is open (its response headers arrived, so it is subscribed).
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (o, f) = (opened.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
        if o + f >= watchers {
            break;
        }
        if Instant::now() > deadline {
            let _ = stop_tx.send(true);
            for t in &tasks {
                t.abort();
            }
            bail!("only {o} of {watchers} watches opened within 180s ({f} failed)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open_wall = started.elapsed();
    let n_open = opened.load(Ordering::SeqCst);
    let n_failed = failed.load(Ordering::SeqCst);
    eprintln!("{n_open} watches open in {open_wall:?} ({n_failed} failed)");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let apiserver_rss_watching = rss_kib(apiserver_pid);
    let server_watches_open = server_pod_watches(client).await;
    let apiserver_fds_watching = fd_count(apiserver_pid);

    // The writes, ~100 ms apart; the time is taken just before each request is sent.
    let cpu = CpuMeter::start(cpu_of);
    let sent: Arc<Mutex<BTreeMap<usize, Instant>>> = Arc::default();
    let mut write_lat = Vec::with_capacity(writes);
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    for k in 0..writes {
        ticker.tick().await;
        let body = serde_json::to_vec(&pod(&format!("watch-{k:02}")))?;
        let t = Instant::now();
        sent.lock().expect("not poisoned").insert(k, t);
        post_json(client, &pods_path(), body).await?;
        write_lat.push(t.elapsed());
    }
    // Wait for every delivery, or 30 s.
    let expected = n_open * writes;
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu = cpu.total();
    let _ = stop_tx.send(true);
    let sent = sent.lock().expect("not poisoned").clone();
    let mut lat = Vec::with_capacity(expected);
    let mut per_write: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    let mut delivered_n = 0;
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(Ok(got))) => {
                for (k, at) in got {
                    if let Some(s) = sent.get(&k) {
                        let d = at.saturating_duration_since(*s);
                        lat.push(d);
                        per_write.entry(k).or_default().push(d);
                        delivered_n += 1;
                    }
                }
            }
            Ok(Ok(Err(e))) => eprintln!("watcher: {e:#}"),
            Ok(Err(e)) => eprintln!("watcher task: {e}"),
            Err(_) => eprintln!("watcher did not stop"),
        }
    }
    lat.sort();
    // Per write: when the first and the last watcher had it, against the write's own latency.
    let mut firsts = Vec::new();
    let mut lasts = Vec::new();
    for (k, ds) in &mut per_write {
        ds.sort();
        let (first, last) = (ds[0], ds[ds.len() - 1]);
        firsts.push(first);
        lasts.push(last);
        eprintln!(
            "  write {k:2}: create took {}, delivered to {} watchers: first {}, p50 {}, last {}",
            ms(write_lat.get(*k).copied().unwrap_or_default()),
            ds.len(),
            ms(first),
            ms(percentile(ds, 50.0)),
            ms(last)
        );
    }
    firsts.sort();
    lasts.sort();
    let mut warm: Vec<Duration> = per_write
        .iter()
        .filter(|(k, _)| **k > 0)
        .flat_map(|(_, ds)| ds.iter().copied())
        .collect();
    warm.sort();
    write_lat.sort();
    Ok(FanOut {
        open_wall,
        opened: n_open,
        failed: n_failed,
        delivered: delivered_n,
        expected: watchers * writes,
        lat,
        write_lat,
        apiserver_rss_watching,
        warm_p99: percentile(&warm, 99.0),
        first_median: percentile(&firsts, 50.0),
        last_median: percentile(&lasts, 50.0),
        server_watches_open,
        apiserver_fds_watching,
        cpu,
    })
}

// ----- the run ---------------------------------------------------------------------------------

async fn phase<T>(name: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    eprintln!("== {name}");
    tokio::time::timeout(PHASE_TIMEOUT, f)
        .await
        .with_context(|| format!("{name}: timed out after {PHASE_TIMEOUT:?}"))?
        .with_context(|| name.to_string())
}

async fn run(args: &Args, procs: &mut Procs, dir: &Path, report: &mut Report) -> Result<()> {
    let (c, n) = (args.concurrency.max(1), args.creates);
    let sample = stored_pod("web-7d9f8b6c5d-00000", 0).len();
    report.add(
        "pod JSON size (stored form, as the etcd put value)",
        format!("{sample} bytes"),
    );
    report.add(
        "pod JSON size as POSTed to the apiserver",
        format!(
            "{} bytes",
            serde_json::to_vec(&pod("web-7d9f8b6c5d-00000"))?.len()
        ),
    );

    // 1. Raw etcd puts, on a fresh etcd.
    let etcd_a_dir = dir.join("etcd-a");
    std::fs::create_dir_all(&etcd_a_dir)?;
    let (etcd_a, url_a) = start_etcd(procs, &etcd_a_dir).await?;
    let mut raw = BTreeMap::new();
    for mode in [
        EtcdMode::PutShared,
        EtcdMode::PutPerTask,
        EtcdMode::TxnShared,
    ] {
        let cpu = CpuMeter::start(&[
            ("etcd", procs.get(etcd_a).pid.to_string()),
            ("bench", "self".into()),
        ]);
        let t = phase(
            &format!("etcd {mode:?} x{n}"),
            etcd_throughput(&url_a, mode, n, c),
        )
        .await?;
        let cpu = cpu.per(n);
        let label = match mode {
            EtcdMode::PutShared => "put, one shared connection",
            EtcdMode::PutPerTask => "put, one connection per task",
            EtcdMode::TxnShared => "create txn, one shared connection",
        };
        report.add(
            format!("etcd {label}: ops/s (C={c}, N={n})"),
            format!(
                "{:.0}  (wall {:.2}s, p50 {}, p99 {}; CPU/op: {cpu})",
                t.per_sec,
                t.wall.as_secs_f64(),
                ms(percentile(&t.lat, 50.0)),
                ms(percentile(&t.lat, 99.0))
            ),
        );
        raw.insert(format!("{mode:?}"), (t.per_sec, percentile(&t.lat, 99.0)));
    }
    let etcd_a_rss = procs.get(etcd_a).rss_kib();
    // Stop the baseline etcd so it costs nothing during the apiserver runs.
    procs.0[etcd_a].stop().await;

    // 2. The apiserver on a fresh etcd.
    let etcd_b_dir = dir.join("etcd-b");
    std::fs::create_dir_all(&etcd_b_dir)?;
    let (etcd_b, url_b) = start_etcd(procs, &etcd_b_dir).await?;
    let (api_idx, client) = start_apiserver(procs, dir, &url_b, args.apiserver_workers).await?;
    let api_pid = procs.get(api_idx).pid;
    let etcd_b_pid = procs.get(etcd_b).pid;
    report.add(
        "apiserver RSS at start (empty store)",
        mib_kib(rss_kib(api_pid)),
    );
    post_json(
        &client,
        "/api/v1/namespaces",
        serde_json::to_vec(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
        )?,
    )
    .await
    .context("creating the bench namespace")?;

    let all_cpu = [
        ("apiserver", api_pid.to_string()),
        ("etcd", etcd_b_pid.to_string()),
        ("bench", "self".to_string()),
    ];
    let perf = match &args.perf_record {
        Some(out) if args.perf_phase == Profiled::Creates => {
            Some(PerfRecord::start(api_pid, out).await?)
        }
        _ => None,
    };
    let cpu = CpuMeter::start(&all_cpu);
    let created = phase(
        &format!("apiserver pod creates x{n}"),
        create_pods(&client, 0, n, c),
    )
    .await?;
    let create_cpu = cpu.micros("apiserver", n);
    if let Some(perf) = perf {
        perf.stop().await?;
    }
    let cpu = cpu.per(n);
    report.add(
        format!("apiserver pod creates/s (C={c}, N={n})"),
        created.describe(&cpu),
    );
    let create_cpu = create_cpu.map_or("n/a".into(), |us| format!("{us:.0} µs"));
    report.add(
        "apiserver CPU per pod create",
        format!("{create_cpu}  (goal < 250 µs)"),
    );
    if let Some((base, base_p99)) = raw.get("PutShared") {
        report.summary(format!(
            "{:<18} apiserver {:>6.0}/s | {:<15} {:>6.0}/s | ratio {:.2} | apiserver CPU {create_cpu}/op | p99 {} vs {}",
            "pod creates",
            created.per_sec,
            "etcd put",
            base,
            created.per_sec / base,
            ms(percentile(&created.lat, 99.0)),
            ms(*base_p99),
        ));
    }
    for (mode, label) in [
        ("PutShared", "etcd put, shared conn"),
        ("PutPerTask", "etcd put, conn per task"),
        ("TxnShared", "etcd create txn"),
    ] {
        if let Some((base, _)) = raw.get(mode) {
            let goal = if mode == "PutShared" {
                "  (goal >= 0.5, stretch 0.8)"
            } else {
                ""
            };
            report.add(
                format!("ratio apiserver creates / {label}"),
                format!("{:.2}{goal}", created.per_sec / base),
            );
        }
    }
    // What the apiserver actually stored for one pod.
    {
        let mut ec = etcd_client::Client::connect([url_b.as_str()], None).await?;
        let r = ec
            .get(
                format!("/registry/pods/{NAMESPACE}/web-7d9f8b6c5d-00000"),
                None,
            )
            .await?;
        if let Some(kv) = r.kvs().first() {
            report.add(
                "pod JSON size as the apiserver stored it",
                format!("{} bytes", kv.value().len()),
            );
        }
    }

    // Top up to --pods.
    if args.pods > n {
        let extra = args.pods - n;
        let t = phase(
            &format!("apiserver pod creates x{extra} (top-up)"),
            create_pods(&client, n, extra, c),
        )
        .await?;
        report.add(
            format!("apiserver pod creates/s, top-up to {} pods", args.pods),
            format!("{:.0}", t.per_sec),
        );
    }
    let stored = n.max(args.pods);

    // 6 (first part). Memory at idle with the pods stored.
    tokio::time::sleep(Duration::from_secs(3)).await;
    report.add(
        format!("apiserver RSS idle, {stored} pods stored"),
        format!("{}  (goal < 200 MB)", mib_kib(rss_kib(api_pid))),
    );
    report.add(
        format!("etcd RSS idle, {stored} pods stored (reference)"),
        mib_kib(rss_kib(etcd_b_pid)),
    );

    // 3. GET latency.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let gets = args.gets;
    let lat = phase(&format!("GET x{gets}"), async {
        let mut lat = Vec::with_capacity(gets);
        for _ in 0..gets {
            let t = Instant::now();
            pods.get("web-7d9f8b6c5d-00000").await?;
            lat.push(t.elapsed());
        }
        lat.sort();
        Ok(lat)
    })
    .await?;
    report.add(
        format!("GET pod latency p50 / p99 ({gets} sequential)"),
        format!(
            "{} / {}",
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 99.0))
        ),
    );
    let lat = phase(&format!("GET rv=0 x{gets}"), async {
        let path = format!("{}/web-7d9f8b6c5d-00000?resourceVersion=0", pods_path());
        let mut lat = Vec::with_capacity(gets);
        for _ in 0..gets {
            let t = Instant::now();
            get_text(&client, &path).await?;
            lat.push(t.elapsed());
        }
        lat.sort();
        Ok(lat)
    })
    .await?;
    report.add(
        "GET pod latency p50 / p99, resourceVersion=0 (cache)",
        format!(
            "{} / {}",
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 99.0))
        ),
    );

    // 4. LIST.
    let cpu = CpuMeter::start(&all_cpu);
    let runs = phase("full LIST x3", async {
        let mut runs = Vec::new();
        for _ in 0..3 {
            runs.push(full_list(&client).await?);
        }
        Ok(runs)
    })
    .await?;
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    walls.sort();
    let (_, bytes, items) = runs[0];
    report.add(
        format!("LIST all pods, no limit: wall (first / median of 3), {items} items"),
        format!("{} / {}", ms(runs[0].0), ms(walls[1])),
    );
    report.add(
        "LIST all pods, no limit: response size",
        format!("{bytes} bytes ({:.1} MiB)", bytes as f64 / 1048576.0),
    );
    report.add("LIST all pods, no limit: CPU per list", cpu.per(3));
    let cpu = CpuMeter::start(&all_cpu);
    let runs = phase("paged LIST limit=500 x3", async {
        let mut runs = Vec::new();
        for _ in 0..3 {
            runs.push(paged_list(&client, 500).await?);
        }
        Ok(runs)
    })
    .await?;
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    walls.sort();
    let (_, pages, bytes, items) = runs[0];
    report.add(
        format!("LIST paged limit=500: wall (first / median of 3), {items} items in {pages} pages"),
        format!("{} / {}", ms(runs[0].0), ms(walls[1])),
    );
    report.add(
        "LIST paged limit=500: bytes over all pages",
        format!("{bytes} bytes ({:.1} MiB)", bytes as f64 / 1048576.0),
    );
    report.add("LIST paged limit=500: CPU per full paged list", cpu.per(3));
    tokio::time::sleep(Duration::from_secs(3)).await;
    report.add(
        format!("apiserver RSS idle after the LISTs, {stored} pods"),
        mib_kib(rss_kib(api_pid)),
    );
    report.add(
        "apiserver open fds idle, before the watches (bench's own)",
        format!(
            "{} ({})",
            fd_count(api_pid).map_or("n/a".into(), |n| n.to_string()),
            fd_count(std::process::id()).map_or("n/a".into(), |n| n.to_string())
        ),
    );

    // 5. Watch fan-out.
    let w = args.watchers;
    let fan = phase(
        &format!("watch fan-out: {w} watchers x {} writes", args.watch_writes),
        watch_fan_out(&client, w, args.watch_writes, api_pid, &all_cpu),
    )
    .await?;
    report.add(
        format!("watches opened ({w} requested): count, wall"),
        format!(
            "{} ({} failed), {:.2}s",
            fan.opened,
            fan.failed,
            fan.open_wall.as_secs_f64()
        ),
    );
    report.add(
        format!("apiserver RSS with {} watches open", fan.opened),
        mib_kib(fan.apiserver_rss_watching),
    );
    report.add(
        "watch events delivered / expected",
        format!("{} / {}", fan.delivered, fan.expected),
    );
    report.add(
        "watch delivery latency p50 / p99 / max",
        format!(
            "{} / {} / {}  (goal p99 < 100 ms)",
            ms(percentile(&fan.lat, 50.0)),
            ms(percentile(&fan.lat, 99.0)),
            ms(fan.lat.last().copied().unwrap_or_default())
        ),
    );
    report.add(
        "watch delivery latency p99 without the first write",
        ms(fan.warm_p99),
    );
    report.add(
        "watch delivery per write, median over writes: first / last watcher",
        format!("{} / {}", ms(fan.first_median), ms(fan.last_median)),
    );
    report.add(
        "watch phase CPU, first write to last delivery (2 CPUs)",
        fan.cpu.clone(),
    );
    report.add(
        "watch-phase create latency p50 / max (writer's view)",
        format!(
            "{} / {}",
            ms(percentile(&fan.write_lat, 50.0)),
            ms(fan.write_lat.last().copied().unwrap_or_default())
        ),
    );
    report.add(
        "apiserver's open pod watches (gauge) / open fds, watchers open",
        format!(
            "{} / {}",
            fan.server_watches_open
                .map_or("n/a".into(), |n| n.to_string()),
            fan.apiserver_fds_watching
                .map_or("n/a".into(), |n| n.to_string())
        ),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    report.add(
        "apiserver's open pod watches (gauge) / open fds, 3 s after clients closed",
        format!(
            "{} / {}  (expect 0 / about the idle count; bench's own fds: {})",
            server_pod_watches(&client)
                .await
                .map_or("n/a".into(), |n| n.to_string()),
            fd_count(api_pid).map_or("n/a".into(), |n| n.to_string()),
            fd_count(std::process::id()).map_or("n/a".into(), |n| n.to_string())
        ),
    );
    // How long the server holds watches whose clients are gone (bounded wait).
    let closed_at = Instant::now();
    let gone = loop {
        match server_pod_watches(&client).await {
            Some(0) => break Some(closed_at.elapsed()),
            _ if closed_at.elapsed() > Duration::from_secs(75) => break None,
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    report.add(
        "time until the apiserver released the closed watches",
        match gone {
            Some(d) => format!("{:.1}s more (after the 3 s above)", d.as_secs_f64()),
            None => format!(
                "not within 75 s ({} still open)",
                server_pod_watches(&client)
                    .await
                    .map_or("n/a".into(), |n| n.to_string())
            ),
        },
    );
    report.add(
        "apiserver RSS after the watches closed",
        mib_kib(rss_kib(api_pid)),
    );
    report.add(
        "etcd RSS at the end (reference)",
        mib_kib(rss_kib(etcd_b_pid)),
    );
    report.add(
        format!("etcd RSS of the baseline etcd after {} puts", 3 * n),
        mib_kib(etcd_a_rss),
    );

    // 7. The other write paths, last, so every figure above is measured on pods as created.
    let target = writes::Target {
        client: &client,
        etcd_url: &url_b,
        api_pid,
        etcd_pid: etcd_b_pid,
        perf: args
            .perf_record
            .as_deref()
            .map(|out| (args.perf_phase, out)),
    };
    writes::write_paths(&target, args.updates.min(stored), c, report).await?;
    report.add(
        "apiserver RSS after the write paths",
        mib_kib(rss_kib(api_pid)),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let wanted = (2 * args.watchers as u64 + 1024).max(4096);
    let nofile = raise_nofile(wanted)?;
    if nofile < 2 * args.watchers as u64 + 256 {
        bail!(
            "RLIMIT_NOFILE is {nofile}, too low for {} watchers",
            args.watchers
        );
    }
    eprintln!(
        "open-file limit {nofile} (kube-apiserver inherits it); {} CPUs",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let dir = tempfile::Builder::new()
        .prefix("apiserver-bench-")
        .tempdir()?;
    let mut procs = Procs::default();
    let mut report = Report::default();
    report.add(
        "settings",
        format!(
            "C={} creates={} pods={} watchers={} watch_writes={} gets={} updates={} apiserver workers={}",
            args.concurrency,
            args.creates,
            args.pods,
            args.watchers,
            args.watch_writes,
            args.gets,
            args.updates,
            args.apiserver_workers
                .map_or("default (one per CPU)".to_string(), |w| w.to_string())
        ),
    );
    report.add("machine load average at start (1/5/15 min)", loadavg());
    let started = Instant::now();
    let result = tokio::select! {
        r = run(&args, &mut procs, dir.path(), &mut report) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        _ = tokio::time::sleep(Duration::from_secs(args.time_limit)) => {
            Err(anyhow::anyhow!("stopped at --time-limit {}s", args.time_limit))
        }
    };
    report.add(
        "bench wall time",
        format!("{:.1}s", started.elapsed().as_secs_f64()),
    );
    if let Err(e) = &result {
        for p in &procs.0 {
            if p.name == "kube-apiserver" {
                eprintln!("kube-apiserver log tail:\n{}", p.log_tail());
            }
        }
        eprintln!("bench failed: {e:#}");
    }
    report.add("machine load average at end (1/5/15 min)", loadavg());
    procs.stop_all().await;
    let path = dir.path().display().to_string();
    dir.close().with_context(|| format!("removing {path}"))?;
    report.print();
    result
}
