//! The client crate against our real apiserver and a real etcd (through the e2e harness):
//! clients from a kubeconfig and from URL+CA+token, typed and dynamic CRUD, shared informers,
//! leader election over a Lease, and the events recorder.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use client::events::{object_reference, EventRecorder, EventType};
use client::informer::{Notification, SharedInformerFactory};
use client::leaderelection::{
    LeaderElectionConfig, LeaderElector, LeaseLock, LeaseResourceLock, Outcome, ResourceLock,
};
use client::{api, config, key_of, Credentials, WorkQueue};
use e2e::TestCluster;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent};
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};
use tokio::sync::oneshot;

async fn kube_client(cluster: &TestCluster) -> Client {
    client::client_from_kubeconfig(Some(&cluster.kubeconfig), None)
        .await
        .expect("client from the harness kubeconfig")
}

fn cm(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some([("k".to_string(), value.to_string())].into()),
        ..Default::default()
    }
}

/// Polls `check` every 50ms until it yields `Some`, or fails after `timeout`.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn clients_from_kubeconfig_and_from_parts_do_typed_and_dynamic_crud() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = cms.create(&PostParams::default(), &cm("one", "1")).await?;
    assert!(created.resource_version().is_some());
    let got = cms.get("one").await?;
    assert_eq!(got.data.unwrap()["k"], "1");
    cms.create(&PostParams::default(), &cm("two", "2")).await?;
    let names: Vec<_> = cms
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert!(names.contains(&"one".to_string()) && names.contains(&"two".to_string()));

    // The context override picks the (only) named context explicitly.
    let by_context =
        client::client_from_kubeconfig(Some(&cluster.kubeconfig), Some("test")).await?;
    Api::<ConfigMap>::namespaced(by_context, "default")
        .get("two")
        .await?;

    // The way daemons are configured on the command line: URL, CA file, token.
    let from_parts = config::client_from_parts(
        &cluster.url,
        Some(&cluster.ca_file),
        Credentials::Token(e2e::TEST_TOKEN.into()),
    )?;
    let all: Api<ConfigMap> = api::namespaced_or_all(from_parts.clone(), None);
    assert!(all.list(&ListParams::default()).await?.items.len() >= 2);

    // Dynamic access through our resource table.
    let (resource, namespaced) = api::builtin("", "v1", "configmaps").context("configmaps")?;
    assert!(namespaced);
    let dynamic = api::dynamic(from_parts.clone(), &resource, Some("default"));
    let one = dynamic.get("one").await?;
    assert_eq!(one.data["data"]["k"], "1");
    assert_eq!(key_of(&one), "default/one");
    dynamic.delete("one", &DeleteParams::default()).await?;
    assert!(cms.get_opt("one").await?.is_none());

    // And through discovery.
    let (leases, namespaced) =
        api::discover(&from_parts, "coordination.k8s.io", "v1", "Lease").await?;
    assert_eq!(leases.plural, "leases");
    assert!(namespaced);

    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn shared_informer_syncs_and_notifies_adds_updates_deletes() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &cm("before", "0"))
        .await?;

    let factory = SharedInformerFactory::new(client.clone());
    let informer = factory.informer::<ConfigMap>();
    let again = factory.informer::<ConfigMap>();
    let queue = WorkQueue::new();
    again.enqueue_keys(queue.clone());
    let dynamic = factory.dynamic_informer(&api::builtin("", "v1", "configmaps").unwrap().0);
    factory.wait_for_cache_sync(Duration::from_secs(20)).await?;
    informer.wait_until_synced(Duration::from_secs(1)).await?;
    assert!(again.has_synced() && dynamic.has_synced());

    let store = informer.store();
    assert!(store.state().iter().any(|c| c.name_any() == "before"));
    assert!(dynamic
        .store()
        .state()
        .iter()
        .any(|c| c.name_any() == "before"));
    let typed = informer.get("default/before").context("typed get")?;
    assert_eq!(typed.data.as_ref().unwrap()["k"], "0");
    let untyped = dynamic.get("default/before").context("dynamic get")?;
    assert_eq!(untyped.data["data"]["k"], "0");
    // The initial list reaches the queue as keys.
    let first = tokio::time::timeout(Duration::from_secs(5), queue.get())
        .await?
        .context("queue open")?;
    assert_eq!(first, "default/before");
    queue.done(&first);

    let mut sub = informer.subscribe();
    let mut seen = Vec::new();
    // The snapshot of the store comes first.
    let n = tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await?
        .context("subscription open")?;
    assert!(matches!(&n, Notification::Added(o) if o.name_any() == "before"));

    cms.create(&PostParams::default(), &cm("watched", "1"))
        .await?;
    let mut current = cms.get("watched").await?;
    current.data = Some([("k".to_string(), "2".to_string())].into());
    cms.replace("watched", &PostParams::default(), &current)
        .await?;
    cms.delete("watched", &DeleteParams::default()).await?;

    while seen.len() < 3 {
        let n = tokio::time::timeout(Duration::from_secs(10), sub.recv())
            .await
            .with_context(|| format!("waiting for notifications, saw {seen:?}"))?
            .context("subscription open")?;
        if n.object().name_any() != "watched" {
            continue;
        }
        seen.push(match &n {
            Notification::Added(o) => format!("add {}", o.data.as_ref().unwrap()["k"]),
            Notification::Updated { old, new } => format!(
                "update {}->{}",
                old.data.as_ref().unwrap()["k"],
                new.data.as_ref().unwrap()["k"]
            ),
            Notification::Deleted(o) => format!("delete {}", o.data.as_ref().unwrap()["k"]),
        });
    }
    assert_eq!(seen, ["add 1", "update 1->2", "delete 2"]);
    assert!(!store.state().iter().any(|c| c.name_any() == "watched"));
    eventually(
        "the dynamic informer to see the delete",
        Duration::from_secs(5),
        || {
            let dynamic = dynamic.clone();
            async move {
                let names: Vec<_> = dynamic
                    .store()
                    .state()
                    .iter()
                    .map(|o| o.name_any())
                    .collect();
                (!names.contains(&"watched".to_string())).then_some(())
            }
        },
    )
    .await?;
    // The queue got the key too, once per pass through the queue.
    let key = tokio::time::timeout(Duration::from_secs(5), queue.get())
        .await?
        .context("queue open")?;
    assert_eq!(key, "default/watched");

    factory.shutdown();
    assert!(
        tokio::time::timeout(Duration::from_secs(5), sub.recv())
            .await?
            .is_none(),
        "subscriptions end on shutdown"
    );
    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn informer_resumes_after_the_server_ends_its_watch() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let factory = SharedInformerFactory::new(client.clone());
    // The server ends each watch after a second; the watcher must resume from the last
    // resourceVersion it saw, without relisting (no repeated adds) and without missing events.
    let informer = factory.informer_for(
        cms.clone(),
        kube::runtime::watcher::Config::default().timeout(1),
        (),
    );
    informer.wait_until_synced(Duration::from_secs(20)).await?;
    let mut sub = informer.subscribe();
    for i in 0..4 {
        cms.create(&PostParams::default(), &cm(&format!("r{i}"), "1"))
            .await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let mut adds = Vec::new();
    while adds.len() < 4 {
        let n = tokio::time::timeout(Duration::from_secs(10), sub.recv())
            .await
            .with_context(|| format!("waiting for adds, saw {adds:?}"))?
            .context("subscription open")?;
        match n {
            Notification::Added(o) => adds.push(o.name_any()),
            other => bail!("unexpected notification {other:?}"),
        }
    }
    assert_eq!(adds, ["r0", "r1", "r2", "r3"]);
    assert!(sub.try_recv().is_none(), "nothing was notified twice");
    assert_eq!(informer.store().len(), 4);
    cluster.stop().await;
    Ok(())
}

