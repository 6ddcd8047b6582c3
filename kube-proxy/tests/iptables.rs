//! kube-proxy in iptables mode on a node of the test network (its own network namespace, no
//! route out), against a real apiserver: a ClusterIP and a NodePort reach an HTTP server in a
//! second namespace standing in for a pod (a veth pair between the two and nothing else),
//! a deleted Service's rules go away, and `--cleanup` leaves no chain of ours.

use std::time::Duration;

use anyhow::{Context, Result};
use e2e::node::{ClusterConfig, NodeCluster};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

/// The stand-in pod: a namespace with one veth to the node and busybox httpd on 8080.
struct FakePod {
    netns: String,
    httpd: Option<tokio::process::Child>,
    _dir: tempfile::TempDir,
}

impl FakePod {
    async fn start(node_netns: &str, id: &str) -> Result<Self> {
        let netns = format!("kp-{id}");
        let (a, b) = (format!("kpn{id}"), format!("kpp{id}"));
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("index.html"), "hello from the pod\n")?;
        let mut pod = FakePod {
            netns: netns.clone(),
            httpd: None,
            _dir: dir,
        };
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), netns.clone()],
            vec![
                "link".into(),
                "add".into(),
                a.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                b.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                a.clone(),
                "netns".into(),
                node_netns.into(),
            ],
            vec![
                "link".into(),
                "set".into(),
                b.clone(),
                "netns".into(),
                netns.clone(),
            ],
            vec![
                "-n".into(),
                node_netns.into(),
                "addr".into(),
                "add".into(),
                "192.168.77.1/30".into(),
                "dev".into(),
                a.clone(),
            ],
            vec![
                "-n".into(),
                node_netns.into(),
                "link".into(),
                "set".into(),
                a.clone(),
                "up".into(),
            ],
            vec![
                "-n".into(),
                netns.clone(),
                "addr".into(),
                "add".into(),
                "192.168.77.2/30".into(),
                "dev".into(),
                b.clone(),
            ],
            vec![
                "-n".into(),
                netns.clone(),
                "link".into(),
                "set".into(),
                b.clone(),
                "up".into(),
            ],
            vec![
                "-n".into(),
                netns.clone(),
                "link".into(),
                "set".into(),
                "lo".into(),
                "up".into(),
            ],
        ];
        for s in steps {
            let out = tokio::process::Command::new("ip").args(&s).output().await?;
            anyhow::ensure!(
                out.status.success(),
                "ip {s:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let httpd = tokio::process::Command::new("ip")
            .args([
                "netns", "exec", &netns, "busybox", "httpd", "-f", "-p", "8080", "-h",
            ])
            .arg(pod._dir.path())
            .kill_on_drop(true)
            .spawn()
            .context("starting busybox httpd")?;
        pod.httpd = Some(httpd);
        Ok(pod)
    }
}

impl Drop for FakePod {
    fn drop(&mut self) {
        if let Some(mut h) = self.httpd.take() {
            let _ = h.start_kill();
        }
        // Deleting the namespace deletes its end of the veth, and so the pair.
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}

async fn wget(cluster: &NodeCluster, url: &str) -> Result<String> {
    // curl, not busybox wget: Debian's static busybox wget crashes (static glibc's NSS).
    cluster.nodes[0]
        .exec(&["curl", "-sS", "--max-time", "2", url])
        .await
}

async fn until_answers(cluster: &NodeCluster, url: &str) -> Result<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        match wget(cluster, url).await {
            Ok(body) => return Ok(body),
            Err(e) if tokio::time::Instant::now() > deadline => {
                return Err(e.context(format!("{url} never answered")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

async fn iptables_save(cluster: &NodeCluster) -> Result<String> {
    cluster.nodes[0].exec(&["iptables-save"]).await
}

#[tokio::test]
async fn cluster_ip_and_node_port_reach_the_endpoint_and_cleanup_removes_everything() -> Result<()>
{
    let cluster = NodeCluster::start(ClusterConfig {
        workers: 0,
        ..Default::default()
    })
    .await?;
    let result = scenario(&cluster).await;
    cluster.stop().await?;
    result
}

async fn scenario(cluster: &NodeCluster) -> Result<()> {
    let node = &cluster.nodes[0];
    let pod = FakePod::start(&node.netns, &cluster.id).await?;
    // Service IPs are routed towards the pod's link, as a node's default route would carry them.
    node.exec(&[
        "ip",
        "route",
        "add",
        &cluster.service_cidr,
        "dev",
        &format!("kpn{}", cluster.id),
    ])
    .await?;

    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let svc: Service = serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {
        "type": "NodePort", "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}))?;
    let svc = Api::<Service>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &svc)
        .await?;
    let spec = svc.spec.clone().unwrap();
    let cluster_ip = spec.cluster_ip.clone().unwrap();
    let node_port = spec.ports.unwrap()[0].node_port.unwrap();
    let slice: EndpointSlice = serde_json::from_value(json!({
        "metadata": {"name": "web-abc", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [pod_ip()], "conditions": {"ready": true}}]}))?;
    Api::<EndpointSlice>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &slice)
        .await?;

    let mut proxy = node
        .command(env!("CARGO_BIN_EXE_kube-proxy"))
        .arg(format!("--kubeconfig={}", cluster.kubeconfig.display()))
        .arg("--hostname-override=control-plane")
        .arg(format!("--cluster-cidr={}", cluster.cluster_cidr))
        .arg("--healthz-bind-address=127.0.0.1:10256")
        .arg("--iptables-min-sync-period=100ms")
        .stderr(std::fs::File::create(cluster.dir.join("kube-proxy.log"))?)
        .spawn()?;

    let answered = until_answers(cluster, &format!("http://{cluster_ip}:80/")).await;
    let body = match answered {
        Ok(b) => b,
        Err(e) => {
            let log =
                std::fs::read_to_string(cluster.dir.join("kube-proxy.log")).unwrap_or_default();
            let rules = iptables_save(cluster).await.unwrap_or_default();
            let routes = node.exec(&["ip", "route"]).await.unwrap_or_default();
            return Err(e.context(format!(
                "kube-proxy log:\n{log}\nrules:\n{rules}\nroutes:\n{routes}"
            )));
        }
    };
    assert_eq!(body, "hello from the pod\n");
    let body = until_answers(cluster, &format!("http://{}:{node_port}/", node.ip)).await?;
    assert_eq!(body, "hello from the pod\n");
    let rules = iptables_save(cluster).await?;
    assert!(rules.contains("-j KUBE-SERVICES"), "{rules}");
    assert!(rules.contains("default/web:http cluster IP"), "{rules}");
    let health = node
        .exec(&[
            "busybox",
            "wget",
            "-q",
            "-O",
            "-",
            "http://127.0.0.1:10256/healthz",
        ])
        .await?;
    assert!(health.contains("lastUpdated"), "{health}");

    // The Service goes: its rules go too.
    Api::<Service>::namespaced(client.clone(), "default")
        .delete("web", &DeleteParams::default())
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rules = iptables_save(cluster).await?;
        if !rules.contains("default/web") {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "rules for default/web left:\n{rules}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    proxy.start_kill()?;
    let _ = proxy.wait().await;
    let out = node
        .command(env!("CARGO_BIN_EXE_kube-proxy"))
        .arg("--cleanup")
        .output()
        .await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = iptables_save(cluster).await?;
    assert!(!rules.contains("KUBE-"), "left after --cleanup:\n{rules}");
    drop(pod);
    Ok(())
}

fn pod_ip() -> &'static str {
    "192.168.77.2"
}
