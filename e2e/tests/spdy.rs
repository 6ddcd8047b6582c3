//! SPDY/3.1 upgrades through the apiserver (what kubectl 1.27 to 1.30 use for exec, attach
//! and port-forward): the backend's `101` relayed, bytes flowing both ways, the connection
//! closing when either side closes, the handler chain applying, and upstream kubectl 1.27
//! exec-ing against the STAND-IN kubelet (`e2e::standin_kubelet`, which speaks enough SPDY).
//! Everything stays on loopback and stops at the end.

use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::standin_kubelet::StandinKubelet;
use e2e::TestCluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

type Tls = tokio_openssl::SslStream<tokio::net::TcpStream>;

/// A Node whose kubelet is the stand-in at 127.0.0.1:`port`, and a pod bound to it.
async fn node_and_pod(c: &TestCluster, port: u16) {
    let client = e2e::kube_client(&c.kubeconfig).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let n: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}
    }))
    .unwrap();
    nodes.create(&PostParams::default(), &n).await.unwrap();
    let status = json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
    }});
    nodes
        .patch_status("n1", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client);
    let p: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bound"},
        "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "busybox"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
}

/// Opens a TLS connection (HTTP/1.1 by ALPN, as Go's SPDY client does), sends an upgrade
/// request to SPDY/3.1 and returns the response head and the connection.
async fn upgrade(addr: SocketAddr, path: &str, extra: &str) -> (String, Tls) {
    let mut connector = SslConnector::builder(SslMethod::tls_client()).unwrap();
    connector.set_verify(SslVerifyMode::NONE);
    connector.set_alpn_protos(b"\x08http/1.1").unwrap();
    let ssl = connector
        .build()
        .configure()
        .unwrap()
        .verify_hostname(false)
        .into_ssl("localhost")
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
    Pin::new(&mut tls).connect().await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         X-Stream-Protocol-Version: v4.channel.k8s.io\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    tls.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(20), tls.read(&mut byte))
            .await
            .expect("a response head in time")
            .unwrap();
        assert!(
            n == 1,
            "connection closed after {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    (String::from_utf8(head).unwrap(), tls)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

async fn read_exactly(tls: &mut Tls, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(20), tls.read_exact(&mut buf))
        .await
        .expect("the echo in time")
        .unwrap();
    buf
}

