//! kube-proxy as a library: flags, the Service and EndpointSlice informers, and the
//! bounded-frequency sync loop that programs the kernel (iptables mode today), with
//! `/healthz` on 10256 and `/metrics` on 10249. `main.rs` parses flags and calls [`run`].

pub mod iptables;
pub mod model;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use clap::{Parser, ValueEnum};
use client::SharedInformerFactory;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use prometheus::{Encoder, Histogram, HistogramOpts, Registry, TextEncoder};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProxyMode {
    Iptables,
    Nftables,
    Ipvs,
}

fn duration(s: &str) -> Result<Duration, String> {
    api_types::duration::parse(s)
}

/// kube-proxy's flags, upstream's names and defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-proxy",
    version,
    about = "The Kubernetes network proxy: programs Services into the node's kernel."
)]
pub struct Options {
    /// Path to a kubeconfig file with authorization information.
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Which proxy mode to use.
    #[arg(long, value_enum, default_value = "iptables")]
    pub proxy_mode: ProxyMode,
    /// The node's name, if not the host name.
    #[arg(long)]
    pub hostname_override: Option<String>,
    /// The pods' CIDR range; traffic to a ClusterIP from outside it is masqueraded.
    #[arg(long)]
    pub cluster_cidr: Option<String>,
    /// The shortest time between two syncs of the rules.
    #[arg(long, default_value = "1s", value_parser = duration)]
    pub iptables_min_sync_period: Duration,
    /// The longest time between two full syncs of the rules.
    #[arg(long, default_value = "30s", value_parser = duration)]
    pub iptables_sync_period: Duration,
    /// The address and port of the health server (plain HTTP); port 0 turns it off.
    #[arg(long, default_value = "0.0.0.0:10256")]
    pub healthz_bind_address: SocketAddr,
    /// The address and port of the metrics server (plain HTTP); port 0 turns it off.
    #[arg(long, default_value = "127.0.0.1:10249")]
    pub metrics_bind_address: SocketAddr,
    /// Remove every rule kube-proxy made, then exit.
    #[arg(long)]
    pub cleanup: bool,
    /// Log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Options {
    /// Checks made before anything starts: a mode this kernel or build cannot run is refused
    /// with one line naming what is missing.
    pub fn validate(&self) -> anyhow::Result<()> {
        match self.proxy_mode {
            ProxyMode::Iptables => Ok(()),
            ProxyMode::Ipvs => {
                if std::path::Path::new("/proc/net/ip_vs").exists() {
                    anyhow::bail!("proxy mode \"ipvs\" is not built yet");
                }
                anyhow::bail!(
                    "can't use the IPVS proxier: the kernel has no IPVS support (CONFIG_IP_VS; /proc/net/ip_vs is missing)"
                )
            }
            ProxyMode::Nftables => {
                anyhow::bail!("proxy mode \"nftables\" is not built yet; use --proxy-mode=iptables")
            }
        }
    }
}

/// The last successful sync, for `/healthz`.
#[derive(Default)]
struct Health {
    last: Option<Instant>,
    last_wall: Option<jiff::Timestamp>,
}

