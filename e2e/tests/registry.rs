//! The generic registry end to end, over raw HTTP against a real etcd: error Status bodies
//! byte for byte, each subresource served by the generic store (`status`, `scale`, `binding`,
//! `finalize`, `approval`), and the NamespaceLifecycle admission plugin.

use e2e::TestCluster;
use kube::Client;
use serde_json::{json, Value};

async fn client(c: &TestCluster) -> Client {
    e2e::kube_client(&c.kubeconfig).await
}

/// Sends one request and returns the status code and the body as sent, whatever the code.
async fn send(client: &Client, method: &str, path: &str, ctype: &str, body: &str) -> (u16, String) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", ctype)
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .unwrap();
    let resp = client.send(req).await.expect("the request is answered");
    let code = resp.status().as_u16();
    let bytes = resp.into_body().collect_bytes().await.expect("body read");
    (code, String::from_utf8(bytes.to_vec()).expect("UTF-8 body"))
}

async fn json_req(client: &Client, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let ctype = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (code, out) = send(client, method, path, ctype, &text).await;
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{method} {path}: {e}: {out}"));
    (code, v)
}

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
}

#[tokio::test]
async fn status_bodies_are_upstreams_bytes_on_the_wire() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let (code, body) = send(
        &client,
        "GET",
        "/api/v1/namespaces/default/configmaps/nope",
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"configmaps \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"nope\",\"kind\":\"configmaps\"},\"code\":404}\n"
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice"}});
    let path = "/api/v1/namespaces/default/configmaps";
    assert_eq!(json_req(&client, "POST", path, &cm).await.0, 201);
    let (code, body) = send(&client, "POST", path, "application/json", &cm.to_string()).await;
    assert_eq!(code, 409);
    assert_eq!(
        body,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"configmaps \\\"twice\\\" already exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"twice\",\"kind\":\"configmaps\"},\"code\":409}\n"
    );
    c.stop().await;
}

#[tokio::test]
async fn binding_dry_run_never_writes_and_a_second_binding_conflicts() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    assert_eq!(json_req(&client, "POST", PODS, &pod("p")).await.0, 201);
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "node-1"}});
    let bind = format!("{PODS}/p/binding");

    // A dry run answers as the binding would, and writes nothing.
    let (code, body) = send(
        &client,
        "POST",
        &format!("{bind}?dryRun=All"),
        "application/json",
        &binding.to_string(),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (_, p) = json_req(&client, "GET", &format!("{PODS}/p"), &Value::Null).await;
    assert!(p.pointer("/spec/nodeName").is_none(), "{p}");
    let rv_before = p["metadata"]["resourceVersion"].clone();

    // A binding without a node is invalid, as upstream's ValidatePodBinding says.
    let bad =
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {}});
    let (code, status) = json_req(&client, "POST", &bind, &bad).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "target.name");

    // Binding is a create: other verbs are refused.
    let (code, _) = send(&client, "GET", &bind, "application/json", "").await;
    assert_eq!(code, 405);

    let (code, body) = send(
        &client,
        "POST",
        &bind,
        "application/json",
        &binding.to_string(),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(
        body,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"code\":201}\n"
    );
    let (_, p) = json_req(&client, "GET", &format!("{PODS}/p"), &Value::Null).await;
    assert_eq!(p["spec"]["nodeName"], "node-1");
    assert_ne!(p["metadata"]["resourceVersion"], rv_before);
    assert!(p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["status"] == "True"));

    let other = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "node-2"}});
    let (code, status) = json_req(&client, "POST", &bind, &other).await;
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-1\""
    );
    // The legacy `bindings` resource binds through the same store.
    assert_eq!(json_req(&client, "POST", PODS, &pod("q")).await.0, 201);
    let q = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "q"},
        "target": {"kind": "Node", "name": "node-1"}});
    let (code, _) = json_req(&client, "POST", "/api/v1/namespaces/default/bindings", &q).await;
    assert_eq!(code, 201);
    let (_, q) = json_req(&client, "GET", &format!("{PODS}/q"), &Value::Null).await;
    assert_eq!(q["spec"]["nodeName"], "node-1");
    c.stop().await;
}

