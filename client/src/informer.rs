//! Shared informers on kube-runtime's `watcher` and reflector store: one list-watch per resource
//! type feeding an in-memory `Store` and any number of subscribers that get add/update/delete
//! notifications (to enqueue keys), with a `wait_until_synced` gate and a factory that hands
//! every component the same informer for the same resource.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{Lookup, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::key_of;
use crate::workqueue::WorkQueue;

/// Errors of informers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{resource} informer did not sync within {timeout:?}")]
    SyncTimeout { resource: String, timeout: Duration },
    #[error("{0} informer stopped before it synced")]
    Stopped(String),
}

/// What happened to an object, as seen by the informer's store. The objects are the ones in
/// the store (shared, not copied).
#[derive(Debug)]
pub enum Notification<K> {
    Added(Arc<K>),
    /// Also sent with `old` and `new` equal for objects re-seen on a relist or a resync.
    Updated {
        old: Arc<K>,
        new: Arc<K>,
    },
    /// The object's last known state.
    Deleted(Arc<K>),
}

impl<K> Clone for Notification<K> {
    fn clone(&self) -> Self {
        match self {
            Self::Added(o) => Self::Added(o.clone()),
            Self::Updated { old, new } => Self::Updated {
                old: old.clone(),
                new: new.clone(),
            },
            Self::Deleted(o) => Self::Deleted(o.clone()),
        }
    }
}

impl<K: Resource> Notification<K> {
    /// The object now (the deleted object's last state for a deletion).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Self::Added(o) | Self::Deleted(o) => o,
            Self::Updated { new, .. } => new,
        }
    }

    /// The object's `namespace/name` key.
    pub fn key(&self) -> String {
        key_of(self.object().as_ref())
    }
}

/// A subscriber's stream of notifications. Notifications queue up without bound, as upstream's
/// per-listener buffers do, so a slow consumer never holds up the watch or other consumers.
pub struct Subscription<K> {
    rx: mpsc::UnboundedReceiver<Notification<K>>,
}

impl<K> Subscription<K> {
    /// The next notification; `None` once the informer has stopped.
    pub async fn recv(&mut self) -> Option<Notification<K>> {
        self.rx.recv().await
    }

    /// A notification if one is already waiting.
    pub fn try_recv(&mut self) -> Option<Notification<K>> {
        self.rx.try_recv().ok()
    }
}

impl<K> Stream for Subscription<K> {
    type Item = Notification<K>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// The bounds an informer's object type needs: typed k8s-openapi objects and `DynamicObject`
/// both qualify.
pub trait InformerResource:
    Resource<DynamicType = Self::Dyn> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
    type Dyn: Clone + Eq + Hash + Debug + Send + Sync + 'static;
}

impl<K> InformerResource for K
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Clone + Eq + Hash + Debug + Send + Sync + 'static,
{
    type Dyn = K::DynamicType;
}

/// State shared by an informer's handles and its driver task.
struct Shared<K: InformerResource> {
    store: Store<K>,
    dyntype: K::Dyn,
    /// Held while the driver changes the store and notifies, so a new subscriber's snapshot
    /// and the notifications after it line up exactly.
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Notification<K>>>>,
    synced: watch::Sender<bool>,
    /// What the informer watches, for messages (`configmaps` or the full URL).
    resource: String,
}

impl<K: InformerResource> Shared<K> {
    fn subscribers(&self) -> MutexGuard<'_, Vec<mpsc::UnboundedSender<Notification<K>>>> {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn notify<K>(subs: &mut Vec<mpsc::UnboundedSender<Notification<K>>>, n: Notification<K>) {
    // Dropped subscriptions are pruned here rather than on drop, which needs no back-pointer.
    subs.retain(|tx| tx.send(n.clone()).is_ok());
}

/// Aborts the driver when the last informer handle goes away.
struct DriverHandle(JoinHandle<()>);

impl Drop for DriverHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running list-watch of one resource with an in-memory store. Cloning gives another handle
/// to the same informer; the watch stops when the last handle is dropped or on [`stop`].
///
/// [`stop`]: Informer::stop
pub struct Informer<K: InformerResource> {
    shared: Arc<Shared<K>>,
    driver: Arc<DriverHandle>,
}

impl<K: InformerResource> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            driver: self.driver.clone(),
        }
    }
}

