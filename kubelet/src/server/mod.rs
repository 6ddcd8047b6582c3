//! The kubelet's server: HTTPS on `--port` (10250) with `/healthz`, `/pods`, `/metrics`,
//! `/stats/summary`, `/containerLogs`, and exec, attach and port-forward relayed to the
//! container runtime's streaming server; plain HTTP `/healthz` on `--healthz-port` (10248).
//!
//! It is served with hyper rather than actix-web because hyper hands over the connection of
//! any upgrade (`hyper::upgrade::on`): exec, attach and port-forward are relayed byte for byte
//! whether the client speaks websockets or SPDY/3.1 (kubectl 1.27 to 1.30), as upstream's
//! kubelet does with its upgrade-aware proxy; the two websocket protocols runtimes may not
//! know (`v5.channel.k8s.io`, port-forward's SPDY tunnel) are served here and spoken to the
//! runtime as SPDY (`translate.rs`). Callers authenticate with a client certificate
//! signed by `--client-ca-file`; anonymous callers are refused unless `--anonymous-auth`.
//! Every authenticated caller is allowed (upstream's `--authorization-mode=AlwaysAllow`).

mod http_util;
mod logs;
mod lookup;
mod stats;
mod streams;
mod tls;
mod translate;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::cri::Cri;
use http_util::{text, Body};

pub use logs::{LogOptions, LogQueryError};
pub use tls::{load_or_generate_serving_cert, ServingCert};

/// How long a request's head may take to arrive.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The pods the kubelet runs, with their latest status.
pub type PodLister = Arc<dyn Fn() -> Vec<Pod> + Send + Sync>;

/// The server's flags (upstream's names in the comments).
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `--address` (0.0.0.0).
    pub address: IpAddr,
    /// `--port` (10250); 0 picks a free port (tests).
    pub port: u16,
    /// `--healthz-bind-address` (127.0.0.1).
    pub healthz_address: IpAddr,
    /// `--healthz-port` (10248); 0 picks a free port, `None` turns the endpoint off
    /// (upstream: a port of 0 disables it).
    pub healthz_port: Option<u16>,
    /// `--tls-cert-file`.
    pub tls_cert_file: Option<PathBuf>,
    /// `--tls-private-key-file`.
    pub tls_private_key_file: Option<PathBuf>,
    /// `--client-ca-file`: client certificates signed by it authenticate their callers.
    pub client_ca_file: Option<PathBuf>,
    /// `--anonymous-auth` (upstream's flag default is true; kubeadm's config turns it off).
    pub anonymous_auth: bool,
    /// `--root-dir` (/var/lib/kubelet): the self-signed pair goes in `<root-dir>/pki`.
    pub root_dir: PathBuf,
    /// The node's name (the self-signed certificate's name and `/stats/summary`'s node).
    pub node_name: String,
    /// The node's addresses, put in the self-signed certificate's subject alternative names.
    pub node_ips: Vec<IpAddr>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            address: IpAddr::from([0, 0, 0, 0]),
            port: 10250,
            healthz_address: IpAddr::from([127, 0, 0, 1]),
            healthz_port: Some(10248),
            tls_cert_file: None,
            tls_private_key_file: None,
            client_ca_file: None,
            anonymous_auth: true,
            root_dir: PathBuf::from("/var/lib/kubelet"),
            node_name: String::new(),
            node_ips: Vec::new(),
        }
    }
}

