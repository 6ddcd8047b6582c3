//! Pod scenarios (owned by the `kubelet` work): pods run in containerd on the nodes, report
//! their status, restart as their policy says, read their environment from ConfigMaps and the
//! downward API, go away with their containers, and survive a kubelet restart.

use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::Api;
use serde_json::json;

use crate::{Ctx, Scenario};

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "pods: a pod reaches Running with an IP",
        run: |ctx| Box::pin(pod_runs(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: a crashing container backs off with CrashLoopBackOff",
        run: |ctx| Box::pin(crash_loop(ctx)),
        timeout: Duration::from_secs(120),
    },
    Scenario {
        name: "pods: env from a ConfigMap and a fieldRef reach the container",
        run: |ctx| Box::pin(env_from_sources(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: a kubelet restart keeps running pods",
        run: |ctx| Box::pin(kubelet_restart(ctx)),
        timeout: Duration::from_secs(120),
    },
    Scenario {
        name: "pods: deletion runs the preStop hook before stopping the container",
        run: |ctx| Box::pin(pre_stop_runs(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: init containers run first and a Never pod succeeds",
        run: |ctx| Box::pin(init_then_succeed(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: a failing liveness probe restarts the container",
        run: |ctx| Box::pin(liveness_restarts(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: a readiness probe gates Ready",
        run: |ctx| Box::pin(readiness_gates(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: a ConfigMap volume follows updates",
        run: |ctx| Box::pin(config_map_volume_updates(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: the sandbox of a pod deleted while the kubelet was down is removed",
        run: |ctx| Box::pin(orphans_removed(ctx)),
        timeout: Duration::from_secs(90),
    },
    Scenario {
        name: "pods: a static pod runs and appears as a mirror pod",
        run: |ctx| Box::pin(static_pod(ctx)),
        timeout: Duration::from_secs(90),
    },
];

/// The node the scenarios run their pods on.
const NODE: &str = "worker";

fn pod(name: &str, command: &str, extra: serde_json::Value) -> Pod {
    let mut p = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": NODE,
            "terminationGracePeriodSeconds": 2,
            "containers": [{
                "name": "c",
                "image": e2e::node::BUSYBOX_IMAGE,
                "command": ["sh", "-c", command],
            }],
        },
    });
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            if k == "container" {
                for (ck, cv) in v.as_object().cloned().unwrap_or_default() {
                    p["spec"]["containers"][0][ck] = cv;
                }
            } else {
                p["spec"][k] = v;
            }
        }
    }
    serde_json::from_value(p).expect("a valid pod")
}

/// Polls the pod until `check` returns `Some`, or fails with the pod's last status.
async fn wait_for<T>(
    api: &Api<Pod>,
    name: &str,
    timeout: Duration,
    what: &str,
    mut check: impl FnMut(&Pod) -> Option<T>,
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Some(p) = api.get_opt(name).await? {
            if let Some(v) = check(&p) {
                return Ok(v);
            }
            last = Some(p);
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "pod {name}: {what} not seen within {timeout:?}; last status: {}",
                serde_json::to_string(&last.and_then(|p| p.status)).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pod's sandboxes on `NODE`'s containerd.
async fn sandboxes_of(ctx: &Ctx, uid: &str) -> Result<usize> {
    let node = ctx.cluster.node(NODE).context("no worker node")?;
    let (mut rt, _) = e2e::node::cri_connect(&node.containerd_socket).await?;
    let items = rt
        .list_pod_sandbox(k8s_cri::v1::ListPodSandboxRequest { filter: None })
        .await?
        .into_inner()
        .items;
    Ok(items
        .iter()
        .filter(|s| s.labels.get("io.kubernetes.pod.uid").map(String::as_str) == Some(uid))
        .count())
}

/// Deletes the pod and waits until the kubelet has removed it (object and sandboxes).
async fn delete_and_wait(ctx: &Ctx, name: &str) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    let Some(p) = api.get_opt(name).await? else {
        return Ok(());
    };
    let uid = p.metadata.uid.clone().unwrap_or_default();
    api.delete(name, &DeleteParams::default()).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while api.get_opt(name).await?.is_some() {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "pod {name} still exists 30s after its deletion"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Finished pods go from the apiserver at once; the kubelet removes their sandbox after.
    loop {
        let n = sandboxes_of(ctx, &uid).await?;
        if n == 0 {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "pod {name} deleted but {n} sandboxes remain"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn pod_runs(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "runs",
            "sleep 3600",
            json!({"container": {"ports": [{"containerPort": 8080}]}}),
        ),
    )
    .await?;
    let p = wait_for(
        &api,
        "runs",
        Duration::from_secs(60),
        "Running and Ready",
        |p| (phase(p) == "Running" && ready(p)).then(|| p.clone()),
    )
    .await?;
    let status = p.status.clone().unwrap_or_default();
    let node = ctx.cluster.node(NODE).context("no worker node")?;
    let ip = status.pod_ip.clone().unwrap_or_default();
    let prefix = node.pod_cidr.rsplit_once('.').map(|(a, _)| a).unwrap_or("");
    ensure!(
        ip.starts_with(prefix),
        "pod IP {ip} is not in the node's pod CIDR {}",
        node.pod_cidr
    );
    ensure!(
        status.host_ip.as_deref() == Some(node.ip.to_string().as_str()),
        "hostIP {:?}",
        status.host_ip
    );
    let cs = &status.container_statuses.clone().unwrap_or_default()[0];
    ensure!(cs.ready && cs.restart_count == 0, "container status {cs:?}");
    ensure!(
        cs.container_id
            .as_deref()
            .is_some_and(|id| id.starts_with("containerd://")),
        "containerID {:?}",
        cs.container_id
    );
    ensure!(!cs.image_id.is_empty(), "imageID is empty");
    for t in [
        "PodScheduled",
        "Initialized",
        "ContainersReady",
        "Ready",
        "PodReadyToStartContainers",
    ] {
        ensure!(
            status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == t && c.status == "True"),
            "condition {t} not True: {:?}",
            status.conditions
        );
    }
    // The pod answers on its IP from the node (the pod network works end to end).
    node.exec(&["busybox", "ping", "-c", "1", "-W", "2", &ip])
        .await?;
    // The kubelet recorded what it did, as `kubectl describe pod` shows.
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::default_namespaced(ctx.client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reasons: Vec<String> = events
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .filter(|e| {
                e.regarding.as_ref().and_then(|r| r.uid.as_deref()) == p.metadata.uid.as_deref()
            })
            .filter_map(|e| e.reason)
            .collect();
        if ["Created", "Started"]
            .iter()
            .all(|r| reasons.iter().any(|x| x == r))
            && reasons.iter().any(|x| x == "Pulled" || x == "Pulling")
        {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "events of the pod: {reasons:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    delete_and_wait(ctx, "runs").await
}

async fn crash_loop(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(&PostParams::default(), &pod("crashes", "exit 3", json!({})))
        .await?;
    let mut saw_backoff = false;
    let count = wait_for(
        &api,
        "crashes",
        Duration::from_secs(90),
        "CrashLoopBackOff with restartCount >= 2",
        |p| {
            let cs = p
                .status
                .as_ref()?
                .container_statuses
                .as_ref()?
                .first()?
                .clone();
            let waiting = cs.state.as_ref()?.waiting.as_ref()?.reason.clone();
            if waiting.as_deref() == Some("CrashLoopBackOff") {
                saw_backoff = true;
                let last = cs.last_state.as_ref()?.terminated.as_ref()?;
                if last.exit_code == 3 && cs.restart_count >= 2 {
                    return Some(cs.restart_count);
                }
            }
            None
        },
    )
    .await?;
    ensure!(saw_backoff && count >= 2);
    let p = api.get("crashes").await?;
    ensure!(
        phase(&p) == "Running",
        "a restarting pod is Running, not {}",
        phase(&p)
    );
    delete_and_wait(ctx, "crashes").await
}

async fn env_from_sources(ctx: &mut Ctx) -> Result<()> {
    let cms: Api<ConfigMap> = Api::default_namespaced(ctx.client.clone());
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "env-cm"},
        "data": {"COLOR": "teal"},
    }))?;
    let _ = cms.delete("env-cm", &DeleteParams::default()).await;
    cms.create(&PostParams::default(), &cm).await?;
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "envs",
            "echo \"color=$COLOR node=$NODE pod=$POD ip=$IP\"; sleep 3600",
            json!({"container": {"env": [
                {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "COLOR"}}},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            ]}}),
        ),
    )
    .await?;
    let p = wait_for(&api, "envs", Duration::from_secs(60), "Running", |p| {
        (phase(p) == "Running").then(|| p.clone())
    })
    .await?;
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let ip = p.status.and_then(|s| s.pod_ip).unwrap_or_default();
    let node = ctx.cluster.node(NODE).context("no worker node")?;
    let log = node
        .pod_logs_dir()
        .join(format!("default_envs_{uid}"))
        .join("c")
        .join("0.log");
    let want = format!("color=teal node={NODE} pod=envs ip={ip}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        // CRI log lines: `<time> stdout F <line>`.
        if text
            .lines()
            .any(|l| l.ends_with(&format!("stdout F {want}")))
        {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "{} holds {text:?}, not {want:?}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    delete_and_wait(ctx, "envs").await?;
    ensure!(!log.exists(), "the pod's log directory is removed with it");
    cms.delete("env-cm", &DeleteParams::default()).await?;
    Ok(())
}

async fn kubelet_restart(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod("survivor", "sleep 3600", json!({})),
    )
    .await?;
    let before = wait_for(&api, "survivor", Duration::from_secs(60), "Running", |p| {
        (phase(p) == "Running" && ready(p)).then(|| p.clone())
    })
    .await?;
    let id = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c.first())
            .and_then(|c| c.container_id.clone())
    };
    let kubeconfig = ctx.cluster.kubeconfig.clone();
    let kubelet = ctx.kubelet.clone();
    let node = ctx.cluster.node_mut(NODE).context("no worker node")?;
    node.stop_kubelet(Duration::from_secs(10));
    ensure!(!node.kubelet_running(), "the kubelet stopped");
    node.start_kubelet(&kubelet, &kubeconfig, &[])?;
    // Give the new kubelet time to sync the pod (and to wrongly restart it, if it would).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = api.get("survivor").await?;
    ensure!(
        phase(&after) == "Running" && ready(&after),
        "pod after restart: {:?}",
        after.status
    );
    ensure!(
        id(&after) == id(&before),
        "the container was replaced: {:?} -> {:?}",
        id(&before),
        id(&after)
    );
    let cs = &after
        .status
        .clone()
        .unwrap_or_default()
        .container_statuses
        .unwrap_or_default()[0];
    ensure!(cs.restart_count == 0, "restartCount {}", cs.restart_count);
    let uid = after.metadata.uid.clone().unwrap_or_default();
    ensure!(
        sandboxes_of(ctx, &uid).await? == 1,
        "one sandbox after the restart"
    );
    delete_and_wait(ctx, "survivor").await
}

async fn static_pod(ctx: &mut Ctx) -> Result<()> {
    let node = ctx.cluster.node(NODE).context("no worker node")?;
    let file = node.manifests.join("static-web.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: c\n    image: {}\n    command: [sleep, '3600']\n",
            e2e::node::BUSYBOX_IMAGE
        ),
    )?;
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    let mirror = format!("static-web-{NODE}");
    let result = async {
        let p = wait_for(
            &api,
            &mirror,
            Duration::from_secs(60),
            "a Running mirror pod",
            |p| (phase(p) == "Running").then(|| p.clone()),
        )
        .await?;
        let annotations = p.metadata.annotations.clone().unwrap_or_default();
        ensure!(
            annotations.contains_key("kubernetes.io/config.mirror"),
            "mirror annotation missing: {annotations:?}"
        );
        ensure!(p.spec.and_then(|s| s.node_name).as_deref() == Some(NODE));
        Ok(())
    }
    .await;
    std::fs::remove_file(&file)?;
    result?;
    // Removing the manifest stops the pod and removes its mirror.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while api.get_opt(&mirror).await?.is_some() {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "mirror pod still exists 30s after its manifest was removed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

/// Runs `cmd` in the pod's first container through the worker node's CRI (ExecSync).
async fn exec_in(ctx: &Ctx, pod: &Pod, cmd: &[&str]) -> Result<(i32, String)> {
    let id = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.container_id.clone())
        .context("no container ID")?;
    let id = id.trim_start_matches("containerd://").to_string();
    let node = ctx.cluster.node(NODE).context("no worker node")?;
    let (mut rt, _) = e2e::node::cri_connect(&node.containerd_socket).await?;
    let r = rt
        .exec_sync(k8s_cri::v1::ExecSyncRequest {
            container_id: id,
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            timeout: 5,
        })
        .await?
        .into_inner();
    Ok((r.exit_code, String::from_utf8_lossy(&r.stdout).into_owned()))
}

async fn liveness_restarts(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "unhealthy",
            "sleep 3600",
            json!({"container": {"livenessProbe": {
                "exec": {"command": ["cat", "/tmp/healthy"]},
                "periodSeconds": 1, "failureThreshold": 2,
            }}}),
        ),
    )
    .await?;
    wait_for(
        &api,
        "unhealthy",
        Duration::from_secs(60),
        "a restart after the liveness probe failed",
        |p| {
            let cs = p
                .status
                .as_ref()?
                .container_statuses
                .as_ref()?
                .first()?
                .clone();
            (cs.restart_count >= 1 && cs.last_state?.terminated.is_some()).then_some(())
        },
    )
    .await?;
    delete_and_wait(ctx, "unhealthy").await
}

