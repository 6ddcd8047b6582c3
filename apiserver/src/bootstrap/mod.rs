//! Start-up after the port is bound: wait for etcd with back-off while answering every
//! request (health checks fail their `etcd` check, API requests get upstream's 429 "storage
//! is (re)initializing"), then load the watch cache, route requests to the real handlers and
//! run the post-start hooks that keep the cluster's own objects in place, as upstream's
//! apiserver does. Readiness comes once every hook has finished its first run.

pub mod identity;
pub mod kubernetes_service;
pub mod loopback;
pub mod system;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::cache::Cache;
use crate::error::ApiError;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::request::Route;
use crate::storage::Storage;
use crate::{AppState, Options};

use kubernetes_service::KubernetesService;
use loopback::Loopback;

/// The system namespaces controller's hook (upstream's name).
pub const HOOK_SYSTEM_NAMESPACES: &str = "start-system-namespaces-controller";
/// The apiserver identity lease's hooks (upstream's names).
pub const HOOK_IDENTITY_LEASE: &str = "start-kube-apiserver-identity-lease-controller";
pub const HOOK_IDENTITY_LEASE_GC: &str = "start-kube-apiserver-identity-lease-garbage-collector";
/// The system PriorityClasses' hook (upstream's name).
pub const HOOK_PRIORITY_CLASSES: &str = "scheduling/bootstrap-system-priority-classes";
/// The `kubernetes` Service and its endpoints' hook (upstream's name).
pub const HOOK_BOOTSTRAP_CONTROLLER: &str = "bootstrap-controller";

/// Every post-start hook, in the order upstream's `/readyz?verbose` lists them.
pub const HOOKS: [&str; 5] = [
    HOOK_SYSTEM_NAMESPACES,
    HOOK_IDENTITY_LEASE,
    HOOK_IDENTITY_LEASE_GC,
    HOOK_PRIORITY_CLASSES,
    HOOK_BOOTSTRAP_CONTROLLER,
];

/// The first and the longest wait between two attempts to reach etcd (or to run a hook).
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How often the system namespaces are re-checked (upstream's interval).
const NAMESPACES_INTERVAL: Duration = Duration::from_secs(60);

/// What the HTTP server holds from the moment it binds: the handlers' state once etcd is
/// connected, and what answers before that.
pub struct Boot {
    pub health: Arc<Health>,
    pub metrics: Metrics,
    state: OnceLock<web::Data<AppState>>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    kubernetes_service: OnceLock<Arc<KubernetesService>>,
}

impl Boot {
    pub fn new(metrics: Metrics) -> Self {
        Boot {
            health: Arc::new(Health::new(&HOOKS)),
            metrics,
            state: OnceLock::new(),
            tasks: Mutex::new(Vec::new()),
            kubernetes_service: OnceLock::new(),
        }
    }

    /// The handlers' state; None until etcd is connected and the cache loaded.
    pub fn state(&self) -> Option<&web::Data<AppState>> {
        self.state.get()
    }

    /// Runs `fut` as a background task that `abort_tasks` ends.
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(fut);
        self.tasks
            .lock()
            .expect("task list poisoned")
            .push(handle.abort_handle());
    }

    /// Before the server stops: readiness fails from now on and this apiserver takes itself
    /// out of the `kubernetes` endpoints, so clients move to the others at once.
    pub async fn pre_shutdown(&self) {
        self.health.shutting_down();
        if let Some(ks) = self.kubernetes_service.get() {
            let limit = (ks.interval() * 2).min(Duration::from_secs(5));
            match tokio::time::timeout(limit, ks.remove_endpoints()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "unable to remove endpoints from kubernetes service")
                }
                Err(_) => tracing::warn!("removing endpoints from kubernetes service timed out"),
            }
        }
    }

    pub fn abort_tasks(&self) {
        for t in self.tasks.lock().expect("task list poisoned").drain(..) {
            t.abort();
        }
    }
}

/// What start-up needs besides the flags.
pub struct Config {
    pub options: Options,
    /// The address the secure port is bound to (its real port when 0 was asked).
    pub bound: SocketAddr,
    /// `--advertise-address`, or what stands for it.
    pub advertise: IpAddr,
    /// The `kubernetes` Service's cluster IP.
    pub service_ip: IpAddr,
    /// The bearer token of the loopback client (`system:apiserver`).
    pub loopback_token: String,
    /// The client side of kubelet connections.
    pub kubelet_tls: Arc<crate::tls::KubeletTls>,
}

