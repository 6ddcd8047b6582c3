//! kube-apiserver: Kubernetes' REST and watch API over HTTPS, keeping objects in etcd.
//! `start` validates options, binds the port and serves at once; connecting to etcd, loading
//! the watch cache and the post-start hooks follow in the background (`bootstrap`), and
//! requests reach the handlers once etcd is connected. `main.rs` only parses flags and waits
//! for a signal.

pub mod admission;
pub mod bootstrap;
pub mod cache;
pub mod discovery;
pub mod error;
pub mod filters;
pub mod health;
pub mod metrics;
pub mod object;
pub mod openapi;
pub mod proxy;
pub mod registry;
pub mod request;
pub mod rest;
pub mod storage;
pub mod table;
pub mod tls;
pub mod typed;
pub mod watch;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::{bail, Context};
use clap::Parser;

use crate::cache::Cache;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::request::{Query, ResourceRequest, Route};
use crate::storage::Storage;

/// Command-line flags, named and defaulted as upstream's.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-apiserver",
    about = "The Kubernetes API server, keeping objects in etcd"
)]
pub struct Options {
    /// List of etcd servers to connect with (scheme://ip:port), comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub etcd_servers: Vec<String>,
    /// The prefix to prepend to all resource paths in etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,
    /// The port on which to serve HTTPS. 0 picks a free port.
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,
    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// File containing the default x509 certificate for HTTPS (CA cert, if any, concatenated after it).
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// The directory where the TLS certs are located; a self-signed pair is made there when
    /// --tls-cert-file and --tls-private-key-file are not given.
    #[arg(long, default_value = "/var/run/kubernetes")]
    pub cert_dir: PathBuf,
    /// The interval of compaction requests (Go duration, e.g. 5m0s). 0 disables compaction.
    #[arg(long, default_value = "5m0s", value_parser = parse_duration)]
    pub etcd_compaction_interval: Duration,
    /// Number of recent events kept per resource in the watch cache.
    #[arg(long, default_value_t = 10_000)]
    pub default_watch_cache_size: usize,
    /// Minimum number of seconds a watch may run; each watch gets a random timeout between it and twice it.
    #[arg(long, default_value_t = 1800)]
    pub min_request_timeout: u64,
    /// Ordered list of authorization plug-ins. Only AlwaysAllow is served until authorization lands.
    #[arg(long, default_value = "AlwaysAllow")]
    pub authorization_mode: String,
    /// Enables anonymous requests to the secure port.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub anonymous_auth: bool,
    /// The maximum number of non-mutating requests in flight at a given time; 0 means no limit.
    #[arg(long, default_value_t = 400)]
    pub max_requests_inflight: usize,
    /// The maximum number of mutating requests in flight at a given time; 0 means no limit.
    #[arg(long, default_value_t = 200)]
    pub max_mutating_requests_inflight: usize,
    /// The address advertised to clients in discovery; defaults to the bind address.
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,
    /// Number of HTTP worker threads (default: one per CPU).
    #[arg(long)]
    pub workers: Option<usize>,
    /// List of the preferred NodeAddressTypes to use for kubelet connections.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP"
    )]
    pub kubelet_preferred_address_types: Vec<String>,
    /// A CIDR notation IP range from which to assign service cluster IPs; its first address
    /// is the `kubernetes` Service's. Two ranges (dual-stack) are comma separated.
    #[arg(long, default_value = "10.0.0.0/24")]
    pub service_cluster_ip_range: String,
    /// Use an endpoint reconciler (lease, none) for the `kubernetes` Service's endpoints.
    #[arg(long, default_value = "lease")]
    pub endpoint_reconciler_type: String,
    /// How long an apiserver's endpoint lease lives without renewal (upstream's fixed 15s);
    /// renewed every two thirds of it. For tests.
    #[arg(long, default_value = "15s", value_parser = parse_duration, hide = true)]
    pub endpoint_reconciler_ttl: Duration,
    /// Log level verbosity (0-10), as upstream's -v.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Options {
    /// Parses flags from an iterator (first item: the program name).
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Self as Parser>::try_parse_from(args)
    }

    /// Checks what flag parsing cannot, before anything binds or connects.
    pub fn validate(&self) -> anyhow::Result<()> {
        for s in &self.etcd_servers {
            if !(s.starts_with("http://") || s.starts_with("https://")) {
                bail!("--etcd-servers: {s:?} must be a URL such as http://127.0.0.1:2379");
            }
            if s.starts_with("https://") {
                bail!("--etcd-servers: {s:?}: TLS to etcd is not supported yet; use http://");
            }
        }
        if !self.etcd_prefix.starts_with('/') {
            bail!("--etcd-prefix: {:?} must start with '/'", self.etcd_prefix);
        }
        if self.tls_cert_file.is_some() != self.tls_private_key_file.is_some() {
            bail!("--tls-cert-file and --tls-private-key-file must be given together");
        }
        if let Err(e) = filters::authorization::Authorization::from_modes(&self.authorization_mode)
        {
            bail!("--authorization-mode: {e}");
        }
        for t in &self.kubelet_preferred_address_types {
            if !proxy::NODE_ADDRESS_TYPES.contains(&t.as_str()) {
                bail!(
                    "--kubelet-preferred-address-types: {t:?} is not one of {}",
                    proxy::NODE_ADDRESS_TYPES.join(", ")
                );
            }
        }
        if self.default_watch_cache_size == 0 {
            bail!("--default-watch-cache-size must be positive");
        }
        self.kubernetes_service_ip()?;
        match self.endpoint_reconciler_type.as_str() {
            "lease" | "none" => {}
            "master-count" => bail!(
                "--endpoint-reconciler-type: \"master-count\" is not supported; use lease or none"
            ),
            other => {
                bail!("--endpoint-reconciler-type: invalid value {other:?}; one of lease, none")
            }
        }
        if self.endpoint_reconciler_ttl < Duration::from_secs(2) {
            bail!("--endpoint-reconciler-ttl must be at least 2s (etcd's shortest lease)");
        }
        if self.advertise_address.is_some_and(|a| a.is_unspecified()) {
            bail!("--advertise-address: must not be an unspecified address (0.0.0.0 or ::)");
        }
        Ok(())
    }

    /// The `kubernetes` Service's cluster IP: the first address of the primary
    /// `--service-cluster-ip-range`, as upstream picks it.
    pub fn kubernetes_service_ip(&self) -> anyhow::Result<IpAddr> {
        let ranges: Vec<&str> = self.service_cluster_ip_range.split(',').collect();
        if ranges.len() > 2 {
            bail!("--service-cluster-ip-range: at most two (one per IP family) may be given");
        }
        let mut first = None;
        for r in &ranges {
            let ip = first_address(r.trim())
                .map_err(|e| anyhow::anyhow!("--service-cluster-ip-range: {r:?}: {e}"))?;
            first.get_or_insert(ip);
        }
        first.context("--service-cluster-ip-range must not be empty")
    }
}

