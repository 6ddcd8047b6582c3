//! The watch cache: one etcd watch over the whole key prefix feeds an in-memory copy of every
//! resource plus a window of recent events, so watches and cached lists cost no etcd work
//! however many clients there are. Consistent reads wait until the cache has caught up with
//! etcd's current revision (asking etcd for a progress notification when nothing is moving).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use api_types::resources::{storage_resources, ResourceInfo};
use etcd_client::{EventType, WatchOptions};
use tokio::sync::{broadcast, mpsc, watch};

use crate::metrics::Metrics;
use crate::object::CachedObject;
use crate::storage::{prefix_end, Storage, StorageError};

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
}

/// The cache of one storage resource.
pub struct ResourceCache {
    pub info: &'static ResourceInfo,
    state: RwLock<State>,
    tx: broadcast::Sender<Arc<Event>>,
    capacity: usize,
}

impl ResourceCache {
    fn new(info: &'static ResourceInfo, capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.clamp(1024, 1 << 16));
        ResourceCache {
            info,
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                events: VecDeque::new(),
                oldest: 0,
            }),
            tx,
            capacity,
        }
    }

    /// Current objects, optionally in one namespace, in key order.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<CachedObject>> {
        let state = self.state.read().expect("cache lock poisoned");
        collect(&state.objects, namespace)
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
        let live = self.tx.subscribe();
        match after {
            None => Ok(Subscription {
                initial: collect(&state.objects, namespace),
                backlog: Vec::new(),
                live,
                revision: current_revision,
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

    fn apply(&self, rel_key: String, kind: EventType, obj: Option<CachedObject>, rv: i64) {
        let mut state = self.state.write().expect("cache lock poisoned");
        let prev = state.objects.get(&rel_key).cloned();
        let event = match (kind, obj) {
            (EventType::Put, Some(obj)) => {
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
            (EventType::Delete, _) => {
                state.objects.remove(&rel_key);
                let Some(prev) = prev else { return };
                Event {
                    kind: EventKind::Deleted,
                    obj: Arc::new(prev.at_revision(self.info, rv)),
                    prev: Some(prev),
                }
            }
            (EventType::Put, None) => return,
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
        let _ = self.tx.send(event);
    }

    fn reset(&self, objects: BTreeMap<String, Arc<CachedObject>>, revision: i64) {
        let mut state = self.state.write().expect("cache lock poisoned");
        state.objects = objects;
        state.events.clear();
        state.oldest = revision;
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

/// Every resource's cache plus the revision they are all current to.
pub struct Cache {
    resources: HashMap<&'static str, Arc<ResourceCache>>,
    revision: watch::Sender<i64>,
    progress: mpsc::Sender<()>,
    progress_rx: std::sync::Mutex<Option<mpsc::Receiver<()>>>,
    storage: Storage,
    metrics: Metrics,
}

impl Cache {
    /// Loads every object from etcd; `run` then keeps the cache current.
    pub async fn load(
        storage: Storage,
        capacity: usize,
        metrics: Metrics,
    ) -> Result<Arc<Self>, StorageError> {
        let resources = storage_resources()
            .map(|info| (info.plural, Arc::new(ResourceCache::new(info, capacity))))
            .collect();
        let (progress, progress_rx) = mpsc::channel(1);
        let cache = Arc::new(Cache {
            resources,
            revision: watch::channel(0).0,
            progress,
            progress_rx: std::sync::Mutex::new(Some(progress_rx)),
            storage,
            metrics,
        });
        cache.reload().await?;
        Ok(cache)
    }

    pub fn resource(&self, storage_plural: &str) -> Option<&Arc<ResourceCache>> {
        self.resources.get(storage_plural)
    }

    /// Whether every resource's cache has its initial list and is not relisting (the
    /// `informer-sync` readiness check). A stub until the watch cache tracks relists: a
    /// loaded cache is synced.
    pub fn synced(&self) -> Result<(), String> {
        Ok(())
    }

    /// The revision every resource cache is current to.
    pub fn revision(&self) -> i64 {
        *self.revision.borrow()
    }

    /// Reads everything at one revision and replaces the cache's contents.
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
        self.revision.send_replace(revision);
        Ok(revision)
    }

    /// Splits `<prefix>/<resource>/<rest>` into the resource's cache and `<rest>`.
    fn split_key<'k>(&self, key: &'k str) -> Option<(&Arc<ResourceCache>, &'k str)> {
        let rest = key.strip_prefix(&self.storage.prefix)?.strip_prefix('/')?;
        let (plural, rel) = rest.split_once('/')?;
        Some((self.resources.get(plural)?, rel))
    }

    /// Follows etcd forever, reloading after a broken or compacted watch.
    pub async fn run(self: Arc<Self>) {
        let mut progress_rx = self
            .progress_rx
            .lock()
            .expect("progress lock poisoned")
            .take()
            .expect("the cache runs once");
        loop {
            if let Err(e) = self.follow(&mut progress_rx).await {
                tracing::warn!(error = %e, "etcd watch ended; reloading the cache");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "reloading the cache from etcd failed");
            }
        }
    }

    async fn follow(&self, progress_rx: &mut mpsc::Receiver<()>) -> Result<(), StorageError> {
        let root = self.storage.root();
        let start = self.revision() + 1;
        let options = WatchOptions::new()
            .with_range(prefix_end(&root))
            .with_start_revision(start)
            .with_progress_notify();
        let stream = self.storage.client().watch(root, Some(options)).await?;
        let (mut requests, mut responses) = stream.split();
        loop {
            tokio::select! {
                Some(()) = progress_rx.recv() => {
                    requests.request_progress().await?;
                }
                msg = responses.message() => {
                    let Some(resp) = msg? else {
                        return Err(StorageError::Unexpected("etcd closed the watch"));
                    };
                    if resp.canceled() || resp.compact_revision() > 0 {
                        return Err(StorageError::Unexpected("etcd canceled the watch"));
                    }
                    let mut newest = None;
                    for ev in resp.events() {
                        let Some(kv) = ev.kv() else { continue };
                        newest = Some(kv.mod_revision());
                        let key = String::from_utf8_lossy(kv.key());
                        let Some((rc, rel)) = self.split_key(&key) else { continue };
                        let obj = match ev.event_type() {
                            EventType::Put => match CachedObject::decode(rc.info, kv.value(), kv.mod_revision()) {
                                Ok(o) => Some(o),
                                Err(e) => {
                                    tracing::warn!(%key, error = %e, "skipping undecodable object");
                                    continue;
                                }
                            },
                            EventType::Delete => None,
                        };
                        rc.apply(rel.to_string(), ev.event_type(), obj, kv.mod_revision());
                        self.metrics
                            .storage_objects
                            .with_label_values(&[rc.info.plural])
                            .set(rc.len() as i64);
                    }
                    let rev = match newest {
                        Some(r) => r,
                        // A progress notification: everything up to the header's revision
                        // has been delivered.
                        None if !resp.created() => resp.header().map(|h| h.revision()).unwrap_or(0),
                        None => 0,
                    };
                    if rev > self.revision() {
                        self.revision.send_replace(rev);
                    }
                }
            }
        }
    }

    /// Waits until the cache is current to `revision`; false after `timeout`.
    pub async fn wait_for(&self, revision: i64, timeout: Duration) -> bool {
        let mut rx = self.revision.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if *rx.borrow_and_update() >= revision {
                return true;
            }
            // Writes outside our prefix move etcd's revision without sending us events; a
            // progress notification tells us we have seen everything up to it.
            let _ = self.progress.try_send(());
            let wait = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(100)),
                rx.changed(),
            );
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
