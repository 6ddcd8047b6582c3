//! What the apiserver keeps in place by itself, checked as a client sees it: the system
//! namespaces and PriorityClasses, its identity Lease, and the `default/kubernetes` Service
//! whose Endpoints and EndpointSlice name every live apiserver: two apiservers on one etcd
//! both appear, a crashed one drops out once its lease expires, a stopped one at once.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use apiserver::bootstrap::loopback::{Loopback, Response};
use e2e::{TestApiserver, TestEtcd};
use serde_json::Value;

/// The endpoint lease's lifetime in this test (upstream's is 15 s); renewed every 2 s.
const TTL: Duration = Duration::from_secs(3);
const INTERVAL: Duration = Duration::from_secs(2);

/// One apiserver on a runtime of its own, so that dropping it is a crash: no shutdown step
/// runs, and its endpoint lease is left to expire.
struct Apiserver {
    api: TestApiserver,
    client: Loopback,
}

impl Apiserver {
    async fn start(etcd: &TestEtcd, ip: IpAddr, port: u16, dir: &Path) -> Result<Self> {
        let ttl = format!("--endpoint-reconciler-ttl={}s", TTL.as_secs());
        let api = TestApiserver::start_at(
            &etcd.endpoint,
            dir,
            &format!("-{ip}"),
            SocketAddr::new(ip, port),
            &[&ttl],
        )
        .await?;
        Ok(Apiserver {
            client: Loopback::new(api.local_addr(), e2e::TEST_TOKEN.to_string()),
            api,
        })
    }

    /// A graceful stop: it takes itself out of the endpoints before it goes.
    async fn stop(self) {
        self.api.stop().await;
    }
}

/// A port free on 127.0.0.1, 127.0.0.2 and 127.0.0.3, so that several apiservers serve on
/// one port as upstream's endpoints model them (the addresses vary, the port is shared).
fn port_free_on_three_addresses() -> Result<u16> {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0")?;
        let port = first.local_addr()?.port();
        if TcpListener::bind(("127.0.0.2", port)).is_ok()
            && TcpListener::bind(("127.0.0.3", port)).is_ok()
        {
            return Ok(port);
        }
    }
    bail!("no port free on 127.0.0.1-3")
}

async fn get(client: &Loopback, path: &str) -> Result<Response> {
    let r = client.get(path).await.map_err(anyhow::Error::msg)?;
    if !r.ok() {
        bail!("{}", r.describe("GET", path));
    }
    Ok(r)
}

/// The addresses the Endpoints and the EndpointSlice name, and the ports they carry.
async fn endpoints(client: &Loopback) -> Result<(Vec<String>, Vec<String>, Value, Value)> {
    let ep = get(client, "/api/v1/namespaces/default/endpoints/kubernetes").await?;
    let slice = get(
        client,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
    )
    .await?;
    let ep_ips = ep.body["subsets"][0]["addresses"]
        .as_array()
        .context("endpoints without addresses")?
        .iter()
        .map(|a| a["ip"].as_str().unwrap_or_default().to_string())
        .collect();
    let slice_ips = slice.body["endpoints"]
        .as_array()
        .context("slice without endpoints")?
        .iter()
        .map(|e| e["addresses"][0].as_str().unwrap_or_default().to_string())
        .collect();
    Ok((
        ep_ips,
        slice_ips,
        ep.body["subsets"][0]["ports"].clone(),
        slice.body["ports"].clone(),
    ))
}

