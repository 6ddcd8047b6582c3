//! `/exec`, `/attach` and `/portForward`: the runtime's streaming URL from CRI (Exec, Attach,
//! PortForward), then the client's upgrade relayed to it byte for byte, as upstream's kubelet
//! does with its upgrade-aware proxy. The request head goes to the streaming server with the
//! client's headers (Upgrade, Connection, X-Stream-Protocol-Version, Sec-WebSocket-*), its
//! `101` head comes back to the client, and the bytes are copied both ways until either side
//! closes; whatever the protocol (SPDY/3.1, `v4.channel.k8s.io`, `portforward.k8s.io`, ...),
//! the runtime's streaming server is the one that speaks it. The exceptions, v5 and
//! port-forward's SPDY tunnel over websockets, go to `translate.rs`.

use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use k8s_cri::v1::{AttachRequest, ExecRequest, PortForwardRequest};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::http_util::{first, full, query_pairs, text, Body};
use super::{find_pod, lookup, translate, State};

/// How long connecting to the streaming server and reading its answer may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response head accepted from the streaming server.
const MAX_HEAD: usize = 64 * 1024;

/// `PodExecOptions`/`PodAttachOptions` as the kubelet reads them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
    pub command: Vec<String>,
}

impl StreamOptions {
    /// Upstream's query: `input`, `output`, `error`, `tty` set to `1`, and repeated `command`
    /// (the `stdin`/`stdout`/`stderr` spellings are accepted too). A TTY merges stderr into
    /// stdout, and at least one stream is required.
    pub fn parse(query: Option<&str>) -> Result<Self, String> {
        let q = query_pairs(query);
        let on = |keys: &[&str]| keys.iter().any(|k| first(&q, k) == Some("1"));
        let tty = on(&["tty"]);
        let o = StreamOptions {
            stdin: on(&["input", "stdin"]),
            stdout: on(&["output", "stdout"]),
            stderr: on(&["error", "stderr"]) && !tty,
            tty,
            command: q
                .iter()
                .filter(|(k, _)| k == "command")
                .map(|(_, v)| v.clone())
                .collect(),
        };
        if !o.stdin && !o.stdout && !o.stderr {
            return Err("you must specify at least 1 of stdin, stdout, stderr".to_string());
        }
        Ok(o)
    }
}

/// The ports of a websocket port-forward (`port`, repeated); SPDY clients name them per
/// stream instead.
pub fn forward_ports(query: Option<&str>) -> Result<Vec<i32>, String> {
    let mut out = Vec::new();
    for (_, v) in query_pairs(query).iter().filter(|(k, _)| k == "port") {
        let port: u16 = v
            .parse()
            .map_err(|e| format!("unable to parse {v:?} as a port: {e}"))?;
        if port == 0 {
            return Err(format!("port {v:?} must be > 0"));
        }
        out.push(i32::from(port));
    }
    Ok(out)
}

/// Whether the request asks to switch protocols.
fn is_upgrade(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        && req.headers().contains_key(hyper::header::UPGRADE)
}

/// A CRI error as upstream's streaming `WriteError` answers it.
fn cri_error(e: &tonic::Status) -> Response<Body> {
    let status = match e.code() {
        tonic::Code::NotFound => 404,
        tonic::Code::ResourceExhausted => 429,
        _ => 500,
    };
    text(
        status,
        format!("rpc error: code = {:?} desc = {}", e.code(), e.message()),
    )
}

/// `/exec/{ns}/{pod}[/{uid}]/{container}` and `/attach/...`.
pub async fn exec(
    state: &State,
    req: Request<Incoming>,
    namespace: &str,
    pod_name: &str,
    uid: Option<&str>,
    container: &str,
    is_exec: bool,
) -> Response<Body> {
    let opts = match StreamOptions::parse(req.uri().query()) {
        Ok(o) => o,
        Err(e) => return text(400, e),
    };
    let Some(pod) = find_pod(state, namespace, pod_name) else {
        return text(404, "pod does not exist");
    };
    let full_name = format!("{pod_name}_{namespace}");
    let pod_uid = pod.metadata.uid.as_deref();
    if uid.is_some_and(|u| Some(u) != pod_uid) {
        return match is_exec {
            true => text(500, format!("container not found ({container:?})")),
            false => text(500, format!("pod {full_name} not found")),
        };
    }
    if !is_upgrade(&req) {
        return text(500, "Upgrade request required\n");
    }
    let found =
        lookup::running_container(&state.cri, namespace, pod_name, pod_uid, container).await;
    let c = match found {
        Ok(Some(c)) => c,
        Ok(None) if is_exec => return text(500, format!("container not found ({container:?})")),
        Ok(None) => {
            return text(
                500,
                format!("container {container} not found in pod {full_name}"),
            )
        }
        Err(e) => return cri_error(&e),
    };
    let mut opts = opts;
    let mut rt = state.cri.runtime.clone();
    let url = if is_exec {
        rt.exec(ExecRequest {
            container_id: c.id,
            cmd: opts.command.clone(),
            tty: opts.tty,
            stdin: opts.stdin,
            stdout: opts.stdout,
            stderr: opts.stderr,
        })
        .await
        .map(|r| r.into_inner().url)
    } else {
        // Whether the process has a TTY was decided when the container started: attach uses
        // the spec's setting, not the query's.
        opts.tty = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.iter().find(|x| x.name == container))
            .and_then(|x| x.tty)
            .unwrap_or(false);
        opts.stderr &= !opts.tty;
        rt.attach(AttachRequest {
            container_id: c.id,
            stdin: opts.stdin,
            tty: opts.tty,
            stdout: opts.stdout,
            stderr: opts.stderr,
        })
        .await
        .map(|r| r.into_inner().url)
    };
    match url {
        // Runtimes do not all speak v5 over websockets: it is translated to SPDY.
        Ok(url) if translate::wants_v5(&req) => translate::serve(state, req, &url, &opts).await,
        Ok(url) => relay(state, req, &url).await,
        Err(e) => cri_error(&e),
    }
}