/// Runs until `shutdown` completes.
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    opts.validate()?;
    if opts.cleanup {
        return iptables::cleanup().await;
    }
    let client = client::client_from_kubeconfig(opts.kubeconfig.as_deref(), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let registry = Registry::new();
    let sync_duration = Histogram::with_opts(
        HistogramOpts::new(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds",
        )
        .buckets(prometheus::exponential_buckets(0.001, 2.0, 15)?),
    )?;
    registry.register(Box::new(sync_duration.clone()))?;
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    let health = Arc::new(Mutex::new(Health::default()));
    let servers = serve(&opts, registry, health.clone(), opts.iptables_sync_period)?;

    let factory = SharedInformerFactory::new(client);
    let services = factory.informer::<Service>();
    let slices = factory.informer::<EndpointSlice>();
    let changed = Arc::new(tokio::sync::Notify::new());
    let _handlers = [
        {
            let c = changed.clone();
            services.add_event_handler(move |_| c.notify_one())
        },
        {
            let c = changed.clone();
            slices.add_event_handler(move |_| c.notify_one())
        },
    ];
    let cfg = iptables::Config {
        cluster_cidr: opts.cluster_cidr.clone(),
    };
    let sync_loop = async {
        // Nothing is programmed before both informers have their first list.
        factory
            .wait_for_cache_sync(Duration::from_secs(300))
            .await?;
        let mut jumps_ok = false;
        let mut applier = iptables::Applier::default();
        loop {
            let started = Instant::now();
            let result = async {
                if !jumps_ok {
                    iptables::ensure_jumps().await?;
                    jumps_ok = true;
                }
                let ports = model::service_ports(&services.list(), &slices.list());
                applier.apply(&iptables::render(&ports, &cfg)).await
            }
            .await;
            match result {
                Ok(()) => {
                    sync_duration.observe(started.elapsed().as_secs_f64());
                    let mut h = health.lock().unwrap_or_else(|e| e.into_inner());
                    h.last = Some(Instant::now());
                    h.last_wall = Some(jiff::Timestamp::now());
                }
                Err(e) => {
                    // The next sync is a full one and re-checks the jumps.
                    tracing::error!(error = %e, "syncing proxy rules failed");
                    jumps_ok = false;
                }
            }
            tokio::time::sleep(opts.iptables_min_sync_period).await;
            let _ = tokio::time::timeout(opts.iptables_sync_period, changed.notified()).await;
        }
        #[allow(unreachable_code)]
        Ok::<(), anyhow::Error>(())
    };
    let result = tokio::select! {
        r = sync_loop => r,
        _ = shutdown => Ok(()),
    };
    for s in servers {
        s.stop(true).await;
    }
    factory.shutdown();
    result
}

fn serve(
    opts: &Options,
    registry: Registry,
    health: Arc<Mutex<Health>>,
    period: Duration,
) -> anyhow::Result<Vec<actix_web::dev::ServerHandle>> {
    let mut handles = Vec::new();
    if opts.healthz_bind_address.port() != 0 {
        let server = HttpServer::new(move || {
            let health = health.clone();
            App::new().route(
                "/healthz",
                web::get().to(move || {
                    let h = health.lock().unwrap_or_else(|e| e.into_inner());
                    // Healthy when the rules were synced within twice the sync period.
                    let healthy = h.last.is_some_and(|t| t.elapsed() < period * 2);
                    let body = serde_json::json!({
                        "lastUpdated": h.last_wall.map(|t| t.to_string()).unwrap_or_default(),
                        "currentTime": jiff::Timestamp::now().to_string(),
                    });
                    let resp = if healthy {
                        HttpResponse::Ok().json(body)
                    } else {
                        HttpResponse::ServiceUnavailable().json(body)
                    };
                    async move { resp }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(opts.healthz_bind_address)
        .map_err(|e| anyhow::anyhow!("failed to listen on {}: {e}", opts.healthz_bind_address))?
        .run();
        handles.push(server.handle());
        tokio::spawn(server);
    }
    if opts.metrics_bind_address.port() != 0 {
        let server = HttpServer::new(move || {
            let registry = registry.clone();
            App::new().route(
                "/metrics",
                web::get().to(move || {
                    let mut out = Vec::new();
                    let _ = TextEncoder::new().encode(&registry.gather(), &mut out);
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/plain; version=0.0.4; charset=utf-8")
                            .body(out)
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(opts.metrics_bind_address)
        .map_err(|e| anyhow::anyhow!("failed to listen on {}: {e}", opts.metrics_bind_address))?
        .run();
        handles.push(server.handle());
        tokio::spawn(server);
    }
    Ok(handles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_this_build_or_kernel_cannot_run_are_refused_in_one_line() {
        let o = Options::try_parse_from(["kube-proxy"]).unwrap();
        assert_eq!(o.proxy_mode, ProxyMode::Iptables);
        assert!(o.validate().is_ok());
        let o = Options::try_parse_from(["kube-proxy", "--proxy-mode=ipvs"]).unwrap();
        let err = o.validate().unwrap_err().to_string();
        if !std::path::Path::new("/proc/net/ip_vs").exists() {
            assert!(err.contains("CONFIG_IP_VS"), "{err}");
        }
        assert!(Options::try_parse_from(["kube-proxy", "--proxy-mode=bogus"]).is_err());
    }
}
