//! The subresources served by proxying rather than from storage, as upstream serves them:
//! `pods/log`, `pods/exec`, `pods/attach` and `pods/portforward` go to the kubelet of the
//! pod's node (`/containerLogs`, `/exec`, `/attach`, `/portForward`), `nodes/proxy` to the
//! kubelet (or another port of the node), `pods/proxy` to the pod's IP and `services/proxy` to
//! one of the service's endpoints.
//!
//! The kubelet is reached over HTTPS at the node's preferred address (upstream's
//! `--kubelet-preferred-address-types` order) and `status.daemonEndpoints.kubeletEndpoint.Port`,
//! presenting `--kubelet-client-certificate` when given and verifying the kubelet's serving
//! certificate against `--kubelet-certificate-authority` when given (else not, as upstream;
//! `tls::KubeletTls`). Pods and services are reached without verification, as upstream's
//! proxy transport does.
//!
//! Upgrades (exec, attach, port-forward, and websockets or SPDY/3.1 through the proxies) are
//! relayed byte for byte once the backend answers `101 Switching Protocols`: the client's side
//! is the request payload and a streamed response. actix-web gives those for `Upgrade:
//! websocket` requests only, so a connection whose first request asks for another upgrade
//! (SPDY/3.1, used by kubectl 1.27 to 1.30) is presented to it as a websocket upgrade by
//! `upgrade::sniff`, which keeps the protocol asked for in the connection's data
//! (`upgrade::OriginalUpgrade`); that protocol is what the backend is asked for.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::header::{HeaderName as AxHeaderName, HeaderValue as AxHeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use api_types::resources::{self, ResourceInfo};
use api_types::validation::FieldError;
use bytes::Bytes;
use futures::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};

use crate::error::{ApiError, ApiResult};
use crate::request::Query;
use crate::AppState;

/// The kubelet's port when the node does not report one.
pub const DEFAULT_KUBELET_PORT: u16 = 10250;

/// Upstream's default `--kubelet-preferred-address-types`.
pub const DEFAULT_PREFERRED_ADDRESS_TYPES: &[&str] = &[
    "Hostname",
    "InternalDNS",
    "InternalIP",
    "ExternalDNS",
    "ExternalIP",
];

/// Every node address type.
pub const NODE_ADDRESS_TYPES: &[&str] = DEFAULT_PREFERRED_ADDRESS_TYPES;

/// How long connecting to a backend (TCP and TLS) and waiting for its response head may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an error answer from the kubelet becomes the Status message.
const MAX_ERROR_BODY: usize = 50_000;
/// How much of a non-upgrade answer to an upgrade request is relayed.
const MAX_REFUSAL_BODY: usize = 1 << 20;

/// Which proxied subresource a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Log,
    Exec,
    Attach,
    PortForward,
    PodProxy,
    NodeProxy,
    ServiceProxy,
}

impl Kind {
    pub fn plural(self) -> &'static str {
        match self {
            Kind::NodeProxy => "nodes",
            Kind::ServiceProxy => "services",
            _ => "pods",
        }
    }

    pub fn subresource(self) -> &'static str {
        match self {
            Kind::Log => "log",
            Kind::Exec => "exec",
            Kind::Attach => "attach",
            Kind::PortForward => "portforward",
            Kind::PodProxy | Kind::NodeProxy | Kind::ServiceProxy => "proxy",
        }
    }

    fn info(self) -> &'static ResourceInfo {
        resources::find("", "v1", self.plural()).expect("core/v1 pods, nodes and services exist")
    }
}

/// A request for a proxied subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    pub kind: Kind,
    pub namespace: Option<String>,
    /// The object's name; for the proxy kinds `[scheme:]name[:port]`.
    pub id: String,
    /// For the proxy kinds, the path after `/proxy` (`/` when there is none).
    pub path: String,
}

/// Recognizes the paths of the proxied subresources:
/// `/api/v1/namespaces/NS/pods/NAME/{log,exec,attach,portforward}`,
/// `/api/v1/namespaces/NS/pods/ID/proxy[/PATH]`, `/api/v1/nodes/ID/proxy[/PATH]` and
/// `/api/v1/namespaces/NS/services/ID/proxy[/PATH]`.
pub fn parse(path: &str) -> Option<ProxyRequest> {
    let rest = path.strip_prefix("/api/v1/")?;
    let (namespace, rest) = match rest.strip_prefix("namespaces/") {
        Some(r) => {
            let (ns, r) = r.split_once('/')?;
            if ns.is_empty() {
                return None;
            }
            (Some(ns.to_string()), r)
        }
        None => (None, rest),
    };
    let (plural, rest) = rest.split_once('/')?;
    let (id, rest) = rest.split_once('/')?;
    if id.is_empty() {
        return None;
    }
    let (sub, tail) = match rest.split_once('/') {
        Some((s, t)) => (s, Some(t)),
        None => (rest, None),
    };
    let kind = match (namespace.is_some(), plural, sub, tail) {
        (true, "pods", "log", None) => Kind::Log,
        (true, "pods", "exec", None) => Kind::Exec,
        (true, "pods", "attach", None) => Kind::Attach,
        (true, "pods", "portforward", None) => Kind::PortForward,
        (true, "pods", "proxy", _) => Kind::PodProxy,
        (false, "nodes", "proxy", _) => Kind::NodeProxy,
        (true, "services", "proxy", _) => Kind::ServiceProxy,
        _ => return None,
    };
    Some(ProxyRequest {
        kind,
        namespace,
        id: id.to_string(),
        path: format!("/{}", tail.unwrap_or("")),
    })
}

