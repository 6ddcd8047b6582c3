//! A STAND-IN for the kubelet's HTTPS API, for testing the apiserver's node proxying (pods/log,
//! pods/exec, nodes/proxy) until our kubelet exists. It is not a kubelet: it runs nothing, it
//! records each request it receives and answers like the kubelet's API would for a container
//! that prints `hello`:
//!
//! - `/containerLogs/...`: `200` with the configured text;
//! - `/exec/...` and `/attach/...` upgraded to a websocket (`v5.channel.k8s.io` or
//!   `v4.channel.k8s.io`): `hello\n` on the stdout channel (1), a `Success` Status on the error
//!   channel (3), then a close frame;
//! - `/exec/...` and `/attach/...` upgraded to SPDY/3.1 (`v4.channel.k8s.io` and older, as
//!   kubectl 1.27 to 1.29 ask): enough of SPDY for client-go's remotecommand client: a
//!   `SYN_REPLY` to each stream the client opens (which stream is which follows from the
//!   query, as client-go opens them in a fixed order: error, stdin, stdout, stderr, resize),
//!   then `hello\n` on stdout, the end of stdout and stderr, and a `Success` Status on the
//!   error stream;
//! - any other path upgraded to SPDY/3.1: `101`, then every byte echoed back until the client
//!   closes or sends a line `close`, upon which the stand-in hangs up;
//! - anything else: `200 ok`.
//!
//! It listens on 127.0.0.1 only, with a self-signed certificate or the one it is given (and
//! then may require client certificates of a given authority, as the kubelet's
//! `--client-ca-file` does), and stops when dropped.

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
    /// The common name of the client certificate presented, if any.
    pub client_cn: Option<String>,
}

