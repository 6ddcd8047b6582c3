//! Watch: a chunked stream of `{"type", "object"}` lines served from the watch cache (or, for
//! a resourceVersion older than the cache's window, from etcd's history), with selectors,
//! bookmarks, `sendInitialEvents` and timeouts as upstream serves them.
//!
//! A watch never skips an event silently: when the cache relists (its place in etcd's
//! history was compacted), the cache closes its subscription and the response ends, so the
//! client resumes from the last resourceVersion it saw.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse};
use api_types::resources::ResourceInfo;
use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::cache::{Event, EventKind, ResourceCache, SubscribeError};
use crate::error::{ApiError, ApiResult};
use crate::object::CachedObject;
use crate::request::{Query, ResourceRequest};
use crate::rest::{encode_cached, Filter};
use crate::storage::{StorageError, StorageEventKind, WatchBatch, WatchFlags};
use crate::table::{self, Rendering};
use crate::AppState;

/// How often an idle watch with bookmarks enabled gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// Where a watch starts.
enum Start {
    /// Synthetic ADDED events for the current state, then changes.
    State { end_bookmark: bool },
    /// Changes after this revision.
    After(i64),
}

pub async fn watch(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
) -> ApiResult<HttpResponse> {
    let mut filter = Filter::new(rr, q)?;
    if let Some(name) = &rr.name {
        // A watch on one object is a watch on its collection filtered by name.
        let sel = format!("metadata.name={name}");
        let extra = api_types::fields::FieldSelector::parse(&sel)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        filter.fields.requirements.extend(extra.requirements);
    }
    let bookmarks = q.flag("allowWatchBookmarks")?;
    let send_initial = match q.get("sendInitialEvents") {
        None => None,
        Some(_) => Some(q.flag("sendInitialEvents")?),
    };
    let rv = q.get("resourceVersion").unwrap_or("");
    let rv_match = q.get("resourceVersionMatch").unwrap_or("");
    let requested: Option<i64> = match rv {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}")))?,
        ),
    };
    let start = match send_initial {
        Some(true) => {
            if rv_match != "NotOlderThan" {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if !bookmarks {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "allowWatchBookmarks: Forbidden: sendInitialEvents requires allowWatchBookmarks=true",
                ));
            }
            Start::State { end_bookmark: true }
        }
        Some(false) | None => {
            if !rv_match.is_empty() && send_initial.is_none() {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            // sendInitialEvents=false skips the synthetic ADDED events of the current state.
            let skip_state = send_initial == Some(false);
            match (requested, skip_state) {
                (None | Some(0), false) => Start::State {
                    end_bookmark: false,
                },
                (None, true) => Start::After(st.cache.wait_fresh(Duration::from_secs(3)).await?),
                (Some(0), true) => Start::After(st.cache.revision()),
                (Some(n), _) => Start::After(n),
            }
        }
    };
    // A cache that is (re)listing cannot tell what a watcher has missed: wait for it, then
    // answer as upstream does while its watch cache initializes.
    if st.cache.wait_synced(Duration::from_secs(3)).await.is_err() {
        return Err(ApiError::storage_initializing());
    }
    // Consistent starting points wait for the cache to catch up with etcd.
    match (&start, requested.as_ref()) {
        (Start::State { .. }, None) => {
            st.cache
                .wait_fresh(Duration::from_secs(3))
                .await
                .map_err(|_| ApiError::timeout("the watch cache is not caught up with etcd"))?;
        }
        (Start::State { .. }, Some(n)) | (Start::After(n), _)
            if *n > 0 && !st.cache.wait_for(*n, Duration::from_secs(3)).await =>
        {
            return Err(ApiError::timeout(format!(
                "Too large resource version: {n}, current: {}",
                st.cache.revision()
            )));
        }
        _ => {}
    }
    let timeout = match q.int("timeoutSeconds")? {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        _ => {
            // Upstream spreads watch lifetimes between the minimum request timeout and twice it.
            let min = st.min_request_timeout.as_secs().max(1);
            Duration::from_secs(rand::rng().random_range(min..=2 * min))
        }
    };
    let rendering = table::rendering(req);
    let out = Output {
        info: rr.info,
        rendering,
        include_object: q.get("includeObject").unwrap_or("").to_string(),
        query: q.clone(),
    };

    let rc = st
        .cache
        .resource(filter.sinfo.plural)
        .expect("every storage resource is cached")
        .clone();
    let ns = if filter.sinfo.namespaced {
        filter.namespace.clone()
    } else {
        None
    };
    let revision_before = st.cache.revision();
    let after = match start {
        Start::State { .. } => None,
        Start::After(n) => Some(n),
    };
    let end_bookmark = matches!(start, Start::State { end_bookmark: true });
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let source = match rc.subscribe(ns.as_deref(), after, revision_before) {
        Ok(sub) => Source::Cache(sub),
        Err(SubscribeError::TooOld { oldest }) => {
            let from = after.unwrap_or(0);
            Source::Etcd(etcd_history(st, &filter, from, oldest))
        }
    };
    let labels = [rr.info.group, rr.info.version, rr.info.plural];
    let gauge = st
        .metrics
        .longrunning
        .with_label_values(&["WATCH", labels[0], labels[1], labels[2]]);
    let events_counter =
        st.metrics
            .watch_events
            .with_label_values(&[rr.info.group, rr.info.version, rr.info.kind]);
    let cache = st.cache.clone();
    gauge.inc();
    tokio::spawn(async move {
        let w = Watcher {
            filter,
            out,
            tx,
            bookmarks,
            events_counter,
        };
        w.run(source, end_bookmark, timeout, cache, rc, ns).await;
        gauge.dec();
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let stream = futures::StreamExt::map(stream, Ok::<Bytes, std::convert::Infallible>);
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-cache, private"))
        .streaming(stream))
}