/// Serves a proxied subresource; every failure is a Status.
pub async fn serve(
    st: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    pr: &ProxyRequest,
    q: &Query,
) -> HttpResponse {
    match serve_inner(st, req, payload, pr, q).await {
        Ok(r) => r,
        Err(e) => e.to_response(),
    }
}

async fn serve_inner(
    st: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    pr: &ProxyRequest,
    q: &Query,
) -> ApiResult<HttpResponse> {
    let method = req.method().as_str();
    let allowed = match pr.kind {
        Kind::Log => matches!(method, "GET" | "HEAD"),
        Kind::Exec | Kind::Attach | Kind::PortForward => matches!(method, "GET" | "POST"),
        _ => matches!(
            method,
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS"
        ),
    };
    if !allowed {
        return Err(ApiError::method_not_allowed(method, pr.kind.info()));
    }
    let preferred = &st.kubelet_preferred_address_types;
    let ns = pr.namespace.as_deref();
    match pr.kind {
        Kind::Log => log(st, ns.unwrap_or_default(), &pr.id, q, preferred).await,
        Kind::Exec | Kind::Attach => {
            let opts = StreamOptions::parse(q, pr.kind == Kind::Exec)?;
            let pod = read_object(st, "pods", ns, &pr.id).await?;
            let container = container_for(&pod, opts.container.as_deref())?;
            let node = assigned_node(&pod, &pr.id)?;
            let kubelet = kubelet(st, node, preferred).await?;
            let path = format!(
                "/{}/{}/{}/{}{}",
                pr.kind.subresource(),
                ns.unwrap_or_default(),
                pr.id,
                container,
                opts.query()
            );
            require_upgrade(req)?;
            relay(st, req, payload, &kubelet, &path).await
        }
        Kind::PortForward => {
            let ports = ports(q)?;
            let pod = read_object(st, "pods", ns, &pr.id).await?;
            let node = assigned_node(&pod, &pr.id)?;
            let kubelet = kubelet(st, node, preferred).await?;
            let mut path = format!("/portForward/{}/{}", ns.unwrap_or_default(), pr.id);
            if !ports.is_empty() {
                let joined: Vec<String> = ports.iter().map(u16::to_string).collect();
                path.push_str(&format!("?port={}", query_escape(&joined.join(","))));
            }
            require_upgrade(req)?;
            relay(st, req, payload, &kubelet, &path).await
        }
        Kind::PodProxy | Kind::NodeProxy | Kind::ServiceProxy => {
            let backend = match pr.kind {
                Kind::PodProxy => pod_location(st, ns.unwrap_or_default(), &pr.id).await?,
                Kind::NodeProxy => node_location(st, &pr.id, preferred).await?,
                _ => service_location(st, ns.unwrap_or_default(), &pr.id).await?,
            };
            let mut path = pr.path.clone();
            if !req.query_string().is_empty() {
                path = format!("{path}?{}", req.query_string());
            }
            if upgrade_header(req).is_some() {
                relay(st, req, payload, &backend, &path).await
            } else {
                forward(st, req, payload, &backend, &path).await
            }
        }
    }
}

// ----- what the subresources read ---------------------------------------------------------

async fn read_object(
    st: &AppState,
    plural: &str,
    namespace: Option<&str>,
    name: &str,
) -> ApiResult<Value> {
    let info = resources::find("", "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("no resource {plural}")))?;
    let key = st.storage.object_key(plural, namespace, name);
    match st.storage.get(&key, plural).await? {
        Some(kv) => serde_json::from_slice(&kv.value)
            .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}"))),
        None => Err(ApiError::not_found(info, name)),
    }
}

fn names_of(pod: &Value, key: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{key}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The container a log, exec or attach request is for: the one asked for, which must be one
/// of the pod's (init, regular or ephemeral) containers, or the only container.
pub fn container_for(pod: &Value, requested: Option<&str>) -> ApiResult<String> {
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let containers = names_of(pod, "containers");
    let mut all = names_of(pod, "initContainers");
    all.extend(containers.iter().cloned());
    all.extend(names_of(pod, "ephemeralContainers"));
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if all.iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {pod_name}"
        ))),
        None => match containers.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod_name}"
            ))),
            _ => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                all.join(" ")
            ))),
        },
    }
}

/// The pod's node, or upstream's 400 for a pod not scheduled yet.
fn assigned_node<'a>(pod: &'a Value, name: &str) -> ApiResult<&'a str> {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("pod {name} does not have a host assigned")))
}

/// The node's address of the first preferred type it reports, or upstream's error listing
/// the addresses it has (`[{InternalIP 10.0.0.1} {Hostname n1}]`).
pub fn preferred_address(node: &Value, preferred: &[String]) -> Result<String, String> {
    let addresses: Vec<(&str, &str)> = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a.get("type").and_then(Value::as_str).unwrap_or_default(),
                a.get("address").and_then(Value::as_str).unwrap_or_default(),
            )
        })
        .collect();
    for t in preferred {
        if let Some((_, addr)) = addresses.iter().find(|(ty, _)| ty == t) {
            return Ok(addr.to_string());
        }
    }
    let known: Vec<String> = addresses
        .iter()
        .map(|(t, a)| format!("{{{t} {a}}}"))
        .collect();
    Err(format!(
        "no preferred addresses found; known addresses: [{}]",
        known.join(" ")
    ))
}

