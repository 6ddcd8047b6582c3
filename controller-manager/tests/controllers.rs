//! kube-controller-manager against a real apiserver and etcd. No kubelet: the test stands in
//! for it by marking pods Running and Ready through `pods/status`, as a kubelet would.

use std::time::Duration;

use anyhow::Result;
use e2e::inprocess::InProcess;
use e2e::TestCluster;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn start(cluster: &TestCluster) -> InProcess {
    let opts = <controller_manager::Options as clap::Parser>::try_parse_from([
        "kube-controller-manager".to_string(),
        format!("--kubeconfig={}", cluster.kubeconfig.display()),
        "--secure-port=0".into(),
        "--leader-elect=false".into(),
    ])
    .unwrap();
    InProcess::start(|shutdown| controller_manager::run(opts, shutdown))
}

/// Marks every pod of `ns` that is not yet Ready as Running and Ready, until aborted.
fn stand_in_kubelet(client: kube::Client, ns: &str) -> tokio::task::JoinHandle<()> {
    let api: Api<Pod> = Api::namespaced(client, ns);
    tokio::spawn(async move {
        loop {
            if let Ok(list) = api.list(&ListParams::default()).await {
                for p in list.items {
                    let ready = p
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        });
                    if ready || p.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    let now = jiff::Timestamp::now()
                        .strftime("%Y-%m-%dT%H:%M:%SZ")
                        .to_string();
                    let status = json!({"status": {"phase": "Running", "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
                    let name = p.metadata.name.clone().unwrap_or_default();
                    let _ = api
                        .patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                        .await;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

async fn eventually<T, F, Fut>(what: &str, f: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{what}: not seen within 45 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn active_pods(list: &[Pod]) -> Vec<&Pod> {
    list.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

#[tokio::test]
async fn replicasets_keep_their_count_and_adopt_orphans() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let cm = start(&cluster);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    // An orphan that matches is adopted rather than a fourth pod created.
    let orphan: Pod = serde_json::from_value(
        json!({"metadata": {"name": "orphan", "labels": {"app": "rs"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}),
    )?;
    pods.create(&PostParams::default(), &orphan).await?;
    let rs: ReplicaSet = serde_json::from_value(json!({"metadata": {"name": "rs"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "rs"}},
        "template": {"metadata": {"labels": {"app": "rs"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}}}))?;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let created = rss.create(&PostParams::default(), &rs).await?;
    let uid = created.metadata.uid.clone().unwrap();
    let list = eventually("3 pods", || async {
        let l = pods.list(&ListParams::default().labels("app=rs")).await?;
        Ok((active_pods(&l.items).len() == 3).then_some(l.items))
    })
    .await?;
    for p in &list {
        let owner = p
            .metadata
            .owner_references
            .as_ref()
            .and_then(|o| o.first())
            .expect("owned");
        assert_eq!(owner.uid, uid);
        assert_eq!(owner.controller, Some(true));
    }
    assert!(list
        .iter()
        .any(|p| p.metadata.name.as_deref() == Some("orphan")));
    // Nothing more is created once the informer has caught up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        active_pods(
            &pods
                .list(&ListParams::default().labels("app=rs"))
                .await?
                .items
        )
        .len(),
        3
    );

    // Scale down: the count follows and the status says so.
    rss.patch(
        "rs",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await?;
    eventually("1 pod", || async {
        let l = pods.list(&ListParams::default().labels("app=rs")).await?;
        Ok((active_pods(&l.items).len() == 1).then_some(()))
    })
    .await?;
    eventually("status.replicas 1", || async {
        let rs = rss.get("rs").await?;
        Ok((rs.status.as_ref().map(|s| s.replicas) == Some(1)
            && rs.status.as_ref().and_then(|s| s.observed_generation) == rs.metadata.generation)
            .then_some(()))
    })
    .await?;
    cm.stop().await;
    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn deployments_roll_and_upstream_kubectl_sees_the_rollout_finish() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let cm = start(&cluster);
    let kubelet = stand_in_kubelet(client.clone(), "default");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {
        "replicas": 4, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}}}))?;
    deploys.create(&PostParams::default(), &d).await?;
    let complete = |image: &'static str| {
        let deploys = deploys.clone();
        move || {
            let deploys = deploys.clone();
            async move {
                let d = deploys.get("web").await?;
                let s = d.status.clone().unwrap_or_default();
                let img = d
                    .spec
                    .as_ref()
                    .unwrap()
                    .template
                    .spec
                    .as_ref()
                    .unwrap()
                    .containers[0]
                    .image
                    .clone();
                let done = img.as_deref() == Some(image)
                    && s.observed_generation == d.metadata.generation
                    && s.updated_replicas == Some(4)
                    && s.replicas == Some(4)
                    && s.available_replicas == Some(4);
                Ok(done.then_some(d))
            }
        }
    };
    let d = eventually("first rollout", complete("busybox:1.35")).await?;
    let conds = d.status.unwrap().conditions.unwrap();
    let progressing = conds.iter().find(|c| c.type_ == "Progressing").unwrap();
    assert_eq!(
        progressing.reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert!(conds
        .iter()
        .any(|c| c.type_ == "Available" && c.status == "True"));
    assert_eq!(
        d.metadata
            .annotations
            .unwrap()
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("1")
    );

    // A new template rolls to a second ReplicaSet, revision 2; the old one ends at 0.
    deploys
        .patch("web", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}})))
        .await?;
    eventually("second rollout", complete("busybox:1.36")).await?;
    let list = eventually("old replica set scaled to 0", || async {
        let l = rss.list(&ListParams::default().labels("app=web")).await?;
        let old_done = l.items.len() == 2
            && l.items
                .iter()
                .any(|r| r.spec.as_ref().and_then(|s| s.replicas) == Some(0));
        Ok(old_done.then_some(l.items))
    })
    .await?;
    let revisions: Vec<String> = list
        .iter()
        .filter_map(|r| {
            r.metadata
                .annotations
                .as_ref()?
                .get("deployment.kubernetes.io/revision")
                .cloned()
        })
        .collect();
    assert!(
        revisions.contains(&"1".to_string()) && revisions.contains(&"2".to_string()),
        "{revisions:?}"
    );
    for r in &list {
        let name = r.metadata.name.clone().unwrap();
        let hash = r
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .get("pod-template-hash")
            .unwrap();
        assert_eq!(name, format!("web-{hash}"));
    }

    // Upstream kubectl agrees the rollout is complete.
    if let Some(kubectl) = e2e::upstream_kubectl(33) {
        let out = tokio::process::Command::new(kubectl)
            .args([
                "--kubeconfig",
                cluster.kubeconfig.to_str().unwrap(),
                "rollout",
                "status",
                "deployment/web",
                "--timeout=20s",
            ])
            .output()
            .await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("deployment \"web\" successfully rolled out"),
            "{stdout}"
        );
    }
    kubelet.abort();
    cm.stop().await;
    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn every_namespace_gets_a_default_service_account() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let cm = start(&cluster);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team-a"}}))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "team-a");
    eventually("default SA", || async { Ok(sas.get_opt("default").await?) }).await?;
    // Deleted, it comes back.
    sas.delete("default", &Default::default()).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    eventually("default SA again", || async {
        Ok(sas.get_opt("default").await?)
    })
    .await?;
    cm.stop().await;
    cluster.stop().await;
    Ok(())
}