async fn readiness_gates(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "gated",
            "sleep 3600",
            json!({"container": {"readinessProbe": {
                "exec": {"command": ["cat", "/tmp/ready"]},
                "periodSeconds": 1,
            }}}),
        ),
    )
    .await?;
    let p = wait_for(&api, "gated", Duration::from_secs(60), "Running", |p| {
        (phase(p) == "Running").then(|| p.clone())
    })
    .await?;
    // Several probe periods pass without the file: the pod stays unready.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let unready = api.get("gated").await?;
    ensure!(!ready(&unready), "Ready before the readiness probe passed");
    let cs = &unready
        .status
        .clone()
        .unwrap_or_default()
        .container_statuses
        .unwrap_or_default()[0];
    ensure!(
        !cs.ready && cs.started == Some(true),
        "container status {cs:?}"
    );
    let (code, _) = exec_in(ctx, &p, &["touch", "/tmp/ready"]).await?;
    ensure!(code == 0, "touch exited {code}");
    wait_for(&api, "gated", Duration::from_secs(20), "Ready", |p| {
        ready(p).then_some(())
    })
    .await?;
    delete_and_wait(ctx, "gated").await
}

async fn config_map_volume_updates(ctx: &mut Ctx) -> Result<()> {
    let cms: Api<ConfigMap> = Api::default_namespaced(ctx.client.clone());
    let _ = cms.delete("vol-cm", &DeleteParams::default()).await;
    let cm = |v: &str| -> Result<ConfigMap> {
        Ok(serde_json::from_value(
            json!({"metadata": {"name": "vol-cm"}, "data": {"greeting": v}}),
        )?)
    };
    cms.create(&PostParams::default(), &cm("hello")?).await?;
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "mounts",
            "sleep 3600",
            json!({
                "volumes": [{"name": "cfg", "configMap": {"name": "vol-cm"}}],
                "container": {"volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
            }),
        ),
    )
    .await?;
    let p = wait_for(&api, "mounts", Duration::from_secs(60), "Running", |p| {
        (phase(p) == "Running").then(|| p.clone())
    })
    .await?;
    let (_, first) = exec_in(ctx, &p, &["cat", "/etc/cfg/greeting"]).await?;
    ensure!(first == "hello", "mounted file holds {first:?}");
    let mut current = cms.get("vol-cm").await?;
    current.data = cm("bonjour")?.data;
    cms.replace("vol-cm", &PostParams::default(), &current)
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, now) = exec_in(ctx, &p, &["cat", "/etc/cfg/greeting"]).await?;
        if now == "bonjour" {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the mounted file still holds {now:?} 30s after the update"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    delete_and_wait(ctx, "mounts").await?;
    cms.delete("vol-cm", &DeleteParams::default()).await?;
    Ok(())
}

