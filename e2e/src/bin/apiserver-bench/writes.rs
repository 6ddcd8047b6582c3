//! apiserver-bench's write paths beside the create: pod bindings, status updates (PUT
//! `/status`) and merge patches through the apiserver, each followed by its raw etcd
//! counterpart with the same concurrency: update transactions that compare the mod revision,
//! on copies of the very bytes the apiserver stored for those pods (so values of the same
//! size), on the apiserver's own etcd while the apiserver is idle. Each prints its rate, its
//! latency, the CPU per operation of every process, and the apiserver/etcd ratio.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use etcd_client::{Compare, CompareOp, GetOptions, Txn, TxnOp};
use kube::Client;
use serde_json::{json, Value};

use super::{
    get_text, percentile, phase, pod_name, pods_path, CpuMeter, PerfRecord, Profiled, Report,
    Throughput, NAMESPACE,
};

/// Where the raw counterparts write: outside the apiserver's `/registry/`, so its watch cache
/// never sees (nor pays for) these keys.
const RAW_PREFIX: &str = "/apiserver-bench-raw/";

/// Fake nodes the pods are bound to; they need not exist (upstream does not check either).
const NODES: usize = 100;

/// The processes and endpoints a write phase measures.
pub(crate) struct Target<'a> {
    pub client: &'a Client,
    pub etcd_url: &'a str,
    pub api_pid: u32,
    pub etcd_pid: u32,
    /// `--perf-record`: the phase to record and the file.
    pub perf: Option<(Profiled, &'a Path)>,
}

#[derive(Clone, Copy, Debug)]
enum Write {
    /// POST `pods/<name>/binding` of a pod created without `spec.nodeName`: the scheduler's
    /// ceiling.
    Binding,
    /// PUT `pods/<name>/status` with the pod as listed (its resourceVersion as precondition)
    /// and the status a kubelet reports once the pod runs.
    Status,
    /// PATCH `application/merge-patch+json` adding a label.
    MergePatch,
}

impl Write {
    /// Plural, for "<what>/s" lines.
    fn plural(self) -> &'static str {
        match self {
            Write::Binding => "pod bindings",
            Write::Status => "pod status updates",
            Write::MergePatch => "pod merge patches",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Write::Binding => "pod binding",
            Write::Status => "pod status update",
            Write::MergePatch => "pod merge patch",
        }
    }

    /// The request, as the wire sees it.
    fn request(self) -> &'static str {
        match self {
            Write::Binding => "POST pods/<name>/binding",
            Write::Status => "PUT pods/<name>/status",
            Write::MergePatch => "PATCH merge-patch+json, one label",
        }
    }

    fn profiled(self) -> Profiled {
        match self {
            Write::Binding => Profiled::Bindings,
            Write::Status => Profiled::Status,
            Write::MergePatch => Profiled::Patches,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Write::Binding => "binding",
            Write::Status => "status",
            Write::MergePatch => "patch",
        }
    }
}

/// One request to send: method, path, content type, body (built before the timed loop).
struct Req {
    method: http::Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
}

/// Runs `op(0..n)` on `c` concurrent tasks; the first error aborts the rest (dropping the
/// `JoinSet` aborts its tasks).
pub(crate) async fn timed<F, Fut>(n: usize, c: usize, op: F) -> Result<Throughput>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..c.max(1) {
        let (op, next) = (op.clone(), next.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let t = Instant::now();
                op(i).await.with_context(|| format!("operation {i}"))?;
                lat.push(t.elapsed());
            }
        });
    }
    let mut lat = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        lat.extend(r??);
    }
    let wall = started.elapsed();
    lat.sort();
    Ok(Throughput {
        per_sec: n as f64 / wall.as_secs_f64(),
        wall,
        lat,
    })
}

/// Sends `reqs` through the apiserver, `c` at a time; any non-2xx answer fails the phase.
async fn send_all(client: &Client, reqs: Vec<Req>, c: usize) -> Result<Throughput> {
    let n = reqs.len();
    let reqs = Arc::new(reqs);
    let client = client.clone();
    timed(n, c, move |i| {
        let (client, reqs) = (client.clone(), reqs.clone());
        async move {
            let r = &reqs[i];
            let req = http::Request::builder()
                .method(r.method.clone())
                .uri(r.path.as_str())
                .header("Content-Type", r.content_type)
                .body(r.body.clone())?;
            client
                .request_text(req)
                .await
                .with_context(|| format!("{} {}", r.method, r.path))?;
            Ok(())
        }
    })
    .await
}