/// A running server; `stop` ends it.
pub struct Server {
    addr: SocketAddr,
    healthz_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Server {
    /// The HTTPS address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The plain healthz address actually bound, if served.
    pub fn healthz_addr(&self) -> Option<SocketAddr> {
        self.healthz_addr
    }

    /// Stops accepting, and ends every open connection and stream.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// What every request handler shares.
pub(crate) struct State {
    pub cri: Cri,
    pub pods: PodLister,
    pub node_name: String,
    pub root_dir: PathBuf,
    pub metrics: stats::Metrics,
    /// Turns true when the server stops: relayed streams end then.
    pub stopped: watch::Receiver<bool>,
}

/// The client's address, left in each request's extensions (`X-Forwarded-For`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// Who is calling, as the TLS handshake established it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Caller {
    /// A client certificate verified against `--client-ca-file` (its common name).
    User(String),
    /// A client certificate that did not verify.
    BadCertificate(String),
    /// No client certificate.
    Anonymous,
}

/// Upstream's decision: a verified certificate is a user; no certificate is
/// `system:anonymous` when `--anonymous-auth` allows it; anything else is a 401.
pub(crate) fn authenticate(caller: &Caller, anonymous_auth: bool) -> Result<String, String> {
    match caller {
        Caller::User(name) => Ok(name.clone()),
        Caller::Anonymous if anonymous_auth => Ok("system:anonymous".to_string()),
        Caller::Anonymous => Err("no client certificate".to_string()),
        Caller::BadCertificate(why) => Err(why.clone()),
    }
}

/// Binds both ports and serves until `Server::stop`. Binding failures and unreadable
/// certificates are errors here, before anything is served.
pub async fn serve(opts: ServerOptions, cri: Cri, pods: PodLister) -> anyhow::Result<Server> {
    let cert = load_or_generate_serving_cert(&opts)?;
    let acceptor = tls::acceptor(&cert, opts.client_ca_file.as_deref())?;
    let listener = TcpListener::bind((opts.address, opts.port))
        .await
        .map_err(|e| anyhow::anyhow!("listen tcp {}:{}: {e}", opts.address, opts.port))?;
    let addr = listener.local_addr()?;
    let healthz = match opts.healthz_port {
        Some(port) => Some(
            TcpListener::bind((opts.healthz_address, port))
                .await
                .map_err(|e| anyhow::anyhow!("listen tcp {}:{port}: {e}", opts.healthz_address))?,
        ),
        None => None,
    };
    let healthz_addr = match &healthz {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let state = Arc::new(State {
        cri,
        pods,
        node_name: opts.node_name.clone(),
        root_dir: opts.root_dir.clone(),
        metrics: stats::Metrics::new(&opts.node_name)?,
        stopped: stopped.clone(),
    });
    let mut tasks = JoinSet::new();
    let anonymous_auth = opts.anonymous_auth;
    tasks.spawn(accept_https(
        listener,
        acceptor,
        state,
        anonymous_auth,
        stopped.clone(),
    ));
    if let Some(l) = healthz {
        tasks.spawn(accept_healthz(l, stopped));
    }
    tracing::info!(%addr, ?healthz_addr, "kubelet server listening");
    Ok(Server {
        addr,
        healthz_addr,
        stop,
        tasks,
    })
}

async fn accept_https(
    listener: TcpListener,
    acceptor: openssl::ssl::SslAcceptor,
    state: Arc<State>,
    anonymous_auth: bool,
    mut stopped: watch::Receiver<bool>,
) {
    let acceptor = Arc::new(acceptor);
    // Connections (and the streams they were upgraded to) live in this set, so that stopping
    // the server ends them too.
    let mut conns = JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stopped.changed() => return,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        conns.spawn(async move {
            let stream = match tls::handshake(&acceptor, tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
            };
            let caller = tls::caller(stream.ssl());
            let auth = authenticate(&caller, anonymous_auth);
            let service = service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(PeerAddr(peer));
                let state = state.clone();
                let auth = auth.clone();
                async move {
                    Ok::<_, Infallible>(match auth {
                        Ok(_) => route(state, req).await,
                        Err(why) => {
                            tracing::debug!(%peer, "unauthenticated request refused: {why}");
                            text(401, "Unauthorized")
                        }
                    })
                }
            });
            let conn = http1()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
}

/// HTTP/1.1 with a bound on how long a request head may take (a client that connects and
/// says nothing does not hold its connection forever).
fn http1() -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    b
}

async fn accept_healthz(listener: TcpListener, mut stopped: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        let tcp = tokio::select! {
            _ = stopped.changed() => return,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        conns.spawn(async move {
            let service = service_fn(|req: Request<Incoming>| async move {
                Ok::<_, Infallible>(match req.uri().path() {
                    "/healthz" => text(200, "ok"),
                    _ => text(404, "404 page not found\n"),
                })
            });
            let _ = http1().serve_connection(TokioIo::new(tcp), service).await;
        });
    }
}

/// The kubelet's routes, as upstream's server registers them.
async fn route(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(http_util::percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let get = req.method() == hyper::Method::GET || req.method() == hyper::Method::HEAD;
    match segs.as_slice() {
        ["healthz"] if get => text(200, "ok"),
        ["pods"] | ["pods", ""] if get => stats::pods(&state),
        ["metrics"] if get => state.metrics.render(&state).await,
        ["stats", "summary"] | ["stats", "summary", ""] if get => stats::summary(&state).await,
        ["containerLogs", ns, pod, container] if get => {
            logs::serve(state.clone(), ns, pod, container, req.uri().query()).await
        }
        ["exec", ns, pod, container] | ["exec", ns, pod, _, container] => {
            let uid = (segs.len() == 5).then(|| segs[3]);
            streams::exec(&state, req, ns, pod, uid, container, true).await
        }
        ["attach", ns, pod, container] | ["attach", ns, pod, _, container] => {
            let uid = (segs.len() == 5).then(|| segs[3]);
            streams::exec(&state, req, ns, pod, uid, container, false).await
        }
        ["portForward", ns, pod] | ["portForward", ns, pod, _] => {
            let uid = (segs.len() == 4).then(|| segs[3]);
            streams::port_forward(&state, req, ns, pod, uid).await
        }
        _ => text(404, "404 page not found\n"),
    }
}

/// The pod `namespace/name` among the kubelet's pods.
pub(crate) fn find_pod(state: &State, namespace: &str, name: &str) -> Option<Pod> {
    (state.pods)().into_iter().find(|p| {
        p.metadata.namespace.as_deref().unwrap_or("default") == namespace
            && p.metadata.name.as_deref() == Some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_callers_only_when_allowed() {
        assert_eq!(
            authenticate(&Caller::Anonymous, true),
            Ok("system:anonymous".to_string())
        );
        assert!(authenticate(&Caller::Anonymous, false).is_err());
        assert_eq!(
            authenticate(&Caller::User("system:apiserver".into()), false),
            Ok("system:apiserver".to_string())
        );
        // A certificate that fails verification is refused even with anonymous auth on, as
        // upstream's x509 authenticator returns an error rather than "no user".
        assert!(authenticate(&Caller::BadCertificate("unknown ca".into()), true).is_err());
    }
}
