//! Lets non-websocket upgrades (SPDY/3.1, which kubectl 1.27 to 1.30 use for exec, attach
//! and port-forward) reach the handlers as a byte stream, on the same listener and through the
//! same handler chain as every other request.
//!
//! actix-http's HTTP/1 decoder treats only `Upgrade: websocket` requests as the start of a
//! stream: after any other upgrade request it parses the bytes that follow as the next request,
//! so the connection cannot be relayed. Each new connection (the apiserver speaks HTTP/1.1) therefore passes through
//! [`sniff`] before actix-http sees it: the first request head is read (one parse per
//! connection; the bytes are then replayed unchanged), and when it asks for another upgrade its
//! `Upgrade` header is presented to actix-http as `websocket` while the protocol asked for is
//! kept beside the connection ([`OriginalUpgrade`], in the request's connection data), where
//! the proxy handler reads it. Everything else about the request (method, path, credentials,
//! the filters it passes) is untouched, and once actix-http has answered `101` the bytes flow
//! both ways as they do for websockets. Clients open a new connection for each upgrade (Go's
//! SPDY round tripper always does), so the first request is the one that matters; a later
//! upgrade request on a kept-alive connection is left as it is.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf as _, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};

/// The longest first request head looked at; a longer one is passed on as it is (actix-http
/// then answers it as it would).
const MAX_HEAD: usize = 32 * 1024;
/// How many headers a first request head may have to be looked at.
const MAX_HEADERS: usize = 96;

/// The `Upgrade` header the client sent on a connection whose first request was presented to
/// actix-http as a websocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalUpgrade(pub String);

/// A connection whose first bytes were read to look at the first request head: those bytes
/// (possibly rewritten) are read again first, then the connection's own.
pub struct Sniffed<T> {
    io: T,
    replay: Bytes,
    original_upgrade: Option<String>,
}

impl<T> Sniffed<T> {
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The upgrade the first request asked for, when it was not a websocket.
    pub fn original_upgrade(&self) -> Option<&str> {
        self.original_upgrade.as_deref()
    }
}

/// Reads the first request head of an HTTP/1 connection (within `timeout`) and, when it asks
/// for an upgrade other than websocket, presents it as a websocket upgrade (see the module's
/// comment). A connection that closes or times out before a head arrives is passed on with
/// what it sent, for actix-http to answer or close as it does.
pub async fn sniff<T: AsyncRead + Unpin>(mut io: T, timeout: Duration) -> Sniffed<T> {
    let mut buf = BytesMut::with_capacity(4096);
    let read_head = async {
        loop {
            match io.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            match rewrite(&buf) {
                Head::Partial if buf.len() < MAX_HEAD => continue,
                Head::Partial | Head::Other => return None,
                Head::Upgrade { head, original } => return Some((head, original)),
            }
        }
    };
    let found = tokio::time::timeout(timeout, read_head)
        .await
        .ok()
        .flatten();
    match found {
        Some((head, original)) => Sniffed {
            io,
            replay: head,
            original_upgrade: Some(original),
        },
        None => Sniffed {
            io,
            replay: buf.freeze(),
            original_upgrade: None,
        },
    }
}

enum Head {
    /// Not a whole head yet.
    Partial,
    /// Anything but a non-websocket upgrade (or not a request actix-http would accept).
    Other,
    /// The bytes to replay (the head rewritten, then what followed it) and the upgrade asked.
    Upgrade { head: Bytes, original: String },
}

/// Looks at a buffer that starts with a request head.
fn rewrite(buf: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Partial) => return Head::Partial,
        Ok(httparse::Status::Complete(n)) => n,
        Err(_) => return Head::Other,
    };
    let connection_upgrade = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("connection"))
        .flat_map(|h| h.value.split(|b| *b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"));
    let upgrade = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("upgrade"))
        .map(|h| h.value.trim_ascii());
    let (Some(upgrade), true) = (upgrade, connection_upgrade) else {
        return Head::Other;
    };
    let Ok(original) = std::str::from_utf8(upgrade) else {
        return Head::Other;
    };
    if original.is_empty() || original.eq_ignore_ascii_case("websocket") {
        return Head::Other;
    }
    let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
        return Head::Other;
    };
    let mut out = BytesMut::with_capacity(buf.len() + 16);
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(b" ");
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(if version == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    for h in req.headers.iter() {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        if h.name.eq_ignore_ascii_case("upgrade") {
            out.extend_from_slice(b"websocket");
        } else {
            out.extend_from_slice(h.value);
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&buf[len..]);
    Head::Upgrade {
        head: out.freeze(),
        original: original.to_string(),
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Sniffed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.replay.is_empty() {
            return Pin::new(&mut self.io).poll_read(cx, buf);
        }
        let n = self.replay.len().min(buf.remaining());
        buf.put_slice(&self.replay[..n]);
        self.replay.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Sniffed<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn replayed(input: &[u8]) -> (Vec<u8>, Option<String>) {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let input = input.to_vec();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            // In two writes, so a head split across reads is put together.
            let mid = input.len() / 2;
            client.write_all(&input[..mid]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            client.write_all(&input[mid..]).await.unwrap();
        });
        let mut s = sniff(server, Duration::from_secs(5)).await;
        let original = s.original_upgrade().map(str::to_string);
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        (out, original)
    }

    #[tokio::test]
    async fn a_spdy_upgrade_is_presented_as_a_websocket_one() {
        let (out, original) = replayed(
            b"POST /api/v1/namespaces/ns/pods/p/exec?command=ls HTTP/1.1\r\nHost: a\r\n\
              Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\
              Authorization: Bearer t\r\n\r\nSPDYFRAMES",
        )
        .await;
        assert_eq!(original.as_deref(), Some("SPDY/3.1"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /api/v1/namespaces/ns/pods/p/exec?command=ls HTTP/1.1\r\nHost: a\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\
             Authorization: Bearer t\r\n\r\nSPDYFRAMES"
        );
    }

    #[tokio::test]
    async fn everything_else_is_replayed_byte_for_byte() {
        for input in [
            &b"GET /api HTTP/1.1\r\nHost: a\r\n\r\nGET /apis HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframes",
            // An Upgrade header without `Connection: upgrade` asks for nothing.
            b"GET /x HTTP/1.1\r\nUpgrade: SPDY/3.1\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"not http at all\r\n\r\n",
            b"GET /partial HTTP/1.1\r\nHost:",
        ] {
            let (out, original) = replayed(input).await;
            assert_eq!(out, input, "{}", String::from_utf8_lossy(input));
            assert_eq!(original, None);
        }
    }
}