/// The kubelet's port: `status.daemonEndpoints.kubeletEndpoint.Port`, else 10250.
pub fn kubelet_port(node: &Value) -> u16 {
    node.pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_i64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_KUBELET_PORT)
}

/// Where a request goes: scheme, host and port (none: the scheme's default), and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub https: bool,
    pub host: String,
    pub port: Option<u16>,
    pub peer: Peer,
}

/// Who a backend is, which decides the TLS client setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// A kubelet: `--kubelet-client-certificate` and `--kubelet-certificate-authority`.
    Kubelet,
    /// A kubelet whose serving certificate is not to be verified (pods/log's
    /// `insecureSkipTLSVerifyBackend`); the client certificate is still presented.
    KubeletSkipVerify,
    /// A pod or a service endpoint: no verification, no client certificate.
    Other,
}

impl Backend {
    fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// `host:port` with IPv6 hosts bracketed; the port left out when it is the default.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path_and_query}", self.authority())
    }
}

async fn kubelet(st: &AppState, node_name: &str, preferred: &[String]) -> ApiResult<Backend> {
    let node = read_object(st, "nodes", None, node_name).await?;
    let host = preferred_address(&node, preferred).map_err(|m| ApiError::new(500, "", m))?;
    Ok(Backend {
        https: true,
        host,
        port: Some(kubelet_port(&node)),
        peer: Peer::Kubelet,
    })
}

/// `[scheme:]name[:port]`, as the proxy subresources name their target.
pub fn split_scheme_name_port(id: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [n] => ("", *n, ""),
        [n, p] => ("", *n, *p),
        [s, n, p] => (*s, *n, *p),
        _ => return None,
    };
    (!name.is_empty() && matches!(scheme, "" | "http" | "https")).then_some((scheme, name, port))
}

/// Go's `IP.IsGlobalUnicast`: not unspecified, loopback, broadcast, multicast or link-local.
pub fn is_global_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_link_local())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unicast_link_local())
        }
    }
}

/// Upstream's `IsProxyableIP`: anything but loopback and link-local addresses.
fn is_proxyable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_loopback() || v4.is_link_local()),
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unicast_link_local()
                || (v6.is_multicast() && matches!(v6.segments()[0] & 0x000f, 1 | 2)))
        }
    }
}

fn parse_port(port: &str, what: &str, id: &str) -> ApiResult<Option<u16>> {
    if port.is_empty() {
        return Ok(None);
    }
    port.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .map(Some)
        .ok_or_else(|| ApiError::bad_request(format!("invalid {what} request {id:?}")))
}

/// `pods/[scheme:]name[:port]/proxy`: the pod's IP and the port asked for, else the first
/// port a container declares.
async fn pod_location(st: &AppState, ns: &str, id: &str) -> ApiResult<Backend> {
    let (scheme, name, port) = split_scheme_name_port(id)
        .ok_or_else(|| ApiError::bad_request(format!("invalid pod request {id:?}")))?;
    let pod = read_object(st, "pods", Some(ns), name).await?;
    let mut port = parse_port(port, "pod", id)?;
    if port.is_none() {
        port = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|c| c.pointer("/ports/0/containerPort").and_then(Value::as_u64))
            .and_then(|p| u16::try_from(p).ok());
    }
    let ip = pod
        .pointer("/status/podIPs/0/ip")
        .or_else(|| pod.pointer("/status/podIP"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<IpAddr>().ok())
        .filter(|ip| is_global_unicast(*ip))
        .ok_or_else(|| ApiError::bad_request("address not allowed"))?;
    Ok(Backend {
        https: scheme == "https",
        host: ip.to_string(),
        port,
        peer: Peer::Other,
    })
}

/// `nodes/[scheme:]name[:port]/proxy`: the kubelet, or another port of the node's address.
async fn node_location(st: &AppState, id: &str, preferred: &[String]) -> ApiResult<Backend> {
    let (scheme, name, port) = split_scheme_name_port(id)
        .ok_or_else(|| ApiError::bad_request(format!("invalid node request {id:?}")))?;
    let node = read_object(st, "nodes", None, name).await?;
    let host = preferred_address(&node, preferred).map_err(|m| ApiError::new(500, "", m))?;
    let port = parse_port(port, "node", id)?;
    if port.is_none() || port == Some(DEFAULT_KUBELET_PORT) {
        return Ok(Backend {
            https: true,
            host,
            port: Some(kubelet_port(&node)),
            peer: Peer::Kubelet,
        });
    }
    // Another port of the node: only addresses that are not the apiserver's own loopback.
    let proxyable = match host.parse::<IpAddr>() {
        Ok(ip) => is_proxyable(ip),
        Err(_) => match tokio::net::lookup_host((host.as_str(), 0)).await {
            Ok(addrs) => {
                let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                !ips.is_empty() && ips.into_iter().all(is_proxyable)
            }
            Err(_) => false,
        },
    };
    if !proxyable {
        return Err(ApiError::bad_request("address not allowed"));
    }
    Ok(Backend {
        https: scheme == "https",
        host,
        port,
        peer: Peer::Other,
    })
}

