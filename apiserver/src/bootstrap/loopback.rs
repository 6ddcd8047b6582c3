//! The loopback client the post-start hooks write through, as upstream's hooks use their
//! loopback client config: plain HTTPS requests to this very apiserver, so every write goes
//! through the whole handler chain, admission and the registry like any client's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// How long one loopback request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer: the status code, the headers and the body (JSON, or else its text).
#[derive(Debug, Clone)]
pub struct Response {
    pub code: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The `reason` of a `Status` body (`AlreadyExists`, `Conflict`, ...).
    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or("")
    }

    /// `method path: code message`, for logs and errors.
    pub fn describe(&self, method: &str, path: &str) -> String {
        let message = self.body["message"].as_str().unwrap_or("");
        format!("{method} {path}: {} {message}", self.code)
    }
}

/// Requests to this apiserver's own secure port.
#[derive(Debug, Clone)]
pub struct Loopback {
    addr: SocketAddr,
    user_agent: String,
    /// Authenticates as `system:apiserver` in `system:masters` (`filters::authentication`).
    token: String,
}

impl Loopback {
    /// A client for the server bound at `bound`; a wildcard bind is reached on loopback.
    pub fn new(bound: SocketAddr, token: String) -> Self {
        let ip = match bound.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let version = crate::discovery::version();
        // The field manager upstream's hooks appear under is the User-Agent's product.
        let user_agent = format!(
            "kube-apiserver/{} ({}) kubernetes/{}",
            version["gitVersion"].as_str().unwrap_or("v0.0.0"),
            version["platform"].as_str().unwrap_or("linux/amd64"),
            version["gitCommit"].as_str().unwrap_or("unknown"),
        );
        Loopback {
            addr: SocketAddr::new(ip, bound.port()),
            user_agent,
            token,
        }
    }

    pub async fn get(&self, path: &str) -> Result<Response, String> {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Response, String> {
        self.send("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Response, String> {
        self.send("PUT", path, Some(body)).await
    }

    /// One request on a connection of its own (the hooks send a few requests a minute).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, String> {
        let what = format!("{method} https://{}{path}", self.addr);
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body)).await {
            Ok(r) => r.map_err(|e| format!("{what}: {e}")),
            Err(_) => Err(format!("{what}: timed out after {REQUEST_TIMEOUT:?}")),
        }
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, String> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        // The serving certificate is not verified: the peer is this very process on a loopback
        // or bound address, and a certificate given by `--tls-cert-file` may not name it.
        let ssl = crate::proxy::tls_connector()?
            .configure()
            .map_err(|e| e.to_string())?
            .verify_hostname(false)
            .use_server_name_indication(false)
            .into_ssl("localhost")
            .map_err(|e| e.to_string())?;
        let mut tls = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
        Pin::new(&mut tls)
            .connect()
            .await
            .map_err(|e| format!("tls handshake: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("Host", self.addr.to_string())
            .header("User-Agent", &self.user_agent)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json");
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let code = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Response {
            code,
            headers,
            body: serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
        })
    }
}
