//! No watcher misses an event without being told: two apiservers on one etcd, watchers on
//! both, writes through both, etcd killed and restarted and compacted underneath (once behind
//! the apiservers' backs), and every watcher's events compared with etcd's own history.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use e2e::TestCluster;
use etcd_client::{EventType, GetOptions, WatchOptions};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::Client;
use serde_json::json;

const NS: &str = "gaps";
const PREFIX: &str = "/registry/configmaps/gaps/";
/// Writers per apiserver, each on objects of its own.
const WRITERS: usize = 2;
/// Objects each writer creates, updates three times and deletes (five writes each).
const OBJECTS: usize = 20;
const WATCHERS: usize = 3;

async fn client(kubeconfig: &std::path::Path) -> Client {
    e2e::kube_client(kubeconfig).await
}

/// One change in etcd's history of the namespace's ConfigMaps.
#[derive(Debug, Clone)]
struct Change {
    rev: i64,
    name: String,
    kind: &'static str,
}

/// Reads etcd's history of `PREFIX` from `from` up to etcd's current revision, which it
/// returns as well.
async fn read_history(endpoint: &str, from: i64) -> (Vec<Change>, i64) {
    let mut etcd = etcd_client::Client::connect([endpoint], None)
        .await
        .expect("etcd client connects");
    let now = etcd
        .get(PREFIX, Some(GetOptions::new().with_count_only()))
        .await
        .expect("etcd answers")
        .header()
        .expect("header")
        .revision();
    let mut out = Vec::new();
    if now < from {
        return (out, now);
    }
    let end = "/registry/configmaps/gaps0";
    let options = WatchOptions::new()
        .with_range(end)
        .with_start_revision(from);
    let (mut req, mut stream) = etcd.watch(PREFIX, Some(options)).await.unwrap().split();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reading etcd's history to {now} timed out"
        );
        let msg = match tokio::time::timeout(Duration::from_millis(200), stream.message()).await {
            Ok(m) => m.expect("history watch").expect("history stream open"),
            Err(_) => {
                // Nothing more under the prefix: a progress notification tells when the
                // watch has reached `now`.
                req.request_progress().await.unwrap();
                continue;
            }
        };
        assert_eq!(
            msg.compact_revision(),
            0,
            "history compacted under the test"
        );
        let mut reached = !msg.created()
            && msg.events().is_empty()
            && msg.header().is_some_and(|h| h.revision() >= now);
        for ev in msg.events() {
            let kv = ev.kv().unwrap();
            if kv.mod_revision() > now {
                reached = true;
                break;
            }
            let name = String::from_utf8_lossy(kv.key())
                .trim_start_matches(PREFIX)
                .to_string();
            let kind = match ev.event_type() {
                EventType::Delete => "DELETED",
                EventType::Put if kv.create_revision() == kv.mod_revision() => "ADDED",
                EventType::Put => "MODIFIED",
            };
            out.push(Change {
                rev: kv.mod_revision(),
                name,
                kind,
            });
            reached |= kv.mod_revision() >= now;
        }
        if reached {
            return (out, now);
        }
    }
}