enum Source {
    Cache(crate::cache::Subscription),
    Etcd(mpsc::Receiver<Result<Arc<Event>, ApiError>>),
}

/// How a watcher renders objects.
struct Output {
    info: &'static ResourceInfo,
    rendering: Rendering,
    include_object: String,
    query: Query,
}

impl Output {
    fn event_line(&self, kind: &str, obj: &CachedObject) -> Option<Bytes> {
        let object: Bytes = match self.rendering {
            Rendering::Json => encode_cached(self.info, obj).ok()?,
            r => {
                let v: Value = serde_json::from_slice(&encode_cached(self.info, obj).ok()?).ok()?;
                let rv = obj.rv.to_string();
                let t = table::render(
                    self.info,
                    r,
                    &self.query,
                    vec![v],
                    json!({"resourceVersion": rv}),
                    false,
                );
                let _ = &self.include_object;
                Bytes::from(serde_json::to_vec(&t).ok()?)
            }
        };
        let mut line = Vec::with_capacity(object.len() + 32);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(kind.as_bytes());
        line.extend_from_slice(b"\",\"object\":");
        line.extend_from_slice(&object);
        line.extend_from_slice(b"}\n");
        Some(Bytes::from(line))
    }

    fn bookmark(&self, rv: i64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": meta});
        let mut line = json!({"type": "BOOKMARK", "object": obj}).to_string();
        line.push('\n');
        Bytes::from(line)
    }

    fn error(e: &ApiError) -> Bytes {
        let mut line = json!({"type": "ERROR", "object": e.to_status()}).to_string();
        line.push('\n');
        Bytes::from(line)
    }
}

struct Watcher {
    filter: Filter,
    out: Output,
    tx: mpsc::Sender<Bytes>,
    bookmarks: bool,
    events_counter: prometheus::IntCounter,
}

impl Watcher {
    /// The type a watcher with a selector sees for `ev`, if any: objects moving into the
    /// selection appear as ADDED, objects moving out as DELETED.
    fn visible(&self, ev: &Event) -> Option<EventKind> {
        let now = self.filter.matches(&ev.obj);
        match ev.kind {
            EventKind::Added => now.then_some(EventKind::Added),
            EventKind::Deleted => now.then_some(EventKind::Deleted),
            EventKind::Modified => {
                let before = ev.prev.as_ref().is_some_and(|p| self.filter.matches(p));
                match (before, now) {
                    (true, true) => Some(EventKind::Modified),
                    (false, true) => Some(EventKind::Added),
                    (true, false) => Some(EventKind::Deleted),
                    (false, false) => None,
                }
            }
        }
    }

    async fn send(&self, line: Bytes) -> bool {
        self.tx.send(line).await.is_ok()
    }

    /// Sends `ev` if the watcher sees it; false once the client is gone.
    async fn send_event(&self, ev: &Event) -> bool {
        let Some(kind) = self.visible(ev) else {
            return true;
        };
        let Some(line) = self.out.event_line(kind.as_str(), &ev.obj) else {
            return true;
        };
        self.events_counter.inc();
        self.send(line).await
    }

