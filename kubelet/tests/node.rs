//! The Node and its Lease against the real apiserver (TestCluster): registration with
//! capacity, allocatable, addresses, labels, taints and pod CIDR, status conditions, a
//! re-registration that keeps the object, and the lease in kube-node-lease.

use clap::Parser;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::Api;

#[tokio::test]
async fn node_registers_reports_status_and_renews_its_lease() {
    let cluster = e2e::TestCluster::start().await.expect("cluster starts");
    let client = e2e::kube_client(&cluster.kubeconfig).await;
    let root = tempfile::tempdir().unwrap();
    let config = kubelet::Options::try_parse_from([
        "kubelet",
        "--hostname-override=node-a",
        "--node-ip=192.0.2.10",
        "--node-labels=zone=z1",
        "--register-with-taints=dedicated=infra:NoSchedule",
        "--pod-cidr=10.244.3.0/24",
        "--max-pods=42",
        "--kube-reserved=cpu=100m",
        "--port=10350",
        &format!("--root-dir={}", root.path().display()),
        &format!("--kubeconfig={}", cluster.kubeconfig.display()),
    ])
    .unwrap()
    .resolve()
    .unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    kubelet::node::register(&nodes, &config).await.unwrap();
    let machine = kubelet::node::Machine::read(root.path());
    let conds = kubelet::node::conditions(
        &kubelet::node::Health::of_machine(&machine, None),
        &[],
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
    );
    let status = kubelet::node::node_status(&config, &machine, "containerd://1.6.20", conds);
    kubelet::node::update_status(&nodes, &config, status)
        .await
        .unwrap();

    let node = nodes.get("node-a").await.unwrap();
    let labels = node.metadata.labels.clone().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], "node-a");
    assert_eq!(labels["kubernetes.io/os"], "linux");
    assert_eq!(labels["zone"], "z1");
    let spec = node.spec.clone().unwrap();
    assert_eq!(spec.pod_cidr.as_deref(), Some("10.244.3.0/24"));
    assert_eq!(spec.taints.unwrap()[0].key, "dedicated");
    let status = node.status.clone().unwrap();
    let cap = status.capacity.unwrap();
    let alloc = status.allocatable.unwrap();
    assert_eq!(cap["pods"].0, "42");
    assert_eq!(cap["cpu"].0, machine.cpus.to_string());
    assert_eq!(
        alloc["cpu"].0,
        format!("{}m", machine.cpus * 1000 - 100),
        "allocatable cpu is capacity minus --kube-reserved"
    );
    assert!(cap.contains_key("memory") && cap.contains_key("ephemeral-storage"));
    let addrs = status.addresses.unwrap();
    assert_eq!(addrs[0].type_, "InternalIP");
    assert_eq!(addrs[0].address, "192.0.2.10");
    assert_eq!(addrs[1].type_, "Hostname");
    let info = status.node_info.unwrap();
    assert_eq!(info.container_runtime_version, "containerd://1.6.20");
    assert_eq!(info.kubelet_version, kubelet::node::KUBELET_VERSION);
    assert_eq!(
        status
            .daemon_endpoints
            .unwrap()
            .kubelet_endpoint
            .unwrap()
            .port,
        10350
    );
    let ready = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));

    // A second registration (a kubelet restart) keeps the node and its UID.
    kubelet::node::register(&nodes, &config).await.unwrap();
    let again = nodes.get("node-a").await.unwrap();
    assert_eq!(again.metadata.uid, node.metadata.uid);

    let leases: Api<Lease> = Api::namespaced(client.clone(), kubelet::lease::NAMESPACE);
    kubelet::lease::renew(&leases, &nodes, "node-a", 40)
        .await
        .unwrap();
    let first = leases.get("node-a").await.unwrap();
    let spec = first.spec.clone().unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("node-a"));
    assert_eq!(spec.lease_duration_seconds, Some(40));
    let owner = &first.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(owner.kind, "Node");
    assert_eq!(Some(&owner.uid), node.metadata.uid.as_ref());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    kubelet::lease::renew(&leases, &nodes, "node-a", 40)
        .await
        .unwrap();
    let second = leases.get("node-a").await.unwrap();
    assert!(
        second.spec.unwrap().renew_time.unwrap().0 > spec.renew_time.unwrap().0,
        "renewing moves renewTime forward"
    );
    cluster.stop().await;
}
