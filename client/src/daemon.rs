//! What the leader-elected daemons (kube-scheduler, kube-controller-manager) share: upstream's
//! `--leader-elect*` flags, flattened into each daemon's options, and the HTTPS server for
//! `/healthz`, `/livez`, `/readyz` and `/metrics` on their secure port.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};

use crate::leaderelection::LeaderElectionConfig;

fn duration(s: &str) -> Result<Duration, String> {
    api_types::duration::parse(s)
}

/// Upstream's leader-election flags. The Lease's name defaults to the daemon's own name.
#[derive(Debug, Clone, clap::Args)]
pub struct LeaderElectionFlags {
    /// Start a leader election client and gain leadership before doing any work.
    #[arg(long = "leader-elect", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// How long non-leader candidates wait after observing a renewal before trying to take over.
    #[arg(long = "leader-elect-lease-duration", default_value = "15s", value_parser = duration)]
    pub lease_duration: Duration,
    /// How long the leader retries refreshing leadership before giving it up.
    #[arg(long = "leader-elect-renew-deadline", default_value = "10s", value_parser = duration)]
    pub renew_deadline: Duration,
    /// How long clients wait between attempts to acquire and renew leadership.
    #[arg(long = "leader-elect-retry-period", default_value = "2s", value_parser = duration)]
    pub retry_period: Duration,
    /// The name of the Lease used for leader election (the daemon's name when not given).
    #[arg(long = "leader-elect-resource-name")]
    pub resource_name: Option<String>,
    /// The namespace of the Lease used for leader election.
    #[arg(
        long = "leader-elect-resource-namespace",
        default_value = "kube-system"
    )]
    pub resource_namespace: String,
}

impl LeaderElectionFlags {
    /// The election timing, checked as upstream checks it.
    pub fn config(&self) -> Result<LeaderElectionConfig, String> {
        let cfg = LeaderElectionConfig {
            lease_duration: self.lease_duration,
            renew_deadline: self.renew_deadline,
            retry_period: self.retry_period,
            release_on_cancel: true,
        };
        cfg.validate()
            .map_err(|e| format!("leader election: {e}"))?;
        Ok(cfg)
    }

    /// A unique identity for this process: host name and a random suffix, as upstream.
    pub fn identity() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        format!("{host}_{}", uuid_like())
    }
}

fn uuid_like() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    let a: u64 = rng.random();
    let b: u64 = rng.random();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// Logs to stderr at the level `-v` asks for (`RUST_LOG` wins when set).
pub fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // A second call (several daemons in one test process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// A running health and metrics server.
pub struct HealthServer {
    pub addr: Option<SocketAddr>,
    handle: Option<actix_web::dev::ServerHandle>,
}

impl HealthServer {
    pub async fn stop(self) {
        if let Some(h) = self.handle {
            h.stop(true).await;
        }
    }
}

/// Serves `/healthz`, `/livez`, `/readyz` (always `ok` while the process runs) and `/metrics`
/// (whatever `metrics` renders, Prometheus text) over HTTPS with a self-signed certificate, as
/// upstream does without `--tls-cert-file`. Port 0 serves nothing.
pub async fn serve_health(
    bind: IpAddr,
    port: u16,
    metrics: Arc<dyn Fn() -> Vec<u8> + Send + Sync>,
) -> anyhow::Result<HealthServer> {
    if port == 0 {
        return Ok(HealthServer {
            addr: None,
            handle: None,
        });
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let (chain, key) = crate::serving::self_signed(&[host.as_str()], &[bind])?;
    let acceptor = crate::serving::acceptor_from_pem(&chain, &key)?;
    let ok = || async {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok")
    };
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new()
            .route("/healthz", web::get().to(ok))
            .route("/livez", web::get().to(ok))
            .route("/readyz", web::get().to(ok))
            .route(
                "/metrics",
                web::get().to(move || {
                    let body = metrics();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/plain; version=0.0.4; charset=utf-8")
                            .body(body)
                    }
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .bind_openssl(SocketAddr::new(bind, port), acceptor)
    .map_err(|e| anyhow::anyhow!("failed to listen on {bind}:{port}: {e}"))?;
    let addr = server.addrs().first().copied();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(HealthServer {
        addr,
        handle: Some(handle),
    })
}