/// `services/[scheme:]name[:port]/proxy`: a ready endpoint of the service port named (or
/// numbered) `port`, chosen at random.
async fn service_location(st: &AppState, ns: &str, id: &str) -> ApiResult<Backend> {
    let (scheme, name, port) = split_scheme_name_port(id)
        .ok_or_else(|| ApiError::bad_request(format!("invalid service request {id:?}")))?;
    let svc = read_object(st, "services", Some(ns), name).await?;
    let svc_ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let port_name = svc_ports.iter().find_map(|p| {
        let pname = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let number = p.get("port").and_then(Value::as_i64).map(|n| n.to_string());
        (pname == port || number.as_deref() == Some(port)).then(|| pname.to_string())
    });
    let Some(port_name) = port_name else {
        return Err(ApiError::unavailable(format!(
            "no service port {port:?} found for service {name:?}"
        )));
    };
    let eps = read_object(st, "endpoints", Some(ns), name).await?;
    let mut candidates = Vec::new();
    for subset in eps
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let target_port = subset
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("name").and_then(Value::as_str).unwrap_or_default() == port_name)
            .and_then(|p| p.get("port").and_then(Value::as_u64))
            .and_then(|p| u16::try_from(p).ok());
        let Some(target_port) = target_port else {
            continue;
        };
        for addr in subset
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(ip) = addr
                .get("ip")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<IpAddr>().ok())
                .filter(|ip| is_global_unicast(*ip))
            {
                candidates.push((ip, target_port));
            }
        }
    }
    if candidates.is_empty() {
        return Err(ApiError::unavailable(format!(
            "no endpoints available for service {name:?}"
        )));
    }
    let (ip, port) = candidates[rand::random_range(0..candidates.len())];
    Ok(Backend {
        https: scheme == "https",
        host: ip.to_string(),
        port: Some(port),
        peer: Peer::Other,
    })
}

// ----- options -----------------------------------------------------------------------------

/// Go's `strconv.ParseBool`, as query parameters are decoded upstream.
fn parse_bool(q: &Query, key: &str) -> ApiResult<bool> {
    match q.get(key) {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "invalid value for {key}: strconv.ParseBool: parsing {v:?}: invalid syntax"
        ))),
    }
}

/// `PodLogOptions`, validated as upstream validates them.
#[derive(Debug, Default, PartialEq)]
pub struct LogOptions {
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub since_seconds: Option<i64>,
    pub since_time: Option<jiff::Timestamp>,
    pub tail_lines: Option<i64>,
    pub limit_bytes: Option<i64>,
    pub insecure_skip_tls_verify_backend: bool,
}

impl LogOptions {
    pub fn parse(q: &Query, pod: &str) -> ApiResult<Self> {
        let since_time = match q.get("sinceTime").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(s.parse::<jiff::Timestamp>().map_err(|e| {
                ApiError::bad_request(format!("invalid value for sinceTime: {s:?}: {e}"))
            })?),
        };
        let o = LogOptions {
            container: q
                .get("container")
                .filter(|c| !c.is_empty())
                .map(String::from),
            follow: parse_bool(q, "follow")?,
            previous: parse_bool(q, "previous")?,
            timestamps: parse_bool(q, "timestamps")?,
            since_seconds: q.int("sinceSeconds")?,
            since_time,
            tail_lines: q.int("tailLines")?,
            limit_bytes: q.int("limitBytes")?,
            insecure_skip_tls_verify_backend: parse_bool(q, "insecureSkipTLSVerifyBackend")?,
        };
        let mut errs = Vec::new();
        if let Some(n) = o.tail_lines.filter(|n| *n < 0) {
            errs.push(FieldError::invalid(
                "tailLines",
                n,
                "must be greater than or equal to 0",
            ));
        }
        if let Some(n) = o.limit_bytes.filter(|n| *n < 1) {
            errs.push(FieldError::invalid(
                "limitBytes",
                n,
                "must be greater than 0",
            ));
        }
        match (o.since_seconds, o.since_time) {
            (Some(_), Some(_)) => errs.push(FieldError::forbidden(
                "",
                "at most one of `sinceTime` or `sinceSeconds` may be specified",
            )),
            (Some(n), None) if n < 1 => errs.push(FieldError::invalid(
                "sinceSeconds",
                n,
                "must be greater than 0",
            )),
            _ => {}
        }
        if !errs.is_empty() {
            let mut info = *Kind::Log.info();
            info.kind = "PodLogOptions";
            return Err(ApiError::invalid(&info, pod, &errs));
        }
        Ok(o)
    }

    /// The kubelet's query, keys sorted as upstream encodes them.
    pub fn query(&self) -> String {
        let mut q = Vec::new();
        if self.follow {
            q.push("follow=true".to_string());
        }
        if let Some(n) = self.limit_bytes {
            q.push(format!("limitBytes={n}"));
        }
        if self.previous {
            q.push("previous=true".to_string());
        }
        if let Some(n) = self.since_seconds {
            q.push(format!("sinceSeconds={n}"));
        }
        if let Some(t) = self.since_time {
            let s = t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            q.push(format!("sinceTime={}", query_escape(&s)));
        }
        if let Some(n) = self.tail_lines {
            q.push(format!("tailLines={n}"));
        }
        if self.timestamps {
            q.push("timestamps=true".to_string());
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }
}