/// The first usable address of a CIDR (`10.0.0.0/24` gives `10.0.0.1`).
fn first_address(cidr: &str) -> Result<IpAddr, String> {
    let (ip, bits) = cidr
        .split_once('/')
        .ok_or_else(|| "must be a CIDR such as 10.0.0.0/24".to_string())?;
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("invalid IP address {ip:?}"))?;
    let bits: u32 = bits
        .parse()
        .map_err(|_| format!("invalid prefix length {bits:?}"))?;
    match ip {
        IpAddr::V4(v4) => {
            if bits > 30 {
                return Err("the range is too small for any service address".into());
            }
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            Ok(IpAddr::V4(std::net::Ipv4Addr::from(
                (u32::from(v4) & mask) + 1,
            )))
        }
        IpAddr::V6(v6) => {
            if bits > 126 {
                return Err("the range is too small for any service address".into());
            }
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            Ok(IpAddr::V6(std::net::Ipv6Addr::from(
                (u128::from(v6) & mask) + 1,
            )))
        }
    }
}

/// Go durations (`5m0s`), as upstream's flags take them.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    api_types::duration::parse(s)
}

/// What every request handler shares.
pub struct AppState {
    pub storage: Storage,
    pub cache: Arc<Cache>,
    pub metrics: Metrics,
    /// Authentication, impersonation, max-in-flight and authorization (`filters`).
    pub chain: filters::Chain,
    /// The bearer token of the apiserver's own loopback client (`system:apiserver`).
    pub loopback_token: String,
    pub server_address: String,
    pub min_request_timeout: Duration,
    /// The node address types tried, in order, to reach a kubelet.
    pub kubelet_preferred_address_types: Vec<String>,
    /// What `/healthz`, `/livez` and `/readyz` report (also before this state exists).
    pub health: Arc<health::Health>,
}

