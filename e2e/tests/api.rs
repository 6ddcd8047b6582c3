//! The apiserver's REST and watch semantics, driven through kube-rs against a real etcd:
//! what a client library user depends on (conflicts, selectors, paging, watch resume,
//! finalizers, graceful deletion, subresources, error Status bodies).

use std::time::Duration;

use e2e::TestCluster;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::Client;
use serde_json::json;

async fn client(c: &TestCluster) -> Client {
    e2e::kube_client(&c.kubeconfig).await
}

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"k": "v"}
    }))
    .unwrap()
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    }))
    .unwrap()
}

fn api_error(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    ctype: &str,
    body: &str,
) -> Result<String, kube::Error> {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", ctype)
        .body(body.as_bytes().to_vec())
        .unwrap();
    client.request_text(req).await
}

#[tokio::test]
async fn crud_conflicts_and_metadata() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = cms
        .create(&PostParams::default(), &cm("a", json!({"app": "web"})))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    let rv = meta.resource_version.clone().unwrap();
    assert!(rv.parse::<i64>().unwrap() > 0);

    // Creating it again is 409 AlreadyExists with upstream's message.
    let e = api_error(
        cms.create(&PostParams::default(), &cm("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(e.message, "configmaps \"a\" already exists");

    // An update with the current resourceVersion succeeds; a stale one is 409 Conflict.
    let mut fresh = cms.get("a").await.unwrap();
    fresh.data = Some([("k".to_string(), "v2".to_string())].into());
    let updated = cms
        .replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_ne!(
        updated.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    let e = api_error(
        cms.replace("a", &PostParams::default(), &fresh)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );

    // generateName makes a unique name.
    let mut g = cm("", json!({}));
    g.metadata.name = None;
    g.metadata.generate_name = Some("gen-".into());
    let made = cms.create(&PostParams::default(), &g).await.unwrap();
    let name = made.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    // Not found, in a namespace that does not exist, and with a bad name.
    let e = api_error(cms.get("nope").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert_eq!(e.message, "configmaps \"nope\" not found");
    let missing_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "no-such-ns");
    let e = api_error(
        missing_ns
            .create(&PostParams::default(), &cm("x", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
    assert_eq!(e.message, "namespaces \"no-such-ns\" not found");
    let e = api_error(
        cms.create(&PostParams::default(), &cm("Bad_Name", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(e.message.contains("metadata.name"), "{}", e.message);

    // Malformed bodies are 400s that say what is wrong, never 500s.
    let e = api_error(
        raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            "{bad",
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    let e = api_error(
        raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t"},"data":{"k":5}}"#,
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    assert!(e.message.contains("data.k"), "{}", e.message);
    let e = api_error(
        raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            r#"{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"t"}}"#,
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    assert!(e.message.contains("apps/v1"), "{}", e.message);

    // Patches: merge and JSON patch.
    let p = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "fe"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        p.metadata.labels.unwrap().get("tier").map(String::as_str),
        Some("fe")
    );
    let p = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::<()>::Json(
                serde_json::from_value(
                    json!([{"op": "replace", "path": "/data/k", "value": "v3"}]),
                )
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(p.data.unwrap()["k"], "v3");

    // Delete, then it is gone.
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_error(cms.get("a").await.unwrap_err()).code, 404);
    c.stop().await;
}

#[tokio::test]
async fn default_namespaces_exist_and_selectors_filter() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let nss: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = nss
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for want in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for (n, app) in [("a", "web"), ("b", "web"), ("c", "db")] {
        cms.create(&PostParams::default(), &cm(n, json!({"app": app})))
            .await
            .unwrap();
    }
    let web = cms
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(web.items.len(), 2);
    let not_web = cms
        .list(&ListParams::default().labels("app!=web"))
        .await
        .unwrap();
    assert_eq!(not_web.items.len(), 1);
    let set = cms
        .list(&ListParams::default().labels("app in (db,cache)"))
        .await
        .unwrap();
    assert_eq!(set.items.len(), 1);
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
    let e = api_error(
        cms.list(&ListParams::default().fields("data.k=v"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    // Across all namespaces.
    let all: Api<ConfigMap> = Api::all(client.clone());
    assert!(all.list(&ListParams::default()).await.unwrap().items.len() >= 3);
    c.stop().await;
}

#[tokio::test]
async fn paging_is_one_consistent_snapshot() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..7 {
        cms.create(&PostParams::default(), &cm(&format!("cm-{i}"), json!({})))
            .await
            .unwrap();
    }
    let first = cms.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let token = first.metadata.continue_.clone().expect("a continue token");
    assert_eq!(first.metadata.remaining_item_count, Some(4));
    // Changes after the first page do not show in later pages.
    cms.create(&PostParams::default(), &cm("cm-9", json!({})))
        .await
        .unwrap();
    cms.delete("cm-6", &DeleteParams::default()).await.unwrap();
    let mut names: Vec<String> = first
        .items
        .iter()
        .filter_map(|i| i.metadata.name.clone())
        .collect();
    let mut next = Some(token);
    while let Some(t) = next {
        let page = cms
            .list(&ListParams::default().limit(3).continue_token(&t))
            .await
            .unwrap();
        assert_eq!(
            page.metadata.resource_version,
            first.metadata.resource_version
        );
        names.extend(page.items.iter().filter_map(|i| i.metadata.name.clone()));
        next = page.metadata.continue_.filter(|t| !t.is_empty());
    }
    let want: Vec<String> = (0..7).map(|i| format!("cm-{i}")).collect();
    assert_eq!(names, want);
    // A garbage token is a 400, not a 500.
    let e = api_error(
        cms.list(&ListParams::default().continue_token("garbage"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    c.stop().await;
}

#[tokio::test]
async fn watch_resumes_and_filters() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let start_rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    cms.create(&PostParams::default(), &cm("w1", json!({"app": "web"})))
        .await
        .unwrap();
    cms.create(&PostParams::default(), &cm("w2", json!({"app": "db"})))
        .await
        .unwrap();
    cms.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();
    cms.delete("w1", &DeleteParams::default()).await.unwrap();

    // Resuming from the list's revision replays exactly what happened, in order.
    let wp = WatchParams::default().labels("app=web").timeout(5);
    let mut stream = cms.watch(&wp, &start_rv).await.unwrap().boxed();
    let mut seen = Vec::new();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        match ev {
            WatchEvent::Added(o) => seen.push(format!("ADDED {}", o.metadata.name.unwrap())),
            WatchEvent::Modified(o) => seen.push(format!("MODIFIED {}", o.metadata.name.unwrap())),
            WatchEvent::Deleted(o) => seen.push(format!("DELETED {}", o.metadata.name.unwrap())),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("watch error {e:?}"),
        }
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(seen, vec!["ADDED w1", "MODIFIED w1", "DELETED w1"]);

    // A live watch sees a change made after it started.
    let now_rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut live = cms
        .watch(&WatchParams::default().timeout(10), &now_rv)
        .await
        .unwrap()
        .boxed();
    cms.create(&PostParams::default(), &cm("w3", json!({})))
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), live.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match ev {
        WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("w3")),
        other => panic!("expected ADDED w3, got {other:?}"),
    }

    // sendInitialEvents: the current state, then the initial-events-end bookmark.
    let wp = WatchParams::streaming_lists().timeout(5);
    let mut s = cms.watch(&wp, "").await.unwrap().boxed();
    let mut added = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            WatchEvent::Added(_) => added += 1,
            WatchEvent::Bookmark(b) => {
                assert_eq!(
                    b.metadata
                        .annotations
                        .get("k8s.io/initial-events-end")
                        .map(String::as_str),
                    Some("true")
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, 2, "w2 and w3 exist");
    c.stop().await;
}

#[tokio::test]
async fn watch_from_compacted_revision_is_expired() {
    let c = TestCluster::start_with(&["--default-watch-cache-size=2"])
        .await
        .unwrap();
    let client = client(&c).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let old_rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), json!({})))
            .await
            .unwrap();
    }
    // Older than the cache's window but still in etcd: served from etcd's history.
    let mut s = cms
        .watch(&WatchParams::default().timeout(5), &old_rv)
        .await
        .unwrap()
        .boxed();
    let ev = tokio::time::timeout(Duration::from_secs(10), s.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(ev, WatchEvent::Added(ref o) if o.metadata.name.as_deref() == Some("c0")),
        "{ev:?}"
    );
    // Compact etcd past it: now the watch ends with 410 Expired.
    let current = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut etcd = etcd_client::Client::connect([c.etcd.endpoint.as_str()], None)
        .await
        .unwrap();
    etcd.compact(current.parse().unwrap(), None).await.unwrap();
    let mut s = cms
        .watch(&WatchParams::default().timeout(5), &old_rv)
        .await
        .unwrap()
        .boxed();
    let ev = tokio::time::timeout(Duration::from_secs(10), s.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match ev {
        WatchEvent::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410, got {other:?}"),
    }
    c.stop().await;
}

#[tokio::test]
async fn finalizers_status_binding_and_graceful_pod_deletion() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut held = cm("held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&PostParams::default(), &held).await.unwrap();
    cms.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = cms.get("held").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(api_error(cms.get("held").await.unwrap_err()).code, 404);

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let p = pods
        .create(&PostParams::default(), &pod("p1"))
        .await
        .unwrap();
    assert_eq!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
    // The main resource ignores status; the status subresource changes only status.
    let mut p2 = p.clone();
    p2.status.as_mut().unwrap().phase = Some("Running".into());
    let after = pods
        .replace("p1", &PostParams::default(), &p2)
        .await
        .unwrap();
    assert_eq!(after.status.unwrap().phase.as_deref(), Some("Pending"));
    let after = pods
        .patch_status(
            "p1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    assert_eq!(after.status.unwrap().phase.as_deref(), Some("Running"));

    // Binding sets the node once; a second binding conflicts.
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p1"}, "target": {"kind": "Node", "name": "node-1"}});
    raw(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/p1/binding",
        "application/json",
        &binding.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(
        pods.get("p1")
            .await
            .unwrap()
            .spec
            .unwrap()
            .node_name
            .as_deref(),
        Some("node-1")
    );
    let e = api_error(
        raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/pods/p1/binding",
            "application/json",
            &binding.to_string(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 409);

    // A scheduled, running pod is deleted gracefully: marked, not removed.
    pods.delete("p1", &DeleteParams::default()).await.unwrap();
    let marked = pods.get("p1").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(30));
    pods.delete("p1", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    assert_eq!(api_error(pods.get("p1").await.unwrap_err()).code, 404);
    c.stop().await;
}

#[tokio::test]
async fn discovery_health_and_metrics() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let v = client.apiserver_version().await.unwrap();
    assert_eq!(v.major, "1");
    let groups = client.list_api_groups().await.unwrap();
    assert!(groups.groups.iter().any(|g| g.name == "apps"));
    let core = client.list_core_api_resources("v1").await.unwrap();
    assert!(core
        .resources
        .iter()
        .any(|r| r.name == "pods" && r.namespaced));
    let get = |p: &str| {
        let client = client.clone();
        let p = p.to_string();
        async move {
            client
                .request_text(http::Request::get(p).body(Vec::new()).unwrap())
                .await
        }
    };
    assert_eq!(get("/healthz").await.unwrap(), "ok");
    assert_eq!(get("/livez").await.unwrap(), "ok");
    assert!(get("/readyz?verbose").await.unwrap().contains("[+]etcd ok"));
    let metrics = get("/metrics").await.unwrap();
    assert!(
        metrics.contains("apiserver_request_total"),
        "metrics: {}",
        &metrics[..200.min(metrics.len())]
    );
    assert!(metrics.contains("etcd_request_duration_seconds"));
    c.stop().await;
}

#[tokio::test]
async fn scale_field_validation_dry_run_and_aggregated_discovery() {
    use k8s_openapi::api::apps::v1::Deployment;
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}
    }))
    .unwrap();
    deploys.create(&PostParams::default(), &d).await.unwrap();

    // The scale subresource reads and writes spec.replicas.
    let scale = deploys.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=web"));
    let scaled = deploys
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(4));
    let now = deploys.get("web").await.unwrap();
    assert_eq!(now.spec.unwrap().replicas, Some(4));
    assert_eq!(now.metadata.generation, Some(2));
    let e = api_error(
        deploys
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": -1}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);

    // fieldValidation: Strict refuses unknown and duplicate fields, Warn (the default) drops them.
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv"},"data":{"a":"b"},"bogus":1}"#;
    let e = api_error(
        raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
            "application/json",
            body,
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""
    );
    let dup = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv","name":"fv"}}"#;
    let e = api_error(
        raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
            "application/json",
            dup,
        )
        .await
        .unwrap_err(),
    );
    assert!(
        e.message.contains("duplicate field \"metadata.name\""),
        "{}",
        e.message
    );
    let created = raw(
        &client,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        body,
    )
    .await
    .unwrap();
    assert!(!created.contains("bogus"));

    // dryRun=All validates and answers but stores nothing.
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let out = cms.create(&dry, &cm("dry", json!({}))).await.unwrap();
    assert_eq!(out.metadata.name.as_deref(), Some("dry"));
    assert_eq!(api_error(cms.get("dry").await.unwrap_err()).code, 404);
    cms.delete(
        "fv",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(cms.get("fv").await.is_ok());

    // Propagation policies set upstream's finalizers; the garbage collector acts on them later.
    deploys
        .delete("web", &DeleteParams::foreground())
        .await
        .unwrap();
    let marked = deploys.get("web").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(
        marked.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_string()])
    );

    // Aggregated discovery, as kubectl asks for it.
    let req = http::Request::get("/apis")
        .header(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .body(Vec::new())
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&client.request_text(req).await.unwrap()).unwrap();
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    assert!(doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["metadata"]["name"] == "apps"));
    c.stop().await;
}

/// Regression: the bench found watches kept open (and counted) long after their clients had
/// disconnected, because a half-closed HTTP/1 connection kept the stream alive.
#[tokio::test]
async fn watches_are_released_when_clients_disconnect() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let open_watches = || {
        let client = client.clone();
        async move {
            let text = client
                .request_text(http::Request::get("/metrics").body(Vec::new()).unwrap())
                .await
                .unwrap();
            text.lines()
                .filter(|l| {
                    l.starts_with("apiserver_longrunning_requests{")
                        && l.contains("resource=\"configmaps\"")
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
                .sum::<i64>()
        }
    };
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(
            cms.watch(&WatchParams::default().timeout(300), "0")
                .await
                .unwrap()
                .boxed(),
        );
    }
    // Reading one event each makes sure the watches are established.
    cms.create(&PostParams::default(), &cm("ping", json!({})))
        .await
        .unwrap();
    for s in streams.iter_mut() {
        tokio::time::timeout(Duration::from_secs(10), s.try_next())
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(open_watches().await, 3);
    drop(streams);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = open_watches().await;
        if n == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} watches still open 10s after their clients left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.stop().await;
}