/// `PodExecOptions` and `PodAttachOptions`.
#[derive(Debug, Default, PartialEq)]
pub struct StreamOptions {
    pub container: Option<String>,
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamOptions {
    pub fn parse(q: &Query, exec: bool) -> ApiResult<Self> {
        Ok(StreamOptions {
            container: q
                .get("container")
                .filter(|c| !c.is_empty())
                .map(String::from),
            command: if exec {
                q.pairs
                    .iter()
                    .filter(|(k, _)| k == "command")
                    .map(|(_, v)| v.clone())
                    .collect()
            } else {
                Vec::new()
            },
            stdin: parse_bool(q, "stdin")?,
            stdout: parse_bool(q, "stdout")?,
            stderr: parse_bool(q, "stderr")?,
            tty: parse_bool(q, "tty")?,
        })
    }

    /// The kubelet's query, keys sorted as upstream encodes them.
    pub fn query(&self) -> String {
        let mut q: Vec<String> = self
            .command
            .iter()
            .map(|c| format!("command={}", query_escape(c)))
            .collect();
        for (set, key) in [
            (self.stderr, "stderr"),
            (self.stdin, "stdin"),
            (self.stdout, "stdout"),
            (self.tty, "tty"),
        ] {
            if set {
                q.push(format!("{key}=1"));
            }
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }
}

/// The `ports` of a port-forward request (repeated or comma separated).
pub fn ports(q: &Query) -> ApiResult<Vec<u16>> {
    let mut out = Vec::new();
    for (_, v) in q.pairs.iter().filter(|(k, _)| k == "ports") {
        for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => out.push(n),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid port {p:?}: must be a number between 1 and 65535"
                    )))
                }
            }
        }
    }
    Ok(out)
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ----- the log -----------------------------------------------------------------------------

async fn log(
    st: &AppState,
    ns: &str,
    name: &str,
    q: &Query,
    preferred: &[String],
) -> ApiResult<HttpResponse> {
    let opts = LogOptions::parse(q, name)?;
    let pod = read_object(st, "pods", Some(ns), name).await?;
    let container = container_for(&pod, opts.container.as_deref())?;
    // A pod not scheduled yet has no log: upstream answers with an empty one.
    let Ok(node) = assigned_node(&pod, name) else {
        return Ok(HttpResponse::Ok().content_type("text/plain").finish());
    };
    let mut kubelet = kubelet(st, node, preferred).await?;
    if opts.insecure_skip_tls_verify_backend {
        kubelet.peer = Peer::KubeletSkipVerify;
    }
    let path = format!("/containerLogs/{ns}/{name}/{container}{}", opts.query());
    let request = http::Request::get(path.as_str())
        .header(http::header::HOST, kubelet.authority())
        .body(Full::new(Bytes::new()))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let resp = send(st, &kubelet, request)
        .await
        .map_err(|e| ApiError::new(500, "", format!("Get {:?}: {e}", kubelet.url(&path))))?;
    let status = resp.status().as_u16();
    if !(200..=206).contains(&status) {
        let body = read_limited(resp.into_body(), MAX_ERROR_BODY).await;
        return Err(backend_error(status, &body, Kind::Log, name));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .streaming(resp.into_body().into_data_stream()))
}

/// What the apiserver answers when the kubelet refuses a log request: its body as the message.
pub fn backend_error(status: u16, body: &str, kind: Kind, name: &str) -> ApiError {
    match status {
        400 => ApiError::bad_request(body),
        500 => ApiError::internal(format!("Internal error occurred: {body}")),
        _ => {
            let (reason, message) = match status {
                401 => (
                    "Unauthorized",
                    "the server has asked for the client to provide credentials",
                ),
                403 => (
                    "Forbidden",
                    "the server does not allow access to the requested resource",
                ),
                404 => (
                    "NotFound",
                    "the server could not find the requested resource",
                ),
                503 => (
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                ),
                _ => ("", "the server responded with an unexpected status"),
            };
            ApiError::new(
                status,
                reason,
                format!(
                    "{message} ( {}/{} {name})",
                    kind.plural(),
                    kind.subresource()
                ),
            )
        }
    }
}

async fn read_limited(body: Incoming, limit: usize) -> String {
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        out.extend_from_slice(&chunk);
        if out.len() >= limit {
            out.truncate(limit);
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ----- the backend connection ----------------------------------------------------------------

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// The HTTP/1.1 TLS client setup of the apiserver's outgoing connections (kubelets, pods,
/// and its own loopback client in `bootstrap`), which do not verify the peer's certificate.
pub(crate) fn tls_connector() -> Result<&'static SslConnector, String> {
    static CONNECTOR: OnceLock<Result<SslConnector, String>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            let mut b =
                SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
            // Upstream's default without --kubelet-certificate-authority: the kubelet's serving
            // certificate is not verified.
            b.set_verify(SslVerifyMode::NONE);
            b.set_alpn_protos(b"\x08http/1.1")
                .map_err(|e| e.to_string())?;
            Ok(b.build())
        })
        .as_ref()
        .map_err(Clone::clone)
}

async fn dial(st: &AppState, b: &Backend) -> Result<Box<dyn Io>, String> {
    let addr = b.authority();
    let connect = tokio::net::TcpStream::connect((b.host.as_str(), b.port()));
    let tcp = match tokio::time::timeout(DIAL_TIMEOUT, connect).await {
        Err(_) => return Err(format!("dial tcp {addr}: i/o timeout")),
        Ok(Err(e)) => return Err(format!("dial tcp {addr}: {e}")),
        Ok(Ok(t)) => t,
    };
    if !b.https {
        return Ok(Box::new(tcp));
    }
    let (connector, verify_name) = match b.peer {
        Peer::Kubelet => st.kubelet_tls.connector(false),
        Peer::KubeletSkipVerify => st.kubelet_tls.connector(true),
        Peer::Other => (tls_connector()?, false),
    };
    let mut config = connector.configure().map_err(|e| e.to_string())?;
    config.set_verify_hostname(verify_name);
    config.set_use_server_name_indication(b.host.parse::<IpAddr>().is_err());
    let ssl = config.into_ssl(&b.host).map_err(|e| e.to_string())?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
    match tokio::time::timeout(DIAL_TIMEOUT, Pin::new(&mut stream).connect()).await {
        Err(_) => Err(format!("tls handshake with {addr}: i/o timeout")),
        Ok(Err(e)) => Err(format!("tls handshake with {addr}: {e}")),
        Ok(Ok(())) => Ok(Box::new(stream)),
    }
}

