//! Exec and attach for websocket clients that speak `v5.channel.k8s.io` (kubectl 1.30+,
//! kube-rs), translated to SPDY/3.1 towards the runtime's streaming server, as upstream's
//! apiserver translates them (its `StreamTranslator`): runtimes such as containerd 1.6 only
//! know v1-v4 over websockets, and only v5 and SPDY can close stdin without ending the stream.
//!
//! The websocket side carries one byte of channel before each message (0 stdin, 1 stdout,
//! 2 stderr, 3 error, 4 resize; `255, n` closes channel n). The SPDY side is a minimal
//! SPDY/3.1 client: one stream per channel (`streamtype: error|stdin|stdout|stderr|resize`,
//! protocol `v4.channel.k8s.io`), DATA frames both ways, FIN to close stdin. Header blocks are
//! zlib streams without the SPDY dictionary, which readers accept (a zlib header says whether a
//! dictionary is used), so the dictionary is never needed: the replies' header blocks are
//! skipped unread.
//!
//! Port-forward from kubectl 1.31+ (`SPDY/3.1+portforward.k8s.io`) is SPDY carried inside
//! websocket messages: the kubelet upgrades to SPDY at the streaming server and carries the
//! bytes between the messages and that connection, as upstream's apiserver tunnels them.

use std::collections::HashMap;

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};
use futures::{SinkExt as _, StreamExt as _};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::http_util::{full, text, Body};
use super::streams::{split_url, StreamOptions};
use super::State;

/// The websocket subprotocol this module serves.
pub const V5: &str = "v5.channel.k8s.io";
/// The websocket subprotocol of port-forward's SPDY tunnel.
pub const PORT_FORWARD_TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";
/// The remote-command protocol asked of the streaming server over SPDY.
const SPDY_PROTOCOL: &str = "v4.channel.k8s.io";

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

const FLAG_FIN: u8 = 0x01;
const TYPE_SYN_STREAM: u16 = 1;
const TYPE_RST_STREAM: u16 = 3;
const TYPE_PING: u16 = 6;
const TYPE_GOAWAY: u16 = 7;

/// Whether the client offers `v5.channel.k8s.io` on a websocket upgrade.
pub fn wants_v5(req: &Request<Incoming>) -> bool {
    offers(req, V5)
}

/// Whether the client offers port-forward's SPDY tunnel on a websocket upgrade.
pub fn wants_tunnel(req: &Request<Incoming>) -> bool {
    offers(req, PORT_FORWARD_TUNNEL)
}

fn offers(req: &Request<Incoming>, protocol: &str) -> bool {
    let websocket = req
        .headers()
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    websocket
        && req
            .headers()
            .get_all(hyper::header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == protocol)
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455).
pub fn accept_key(key: &str) -> String {
    use base64::Engine as _;
    let digest =
        openssl::sha::sha1(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// A SPDY control frame.
fn control_frame(kind: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + payload.len());
    f.extend_from_slice(&[0x80, 0x03]);
    f.extend_from_slice(&kind.to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(payload);
    f
}

/// A SPDY data frame.
pub fn data_frame(stream: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + data.len());
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(data);
    f
}

/// Compresses header blocks: one zlib stream for the connection, flushed after each block.
pub struct HeaderCompressor(Compress);

impl HeaderCompressor {
    pub fn new() -> Self {
        HeaderCompressor(Compress::new(Compression::default(), true))
    }

    /// A SYN_STREAM frame opening `stream` with these headers.
    pub fn syn_stream(
        &mut self,
        stream: u32,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Vec<u8>> {
        let mut block = Vec::new();
        block.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        for (name, value) in headers {
            block.extend_from_slice(&(name.len() as u32).to_be_bytes());
            block.extend_from_slice(name.as_bytes());
            block.extend_from_slice(&(value.len() as u32).to_be_bytes());
            block.extend_from_slice(value.as_bytes());
        }
        let mut compressed = Vec::with_capacity(block.len() + 64);
        let before = self.0.total_in();
        loop {
            let consumed = (self.0.total_in() - before) as usize;
            compressed.reserve(256);
            self.0
                .compress_vec(&block[consumed..], &mut compressed, FlushCompress::Sync)
                .map_err(std::io::Error::other)?;
            // Done once all input is in and the flush left spare room.
            if (self.0.total_in() - before) as usize == block.len()
                && compressed.len() < compressed.capacity()
            {
                break;
            }
        }
        let mut payload = Vec::with_capacity(10 + compressed.len());
        payload.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        payload.extend_from_slice(&0u32.to_be_bytes());
        payload.extend_from_slice(&[0, 0]);
        payload.extend_from_slice(&compressed);
        Ok(control_frame(TYPE_SYN_STREAM, 0, &payload))
    }
}

impl Default for HeaderCompressor {
    fn default() -> Self {
        Self::new()
    }
}

/// A frame read from the streaming server.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Data {
        stream: u32,
        fin: bool,
        data: Vec<u8>,
    },
    Control {
        kind: u16,
        flags: u8,
        payload: Vec<u8>,
    },
}

