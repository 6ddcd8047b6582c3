//! The watch cache: one etcd watch over the whole key prefix feeds an in-memory copy of every
//! resource plus a window of recent events, so watches and cached lists cost no etcd work
//! however many clients there are. Consistent reads wait until the cache has caught up with
//! etcd's current revision (writing a progress marker, whose event proves the watch has
//! delivered everything before it, when nothing is moving).
//!
//! When the etcd watch ends, the cache resumes it from the last revision it has seen, which
//! loses nothing. Only when etcd no longer has that revision (compacted) does it relist; a
//! relist closes every live subscription, since its watchers may have missed events, and
//! their clients resume from their last resourceVersion (or get `410 Expired` and relist).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use api_types::resources::{storage_resources, ResourceInfo};
use tokio::sync::{broadcast, mpsc, watch};

use crate::metrics::Metrics;
use crate::object::CachedObject;
use crate::storage::{prefix_end, Storage, StorageError, StorageEventKind, WatchBatch, WatchFlags};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One change to one object. For deletions `obj` is the last state stamped with the
/// deletion's revision.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub obj: Arc<CachedObject>,
    pub prev: Option<Arc<CachedObject>>,
}

impl Event {
    pub fn rv(&self) -> i64 {
        self.obj.rv
    }
}

/// What a watcher gets from the cache: the events it must replay and a live subscription,
/// taken under one lock so nothing is missed or repeated between them.
pub struct Subscription {
    pub initial: Vec<Arc<CachedObject>>,
    pub backlog: Vec<Arc<Event>>,
    pub live: broadcast::Receiver<Arc<Event>>,
    /// The revision the cache was current to when subscribing.
    pub revision: i64,
}

pub enum SubscribeError {
    /// The requested revision is older than the cache's window; the oldest it can serve.
    TooOld { oldest: i64 },
}

struct State {
    /// Objects by `namespace/name` (or `name` for cluster-scoped resources).
    objects: BTreeMap<String, Arc<CachedObject>>,
    events: VecDeque<Arc<Event>>,
    /// Every event after this revision is in `events`.
    oldest: i64,
    /// The revision of the last change applied (or of the relist): `objects` are etcd's state
    /// at any revision from this one up to the next change.
    applied: i64,
    /// The live subscriptions of the current epoch. A relist replaces it: dropping the old
    /// sender ends every subscriber's stream once it has drained what it was sent.
    tx: broadcast::Sender<Arc<Event>>,
}

/// The cache of one storage resource.
pub struct ResourceCache {
    pub info: &'static ResourceInfo,
    state: RwLock<State>,
    capacity: usize,
}