#[tokio::test]
async fn services_get_endpoint_slices_of_their_ready_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let cm = start(&cluster);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for (i, ready) in [(1, true), (2, false)] {
        let pod: Pod = serde_json::from_value(
            json!({"metadata": {"name": format!("web-{i}"), "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.35", "ports": [{"name": "http", "containerPort": 8080}]}]}}),
        )?;
        pods.create(&PostParams::default(), &pod).await?;
        let status = json!({"status": {"phase": "Running", "podIP": format!("10.1.0.{i}"),
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}});
        pods.patch_status(
            &format!("web-{i}"),
            &PatchParams::default(),
            &Patch::Merge(status),
        )
        .await?;
    }
    let svc: k8s_openapi::api::core::v1::Service = serde_json::from_value(
        json!({"metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
    )?;
    Api::<k8s_openapi::api::core::v1::Service>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &svc)
        .await?;
    let slices: Api<k8s_openapi::api::discovery::v1::EndpointSlice> =
        Api::namespaced(client.clone(), "default");
    let slice = eventually("an EndpointSlice with both pods", || async {
        let l = slices
            .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
            .await?;
        Ok(l.items.into_iter().find(|s| s.endpoints.len() == 2))
    })
    .await?;
    assert_eq!(
        slice
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .get("endpointslice.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("endpointslice-controller.k8s.io")
    );
    let ports = slice.ports.clone().unwrap();
    assert_eq!(
        (ports[0].name.as_deref(), ports[0].port),
        (Some("http"), Some(8080))
    );
    let ready: Vec<(String, bool)> = slice
        .endpoints
        .iter()
        .map(|e| {
            (
                e.addresses[0].clone(),
                e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        ready,
        vec![
            ("10.1.0.1".to_string(), true),
            ("10.1.0.2".to_string(), false)
        ]
    );
    // The second pod turns ready: the slice follows.
    pods.patch_status(
        "web-2",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})),
    )
    .await?;
    eventually("both ready", || async {
        let l = slices
            .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
            .await?;
        Ok(l.items
            .iter()
            .any(|s| {
                s.endpoints
                    .iter()
                    .all(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
                    && s.endpoints.len() == 2
            })
            .then_some(()))
    })
    .await?;
    cm.stop().await;
    cluster.stop().await;
    Ok(())
}
