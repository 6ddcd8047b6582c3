//! The kubelet as a library: `main.rs` parses flags and calls [`run`]; tests start it in
//! process. `run` connects to the runtime (CRI) and, with a kubeconfig, to the apiserver;
//! registers the Node and keeps its status and Lease fresh; and runs the pods bound to the
//! node (and static pods) through one worker task per pod.

pub mod cri;
pub mod lease;
pub mod node;
pub mod options;
pub mod pods;
pub mod server;
pub mod static_pods;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use tokio::sync::mpsc;

pub use options::{Config, Options};

/// How long to wait for the runtime's socket at start (containerd may start just after us).
const RUNTIME_WAIT: Duration = Duration::from_secs(60);

/// Errors that stop the kubelet at start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Client(#[from] client::config::Error),
}

/// Runs the kubelet until `shutdown` completes. Containers keep running after it returns
/// (a restarted kubelet adopts them).
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let config = Arc::new(config);
    std::fs::create_dir_all(config.root_dir.join("pods"))
        .map_err(|e| Error::Runtime(format!("creating {}: {e}", config.root_dir.display())))?;
    let cri = connect_runtime(&config.container_runtime_endpoint).await?;
    let version = cri
        .runtime
        .clone()
        .version(k8s_cri::v1::VersionRequest::default())
        .await
        .map_err(|e| Error::Runtime(format!("container runtime version: {}", e.message())))?
        .into_inner();
    let runtime_version = format!("{}://{}", version.runtime_name, version.runtime_version);
    tracing::info!(runtime = %runtime_version, node = %config.node_name, "kubelet starting");

    let client = match &config.kubeconfig {
        Some(path) => Some(client::client_from_kubeconfig(Some(path), None).await?),
        None => {
            tracing::info!("no --kubeconfig: running standalone (static pods only)");
            None
        }
    };
    let machine = node::Machine::read(&config.root_dir);
    let allocatable = node::allocatable(&machine.capacity(config.max_pods), &config.reserved);
    let ctx = Arc::new(pods::Context {
        config: config.clone(),
        cri: cri.clone(),
        client: client.clone(),
        runtime_name: version.runtime_name.clone(),
        host_ip: config.node_ip.map(|ip| ip.to_string()),
        allocatable,
        events: client
            .clone()
            .map(|c| client::EventRecorder::new(c, "kubelet", Some(&config.node_name))),
        pods: Mutex::new(Default::default()),
    });

    let mut tasks = Vec::new();
    let (tx, rx) = mpsc::channel(256);
    let mut sources = 0;
    if let Some(client) = &client {
        let nodes: Api<Node> = Api::all(client.clone());
        tasks.push(tokio::spawn(node::run(
            nodes,
            config.clone(),
            cri.clone(),
            runtime_version.clone(),
        )));
        tasks.push(tokio::spawn(lease::run(
            client.clone(),
            config.node_name.clone(),
            config.node_lease_duration_seconds,
        )));
        tasks.push(tokio::spawn(watch_pods(
            client.clone(),
            config.node_name.clone(),
            tx.clone(),
        )));
        sources += 1;
    }
    if let Some(dir) = &config.pod_manifest_path {
        tasks.push(tokio::spawn(static_pods::run(
            dir.clone(),
            config.node_name.clone(),
            config.file_check_frequency,
            tx.clone(),
        )));
        sources += 1;
    }
    drop(tx);
    tasks.push(tokio::spawn(pods::manage(ctx.clone(), rx, sources)));

    let pod_lister: Arc<dyn Fn() -> Vec<Pod> + Send + Sync> = {
        let ctx = ctx.clone();
        Arc::new(move || ctx.running_pods())
    };
    let server = server::serve(
        server::ServerOptions {
            address: config.address,
            port: config.port,
            healthz_address: config.healthz_bind_address,
            healthz_port: (config.healthz_port != 0).then_some(config.healthz_port),
            tls_cert_file: config.tls_cert_file.clone(),
            tls_private_key_file: config.tls_private_key_file.clone(),
            client_ca_file: config.client_ca_file.clone(),
            anonymous_auth: config.anonymous_auth,
            root_dir: config.root_dir.clone(),
            node_name: config.node_name.clone(),
            node_ips: config.node_ip.into_iter().collect(),
        },
        cri.clone(),
        pod_lister,
    )
    .await
    .map_err(|e| Error::Runtime(e.to_string()))?;

    shutdown.await;
    tracing::info!("kubelet stopping; containers keep running");
    server.stop().await;
    for t in tasks {
        t.abort();
    }
    Ok(())
}

async fn connect_runtime(endpoint: &str) -> Result<cri::Cri, Error> {
    let deadline = tokio::time::Instant::now() + RUNTIME_WAIT;
    loop {
        match cri::Cri::connect(endpoint).await {
            Ok(c) => return Ok(c),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(Error::Runtime(e.to_string()))
            }
            Err(e) => {
                tracing::warn!("{e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Watches the pods bound to this node (`spec.nodeName=<node>`) and feeds the manager.
async fn watch_pods(client: kube::Client, node: String, tx: mpsc::Sender<pods::SourceEvent>) {
    let api: Api<Pod> = Api::all(client);
    let config = client::watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let informer = client::Informer::start(api, config, (), None);
    let mut sub = informer.subscribe();
    let synced = informer.clone();
    let tx2 = tx.clone();
    tokio::spawn(async move {
        if synced
            .wait_until_synced(Duration::from_secs(3600 * 24))
            .await
            .is_ok()
        {
            let _ = tx2.send(pods::SourceEvent::Synced("api")).await;
        }
    });
    while let Some(n) = sub.recv().await {
        let ev = match n {
            client::Notification::Added(p) => pods::SourceEvent::Upsert(p),
            client::Notification::Updated { old, new } => {
                if Arc::ptr_eq(&old, &new)
                    || old.metadata.resource_version == new.metadata.resource_version
                {
                    continue;
                }
                pods::SourceEvent::Upsert(new)
            }
            client::Notification::Deleted(p) => pods::SourceEvent::Remove(p),
        };
        if tx.send(ev).await.is_err() {
            return;
        }
    }
}