    /// Sends etcd's history until it reaches the cache's window, then hands over to the
    /// cache: a watcher costs an etcd watch of its own only while it catches up. None when
    /// the watch is over.
    async fn catch_up(
        &self,
        mut rx: mpsc::Receiver<Result<Arc<Event>, ApiError>>,
        deadline: tokio::time::Instant,
        cache: &crate::cache::Cache,
        rc: &ResourceCache,
        ns: Option<&str>,
    ) -> Option<(crate::cache::Subscription, i64)> {
        loop {
            let sent = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return None,
                _ = self.tx.closed() => return None,
                msg = rx.recv() => match msg {
                    Some(Ok(ev)) => {
                        if !self.send_event(&ev).await {
                            return None;
                        }
                        ev.rv()
                    }
                    Some(Err(e)) => {
                        let _ = self.send(Output::error(&e)).await;
                        return None;
                    }
                    None => return None,
                }
            };
            // Each revision changes one key (every write is a one-key transaction), so
            // the cache's events after `sent` are exactly those not sent yet. If the cache
            // is behind etcd's own watch, the events up to `sent` it delivers later are
            // skipped by the caller.
            if sent >= rc.oldest() {
                if let Ok(sub) = rc.subscribe(ns, Some(sent), cache.revision()) {
                    return Some((sub, sent));
                }
            }
        }
    }

    async fn run(
        self,
        source: Source,
        end_bookmark: bool,
        timeout: Duration,
        cache: Arc<crate::cache::Cache>,
        rc: Arc<ResourceCache>,
        ns: Option<String>,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        let (sub, sent) = match source {
            Source::Etcd(rx) => {
                match self
                    .catch_up(rx, deadline, &cache, &rc, ns.as_deref())
                    .await
                {
                    Some(handed_over) => handed_over,
                    None => return,
                }
            }
            Source::Cache(sub) => (sub, 0),
        };
        let mut last_rv = sub.revision.max(sent);
        for obj in &sub.initial {
            if self.filter.matches(obj) {
                if let Some(line) = self.out.event_line("ADDED", obj) {
                    self.events_counter.inc();
                    if !self.send(line).await {
                        return;
                    }
                }
            }
        }
        if end_bookmark && !self.send(self.out.bookmark(sub.revision, true)).await {
            return;
        }
        for ev in sub.backlog.iter().filter(|e| e.rv() > sent) {
            last_rv = last_rv.max(ev.rv());
            if !self.send_event(ev).await {
                return;
            }
        }
        let mut live = sub.live;
        let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = self.tx.closed() => return,
                _ = ticker.tick(), if self.bookmarks => {
                    // Every event up to the cache's revision has been broadcast before
                    // the revision was published: drain them, then bookmark it.
                    let rev = cache.revision();
                    loop {
                        match live.try_recv() {
                            Ok(ev) if ev.rv() <= sent => {}
                            Ok(ev) => {
                                last_rv = last_rv.max(ev.rv());
                                if !self.send_event(&ev).await { return }
                            }
                            Err(broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => return,
                        }
                    }
                    let rev = rev.max(last_rv);
                    if !self.send(self.out.bookmark(rev, false)).await { return }
                }
                msg = live.recv() => match msg {
                    Ok(ev) if ev.rv() <= sent => {}
                    Ok(ev) => {
                        last_rv = last_rv.max(ev.rv());
                        if !self.send_event(&ev).await { return }
                    }
                    // A watcher too slow to keep up is closed, as upstream does; the
                    // client resumes from the last revision it saw.
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// Streams `filter`'s resource's events after `from` straight from etcd's history, for
/// watches older than the cache's window. A compacted revision ends it with `410 Expired`;
/// any other end of etcd's watch ends the stream, and the client resumes.
fn etcd_history(
    st: &AppState,
    filter: &Filter,
    from: i64,
    oldest_cached: i64,
) -> mpsc::Receiver<Result<Arc<Event>, ApiError>> {
    let (tx, rx) = mpsc::channel(256);
    let sinfo = filter.sinfo;
    let prefix = st.storage.resource_prefix(sinfo.plural);
    let storage = st.storage.clone();
    tokio::spawn(async move {
        let expired = || {
            ApiError::expired(format!(
                "too old resource version: {from} ({oldest_cached})"
            ))
        };
        if from <= 0 {
            let _ = tx.send(Err(expired())).await;
            return;
        }
        let flags = WatchFlags {
            prev_kv: true,
            progress_notify: false,
        };
        let mut stream = match storage.watch(&prefix, from + 1, flags).await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Err(ApiError::internal(e.to_string()))).await;
                return;
            }
        };
        loop {
            // A watcher that handed over to the cache drops its receiver: stop watching etcd.
            let next = tokio::select! {
                _ = tx.closed() => return,
                next = stream.next() => next,
            };
            let events = match next {
                Ok(WatchBatch::Events(events)) => events,
                Ok(WatchBatch::Progress(_)) => continue,
                Err(StorageError::Compacted(_)) => {
                    let _ = tx.send(Err(expired())).await;
                    return;
                }
                Err(_) => return,
            };
            for ev in events {
                let prev = ev
                    .prev
                    .as_ref()
                    .and_then(|p| CachedObject::decode(sinfo, &p.value, p.mod_revision).ok())
                    .map(Arc::new);
                let event = match ev.kind {
                    StorageEventKind::Put => {
                        let Ok(obj) = CachedObject::decode(sinfo, &ev.value, ev.mod_revision)
                        else {
                            continue;
                        };
                        let kind = if ev.create_revision == ev.mod_revision {
                            EventKind::Added
                        } else {
                            EventKind::Modified
                        };
                        Event {
                            kind,
                            obj: Arc::new(obj),
                            prev,
                        }
                    }
                    StorageEventKind::Delete => {
                        let Some(p) = prev else { continue };
                        Event {
                            kind: EventKind::Deleted,
                            obj: Arc::new(p.at_revision(sinfo, ev.mod_revision)),
                            prev: Some(p),
                        }
                    }
                };
                if tx.send(Ok(Arc::new(event))).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}