/// The stand-in's TLS set-up when not the default self-signed one.
#[derive(Debug, Clone)]
pub struct StandinTls {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    /// When given, clients must present a certificate this authority signed.
    pub client_ca: Option<std::path::PathBuf>,
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
    echoes_ended: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl StandinKubelet {
    /// Starts serving on a free loopback port; `log` is what `/containerLogs` answers.
    pub async fn start(log: &str) -> Result<Self> {
        Self::start_with(log, None).await
    }

    /// Starts serving with the given TLS set-up (none: a self-signed certificate).
    pub async fn start_with(log: &str, tls: Option<StandinTls>) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("standin-kubelet-")
            .tempdir()?;
        let tls = match tls {
            Some(t) => t,
            None => {
                let (cert, key) = apiserver::tls::ensure_serving_cert(
                    None,
                    None,
                    dir.path(),
                    "127.0.0.1".parse()?,
                )
                .context("making the stand-in's certificate")?;
                StandinTls {
                    cert,
                    key,
                    client_ca: None,
                }
            }
        };
        let mut acceptor = apiserver::tls::acceptor(&tls.cert, &tls.key)
            .context("loading the stand-in's certificate")?;
        if let Some(ca) = &tls.client_ca {
            acceptor
                .set_ca_file(ca)
                .context("loading the stand-in's client CA")?;
            acceptor.set_verify(
                openssl::ssl::SslVerifyMode::PEER
                    | openssl::ssl::SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            );
        }
        let acceptor = acceptor.build();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let echoes_ended = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ended = echoes_ended.clone();
        let log = log.to_string();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let recorded = recorded.clone();
                let log = log.clone();
                let ended = ended.clone();
                conns.spawn(async move {
                    let _ = serve(acceptor, tcp, recorded, &log, &ended).await;
                });
            }
        });
        Ok(StandinKubelet {
            addr,
            requests,
            echoes_ended,
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

    /// How many SPDY echo connections have ended (the client closed, or asked to close).
    pub fn echoes_ended(&self) -> usize {
        self.echoes_ended.load(std::sync::atomic::Ordering::SeqCst)
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
    echoes_ended: &std::sync::atomic::AtomicUsize,
) -> Result<()> {
    let ssl = Ssl::new(acceptor.context())?;
    let mut s = tokio_openssl::SslStream::new(ssl, tcp)?;
    Pin::new(&mut s).accept().await?;
    let client_cn = s.ssl().peer_certificate().and_then(|c| {
        c.subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
            .next()
            .and_then(|e| e.data().to_string().ok())
    });
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
        client_cn,
    };
    recorded.lock().expect("not poisoned").push(req.clone());
    let path = req.target.split('?').next().unwrap_or_default();
    let upgrade = req.header("upgrade").unwrap_or_default();
    let websocket = upgrade.eq_ignore_ascii_case("websocket");
    let spdy = upgrade.eq_ignore_ascii_case("SPDY/3.1");
    if path.starts_with("/containerLogs/") {
        respond(&mut s, "200 OK", "text/plain", log).await
    } else if (path.starts_with("/exec/") || path.starts_with("/attach/")) && websocket {
        exec_hello(&mut s, &req).await
    } else if (path.starts_with("/exec/") || path.starts_with("/attach/")) && spdy {
        spdy_exec_hello(&mut s, &req).await
    } else if spdy {
        s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n",
        )
        .await?;
        let r = echo(&mut s).await;
        echoes_ended.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        r
    } else if path.starts_with("/exec/") || path.starts_with("/attach/") {
        respond(
            &mut s,
            "400 Bad Request",
            "text/plain",
            "the stand-in kubelet speaks websockets and SPDY/3.1 only",
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

/// Echoes what the client sends until it closes or sends a line `close`, then hangs up.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<()> {
    let mut buf = [0u8; 4096];
    let mut line = Vec::new();
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        s.write_all(&buf[..n]).await?;
        s.flush().await?;
        line.extend_from_slice(&buf[..n]);
        if line.windows(6).any(|w| w == b"close\n") {
            break;
        }
        if let Some(i) = line.iter().rposition(|b| *b == b'\n') {
            line.drain(..=i);
        }
    }
    s.shutdown().await?;
    Ok(())
}

/// A SPDY/3 control frame.
fn spdy_control(kind: u16, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80, 0x03];
    f.extend_from_slice(&kind.to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(data);
    f
}

/// A SPDY data frame; `fin` ends the stream.
fn spdy_data(stream: u32, fin: bool, data: &[u8]) -> Vec<u8> {
    let mut f = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
    f.push(u8::from(fin));
    f.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(data);
    f
}

/// A `SYN_REPLY` with no headers. SPDY compresses header blocks with one zlib stream per
/// direction; a stream that does not announce SPDY's preset dictionary needs none, so the
/// (empty) header block goes in a stored deflate block, after the zlib header the first time.
fn spdy_syn_reply(stream: u32, first: bool) -> Vec<u8> {
    let mut data = stream.to_be_bytes().to_vec();
    if first {
        data.extend_from_slice(&[0x78, 0x01]);
    }
    // A stored, non-final block of 4 bytes (LEN, then its complement) holding a zero count,
    // then an empty stored block: the sync flush marker after which an inflater hands out
    // what it has (as zlib's Z_SYNC_FLUSH, which SPDY requires, writes it).
    data.extend_from_slice(&[0x00, 0x04, 0x00, 0xfb, 0xff, 0, 0, 0, 0]);
    data.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
    spdy_control(2, 0, &data)
}

/// Reads one SPDY frame: for a `SYN_STREAM`, its stream id; for anything else, `Some(0)`;
/// `None` when the connection ends.
async fn spdy_read_frame<S: AsyncRead + Unpin>(s: &mut S) -> Option<u32> {
    let mut head = [0u8; 8];
    s.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
    let mut data = vec![0u8; len];
    s.read_exact(&mut data).await.ok()?;
    let syn_stream = head[0] & 0x80 != 0 && u16::from_be_bytes([head[2], head[3]]) == 1;
    if syn_stream && data.len() >= 4 {
        Some(u32::from_be_bytes([data[0], data[1], data[2], data[3]]) & 0x7fff_ffff)
    } else {
        Some(0)
    }
}

async fn spdy_exec_hello<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    req: &Recorded,
) -> Result<()> {
    let offered: Vec<&str> = req
        .headers
        .iter()
        .filter(|(n, _)| n == "x-stream-protocol-version")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .collect();
    let Some(protocol) = [
        "v4.channel.k8s.io",
        "v3.channel.k8s.io",
        "v2.channel.k8s.io",
    ]
    .into_iter()
    .find(|p| offered.contains(p)) else {
        return respond(
            s,
            "400 Bad Request",
            "text/plain",
            "no supported stream protocol offered",
        )
        .await;
    };
    let query = req
        .target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default();
    let flag = |k: &str| query.split('&').any(|p| p == format!("{k}=1"));
    // client-go's order of streams: error, stdin, stdout, stderr, resize (with a tty).
    let kinds: Vec<&str> = [
        (true, "error"),
        (flag("stdin"), "stdin"),
        (flag("stdout"), "stdout"),
        (flag("stderr"), "stderr"),
        (flag("tty"), "resize"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, k)| k)
    .collect();
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: {protocol}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await?;
    s.flush().await?;
    let mut streams = Vec::new();
    let opened = tokio::time::timeout(Duration::from_secs(10), async {
        while streams.len() < kinds.len() {
            match spdy_read_frame(s).await {
                None => return false,
                Some(0) => {}
                Some(id) => {
                    if s.write_all(&spdy_syn_reply(id, streams.is_empty()))
                        .await
                        .is_err()
                    {
                        return false;
                    }
                    let _ = s.flush().await;
                    streams.push(id);
                }
            }
        }
        true
    })
    .await;
    if opened != Ok(true) {
        anyhow::bail!("the client did not open its streams");
    }
    let id = |kind: &str| kinds.iter().position(|k| *k == kind).map(|i| streams[i]);
    if let Some(out) = id("stdout") {
        s.write_all(&spdy_data(out, false, b"hello\n")).await?;
        s.write_all(&spdy_data(out, true, b"")).await?;
    }
    if let Some(err) = id("stderr") {
        s.write_all(&spdy_data(err, true, b"")).await?;
    }
    if let Some(e) = id("error") {
        s.write_all(&spdy_data(
            e,
            true,
            br#"{"metadata":{},"status":"Success"}"#,
        ))
        .await?;
    }
    s.flush().await?;
    // Read what the client still sends (window updates, its GOAWAY) until it hangs up.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while spdy_read_frame(s).await.is_some() {}
    })
    .await;
    let _ = s.shutdown().await;
    Ok(())
}
