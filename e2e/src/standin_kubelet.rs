//! A STAND-IN for the kubelet's HTTPS API, for testing the apiserver's node proxying (pods/log,
//! pods/exec, nodes/proxy) until our kubelet exists. It is not a kubelet: it runs nothing, it
//! records each request it receives and answers like the kubelet's API would for a container
//! that prints `hello`:
//!
//! - `/containerLogs/...`: `200` with the configured text;
//! - `/exec/...` and `/attach/...` upgraded to a websocket (`v5.channel.k8s.io` or
//!   `v4.channel.k8s.io`): `hello\n` on the stdout channel (1), a `Success` Status on the error
//!   channel (3), then a close frame;
//! - anything else: `200 ok`.
//!
//! It listens on 127.0.0.1 only, with a self-signed certificate, and stops when dropped.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use base64::Engine as _;
use openssl::ssl::{Ssl, SslAcceptor};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The stand-in, serving on `addr` until dropped.
pub struct StandinKubelet {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl StandinKubelet {
    /// Starts serving on a free loopback port; `log` is what `/containerLogs` answers.
    pub async fn start(log: &str) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("standin-kubelet-")
            .tempdir()?;
        let (cert, key) =
            apiserver::tls::ensure_serving_cert(None, None, dir.path(), "127.0.0.1".parse()?)
                .context("making the stand-in's certificate")?;
        let acceptor = apiserver::tls::acceptor(&cert, &key)
            .context("loading the stand-in's certificate")?
            .build();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let log = log.to_string();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let recorded = recorded.clone();
                let log = log.clone();
                conns.spawn(async move {
                    let _ = serve(acceptor, tcp, recorded, &log).await;
                });
            }
        });
        Ok(StandinKubelet {
            addr,
            requests,
            task,
            _dir: dir,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("not poisoned").clone()
    }

    /// Stops serving (also done on drop).
    pub fn stop(self) {}
}

impl Drop for StandinKubelet {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn serve(
    acceptor: SslAcceptor,
    tcp: tokio::net::TcpStream,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    log: &str,
) -> Result<()> {
    let ssl = Ssl::new(acceptor.context())?;
    let mut s = tokio_openssl::SslStream::new(ssl, tcp)?;
    Pin::new(&mut s).accept().await?;
    let head = read_head(&mut s).await?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let req = Recorded {
        method,
        target,
        headers,
    };
    recorded.lock().expect("not poisoned").push(req.clone());
    let path = req.target.split('?').next().unwrap_or_default();
    let websocket = req
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if path.starts_with("/containerLogs/") {
        respond(&mut s, "200 OK", "text/plain", log).await
    } else if (path.starts_with("/exec/") || path.starts_with("/attach/")) && websocket {
        exec_hello(&mut s, &req).await
    } else if path.starts_with("/exec/") || path.starts_with("/attach/") {
        respond(
            &mut s,
            "400 Bad Request",
            "text/plain",
            "the stand-in kubelet speaks websockets only",
        )
        .await
    } else {
        respond(&mut s, "200 OK", "text/plain", "ok").await
    }
}

async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Result<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 * 1024 || s.read(&mut byte).await? == 0 {
            anyhow::bail!("no complete request head");
        }
        buf.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: &str,
    content_type: &str,
    body: &str,
) -> Result<()> {
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(msg.as_bytes()).await?;
    s.shutdown().await?;
    Ok(())
}

/// An unmasked binary websocket frame (server to client) carrying `channel` then `data`.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= u16::MAX as usize => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

async fn exec_hello<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, req: &Recorded) -> Result<()> {
    let offered: Vec<&str> = req
        .header("sec-websocket-protocol")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .collect();
    let Some(protocol) = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
        .into_iter()
        .find(|p| offered.contains(p))
    else {
        return respond(
            s,
            "400 Bad Request",
            "text/plain",
            "no supported websocket protocol offered",
        )
        .await;
    };
    let key = req.header("sec-websocket-key").unwrap_or_default();
    let accept = base64::engine::general_purpose::STANDARD.encode(openssl::sha::sha1(
        format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes(),
    ));
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await?;
    let mut stdout = vec![1u8];
    stdout.extend_from_slice(b"hello\n");
    s.write_all(&frame(0x2, &stdout)).await?;
    let mut status = vec![3u8];
    status.extend_from_slice(br#"{"metadata":{},"status":"Success"}"#);
    s.write_all(&frame(0x2, &status)).await?;
    // A normal closure.
    s.write_all(&frame(0x8, &1000u16.to_be_bytes())).await?;
    s.flush().await?;
    // Drain what the client still sends (its close frame) for a moment, then hang up.
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let _ = s.shutdown().await;
    Ok(())
}
