//! Raw REST access to the apiserver over the shared kube client: requests with our own Accept
//! and Content-Type headers, responses as bytes, and failures as the server's `Status`.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;

/// A request that failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The server answered with an error status (its `metav1.Status`).
    #[error("{}", status_message(.status))]
    Status { code: u16, status: Box<Value> },
    /// The request never got an answer.
    #[error("Unable to connect to the server: {0}")]
    Connect(String),
    /// Nothing listens at the server's address (`host:port`).
    #[error(
        "The connection to the server {0} was refused - did you specify the right host or port?"
    )]
    Refused(String),
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl RestError {
    /// The HTTP status code when the server answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            RestError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }

    /// The message kubectl prints for this error: invalid objects list their causes,
    /// unauthorized requests ask for a login, other Status errors name their reason.
    pub fn user_message(&self) -> String {
        let RestError::Status { status, .. } = self else {
            return match self {
                RestError::Connect(_) | RestError::Refused(_) => self.to_string(),
                other => format!("error: {other}"),
            };
        };
        let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
        let message = self.message();
        match reason {
            "Unauthorized" => format!("error: You must be logged in to the server ({message})"),
            "Invalid" => {
                let Some(details) = status.get("details").filter(|d| d.is_object()) else {
                    return if message.is_empty() {
                        "The request is invalid".to_string()
                    } else {
                        format!("The request is invalid: {message}")
                    };
                };
                let kind = details.get("kind").and_then(Value::as_str).unwrap_or("");
                let name = details.get("name").and_then(Value::as_str).unwrap_or("");
                let s = if !kind.is_empty() || !name.is_empty() {
                    format!("The {kind} {name:?} is invalid")
                } else {
                    "The request is invalid".to_string()
                };
                let causes: Vec<String> = details
                    .get("causes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        let field = c.get("field").and_then(Value::as_str).unwrap_or("");
                        let msg = c.get("message").and_then(Value::as_str).unwrap_or("");
                        if field.is_empty() || msg.starts_with(&format!("{field}: ")) {
                            msg.to_string()
                        } else {
                            format!("{field}: {msg}")
                        }
                    })
                    .collect();
                match causes.len() {
                    0 => s,
                    1 => format!("{s}: {}", causes[0]),
                    _ => {
                        let mut out = format!("{s}: ");
                        for c in causes {
                            out.push_str(&format!("\n* {c}"));
                        }
                        out
                    }
                }
            }
            _ => self.to_string(),
        }
    }

    /// The same error with its message prefixed (`error when creating "f.yaml": ...`).
    pub fn with_prefix(self, prefix: &str) -> Self {
        match self {
            RestError::Status { code, mut status } => {
                let msg = status
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                status["message"] = Value::String(format!("{prefix}{msg}"));
                RestError::Status { code, status }
            }
            other => other,
        }
    }

    /// The Status message alone.
    pub fn message(&self) -> String {
        match self {
            RestError::Status { status, .. } => status
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            other => other.to_string(),
        }
    }
}

/// Upstream's wording: `Error from server (NotFound): pods "x" not found`.
fn status_message(status: &Value) -> String {
    let message = status.get("message").and_then(Value::as_str).unwrap_or("");
    match status.get("reason").and_then(Value::as_str) {
        Some(reason) if !reason.is_empty() && reason != "Unknown" => {
            format!("Error from server ({reason}): {message}")
        }
        _ => format!("Error from server: {message}"),
    }
}

pub type Result<T> = std::result::Result<T, RestError>;

/// A client for raw requests.
#[derive(Clone)]
pub struct Rest {
    pub client: kube::Client,
    /// The server's `host:port`, for upstream's "connection refused" wording.
    pub authority: String,
}

/// The Accept header kubectl sends for server-side tables.
pub const TABLE_ACCEPT: &str =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

impl Rest {
    pub fn new(client: kube::Client, authority: String) -> Self {
        Rest { client, authority }
    }

