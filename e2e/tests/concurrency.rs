//! Concurrent writers on one object through two apiservers on one etcd: every acknowledged
//! write is in etcd, and every write based on a stale resourceVersion got `409 Conflict`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use e2e::TestCluster;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::Client;
use serde_json::json;
use tokio::sync::Barrier;

/// Writers per apiserver.
const WRITERS: usize = 4;
/// Rounds in lockstep: every writer reads the same version, then all write.
const LOCKSTEP_ROUNDS: usize = 5;
/// Appends each writer makes afterwards, retrying its conflicts.
const FREE_APPENDS: usize = 10;

async fn client(kubeconfig: &std::path::Path) -> Client {
    e2e::kube_client(kubeconfig).await
}

/// What one writer's PUT came to.
enum Put {
    Acknowledged(i64),
    Conflict,
}

/// Adds `token` to the object read (keeping its resourceVersion) and PUTs it.
async fn put_token(api: &Api<ConfigMap>, mut cm: ConfigMap, token: &str) -> Put {
    cm.data
        .get_or_insert_with(Default::default)
        .insert(token.to_string(), "1".to_string());
    assert!(cm.metadata.resource_version.is_some());
    match api.replace("shared", &PostParams::default(), &cm).await {
        Ok(written) => {
            Put::Acknowledged(written.metadata.resource_version.unwrap().parse().unwrap())
        }
        Err(kube::Error::Api(s)) if s.code == 409 => {
            assert_eq!(s.reason, "Conflict");
            assert_eq!(
                s.message,
                "Operation cannot be fulfilled on configmaps \"shared\": the object has been \
                 modified; please apply your changes to the latest version and try again"
            );
            Put::Conflict
        }
        Err(e) => panic!("writing {token}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_through_two_apiservers_lose_nothing_and_stale_writes_conflict() {
    let cluster = TestCluster::start().await.unwrap();
    let second = cluster.start_apiserver(&[]).await.unwrap();
    let apis: Vec<Api<ConfigMap>> = vec![
        Api::namespaced(client(&cluster.kubeconfig).await, "default"),
        Api::namespaced(client(&second.kubeconfig).await, "default"),
    ];
    let cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}
    }))
    .unwrap();
    apis[0].create(&PostParams::default(), &cm).await.unwrap();

    let n = apis.len() * WRITERS;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for (s, api) in apis.iter().enumerate() {
        for w in 0..WRITERS {
            let api = api.clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let me = format!("s{}w{w}", s + 1);
                let mut acked = Vec::new();
                let mut lockstep = Vec::new();
                for round in 0..LOCKSTEP_ROUNDS {
                    // Everyone reads the same version before anyone writes: one write wins.
                    let current = api.get("shared").await.unwrap();
                    barrier.wait().await;
                    let token = format!("{me}-r{round}");
                    let put = put_token(&api, current, &token).await;
                    lockstep.push(matches!(put, Put::Acknowledged(_)));
                    if let Put::Acknowledged(rv) = put {
                        acked.push((token, rv));
                    }
                    barrier.wait().await;
                }
                let mut conflicts = 0;
                for i in 0..FREE_APPENDS {
                    let token = format!("{me}-f{i}");
                    loop {
                        let current = api.get("shared").await.unwrap();
                        match put_token(&api, current, &token).await {
                            Put::Acknowledged(rv) => {
                                acked.push((token, rv));
                                break;
                            }
                            Put::Conflict => conflicts += 1,
                        }
                    }
                }
                (acked, lockstep, conflicts)
            }));
        }
    }
    let mut acked = Vec::new();
    let mut winners = vec![0; LOCKSTEP_ROUNDS];
    let mut conflicts = 0;
    for t in tasks {
        let (a, lockstep, c) = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("the writers finish")
            .expect("a writer failed");
        acked.extend(a);
        for (round, won) in lockstep.into_iter().enumerate() {
            winners[round] += usize::from(won);
        }
        conflicts += c;
    }
    assert_eq!(
        winners,
        vec![1; LOCKSTEP_ROUNDS],
        "exactly one writer of each lockstep round succeeds; the others get 409"
    );
    let revisions: BTreeSet<i64> = acked.iter().map(|(_, rv)| *rv).collect();
    assert_eq!(
        revisions.len(),
        acked.len(),
        "two acknowledged writes share a revision"
    );
    assert_eq!(acked.len(), LOCKSTEP_ROUNDS + n * FREE_APPENDS);

    // etcd holds exactly the acknowledged tokens, in the last acknowledged write.
    let mut etcd = etcd_client::Client::connect([cluster.etcd.endpoint.as_str()], None)
        .await
        .unwrap();
    let resp = etcd
        .get("/registry/configmaps/default/shared", None)
        .await
        .unwrap();
    let kv = resp.kvs().first().expect("the object is in etcd");
    let stored: serde_json::Value = serde_json::from_slice(kv.value()).unwrap();
    let tokens: BTreeSet<String> = stored["data"]
        .as_object()
        .expect("data")
        .keys()
        .cloned()
        .collect();
    let want: BTreeSet<String> = acked.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        tokens, want,
        "etcd's object holds exactly the acknowledged writes"
    );
    assert_eq!(Some(&kv.mod_revision()), revisions.last());
    eprintln!(
        "{} acknowledged writes, {} conflicts in lockstep rounds, {conflicts} while appending",
        acked.len(),
        LOCKSTEP_ROUNDS * (n - 1)
    );
    second.stop().await;
    cluster.stop().await;
}

/// Writes start from the watch cache's copy (saving an etcd read). Alternating writes through
/// two apiservers, each with the version the other just returned: none may fail or be lost,
/// and writing back what was read must not bump the version. (Whether a cache actually lags
/// at that moment depends on timing; the store re-reads etcd whenever a guess from the cache
/// would fail a precondition, find nothing or change nothing.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_watch_cache_never_fails_a_current_write() {
    let c = TestCluster::start().await.unwrap();
    let other = c.start_apiserver(&[]).await.unwrap();
    let a: Api<ConfigMap> = Api::namespaced(client(&c.kubeconfig).await, "default");
    let b: Api<ConfigMap> = Api::namespaced(client(&other.kubeconfig).await, "default");
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "lag"}, "data": {"n": "0"}
    }))
    .unwrap();
    let mut current = a.create(&PostParams::default(), &cm).await.unwrap();
    for i in 1..=40 {
        // Written through one apiserver, then at once through the other with the new version.
        let (via, then) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        current
            .data
            .get_or_insert_with(Default::default)
            .insert("n".into(), format!("{i}"));
        current = via
            .replace("lag", &PostParams::default(), &current)
            .await
            .unwrap();
        current
            .data
            .get_or_insert_with(Default::default)
            .insert("m".into(), format!("{i}"));
        current = then
            .replace("lag", &PostParams::default(), &current)
            .await
            .unwrap_or_else(|e| panic!("round {i}: a current write failed: {e}"));
        assert_eq!(current.data.as_ref().unwrap()["m"], format!("{i}"));
        // Writing back what was read through the lagging side changes nothing and says so.
        let same = then
            .replace("lag", &PostParams::default(), &current)
            .await
            .unwrap();
        assert_eq!(
            same.metadata.resource_version, current.metadata.resource_version,
            "round {i}: an unchanged write must not bump the version"
        );
    }
    let stored = b.get("lag").await.unwrap();
    assert_eq!(stored.data.unwrap()["n"], "40");
    other.stop().await;
    c.stop().await;
}
