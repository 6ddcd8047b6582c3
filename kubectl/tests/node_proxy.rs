//! Our `exec`, `attach`, `port-forward` and `logs` against the real apiserver (and etcd),
//! compared with upstream kubectl 1.33 on the same cluster: the same stderr, stdout and exit
//! code. Pods bound to a node reach a STAND-IN for the kubelet's HTTPS API
//! (`e2e::standin_kubelet`, used only until our kubelet exists).

mod common;

use std::path::PathBuf;

use common::*;
use e2e::standin_kubelet::StandinKubelet;
use e2e::TestCluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

const LOG: &str = "first line\nsecond line\n";

async fn run(bin: PathBuf, c: &TestCluster, args: &[&str]) -> Out {
    let kubeconfig = c.kubeconfig.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    // Blocking, off the runtime that serves the stand-in kubelet.
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_bin(&bin, &kubeconfig, &args, None)
    })
    .await
    .unwrap()
}

/// Runs ours, and upstream 1.33 when installed, requiring the same result; returns ours.
async fn same(c: &TestCluster, args: &[&str]) -> Out {
    let mine = run(ours(), c, args).await;
    if let Some(bin) = e2e::upstream_kubectl(33) {
        let theirs = run(bin, c, args).await;
        assert_eq!(
            mine, theirs,
            "kubectl {args:?}: ours (left) and upstream 1.33's"
        );
    }
    mine
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
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_attach_port_forward_and_logs_as_upstream() {
    let c = TestCluster::start().await.unwrap();
    let kubelet = StandinKubelet::start(LOG).await.unwrap();
    let kc = kube::config::Kubeconfig::read_from(&c.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();

    // A node whose kubelet is the stand-in.
    let nodes: Api<Node> = Api::all(client.clone());
    let n: Node = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
    )
    .unwrap();
    nodes.create(&PostParams::default(), &n).await.unwrap();
    let status = json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port()}},
    }});
    nodes
        .patch_status("n1", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pp = PostParams::default();
    for p in [
        pod("pending", &["app"], &[], None),
        pod("multi", &["a", "b"], &["i"], None),
        pod("bound", &["app"], &[], Some("n1")),
        pod("done", &["app"], &[], Some("n1")),
    ] {
        pods.create(&pp, &p).await.unwrap();
    }
    for (name, phase) in [("bound", "Running"), ("done", "Succeeded")] {
        pods.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"phase": phase}})),
        )
        .await
        .unwrap();
    }

    // Pods without a node: the apiserver's 400, as upstream prints it.
    let o = same(&c, &["exec", "pending", "--", "echo", "hi"]).await;
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error from server (BadRequest): pod pending does not have a host assigned\n"
    );
    let o = same(&c, &["exec", "multi", "--", "true"]).await;
    assert_eq!(
        o.stderr,
        "Defaulted container \"a\" out of: a, b, i (init)\nError from server (BadRequest): pod multi does not have a host assigned\n"
    );
    // logs picks the default container as exec does (a pod without a node has no logs yet).
    let o = same(&c, &["logs", "multi"]).await;
    assert_eq!(
        o.stderr,
        "Defaulted container \"a\" out of: a, b, i (init)\n"
    );
    for args in [&["logs", "missing"][..], &["logs", "multi", "-c", "b"][..]] {
        same(&c, args).await;
    }
    let o = same(&c, &["attach", "pending"]).await;
    assert_eq!(
        o.stderr,
        "If you don't see a command prompt, try pressing enter.\nError from server (BadRequest): pod pending does not have a host assigned\n"
    );
    // Checks kubectl makes before asking the server.
    for args in [
        &["exec", "pending"][..],
        &["exec"][..],
        &["exec", "missing", "--", "true"][..],
        &["exec", "done", "--", "true"][..],
        &["port-forward", "pending", "8080"][..],
        &["port-forward", "missing", "8080"][..],
        &["port-forward", "bound"][..],
    ] {
        let o = same(&c, args).await;
        assert_eq!(o.code, 1, "{args:?}");
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
    let o = run(ours(), &c, &["exec", "done", "--", "true"]).await;
    assert_eq!(
        o.stderr,
        "error: cannot exec into a container in a completed pod; current phase is Succeeded\n"
    );
    let o = run(ours(), &c, &["port-forward", "pending", "8080"]).await;
    assert_eq!(
        o.stderr,
        "error: unable to forward port because pod is not running. Current status=Pending\n"
    );

    // A bound pod: the stand-in's log and exec output.
    let o = same(&c, &["logs", "bound"]).await;
    assert_eq!((o.code, o.stdout.as_str()), (0, LOG));
    let o = same(&c, &["exec", "bound", "--", "echo", "hello"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (0, "hello\n", "")
    );
    let o = same(
        &c,
        &["exec", "pod/bound", "-c", "app", "--", "echo", "hello"],
    )
    .await;
    assert_eq!(o.stdout, "hello\n");
    let last = kubelet.requests().last().unwrap().clone();
    assert!(
        last.target
            .starts_with("/exec/default/bound/app?command=echo&command=hello"),
        "{}",
        last.target
    );
    let o = same(&c, &["exec", "bound", "-c", "zz", "--", "true"]).await;
    assert_eq!(o.code, 1);

    kubelet.stop();
    c.stop().await;
}
