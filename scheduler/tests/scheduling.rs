//! kube-scheduler against a real apiserver and etcd, with nodes and pods as API objects (no
//! kubelet): placement by resources, selectors and taints, upstream's unschedulable summary on
//! the pod, a parked pod placed when a node appears, and only the leader binding.

use std::time::Duration;

use anyhow::Result;
use e2e::inprocess::InProcess;
use e2e::TestCluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

fn start_scheduler(cluster: &TestCluster, extra: &[&str]) -> InProcess {
    let mut args = vec![
        "kube-scheduler".to_string(),
        format!("--kubeconfig={}", cluster.kubeconfig.display()),
        "--secure-port=0".into(),
        "--leader-elect-lease-duration=3s".into(),
        "--leader-elect-renew-deadline=2s".into(),
        "--leader-elect-retry-period=500ms".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let opts = <scheduler::Options as clap::Parser>::try_parse_from(args).unwrap();
    InProcess::start(|shutdown| scheduler::run(opts, shutdown))
}

async fn node(
    client: &kube::Client,
    name: &str,
    cpu: &str,
    extra: serde_json::Value,
) -> Result<()> {
    let mut n = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
    });
    if let Some(spec) = extra.get("spec") {
        n["spec"] = spec.clone();
    }
    if let Some(labels) = extra.get("labels").and_then(|l| l.as_object()) {
        for (k, v) in labels {
            n["metadata"]["labels"][k] = v.clone();
        }
    }
    let api: Api<Node> = Api::all(client.clone());
    let created = api
        .create(&PostParams::default(), &serde_json::from_value(n)?)
        .await?;
    // Capacity is status: written through nodes/status as a kubelet would.
    let status = json!({"status": {
        "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}]
    }});
    api.patch_status(
        created.metadata.name.as_deref().unwrap(),
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(status),
    )
    .await?;
    Ok(())
}