fn pod_path(name: &str) -> String {
    format!("{}/{name}", pods_path())
}

/// The etcd key the apiserver stores pod `i` under.
fn stored_key(i: usize) -> String {
    format!("/registry/pods/{NAMESPACE}/{}", pod_name(i))
}

/// The bodies of one phase, for pods `0..n`. Status updates start from the pods as they are
/// now (one paged LIST, untimed), as a controller's PUT does.
async fn requests(w: Write, client: &Client, n: usize) -> Result<Vec<Req>> {
    match w {
        Write::Binding => Ok((0..n)
            .map(|i| {
                let name = pod_name(i);
                let binding = json!({
                    "apiVersion": "v1",
                    "kind": "Binding",
                    "metadata": {"name": name},
                    "target": {"apiVersion": "v1", "kind": "Node", "name": node_name(i)}
                });
                Req {
                    method: http::Method::POST,
                    path: format!("{}/binding", pod_path(&name)),
                    content_type: "application/json",
                    body: serde_json::to_vec(&binding).expect("JSON values serialize"),
                }
            })
            .collect()),
        Write::MergePatch => Ok((0..n)
            .map(|i| Req {
                method: http::Method::PATCH,
                path: pod_path(&pod_name(i)),
                content_type: "application/merge-patch+json",
                body: br#"{"metadata":{"labels":{"bench-patched":"true"}}}"#.to_vec(),
            })
            .collect()),
        Write::Status => {
            let mut pods = listed_pods(client, n).await?;
            let mut reqs = Vec::with_capacity(n);
            for (i, pod) in pods.iter_mut().enumerate() {
                pod["apiVersion"] = json!("v1");
                pod["kind"] = json!("Pod");
                pod["status"] = running_status(i);
                reqs.push(Req {
                    method: http::Method::PUT,
                    path: format!("{}/status", pod_path(&pod_name(i))),
                    content_type: "application/json",
                    body: serde_json::to_vec(&pod)?,
                });
            }
            Ok(reqs)
        }
    }
}

fn node_name(i: usize) -> String {
    format!("bench-node-{:03}", i % NODES)
}