/// Splits whole frames off the front of `buf`.
pub fn parse_frames(buf: &mut Vec<u8>) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut at = 0;
    while buf.len() - at >= 8 {
        let h = &buf[at..at + 8];
        let len = u32::from_be_bytes([0, h[5], h[6], h[7]]) as usize;
        if buf.len() - at < 8 + len {
            break;
        }
        let payload = buf[at + 8..at + 8 + len].to_vec();
        let flags = h[4];
        if h[0] & 0x80 != 0 {
            out.push(Frame::Control {
                kind: u16::from_be_bytes([h[2], h[3]]),
                flags,
                payload,
            });
        } else {
            out.push(Frame::Data {
                stream: u32::from_be_bytes([h[0], h[1], h[2], h[3]]) & 0x7fff_ffff,
                fin: flags & FLAG_FIN != 0,
                data: payload,
            });
        }
        at += 8 + len;
    }
    buf.drain(..at);
    out
}

/// The streams to open, in upstream's order (error first), with their websocket channels.
fn channels(opts: &StreamOptions) -> Vec<(u8, &'static str)> {
    let mut c = vec![(ERROR, "error")];
    if opts.stdin {
        c.push((STDIN, "stdin"));
    }
    if opts.stdout {
        c.push((STDOUT, "stdout"));
    }
    if opts.stderr {
        c.push((STDERR, "stderr"));
    }
    if opts.tty {
        c.push((RESIZE, "resize"));
    }
    c
}

/// Upgrades to SPDY at the streaming URL and opens the streams; the connection and the
/// stream id of each channel.
async fn dial_spdy(
    url: &str,
    opts: &StreamOptions,
) -> Result<(TcpStream, HashMap<u8, u32>), String> {
    let mut conn = upgrade_spdy(url, SPDY_PROTOCOL).await?;
    let mut compressor = HeaderCompressor::new();
    let mut ids = HashMap::new();
    for (i, (channel, kind)) in channels(opts).into_iter().enumerate() {
        let id = 1 + 2 * i as u32;
        let frame = compressor
            .syn_stream(id, &[("streamtype", kind)])
            .map_err(|e| e.to_string())?;
        conn.write_all(&frame)
            .await
            .map_err(|e| format!("creating the {kind} stream: {e}"))?;
        ids.insert(channel, id);
    }
    Ok((conn, ids))
}

/// Connects to the streaming URL and switches to SPDY/3.1 with `protocol`.
async fn upgrade_spdy(url: &str, protocol: &str) -> Result<TcpStream, String> {
    let (authority, path) = split_url(url)?;
    let mut conn = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("error dialing backend: {e}"))?;
    let _ = conn.set_nodelay(true);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         X-Stream-Protocol-Version: {protocol}\r\nContent-Length: 0\r\n\r\n"
    );
    conn.write_all(head.as_bytes())
        .await
        .map_err(|e| format!("error sending request: {e}"))?;
    // The head, read a byte at a time so no SPDY frame is consumed with it.
    let mut resp = Vec::new();
    let mut byte = [0u8; 1];
    while !resp.ends_with(b"\r\n\r\n") {
        if resp.len() > 64 * 1024 {
            return Err("response head too large".into());
        }
        match conn.read(&mut byte).await {
            Ok(1) => resp.push(byte[0]),
            _ => return Err("connection closed before the response head".into()),
        }
    }
    let head = super::streams::parse_response_head(&resp[..resp.len() - 4])?;
    if head.status != 101 {
        return Err(format!(
            "unable to upgrade connection: the streaming server answered {}",
            head.status
        ));
    }
    Ok(conn)
}

