//! `pods/ephemeralcontainers` against the real apiserver and etcd: discovery, GET, PUT and
//! patches (strategic merge, as `kubectl debug` sends), upstream's validation (only
//! `spec.ephemeralContainers` changes, existing entries stay, names unique, no ports, probes,
//! resources or lifecycle), and upstream kubectl 1.33's `kubectl debug` adding one.

use std::process::{Command, Stdio};

use e2e::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};

async fn request(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Result<Value, kube::core::Status> {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", content_type)
        .body(if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        })
        .unwrap();
    match client.request_text(req).await {
        Ok(text) => Ok(serde_json::from_str(&text).unwrap()),
        Err(kube::Error::Api(s)) => Err(*s),
        Err(other) => panic!("{method} {path}: {other:?}"),
    }
}

const PATH: &str = "/api/v1/namespaces/default/pods/web/ephemeralcontainers";
const SMP: &str = "application/strategic-merge-patch+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_containers_are_added_through_their_subresource_only() {
    let c = TestCluster::start().await.unwrap();
    let client = e2e::kube_client(&c.kubeconfig).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();

    // Discovery lists it as upstream does.
    let v1 = request(&client, "GET", "/api/v1", "application/json", &Value::Null)
        .await
        .unwrap();
    let entry = v1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods/ephemeralcontainers")
        .cloned()
        .expect("pods/ephemeralcontainers in discovery");
    assert_eq!(entry["kind"], "Pod");
    assert_eq!(entry["verbs"], json!(["get", "patch", "update"]));

    // GET is the pod.
    let got = request(&client, "GET", PATH, "application/json", &Value::Null)
        .await
        .unwrap();
    assert_eq!(got["kind"], "Pod");
    assert_eq!(got["metadata"]["name"], "web");

    // A strategic merge patch adds one, defaulted; nothing else the patch says changes.
    let patch = json!({
        "metadata": {"labels": {"app": "changed"}},
        "spec": {
            "containers": [{"name": "app", "image": "busybox:9"}],
            "ephemeralContainers": [{"name": "debugger", "image": "busybox", "targetContainerName": "app", "stdin": true, "tty": true}],
        },
    });
    let patched = request(&client, "PATCH", PATH, SMP, &patch).await.unwrap();
    let ec = &patched["spec"]["ephemeralContainers"];
    assert_eq!(ec.as_array().unwrap().len(), 1);
    assert_eq!(ec[0]["name"], "debugger");
    assert_eq!(ec[0]["terminationMessagePolicy"], "File");
    assert_eq!(ec[0]["imagePullPolicy"], "Always");
    assert_eq!(patched["metadata"]["labels"]["app"], "web");
    assert_eq!(patched["spec"]["containers"][0]["image"], "busybox:1.36");

    // The pod's own update cannot add one.
    let mut through_main = patched.clone();
    through_main["spec"]["ephemeralContainers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "two", "image": "busybox"}));
    let s = request(
        &client,
        "PUT",
        "/api/v1/namespaces/default/pods/web",
        "application/json",
        &through_main,
    )
    .await
    .unwrap_err();
    assert_eq!(s.code, 422, "{}", s.message);

    // Existing entries may be neither removed nor changed.
    let mut removed = patched.clone();
    removed["spec"]["ephemeralContainers"] = json!([]);
    let s = request(&client, "PUT", PATH, "application/json", &removed)
        .await
        .unwrap_err();
    assert_eq!(s.code, 422);
    assert_eq!(
        s.message,
        "Pod \"web\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be removed\n"
    );
    let mut changed = patched.clone();
    changed["spec"]["ephemeralContainers"][0]["image"] = json!("busybox:2");
    let s = request(&client, "PUT", PATH, "application/json", &changed)
        .await
        .unwrap_err();
    assert!(
        s.message.starts_with(
            "Pod \"web\" is invalid: spec.ephemeralContainers[debugger]: Forbidden: existing ephemeral containers \"debugger\" may not be changed"
        ),
        "{}",
        s.message
    );

    // Names are unique across all containers; ports, probes, resources and lifecycle are
    // not for ephemeral containers; a target must exist.
    let bad = json!({"spec": {"ephemeralContainers": [
        {"name": "app", "image": "busybox"},
        {"name": "probe", "image": "busybox", "ports": [{"containerPort": 80}],
         "readinessProbe": {"exec": {"command": ["true"]}},
         "resources": {"limits": {"cpu": "1"}}, "lifecycle": {"preStop": {"exec": {"command": ["true"]}}},
         "targetContainerName": "nope"},
    ]}});
    let s = request(&client, "PATCH", PATH, SMP, &bad)
        .await
        .unwrap_err();
    assert_eq!(s.code, 422);
    for want in [
        "spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
        "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[1].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[1].resources: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[1].lifecycle: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[1].targetContainerName: Not found: \"nope\"",
    ] {
        assert!(s.message.contains(want), "{want}\n{}", s.message);
    }
    let now: Pod = pods.get("web").await.unwrap();
    assert_eq!(
        now.spec.unwrap().ephemeral_containers.unwrap().len(),
        1,
        "a refused write changed nothing"
    );
    // A merge patch through the subresource works too.
    let merge = json!({"spec": {"ephemeralContainers": [
        patched["spec"]["ephemeralContainers"][0].clone(),
        {"name": "second", "image": "busybox"},
    ]}});
    let p: Pod = pods
        .patch_subresource(
            "ephemeralcontainers",
            "web",
            &PatchParams::default(),
            &Patch::Merge(&merge),
        )
        .await
        .unwrap();
    assert_eq!(p.spec.unwrap().ephemeral_containers.unwrap().len(), 2);

    // Upstream kubectl 1.33 adds one as `kubectl debug` does (without attaching: no kubelet).
    if let Some(bin) = e2e::upstream_kubectl(33) {
        let kubeconfig = c.kubeconfig.clone();
        let home = c.dir.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(bin)
                .args([
                    "debug",
                    "web",
                    "--image=busybox:1.36",
                    "--container=dbg",
                    "--attach=false",
                ])
                .env("KUBECONFIG", kubeconfig)
                .env("HOME", home)
                .stdin(Stdio::null())
                .output()
                .expect("running upstream kubectl")
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let now: Pod = pods.get("web").await.unwrap();
        let ecs = now.spec.unwrap().ephemeral_containers.unwrap();
        let dbg = ecs
            .iter()
            .find(|e| e.name == "dbg")
            .expect("the debug container");
        assert_eq!(dbg.image.as_deref(), Some("busybox:1.36"));
        assert_eq!(dbg.termination_message_policy.as_deref(), Some("File"));
    }
    c.stop().await;
}
