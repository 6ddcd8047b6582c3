//! kube-apiserver: Kubernetes' REST and watch API over HTTPS, keeping objects in etcd.
//! `start` validates options, connects to etcd, loads the watch cache, binds the port and
//! returns a handle; `main.rs` only parses flags and waits for a signal.

pub mod admission;
pub mod cache;
pub mod discovery;
pub mod error;
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
        if self.authorization_mode != "AlwaysAllow" {
            bail!(
                "--authorization-mode: {:?} is not supported yet; only AlwaysAllow is",
                self.authorization_mode
            );
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
        Ok(())
    }
}

/// Parses a Go duration (`5m0s`, `300s`, `1h`, `250ms`, `0`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {s:?}"))?;
        let (num, tail) = rest.split_at(digits);
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let secs = match unit {
            "h" => n * 3600.0,
            "m" => n * 60.0,
            "s" => n,
            "ms" => n / 1000.0,
            "us" | "µs" => n / 1e6,
            "ns" => n / 1e9,
            _ => return Err(format!("unknown unit {unit:?} in duration {s:?}")),
        };
        total += Duration::from_secs_f64(secs);
        rest = next;
    }
    Ok(total)
}

/// What every request handler shares.
pub struct AppState {
    pub storage: Storage,
    pub cache: Arc<Cache>,
    pub metrics: Metrics,
    pub server_address: String,
    pub min_request_timeout: Duration,
    /// The node address types tried, in order, to reach a kubelet.
    pub kubelet_preferred_address_types: Vec<String>,
}

/// A started apiserver.
pub struct RunningServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish (watches are cut), then stops tasks.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.server.await;
        for t in self.tasks {
            t.abort();
        }
    }

    /// Waits until the server stops by itself.
    pub async fn wait(self) -> std::io::Result<()> {
        let r = self.server.await.unwrap_or(Ok(()));
        for t in self.tasks {
            t.abort();
        }
        r
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }
}

/// Starts the apiserver: connects to etcd, loads the cache, binds and serves.
pub async fn start(options: Options) -> anyhow::Result<RunningServer> {
    options.validate()?;
    let metrics = Metrics::new();
    let storage = Storage::connect(&options.etcd_servers, &options.etcd_prefix, metrics.clone())
        .await
        .with_context(|| format!("connecting to etcd at {}", options.etcd_servers.join(",")))?;
    storage
        .healthy(Duration::from_secs(10))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "etcd at {} is not reachable: {e}",
                options.etcd_servers.join(",")
            )
        })?;
    let cache = Cache::load(
        storage.clone(),
        options.default_watch_cache_size,
        metrics.clone(),
    )
    .await
    .context("loading objects from etcd")?;
    let mut tasks = vec![tokio::spawn(cache.clone().run())];

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
    let state_cell: Arc<std::sync::OnceLock<web::Data<AppState>>> =
        Arc::new(std::sync::OnceLock::new());
    let cell = state_cell.clone();
    let workers = options.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let server = HttpServer::new(move || {
        let state = cell.get().expect("state is set before serving").clone();
        App::new().app_data(state).default_service(web::to(handle))
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
    let state = web::Data::new(AppState {
        storage: storage.clone(),
        cache: cache.clone(),
        metrics,
        server_address: format!("{}:{}", advertise, addr.port()),
        min_request_timeout: Duration::from_secs(options.min_request_timeout),
        kubelet_preferred_address_types: options.kubelet_preferred_address_types.clone(),
    });
    state_cell
        .set(state.clone())
        .map_err(|_| anyhow::anyhow!("state set twice"))?;
    rest::ensure_default_namespaces(&state)
        .await
        .context("creating the default namespaces")?;
    // Serve only once the cache reflects etcd, so the first reads see the default namespaces.
    cache
        .wait_fresh(Duration::from_secs(10))
        .await
        .context("waiting for the watch cache to catch up with etcd")?;
    if !options.etcd_compaction_interval.is_zero() {
        tasks.push(tokio::spawn(compact_forever(
            storage,
            options.etcd_compaction_interval,
        )));
    }
    // Build the OpenAPI documents off the request path, so kubectl's first call is fast.
    tasks.push(tokio::task::spawn_blocking(|| {
        openapi::v3_root();
        openapi::v2_protobuf();
    }));
    let server = server.run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, "serving securely");
    Ok(RunningServer {
        addr,
        handle,
        server,
        tasks,
    })
}