    /// Sends a request and returns the response once it is complete.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Bytes> {
        let resp = self.start(method, path, accept, content_type, body).await?;
        resp.into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| RestError::Connect(e.to_string()))
    }

    /// Sends a request and returns the response with its body not yet read (for watches).
    pub async fn start(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<http::Response<Body>> {
        let mut req = Request::builder().method(method).uri(path);
        req = req.header(http::header::ACCEPT, accept.unwrap_or("application/json"));
        if let Some(ct) = content_type {
            req = req.header(http::header::CONTENT_TYPE, ct);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| RestError::Invalid(e.to_string()))?;
        let method_name = req.method().as_str().to_string();
        let resp = self.client.send(req).await.map_err(|e| {
            let message = connect_message(&e);
            if message.contains("Connection refused") {
                RestError::Refused(self.authority.clone())
            } else {
                RestError::Connect(message)
            }
        })?;
        let code = resp.status();
        if code.is_success() {
            return Ok(resp);
        }
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Err(with_request(error_from(code, &bytes), &method_name, path))
    }

    pub async fn get(&self, path: &str) -> Result<Bytes> {
        self.send(Method::GET, path, None, None, Vec::new()).await
    }

    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let bytes = self.get(path).await?;
        serde_json::from_slice(&bytes).map_err(|e| RestError::Invalid(e.to_string()))
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &Value,
    ) -> Result<Value> {
        let body = serde_json::to_vec(body).map_err(|e| RestError::Invalid(e.to_string()))?;
        let bytes = self
            .send(method, path, None, Some(content_type), body)
            .await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| RestError::Invalid(e.to_string()))
    }
}

/// The kube error's innermost cause, as Go's net/http would phrase it.
fn connect_message(e: &kube::Error) -> String {
    let mut msg = e.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

/// The error a non-2xx response stands for: its Status, or one made up from the code.
pub fn error_from(code: StatusCode, body: &[u8]) -> RestError {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if v.get("kind").and_then(Value::as_str) == Some("Status") {
            return RestError::Status {
                code: code.as_u16(),
                status: Box::new(v),
            };
        }
    }
    let (reason, message) = match code.as_u16() {
        404 => (
            "NotFound",
            "the server could not find the requested resource".to_string(),
        ),
        401 => (
            "Unauthorized",
            "the server has asked for the client to provide credentials".to_string(),
        ),
        403 => (
            "Forbidden",
            String::from_utf8_lossy(body).trim().to_string(),
        ),
        405 => (
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".to_string(),
        ),
        415 => (
            "UnsupportedMediaType",
            "the server does not support the requested media type".to_string(),
        ),
        _ => ("", String::from_utf8_lossy(body).trim().to_string()),
    };
    RestError::Status {
        code: code.as_u16(),
        status: Box::new(serde_json::json!({
            "kind": "Status", "reason": reason, "message": message, "code": code.as_u16()
        })),
    }
}

/// Errors the server gave without a Status name the request, as client-go does:
/// `(/api/v1/...)` for reads, `(POST /apis/...)` for others.
fn with_request(e: RestError, method: &str, path: &str) -> RestError {
    match e {
        RestError::Status { code, mut status } if status.get("apiVersion").is_none() => {
            let path = path.split('?').next().unwrap_or(path);
            let msg = status
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let suffix = if method == "GET" {
                format!(" ({path})")
            } else {
                format!(" ({method} {path})")
            };
            status["message"] = Value::String(format!("{msg}{suffix}"));
            RestError::Status { code, status }
        }
        other => other,
    }
}

/// Percent-encodes a query parameter value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_read_like_upstream() {
        let body = br#"{"kind":"Status","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","code":404}"#;
        let e = error_from(StatusCode::NOT_FOUND, body);
        assert_eq!(
            e.to_string(),
            r#"Error from server (NotFound): pods "x" not found"#
        );
        assert!(e.is_not_found());
        let e = error_from(StatusCode::NOT_FOUND, b"404 page not found");
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): the server could not find the requested resource"
        );
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("app=web,tier!=db"), "app%3Dweb%2Ctier%21%3Ddb");
    }
}
