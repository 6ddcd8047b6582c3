//! Node proxying against the real apiserver and etcd: `pods/log`, `pods/exec`, `pods/attach`,
//! `pods/portforward` and the proxy subresources, as a client library and upstream kubectl 1.33
//! see them. A pod without a node gets upstream's 400s; a pod bound to a Node whose
//! InternalIP is 127.0.0.1 reaches a STAND-IN for the kubelet's HTTPS API
//! (`e2e::standin_kubelet`, a test double used only until our kubelet exists), which records
//! the requests the apiserver relays. Everything stays on loopback and stops at the end.

use std::process::{Command, Stdio};

use e2e::standin_kubelet::StandinKubelet;
use e2e::TestCluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, AttachParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;
use tokio::io::AsyncReadExt as _;

const LOG: &str = "line one\nline two\n";

async fn client(c: &TestCluster) -> Client {
    e2e::kube_client(&c.kubeconfig).await
}

/// A GET through the client: the body, or the error Status.
async fn get(client: &Client, path: &str) -> Result<String, kube::core::Status> {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    client.request_text(req).await.map_err(|e| match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error for {path}, got {other:?}"),
    })
}

fn pod(name: &str, containers: &[&str], init: &[&str], node: Option<&str>) -> Pod {
    let c = |names: &[&str]| -> Vec<serde_json::Value> {
        names
            .iter()
            .map(|n| json!({"name": n, "image": "busybox:1.36"}))
            .collect()
    };
    let mut spec = json!({"containers": c(containers)});
    if !init.is_empty() {
        spec["initContainers"] = json!(c(init));
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

/// A Node whose kubelet is at 127.0.0.1:`port`.
async fn node(client: &Client, name: &str, port: u16) {
    let nodes: Api<Node> = Api::all(client.clone());
    let n: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": name}
    }))
    .unwrap();
    nodes.create(&PostParams::default(), &n).await.unwrap();
    let status = json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

struct Run {
    stdout: String,
    stderr: String,
    ok: bool,
}

/// Runs upstream kubectl 1.33 on the cluster (in a blocking thread: the test's runtime keeps
/// serving the stand-in meanwhile).
async fn upstream(c: &TestCluster, args: &[&str]) -> Option<Run> {
    upstream_env(c, args, &[]).await
}