/// Serves a v5 websocket exec or attach by translating it to SPDY at `url`.
pub async fn serve(
    state: &State,
    mut req: Request<Incoming>,
    url: &str,
    opts: &StreamOptions,
) -> Response<Body> {
    let Some(key) = req
        .headers()
        .get(hyper::header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .map(accept_key)
    else {
        return text(400, "missing Sec-WebSocket-Key");
    };
    let (conn, ids) = match tokio::time::timeout(
        std::time::Duration::from_secs(30),
        dial_spdy(url, opts),
    )
    .await
    {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return text(500, e),
        Err(_) => return text(500, "error dialing backend: timeout"),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let mut stopped = state.stopped.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        tokio::select! {
            r = pump(ws, conn, ids) => {
                if let Err(e) = r {
                    tracing::debug!("v5 stream ended: {e}");
                }
            }
            _ = stopped.changed() => {}
        }
    });
    Response::builder()
        .status(101)
        .header(hyper::header::CONNECTION, "Upgrade")
        .header(hyper::header::UPGRADE, "websocket")
        .header(hyper::header::SEC_WEBSOCKET_ACCEPT, key)
        .header(hyper::header::SEC_WEBSOCKET_PROTOCOL, V5)
        .body(full(Bytes::new()))
        .unwrap_or_else(|_| text(500, "building the response"))
}

/// Serves port-forward's SPDY-over-websocket tunnel: SPDY at `url`, carried in messages.
pub async fn tunnel(state: &State, mut req: Request<Incoming>, url: &str) -> Response<Body> {
    let Some(key) = req
        .headers()
        .get(hyper::header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .map(accept_key)
    else {
        return text(400, "missing Sec-WebSocket-Key");
    };
    let conn = match tokio::time::timeout(
        std::time::Duration::from_secs(30),
        upgrade_spdy(url, "portforward.k8s.io"),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return text(500, e),
        Err(_) => return text(500, "error dialing backend: timeout"),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let mut stopped = state.stopped.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        tokio::select! {
            r = carry(ws, conn) => {
                if let Err(e) = r {
                    tracing::debug!("port-forward tunnel ended: {e}");
                }
            }
            _ = stopped.changed() => {}
        }
    });
    Response::builder()
        .status(101)
        .header(hyper::header::CONNECTION, "Upgrade")
        .header(hyper::header::UPGRADE, "websocket")
        .header(hyper::header::SEC_WEBSOCKET_ACCEPT, key)
        .header(hyper::header::SEC_WEBSOCKET_PROTOCOL, PORT_FORWARD_TUNNEL)
        .body(full(Bytes::new()))
        .unwrap_or_else(|_| text(500, "building the response"))
}

/// Carries bytes between websocket messages and the connection until either side ends.
async fn carry<S>(ws: WebSocketStream<S>, conn: TcpStream) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut rd, mut wr) = conn.into_split();
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        tokio::select! {
            n = rd.read(&mut chunk) => {
                let n = n.map_err(|e| e.to_string())?;
                if n == 0 {
                    let _ = ws_tx
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::Normal,
                            reason: "".into(),
                        })))
                        .await;
                    return Ok(());
                }
                ws_tx
                    .send(Message::Binary(Bytes::copy_from_slice(&chunk[..n])))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            m = ws_rx.next() => match m {
                Some(Ok(Message::Binary(b))) => {
                    wr.write_all(&b).await.map_err(|e| e.to_string())?;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    let _ = wr.shutdown().await;
                    return Ok(());
                }
                Some(Ok(_)) => {}
            }
        }
    }
}