#[tokio::test]
async fn status_and_scale_subresources_change_only_their_part() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let deploys = "/apis/apps/v1/namespaces/default/deployments";
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        "status": {"replicas": 7}});
    let (code, created) = json_req(&client, "POST", deploys, &d).await;
    assert_eq!(code, 201, "{created}");
    assert!(created
        .get("status")
        .is_none_or(|s| s.get("replicas").is_none()));
    assert_eq!(created["metadata"]["generation"], 1);

    // /status changes status only, without bumping generation.
    let status_path = format!("{deploys}/web/status");
    let (code, after) = json_req(
        &client,
        "PATCH",
        &status_path,
        &json!({"spec": {"replicas": 5}, "status": {"replicas": 1}}),
    )
    .await;
    assert_eq!(code, 200, "{after}");
    assert_eq!(after["status"]["replicas"], 1);
    assert_eq!(after["spec"]["replicas"], 1);
    assert_eq!(after["metadata"]["generation"], 1);

    // scale reads and writes spec.replicas.
    let scale_path = format!("{deploys}/web/scale");
    let (code, scale) = json_req(&client, "GET", &scale_path, &Value::Null).await;
    assert_eq!(code, 200);
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["status"]["selector"], "app=web");
    let mut wanted = scale.clone();
    wanted["spec"]["replicas"] = json!(3);
    let (code, scale) = json_req(&client, "PUT", &scale_path, &wanted).await;
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["spec"]["replicas"], 3);
    let (_, web) = json_req(&client, "GET", &format!("{deploys}/web"), &Value::Null).await;
    assert_eq!(web["spec"]["replicas"], 3);
    assert_eq!(web["metadata"]["generation"], 2);
    assert_eq!(web["status"]["replicas"], 1);
    // A stale resourceVersion is refused; a negative count is invalid.
    let (code, _) = json_req(&client, "PUT", &scale_path, &wanted).await;
    assert_eq!(code, 409);
    let (code, _) = json_req(
        &client,
        "PATCH",
        &scale_path,
        &json!({"spec": {"replicas": -1}}),
    )
    .await;
    assert_eq!(code, 422);
    let (code, scale) = json_req(
        &client,
        "PATCH",
        &scale_path,
        &json!({"spec": {"replicas": 0}}),
    )
    .await;
    assert_eq!((code, scale["spec"]["replicas"].clone()), (200, json!(0)));
    c.stop().await;
}

#[tokio::test]
async fn namespace_lifecycle_finalize_and_approval() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    // Creates in a missing namespace: upstream's 404 on the namespace.
    let (code, status) = json_req(
        &client,
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        &json!({"metadata": {"name": "c"}}),
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(status["message"], "namespaces \"nowhere\" not found");

    // The system namespaces cannot be deleted.
    for ns in ["default", "kube-system", "kube-public"] {
        let (code, status) = json_req(
            &client,
            "DELETE",
            &format!("/api/v1/namespaces/{ns}"),
            &Value::Null,
        )
        .await;
        assert_eq!(code, 403);
        assert_eq!(
            status["message"],
            format!("namespaces \"{ns}\" is forbidden: this namespace may not be deleted")
        );
    }

    // A terminating namespace takes no new objects until /finalize releases it.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "going"}});
    assert_eq!(
        json_req(&client, "POST", "/api/v1/namespaces", &ns).await.0,
        201
    );
    let (code, marked) =
        json_req(&client, "DELETE", "/api/v1/namespaces/going", &Value::Null).await;
    assert_eq!(code, 200);
    assert_eq!(marked["status"]["phase"], "Terminating");
    // The watch cache serves admission: wait until it sees the namespace terminating.
    let mut status = Value::Null;
    for _ in 0..50 {
        let (code, s) = json_req(
            &client,
            "POST",
            "/api/v1/namespaces/going/configmaps",
            &json!({"metadata": {"name": "late"}}),
        )
        .await;
        status = s;
        if code == 403 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status["message"],
        "configmaps \"late\" is forbidden: unable to create new content in namespace going because it is being terminated"
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "NamespaceTerminating"
    );
    let mut finalize = marked.clone();
    finalize["spec"]["finalizers"] = json!([]);
    let (code, body) = json_req(
        &client,
        "PUT",
        "/api/v1/namespaces/going/finalize",
        &finalize,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, _) = json_req(&client, "GET", "/api/v1/namespaces/going", &Value::Null).await;
    assert_eq!(code, 404);

    // approval changes only the conditions of a CertificateSigningRequest.
    let csrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
    let csr = json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "csr"},
        "spec": {"request": "aGVsbG8=", "signerName": "example.com/signer", "usages": ["client auth"]}});
    let (code, created) = json_req(&client, "POST", csrs, &csr).await;
    assert_eq!(code, 201, "{created}");
    let mut approve = created.clone();
    approve["spec"]["signerName"] = json!("example.com/other");
    approve["status"] = json!({"conditions": [{"type": "Approved", "status": "True",
        "reason": "Test", "message": "approved by the test"}]});
    let (code, approved) =
        json_req(&client, "PUT", &format!("{csrs}/csr/approval"), &approve).await;
    assert_eq!(code, 200, "{approved}");
    assert_eq!(approved["status"]["conditions"][0]["type"], "Approved");
    assert_eq!(approved["spec"]["signerName"], "example.com/signer");
    c.stop().await;
}