async fn upstream_env(c: &TestCluster, args: &[&str], env: &[(&str, &str)]) -> Option<Run> {
    let bin = e2e::upstream_kubectl(33)?;
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let kubeconfig = c.kubeconfig.clone();
    let home = c.dir.path().to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(&args)
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", home)
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("running upstream kubectl")
    })
    .await
    .unwrap();
    Some(Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_without_a_node_get_upstreams_errors() {
    let c = TestCluster::start().await.unwrap();
    let client = client(&c).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pp = PostParams::default();
    pods.create(&pp, &pod("pending", &["app"], &[], None))
        .await
        .unwrap();
    pods.create(&pp, &pod("multi", &["a", "b"], &["i"], None))
        .await
        .unwrap();
    let base = "/api/v1/namespaces/default/pods";

    // A pod not scheduled yet has an empty log, as upstream answers.
    assert_eq!(
        get(&client, &format!("{base}/pending/log")).await.unwrap(),
        ""
    );
    for (path, code, message) in [
        (
            "multi/log",
            400,
            "a container name must be specified for pod multi, choose one of: [i a b]",
        ),
        (
            "pending/log?container=zz",
            400,
            "container zz is not valid for pod pending",
        ),
        (
            "pending/exec?command=echo&stdout=true",
            400,
            "pod pending does not have a host assigned",
        ),
        (
            "multi/attach?container=a&stdout=1",
            400,
            "pod multi does not have a host assigned",
        ),
        (
            "multi/exec?command=true",
            400,
            "a container name must be specified for pod multi, choose one of: [i a b]",
        ),
        (
            "pending/portforward?ports=8080",
            400,
            "pod pending does not have a host assigned",
        ),
        ("pending/proxy/", 400, "address not allowed"),
        ("missing/log", 404, "pods \"missing\" not found"),
        ("missing/exec", 404, "pods \"missing\" not found"),
        (
            "pending/log?tailLines=-1",
            422,
            "PodLogOptions \"pending\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            "pending/portforward?ports=x",
            400,
            "invalid port \"x\": must be a number between 1 and 65535",
        ),
    ] {
        let s = get(&client, &format!("{base}/{path}")).await.unwrap_err();
        assert_eq!((s.code, s.message.as_str()), (code, message), "{path}");
    }
    let s = get(&client, "/api/v1/nodes/nope/proxy/healthz")
        .await
        .unwrap_err();
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "nodes \"nope\" not found")
    );
    let s = get(&client, "/api/v1/namespaces/default/services/nope/proxy/")
        .await
        .unwrap_err();
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "services \"nope\" not found")
    );

    // Discovery lists the subresources as upstream does.
    let list: serde_json::Value =
        serde_json::from_str(&get(&client, "/api/v1").await.unwrap()).unwrap();
    let entry = |name: &str| {
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"))
            .clone()
    };
    assert_eq!(entry("pods/exec")["kind"], "PodExecOptions");
    assert_eq!(entry("pods/exec")["verbs"], json!(["create", "get"]));
    assert_eq!(entry("pods/log")["kind"], "Pod");
    assert_eq!(entry("pods/portforward")["kind"], "PodPortForwardOptions");
    assert_eq!(entry("pods/attach")["kind"], "PodAttachOptions");
    assert_eq!(entry("pods/proxy")["kind"], "PodProxyOptions");
    assert_eq!(entry("nodes/proxy")["kind"], "NodeProxyOptions");
    assert_eq!(entry("services/proxy")["kind"], "ServiceProxyOptions");

    // Upstream kubectl 1.33 on the same pods.
    if let Some(r) = upstream(&c, &["exec", "pending", "--", "echo", "hi"]).await {
        assert!(!r.ok);
        assert_eq!(
            r.stderr,
            "Error from server (BadRequest): pod pending does not have a host assigned\n"
        );
    }
    if let Some(r) = upstream(&c, &["logs", "pending"]).await {
        assert!(r.ok, "{}", r.stderr);
        assert_eq!(r.stdout, "");
    }
    if let Some(r) = upstream(&c, &["logs", "pending", "-c", "zz"]).await {
        assert!(!r.ok);
        assert_eq!(
            r.stderr,
            "error: container zz is not valid for pod pending\n"
        );
    }
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_pods_reach_the_standin_kubelet() {
    let c = TestCluster::start().await.unwrap();
    let kubelet = StandinKubelet::start(LOG).await.unwrap();
    let client = client(&c).await;
    node(&client, "n1", kubelet.port()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    pods.create(
        &PostParams::default(),
        &pod("bound", &["app"], &[], Some("n1")),
    )
    .await
    .unwrap();
    let base = "/api/v1/namespaces/default/pods";

    // The log, with the options passed on in upstream's order; the user's token is not.
    let body = get(
        &client,
        &format!("{base}/bound/log?timestamps=true&tailLines=5"),
    )
    .await
    .unwrap();
    assert_eq!(body, LOG);
    let seen = kubelet.requests();
    let last = seen.last().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(
        last.target,
        "/containerLogs/default/bound/app?tailLines=5&timestamps=true"
    );
    assert_eq!(last.header("authorization"), None);
    assert_eq!(
        last.header("host"),
        Some(format!("127.0.0.1:{}", kubelet.port()).as_str())
    );

    // Exec through kube-rs's websocket client: the stand-in's `hello` and a Success status.
    let mut p = pods
        .exec(
            "bound",
            ["echo", "hello"],
            &AttachParams::default().stderr(false),
        )
        .await
        .unwrap();
    let mut out = String::new();
    p.stdout().unwrap().read_to_string(&mut out).await.unwrap();
    assert_eq!(out, "hello\n");
    let status = p.take_status().unwrap().await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
    p.join().await.unwrap();
    let last = kubelet.requests().last().unwrap().clone();
    assert_eq!(
        last.target,
        "/exec/default/bound/app?command=echo&command=hello&stdout=1"
    );
    assert_eq!(last.header("upgrade"), Some("websocket"));
    assert_eq!(last.header("authorization"), None);

    // Without an upgrade, exec is refused once the pod checks pass.
    let s = get(&client, &format!("{base}/bound/exec?command=true"))
        .await
        .unwrap_err();
    assert_eq!(
        (s.code, s.message.as_str()),
        (400, "Upgrade request required")
    );

    // nodes/proxy goes to the kubelet, path and query as given.
    let body = get(&client, "/api/v1/nodes/n1/proxy/healthz?verbose=1")
        .await
        .unwrap();
    assert_eq!(body, "ok");
    let last = kubelet.requests().last().unwrap().clone();
    assert_eq!(last.target, "/healthz?verbose=1");
    assert_eq!(last.header("authorization"), None);
    // Another port of a loopback node address is not proxied.
    let s = get(&client, "/api/v1/nodes/n1:8080/proxy/")
        .await
        .unwrap_err();
    assert_eq!((s.code, s.message.as_str()), (400, "address not allowed"));

    // Upstream kubectl 1.33 reads the log and execs through the same path.
    if let Some(r) = upstream(&c, &["logs", "bound"]).await {
        assert!(r.ok, "{}", r.stderr);
        assert_eq!(r.stdout, LOG);
    }
    if let Some(r) = upstream(&c, &["exec", "bound", "--", "echo", "hello"]).await {
        assert!(r.ok, "{}", r.stderr);
        assert_eq!(r.stdout, "hello\n");
        let last = kubelet.requests().last().unwrap().clone();
        assert!(
            last.target
                .starts_with("/exec/default/bound/app?command=echo&command=hello"),
            "{}",
            last.target
        );
    }

    // SPDY/3.1 (kubectl with websockets turned off) is relayed too (more in tests/spdy.rs).
    if let Some(r) = upstream_env(
        &c,
        &["exec", "bound", "--", "echo", "hello"],
        &[("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false")],
    )
    .await
    {
        assert!(r.ok, "{}", r.stderr);
        assert_eq!(r.stdout, "hello\n");
        let last = kubelet.requests().last().unwrap().clone();
        assert_eq!(last.header("upgrade"), Some("SPDY/3.1"));
    }

    // A kubelet that does not answer: upstream's 500 naming the request.
    node(&client, "n2", e2e::free_port().unwrap()).await;
    pods.create(
        &PostParams::default(),
        &pod("lost", &["app"], &[], Some("n2")),
    )
    .await
    .unwrap();
    let s = get(&client, &format!("{base}/lost/log")).await.unwrap_err();
    assert_eq!(s.code, 500);
    assert!(
        s.message.starts_with("Get \"https://127.0.0.1:")
            && s.message
                .contains("/containerLogs/default/lost/app\": dial tcp"),
        "{}",
        s.message
    );
    // exec to it: kubectl tries websockets, then SPDY, and prints the last error, which must
    // be the unreachable kubelet.
    if let Some(r) = upstream_env(&c, &["exec", "lost", "--", "true"], &[]).await {
        assert!(!r.ok);
        assert!(
            r.stderr
                .starts_with("Error from server: error dialing backend: dial tcp 127.0.0.1:"),
            "{}",
            r.stderr
        );
    }

    kubelet.stop();
    c.stop().await;
}