/// `/portForward/{ns}/{pod}[/{uid}]`.
pub async fn port_forward(
    state: &State,
    req: Request<Incoming>,
    namespace: &str,
    pod_name: &str,
    uid: Option<&str>,
) -> Response<Body> {
    let websocket = req
        .headers()
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let ports = if websocket {
        match forward_ports(req.uri().query()) {
            Ok(p) => p,
            Err(e) => return text(400, e),
        }
    } else {
        Vec::new()
    };
    let Some(pod) = find_pod(state, namespace, pod_name) else {
        return text(404, "pod does not exist");
    };
    let pod_uid = pod.metadata.uid.as_deref();
    if uid.is_some_and(|u| Some(u) != pod_uid) {
        return text(404, "pod not found");
    }
    if !is_upgrade(&req) {
        return text(500, "Upgrade request required\n");
    }
    let sandbox = match lookup::ready_sandbox(&state.cri, namespace, pod_name, pod_uid).await {
        Ok(Some(s)) => s,
        Ok(None) => return text(500, format!("pod not found (\"{pod_name}_{namespace}\")")),
        Err(e) => return cri_error(&e),
    };
    let url = state
        .cri
        .runtime
        .clone()
        .port_forward(PortForwardRequest {
            pod_sandbox_id: sandbox.id,
            port: ports,
        })
        .await
        .map(|r| r.into_inner().url);
    match url {
        Ok(url) if translate::wants_tunnel(&req) => translate::tunnel(state, req, &url).await,
        Ok(url) => relay(state, req, &url).await,
        Err(e) => cri_error(&e),
    }
}

/// The `host:port` and path of a streaming URL (`http://127.0.0.1:PORT/exec/TOKEN`).
pub fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("unsupported streaming URL {url:?}: only http:// is served"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("streaming URL {url:?} has no host"));
    }
    Ok((authority.to_string(), path.to_string()))
}