/// What one watcher saw, in order.
#[derive(Debug, Clone)]
enum Seen {
    /// A list: its resourceVersion and the objects' names and resourceVersions.
    List(i64, BTreeMap<String, i64>),
    Event(&'static str, String, i64),
    /// The watch response ended (the client resumes from its last resourceVersion).
    Closed,
    /// `410 Expired`: the client relists.
    Expired,
}

fn rv_of(cm: &ConfigMap) -> i64 {
    cm.metadata
        .resource_version
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("objects carry a numeric resourceVersion")
}

/// A list-watch client as client-go's reflector is: list, watch from the list's
/// resourceVersion, resume from the last one seen when a watch ends, relist on 410.
async fn watcher(client: Client, log: Arc<Mutex<Vec<Seen>>>) {
    let api: Api<ConfigMap> = Api::namespaced(client, NS);
    'list: loop {
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut rv: i64 = list
            .metadata
            .resource_version
            .as_deref()
            .and_then(|s| s.parse().ok())
            .expect("a list carries a resourceVersion");
        let objects = list
            .items
            .iter()
            .map(|o| (o.metadata.name.clone().unwrap(), rv_of(o)))
            .collect();
        log.lock().unwrap().push(Seen::List(rv, objects));
        loop {
            let wp = WatchParams::default().timeout(290);
            let stream = match api.watch(&wp, &rv.to_string()).await {
                Ok(s) => s,
                Err(kube::Error::Api(s)) if s.code == 410 => {
                    log.lock().unwrap().push(Seen::Expired);
                    continue 'list;
                }
                Err(_) => {
                    // etcd down (the apiserver's consistent-read check fails), 429 while the
                    // cache relists: retry, as a reflector does.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let mut stream = stream.boxed();
            while let Some(item) = stream.next().await {
                let (kind, obj) = match item {
                    Ok(WatchEvent::Added(o)) => ("ADDED", o),
                    Ok(WatchEvent::Modified(o)) => ("MODIFIED", o),
                    Ok(WatchEvent::Deleted(o)) => ("DELETED", o),
                    Ok(WatchEvent::Bookmark(b)) => {
                        rv = b.metadata.resource_version.parse().unwrap();
                        continue;
                    }
                    Ok(WatchEvent::Error(e)) if e.code == 410 => {
                        log.lock().unwrap().push(Seen::Expired);
                        continue 'list;
                    }
                    Ok(WatchEvent::Error(_)) | Err(_) => break,
                };
                rv = rv_of(&obj);
                let name = obj.metadata.name.clone().unwrap();
                log.lock().unwrap().push(Seen::Event(kind, name, rv));
            }
            log.lock().unwrap().push(Seen::Closed);
        }
    }
}

/// Creates, updates three times and deletes `OBJECTS` ConfigMaps of its own, retrying each
/// step through outages; `done` counts finished steps.
async fn writer(client: Client, id: String, done: Arc<AtomicUsize>) {
    let api: Api<ConfigMap> = Api::namespaced(client, NS);
    for i in 0..OBJECTS {
        let name = format!("{id}-{i}");
        for step in 0..5 {
            let cm: ConfigMap = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name},
                "data": {"step": step.to_string()}
            }))
            .unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                let result = match step {
                    0 => api.create(&PostParams::default(), &cm).await.map(|_| ()),
                    4 => api
                        .delete(&name, &DeleteParams::default())
                        .await
                        .map(|_| ()),
                    // No resourceVersion: the apiserver retries its own conflicts.
                    _ => api
                        .replace(&name, &PostParams::default(), &cm)
                        .await
                        .map(|_| ()),
                };
                match result {
                    Ok(()) => break,
                    // A step whose answer was lost when etcd died may have been applied.
                    Err(kube::Error::Api(s)) if step == 0 && s.code == 409 => break,
                    Err(kube::Error::Api(s)) if step == 4 && s.code == 404 => break,
                    Err(e) => {
                        assert!(
                            tokio::time::Instant::now() < deadline,
                            "{name} step {step} kept failing: {e}"
                        );
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            done.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks one watcher's log against etcd's history: every list is etcd's state at its
/// revision, every event is the next change after the last one seen (nothing skipped,
/// nothing twice, revisions strictly increasing, across resumed watches too), and the
/// watcher saw the whole history. Returns how many times its watch was closed and how many
/// times it was told 410.
fn check(who: &str, log: &[Seen], history: &[Change]) -> (usize, usize) {
    let mut next = None::<usize>;
    let (mut closed, mut expired) = (0, 0);
    for (i, seen) in log.iter().enumerate() {
        match seen {
            Seen::List(rv, objects) => {
                let mut state = BTreeMap::new();
                for c in history.iter().take_while(|c| c.rev <= *rv) {
                    if c.kind == "DELETED" {
                        state.remove(&c.name);
                    } else {
                        state.insert(c.name.clone(), c.rev);
                    }
                }
                assert_eq!(
                    objects, &state,
                    "{who}: list #{i} at {rv} differs from etcd's state at {rv}"
                );
                next = Some(history.partition_point(|c| c.rev <= *rv));
            }
            Seen::Event(kind, name, rv) => {
                let n = next.expect("a watcher lists first");
                let Some(want) = history.get(n) else {
                    panic!("{who}: event #{i} {kind} {name} at {rv} is beyond etcd's history")
                };
                assert!(
                    want.rev == *rv && want.name == *name && want.kind == *kind,
                    "{who}: event #{i} is {kind} {name} at {rv}, but etcd's next change is \
                     {} {} at {} (events before: {:?})",
                    want.kind,
                    want.name,
                    want.rev,
                    &log[i.saturating_sub(3)..i]
                );
                next = Some(n + 1);
            }
            Seen::Closed => closed += 1,
            Seen::Expired => expired += 1,
        }
    }
    assert_eq!(
        next,
        Some(history.len()),
        "{who} did not see etcd's whole history ({} changes)",
        history.len()
    );
    (closed, expired)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watchers_on_two_apiservers_miss_nothing_across_etcd_restarts_and_compaction() {
    let flags = ["--etcd-compaction-interval=0"];
    let mut cluster = TestCluster::start_with(&flags).await.unwrap();
    let second = cluster.start_apiserver(&flags).await.unwrap();
    let clients = [
        client(&cluster.kubeconfig).await,
        client(&second.kubeconfig).await,
    ];
    let namespaces: Api<Namespace> = Api::all(clients[0].clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();

    let mut tasks = Vec::new();
    let mut logs = Vec::new();
    for (s, c) in clients.iter().enumerate() {
        for w in 0..WATCHERS {
            let log = Arc::new(Mutex::new(Vec::new()));
            logs.push((format!("apiserver {} watcher {w}", s + 1), log.clone()));
            tasks.push(tokio::spawn(watcher(c.clone(), log)));
        }
    }
    // Every watcher has listed before the first write.
    wait_until("the watchers' lists", 10, || {
        logs.iter().all(|(_, l)| !l.lock().unwrap().is_empty())
    })
    .await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for (s, c) in clients.iter().enumerate() {
        for w in 0..WRITERS {
            let id = format!("s{}w{w}", s + 1);
            writers.push(tokio::spawn(writer(c.clone(), id, done.clone())));
        }
    }
    let total = clients.len() * WRITERS * OBJECTS * 5;
    let at = |n: usize| {
        let done = done.clone();
        move || done.load(Ordering::SeqCst) >= n
    };
    let endpoint = cluster.etcd.endpoint.clone();
    let mut history = Vec::new();
    let mut read_to = 0;
    // Appends etcd's history after `read_to` (read from `endpoint`) to `history`.
    macro_rules! read {
        ($endpoint:expr) => {{
            let (changes, now) = read_history($endpoint, read_to + 1).await;
            history.extend(changes);
            read_to = now;
            now
        }};
    }

    // 1. etcd crashes and comes back: the caches resume their watches, or relist and close.
    wait_until("a quarter of the writes", 20, at(total / 4)).await;
    read!(&endpoint);
    cluster.etcd.restart().await.unwrap();

    // 2. Compaction while everything runs.
    wait_until("half of the writes", 20, at(total / 2)).await;
    let upto = read!(&endpoint);
    let mut etcd = etcd_client::Client::connect([endpoint.as_str()], None)
        .await
        .unwrap();
    etcd.compact(upto, None).await.unwrap();

    // 3. etcd crashes; before the apiservers reach it again, someone changes the namespace
    // and compacts the history they would resume from: they must relist, and every watch
    // that missed that change must end.
    wait_until("three quarters of the writes", 20, at(total * 3 / 4)).await;
    let unseen = cluster.etcd.restart_unseen().await.unwrap();
    read!(&unseen);
    let mut behind = etcd_client::Client::connect([unseen.as_str()], None)
        .await
        .unwrap();
    let direct = json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "written-behind-their-backs", "namespace": NS,
                     "uid": "00000000-0000-0000-0000-00000000beef",
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "data": {"k": "v"}
    });
    let key = format!("{PREFIX}written-behind-their-backs");
    behind
        .put(key.as_str(), direct.to_string(), None)
        .await
        .unwrap();
    behind
        .put(key.as_str(), direct.to_string(), None)
        .await
        .unwrap();
    let upto = read!(&unseen);
    behind.compact(upto, None).await.unwrap();
    drop(behind);
    cluster.etcd.restart().await.unwrap();

    // 4. The rest of the writes, then every watcher must have seen all of etcd's history.
    for w in writers {
        tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("the writers finish")
            .expect("a writer failed");
    }
    history.extend(read_history(&endpoint, read_to + 1).await.0);
    let last = history.last().expect("a history").rev;
    wait_until(
        "every watcher to reach the end of etcd's history",
        15,
        || {
            logs.iter().all(|(_, l)| {
                l.lock().unwrap().iter().rev().find_map(|s| match s {
                    Seen::Event(_, _, rv) | Seen::List(rv, _) => Some(*rv),
                    _ => None,
                }) >= Some(last)
            })
        },
    )
    .await;
    for t in &tasks {
        t.abort();
    }
    assert!(
        history.len() >= total,
        "etcd's history has {} changes for {total} writes",
        history.len()
    );
    for (who, log) in &logs {
        let log = log.lock().unwrap().clone();
        let (closed, expired) = check(who, &log, &history);
        eprintln!(
            "{who}: {} events, {closed} watches closed, {expired} told 410",
            log.iter().filter(|s| matches!(s, Seen::Event(..))).count()
        );
        // Phase 3 compacted what every cache would resume from: every watcher was told.
        assert!(
            expired >= 1,
            "{who} was never told 410 after its apiserver relisted: {log:?}"
        );
    }
    second.stop().await;
    cluster.stop().await;
}

/// etcd's count of open watchers, from its `/metrics` on the client port.
async fn etcd_watchers(endpoint: &str) -> i64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hostport = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(hostport).await.unwrap();
    let req = format!("GET /metrics HTTP/1.0\r\nHost: {hostport}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix("etcd_debugging_mvcc_watcher_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("etcd reports its watchers") as i64
}

type Events = futures::stream::BoxStream<'static, kube::Result<WatchEvent<ConfigMap>>>;

/// The name of the next object a watch adds.
async fn next_added(s: &mut Events) -> String {
    match tokio::time::timeout(Duration::from_secs(10), s.next()).await {
        Ok(Some(Ok(WatchEvent::Added(o)))) => o.metadata.name.unwrap(),
        other => panic!("expected an ADDED event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_resuming_from_before_the_cache_window_hand_over_to_the_cache() {
    const WATCHERS: usize = 20;
    let c = TestCluster::start_with(&["--default-watch-cache-size=5"])
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client(&c.kubeconfig).await, "default");
    let baseline = etcd_watchers(&c.etcd.endpoint).await;
    let old_rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let make = |name: String| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
    };
    for i in 0..20 {
        cms.create(&PostParams::default(), &make(format!("before-{i}")))
            .await
            .unwrap();
    }
    // Older than the window of 5: each watch starts from etcd's history.
    let mut streams = Vec::new();
    for _ in 0..WATCHERS {
        let s = cms
            .watch(&WatchParams::default().timeout(60), &old_rv)
            .await
            .unwrap()
            .boxed();
        streams.push(s);
    }
    let mut names = vec![Vec::new(); WATCHERS];
    for (s, seen) in streams.iter_mut().zip(names.iter_mut()) {
        for _ in 0..20 {
            seen.push(next_added(s).await);
        }
    }
    // Caught up: the watchers now hang off the cache, and their etcd watches are gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let open = etcd_watchers(&c.etcd.endpoint).await;
        if open <= baseline {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} etcd watchers remain open, {baseline} before the watches"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..10 {
        cms.create(&PostParams::default(), &make(format!("after-{i}")))
            .await
            .unwrap();
    }
    for (s, seen) in streams.iter_mut().zip(names.iter_mut()) {
        for _ in 0..10 {
            seen.push(next_added(s).await);
        }
    }
    let want: Vec<String> = (0..20)
        .map(|i| format!("before-{i}"))
        .chain((0..10).map(|i| format!("after-{i}")))
        .collect();
    for seen in &names {
        assert_eq!(
            seen, &want,
            "each event once, in order, across the hand-over"
        );
    }
    c.stop().await;
}
