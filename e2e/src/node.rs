//! Node harness: a whole cluster on one machine for end-to-end tests. A bridge in the root
//! network namespace holds the host address, where etcd's apiserver and a local image registry
//! listen; each node is a network namespace joined to the bridge by a veth pair, with its own
//! node IP, pod CIDR, routes to the other nodes' pod CIDRs, no route out, and its own
//! containerd (own root, state, socket, CNI configuration) started inside it. The kubelet binary
//! is started inside a node's namespace with upstream's flags. Everything is removed when the
//! cluster is dropped or stopped, also when a test fails.
//!
//! Processes run in the node's network namespace but in the root mount namespace
//! (`nsenter --net`, not `ip netns exec`, which would give each its own mount namespace): the
//! kubelet mounts volumes that containerd must see, as on a real node.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{TestApiserver, TestEtcd};

/// The pod sandbox image every node's containerd runs (`sandbox_image`), built by
/// `hack/images/build.sh` from `hack/images/pause.c` and served by the cluster's registry,
/// which stands in for registry.k8s.io.
pub const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.9";
/// Busybox (Debian's busybox-static with its applet links) from the cluster's registry, which
/// stands in for Docker Hub: `busybox`, `busybox:1.35` and this name all resolve to it.
pub const BUSYBOX_IMAGE: &str = "docker.io/library/busybox:1.35";
/// The registries the cluster's registry stands in for, in every node's containerd.
const MIRRORED: &[&str] = &["registry.k8s.io", "docker.io"];
/// The host address's last octet on the test network; nodes get `NODE_IP_BASE + index`.
const HOST_OCTET: u8 = 1;
const NODE_IP_BASE: u8 = 10;
/// Reservations of the `10.X.0.0/16` ranges in use by test networks on this machine.
const RESERVATIONS: &str = "/run/kubernetes-rs/nets";

/// What a cluster is made of.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// Worker nodes beside the control-plane node.
    pub workers: usize,
    /// Extra apiserver flags (`--flag=value`).
    pub apiserver_flags: Vec<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            workers: 1,
            apiserver_flags: Vec::new(),
        }
    }
}

/// A node: a network namespace with its own containerd and, once started, a kubelet.
pub struct Node {
    /// The Node object's name (`control-plane`, `worker`, `worker2`, ...).
    pub name: String,
    /// The network namespace (`ip netns` name, `/run/netns/<netns>`).
    pub netns: String,
    pub ip: Ipv4Addr,
    /// This node's pod range, `10.X.<index>.0/24`.
    pub pod_cidr: String,
    /// The node's own folder: containerd's root and state, CNI configuration, kubelet files.
    pub dir: PathBuf,
    /// The node's static-pod folder (`staticPodPath`).
    pub manifests: PathBuf,
    /// The kubelet's `cgroupRoot`, unique per node, removed at teardown.
    pub cgroup_root: String,
    pub containerd_socket: PathBuf,
    host_veth: String,
    containerd: Option<Child>,
    kubelet: Option<Child>,
}

impl Node {
    /// `--container-runtime-endpoint` for this node's containerd.
    pub fn runtime_endpoint(&self) -> String {
        format!("unix://{}", self.containerd_socket.display())
    }