async fn orphans_removed(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod("orphan", "sleep 3600", json!({})),
    )
    .await?;
    let p = wait_for(&api, "orphan", Duration::from_secs(60), "Running", |p| {
        (phase(p) == "Running").then(|| p.clone())
    })
    .await?;
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let kubeconfig = ctx.cluster.kubeconfig.clone();
    let kubelet = ctx.kubelet.clone();
    ctx.cluster
        .node_mut(NODE)
        .context("no worker node")?
        .stop_kubelet(Duration::from_secs(10));
    api.delete("orphan", &DeleteParams::default().grace_period(0))
        .await?;
    ensure!(
        sandboxes_of(ctx, &uid).await? == 1,
        "the sandbox outlives the pod object"
    );
    ctx.cluster
        .node_mut(NODE)
        .context("no worker node")?
        .start_kubelet(&kubelet, &kubeconfig, &[])?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sandboxes_of(ctx, &uid).await? > 0 {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the orphaned sandbox is still there 30s after the kubelet started"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

async fn pre_stop_runs(ctx: &mut Ctx) -> Result<()> {
    let node = ctx.cluster.node(NODE).context("no worker node")?;
    let host = node.dir.join("prestop");
    let _ = std::fs::remove_dir_all(&host);
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "hooked",
            "sleep 3600",
            json!({
                "volumes": [{"name": "out", "hostPath": {"path": host.to_string_lossy(), "type": "DirectoryOrCreate"}}],
                "container": {
                    "volumeMounts": [{"name": "out", "mountPath": "/out"}],
                    "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo bye > /out/said"]}}},
                },
            }),
        ),
    )
    .await?;
    wait_for(&api, "hooked", Duration::from_secs(60), "Running", |p| {
        (phase(p) == "Running").then_some(())
    })
    .await?;
    ensure!(
        !host.join("said").exists(),
        "the hook ran before the deletion"
    );
    delete_and_wait(ctx, "hooked").await?;
    let said = std::fs::read_to_string(host.join("said")).unwrap_or_default();
    std::fs::remove_dir_all(&host)?;
    ensure!(said == "bye\n", "the preStop hook wrote {said:?}");
    Ok(())
}