/// Whether the peer closes the connection within a few seconds (EOF or an error, not data).
async fn closes(tls: &mut Tls) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spdy_upgrades_are_relayed_both_ways_until_either_side_closes() {
    let c = TestCluster::start().await.unwrap();
    let kubelet = StandinKubelet::start("").await.unwrap();
    node_and_pod(&c, kubelet.port()).await;
    let addr = c.apiserver_addr();

    // The backend's 101 comes back with its upgrade, then bytes flow both ways, also more
    // than any one buffer holds.
    let (head, mut tls) = upgrade(
        addr,
        "/api/v1/nodes/n1/proxy/echo?x=1",
        "Authorization: Bearer secret\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(header(&head, "upgrade"), Some("SPDY/3.1"), "{head}");
    assert!(
        header(&head, "connection").is_some_and(|v| v.eq_ignore_ascii_case("upgrade")),
        "{head}"
    );
    let seen = kubelet.requests().last().unwrap().clone();
    assert_eq!(seen.target, "/echo?x=1");
    assert_eq!(seen.header("upgrade"), Some("SPDY/3.1"));
    assert_eq!(
        seen.header("x-stream-protocol-version"),
        Some("v4.channel.k8s.io")
    );
    assert_eq!(seen.header("authorization"), None);
    tls.write_all(b"ping\n").await.unwrap();
    assert_eq!(read_exactly(&mut tls, 5).await, b"ping\n");
    let big: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let (mut r, mut w) = tokio::io::split(tls);
    let sent = big.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w
    });
    let mut back = vec![0u8; big.len()];
    tokio::time::timeout(Duration::from_secs(20), r.read_exact(&mut back))
        .await
        .expect("the echo in time")
        .unwrap();
    assert!(back == big, "the echoed bytes differ");
    let w = writer.await.unwrap();
    // The client closes: the backend's side ends too.
    drop(r.unsplit(w));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while kubelet.echoes_ended() < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backend connection stayed open after the client closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The backend closes: the client's connection ends.
    let (head, mut tls) = upgrade(addr, "/api/v1/nodes/n1/proxy/echo", "").await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    tls.write_all(b"close\n").await.unwrap();
    assert_eq!(read_exactly(&mut tls, 6).await, b"close\n");
    assert!(closes(&mut tls).await, "the client connection stayed open");

    // pods/portforward and pods/exec reach the kubelet the same way (the stand-in answers
    // SPDY port-forwarding with its echo).
    let (head, mut tls) = upgrade(
        addr,
        "/api/v1/namespaces/default/pods/bound/portforward?ports=80",
        "",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(
        kubelet.requests().last().unwrap().target,
        "/portForward/default/bound?port=80"
    );
    tls.write_all(b"close\n").await.unwrap();
    assert_eq!(read_exactly(&mut tls, 6).await, b"close\n");
    let (head, _tls) = upgrade(
        addr,
        "/api/v1/namespaces/default/pods/bound/exec?command=true&stdout=true",
        "",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(
        header(&head, "x-stream-protocol-version"),
        Some("v4.channel.k8s.io")
    );

    // Ordinary requests on the same listener are unaffected, and a refusal by the apiserver
    // itself is an ordinary Status answer.
    let r = e2e::raw::request(
        addr,
        "GET",
        "/api/v1/namespaces/default/pods/bound",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let (head, mut tls) = upgrade(addr, "/api/v1/namespaces/default/pods/nope/exec", "").await;
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    let mut body = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut body)).await;
    assert!(
        String::from_utf8_lossy(&body).contains(r#""message":"pods \"nope\" not found""#),
        "{}",
        String::from_utf8_lossy(&body)
    );

    kubelet.stop();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spdy_upgrades_pass_the_handler_chain() {
    let c = TestCluster::start_with(&["--anonymous-auth=false"])
        .await
        .unwrap();
    let kubelet = StandinKubelet::start("").await.unwrap();
    let (head, mut tls) = upgrade(
        c.apiserver_addr(),
        "/api/v1/nodes/n1/proxy/echo",
        "Authorization: Bearer not-a-known-token\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 401 "), "{head}");
    let mut body = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut body)).await;
    assert!(
        String::from_utf8_lossy(&body).contains(r#""reason":"Unauthorized""#),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(kubelet.requests().is_empty());
    kubelet.stop();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_kubectl_execs_over_spdy() {
    let c = TestCluster::start().await.unwrap();
    let kubelet = StandinKubelet::start("").await.unwrap();
    node_and_pod(&c, kubelet.port()).await;
    // kubectl 1.27 and 1.28 speak only SPDY for exec; 1.33 does when websockets are off.
    for (minor, env) in [
        (27, None),
        (28, None),
        (33, Some(("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false"))),
    ] {
        let Some(bin) = e2e::upstream_kubectl(minor) else {
            continue;
        };
        let kubeconfig = c.kubeconfig.clone();
        let home = c.dir.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            let mut cmd = Command::new(bin);
            cmd.args(["exec", "bound", "--", "echo", "hello"])
                .env("KUBECONFIG", kubeconfig)
                .env("HOME", home)
                .stdin(Stdio::null());
            if let Some((k, v)) = env {
                cmd.env(k, v);
            }
            cmd.output().expect("running upstream kubectl")
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl 1.{minor}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello\n",
            "kubectl 1.{minor}"
        );
        let last = kubelet.requests().last().unwrap().clone();
        assert_eq!(
            last.header("upgrade"),
            Some("SPDY/3.1"),
            "kubectl 1.{minor}"
        );
        assert!(
            last.target
                .starts_with("/exec/default/bound/app?command=echo&command=hello"),
            "{}",
            last.target
        );
    }
    kubelet.stop();
    c.stop().await;
}