async fn pod(client: &kube::Client, name: &str, cpu: &str, extra: serde_json::Value) -> Result<()> {
    let mut spec = json!({"containers": [{"name": "c", "image": "busybox",
        "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]});
    if let Some(o) = extra.as_object() {
        for (k, v) in o {
            spec[k] = v.clone();
        }
    }
    let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec});
    Api::<Pod>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &serde_json::from_value(p)?)
        .await?;
    Ok(())
}

/// Waits until `f` holds for the pod, returning it.
async fn wait_pod(
    client: &kube::Client,
    name: &str,
    what: &str,
    f: impl Fn(&Pod) -> bool,
) -> Result<Pod> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let p = api.get(name).await?;
        if f(&p) {
            return Ok(p);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("pod {name}: {what} not seen in 30 s; last: {:?}", p.status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn node_of(p: &Pod) -> Option<String> {
    p.spec.as_ref().and_then(|s| s.node_name.clone())
}

fn scheduled_condition(p: &Pod) -> Option<(String, String, String)> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .map(|c| {
            (
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            )
        })
}

#[tokio::test]
async fn places_pods_like_the_default_profile_and_explains_misfits() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    node(&client, "small", "1", json!({})).await?;
    node(&client, "big", "8", json!({"labels": {"disk": "ssd"}})).await?;
    node(
        &client,
        "tainted",
        "64",
        json!({"spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}),
    )
    .await?;
    let sched = start_scheduler(&cluster, &["--leader-elect=false"]);

    // LeastAllocated (and the taint) send it to the big node.
    pod(&client, "spread", "500m", json!({})).await?;
    let p = wait_pod(&client, "spread", "bound", |p| node_of(p).is_some()).await?;
    assert_eq!(node_of(&p).as_deref(), Some("big"));

    // nodeSelector narrows to matching nodes only; a toleration opens the tainted one.
    pod(
        &client,
        "selected",
        "100m",
        json!({"nodeSelector": {"kubernetes.io/hostname": "small"}}),
    )
    .await?;
    let p = wait_pod(&client, "selected", "bound", |p| node_of(p).is_some()).await?;
    assert_eq!(node_of(&p).as_deref(), Some("small"));
    pod(
        &client,
        "tolerant",
        "32",
        json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]}),
    )
    .await?;
    let p = wait_pod(&client, "tolerant", "bound", |p| node_of(p).is_some()).await?;
    assert_eq!(node_of(&p).as_deref(), Some("tainted"));

    // Nothing fits: upstream's summary in the PodScheduled condition.
    pod(&client, "huge", "16", json!({})).await?;
    let p = wait_pod(&client, "huge", "Unschedulable", |p| {
        scheduled_condition(p).is_some_and(|c| c.1 == "Unschedulable")
    })
    .await?;
    let (status, _, message) = scheduled_condition(&p).unwrap();
    assert_eq!(status, "False");
    assert_eq!(
        message,
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu."
    );
    assert!(node_of(&p).is_none());

    // A new node that fits: the parked pod is placed on it.
    node(&client, "bigger", "32", json!({})).await?;
    let p = wait_pod(&client, "huge", "bound after a node appeared", |p| {
        node_of(p).is_some()
    })
    .await?;
    assert_eq!(node_of(&p).as_deref(), Some("bigger"));

    // Pods bound so far count against their nodes: small has 900m left, so 1 cpu does not fit
    // there, and with big (7.5 left) and bigger (16 left) the emptier wins.
    pod(
        &client,
        "counted",
        "1",
        json!({"nodeSelector": {"kubernetes.io/hostname": "small"}}),
    )
    .await?;
    let p = wait_pod(&client, "counted", "Unschedulable", |p| {
        scheduled_condition(p).is_some_and(|c| c.1 == "Unschedulable")
    })
    .await?;
    assert_eq!(
        scheduled_condition(&p).unwrap().2,
        // Filters run in the profile's order and the first failure names the node's reason:
        // the taint comes before the selector, as upstream.
        "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector."
    );
    // Deleting the pod on small frees room: the parked pod goes there. (Forced: without a
    // kubelet a graceful deletion never finishes, and a terminating pod still counts.)
    Api::<Pod>::namespaced(client.clone(), "default")
        .delete("selected", &DeleteParams::default().grace_period(0))
        .await?;
    let p = wait_pod(&client, "counted", "bound after a pod left", |p| {
        node_of(p).is_some()
    })
    .await?;
    assert_eq!(node_of(&p).as_deref(), Some("small"));

    // The scheduler's events.
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "default");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = events.list(&Default::default()).await?;
        let reasons: Vec<String> = list.items.iter().filter_map(|e| e.reason.clone()).collect();
        if reasons.iter().any(|r| r == "Scheduled")
            && reasons.iter().any(|r| r == "FailedScheduling")
        {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "events: {reasons:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    sched.stop().await;
    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn only_the_leader_binds_and_a_successor_takes_over() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    node(&client, "n1", "4", json!({})).await?;
    let first = start_scheduler(&cluster, &[]);
    pod(&client, "a", "100m", json!({})).await?;
    wait_pod(&client, "a", "bound", |p| node_of(p).is_some()).await?;
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(client.clone(), "kube-system");
    let holder = leases
        .get("kube-scheduler")
        .await?
        .spec
        .and_then(|s| s.holder_identity)
        .unwrap_or_default();
    assert!(!holder.is_empty());

    let second = start_scheduler(&cluster, &[]);
    first.stop().await;
    pod(&client, "b", "100m", json!({})).await?;
    wait_pod(&client, "b", "bound by the successor", |p| {
        node_of(p).is_some()
    })
    .await?;
    let now = leases
        .get("kube-scheduler")
        .await?
        .spec
        .and_then(|s| s.holder_identity)
        .unwrap_or_default();
    assert!(
        !now.is_empty() && now != holder,
        "lease holder {now:?} (was {holder:?})"
    );
    second.stop().await;
    cluster.stop().await;
    Ok(())
}