/// Waits until both the Endpoints and the EndpointSlice name exactly `want`; how long it took.
async fn wait_for_ips(client: &Loopback, want: &[&str], within: Duration) -> Result<Duration> {
    let started = Instant::now();
    let mut last = None;
    while started.elapsed() < within {
        match endpoints(client).await {
            Ok((ep, slice, _, _)) if ep == want && slice == want => return Ok(started.elapsed()),
            other => last = Some(other.map(|(ep, slice, _, _)| (ep, slice))),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("endpoints did not become {want:?} within {within:?}; last: {last:?}")
}

#[tokio::test]
async fn kubernetes_service_names_every_live_apiserver() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("e2e-boot-").tempdir()?;
    let etcd = TestEtcd::start(dir.path()).await?;
    let port = port_free_on_three_addresses()?;
    let a = Apiserver::start(&etcd, [127, 0, 0, 1].into(), port, dir.path()).await?;

    // What upstream keeps in place exists once the apiserver is ready.
    let ready = get(&a.client, "/readyz?verbose").await?;
    let ready = ready.body.as_str().unwrap_or_default().to_string();
    for check in [
        "[+]etcd ok",
        "[+]informer-sync ok",
        "[+]poststarthook/start-system-namespaces-controller ok",
        "[+]poststarthook/start-kube-apiserver-identity-lease-controller ok",
        "[+]poststarthook/start-kube-apiserver-identity-lease-garbage-collector ok",
        "[+]poststarthook/scheduling/bootstrap-system-priority-classes ok",
        "[+]poststarthook/bootstrap-controller ok",
    ] {
        assert!(ready.contains(check), "{check} missing from:\n{ready}");
    }
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        get(&a.client, &format!("/api/v1/namespaces/{ns}")).await?;
    }
    let leases = get(
        &a.client,
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=apiserver.kubernetes.io%2Fidentity%3Dkube-apiserver",
    )
    .await?;
    let items = leases.body["items"].as_array().context("a lease list")?;
    assert_eq!(items.len(), 1, "{items:?}");
    let name = items[0]["metadata"]["name"].as_str().unwrap_or_default();
    assert!(name.starts_with("apiserver-"), "{name}");
    let holder = items[0]["spec"]["holderIdentity"]
        .as_str()
        .unwrap_or_default();
    assert!(holder.starts_with(&format!("{name}_")), "{holder}");
    assert_eq!(items[0]["spec"]["leaseDurationSeconds"], 3600);
    assert!(items[0]["metadata"]["labels"]["kubernetes.io/hostname"].is_string());
    let node_critical = get(
        &a.client,
        "/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical",
    )
    .await?;
    assert_eq!(node_critical.body["value"], 2_000_001_000);
    let cluster_critical = get(
        &a.client,
        "/apis/scheduling.k8s.io/v1/priorityclasses/system-cluster-critical",
    )
    .await?;
    assert_eq!(cluster_critical.body["value"], 2_000_000_000);
    assert_eq!(
        cluster_critical.body["description"],
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."
    );
    let svc = get(&a.client, "/api/v1/namespaces/default/services/kubernetes").await?;
    assert_eq!(svc.body["spec"]["clusterIP"], "10.0.0.1");
    assert_eq!(
        svc.body["spec"]["ports"],
        serde_json::json!([{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}])
    );
    assert_eq!(
        svc.body["metadata"]["labels"],
        serde_json::json!({"component": "apiserver", "provider": "kubernetes"})
    );
    let (_, _, ep_ports, slice_ports) = endpoints(&a.client).await?;
    let want_ports = serde_json::json!([{"name": "https", "port": port, "protocol": "TCP"}]);
    assert_eq!(ep_ports, want_ports);
    assert_eq!(slice_ports, want_ports);
    let slice = get(
        &a.client,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
    )
    .await?;
    assert_eq!(
        slice.body["metadata"]["labels"]["kubernetes.io/service-name"],
        "kubernetes"
    );
    assert_eq!(slice.body["addressType"], "IPv4");
    wait_for_ips(&a.client, &["127.0.0.1"], Duration::from_secs(5)).await?;

    // A second apiserver on the same etcd appears beside the first.
    let b = Apiserver::start(&etcd, [127, 0, 0, 2].into(), port, dir.path()).await?;
    wait_for_ips(&a.client, &["127.0.0.1", "127.0.0.2"], INTERVAL * 3).await?;
    wait_for_ips(&b.client, &["127.0.0.1", "127.0.0.2"], INTERVAL * 3).await?;

    // A crash runs no shutdown step: it drops out when its lease expires and the survivor
    // reconciles, within the lease's lifetime plus one reconcile interval.
    drop(b);
    let took = wait_for_ips(&a.client, &["127.0.0.1"], TTL + INTERVAL * 3).await?;
    eprintln!("a crashed apiserver left the endpoints after {took:?} (lease {TTL:?})");
    // The lease expires up to TTL after the last renewal (etcd revokes expired leases every
    // half second) and the survivor notices at its next reconcile, up to INTERVAL later.
    assert!(
        took <= TTL + INTERVAL + Duration::from_secs(2),
        "took {took:?}"
    );

    // A stopped apiserver takes itself out at once, without waiting for its lease.
    let c = Apiserver::start(&etcd, [127, 0, 0, 3].into(), port, dir.path()).await?;
    wait_for_ips(&a.client, &["127.0.0.1", "127.0.0.3"], INTERVAL * 3).await?;
    c.stop().await;
    let took = wait_for_ips(&a.client, &["127.0.0.1"], TTL).await?;
    eprintln!("a stopped apiserver left the endpoints after {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(a.client.get("/livez").await.map(|r| r.code), Ok(200));
    a.stop().await;
    Ok(())
}
