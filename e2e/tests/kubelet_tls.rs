//! The apiserver's TLS client to kubelets: `--kubelet-client-certificate`/`--kubelet-client-key`
//! presented, the kubelet's serving certificate verified against
//! `--kubelet-certificate-authority` (chain and the address dialled), and not verified without
//! it, as upstream. Certificates are made by the openssl command in each test's temporary
//! directory; the kubelet is the STAND-IN (`e2e::standin_kubelet`) on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::standin_kubelet::{StandinKubelet, StandinTls};
use e2e::TestCluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

const LOG: &str = "from the kubelet\n";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA `name`.crt/.key.
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

/// A certificate `name`.crt/.key signed by CA `ca`, with the extensions given.
fn leaf(dir: &Path, ca: &str, name: &str, subject: &str, extensions: &str) -> (PathBuf, PathBuf) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            subject,
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
    (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    )
}

/// Node `node` with its kubelet at 127.0.0.1:`port`, and pod `pod` bound to it.
async fn node_and_pod(client: &Client, node: &str, port: u16, pod: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let n: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": node}
    }))
    .unwrap();
    nodes.create(&PostParams::default(), &n).await.unwrap();
    let status = json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
    }});
    nodes
        .patch_status(node, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let p: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "busybox"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
}

async fn get(client: &Client, path: &str) -> Result<String, kube::core::Status> {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    client.request_text(req).await.map_err(|e| match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error for {path}, got {other:?}"),
    })
}