impl ResourceCache {
    fn new(info: &'static ResourceInfo, capacity: usize) -> Self {
        ResourceCache {
            info,
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                events: VecDeque::new(),
                oldest: 0,
                applied: 0,
                tx: Self::channel(capacity),
            }),
            capacity,
        }
    }

    fn channel(capacity: usize) -> broadcast::Sender<Arc<Event>> {
        broadcast::channel(capacity.clamp(1024, 1 << 16)).0
    }

    /// The oldest revision a watch may resume from: every event after it is in the window.
    pub fn oldest(&self) -> i64 {
        self.state.read().expect("cache lock poisoned").oldest
    }

    /// Current objects, optionally in one namespace, in key order.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<CachedObject>> {
        let state = self.state.read().expect("cache lock poisoned");
        collect(&state.objects, namespace)
    }

    /// Current objects with the revision they are a consistent snapshot of: `at_least` (a
    /// revision the whole cache had reached before the call) or, if this resource has moved
    /// on since, its last change's revision. A watch from that revision repeats nothing.
    pub fn list_at(&self, namespace: Option<&str>, at_least: i64) -> (Vec<Arc<CachedObject>>, i64) {
        let state = self.state.read().expect("cache lock poisoned");
        (
            collect(&state.objects, namespace),
            at_least.max(state.applied),
        )
    }

    pub fn get(&self, rel_key: &str) -> Option<Arc<CachedObject>> {
        let state = self.state.read().expect("cache lock poisoned");
        state.objects.get(rel_key).cloned()
    }

    pub fn len(&self) -> usize {
        self.state
            .read()
            .expect("cache lock poisoned")
            .objects
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribes to changes after `after` (None: from the current state, which is returned
    /// as `initial`).
    pub fn subscribe(
        &self,
        namespace: Option<&str>,
        after: Option<i64>,
        current_revision: i64,
    ) -> Result<Subscription, SubscribeError> {
        let state = self.state.read().expect("cache lock poisoned");
        let live = state.tx.subscribe();
        match after {
            None => Ok(Subscription {
                initial: collect(&state.objects, namespace),
                backlog: Vec::new(),
                live,
                revision: current_revision.max(state.applied),
            }),
            Some(rv) if rv < state.oldest => Err(SubscribeError::TooOld {
                oldest: state.oldest,
            }),
            Some(rv) => {
                // Events are in revision order; find the first one after `rv`.
                let start = state.events.partition_point(|e| e.rv() <= rv);
                Ok(Subscription {
                    initial: Vec::new(),
                    backlog: state.events.range(start..).cloned().collect(),
                    live,
                    revision: current_revision,
                })
            }
        }
    }

    fn apply(&self, rel_key: String, kind: StorageEventKind, obj: Option<CachedObject>, rv: i64) {
        let mut state = self.state.write().expect("cache lock poisoned");
        state.applied = state.applied.max(rv);
        let prev = state.objects.get(&rel_key).cloned();
        let event = match (kind, obj) {
            (StorageEventKind::Put, Some(obj)) => {
                let obj = Arc::new(obj);
                state.objects.insert(rel_key, obj.clone());
                Event {
                    kind: if prev.is_some() {
                        EventKind::Modified
                    } else {
                        EventKind::Added
                    },
                    obj,
                    prev,
                }
            }
            (StorageEventKind::Delete, _) => {
                state.objects.remove(&rel_key);
                let Some(prev) = prev else { return };
                Event {
                    kind: EventKind::Deleted,
                    obj: Arc::new(prev.at_revision(self.info, rv)),
                    prev: Some(prev),
                }
            }
            (StorageEventKind::Put, None) => return,
        };
        let event = Arc::new(event);
        state.events.push_back(event.clone());
        while state.events.len() > self.capacity {
            if let Some(old) = state.events.pop_front() {
                state.oldest = old.rv();
            }
        }
        // Sent under the lock so a subscriber sees each event exactly once: either in its
        // backlog or on its receiver.
        let _ = state.tx.send(event);
    }

    /// Replaces the contents with a relist at `revision` and starts a new epoch: every live
    /// subscription ends, because what changed between its last event and `revision` is
    /// not in the window (a resuming client is served that from etcd's history, or told
    /// `410 Expired`).
    fn reset(&self, objects: BTreeMap<String, Arc<CachedObject>>, revision: i64) {
        let mut state = self.state.write().expect("cache lock poisoned");
        state.objects = objects;
        state.events.clear();
        state.oldest = revision;
        state.applied = revision;
        state.tx = Self::channel(self.capacity);
    }
}

fn collect(
    objects: &BTreeMap<String, Arc<CachedObject>>,
    namespace: Option<&str>,
) -> Vec<Arc<CachedObject>> {
    match namespace {
        Some(ns) => {
            let start = format!("{ns}/");
            let end = prefix_end(&start);
            objects.range(start..end).map(|(_, v)| v.clone()).collect()
        }
        None => objects.values().cloned().collect(),
    }
}

/// Where the cache stands, for `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The initial list has not been loaded yet.
    Loading,
    /// Current (or resuming its etcd watch, which loses nothing).
    Synced,
    /// Relisting after its place in etcd's history was compacted away.
    Relisting,
}

/// Every resource's cache plus the revision they are all current to.
pub struct Cache {
    resources: HashMap<&'static str, Arc<ResourceCache>>,
    /// Never moves backwards: a consistent read waits on it.
    revision: watch::Sender<i64>,
    phase: Mutex<Phase>,
    progress: mpsc::Sender<()>,
    progress_rx: Mutex<Option<mpsc::Receiver<()>>>,
    storage: Storage,
    metrics: Metrics,
}