/// The request head sent to the streaming server: the client's method and headers, the
/// streaming URL's path, and `X-Forwarded-For`.
pub fn request_head(
    method: &str,
    authority: &str,
    path: &str,
    headers: &hyper::HeaderMap,
    client_ip: Option<&str>,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    for (name, value) in headers {
        if matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding" | "x-forwarded-for"
        ) {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if let Some(ip) = client_ip {
        head.extend_from_slice(format!("X-Forwarded-For: {ip}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// A response head: status and headers.
#[derive(Debug, PartialEq)]
pub struct ResponseHead {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Parses `HTTP/1.1 101 Switching Protocols\r\nName: value\r\n...` (without the blank line).
pub fn parse_response_head(head: &[u8]) -> Result<ResponseHead, String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("malformed HTTP response {status_line:?}"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| format!("malformed HTTP status code in {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("malformed MIME header line {line:?}"))?;
        headers.push((name.trim().to_string(), value.trim().as_bytes().to_vec()));
    }
    Ok(ResponseHead { status, headers })
}

/// Reads the response head; returns it with the bytes read past it.
async fn read_head(conn: &mut TcpStream) -> Result<(ResponseHead, Vec<u8>), String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_response_head(&buf[..end])?;
            return Ok((head, buf[end + 4..].to_vec()));
        }
        if buf.len() > MAX_HEAD {
            return Err("response head too large".to_string());
        }
        let n = conn.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the response head".to_string());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Relays the upgrade to the streaming server at `url`.
async fn relay(state: &State, mut req: Request<Incoming>, url: &str) -> Response<Body> {
    let (authority, path) = match split_url(url) {
        Ok(x) => x,
        Err(e) => return text(500, e),
    };
    let client_ip = req
        .extensions()
        .get::<super::PeerAddr>()
        .map(|p| p.0.ip().to_string());
    let head = request_head(
        req.method().as_str(),
        &authority,
        &path,
        req.headers(),
        client_ip.as_deref(),
    );
    let dialed = tokio::time::timeout(DIAL_TIMEOUT, async {
        let mut conn = TcpStream::connect(&authority)
            .await
            .map_err(|e| format!("error dialing backend: {e}"))?;
        let _ = conn.set_nodelay(true);
        conn.write_all(&head)
            .await
            .map_err(|e| format!("error sending request: {e}"))?;
        let (resp, rest) = read_head(&mut conn).await?;
        Ok::<_, String>((conn, resp, rest))
    })
    .await;
    let (mut backend, resp, rest) = match dialed {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return text(500, e),
        Err(_) => return text(500, "error dialing backend: timeout"),
    };
    let mut out = Response::builder().status(resp.status);
    for (name, value) in &resp.headers {
        let n = name.to_ascii_lowercase();
        // The body of a refusal is re-framed below; a 101 keeps every header it came with.
        if resp.status != 101
            && matches!(
                n.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            )
        {
            continue;
        }
        out = out.header(name.as_str(), value.as_slice());
    }
    if resp.status != 101 {
        // The streaming server refused (an expired token, an unsupported protocol): its answer
        // goes back as it came, body included.
        let length = resp
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_HEAD);
        let mut body = rest;
        while body.len() < length {
            let mut chunk = vec![0u8; length - body.len()];
            match tokio::time::timeout(DIAL_TIMEOUT, backend.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => body.extend_from_slice(&chunk[..n]),
                _ => break,
            }
        }
        body.truncate(length);
        return out
            .body(full(Bytes::from(body)))
            .unwrap_or_else(|_| text(500, "building the response"));
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let mut stopped = state.stopped.clone();
    tokio::spawn(async move {
        let client = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!("the client's upgrade failed: {e}");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        // Bytes the streaming server sent right after its head belong to the stream.
        if !rest.is_empty() && client.write_all(&rest).await.is_err() {
            return;
        }
        tokio::select! {
            r = tokio::io::copy_bidirectional(&mut client, &mut backend) => {
                if let Err(e) = r {
                    tracing::debug!("stream ended: {e}");
                }
            }
            _ = stopped.changed() => {}
        }
    });
    out.body(full(Bytes::new()))
        .unwrap_or_else(|_| text(500, "building the response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_queries_as_upstream_sends_them() {
        let o = StreamOptions::parse(Some(
            "command=sh&command=-c&command=echo+hi&input=1&output=1&error=1",
        ))
        .unwrap();
        assert_eq!(
            o,
            StreamOptions {
                stdin: true,
                stdout: true,
                stderr: true,
                tty: false,
                command: vec!["sh".into(), "-c".into(), "echo hi".into()],
            }
        );
        // A TTY merges stderr into stdout.
        let o = StreamOptions::parse(Some("command=sh&output=1&error=1&tty=1")).unwrap();
        assert!(o.tty && o.stdout && !o.stderr);
        // Our apiserver's older spelling.
        assert!(StreamOptions::parse(Some("stdout=1")).unwrap().stdout);
        assert_eq!(
            StreamOptions::parse(Some("command=ls&tty=1")).unwrap_err(),
            "you must specify at least 1 of stdin, stdout, stderr"
        );
        // Only `1` turns a stream on, as upstream reads them.
        assert!(StreamOptions::parse(Some("output=true")).is_err());
    }

    #[test]
    fn port_forward_ports() {
        assert_eq!(
            forward_ports(Some("port=80&port=8080")).unwrap(),
            vec![80, 8080]
        );
        assert_eq!(forward_ports(None).unwrap(), Vec::<i32>::new());
        assert_eq!(
            forward_ports(Some("port=0")).unwrap_err(),
            r#"port "0" must be > 0"#
        );
        assert!(forward_ports(Some("port=x"))
            .unwrap_err()
            .starts_with(r#"unable to parse "x" as a port"#));
    }

    #[test]
    fn streaming_urls_and_heads() {
        assert_eq!(
            split_url("http://127.0.0.1:3456/exec/AbC").unwrap(),
            ("127.0.0.1:3456".to_string(), "/exec/AbC".to_string())
        );
        assert!(split_url("https://x/y").is_err());
        let mut h = hyper::HeaderMap::new();
        h.insert("host", "node:10250".parse().unwrap());
        h.insert("connection", "Upgrade".parse().unwrap());
        h.insert("upgrade", "SPDY/3.1".parse().unwrap());
        h.append(
            "x-stream-protocol-version",
            "v4.channel.k8s.io".parse().unwrap(),
        );
        h.append(
            "x-stream-protocol-version",
            "channel.k8s.io".parse().unwrap(),
        );
        let head = request_head("POST", "127.0.0.1:1", "/exec/t", &h, Some("10.0.0.1"));
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "POST /exec/t HTTP/1.1\r\nHost: 127.0.0.1:1\r\nconnection: Upgrade\r\n\
             upgrade: SPDY/3.1\r\nx-stream-protocol-version: v4.channel.k8s.io\r\n\
             x-stream-protocol-version: channel.k8s.io\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
        );
        let r = parse_response_head(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io",
        )
        .unwrap();
        assert_eq!(r.status, 101);
        assert_eq!(
            r.headers[2],
            (
                "X-Stream-Protocol-Version".to_string(),
                b"v4.channel.k8s.io".to_vec()
            )
        );
        assert!(parse_response_head(b"SSH-2.0").is_err());
        assert!(parse_response_head(b"HTTP/1.1 abc").is_err());
    }
}