const SERVER_EXT: &str = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
const CLIENT_EXT: &str = "extendedKeyUsage=clientAuth\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_certificates_are_presented_and_verified() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    ca(d, "kubelet-ca");
    ca(d, "client-ca");
    let (serving, serving_key) = leaf(d, "kubelet-ca", "kubelet", "/CN=n1", SERVER_EXT);
    // Signed by another authority.
    ca(d, "other-ca");
    let (strange, strange_key) = leaf(d, "other-ca", "stranger", "/CN=n2", SERVER_EXT);
    // Signed by the right authority, but for another address.
    let (elsewhere, elsewhere_key) = leaf(
        d,
        "kubelet-ca",
        "elsewhere",
        "/CN=n3",
        "subjectAltName=IP:127.0.0.2\nextendedKeyUsage=serverAuth\n",
    );
    let (client_cert, client_key) = leaf(
        d,
        "client-ca",
        "apiserver-kubelet-client",
        "/O=system:masters/CN=kube-apiserver-kubelet-client",
        CLIENT_EXT,
    );
    let flags = [
        format!("--kubelet-client-certificate={}", client_cert.display()),
        format!("--kubelet-client-key={}", client_key.display()),
        format!(
            "--kubelet-certificate-authority={}",
            d.join("kubelet-ca.crt").display()
        ),
    ];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let c = TestCluster::start_with(&flags).await.unwrap();
    let client = e2e::kube_client(&c.kubeconfig).await;
    let base = "/api/v1/namespaces/default/pods";

    // A kubelet serving a certificate of the authority and asking for client certificates of
    // the client authority: reached, and it sees the apiserver's name.
    let good = StandinKubelet::start_with(
        LOG,
        Some(StandinTls {
            cert: serving,
            key: serving_key,
            client_ca: Some(d.join("client-ca.crt")),
        }),
    )
    .await
    .unwrap();
    node_and_pod(&client, "n1", good.port(), "p1").await;
    assert_eq!(get(&client, &format!("{base}/p1/log")).await.unwrap(), LOG);
    let seen = good.requests().last().unwrap().clone();
    assert_eq!(
        seen.client_cn.as_deref(),
        Some("kube-apiserver-kubelet-client")
    );
    assert_eq!(
        get(&client, "/api/v1/nodes/n1/proxy/healthz")
            .await
            .unwrap(),
        "ok"
    );

    // A kubelet whose certificate the authority did not sign: refused, unless the log request
    // says insecureSkipTLSVerifyBackend (the client certificate is still presented).
    let stranger = StandinKubelet::start_with(
        LOG,
        Some(StandinTls {
            cert: strange,
            key: strange_key,
            client_ca: Some(d.join("client-ca.crt")),
        }),
    )
    .await
    .unwrap();
    node_and_pod(&client, "n2", stranger.port(), "p2").await;
    let s = get(&client, &format!("{base}/p2/log")).await.unwrap_err();
    assert_eq!(s.code, 500);
    assert!(
        s.message.contains("certificate verify failed"),
        "{}",
        s.message
    );
    // (Raw: kube-rs would retry the proxy's 503 for minutes.)
    let r = e2e::raw::request(
        c.apiserver_addr(),
        "GET",
        "/api/v1/nodes/n2/proxy/healthz",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("certificate verify failed"), "{}", r.body);
    assert!(stranger.requests().is_empty());
    assert_eq!(
        get(
            &client,
            &format!("{base}/p2/log?insecureSkipTLSVerifyBackend=true")
        )
        .await
        .unwrap(),
        LOG
    );
    assert_eq!(
        stranger.requests().last().unwrap().client_cn.as_deref(),
        Some("kube-apiserver-kubelet-client")
    );

    // The authority's certificate for another address does not do either.
    let impostor = StandinKubelet::start_with(
        LOG,
        Some(StandinTls {
            cert: elsewhere,
            key: elsewhere_key,
            client_ca: None,
        }),
    )
    .await
    .unwrap();
    node_and_pod(&client, "n3", impostor.port(), "p3").await;
    let s = get(&client, &format!("{base}/p3/log")).await.unwrap_err();
    assert_eq!(s.code, 500);
    assert!(
        s.message.contains("certificate verify failed"),
        "{}",
        s.message
    );
    assert!(impostor.requests().is_empty());

    good.stop();
    stranger.stop();
    impostor.stop();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flags_nothing_is_presented_or_verified() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    ca(d, "kubelet-ca");
    ca(d, "client-ca");
    let (serving, serving_key) = leaf(d, "kubelet-ca", "kubelet", "/CN=n1", SERVER_EXT);
    let c = TestCluster::start().await.unwrap();
    let client = e2e::kube_client(&c.kubeconfig).await;
    // Any serving certificate is accepted (upstream's default)...
    let open = StandinKubelet::start(LOG).await.unwrap();
    node_and_pod(&client, "n1", open.port(), "p1").await;
    let log = get(&client, "/api/v1/namespaces/default/pods/p1/log").await;
    assert_eq!(log.unwrap(), LOG);
    assert_eq!(open.requests().last().unwrap().client_cn, None);
    // ...and a kubelet that requires a client certificate refuses the apiserver.
    let strict = StandinKubelet::start_with(
        LOG,
        Some(StandinTls {
            cert: serving,
            key: serving_key,
            client_ca: Some(d.join("client-ca.crt")),
        }),
    )
    .await
    .unwrap();
    node_and_pod(&client, "n2", strict.port(), "p2").await;
    let s = get(&client, "/api/v1/namespaces/default/pods/p2/log")
        .await
        .unwrap_err();
    assert_eq!(s.code, 500, "{}", s.message);
    assert!(strict.requests().is_empty());
    open.stop();
    strict.stop();
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_kubelet_certificate_flags_stop_the_start() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    let garbage = d.join("garbage.crt");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = d.join("missing.crt");
    let cases = [
        (
            vec![format!(
                "--kubelet-certificate-authority={}",
                missing.display()
            )],
            format!(
                "--kubelet-certificate-authority: open {}: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            vec![format!(
                "--kubelet-client-certificate={}",
                garbage.display()
            )],
            "--kubelet-client-certificate and --kubelet-client-key must be given together"
                .to_string(),
        ),
        (
            vec![format!(
                "--kubelet-certificate-authority={}",
                garbage.display()
            )],
            format!(
                "--kubelet-certificate-authority: {} holds no PEM certificate",
                garbage.display()
            ),
        ),
        (
            vec![
                format!("--kubelet-client-certificate={}", garbage.display()),
                format!("--kubelet-client-key={}", garbage.display()),
            ],
            format!(
                "--kubelet-client-certificate: loading {}: ",
                garbage.display()
            ),
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec![
            "kube-apiserver".to_string(),
            "--etcd-servers=http://127.0.0.1:1".to_string(),
            "--secure-port=0".to_string(),
            format!("--cert-dir={}", d.join("pki").display()),
        ];
        args.extend(flags);
        let options = apiserver::Options::try_parse_from(&args).unwrap();
        let err = match apiserver::start(options).await {
            Ok(_) => panic!("{args:?} started"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.starts_with(&want), "{args:?}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