/// How long the cache waits before retrying etcd, doubling up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Cache {
    /// An empty cache, not yet synced; `run` loads it and then keeps it current.
    pub fn new(storage: Storage, capacity: usize, metrics: Metrics) -> Arc<Self> {
        let resources = storage_resources()
            .map(|info| (info.plural, Arc::new(ResourceCache::new(info, capacity))))
            .collect();
        let (progress, progress_rx) = mpsc::channel(1);
        Arc::new(Cache {
            resources,
            revision: watch::channel(0).0,
            phase: Mutex::new(Phase::Loading),
            progress,
            progress_rx: Mutex::new(Some(progress_rx)),
            storage,
            metrics,
        })
    }

    /// Loads every object from etcd; `run` then keeps the cache current.
    pub async fn load(
        storage: Storage,
        capacity: usize,
        metrics: Metrics,
    ) -> Result<Arc<Self>, StorageError> {
        let cache = Self::new(storage, capacity, metrics);
        cache.reload().await?;
        Ok(cache)
    }

    /// Whether every resource cache holds a complete list that it keeps current (the
    /// `informer-sync` readiness check): not before the initial list, nor during a relist.
    pub fn synced(&self) -> Result<(), String> {
        match *self.phase.lock().expect("phase lock poisoned") {
            Phase::Synced => Ok(()),
            Phase::Loading => Err("the watch cache has not loaded its initial list".into()),
            Phase::Relisting => Err("the watch cache is relisting from etcd".into()),
        }
    }

    fn set_phase(&self, phase: Phase) {
        *self.phase.lock().expect("phase lock poisoned") = phase;
    }

    /// Waits up to `timeout` for `synced`.
    pub async fn wait_synced(&self, timeout: Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.synced() {
                Ok(()) => return Ok(()),
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    pub fn resource(&self, storage_plural: &str) -> Option<&Arc<ResourceCache>> {
        self.resources.get(storage_plural)
    }

    /// The revision every resource cache is current to.
    pub fn revision(&self) -> i64 {
        *self.revision.borrow()
    }

    /// Reads everything at one revision and replaces the cache's contents, closing every
    /// live subscription.
    async fn reload(&self) -> Result<i64, StorageError> {
        let root = self.storage.root();
        let end = prefix_end(&root);
        let mut start = root.clone();
        let mut revision = 0;
        let mut loaded: HashMap<&'static str, BTreeMap<String, Arc<CachedObject>>> = HashMap::new();
        loop {
            let page = self
                .storage
                .range(&start, &end, revision, 1000, "all")
                .await?;
            revision = page.revision;
            for kv in &page.kvs {
                let key = String::from_utf8_lossy(&kv.key);
                let Some((rc, rel)) = self.split_key(&key) else {
                    continue;
                };
                match CachedObject::decode(rc.info, &kv.value, kv.mod_revision) {
                    Ok(obj) => {
                        loaded
                            .entry(rc.info.plural)
                            .or_default()
                            .insert(rel.to_string(), Arc::new(obj));
                    }
                    Err(e) => tracing::warn!(%key, error = %e, "skipping undecodable object"),
                }
            }
            match page.kvs.last() {
                Some(last) if page.more => {
                    let mut next = last.key.clone();
                    next.push(0);
                    start = String::from_utf8_lossy(&next).into_owned();
                }
                _ => break,
            }
        }
        for (plural, rc) in &self.resources {
            let objects = loaded.remove(plural).unwrap_or_default();
            self.metrics
                .storage_objects
                .with_label_values(&[rc.info.plural])
                .set(objects.len() as i64);
            rc.reset(objects, revision);
        }
        self.advance(revision);
        self.set_phase(Phase::Synced);
        Ok(revision)
    }

    /// Moves the cache's revision forward (never back: a relist of a restarted etcd may
    /// answer with a revision no newer than the last progress notification).
    fn advance(&self, revision: i64) {
        self.revision.send_if_modified(|current| {
            if revision > *current {
                *current = revision;
                true
            } else {
                false
            }
        });
    }

    /// Splits `<prefix>/<resource>/<rest>` into the resource's cache and `<rest>`.
    fn split_key<'k>(&self, key: &'k str) -> Option<(&Arc<ResourceCache>, &'k str)> {
        let rest = key.strip_prefix(&self.storage.prefix)?.strip_prefix('/')?;
        let (plural, rel) = rest.split_once('/')?;
        Some((self.resources.get(plural)?, rel))
    }

    /// Follows etcd forever: loads the initial list if `load` did not, resumes a broken
    /// watch from the last revision seen, and relists only when that revision is compacted.
    pub async fn run(self: Arc<Self>) {
        let mut progress_rx = self
            .progress_rx
            .lock()
            .expect("progress lock poisoned")
            .take()
            .expect("the cache runs once");
        let mut backoff = MIN_BACKOFF;
        loop {
            if self.synced().is_err() {
                if let Err(e) = self.reload().await {
                    tracing::warn!(error = %e, "listing the watch cache from etcd failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            let resumed_at = self.revision();
            match self.follow(&mut progress_rx).await {
                Err(StorageError::Compacted(rev)) => {
                    tracing::warn!(
                        revision = rev,
                        "the watch cache's place in etcd's history was compacted; relisting"
                    );
                    self.set_phase(Phase::Relisting);
                    backoff = MIN_BACKOFF;
                    continue;
                }
                Err(e) => tracing::warn!(error = %e, "etcd watch ended; resuming it"),
                Ok(()) => {}
            }
            // A watch that delivered something was healthy: retry it at once next time.
            if self.revision() > resumed_at {
                backoff = MIN_BACKOFF;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Applies etcd's changes after the cache's revision until the watch ends.
    async fn follow(&self, progress_rx: &mut mpsc::Receiver<()>) -> Result<(), StorageError> {
        let root = self.storage.root();
        let start = self.revision() + 1;
        let flags = WatchFlags {
            prev_kv: false,
            progress_notify: true,
        };
        let mut stream = self.storage.watch(&root, start, flags).await?;
        // One marker write at a time serves every reader waiting meanwhile.
        let mut marker: Option<tokio::task::JoinHandle<()>> = None;
        loop {
            tokio::select! {
                Some(()) = progress_rx.recv() => {
                    if marker.as_ref().is_none_or(|m| m.is_finished()) {
                        let storage = self.storage.clone();
                        marker = Some(tokio::spawn(async move {
                            if let Err(e) = storage.mark_progress().await {
                                tracing::debug!(error = %e, "writing the progress marker failed");
                            }
                        }));
                    }
                }
                batch = stream.next() => match batch? {
                    WatchBatch::Progress(rev) => self.advance(rev),
                    WatchBatch::Events(events) => {
                        let mut newest = 0;
                        for ev in events {
                            newest = newest.max(ev.mod_revision);
                            let key = String::from_utf8_lossy(&ev.key);
                            let Some((rc, rel)) = self.split_key(&key) else { continue };
                            let obj = match ev.kind {
                                StorageEventKind::Put => {
                                    match CachedObject::decode(rc.info, &ev.value, ev.mod_revision) {
                                        Ok(o) => Some(o),
                                        Err(e) => {
                                            tracing::warn!(%key, error = %e, "skipping undecodable object");
                                            continue;
                                        }
                                    }
                                }
                                StorageEventKind::Delete => None,
                            };
                            rc.apply(rel.to_string(), ev.kind, obj, ev.mod_revision);
                            self.metrics
                                .storage_objects
                                .with_label_values(&[rc.info.plural])
                                .set(rc.len() as i64);
                        }
                        self.advance(newest);
                    }
                }
            }
        }
    }

    /// Waits until the cache is current to `revision`; false after `timeout`.
    pub async fn wait_for(&self, revision: i64, timeout: Duration) -> bool {
        let mut rx = self.revision.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut step = Duration::from_millis(10);
        loop {
            if *rx.borrow_and_update() >= revision {
                return true;
            }
            // Writes outside our prefix move etcd's revision without sending us events; the
            // progress marker's event tells us we have seen everything up to it. Events on
            // their way usually arrive within milliseconds: give them that long first, so a
            // read right after a write costs no marker.
            if step > Duration::from_millis(10) {
                let _ = self.progress.try_send(());
            }
            let wait = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + step),
                rx.changed(),
            );
            step = Duration::from_millis(100);
            match wait.await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return false,
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    return *rx.borrow() >= revision
                }
                Err(_) => {}
            }
        }
    }

    /// Waits until the cache reflects everything etcd has now (a consistent read).
    pub async fn wait_fresh(&self, timeout: Duration) -> Result<i64, StorageError> {
        let current = self.storage.current_revision().await?;
        if self.wait_for(current, timeout).await {
            Ok(self.revision().max(current))
        } else {
            Err(StorageError::Unexpected(
                "the watch cache did not catch up with etcd",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configmaps() -> ResourceCache {
        let info = storage_resources()
            .find(|i| i.plural == "configmaps")
            .expect("configmaps are stored");
        ResourceCache::new(info, 10)
    }

    fn put(rc: &ResourceCache, name: &str, rv: i64) {
        let value = format!(r#"{{"metadata":{{"name":"{name}","namespace":"ns"}}}}"#);
        let obj = CachedObject::decode(rc.info, value.as_bytes(), rv).unwrap();
        rc.apply(format!("ns/{name}"), StorageEventKind::Put, Some(obj), rv);
    }

    #[tokio::test]
    async fn a_relist_closes_every_live_subscription_and_starts_the_window_at_its_revision() {
        let rc = configmaps();
        rc.reset(BTreeMap::new(), 10);
        put(&rc, "a", 11);
        let mut before = rc.subscribe(None, Some(10), 11).ok().unwrap();
        assert_eq!(before.backlog.len(), 1);
        put(&rc, "b", 12);
        // The relist at 20 does not know what happened in between: the watcher must end.
        rc.reset(BTreeMap::new(), 20);
        let sent_before = before.live.recv().await.unwrap();
        assert_eq!(sent_before.rv(), 12);
        assert!(matches!(
            before.live.recv().await,
            Err(broadcast::error::RecvError::Closed)
        ));
        assert_eq!(rc.oldest(), 20);
        assert!(matches!(
            rc.subscribe(None, Some(12), 20),
            Err(SubscribeError::TooOld { oldest: 20 })
        ));
        // A subscription of the new epoch lives on and sees what follows.
        let mut after = rc.subscribe(None, Some(20), 20).ok().unwrap();
        put(&rc, "c", 21);
        assert_eq!(after.live.recv().await.unwrap().rv(), 21);
    }

    #[test]
    fn a_list_is_a_snapshot_at_its_own_revision() {
        let rc = configmaps();
        rc.reset(BTreeMap::new(), 5);
        put(&rc, "a", 7);
        // The whole cache had published 6 when the list began; this resource is at 7.
        let (objects, rv) = rc.list_at(None, 6);
        assert_eq!((objects.len(), rv), (1, 7));
        let (_, rv) = rc.list_at(None, 9);
        assert_eq!(rv, 9);
    }

    #[tokio::test]
    async fn the_revision_never_moves_back_and_readiness_waits_for_the_first_list() {
        let storage = Storage::connect(
            &["http://127.0.0.1:1".to_string()],
            "/registry",
            Metrics::new(),
        )
        .await
        .unwrap();
        let cache = Cache::new(storage, 10, Metrics::new());
        assert_eq!(
            cache.synced().unwrap_err(),
            "the watch cache has not loaded its initial list"
        );
        cache.advance(30);
        cache.advance(25);
        assert_eq!(cache.revision(), 30);
        cache.set_phase(Phase::Relisting);
        assert!(cache.synced().is_err());
        cache.set_phase(Phase::Synced);
        assert!(cache.synced().is_ok());
    }
}