/// Sends one request on a new connection (kept open for an upgrade).
async fn send(
    st: &AppState,
    b: &Backend,
    req: http::Request<Full<Bytes>>,
) -> Result<http::Response<Incoming>, String> {
    let io = dial(st, b).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "backend connection ended");
        }
    });
    match tokio::time::timeout(DIAL_TIMEOUT, sender.send_request(req)).await {
        Err(_) => Err("timeout awaiting response headers".to_string()),
        Ok(r) => r.map_err(|e| e.to_string()),
    }
}

/// Headers that describe one connection, not the request (RFC 9110 §7.6.1).
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// The client's request for the backend: its method and headers, without hop-by-hop headers,
/// its `Host`, and its credentials (which were for the apiserver).
fn backend_request(
    req: &HttpRequest,
    backend: &Backend,
    path: &str,
    body: Bytes,
) -> ApiResult<http::Request<Full<Bytes>>> {
    let method = http::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut b = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, backend.authority());
    for (name, value) in req.headers() {
        let n = name.as_str();
        if is_hop_by_hop(n) || matches!(n, "host" | "authorization" | "content-length" | "expect") {
            continue;
        }
        b = b.header(n, value.as_bytes());
    }
    b.body(Full::new(body))
        .map_err(|e| ApiError::bad_request(format!("building the proxied request: {e}")))
}

fn copy_response_headers(
    from: &http::HeaderMap,
    to: &mut actix_web::HttpResponseBuilder,
    skip_length: bool,
) {
    for (name, value) in from {
        let n = name.as_str();
        if is_hop_by_hop(n) || (skip_length && n == "content-length") {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            AxHeaderName::from_bytes(n.as_bytes()),
            AxHeaderValue::from_bytes(value.as_bytes()),
        ) {
            to.append_header((n, v));
        }
    }
}

fn upgrade_header(req: &HttpRequest) -> Option<&str> {
    let connection_upgrade = req
        .headers()
        .get_all(actix_web::http::header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    if !connection_upgrade {
        return None;
    }
    req.headers()
        .get(actix_web::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// The protocol the client asked to upgrade to: what it sent, also when `upgrade::sniff`
/// presented it to actix-web as a websocket upgrade.
fn requested_upgrade(req: &HttpRequest) -> String {
    match req.conn_data::<crate::upgrade::OriginalUpgrade>() {
        Some(original) => original.0.clone(),
        None => upgrade_header(req).unwrap_or_default().to_string(),
    }
}

fn require_upgrade(req: &HttpRequest) -> ApiResult<()> {
    match upgrade_header(req) {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_request("Upgrade request required")),
    }
}

// ----- relaying ------------------------------------------------------------------------------

/// A plain request through a proxy subresource: the body read, the answer streamed back.
async fn forward(
    st: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    backend: &Backend,
    path: &str,
) -> ApiResult<HttpResponse> {
    let body = match payload.to_bytes_limited(crate::rest::MAX_BODY).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return Err(ApiError::bad_request(format!(
                "reading the request body: {e}"
            )))
        }
        Err(_) => return Err(ApiError::too_large(crate::rest::MAX_BODY)),
    };
    let request = backend_request(req, backend, path, body)?;
    let resp = send(st, backend, request)
        .await
        .map_err(|e| ApiError::unavailable(format!("error trying to reach service: {e}")))?;
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HttpResponse::build(status);
    copy_response_headers(resp.headers(), &mut out, true);
    let length = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let stream = resp.into_body().into_data_stream();
    Ok(match length {
        Some(n) if req.method() != actix_web::http::Method::HEAD => {
            out.body(actix_web::body::SizedStream::new(n, stream))
        }
        Some(_) => out.finish(),
        None => out.streaming(stream),
    })
}