/// A started apiserver.
pub struct RunningServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    boot: Arc<bootstrap::Boot>,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the server is ready (etcd connected, cache loaded, every post-start hook
    /// run once): what `/readyz` reports. An error names what is missing after `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        self.boot
            .health
            .wait_ready(timeout)
            .await
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// Fails readiness, takes this apiserver out of the `kubernetes` endpoints, stops
    /// accepting, lets in-flight requests finish (watches are cut), then stops tasks.
    pub async fn stop(self) {
        self.boot.pre_shutdown().await;
        self.handle.stop(true).await;
        let _ = self.server.await;
        self.boot.abort_tasks();
    }

    /// Waits until the HTTP server ends by itself (it does not, short of an error).
    pub async fn serving(&mut self) -> std::io::Result<()> {
        (&mut self.server).await.unwrap_or(Ok(()))
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }
}

/// Starts the apiserver: binds the port and serves at once; etcd, the watch cache and the
/// post-start hooks follow in the background (`RunningServer::wait_ready`). Fails only on
/// what no retry can fix: a bad flag, the certificate, the port.
pub async fn start(options: Options) -> anyhow::Result<RunningServer> {
    options.validate()?;
    let service_ip = options.kubernetes_service_ip()?;
    let metrics = Metrics::new();
    let (cert, key) = tls::ensure_serving_cert(
        options.tls_cert_file.as_deref(),
        options.tls_private_key_file.as_deref(),
        &options.cert_dir,
        options.bind_address,
    )
    .with_context(|| {
        format!(
            "preparing the serving certificate in {}",
            options.cert_dir.display()
        )
    })?;
    let acceptor = tls::acceptor(&cert, &key).context("loading the serving certificate")?;

    let bind = SocketAddr::new(options.bind_address, options.secure_port);
    let advertise = options
        .advertise_address
        .unwrap_or(if options.bind_address.is_unspecified() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            options.bind_address
        });
    let boot = Arc::new(bootstrap::Boot::new(metrics));
    let data = web::Data::from(boot.clone());
    let workers = options.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(entry))
    })
    .workers(workers)
    // A client that closes its side has gone: end its response (a watch) rather than keep
    // streaming into a half-closed connection until the watch times out.
    .h1_allow_half_closed(false)
    .disable_signals()
    .shutdown_timeout(5)
    .client_request_timeout(Duration::from_secs(60))
    .bind_openssl(bind, acceptor)
    .with_context(|| format!("binding {bind}"))?;
    let addr = *server
        .addrs()
        .first()
        .context("the server bound no address")?;
    let server = server.run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, "serving securely; connecting to etcd");
    let config = bootstrap::Config {
        options,
        bound: addr,
        advertise,
        service_ip,
        loopback_token: uuid::Uuid::new_v4().simple().to_string(),
    };
    boot.spawn(bootstrap::run(boot.clone(), config));
    Ok(RunningServer {
        addr,
        handle,
        server,
        boot,
    })
}

/// Every request: to the handlers once etcd is connected, else to what answers without it.
async fn entry(
    req: HttpRequest,
    payload: web::Payload,
    boot: web::Data<bootstrap::Boot>,
) -> HttpResponse {
    match boot.state() {
        Some(st) => handle(req, payload, st.clone()).await,
        None => bootstrap::not_ready(&boot, &req).await,
    }
}

/// Compacts etcd every `interval` to the revision seen one interval earlier, as upstream does,
/// so clients always have at least one interval of history to resume from.
pub(crate) async fn compact_forever(storage: Storage, interval: Duration) {
    let mut previous: Option<i64> = None;
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if let Some(rev) = previous {
            if let Err(e) = storage.compact(rev).await {
                tracing::warn!(error = %e, revision = rev, "etcd compaction failed");
            } else {
                tracing::debug!(revision = rev, "compacted etcd");
            }
        }
        previous = storage.current_revision().await.ok();
    }
}