fn quick_election(release: bool) -> LeaderElectionConfig {
    // Upstream's ratios at a fraction of the time, so the test does not take a minute.
    LeaderElectionConfig {
        lease_duration: Duration::from_secs(4),
        renew_deadline: Duration::from_secs(3),
        retry_period: Duration::from_millis(500),
        release_on_cancel: release,
    }
}

/// Runs `elector` in a task; `leading` records whether it currently leads.
fn campaign(
    elector: Arc<LeaderElector>,
    leading: Arc<AtomicBool>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Outcome>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let flag = leading.clone();
        let outcome = elector
            .run(
                async {
                    let _ = stopped.await;
                },
                || async move {
                    flag.store(true, Ordering::SeqCst);
                    std::future::pending::<()>().await
                },
            )
            .await;
        leading.store(false, Ordering::SeqCst);
        outcome
    });
    (stop, task)
}

#[tokio::test]
async fn two_electors_one_leader_and_handover() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "default");
    let lock = |identity: &str| LeaseLock {
        namespace: "default".into(),
        name: "test-leader".into(),
        identity: identity.into(),
    };
    let a = Arc::new(LeaderElector::new(
        client.clone(),
        lock("a"),
        quick_election(true),
    )?);
    let b = Arc::new(LeaderElector::new(
        client.clone(),
        lock("b"),
        quick_election(true),
    )?);
    let (a_leads, b_leads) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (stop_a, run_a) = campaign(a.clone(), a_leads.clone());
    let (stop_b, run_b) = campaign(b.clone(), b_leads.clone());

    eventually("a leader", Duration::from_secs(10), || {
        let (a, b) = (a_leads.clone(), b_leads.clone());
        async move { (a.load(Ordering::SeqCst) || b.load(Ordering::SeqCst)).then_some(()) }
    })
    .await?;
    // Give the loser a few retry periods to (wrongly) acquire too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (a_now, b_now) = (
        a_leads.load(Ordering::SeqCst),
        b_leads.load(Ordering::SeqCst),
    );
    assert!(a_now ^ b_now, "exactly one leads: a={a_now} b={b_now}");
    let (first, second) = if a_now { ("a", "b") } else { ("b", "a") };
    let spec = leases
        .get("test-leader")
        .await?
        .spec
        .context("lease spec")?;
    assert_eq!(spec.holder_identity.as_deref(), Some(first));
    assert_eq!(spec.lease_duration_seconds, Some(4));
    assert_eq!(spec.lease_transitions, Some(0));
    let acquired = spec.acquire_time.clone().context("acquireTime")?;
    assert!(spec.renew_time.context("renewTime")? > acquired);
    assert_eq!(*b.leader_changes().borrow(), Some(first.to_string()));

    // The leader steps down and releases: the other takes over without waiting for expiry.
    let (stop_first, run_first, stop_second, run_second, second_leads) = if a_now {
        (stop_a, run_a, stop_b, run_b, b_leads.clone())
    } else {
        (stop_b, run_b, stop_a, run_a, a_leads.clone())
    };
    let released_at = tokio::time::Instant::now();
    stop_first.send(()).ok();
    assert_eq!(run_first.await?, Outcome::Shutdown);
    eventually(
        "the other candidate to lead",
        Duration::from_secs(5),
        || {
            let leads = second_leads.clone();
            async move { leads.load(Ordering::SeqCst).then_some(()) }
        },
    )
    .await?;
    assert!(
        released_at.elapsed() < Duration::from_secs(4),
        "handover after release took {:?}, longer than the lease",
        released_at.elapsed()
    );
    let spec = leases
        .get("test-leader")
        .await?
        .spec
        .context("lease spec")?;
    assert_eq!(spec.holder_identity.as_deref(), Some(second));
    assert_eq!(spec.lease_transitions, Some(1));

    // A candidate that stops without releasing leaves the lease to expire: a newcomer waits
    // out the lease duration, then takes over.
    stop_second.send(()).ok();
    assert_eq!(run_second.await?, Outcome::Shutdown);
    let spec = leases
        .get("test-leader")
        .await?
        .spec
        .context("lease spec")?;
    assert_eq!(
        spec.holder_identity.as_deref(),
        Some(""),
        "released on shutdown"
    );

    let c = Arc::new(LeaderElector::new(
        client.clone(),
        lock("c"),
        quick_election(false),
    )?);
    let c_leads = Arc::new(AtomicBool::new(false));
    let (stop_c, run_c) = campaign(c.clone(), c_leads.clone());
    eventually("c to lead", Duration::from_secs(5), || {
        let leads = c_leads.clone();
        async move { leads.load(Ordering::SeqCst).then_some(()) }
    })
    .await?;
    stop_c.send(()).ok();
    assert_eq!(run_c.await?, Outcome::Shutdown);
    let spec = leases
        .get("test-leader")
        .await?
        .spec
        .context("lease spec")?;
    assert_eq!(spec.holder_identity.as_deref(), Some("c"), "not released");
    assert_eq!(spec.lease_transitions, Some(2));

    let d = Arc::new(LeaderElector::new(
        client.clone(),
        lock("d"),
        quick_election(true),
    )?);
    let d_leads = Arc::new(AtomicBool::new(false));
    let waiting_since = tokio::time::Instant::now();
    let (stop_d, run_d) = campaign(d.clone(), d_leads.clone());
    eventually(
        "d to lead after c's lease expires",
        Duration::from_secs(15),
        || {
            let leads = d_leads.clone();
            async move { leads.load(Ordering::SeqCst).then_some(()) }
        },
    )
    .await?;
    let waited = waiting_since.elapsed();
    assert!(
        waited >= Duration::from_secs(4),
        "d took an unexpired lease after {waited:?}"
    );
    let spec = leases
        .get("test-leader")
        .await?
        .spec
        .context("lease spec")?;
    assert_eq!(spec.holder_identity.as_deref(), Some("d"));
    assert_eq!(spec.lease_transitions, Some(3));
    stop_d.send(()).ok();
    run_d.await?;

    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn lease_writes_with_a_stale_resource_version_conflict() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await;
    let lock = LeaseResourceLock::new(client.clone(), "default", "race");
    assert!(lock.get().await?.is_none());
    let elector = |id: &str| {
        LeaderElector::with_lock(
            Arc::new(LeaseResourceLock::new(client.clone(), "default", "race")),
            id.into(),
            quick_election(false),
        )
    };
    let (x, y) = (elector("x")?, elector("y")?);
    let (rx, ry) = tokio::join!(x.try_acquire_or_renew(), y.try_acquire_or_renew());
    assert!(
        rx ^ ry,
        "exactly one of two racing candidates wins: x={rx} y={ry}"
    );

    let (record, rv) = lock.get().await?.context("lease exists")?;
    let mut changed = record.clone();
    changed.holder_identity = "someone".into();
    let new_rv = lock.update(changed.clone(), rv.clone()).await?;
    assert_ne!(new_rv, rv);
    // Writing again from the old resourceVersion is the 409 that decides election races.
    let err = lock.update(record, rv).await.unwrap_err();
    assert!(
        matches!(err, client::leaderelection::Error::Conflict(_)),
        "expected a conflict, got {err}"
    );
    // Creating an existing lease conflicts too.
    let err = lock.create(changed).await.unwrap_err();
    assert!(
        matches!(err, client::leaderelection::Error::Conflict(_)),
        "expected a conflict, got {err}"
    );
    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn recorded_events_are_listed_back() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let target = cms
        .create(&PostParams::default(), &cm("noted", "1"))
        .await?;
    let reference = object_reference(&target);

    let recorder = EventRecorder::new(client.clone(), "test-controller", Some("replica-1"));
    recorder
        .event(
            &reference,
            EventType::Normal,
            "Synced",
            "Sync",
            Some("configmap synced"),
        )
        .await?;
    recorder
        .event(
            &reference,
            EventType::Warning,
            "Failed",
            "Sync",
            Some("something broke"),
        )
        .await?;
    // The same event again becomes a series on the first one rather than a new object.
    recorder
        .event(
            &reference,
            EventType::Normal,
            "Synced",
            "Sync",
            Some("configmap synced"),
        )
        .await?;
    recorder.emit(&reference, EventType::Normal, "Emitted", "Sync", None);

    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let listed = eventually("three events", Duration::from_secs(5), || {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            let ours: Vec<Event> = list
                .items
                .into_iter()
                .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("noted"))
                .collect();
            (ours.len() >= 3).then_some(ours)
        }
    })
    .await?;
    let synced = listed
        .iter()
        .find(|e| e.reason.as_deref() == Some("Synced"))
        .context("Synced event")?;
    assert_eq!(synced.type_.as_deref(), Some("Normal"));
    assert_eq!(synced.action.as_deref(), Some("Sync"));
    assert_eq!(synced.note.as_deref(), Some("configmap synced"));
    assert_eq!(
        synced.reporting_controller.as_deref(),
        Some("test-controller")
    );
    assert_eq!(synced.reporting_instance.as_deref(), Some("replica-1"));
    assert_eq!(synced.series.as_ref().map(|s| s.count), Some(2));
    let regarding = synced.regarding.as_ref().context("regarding")?;
    assert_eq!(regarding.kind.as_deref(), Some("ConfigMap"));
    assert_eq!(regarding.uid, target.metadata.uid);
    let failed = listed
        .iter()
        .find(|e| e.reason.as_deref() == Some("Failed"))
        .context("Failed event")?;
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    assert!(listed
        .iter()
        .any(|e| e.reason.as_deref() == Some("Emitted")));

    // events.k8s.io and core/v1 events are one resource: kubectl describe reads the latter.
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "default");
    let core_events = core.list(&ListParams::default()).await?.items;
    let core_synced = core_events
        .iter()
        .find(|e| e.reason.as_deref() == Some("Synced"))
        .context("Synced as a core/v1 event")?;
    assert_eq!(core_synced.involved_object.name.as_deref(), Some("noted"));
    assert_eq!(core_synced.message.as_deref(), Some("configmap synced"));

    cluster.stop().await;
    Ok(())
}