impl<K: InformerResource> Informer<K> {
    /// Starts watching `api` (which decides the namespace) with `config` (selectors, page
    /// size). `dyntype` is `()` for k8s-openapi types and the `ApiResource` for dynamic
    /// objects. With `resync`, every object is re-sent to subscribers as an update that often,
    /// as upstream's resync period does. Must be called within a tokio runtime.
    pub fn start(
        api: Api<K>,
        config: watcher::Config,
        dyntype: K::Dyn,
        resync: Option<Duration>,
    ) -> Self {
        let resource = api.resource_url().to_string();
        let stream = watcher(api, config).default_backoff();
        Self::from_stream(stream, dyntype, resync, resource)
    }

    /// Runs an informer over any stream of watcher events (a watcher with other backoff, or
    /// a scripted stream in tests). `resource` names it in messages.
    pub fn from_stream<S>(
        stream: S,
        dyntype: K::Dyn,
        resync: Option<Duration>,
        resource: String,
    ) -> Self
    where
        S: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static,
    {
        let writer = Writer::new(dyntype.clone());
        let (synced, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: writer.as_reader(),
            dyntype: dyntype.clone(),
            subscribers: Mutex::new(Vec::new()),
            synced,
            resource,
        });
        let task = tokio::spawn(drive(shared.clone(), writer, dyntype, stream, resync));
        Self {
            shared,
            driver: Arc::new(DriverHandle(task)),
        }
    }

    /// The informer's store: the objects as of the last event processed.
    pub fn store(&self) -> Store<K> {
        self.shared.store.clone()
    }

    /// The object with key `namespace/name` (or `name`), as upstream's `lister.Get`.
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        let (namespace, name) = crate::api::split_key(key);
        let mut obj_ref = ObjectRef::new_with(name, self.shared.dyntype.clone());
        if let Some(ns) = namespace {
            obj_ref = obj_ref.within(ns);
        }
        self.shared.store.get(&obj_ref)
    }

    /// Every object in the store.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.shared.store.state()
    }

    /// Whether the initial list has been loaded into the store (and sent to subscribers).
    pub fn has_synced(&self) -> bool {
        *self.shared.synced.borrow()
    }

    /// Waits until the initial list has been loaded into the store and sent to subscribers.
    pub async fn wait_until_synced(&self, timeout: Duration) -> Result<(), Error> {
        let mut rx = self.shared.synced.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|synced| *synced))
            .await
            .map(|r| r.map(|_| ()));
        match waited {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Error::Stopped(self.shared.resource.clone())),
            Err(_) => Err(Error::SyncTimeout {
                resource: self.shared.resource.clone(),
                timeout,
            }),
        }
    }

    /// A new notification stream. It first gets an `Added` for every object already in the
    /// store, then every change after that, as upstream's handlers added to a running informer.
    pub fn subscribe(&self) -> Subscription<K> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut subs = self.shared.subscribers();
        for obj in self.shared.store.state() {
            // The receiver is alive right here, so this cannot fail.
            let _ = tx.send(Notification::Added(obj));
        }
        subs.push(tx);
        Subscription { rx }
    }

    /// Runs `handler` on every notification in a task of its own, until the informer stops.
    pub fn add_event_handler<F>(&self, mut handler: F) -> JoinHandle<()>
    where
        F: FnMut(Notification<K>) + Send + 'static,
    {
        let mut sub = self.subscribe();
        tokio::spawn(async move {
            while let Some(n) = sub.recv().await {
                handler(n);
            }
        })
    }

    /// Adds the `namespace/name` key of every notified object to `queue`, the usual way a
    /// controller connects an informer to its work queue.
    pub fn enqueue_keys(&self, queue: WorkQueue<String>) -> JoinHandle<()> {
        self.add_event_handler(move |n| queue.add(n.key()))
    }

    /// Stops the watch for every handle of this informer; subscriptions then end.
    pub fn stop(&self) {
        self.driver.0.abort();
        self.shared.subscribers().clear();
    }

    /// The watched resource's URL path, for messages.
    pub fn resource(&self) -> &str {
        &self.shared.resource
    }
}