/// Every request: the handler chain (`filters`) in upstream's order, then the handlers, with
/// the request counted and timed under upstream's metric names.
async fn handle(req: HttpRequest, payload: web::Payload, st: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let path = req.path().to_string();
    let query = match Query::parse(req.query_string()) {
        Ok(q) => q,
        Err(e) => return e.to_response(),
    };
    let info = filters::request_info::RequestInfo::new(&method, &path, &query);
    let resp = filters::panic::recover(&method, &path, async {
        let admitted = match st.chain.admit(&req, &info) {
            Ok(a) => a,
            Err(resp) => return *resp,
        };
        let resp = serve(&st, &req, payload, &info, &query, &method).await;
        drop(admitted);
        resp
    })
    .await;
    let code = resp.status().as_u16().to_string();
    let verb = info.metrics_verb();
    let labels = [
        info.api_group.as_str(),
        info.api_version.as_str(),
        info.resource.as_str(),
        info.subresource.as_str(),
    ];
    st.metrics
        .requests
        .with_label_values(&[verb, labels[0], labels[1], labels[2], labels[3], &code])
        .inc();
    st.metrics
        .request_duration
        .with_label_values(&[verb, labels[0], labels[1], labels[2], labels[3]])
        .observe(started.elapsed().as_secs_f64());
    tracing::debug!(%method, %path, code, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// The handlers behind the chain: proxying (served before the body is read, since it
/// streams both ways), resources, and everything else.
async fn serve(
    st: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    info: &filters::request_info::RequestInfo,
    query: &Query,
    method: &str,
) -> HttpResponse {
    use filters::request_info::Target;
    let route = match &info.target {
        Target::Proxy(pr) => return proxy::serve(st, req, payload, pr, query).await,
        Target::Route(route) => route,
    };
    let body = if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") {
        match payload.to_bytes_limited(rest::MAX_BODY).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                return ApiError::bad_request(format!("reading the request body: {e}"))
                    .to_response()
            }
            Err(_) => return ApiError::too_large(rest::MAX_BODY).to_response(),
        }
    } else {
        bytes::Bytes::new()
    };
    match route {
        Route::Resource(rr) => match serve_resource(st, req, rr, query, method, &body).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        },
        other => serve_other(st, req, other.clone(), method).await,
    }
}

async fn serve_resource(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    method: &str,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let info = rr.info;
    let name = rr.name.as_deref();
    let sub = rr.subresource.as_deref();
    let verb_allowed = |verb: &str| -> Result<(), ApiError> {
        let verbs = match sub {
            Some(s) => info.subresource(s).map(|s| s.verbs).unwrap_or(&[]),
            None => info.verbs,
        };
        if verbs.contains(&verb) {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed(&verb.to_uppercase(), info))
        }
    };
    match (method, name, sub) {
        ("GET" | "HEAD", None, None) => {
            if rr.legacy_watch || q.flag("watch")? {
                verb_allowed("watch")?;
                watch::watch(st, req, rr, q).await
            } else {
                verb_allowed("list")?;
                rest::list(st, req, rr, q).await
            }
        }
        ("GET" | "HEAD", Some(_), None) if rr.legacy_watch => {
            verb_allowed("watch")?;
            watch::watch(st, req, rr, q).await
        }
        ("GET" | "HEAD", Some(n), _) => {
            verb_allowed("get")?;
            rest::get(st, req, rr, q, n).await
        }
        ("POST", None, None) if info.group.is_empty() && info.plural == "bindings" => {
            verb_allowed("create")?;
            rest::bind(st, req, rr, q, None, body).await
        }
        ("POST", None, None) => {
            verb_allowed("create")?;
            rest::create(st, req, rr, q, body).await
        }
        ("POST", Some(n), Some("binding")) => {
            verb_allowed("create")?;
            rest::bind(st, req, rr, q, Some(n), body).await
        }
        ("PUT", Some(n), _) => {
            verb_allowed("update")?;
            rest::update(st, req, rr, q, n, body).await
        }
        ("PATCH", Some(n), _) => {
            verb_allowed("patch")?;
            rest::patch(st, req, rr, q, n, body).await
        }
        ("DELETE", Some(n), None) => {
            verb_allowed("delete")?;
            rest::delete(st, req, rr, q, n, body).await
        }
        ("DELETE", None, None) => {
            verb_allowed("deletecollection")?;
            rest::delete_collection(st, req, rr, q, body).await
        }
        (m, _, _) => Err(ApiError::method_not_allowed(m, info)),
    }
}