/// Compacts etcd every `interval` to the revision seen one interval earlier, as upstream does,
/// so clients always have at least one interval of history to resume from.
async fn compact_forever(storage: Storage, interval: Duration) {
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

/// The verb label upstream's metrics use.
fn verb_of(method: &str, rr: &ResourceRequest, q: &Query) -> &'static str {
    match method {
        "GET" | "HEAD" if rr.name.is_none() => {
            if rr.legacy_watch || q.flag("watch").unwrap_or(false) {
                "WATCH"
            } else {
                "LIST"
            }
        }
        "GET" | "HEAD" => {
            if rr.legacy_watch {
                "WATCH"
            } else {
                "GET"
            }
        }
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" if rr.name.is_none() => "DELETECOLLECTION",
        "DELETE" => "DELETE",
        _ => "OTHER",
    }
}

async fn handle(req: HttpRequest, payload: web::Payload, st: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let route = request::parse_path(req.path());
    let method = req.method().as_str().to_string();
    let query = match Query::parse(req.query_string()) {
        Ok(q) => q,
        Err(e) => return e.to_response(),
    };
    // The proxied subresources stream their bodies both ways, so they are served before the
    // body is read.
    if let Some(pr) = proxy::parse(req.path()) {
        let resp = proxy::serve(&st, &req, payload, &pr, &query).await;
        let code = resp.status().as_u16().to_string();
        let labels = ["", "v1", pr.kind.plural(), pr.kind.subresource()];
        st.metrics
            .requests
            .with_label_values(&["CONNECT", labels[0], labels[1], labels[2], labels[3], &code])
            .inc();
        st.metrics
            .request_duration
            .with_label_values(&["CONNECT", labels[0], labels[1], labels[2], labels[3]])
            .observe(started.elapsed().as_secs_f64());
        tracing::debug!(%method, path = req.path(), code, "proxied request");
        return resp;
    }
    let (verb, labels, sub) = match &route {
        Route::Resource(rr) => (
            verb_of(&method, rr, &query),
            [rr.info.group, rr.info.version, rr.info.plural],
            rr.subresource.clone().unwrap_or_default(),
        ),
        _ => ("GET", ["", "", ""], String::new()),
    };
    let body = if matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
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
    let resp = match route {
        Route::Resource(rr) => match serve_resource(&st, &req, &rr, &query, &method, &body).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        },
        other => serve_other(&st, &req, other, &method).await,
    };
    let code = resp.status().as_u16().to_string();
    {
        st.metrics
            .requests
            .with_label_values(&[verb, labels[0], labels[1], labels[2], &sub, &code])
            .inc();
        st.metrics
            .request_duration
            .with_label_values(&[verb, labels[0], labels[1], labels[2], &sub])
            .observe(started.elapsed().as_secs_f64());
    }
    tracing::debug!(%method, path = req.path(), code, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    resp
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
        Route::Health(kind) => health(st, req, kind).await,
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

/// `/healthz`, `/livez`, `/readyz` (and `/<kind>/<check>`), with `?verbose`.
async fn health(st: &AppState, req: &HttpRequest, kind: &str) -> HttpResponse {
    let mut checks: Vec<(&str, Result<(), String>)> = vec![("ping", Ok(()))];
    // Liveness does not depend on etcd (a restart would not fix etcd); readiness does.
    if kind != "livez" {
        checks.push(("etcd", st.storage.healthy(Duration::from_secs(2)).await));
    }
    if kind == "readyz" {
        checks.push(("informer-sync", Ok(())));
    }
    let only = req
        .path()
        .trim_matches('/')
        .split_once('/')
        .map(|(_, c)| c.to_string());
    if let Some(name) = &only {
        return match checks.iter().find(|(n, _)| n == name) {
            Some((_, Ok(()))) => HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .body("ok"),
            Some((_, Err(e))) => HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(format!("internal server error: {e}")),
            None => HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("404 page not found"),
        };
    }
    let failed = checks.iter().any(|(_, r)| r.is_err());
    let verbose = req
        .query_string()
        .split('&')
        .any(|p| p == "verbose" || p.starts_with("verbose="));
    let mut body = String::new();
    if verbose || failed {
        for (n, r) in &checks {
            match r {
                Ok(()) => body.push_str(&format!("[+]{n} ok\n")),
                Err(_) => body.push_str(&format!("[-]{n} failed: reason withheld\n")),
            }
        }
        body.push_str(&format!(
            "{kind} check {}",
            if failed { "failed" } else { "passed" }
        ));
        if !failed {
            body.push('\n');
        }
    } else {
        body.push_str("ok");
    }
    if failed {
        for (n, r) in &checks {
            if let Err(e) = r {
                tracing::warn!(check = n, error = %e, "{kind} check failed");
            }
        }
        HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body(body)
    } else {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(body)
    }
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
