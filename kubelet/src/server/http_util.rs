//! Small HTTP helpers of the kubelet's server: the response body type (whole or streamed),
//! plain-text and JSON answers, and query-string decoding.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use std::convert::Infallible;
use tokio::sync::mpsc;

/// Every response's body: whole, or chunks from a task (logs).
pub type Body = BoxBody<Bytes, Infallible>;

/// A whole body.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

/// A body fed by a channel: the sender's task ends when the client goes away (sending fails
/// and `closed()` resolves).
pub fn channel_body() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    (tx, StreamBody::new(stream).boxed())
}

/// A plain-text answer, as Go's `http.Error` writes them.
pub fn text(status: u16, body: impl Into<String>) -> Response<Body> {
    let body: String = body.into();
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .body(full(body))
        .unwrap_or_else(|_| Response::new(full("")))
}

/// A JSON answer.
pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(full(body))
        .unwrap_or_else(|_| Response::new(full("")))
}

/// Decodes `%XX` escapes (and `+` as a space when `plus` is set, as in query strings).
fn decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path segment's text.
pub fn percent_decode(s: &str) -> String {
    decode(s, false)
}

/// A query string's pairs, in order (repeated keys kept, as `command` needs).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k, true), decode(v, true)),
            None => (decode(p, true), String::new()),
        })
        .collect()
}

/// The first value of `key` (Go's `url.Values.Get`).
pub fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_as_go_does() {
        let q = query_pairs(Some("command=sh&command=-c&command=echo+a%26b&input=1&x"));
        assert_eq!(
            q,
            vec![
                ("command".into(), "sh".into()),
                ("command".into(), "-c".into()),
                ("command".into(), "echo a&b".into()),
                ("input".into(), "1".into()),
                ("x".into(), String::new()),
            ]
        );
        assert_eq!(first(&q, "input"), Some("1"));
        assert_eq!(percent_decode("a%2Fb+c%"), "a/b+c%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