async fn serve_other(st: &AppState, req: &HttpRequest, route: Route, method: &str) -> HttpResponse {
    if method != "GET" && method != "HEAD" {
        return ApiError::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({method} {})",
                req.path()
            ),
        )
        .to_response();
    }
    let json = |v: serde_json::Value| rest::json_response(200, v.to_string());
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if matches!(route, Route::CoreVersions | Route::Groups) {
        if let Some(version) = discovery::aggregated_version(accept) {
            let doc = discovery::aggregated(route == Route::CoreVersions, version);
            return HttpResponse::Ok()
                .content_type(discovery::aggregated_content_type(version))
                .insert_header(("Vary", "Accept"))
                .body(doc.to_string());
        }
    }
    match route {
        Route::Health(kind) => health::serve(&st.health, Some(st), req, kind).await,
        Route::OpenApiV2 => {
            let doc = if openapi::wants_v2_protobuf(accept) {
                openapi::v2_protobuf()
            } else {
                openapi::v2_json()
            };
            openapi_response(req, doc)
        }
        Route::OpenApiV3(None) => openapi_response(req, openapi::v3_root()),
        Route::OpenApiV3(Some(path)) => match openapi::v3_group_version(&path) {
            Some(doc) => openapi_response(req, doc),
            None => ApiError::path_not_found(req.path()).to_response(),
        },
        Route::Metrics => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(st.metrics.render()),
        Route::Version => json(discovery::version()),
        Route::CoreVersions => json(discovery::core_versions(&st.server_address)),
        Route::Groups => json(discovery::groups()),
        Route::Group(g) => match discovery::group(&g) {
            Some(v) => json(v),
            None => ApiError::path_not_found(req.path()).to_response(),
        },
        Route::ResourceList(g, v) => json(discovery::resource_list(&g, &v)),
        Route::NotFound | Route::Resource(_) => ApiError::path_not_found(req.path()).to_response(),
    }
}

/// An OpenAPI document with its ETag; `If-None-Match` with the same tag gets `304`.
fn openapi_response(req: &HttpRequest, doc: &openapi::Doc) -> HttpResponse {
    let etag = format!("\"{}\"", doc.etag.trim_matches('"'));
    let matches = req
        .headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return HttpResponse::NotModified()
            .insert_header(("ETag", etag))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(doc.content_type)
        .insert_header(("ETag", etag))
        .insert_header(("Vary", "Accept"))
        .body(doc.body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("5m0s").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn the_kubernetes_service_takes_the_first_address_of_the_service_range() {
        let ip = |range: &str| {
            Options::try_parse_from([
                "kube-apiserver",
                "--etcd-servers=http://a:1",
                &format!("--service-cluster-ip-range={range}"),
            ])
            .unwrap()
            .kubernetes_service_ip()
            .map(|ip| ip.to_string())
        };
        assert_eq!(ip("10.0.0.0/24").unwrap(), "10.0.0.1");
        assert_eq!(ip("10.96.0.0/12").unwrap(), "10.96.0.1");
        // A host address inside the range names the same range.
        assert_eq!(ip("10.96.3.7/12").unwrap(), "10.96.0.1");
        assert_eq!(
            ip("fd00:10:96::/112,10.96.0.0/12").unwrap(),
            "fd00:10:96::1"
        );
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/31",
            "nope/24",
            "a/1,b/2,c/3",
        ] {
            let e = ip(bad).unwrap_err().to_string();
            assert!(e.starts_with("--service-cluster-ip-range"), "{bad}: {e}");
        }
        let o = Options::try_parse_from(["kube-apiserver", "--etcd-servers=http://a:1"]).unwrap();
        assert_eq!(o.endpoint_reconciler_type, "lease");
        assert_eq!(o.endpoint_reconciler_ttl, Duration::from_secs(15));
        assert_eq!(o.kubernetes_service_ip().unwrap().to_string(), "10.0.0.1");
        for (flag, words) in [
            ("--endpoint-reconciler-type=master-count", "not supported"),
            ("--endpoint-reconciler-type=x", "invalid value"),
            ("--endpoint-reconciler-ttl=1s", "at least 2s"),
            ("--advertise-address=0.0.0.0", "unspecified"),
        ] {
            let o = Options::try_parse_from(["kube-apiserver", "--etcd-servers=http://a:1", flag])
                .unwrap();
            let e = o.validate().unwrap_err().to_string();
            assert!(e.contains(words), "{flag}: {e}");
        }
    }

    #[test]
    fn bad_flags_are_refused_before_anything_starts() {
        let o =
            Options::try_parse_from(["kube-apiserver", "--etcd-servers=127.0.0.1:2379"]).unwrap();
        assert!(o
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--etcd-servers"));
        assert!(Options::try_parse_from(["kube-apiserver"]).is_err());
        assert!(Options::try_parse_from([
            "kube-apiserver",
            "--etcd-servers=http://a:1",
            "--secure-port=x"
        ])
        .is_err());
        let o = Options::try_parse_from(["kube-apiserver", "--etcd-servers=http://a:1,http://b:2"])
            .unwrap();
        assert_eq!(o.etcd_servers.len(), 2);
        assert_eq!(o.secure_port, 6443);
        o.validate().unwrap();
    }
}