/// Feeds watcher events into the store and subscribers until aborted.
async fn drive<K, S>(
    shared: Arc<Shared<K>>,
    mut writer: Writer<K>,
    dyntype: K::Dyn,
    stream: S,
    resync: Option<Duration>,
) where
    K: InformerResource,
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut resync = resync.map(|period| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    // Keys (with their pre-relist object) seen in the list being loaded; the store keeps the
    // old state until the list is complete, so notifications wait until then too.
    let mut relisted: Vec<(ObjectRef<K>, Option<Arc<K>>)> = Vec::new();
    loop {
        let event = tokio::select! {
            event = stream.next() => event,
            _ = async { resync.as_mut().expect("checked").tick().await }, if resync.is_some() => {
                let mut subs = shared.subscribers();
                for obj in shared.store.state() {
                    notify(&mut subs, Notification::Updated { old: obj.clone(), new: obj });
                }
                continue;
            }
        };
        let Some(event) = event else {
            // The watcher stream never ends by itself; nothing more to do if it does.
            return;
        };
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                // The backoff wrapper delays the next attempt, which also bounds this log.
                tracing::warn!(resource = %shared.resource, error = %e, "watch failed, retrying");
                continue;
            }
        };
        let mut subs = shared.subscribers();
        match &event {
            watcher::Event::Init => {
                relisted.clear();
                writer.apply_watcher_event(&event);
            }
            watcher::Event::InitApply(obj) => {
                let key = obj.to_object_ref(dyntype.clone());
                let old = shared.store.get(&key);
                writer.apply_watcher_event(&event);
                relisted.push((key, old));
            }
            watcher::Event::InitDone => {
                let before = shared.store.state();
                writer.apply_watcher_event(&event);
                let mut seen = HashSet::with_capacity(relisted.len());
                for (key, old) in relisted.drain(..) {
                    let Some(new) = shared.store.get(&key) else {
                        continue;
                    };
                    seen.insert(key);
                    let n = match old {
                        Some(old) => Notification::Updated { old, new },
                        None => Notification::Added(new),
                    };
                    notify(&mut subs, n);
                }
                for old in before {
                    if !seen.contains(&old.to_object_ref(dyntype.clone())) {
                        notify(&mut subs, Notification::Deleted(old));
                    }
                }
                shared.synced.send_replace(true);
            }
            watcher::Event::Apply(obj) => {
                let key = obj.to_object_ref(dyntype.clone());
                let old = shared.store.get(&key);
                writer.apply_watcher_event(&event);
                if let Some(new) = shared.store.get(&key) {
                    let n = match old {
                        Some(old) => Notification::Updated { old, new },
                        None => Notification::Added(new),
                    };
                    notify(&mut subs, n);
                }
            }
            watcher::Event::Delete(obj) => {
                writer.apply_watcher_event(&event);
                notify(&mut subs, Notification::Deleted(Arc::new(obj.clone())));
            }
        }
    }
}

/// Identifies one shared informer: object type, URL (resource and namespace) and selectors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct InformerKey {
    type_id: TypeId,
    url: String,
    label_selector: Option<String>,
    field_selector: Option<String>,
}

/// What the factory needs of an informer without knowing its object type.
trait AnyInformer: Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn synced(&self) -> (String, watch::Receiver<bool>);
    fn stop(&self);
}

impl<K: InformerResource> AnyInformer for Informer<K> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn synced(&self) -> (String, watch::Receiver<bool>) {
        (self.shared.resource.clone(), self.shared.synced.subscribe())
    }

    fn stop(&self) {
        Informer::stop(self);
    }
}

/// Hands out one shared informer per resource (and namespace and selectors), upstream's
/// `SharedInformerFactory`. Informers start when first asked for.
pub struct SharedInformerFactory {
    client: Client,
    resync: Option<Duration>,
    informers: Mutex<HashMap<InformerKey, Box<dyn AnyInformer>>>,
}