/// Pods `0..n` as the apiserver lists them, in index order.
async fn listed_pods(client: &Client, n: usize) -> Result<Vec<Value>> {
    let mut found: Vec<Option<Value>> = vec![None; n];
    let mut cont: Option<String> = None;
    loop {
        let mut path = format!("{}?limit=500", pods_path());
        if let Some(c) = &cont {
            path.push_str("&continue=");
            path.push_str(&super::url_escape(c));
        }
        let mut page: Value = serde_json::from_str(&get_text(client, &path).await?)?;
        if let Some(items) = page.get_mut("items").and_then(Value::as_array_mut) {
            for item in items.drain(..) {
                let index = item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .and_then(|name| name.strip_prefix("web-7d9f8b6c5d-"))
                    .and_then(|k| k.parse::<usize>().ok());
                if let Some(slot) = index.and_then(|k| found.get_mut(k)) {
                    *slot = Some(item);
                }
            }
        }
        match page
            .pointer("/metadata/continue")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
        {
            Some(c) => cont = Some(c.to_string()),
            None => break,
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.with_context(|| format!("pod {} is not in the list", pod_name(i))))
        .collect()
}

/// What a kubelet reports for pod `i` once its one container runs.
fn running_status(i: usize) -> Value {
    let host_ip = format!("10.0.0.{}", i % NODES + 1);
    let pod_ip = format!("10.244.{}.{}", i / 250, i % 250 + 2);
    let condition =
        |ty: &str, at: &str| json!({"type": ty, "status": "True", "lastTransitionTime": at});
    json!({
        "phase": "Running",
        "conditions": [
            condition("PodReadyToStartContainers", "2025-05-01T10:00:03Z"),
            condition("Initialized", "2025-05-01T10:00:01Z"),
            condition("Ready", "2025-05-01T10:00:06Z"),
            condition("ContainersReady", "2025-05-01T10:00:06Z"),
            condition("PodScheduled", "2025-05-01T10:00:00Z")
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": "2025-05-01T10:00:01Z",
        "containerStatuses": [{
            "name": "web",
            "state": {"running": {"startedAt": "2025-05-01T10:00:04Z"}},
            "lastState": {},
            "ready": true,
            "restartCount": 0,
            "image": "registry.example.com/team/web:1.24.3",
            "imageID": "registry.example.com/team/web@sha256:5b3e0e3fd1a14c5a36b1c4f7c0a3d6b2e9f8a7c6d5e4f3a2b1c0d9e8f7a6b5c4",
            "containerID": format!("containerd://{:064x}", (i as u128 + 1) * 0x9e37_79b9_7f4a_7c15),
            "started": true
        }],
        "qosClass": "Burstable"
    })
}

/// Checks, outside the timed loop, that the first and the last pod of a phase show its effect.
async fn check_applied(w: Write, client: &Client, n: usize) -> Result<()> {
    for i in [0, n - 1] {
        let pod: Value = serde_json::from_str(&get_text(client, &pod_path(&pod_name(i))).await?)?;
        let (field, got, want) = match w {
            Write::Binding => ("spec.nodeName", pod.pointer("/spec/nodeName"), node_name(i)),
            Write::Status => (
                "status.phase",
                pod.pointer("/status/phase"),
                "Running".into(),
            ),
            Write::MergePatch => (
                "metadata.labels.bench-patched",
                pod.pointer("/metadata/labels/bench-patched"),
                "true".into(),
            ),
        };
        ensure!(
            got.and_then(Value::as_str) == Some(want.as_str()),
            "after the {} phase, pod {} has {field} {got:?}, expected {want:?}",
            w.tag(),
            pod_name(i)
        );
    }
    Ok(())
}

/// The raw counterpart's outcome.
struct Raw {
    t: Throughput,
    mean_value: usize,
    cpu: String,
}

/// Copies the values the apiserver stored for pods `0..n` to keys under [`RAW_PREFIX`]
/// (untimed), then times one update transaction per key, as the apiserver's guaranteed update
/// writes: `mod_revision == known ? put : get`. The copies are deleted at the end.
async fn raw_updates(t: &Target<'_>, w: Write, n: usize, c: usize) -> Result<Raw> {
    let mut client = etcd_client::Client::connect([t.etcd_url], None).await?;
    // The stored values, in key order (zero-padded indexes sort as numbers do), 500 a page.
    let end = stored_key(n);
    let mut start = stored_key(0);
    let mut values: Vec<Vec<u8>> = Vec::with_capacity(n);
    loop {
        let page = client
            .get(
                start.as_str(),
                Some(GetOptions::new().with_range(end.as_str()).with_limit(500)),
            )
            .await?;
        values.extend(page.kvs().iter().map(|kv| kv.value().to_vec()));
        match page.kvs().last() {
            Some(kv) if page.more() => {
                let mut next = kv.key().to_vec();
                next.push(0);
                start = String::from_utf8(next)?;
            }
            _ => break,
        }
    }
    if values.len() != n {
        bail!("expected {n} stored pods, etcd has {}", values.len());
    }
    let mean_value = values.iter().map(Vec::len).sum::<usize>() / n.max(1);
    let prefix = format!("{RAW_PREFIX}{}/", w.tag());
    let keys: Arc<Vec<String>> =
        Arc::new((0..n).map(|i| format!("{prefix}{}", pod_name(i))).collect());
    let values = Arc::new(values);
    let revs: Arc<Vec<AtomicI64>> = Arc::new((0..n).map(|_| AtomicI64::new(0)).collect());
    {
        let (keys, values, revs, client) =
            (keys.clone(), values.clone(), revs.clone(), client.clone());
        timed(n, c, move |i| {
            let (keys, values, revs, mut client) =
                (keys.clone(), values.clone(), revs.clone(), client.clone());
            async move {
                let r = client
                    .put(keys[i].as_str(), values[i].clone(), None)
                    .await?;
                let rev = r.header().context("a put answer has a header")?.revision();
                revs[i].store(rev, Ordering::Relaxed);
                Ok(())
            }
        })
        .await
        .context("copying the stored pods for the raw counterpart")?;
    }
    let cpu = CpuMeter::start(&[("etcd", t.etcd_pid.to_string()), ("bench", "self".into())]);
    let run = {
        let (keys, values, revs, client) =
            (keys.clone(), values.clone(), revs.clone(), client.clone());
        timed(n, c, move |i| {
            let (keys, values, revs, mut client) =
                (keys.clone(), values.clone(), revs.clone(), client.clone());
            async move {
                let key = keys[i].as_str();
                let rev = revs[i].load(Ordering::Relaxed);
                let txn = Txn::new()
                    .when([Compare::mod_revision(key, CompareOp::Equal, rev)])
                    .and_then([TxnOp::put(key, values[i].clone(), None)])
                    .or_else([TxnOp::get(key, None)]);
                let r = client.txn(txn).await?;
                ensure!(r.succeeded(), "{key} changed since revision {rev}");
                Ok(())
            }
        })
        .await?
    };
    let cpu = cpu.per(n);
    client
        .delete(
            prefix.as_str(),
            Some(etcd_client::DeleteOptions::new().with_prefix()),
        )
        .await?;
    Ok(Raw {
        t: run,
        mean_value,
        cpu,
    })
}

/// Bindings, then status updates, then merge patches on pods `0..n` (created without a node),
/// each beside its raw etcd counterpart; lines go to `report` and its summary.
pub(crate) async fn write_paths(
    t: &Target<'_>,
    n: usize,
    c: usize,
    report: &mut Report,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let all = [
        ("apiserver", t.api_pid.to_string()),
        ("etcd", t.etcd_pid.to_string()),
        ("bench", "self".to_string()),
    ];
    for w in [Write::Binding, Write::Status, Write::MergePatch] {
        let reqs = requests(w, t.client, n).await?;
        let body_bytes = reqs.iter().map(|r| r.body.len()).sum::<usize>() / n;
        let perf = match t.perf {
            Some((p, out)) if p == w.profiled() => Some(PerfRecord::start(t.api_pid, out).await?),
            _ => None,
        };
        let cpu = CpuMeter::start(&all);
        let api = phase(
            &format!("apiserver {} x{n}", w.plural()),
            send_all(t.client, reqs, c),
        )
        .await?;
        let api_cpu = cpu.micros("apiserver", n);
        if let Some(perf) = perf {
            perf.stop().await?;
        }
        let cpu = cpu.per(n);
        check_applied(w, t.client, n).await?;
        let (plural, tag) = (w.plural(), w.tag());
        report.add(
            format!("apiserver {plural}/s (C={c}, N={n})"),
            api.describe(&cpu),
        );
        report.add(
            format!("apiserver {plural}: request, mean body"),
            format!("{}, {body_bytes} bytes", w.request()),
        );
        let api_cpu_text = api_cpu.map_or("n/a".into(), |us| format!("{us:.0} µs"));
        report.add(
            format!("apiserver CPU per {}", w.singular()),
            api_cpu_text.clone(),
        );
        let raw = phase(
            &format!("etcd update txns x{n} ({tag} counterpart)"),
            raw_updates(t, w, n, c),
        )
        .await?;
        report.add(
            format!("etcd update txns/s, {tag} counterpart (C={c}, N={n})"),
            raw.t.describe(&raw.cpu),
        );
        report.add(
            format!("etcd update txns, {tag} counterpart: mean value"),
            format!(
                "{} bytes (the pods' stored bytes after the {tag} phase)",
                raw.mean_value
            ),
        );
        let ratio = api.per_sec / raw.t.per_sec;
        report.add(
            format!("ratio apiserver {plural} / etcd update txns"),
            format!("{ratio:.2}"),
        );
        report.summary(format!(
            "{plural:<18} apiserver {:>6.0}/s | {:<15} {:>6.0}/s | ratio {ratio:.2} | apiserver CPU {api_cpu_text}/op | p99 {} vs {}",
            api.per_sec,
            "etcd update txn",
            raw.t.per_sec,
            super::ms(percentile(&api.lat, 99.0)),
            super::ms(percentile(&raw.t.lat, 99.0)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn timed_runs_every_index_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let t = timed(100, 7, move |i| {
            let s = s.clone();
            async move {
                s.lock().expect("not poisoned").push(i);
                Ok(())
            }
        })
        .await
        .expect("no operation fails");
        let mut seen = seen.lock().expect("not poisoned").clone();
        seen.sort();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert_eq!(t.lat.len(), 100);
        assert!(t.per_sec > 0.0);
    }

    #[tokio::test]
    async fn timed_fails_on_a_failed_operation() {
        let err = timed(50, 4, |i| async move {
            ensure!(i != 17, "boom");
            Ok(())
        })
        .await
        .err()
        .expect("operation 17 fails");
        assert!(format!("{err:#}").contains("operation 17: boom"), "{err:#}");
    }

    #[test]
    fn status_ips_are_consistent() {
        for i in [0, 1, 249, 250, 9999] {
            let s = running_status(i);
            assert_eq!(s["podIPs"][0]["ip"], s["podIP"]);
            assert_eq!(s["hostIPs"][0]["ip"], s["hostIP"]);
            let ip: std::net::Ipv4Addr = s["podIP"].as_str().unwrap().parse().unwrap();
            assert_eq!(ip.octets()[..2], [10, 244]);
        }
        assert_ne!(running_status(0)["podIP"], running_status(250)["podIP"]);
    }
}