/// Copies between the websocket and the SPDY connection until the command's status has come
/// and its output streams are done (or either side goes away).
async fn pump<S>(
    ws: WebSocketStream<S>,
    conn: TcpStream,
    ids: HashMap<u8, u32>,
) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut rd, mut wr) = conn.into_split();
    let by_stream: HashMap<u32, u8> = ids.iter().map(|(c, s)| (*s, *c)).collect();
    // Output channels still open on the SPDY side; the error channel's status comes last.
    let mut open: Vec<u8> = ids
        .keys()
        .copied()
        .filter(|c| matches!(*c, STDOUT | STDERR | ERROR))
        .collect();
    let mut status: Vec<u8> = Vec::new();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut ws_open = true;
    loop {
        tokio::select! {
            n = rd.read(&mut chunk) => {
                let n = n.map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                for frame in parse_frames(&mut buf) {
                    match frame {
                        Frame::Data { stream, fin, data } => {
                            let Some(&channel) = by_stream.get(&stream) else { continue };
                            if channel == ERROR {
                                status.extend_from_slice(&data);
                            } else if !data.is_empty() {
                                let mut m = Vec::with_capacity(1 + data.len());
                                m.push(channel);
                                m.extend_from_slice(&data);
                                ws_tx.send(Message::Binary(m.into())).await.map_err(|e| e.to_string())?;
                            }
                            if fin {
                                open.retain(|c| *c != channel);
                            }
                        }
                        Frame::Control { kind: TYPE_PING, payload, .. } => {
                            wr.write_all(&control_frame(TYPE_PING, 0, &payload)).await.map_err(|e| e.to_string())?;
                        }
                        Frame::Control { kind: TYPE_RST_STREAM, payload, .. } if payload.len() >= 4 => {
                            let stream = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & 0x7fff_ffff;
                            if let Some(&channel) = by_stream.get(&stream) {
                                open.retain(|c| *c != channel);
                            }
                        }
                        Frame::Control { kind: TYPE_GOAWAY, .. } => open.clear(),
                        // SYN_REPLY, SETTINGS, HEADERS, WINDOW_UPDATE: nothing to act on.
                        Frame::Control { .. } => {}
                    }
                }
                if open.is_empty() {
                    break;
                }
            }
            m = ws_rx.next(), if ws_open => {
                match m {
                    Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                        let (channel, data) = (b[0], &b[1..]);
                        let frame = if channel == CLOSE {
                            data.first().and_then(|c| ids.get(c)).map(|id| data_frame(*id, FLAG_FIN, &[]))
                        } else {
                            ids.get(&channel).filter(|_| matches!(channel, STDIN | RESIZE)).map(|id| data_frame(*id, 0, data))
                        };
                        if let Some(f) = frame {
                            wr.write_all(&f).await.map_err(|e| e.to_string())?;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        // The client is gone: so is the command's connection.
                        ws_open = false;
                        break;
                    }
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    if ws_open {
        if !status.is_empty() {
            let mut m = Vec::with_capacity(1 + status.len());
            m.push(ERROR);
            m.extend_from_slice(&status);
            let _ = ws_tx.send(Message::Binary(m.into())).await;
        }
        // A normal closure (1000) is every channel's end of file to client-go's v5 reader; a
        // close without a code (1005) is an error to it.
        let _ = ws_tx
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
        let _ = ws_tx.close().await;
    }
    let _ = wr.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_accept_key_of_rfc_6455() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frames_round_trip() {
        let mut buf = data_frame(3, FLAG_FIN, b"hello");
        buf.extend_from_slice(&control_frame(TYPE_PING, 0, &7u32.to_be_bytes()));
        buf.extend_from_slice(&data_frame(5, 0, b"par")[..6]);
        let frames = parse_frames(&mut buf);
        assert_eq!(
            frames,
            vec![
                Frame::Data {
                    stream: 3,
                    fin: true,
                    data: b"hello".to_vec()
                },
                Frame::Control {
                    kind: TYPE_PING,
                    flags: 0,
                    payload: 7u32.to_be_bytes().to_vec()
                },
            ]
        );
        // The incomplete frame waits for the rest.
        assert_eq!(buf.len(), 6);
    }

    #[test]
    fn header_blocks_are_a_zlib_stream_readers_can_follow() {
        use std::io::Read as _;
        let mut c = HeaderCompressor::new();
        let a = c.syn_stream(1, &[("streamtype", "error")]).unwrap();
        let b = c.syn_stream(3, &[("streamtype", "stdin")]).unwrap();
        assert_eq!(&a[..4], &[0x80, 0x03, 0x00, 0x01]);
        assert_eq!(
            u32::from_be_bytes([0, a[5], a[6], a[7]]) as usize,
            a.len() - 8
        );
        assert_eq!(&b[8..12], &3u32.to_be_bytes());
        // Both blocks, after the 10 bytes of ids, priority and slot, decode as one stream.
        let mut stream = a[18..].to_vec();
        stream.extend_from_slice(&b[18..]);
        let mut out = Vec::new();
        let mut d = flate2::read::ZlibDecoder::new(&stream[..]);
        let _ = d.read_to_end(&mut out);
        let mut want = Vec::new();
        for v in ["error", "stdin"] {
            want.extend_from_slice(&1u32.to_be_bytes());
            want.extend_from_slice(&10u32.to_be_bytes());
            want.extend_from_slice(b"streamtype");
            want.extend_from_slice(&(v.len() as u32).to_be_bytes());
            want.extend_from_slice(v.as_bytes());
        }
        assert_eq!(out, want);
    }
}