    /// A command that runs `program` inside this node's network namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("nsenter");
        c.arg(format!("--net=/run/netns/{}", self.netns))
            .arg("--")
            .arg(program)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// Runs `args` inside the node's network namespace and returns what it printed;
    /// fails with its output when it exits non-zero.
    pub async fn exec(&self, args: &[&str]) -> Result<String> {
        let (program, rest) = args.split_first().context("no command to run")?;
        let out = self
            .command(program)
            .args(rest)
            .output()
            .await
            .with_context(|| format!("running {args:?} in {}", self.netns))?;
        if !out.status.success() {
            bail!(
                "{args:?} in node {} exited with {}: {}{}",
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The kubelet's log file (stdout and stderr).
    pub fn kubelet_log(&self) -> PathBuf {
        self.dir.join("kubelet.log")
    }

    /// containerd's log file.
    pub fn containerd_log(&self) -> PathBuf {
        self.dir.join("containerd.log")
    }

    /// The kubelet's `--root-dir`.
    pub fn kubelet_root(&self) -> PathBuf {
        self.dir.join("kubelet")
    }

    /// The kubelet's `podLogsDir`, one per node since all share the machine's file system.
    pub fn pod_logs_dir(&self) -> PathBuf {
        self.dir.join("pod-logs")
    }

    /// The flags `start_kubelet` passes (before `extra`), as upstream names them.
    pub fn kubelet_args(&self, kubeconfig: &Path) -> Vec<String> {
        let mut args = vec![
            format!("--kubeconfig={}", kubeconfig.display()),
            format!(
                "--config={}",
                self.dir.join("kubelet-config.yaml").display()
            ),
            format!("--container-runtime-endpoint={}", self.runtime_endpoint()),
            format!("--root-dir={}", self.kubelet_root().display()),
            format!("--hostname-override={}", self.name),
            format!("--node-ip={}", self.ip),
            format!("--pod-cidr={}", self.pod_cidr),
            "--cgroup-driver=cgroupfs".to_string(),
            "--v=2".to_string(),
        ];
        if self.name == "control-plane" {
            args.push("--node-labels=node-role.kubernetes.io/control-plane=".to_string());
        }
        args
    }

    /// Starts `kubelet` (the binary) inside the node's namespace with `kubelet_args` and
    /// `extra`, logging to `kubelet_log`. Replaces a kubelet this harness started before
    /// only after it was stopped.
    pub fn start_kubelet(
        &mut self,
        kubelet: &Path,
        kubeconfig: &Path,
        extra: &[&str],
    ) -> Result<u32> {
        if self.kubelet_running() {
            bail!("node {}: a kubelet is already running", self.name);
        }
        // Anonymous callers are let in: the harness's apiserver presents no client certificate
        // to kubelets yet (`--kubelet-client-certificate` and a `clientCAFile` come with the
        // bootstrap work).
        let config = format!(
            "apiVersion: kubelet.config.k8s.io/v1beta1\n\
             kind: KubeletConfiguration\n\
             cgroupDriver: cgroupfs\n\
             cgroupRoot: {cgroup_root}\n\
             staticPodPath: {manifests}\n\
             podLogsDir: {logs}\n\
             clusterDomain: cluster.local\n\
             authentication:\n  anonymous:\n    enabled: true\n",
            cgroup_root = self.cgroup_root,
            manifests = self.manifests.display(),
            logs = self.pod_logs_dir().display(),
        );
        std::fs::write(self.dir.join("kubelet-config.yaml"), config)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.kubelet_log())?;
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg("--")
            .arg(kubelet)
            .args(self.kubelet_args(kubeconfig))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {} in {}", kubelet.display(), self.netns))?;
        let pid = child.id();
        self.kubelet = Some(child);
        Ok(pid)
    }

    /// Whether the kubelet this harness started still runs.
    pub fn kubelet_running(&mut self) -> bool {
        matches!(self.kubelet.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Stops the kubelet: SIGTERM, then SIGKILL after `grace`.
    pub fn stop_kubelet(&mut self, grace: Duration) {
        if let Some(child) = self.kubelet.take() {
            stop_child(child, grace);
        }
    }

    /// The kubelet's process id, while it runs.
    pub fn kubelet_pid(&self) -> Option<u32> {
        self.kubelet.as_ref().map(Child::id)
    }

    /// containerd's process id.
    pub fn containerd_pid(&self) -> Option<u32> {
        self.containerd.as_ref().map(Child::id)
    }
}

/// A cluster on one machine: the test network, a registry serving the images, etcd, an
/// apiserver on the host address, and the nodes with their containerd (kubelets are started
/// by the test, `Node::start_kubelet` or `NodeCluster::start_kubelets`).
pub struct NodeCluster {
    /// A short random id in every name this cluster makes (namespaces, links, cgroups).
    pub id: String,
    /// The test network is `10.<octet>.0.0/16`: nodes on `10.<octet>.255.0/24`, node `i`'s
    /// pods on `10.<octet>.<i>.0/24`.
    pub octet: u8,
    /// The bridge in the root namespace holding `host_ip`.
    pub bridge: String,
    /// Where the apiserver and the registry listen.
    pub host_ip: Ipv4Addr,
    /// The range of every node's pod CIDR (`--cluster-cidr`).
    pub cluster_cidr: String,
    /// A range for Service IPs, inside the test network (no route leaves the machine for it).
    pub service_cidr: String,
    /// The registry, `host:port`.
    pub registry: String,
    pub nodes: Vec<Node>,
    /// `https://<host_ip>:<port>`.
    pub url: String,
    /// A kubeconfig naming `url`, the serving CA and `TEST_TOKEN`, usable from the root
    /// namespace and from the nodes' namespaces alike.
    pub kubeconfig: PathBuf,
    pub ca_file: PathBuf,
    pub dir: PathBuf,
    apiserver: Option<TestApiserver>,
    apiserver_flags: Vec<String>,
    apiserver_addr: SocketAddr,
    etcd: Option<TestEtcd>,
    registry_proc: Option<Child>,
    reservation: Option<PathBuf>,
    root_route: bool,
    tempdir: Option<tempfile::TempDir>,
}

impl NodeCluster {
    /// Builds the images (cached), makes the network, starts the registry, etcd, the
    /// apiserver and each node's containerd, and waits until every containerd answers. A
    /// failure half-way removes what was made.
    pub async fn start(config: ClusterConfig) -> Result<Self> {
        if config.workers > 100 {
            bail!("at most 100 workers fit the test network");
        }
        let tempdir = tempfile::Builder::new().prefix("cluster-").tempdir()?;
        let dir = tempdir.path().to_path_buf();
        let id = random_id()?;
        let mut cluster = NodeCluster {
            bridge: format!("kbr-{id}"),
            id,
            octet: 0,
            host_ip: Ipv4Addr::UNSPECIFIED,
            cluster_cidr: String::new(),
            service_cidr: String::new(),
            registry: String::new(),
            nodes: Vec::new(),
            url: String::new(),
            kubeconfig: dir.join("kubeconfig"),
            ca_file: PathBuf::new(),
            dir,
            apiserver: None,
            apiserver_flags: Vec::new(),
            apiserver_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            etcd: None,
            registry_proc: None,
            reservation: None,
            root_route: false,
            tempdir: Some(tempdir),
        };
        // From here on, Drop removes whatever a failure leaves.
        cluster.make_network(&config)?;
        let images = build_images()?;
        cluster.start_registry(&images).await?;
        let etcd = TestEtcd::start(&cluster.dir).await?;
        let bind = SocketAddr::from((cluster.host_ip, 0));
        // kubeadm's address order: node names do not resolve here, their InternalIPs do.
        let mut flags: Vec<String> = vec![
            format!("--service-cluster-ip-range={}", cluster.service_cidr),
            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname".to_string(),
        ];
        flags.extend(config.apiserver_flags.iter().cloned());
        cluster.apiserver_flags = flags;
        cluster.etcd = Some(etcd);
        cluster.apiserver_addr = bind;
        cluster.start_apiserver().await?;
        for i in 0..cluster.nodes.len() {
            cluster.start_containerd(i)?;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for node in &mut cluster.nodes {
            wait_containerd(node, deadline).await?;
        }
        Ok(cluster)
    }

    /// Starts the apiserver (again, after `stop_apiserver`) at the same address, with the
    /// same certificates and kubeconfig, and waits until it is ready.
    pub async fn start_apiserver(&mut self) -> Result<()> {
        if self.apiserver.is_some() {
            bail!("the apiserver is already running");
        }
        let endpoint = self.etcd.as_ref().context("etcd is gone")?.endpoint.clone();
        let flags: Vec<&str> = self.apiserver_flags.iter().map(String::as_str).collect();
        let api =
            TestApiserver::start_at(&endpoint, &self.dir, "", self.apiserver_addr, &flags).await?;
        self.apiserver_addr = api.local_addr();
        self.url = api.url.clone();
        self.ca_file = api.ca_file.clone();
        self.kubeconfig = api.kubeconfig.clone();
        self.apiserver = Some(api);
        Ok(())
    }

    /// Stops the apiserver gracefully (the kubelets keep running and retry), until
    /// `start_apiserver`.
    pub async fn stop_apiserver(&mut self) {
        if let Some(api) = self.apiserver.take() {
            api.stop().await;
        }
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The node called `name`, to start or stop its kubelet.
    pub fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    /// Starts the kubelet binary on every node with the cluster's kubeconfig.
    pub fn start_kubelets(&mut self, kubelet: &Path, extra: &[&str]) -> Result<()> {
        let kubeconfig = self.kubeconfig.clone();
        for node in &mut self.nodes {
            node.start_kubelet(kubelet, &kubeconfig, extra)?;
        }
        Ok(())
    }

    /// Stops everything gracefully (the apiserver drains) and removes what was made; errors
    /// of the clean-up are returned after all of it was tried.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(api) = self.apiserver.take() {
            api.stop().await;
        }
        tokio::task::spawn_blocking(move || self.teardown())
            .await
            .context("teardown panicked")?
    }

    /// Makes the bridge, the namespaces, the veth pairs and the routes.
    fn make_network(&mut self, config: &ClusterConfig) -> Result<()> {
        let (octet, reservation) = reserve_range(&self.id)?;
        self.reservation = Some(reservation);
        self.octet = octet;
        self.host_ip = Ipv4Addr::new(10, octet, 255, HOST_OCTET);
        self.cluster_cidr = format!("10.{octet}.0.0/17");
        self.service_cidr = format!("10.{octet}.128.0/20");
        // Nothing of 10.X.0.0/16 but the bridge's subnet is reachable from the root
        // namespace: a stray packet to a pod or Service address stays on the machine.
        ip(&["route", "add", "unreachable", &format!("10.{octet}.0.0/16")])?;
        self.root_route = true;
        let br = self.bridge.clone();
        ip(&["link", "add", &br, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}/24", self.host_ip), "dev", &br])?;
        ip(&["link", "set", &br, "up"])?;

        let mut names = vec!["control-plane".to_string()];
        names.extend((1..=config.workers).map(|i| {
            if i == 1 {
                "worker".to_string()
            } else {
                format!("worker{i}")
            }
        }));
        for (i, name) in names.into_iter().enumerate() {
            let index = u8::try_from(i).context("too many nodes")?;
            let dir = self.dir.join(&name);
            std::fs::create_dir_all(dir.join("manifests"))?;
            let node = Node {
                netns: format!("k8s-{}-{name}", self.id),
                ip: Ipv4Addr::new(10, octet, 255, NODE_IP_BASE + index),
                pod_cidr: format!("10.{octet}.{index}.0/24"),
                manifests: dir.join("manifests"),
                cgroup_root: format!("/k8s-{}-{name}", self.id),
                containerd_socket: dir.join("containerd/containerd.sock"),
                host_veth: format!("kv{}{index}", self.id),
                dir,
                name,
                containerd: None,
                kubelet: None,
            };
            let peer = format!("kn{}{index}", self.id);
            ip(&["netns", "add", &node.netns])?;
            self.nodes.push(node);
            let node = self.nodes.last().expect("just pushed");
            ip(&[
                "link",
                "add",
                &node.host_veth,
                "type",
                "veth",
                "peer",
                "name",
                &peer,
            ])?;
            ip(&["link", "set", &node.host_veth, "master", &br, "up"])?;
            ip(&["link", "set", &peer, "netns", &node.netns])?;
            let ns = node.netns.clone();
            ip_in(&ns, &["link", "set", "lo", "up"])?;
            ip_in(&ns, &["link", "set", &peer, "name", "eth0"])?;
            ip_in(
                &ns,
                &["addr", "add", &format!("{}/24", node.ip), "dev", "eth0"],
            )?;
            ip_in(&ns, &["link", "set", "eth0", "up"])?;
            // The node forwards between its pods' bridge and eth0; no default route.
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &ns,
                    "sysctl",
                    "-qw",
                    "net.ipv4.ip_forward=1",
                ],
            )?;
        }
        for node in &self.nodes {
            for other in &self.nodes {
                if other.name != node.name {
                    ip_in(
                        &node.netns,
                        &[
                            "route",
                            "add",
                            &other.pod_cidr,
                            "via",
                            &other.ip.to_string(),
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Starts `docker-registry` on the host address and pushes the images into it.
    async fn start_registry(&mut self, images: &Path) -> Result<()> {
        let port = {
            let l = std::net::TcpListener::bind((self.host_ip, 0))
                .context("binding a free port on the host address")?;
            l.local_addr()?.port()
        };
        self.registry = format!("{}:{port}", self.host_ip);
        let rdir = self.dir.join("registry");
        std::fs::create_dir_all(&rdir)?;
        let config = rdir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {}\n  secret: {}\n",
                rdir.join("data").display(),
                self.registry,
                self.id
            ),
        )?;
        let log = std::fs::File::create(rdir.join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting docker-registry (install Debian's docker-registry package)")?;
        self.registry_proc = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(&self.registry)
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!(
                    "the registry did not listen on {} within 20s",
                    self.registry
                );
            }
            if let Some(Ok(Some(status))) = self.registry_proc.as_mut().map(Child::try_wait) {
                bail!(
                    "docker-registry exited with {status}: {}",
                    std::fs::read_to_string(rdir.join("registry.log")).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (archive, repo) in [
            ("pause.tar", "pause:3.9"),
            ("busybox.tar", "library/busybox:1.35"),
        ] {
            let src = format!("oci-archive:{}", images.join(archive).display());
            let dst = format!("docker://{}/{repo}", self.registry);
            run(
                "skopeo",
                // No signature policy applies to our own images (and a fresh machine may
                // have no /etc/containers/policy.json).
                &[
                    "--insecure-policy",
                    "copy",
                    "--quiet",
                    "--dest-tls-verify=false",
                    &src,
                    &dst,
                ],
            )
            .context("pushing the images to the local registry (install skopeo)")?;
        }
        Ok(())
    }

    /// Writes node `i`'s containerd and CNI configuration and starts containerd in its
    /// namespace.
    fn start_containerd(&mut self, i: usize) -> Result<()> {
        let registry = self.registry.clone();
        let node = &mut self.nodes[i];
        let cdir = node.dir.join("containerd");
        let cni = node.dir.join("cni");
        let certs = cdir.join("certs.d");
        for d in [&cdir, &cni, &certs] {
            std::fs::create_dir_all(d)?;
        }
        let mut hosts: Vec<&str> = MIRRORED.to_vec();
        hosts.push(&registry);
        for host in hosts {
            let d = certs.join(host);
            std::fs::create_dir_all(&d)?;
            // Plain HTTP to the local registry, for its own name and the registries it
            // stands in for (the path of an image is kept: docker.io/library/busybox is
            // <registry>/library/busybox).
            std::fs::write(
                d.join("hosts.toml"),
                format!(
                    "server = \"http://{registry}\"\n\n[host.\"http://{registry}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
                ),
            )?;
        }
        // The network's name is unique on the machine: CNI's result cache
        // (/var/lib/cni/results/<network>-<sandbox>-<ifname>) is shared by every runtime.
        let network = node.netns.clone();
        std::fs::write(
            cni.join("10-bridge.conflist"),
            format!(
                r#"{{
  "cniVersion": "1.0.0",
  "name": "{network}",
  "plugins": [
    {{
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {{
        "type": "host-local",
        "ranges": [[{{ "subnet": "{cidr}" }}]],
        "routes": [{{ "dst": "0.0.0.0/0" }}],
        "dataDir": "{ipam}"
      }}
    }}
  ]
}}
"#,
                cidr = node.pod_cidr,
                ipam = node.dir.join("cni-ipam").display(),
            ),
        )?;
        let config = containerd_config(&cdir, &cni, &certs, &node.containerd_socket);
        let config_path = cdir.join("config.toml");
        std::fs::write(&config_path, config)?;
        let log = std::fs::File::create(node.containerd_log())?;
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", node.netns))
            .arg("--")
            .arg("containerd")
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting containerd (install Debian's containerd package)")?;
        node.containerd = Some(child);
        Ok(())
    }

    /// Removes everything this cluster made, in reverse order; every step is tried, the
    /// errors are returned together. Idempotent.
    fn teardown(&mut self) -> Result<()> {
        let mut errors = Vec::new();
        for node in &mut self.nodes {
            node.stop_kubelet(Duration::from_secs(10));
        }
        for node in &mut self.nodes {
            if let Err(e) = teardown_node(node) {
                errors.push(format!("node {}: {e:#}", node.name));
            }
        }
        if let Some(child) = self.registry_proc.take() {
            stop_child(child, Duration::from_secs(5));
        }
        if let Some(api) = self.apiserver.take() {
            drop(api);
        }
        if let Some(mut etcd) = self.etcd.take() {
            etcd.kill_now();
        }
        for node in self.nodes.drain(..) {
            if Path::new("/sys/class/net").join(&node.host_veth).exists() {
                if let Err(e) = ip(&["link", "del", &node.host_veth]) {
                    errors.push(format!("{e:#}"));
                }
            }
            if Path::new("/run/netns").join(&node.netns).exists() {
                if let Err(e) = ip(&["netns", "del", &node.netns]) {
                    errors.push(format!("{e:#}"));
                }
            }
        }
        if Path::new("/sys/class/net").join(&self.bridge).exists() {
            if let Err(e) = ip(&["link", "del", &self.bridge]) {
                errors.push(format!("{e:#}"));
            }
        }
        if std::mem::take(&mut self.root_route) {
            let range = format!("10.{}.0.0/16", self.octet);
            if let Err(e) = ip(&["route", "del", "unreachable", &range]) {
                errors.push(format!("{e:#}"));
            }
        }
        if let Some(r) = self.reservation.take() {
            let _ = std::fs::remove_file(r);
        }
        if let Some(t) = self.tempdir.take() {
            if let Err(e) = t.close() {
                errors.push(format!("removing {}: {e}", self.dir.display()));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            bail!("tearing the cluster down: {}", errors.join("; "))
        }
    }
}

impl Drop for NodeCluster {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("{e:#}");
        }
    }
}

/// containerd 1.6's configuration for one node: own root, state, socket and plugin folders,
/// the CRI plugin with our pause image, CNI from Debian's plugins, the local registry over
/// plain HTTP, runc with cgroupfs.
fn containerd_config(cdir: &Path, cni: &Path, certs: &Path, socket: &Path) -> String {
    let d = cdir.display();
    format!(
        r#"version = 2
root = "{d}/root"
state = "{d}/state"
# Snapshotters that cannot work here only log errors at start.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # This machine forbids lowering oom_score_adj (CRI asks for -998 for sandboxes).
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs}"
"#,
        socket = socket.display(),
        cni = cni.display(),
        certs = certs.display(),
    )
}

/// Waits until the node's containerd answers CRI Version.
async fn wait_containerd(node: &mut Node, deadline: Instant) -> Result<()> {
    loop {
        if let Some(Ok(Some(status))) = node.containerd.as_mut().map(Child::try_wait) {
            bail!(
                "containerd of node {} exited with {status}: {}",
                node.name,
                tail(&node.containerd_log(), 20)
            );
        }
        if node.containerd_socket.exists() {
            if let Ok(v) = cri_version(&node.containerd_socket).await {
                tracing::debug!(node = %node.name, version = %v, "containerd is up");
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "containerd of node {} did not answer CRI Version in time: {}",
                node.name,
                tail(&node.containerd_log(), 20)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last `n` lines of a log file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Builds the images with `hack/images/build.sh` (cached in `_output/images` of the
/// workspace) and returns their folder.
fn build_images() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("hack/images/build.sh");
    let out = root.join("_output/images");
    let result = Command::new(&script)
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !result.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    Ok(out)
}

/// A short random id (6 hex digits) for the names of one cluster.
fn random_id() -> Result<String> {
    let mut bytes = [0u8; 3];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// Picks `10.X.0.0/16` (X in 100..=199) that no address or route of the root namespace
/// uses and no other test network reserved, and reserves it with a file naming our id.
/// A reservation whose bridge is gone (a killed test) is taken over.
fn reserve_range(id: &str) -> Result<(u8, PathBuf)> {
    std::fs::create_dir_all(RESERVATIONS)?;
    let routes = run("ip", &["-4", "route", "show", "table", "all"])?;
    let addrs = run("ip", &["-4", "addr"])?;
    let start = u8::from_str_radix(&id[..2], 16).unwrap_or(0) % 100;
    for k in 0..100u8 {
        let octet = 100 + (start + k) % 100;
        let prefix = format!("10.{octet}.");
        if routes.contains(&prefix) || addrs.contains(&prefix) {
            continue;
        }
        let path = Path::new(RESERVATIONS).join(format!("10.{octet}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                writeln!(f, "kbr-{id}")?;
                return Ok((octet, path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(&path).unwrap_or_default();
                let owner = owner.trim();
                if !owner.is_empty() && !Path::new("/sys/class/net").join(owner).exists() {
                    std::fs::write(&path, format!("kbr-{id}\n"))?;
                    return Ok((octet, path));
                }
            }
            Err(e) => return Err(e).with_context(|| format!("reserving {}", path.display())),
        }
    }
    bail!("no free 10.X.0.0/16 range for a test network (X in 100..=199)")
}

/// Stops one node's containers and containerd and removes what they left: pod sandboxes
/// through CRI first (containerd runs CNI DEL and unmounts their network namespaces), then
/// by force whatever is left of the processes it started, its mounts, CNI's cache entries
/// and the cgroups under the node's cgroup root.
fn teardown_node(node: &mut Node) -> Result<()> {
    let mut errors = Vec::new();
    let running = matches!(
        node.containerd.as_mut().map(Child::try_wait),
        Some(Ok(None))
    );
    if running && node.containerd_socket.exists() {
        let socket = node.containerd_socket.clone();
        let result = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(60), remove_sandboxes(&socket))
                    .await
                    .context("removing the pod sandboxes took over 60s")?
            })
        })
        .join();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(format!("{e:#}")),
            Err(_) => errors.push("removing the pod sandboxes panicked".to_string()),
        }
    }
    // What containerd started and is still running: each task's bundle names its first
    // process (init.pid), whose parent is the task's shim (containerd 1.6 writes no shim.pid
    // and runs one shim per pod); shims whose containers are gone are found by the socket of
    // this node's containerd on their command line.
    let tasks = node
        .dir
        .join("containerd/state/io.containerd.runtime.v2.task");
    let mut shims = shims_of(&node.containerd_socket);
    let mut inits = Vec::new();
    let mut shim_sockets = Vec::new();
    for ns in read_dirs(&tasks) {
        for bundle in read_dirs(&ns) {
            if let Some(init) = read_pid(&bundle.join("init.pid")) {
                if let Some(shim) = parent_pid(init).filter(|p| shims.contains(p)) {
                    inits.push(init);
                    shims.push(shim);
                }
            }
            if let Ok(a) = std::fs::read_to_string(bundle.join("address")) {
                shim_sockets.push(PathBuf::from(a.trim().trim_start_matches("unix://")));
            }
        }
    }
    shims.sort_unstable();
    shims.dedup();
    // The network namespaces of those processes: a sandbox's is a mount under /run/netns.
    let netns_inodes: HashSet<u64> = inits
        .iter()
        .filter_map(|p| std::fs::metadata(format!("/proc/{p}/ns/net")).ok())
        .map(|m| m.ino())
        .collect();
    for pid in inits.iter().chain(&shims) {
        kill(*pid, rustix::process::Signal::KILL);
    }
    if let Some(child) = node.containerd.take() {
        stop_child(child, Duration::from_secs(10));
    }
    for s in shim_sockets {
        if s.starts_with("/run/containerd/s/") {
            let _ = std::fs::remove_file(s);
        }
    }
    // containerd 1.6 puts shim sockets in /run/containerd/s whatever its state folder. The
    // (empty) folder stays: another cluster's shim may be about to create its socket there.
    // Mounts: what containerd left under the node's folder, and sandbox namespaces.
    let mut mounts: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|m| {
            m.starts_with(&node.dir)
                || ((m.starts_with("/run/netns/") || m.starts_with("/var/run/netns/"))
                    && std::fs::metadata(m).is_ok_and(|md| netns_inodes.contains(&md.ino())))
        })
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    for m in mounts {
        if let Err(e) = run("umount", &["-l", &m.to_string_lossy()]) {
            errors.push(format!("{e:#}"));
        }
        if m.starts_with("/run/netns/") || m.starts_with("/var/run/netns/") {
            let _ = std::fs::remove_file(&m);
        }
    }
    // CNI's cache entries of this node's network (its name is unique to this cluster).
    let prefix = format!("{}-", node.netns);
    for entry in read_dirs_and_files(Path::new("/var/lib/cni/results")) {
        if entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        {
            let _ = std::fs::remove_file(entry);
        }
    }
    // libcni's cache folder stays, even empty: another runtime may be about to write there.
    if let Err(e) = remove_cgroups(&node.cgroup_root) {
        errors.push(format!("{e:#}"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        bail!("{}", errors.join("; "))
    }
}

/// Stops and removes every pod sandbox of the runtime at `socket` (which removes their
/// containers, runs CNI DEL and unmounts their namespaces).
async fn remove_sandboxes(socket: &Path) -> Result<()> {
    use k8s_cri::v1::{ListPodSandboxRequest, RemovePodSandboxRequest, StopPodSandboxRequest};
    let mut rt = cri_connect(socket).await?.0;
    let list = rt
        .list_pod_sandbox(ListPodSandboxRequest::default())
        .await
        .context("ListPodSandbox")?
        .into_inner()
        .items;
    for sb in list {
        rt.stop_pod_sandbox(StopPodSandboxRequest {
            pod_sandbox_id: sb.id.clone(),
        })
        .await
        .with_context(|| format!("StopPodSandbox {}", sb.id))?;
        rt.remove_pod_sandbox(RemovePodSandboxRequest {
            pod_sandbox_id: sb.id.clone(),
        })
        .await
        .with_context(|| format!("RemovePodSandbox {}", sb.id))?;
    }
    Ok(())
}

/// A CRI client (runtime and image services) over a unix socket.
pub async fn cri_connect(
    socket: &Path,
) -> Result<(
    k8s_cri::v1::runtime_service_client::RuntimeServiceClient<tonic::transport::Channel>,
    k8s_cri::v1::image_service_client::ImageServiceClient<tonic::transport::Channel>,
)> {
    let path = socket.to_path_buf();
    let channel = tonic::transport::Endpoint::try_from("http://[::]:50051")?
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: http::Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .with_context(|| format!("connecting to {}", socket.display()))?;
    Ok((
        k8s_cri::v1::runtime_service_client::RuntimeServiceClient::new(channel.clone()),
        k8s_cri::v1::image_service_client::ImageServiceClient::new(channel),
    ))
}

/// The runtime's name and version from CRI Version (`containerd 1.6.20`).
pub async fn cri_version(socket: &Path) -> Result<String> {
    let mut rt = cri_connect(socket).await?.0;
    let v = rt
        .version(k8s_cri::v1::VersionRequest::default())
        .await?
        .into_inner();
    Ok(format!("{} {}", v.runtime_name, v.runtime_version))
}

/// Removes `<hierarchy><root>` and everything below it in every cgroup hierarchy, deepest
/// first (a cgroup is removed with rmdir once its processes are gone).
fn remove_cgroups(root: &str) -> Result<()> {
    let mut left = Vec::new();
    // Killed processes leave their cgroups a moment later: 5 s of patience in all.
    let mut patience = 50;
    for hierarchy in cgroup_hierarchies() {
        let top = hierarchy.join(root.trim_start_matches('/'));
        if !top.exists() {
            continue;
        }
        let mut dirs = Vec::new();
        collect_dirs(&top, &mut dirs);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            loop {
                if std::fs::remove_dir(&d).is_ok() || !d.exists() {
                    break;
                }
                if patience == 0 {
                    left.push(d.display().to_string());
                    break;
                }
                patience -= 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        bail!("cgroups left: {}", left.join(", "))
    }
}

/// The mounted cgroup hierarchies (v1 controllers and the unified one).
fn cgroup_hierarchies() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

fn collect_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for d in read_dirs(dir) {
        collect_dirs(&d, out);
    }
}

/// The mount points of the root mount namespace (octal escapes of mountinfo decoded).
fn mount_points() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mountinfo(p)))
        .collect()
}

fn unescape_mountinfo(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let oct: String = chars.by_ref().take(3).collect();
            if let Ok(b) = u8::from_str_radix(&oct, 8) {
                out.push(b as char);
                continue;
            }
            out.push('\\');
            out.push_str(&oct);
        } else {
            out.push(c);
        }
    }
    out
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    read_dirs_and_files(dir)
        .into_iter()
        .filter(|p| p.is_dir() && !p.is_symlink())
        .collect()
}

fn read_dirs_and_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// The containerd shims serving the containerd at `socket`: processes whose command is a
/// `containerd-shim*` binary with `-address <socket>` (that socket is unique to one node).
fn shims_of(socket: &Path) -> Vec<u32> {
    let socket = socket.to_string_lossy();
    read_dirs_and_files(Path::new("/proc"))
        .into_iter()
        .filter_map(|p| p.file_name()?.to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
            let is_shim = args.first().is_some_and(|a| {
                String::from_utf8_lossy(a)
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with("containerd-shim"))
            });
            is_shim
                && args
                    .windows(2)
                    .any(|w| w[0] == b"-address" && w[1] == socket.as_bytes())
        })
        .collect()
}

fn kill(pid: u32, sig: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// SIGTERM, then SIGKILL after `grace`; reaps the child.
fn stop_child(mut child: Child, grace: Duration) {
    if let Ok(None) = child.try_wait() {
        kill(child.id(), rustix::process::Signal::TERM);
        let deadline = Instant::now() + grace;
        while let Ok(None) = child.try_wait() {
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = child.wait();
}

/// Runs a command and returns its stdout; fails with its stderr.
fn run(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> Result<String> {
    run("ip", args)
}

/// `ip` inside a named network namespace.
fn ip_in(netns: &str, args: &[&str]) -> Result<String> {
    let mut full = vec!["-n", netns];
    full.extend_from_slice(args);
    run("ip", &full)
}