async fn init_then_succeed(ctx: &mut Ctx) -> Result<()> {
    let api: Api<Pod> = Api::default_namespaced(ctx.client.clone());
    api.create(
        &PostParams::default(),
        &pod(
            "batch",
            "test \"$(cat /work/a)$(cat /work/b)\" = 12",
            json!({
                "restartPolicy": "Never",
                "volumes": [{"name": "work", "emptyDir": {}}],
                "initContainers": [
                    {"name": "one", "image": e2e::node::BUSYBOX_IMAGE,
                     "command": ["sh", "-c", "echo -n 1 > /work/a"],
                     "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
                    {"name": "two", "image": e2e::node::BUSYBOX_IMAGE,
                     "command": ["sh", "-c", "test -f /work/a && echo -n 2 > /work/b"],
                     "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
                ],
                "container": {"volumeMounts": [{"name": "work", "mountPath": "/work"}]},
            }),
        ),
    )
    .await?;
    let p = wait_for(&api, "batch", Duration::from_secs(60), "Succeeded", |p| {
        matches!(phase(p), "Succeeded" | "Failed").then(|| p.clone())
    })
    .await?;
    let status = p.status.clone().unwrap_or_default();
    ensure!(phase(&p) == "Succeeded", "phase {}: {status:?}", phase(&p));
    for s in status.init_container_statuses.iter().flatten() {
        let t = s.state.as_ref().and_then(|s| s.terminated.as_ref());
        ensure!(
            t.is_some_and(|t| t.exit_code == 0 && t.reason.as_deref() == Some("Completed")),
            "init container {} state {:?}",
            s.name,
            s.state
        );
    }
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .context("no Ready condition")?;
    ensure!(
        ready.status == "False" && ready.reason.as_deref() == Some("PodCompleted"),
        "Ready condition {ready:?}"
    );
    delete_and_wait(ctx, "batch").await
}