/// An upgrade request (exec, attach, port-forward, a websocket through a proxy): sent to the
/// backend, and once it switches protocols, the bytes relayed both ways until either side
/// closes.
async fn relay(
    st: &AppState,
    req: &HttpRequest,
    mut payload: web::Payload,
    backend: &Backend,
    path: &str,
) -> ApiResult<HttpResponse> {
    let upgrade = requested_upgrade(req);
    let mut request = backend_request(req, backend, path, Bytes::new())?;
    let headers = request.headers_mut();
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    headers.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_str(&upgrade).map_err(|e| ApiError::bad_request(e.to_string()))?,
    );
    let resp = send(st, backend, request)
        .await
        .map_err(|e| ApiError::new(500, "", format!("error dialing backend: {e}")))?;
    if resp.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        // The backend refused: its answer goes back as it is.
        let status =
            StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut out = HttpResponse::build(status);
        copy_response_headers(resp.headers(), &mut out, true);
        let body = read_limited(resp.into_body(), MAX_REFUSAL_BODY).await;
        return Ok(out.body(body));
    }
    let backend_upgrade = resp
        .headers()
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("websocket")
        .to_string();
    let mut out = HttpResponse::build(StatusCode::SWITCHING_PROTOCOLS);
    copy_response_headers(resp.headers(), &mut out, true);
    out.upgrade(backend_upgrade);
    let upgraded = hyper::upgrade::on(resp)
        .await
        .map_err(|e| ApiError::new(500, "", format!("error proxying the upgrade: {e}")))?;
    let (mut from_backend, mut to_backend) = tokio::io::split(TokioIo::new(upgraded));
    // Client to backend: the request's payload is every byte after its head.
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            match chunk {
                Ok(bytes) => {
                    if to_backend.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = to_backend.shutdown().await;
    });
    // Backend to client: the response body, until the backend closes.
    let body = futures::stream::poll_fn({
        let mut buf = vec![0u8; 32 * 1024];
        move |cx| {
            let mut read_buf = tokio::io::ReadBuf::new(&mut buf);
            match Pin::new(&mut from_backend).poll_read(cx, &mut read_buf) {
                std::task::Poll::Pending => std::task::Poll::Pending,
                std::task::Poll::Ready(Err(_)) => std::task::Poll::Ready(None),
                std::task::Poll::Ready(Ok(())) if read_buf.filled().is_empty() => {
                    std::task::Poll::Ready(None)
                }
                std::task::Poll::Ready(Ok(())) => {
                    std::task::Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::copy_from_slice(
                        read_buf.filled(),
                    ))))
                }
            }
        }
    });
    Ok(out.streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_of_the_proxied_subresources() {
        let p = parse("/api/v1/namespaces/ns/pods/web/exec").unwrap();
        assert_eq!(
            (p.kind, p.namespace.as_deref(), p.id.as_str()),
            (Kind::Exec, Some("ns"), "web")
        );
        assert_eq!(
            parse("/api/v1/namespaces/ns/pods/web/log").unwrap().kind,
            Kind::Log
        );
        assert_eq!(
            parse("/api/v1/namespaces/ns/pods/web/portforward")
                .unwrap()
                .kind,
            Kind::PortForward
        );
        let p = parse("/api/v1/namespaces/ns/pods/https:web:8443/proxy/a/b/").unwrap();
        assert_eq!(
            (p.kind, p.id.as_str(), p.path.as_str()),
            (Kind::PodProxy, "https:web:8443", "/a/b/")
        );
        let p = parse("/api/v1/nodes/n1/proxy").unwrap();
        assert_eq!(
            (p.kind, p.namespace, p.path.as_str()),
            (Kind::NodeProxy, None, "/")
        );
        let p = parse("/api/v1/namespaces/ns/services/svc:http/proxy/x").unwrap();
        assert_eq!((p.kind, p.path.as_str()), (Kind::ServiceProxy, "/x"));
        // Everything else is routed as before.
        for other in [
            "/api/v1/namespaces/ns/pods/web",
            "/api/v1/namespaces/ns/pods/web/status",
            "/api/v1/namespaces/ns/pods/web/exec/extra",
            "/api/v1/nodes/n1/log",
            "/api/v1/pods/web/exec",
            "/api/v1/namespaces//pods/web/exec",
            "/api/v1/namespaces/ns/pods//exec",
            "/apis/apps/v1/namespaces/ns/deployments/d/proxy",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }

    fn pod(containers: &[&str], init: &[&str]) -> Value {
        let c = |names: &[&str]| -> Value {
            names
                .iter()
                .map(|n| json!({"name": n, "image": "i"}))
                .collect()
        };
        json!({"metadata": {"name": "web"}, "spec": {"containers": c(containers), "initContainers": c(init)}})
    }

    #[test]
    fn the_only_container_is_the_default() {
        assert_eq!(container_for(&pod(&["app"], &[]), None).unwrap(), "app");
        assert_eq!(container_for(&pod(&["app"], &[]), Some("")).unwrap(), "app");
        assert_eq!(
            container_for(&pod(&["a", "b"], &["i"]), Some("b")).unwrap(),
            "b"
        );
        // Init containers may be named too.
        assert_eq!(
            container_for(&pod(&["a", "b"], &["i"]), Some("i")).unwrap(),
            "i"
        );
    }

    #[test]
    fn container_errors_read_like_upstream() {
        let e = container_for(&pod(&["a", "b"], &["i"]), None).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(e.reason, "BadRequest");
        assert_eq!(
            e.message,
            "a container name must be specified for pod web, choose one of: [i a b]"
        );
        let e = container_for(&pod(&["a"], &[]), Some("c")).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container c is not valid for pod web")
        );
        let e = assigned_node(&pod(&["a"], &[]), "web").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "pod web does not have a host assigned")
        );
    }

    fn node(addresses: &[(&str, &str)], port: Option<i64>) -> Value {
        let a: Vec<Value> = addresses
            .iter()
            .map(|(t, a)| json!({"type": t, "address": a}))
            .collect();
        let mut n = json!({"metadata": {"name": "n1"}, "status": {"addresses": a}});
        if let Some(p) = port {
            n["status"]["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": p}});
        }
        n
    }

    #[test]
    fn the_kubelet_address_follows_the_preferred_types() {
        let default = types(DEFAULT_PREFERRED_ADDRESS_TYPES);
        let n = node(
            &[
                ("ExternalIP", "1.2.3.4"),
                ("InternalIP", "10.0.0.1"),
                ("Hostname", "n1"),
            ],
            None,
        );
        assert_eq!(preferred_address(&n, &default).unwrap(), "n1");
        let n = node(
            &[("ExternalIP", "1.2.3.4"), ("InternalIP", "10.0.0.1")],
            None,
        );
        assert_eq!(preferred_address(&n, &default).unwrap(), "10.0.0.1");
        let n = node(&[("ExternalIP", "1.2.3.4")], None);
        assert_eq!(preferred_address(&n, &default).unwrap(), "1.2.3.4");
        let kubeadm = types(&["InternalIP", "ExternalIP", "Hostname"]);
        let n = node(&[("Hostname", "n1"), ("InternalIP", "10.0.0.1")], None);
        assert_eq!(preferred_address(&n, &kubeadm).unwrap(), "10.0.0.1");
        let n = node(&[("InternalDNS", "n1.internal")], None);
        assert_eq!(
            preferred_address(&n, &types(&["InternalIP"])).unwrap_err(),
            "no preferred addresses found; known addresses: [{InternalDNS n1.internal}]"
        );
        assert_eq!(
            preferred_address(&node(&[], None), &default).unwrap_err(),
            "no preferred addresses found; known addresses: []"
        );
    }

    #[test]
    fn the_kubelet_port_is_the_daemon_endpoint_else_10250() {
        assert_eq!(kubelet_port(&node(&[], Some(12345))), 12345);
        assert_eq!(kubelet_port(&node(&[], None)), 10250);
        assert_eq!(kubelet_port(&node(&[], Some(0))), 10250);
        assert_eq!(kubelet_port(&node(&[], Some(70000))), 10250);
        let b = Backend {
            https: true,
            host: "fd00::1".into(),
            port: Some(10250),
            peer: Peer::Kubelet,
        };
        assert_eq!(b.url("/exec/ns/p/c"), "https://[fd00::1]:10250/exec/ns/p/c");
    }

    #[test]
    fn log_options_are_validated_and_passed_on_in_upstreams_order() {
        let q = Query::parse("container=c&follow=true&tailLines=10&timestamps=1&limitBytes=5&sinceSeconds=3&previous=true").unwrap();
        let o = LogOptions::parse(&q, "web").unwrap();
        assert_eq!(o.container.as_deref(), Some("c"));
        assert_eq!(
            o.query(),
            "?follow=true&limitBytes=5&previous=true&sinceSeconds=3&tailLines=10&timestamps=true"
        );
        let q = Query::parse("sinceTime=2024-01-02T03:04:05Z").unwrap();
        assert_eq!(
            LogOptions::parse(&q, "web").unwrap().query(),
            "?sinceTime=2024-01-02T03%3A04%3A05Z"
        );
        let e = LogOptions::parse(&Query::parse("tailLines=-1").unwrap(), "web").unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "PodLogOptions \"web\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"
        );
        let e = LogOptions::parse(
            &Query::parse("sinceSeconds=5&sinceTime=2024-01-02T03:04:05Z").unwrap(),
            "web",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("at most one of `sinceTime` or `sinceSeconds` may be specified"),
            "{}",
            e.message
        );
        for bad in [
            "limitBytes=0",
            "sinceSeconds=0",
            "follow=yes",
            "tailLines=x",
            "sinceTime=yesterday",
        ] {
            assert!(
                LogOptions::parse(&Query::parse(bad).unwrap(), "web").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn exec_options_are_passed_on_in_upstreams_order() {
        let q = Query::parse(
            "command=sh&command=-c&command=echo%20a%26b&stdout=true&stderr=1&tty=0&container=c",
        )
        .unwrap();
        let o = StreamOptions::parse(&q, true).unwrap();
        assert_eq!(
            o.query(),
            "?command=sh&command=-c&command=echo+a%26b&stderr=1&stdout=1"
        );
        let o = StreamOptions::parse(&Query::parse("stdin=1&command=x").unwrap(), false).unwrap();
        assert_eq!(o.query(), "?stdin=1");
        assert_eq!(
            ports(&Query::parse("&ports=80%2C1234&ports=9").unwrap()).unwrap(),
            vec![80, 1234, 9]
        );
        assert!(ports(&Query::parse("ports=0").unwrap()).is_err());
        assert!(ports(&Query::parse("ports=http").unwrap()).is_err());
    }

    #[test]
    fn proxy_targets() {
        assert_eq!(split_scheme_name_port("web"), Some(("", "web", "")));
        assert_eq!(split_scheme_name_port("web:80"), Some(("", "web", "80")));
        assert_eq!(
            split_scheme_name_port("https:web:443"),
            Some(("https", "web", "443"))
        );
        assert_eq!(split_scheme_name_port("ftp:web:21"), None);
        assert_eq!(split_scheme_name_port(":80"), None);
        assert_eq!(split_scheme_name_port("a:b:c:d"), None);
        assert!(is_global_unicast("10.1.2.3".parse().unwrap()));
        assert!(!is_global_unicast("127.0.0.1".parse().unwrap()));
        assert!(!is_global_unicast("169.254.169.254".parse().unwrap()));
        assert!(!is_global_unicast("::1".parse().unwrap()));
        assert!(!is_proxyable("127.0.0.1".parse().unwrap()));
        assert!(is_proxyable("192.168.1.1".parse().unwrap()));
    }

    #[test]
    fn kubelet_errors_become_statuses() {
        let e = backend_error(
            400,
            "container \"c\" in pod \"web\" is waiting to start: ContainerCreating",
            Kind::Log,
            "web",
        );
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert!(e.message.starts_with("container \"c\""));
        let e = backend_error(404, "404 page not found", Kind::Log, "web");
        assert_eq!(
            e.message,
            "the server could not find the requested resource ( pods/log web)"
        );
    }
}