impl SharedInformerFactory {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            resync: None,
            informers: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the resync period of informers started from now on.
    pub fn with_resync(mut self, period: Duration) -> Self {
        self.resync = Some(period);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn informers(&self) -> MutexGuard<'_, HashMap<InformerKey, Box<dyn AnyInformer>>> {
        self.informers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cluster-wide informer for a k8s-openapi type.
    pub fn informer<K>(&self) -> Informer<K>
    where
        K: InformerResource<Dyn = ()>,
    {
        self.informer_for(
            Api::all(self.client.clone()),
            watcher::Config::default(),
            (),
        )
    }

    /// The cluster-wide informer for a resource known only at run time.
    pub fn dynamic_informer(&self, resource: &ApiResource) -> Informer<DynamicObject> {
        self.informer_for(
            Api::all_with(self.client.clone(), resource),
            watcher::Config::default(),
            resource.clone(),
        )
    }

    /// The informer for `api` (which fixes the namespace) with `config`'s selectors; informers
    /// with the same type, URL and selectors are shared.
    pub fn informer_for<K: InformerResource>(
        &self,
        api: Api<K>,
        config: watcher::Config,
        dyntype: K::Dyn,
    ) -> Informer<K> {
        let key = InformerKey {
            type_id: TypeId::of::<K>(),
            url: api.resource_url().to_string(),
            label_selector: config.label_selector.clone(),
            field_selector: config.field_selector.clone(),
        };
        let mut informers = self.informers();
        if let Some(informer) = informers
            .get(&key)
            .and_then(|i| i.as_any().downcast_ref::<Informer<K>>())
        {
            return informer.clone();
        }
        let informer = Informer::start(api, config, dyntype, self.resync);
        informers.insert(key, Box::new(informer.clone()));
        informer
    }

    /// Waits until every informer started so far has synced.
    pub async fn wait_for_cache_sync(&self, timeout: Duration) -> Result<(), Error> {
        let pending: Vec<_> = self.informers().values().map(|i| i.synced()).collect();
        let deadline = tokio::time::Instant::now() + timeout;
        for (resource, mut rx) in pending {
            let waited = tokio::time::timeout_at(deadline, rx.wait_for(|s| *s))
                .await
                .map(|r| r.map(|_| ()));
            match waited {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(Error::Stopped(resource)),
                Err(_) => return Err(Error::SyncTimeout { resource, timeout }),
            }
        }
        Ok(())
    }

    /// Stops every informer this factory started, also for components still holding them.
    pub fn shutdown(&self) {
        for (_, informer) in self.informers().drain() {
            informer.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc as fmpsc;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;
    use kube::ResourceExt;

    type Events = fmpsc::UnboundedSender<Result<watcher::Event<ConfigMap>, watcher::Error>>;

    fn cm(name: &str, rv: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn scripted() -> (Events, Informer<ConfigMap>) {
        let (tx, rx) = fmpsc::unbounded();
        (tx, Informer::from_stream(rx, (), None, "configmaps".into()))
    }

    fn send(tx: &Events, e: watcher::Event<ConfigMap>) {
        tx.unbounded_send(Ok(e)).unwrap();
    }

    fn list(tx: &Events, objs: &[ConfigMap]) {
        send(tx, watcher::Event::Init);
        for o in objs {
            send(tx, watcher::Event::InitApply(o.clone()));
        }
        send(tx, watcher::Event::InitDone);
    }

    /// A notification as (kind, key, old rv, new rv) for easy comparison.
    fn summary(n: &Notification<ConfigMap>) -> (&'static str, String, String, String) {
        let rv = |o: &Arc<ConfigMap>| o.metadata.resource_version.clone().unwrap_or_default();
        match n {
            Notification::Added(o) => ("add", n.key(), String::new(), rv(o)),
            Notification::Updated { old, new } => ("update", n.key(), rv(old), rv(new)),
            Notification::Deleted(o) => ("delete", n.key(), rv(o), String::new()),
        }
    }

    async fn next(sub: &mut Subscription<ConfigMap>) -> (&'static str, String, String, String) {
        let n = tokio::time::timeout(Duration::from_secs(5), sub.recv())
            .await
            .expect("a notification in time")
            .expect("informer running");
        summary(&n)
    }

    fn s(
        kind: &'static str,
        key: &str,
        old: &str,
        new: &str,
    ) -> (&'static str, String, String, String) {
        (kind, key.into(), old.into(), new.into())
    }

    #[tokio::test(start_paused = true)]
    async fn initial_list_then_watch_events_reach_store_and_subscribers() {
        let (tx, informer) = scripted();
        let mut sub = informer.subscribe();
        assert!(!informer.has_synced());
        list(&tx, &[cm("a", "1"), cm("b", "2")]);
        informer
            .wait_until_synced(Duration::from_secs(1))
            .await
            .unwrap();
        assert!(informer.has_synced());
        assert_eq!(informer.store().len(), 2);
        let mut initial = vec![next(&mut sub).await, next(&mut sub).await];
        initial.sort();
        assert_eq!(
            initial,
            vec![s("add", "ns/a", "", "1"), s("add", "ns/b", "", "2")]
        );

        send(&tx, watcher::Event::Apply(cm("a", "3")));
        assert_eq!(next(&mut sub).await, s("update", "ns/a", "1", "3"));
        send(&tx, watcher::Event::Apply(cm("c", "4")));
        assert_eq!(next(&mut sub).await, s("add", "ns/c", "", "4"));
        send(&tx, watcher::Event::Delete(cm("b", "5")));
        assert_eq!(next(&mut sub).await, s("delete", "ns/b", "5", ""));

        let store = informer.store();
        let mut names: Vec<_> = store.state().iter().map(|o| o.name_any()).collect();
        names.sort();
        assert_eq!(names, ["a", "c"]);
        // The store is updated before subscribers hear of a change.
        let a = store.get(&ObjectRef::new("a").within("ns")).unwrap();
        assert_eq!(a.metadata.resource_version.as_deref(), Some("3"));
        assert!(Arc::ptr_eq(&a, &informer.get("ns/a").unwrap()));
        assert!(informer.get("ns/b").is_none() && informer.get("a").is_none());
        assert_eq!(informer.list().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn relist_reports_updates_adds_and_vanished_objects() {
        let (tx, informer) = scripted();
        list(&tx, &[cm("a", "1"), cm("b", "2")]);
        informer
            .wait_until_synced(Duration::from_secs(1))
            .await
            .unwrap();
        let mut sub = informer.subscribe();
        next(&mut sub).await;
        next(&mut sub).await;
        // A 410 Gone makes the watcher list again; b was deleted while we were away.
        tx.unbounded_send(Err(watcher::Error::NoResourceVersion))
            .unwrap();
        list(&tx, &[cm("a", "7"), cm("c", "8")]);
        let mut got = vec![
            next(&mut sub).await,
            next(&mut sub).await,
            next(&mut sub).await,
        ];
        got.sort();
        assert_eq!(
            got,
            vec![
                s("add", "ns/c", "", "8"),
                s("delete", "ns/b", "2", ""),
                s("update", "ns/a", "1", "7"),
            ]
        );
        assert_eq!(informer.store().len(), 2);
        assert!(sub.try_recv().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn late_subscriber_gets_the_store_as_adds_then_changes() {
        let (tx, informer) = scripted();
        list(&tx, &[cm("a", "1")]);
        informer
            .wait_until_synced(Duration::from_secs(1))
            .await
            .unwrap();
        let mut late = informer.subscribe();
        assert_eq!(next(&mut late).await, s("add", "ns/a", "", "1"));
        send(&tx, watcher::Event::Apply(cm("a", "2")));
        assert_eq!(next(&mut late).await, s("update", "ns/a", "1", "2"));
        // A clone shares the informer: same store, same watch.
        let clone = informer.clone();
        assert_eq!(clone.store().len(), 1);
        assert!(clone.has_synced());
    }

    #[tokio::test(start_paused = true)]
    async fn wait_until_synced_times_out_without_a_complete_list() {
        let (tx, informer) = scripted();
        send(&tx, watcher::Event::Init);
        send(&tx, watcher::Event::InitApply(cm("a", "1")));
        let err = informer
            .wait_until_synced(Duration::from_secs(3))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::SyncTimeout { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "configmaps informer did not sync within 3s"
        );
        // Nothing is visible before the list is complete.
        assert_eq!(informer.store().len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn resync_resends_every_object_as_an_update() {
        let (tx, rx) = fmpsc::unbounded();
        let informer: Informer<ConfigMap> =
            Informer::from_stream(rx, (), Some(Duration::from_secs(30)), "configmaps".into());
        list(&tx, &[cm("a", "1")]);
        informer
            .wait_until_synced(Duration::from_secs(1))
            .await
            .unwrap();
        let mut sub = informer.subscribe();
        assert_eq!(next(&mut sub).await, s("add", "ns/a", "", "1"));
        let start = tokio::time::Instant::now();
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(60), sub.recv())
                .await
                .ok()
                .flatten()
                .map(|n| summary(&n)),
            Some(s("update", "ns/a", "1", "1"))
        );
        assert!(start.elapsed() <= Duration::from_secs(30));
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn enqueue_keys_feeds_a_work_queue() {
        let (tx, informer) = scripted();
        let queue = WorkQueue::new();
        informer.enqueue_keys(queue.clone());
        list(&tx, &[cm("a", "1"), cm("b", "1")]);
        send(&tx, watcher::Event::Apply(cm("a", "2")));
        informer
            .wait_until_synced(Duration::from_secs(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        // a was added and updated before a worker took it: queued once.
        assert_eq!(queue.len(), 2);
        let mut keys = vec![queue.get().await.unwrap(), queue.get().await.unwrap()];
        keys.sort();
        assert_eq!(keys, ["ns/a", "ns/b"]);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_subscriptions() {
        let (tx, informer) = scripted();
        list(&tx, &[]);
        informer
            .wait_until_synced(Duration::from_secs(1))
            .await
            .unwrap();
        let mut sub = informer.subscribe();
        let handler = informer.add_event_handler(|_| {});
        informer.stop();
        assert!(sub.recv().await.is_none());
        handler.await.unwrap();
    }
}