/// The answer to a request that arrives before etcd is connected.
pub async fn not_ready(boot: &Boot, req: &HttpRequest) -> HttpResponse {
    match crate::request::parse_path(req.path()) {
        Route::Health(kind) => crate::health::serve(&boot.health, None, req, kind).await,
        Route::Metrics => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(boot.metrics.render()),
        Route::Version => HttpResponse::Ok()
            .content_type("application/json")
            .body(crate::discovery::version().to_string()),
        // Upstream's answer while a resource's watch cache is not initialized: clients
        // (client-go, kubectl, kube-rs) wait Retry-After and try again.
        _ => ApiError::storage_initializing().to_response(),
    }
}

/// Connects to etcd, retrying with back-off until it answers, and loads the watch cache.
async fn connect(options: &Options, health: &Health, metrics: &Metrics) -> (Storage, Arc<Cache>) {
    let mut delay = FIRST_BACKOFF;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        match try_connect(options, metrics).await {
            Ok(ready) => {
                health.etcd_connected();
                tracing::info!(attempts, "connected to etcd and loaded the watch cache");
                return ready;
            }
            Err(e) => {
                // Logged at every attempt while short, then once every ten, so a missing
                // etcd does not flood the log.
                if attempts <= 5 || attempts.is_multiple_of(10) {
                    tracing::warn!(
                        servers = %options.etcd_servers.join(","),
                        error = %e,
                        attempts,
                        "etcd is not reachable yet; retrying"
                    );
                }
                health.etcd_failed(e);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn try_connect(
    options: &Options,
    metrics: &Metrics,
) -> Result<(Storage, Arc<Cache>), String> {
    let storage = Storage::connect(&options.etcd_servers, &options.etcd_prefix, metrics.clone())
        .await
        .map_err(|e| e.to_string())?;
    storage.healthy(Duration::from_secs(2)).await?;
    let cache = Cache::load(
        storage.clone(),
        options.default_watch_cache_size,
        metrics.clone(),
    )
    .await
    .map_err(|e| format!("loading objects from etcd: {e}"))?;
    Ok((storage, cache))
}

/// Runs `attempt` until it succeeds, backing off between failures.
async fn retry<F, Fut>(what: &str, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut delay = FIRST_BACKOFF;
    loop {
        match attempt().await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(hook = what, error = %e, "post-start hook failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Runs `pass` every `interval` from now on (after a first run done elsewhere), logging
/// failures: the hooks' controllers keep their objects in place after start-up.
fn every<F, Fut>(boot: &Boot, interval: Duration, what: &'static str, mut pass: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    boot.spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            if let Err(e) = pass().await {
                tracing::warn!(controller = what, error = %e, "sync failed; retrying later");
            }
        }
    });
}

/// Everything after binding: etcd, the cache, the handlers' state, the background loops
/// and the post-start hooks, then readiness.
pub async fn run(boot: Arc<Boot>, cfg: Config) {
    let options = &cfg.options;
    let (storage, cache) = connect(options, &boot.health, &boot.metrics).await;
    boot.spawn(cache.clone().run());
    let chain = match crate::filters::Chain::new(options, &boot.metrics, &cfg.loopback_token) {
        Ok(c) => c,
        Err(e) => {
            // The flags were validated before binding; this cannot fail on them.
            tracing::error!(error = %e, "building the handler chain");
            return;
        }
    };
    let state = web::Data::new(AppState {
        storage: storage.clone(),
        cache: cache.clone(),
        metrics: boot.metrics.clone(),
        chain,
        loopback_token: cfg.loopback_token.clone(),
        server_address: format!("{}:{}", cfg.advertise, cfg.bound.port()),
        min_request_timeout: Duration::from_secs(options.min_request_timeout),
        kubelet_preferred_address_types: options.kubelet_preferred_address_types.clone(),
        kubelet_tls: cfg.kubelet_tls.clone(),
        health: boot.health.clone(),
        service_allocator: match crate::admission::service_alloc::ServiceAllocator::new(
            &options.service_cluster_ip_range,
            &options.service_node_port_range,
        ) {
            Ok(a) => a,
            Err(e) => {
                // The flags were validated before binding; this cannot fail on them.
                tracing::error!(error = %e, "service address ranges");
                return;
            }
        },
    });
    if boot.state.set(state).is_err() {
        tracing::error!("the apiserver's state was set twice");
        return;
    }
    if !options.etcd_compaction_interval.is_zero() {
        boot.spawn(crate::compact_forever(
            storage.clone(),
            options.etcd_compaction_interval,
        ));
    }
    // Build the OpenAPI documents off the request path, so kubectl's first call is fast.
    boot.spawn(async {
        let _ = tokio::task::spawn_blocking(|| {
            crate::openapi::v3_root();
            crate::openapi::v2_protobuf();
        })
        .await;
    });

    let client = Loopback::new(cfg.bound, cfg.loopback_token.clone());
    run_system_hooks(&boot, &client).await;
    // Like upstream's, the `kubernetes` Service's endpoints name this apiserver only once
    // everything else about it is ready: after the other hooks.
    let ks = Arc::new(KubernetesService::new(
        client,
        storage,
        kubernetes_service::Settings {
            public_ip: cfg.advertise,
            public_port: cfg.bound.port(),
            service_ip: cfg.service_ip,
            lease_ttl: options.endpoint_reconciler_ttl,
            reconcile_endpoints: options.endpoint_reconciler_type == "lease",
        },
    ));
    let _ = boot.kubernetes_service.set(ks.clone());
    retry(HOOK_BOOTSTRAP_CONTROLLER, || ks.update_kubernetes_service()).await;
    boot.health.hook_done(HOOK_BOOTSTRAP_CONTROLLER);
    every(&boot, ks.interval(), HOOK_BOOTSTRAP_CONTROLLER, move || {
        let ks = ks.clone();
        async move { ks.update_kubernetes_service().await }
    });

    // What the hooks wrote is in etcd; serve reads only once the cache has it too.
    retry("watch-cache-catch-up", || async {
        cache
            .wait_fresh(Duration::from_secs(10))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await;
    boot.health.set_ready();
    tracing::info!("apiserver is ready");
}

/// The first runs of the namespaces, identity lease and PriorityClass hooks (each marked
/// done as it finishes), then their controllers' loops.
async fn run_system_hooks(boot: &Boot, client: &Loopback) {
    let health = &boot.health;
    let namespaces = async {
        retry(HOOK_SYSTEM_NAMESPACES, || {
            system::ensure_system_namespaces(client)
        })
        .await;
        health.hook_done(HOOK_SYSTEM_NAMESPACES);
    };
    let lease = Arc::new(identity::IdentityLease::new(client.clone()));
    // The identity lease lives in kube-system: it follows the namespaces.
    let identity = async {
        namespaces.await;
        retry(HOOK_IDENTITY_LEASE, || lease.renew()).await;
        health.hook_done(HOOK_IDENTITY_LEASE);
        retry(HOOK_IDENTITY_LEASE_GC, || identity::collect_expired(client)).await;
        health.hook_done(HOOK_IDENTITY_LEASE_GC);
    };
    let priority_classes = async {
        retry(HOOK_PRIORITY_CLASSES, || {
            system::ensure_system_priority_classes(client)
        })
        .await;
        health.hook_done(HOOK_PRIORITY_CLASSES);
    };
    tokio::join!(identity, priority_classes);

    let c = client.clone();
    every(
        boot,
        NAMESPACES_INTERVAL,
        HOOK_SYSTEM_NAMESPACES,
        move || {
            let c = c.clone();
            async move { system::ensure_system_namespaces(&c).await }
        },
    );
    every(
        boot,
        identity::RENEW_INTERVAL,
        HOOK_IDENTITY_LEASE,
        move || {
            let lease = lease.clone();
            async move { lease.renew().await }
        },
    );
    let c = client.clone();
    every(
        boot,
        identity::GC_INTERVAL,
        HOOK_IDENTITY_LEASE_GC,
        move || {
            let c = c.clone();
            async move { identity::collect_expired(&c).await }
        },
    );
}
