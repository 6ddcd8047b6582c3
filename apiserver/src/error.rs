//! API errors as clients see them: a `metav1.Status` with upstream's `reason`, `code` and
//! message wording, built from the resource, name and cause.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use api_types::resources::ResourceInfo;
use api_types::validation::FieldError;
use serde::Serialize;
use serde_json::Value;

/// `metav1.StatusDetails`, its fields in upstream's order; empty ones are left out as Go's
/// `omitempty` does.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatusDetails {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i32>,
}

/// `metav1.StatusCause`: reason, message, field, in upstream's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatusCause {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
}

impl StatusCause {
    /// A cause from its JSON form (`{"reason", "message", "field"}`), as pure-logic crates
    /// such as `api_types::managed` build them.
    pub fn from_value(v: &Value) -> Self {
        let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        StatusCause {
            reason: get("reason"),
            message: get("message"),
            field: get("field"),
        }
    }
}

/// `metav1.Status` as upstream's Go encoder writes it: `kind, apiVersion, metadata, status,
/// message, reason, details, code`, empty fields left out (metadata is always `{}`).
#[derive(Serialize)]
struct StatusBody<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: EmptyMeta,
    #[serde(skip_serializing_if = "str::is_empty")]
    status: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a StatusDetails>,
    #[serde(skip_serializing_if = "is_zero")]
    code: u16,
}

#[derive(Serialize)]
struct EmptyMeta {}

fn is_zero(c: &u16) -> bool {
    *c == 0
}

/// Whether a Status reports success or failure (`status` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// The one builder of every `metav1.Status` body the apiserver sends (failures, binding's
/// `201 Success`, deletions answered with a Status), ending with the newline Go's
/// `json.Encoder` writes, so clients comparing whole bodies see upstream's bytes.
pub fn status_bytes(
    outcome: Outcome,
    message: &str,
    reason: &str,
    details: Option<&StatusDetails>,
    code: u16,
) -> Vec<u8> {
    let body = StatusBody {
        kind: "Status",
        api_version: "v1",
        metadata: EmptyMeta {},
        status: match outcome {
            Outcome::Success => "Success",
            Outcome::Failure => "Failure",
        },
        message,
        reason,
        details,
        code,
    };
    let mut out = serde_json::to_vec(&body).expect("a Status always serializes");
    out.push(b'\n');
    out
}

/// A success `Status` response (`pods/binding`'s 201, a deletion answered with a Status).
pub fn success_response(code: u16, details: Option<&StatusDetails>) -> HttpResponse {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    HttpResponse::build(status)
        .content_type("application/json")
        .body(status_bytes(Outcome::Success, "", "", details, code))
}

/// One failure of an API request, carrying everything its `Status` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// Boxed: errors travel in every `Result` of the request path, and most have none.
    pub details: Option<Box<StatusDetails>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn not_found(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", info.qualified_plural(), name),
        )
        .with_details(details(info, name))
    }

    /// A 404 for a path that names no resource at all.
    pub fn path_not_found(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
        .with_details(StatusDetails {
            causes: vec![StatusCause {
                reason: "UnexpectedServerResponse".into(),
                message: "404 page not found".into(),
                field: String::new(),
            }],
            ..Default::default()
        })
    }

    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(404, "NotFound", format!("namespaces \"{ns}\" not found")).with_details(
            StatusDetails {
                name: ns.into(),
                kind: "namespaces".into(),
                ..Default::default()
            },
        )
    }

    pub fn already_exists(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", info.qualified_plural(), name),
        )
        .with_details(details(info, name))
    }

    /// The optimistic-concurrency failure of an update with a stale resourceVersion.
    pub fn conflict(info: &ResourceInfo, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                info.qualified_plural(),
                name,
                why
            ),
        )
        .with_details(details(info, name))
    }

    pub fn modified(info: &ResourceInfo, name: &str) -> Self {
        Self::conflict(
            info,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// A 422 with one cause per field error, worded as upstream's `NewInvalid`: the details
    /// name the kind (not the resource), and each cause's message is the error without its
    /// field path, which the cause carries separately.
    pub fn invalid(info: &ResourceInfo, name: &str, errs: &[FieldError]) -> Self {
        let causes: Vec<StatusCause> = errs
            .iter()
            .map(|e| {
                let full = e.message();
                let prefix = format!("{}: ", e.field);
                let body = full.strip_prefix(&prefix).unwrap_or(&full).to_string();
                StatusCause {
                    reason: e.kind.reason().to_string(),
                    message: body,
                    field: e.field.clone(),
                }
            })
            .collect();
        let joined = api_types::validation::aggregate_message(errs);
        let d = StatusDetails {
            name: name.into(),
            group: info.group.into(),
            kind: info.kind.into(),
            causes,
            ..Default::default()
        };
        Self::new(
            422,
            "Invalid",
            // Upstream names the group-kind: `Deployment.apps "x" is invalid: ...`.
            format!(
                "{}{}{} \"{}\" is invalid: {}",
                info.kind,
                if info.group.is_empty() { "" } else { "." },
                info.group,
                name,
                joined
            ),
        )
        .with_details(d)
    }

    pub fn method_not_allowed(verb: &str, info: &ResourceInfo) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({verb} {})",
                info.qualified_plural()
            ),
        )
    }

    /// `410 Expired`: a resourceVersion or continue token older than etcd's history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Gone", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// The `metav1.Status` body's bytes, as sent.
    pub fn status_bytes(&self) -> Vec<u8> {
        // An error upstream did not classify (reason `Unknown`) has no reason at all.
        status_bytes(
            Outcome::Failure,
            &self.message,
            self.reason,
            self.details.as_deref(),
            self.code,
        )
    }

    /// The `metav1.Status` body as a JSON value (fields in upstream's order), for embedding
    /// in a watch `ERROR` event.
    pub fn to_status(&self) -> Value {
        serde_json::from_slice(&self.status_bytes()).expect("a Status is valid JSON")
    }

    /// Upstream's `429` for storage that is not ready: clients wait `Retry-After` and retry.
    pub fn storage_initializing() -> Self {
        Self::new(429, "TooManyRequests", "storage is (re)initializing").with_details(
            StatusDetails {
                retry_after_seconds: Some(1),
                ..Default::default()
            },
        )
    }

    pub fn to_response(&self) -> HttpResponse {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = HttpResponse::build(code);
        resp.content_type("application/json");
        // An error that names a retry delay says it in the header too, as upstream's.
        if let Some(secs) = self.details.as_ref().and_then(|d| d.retry_after_seconds) {
            resp.insert_header(("Retry-After", secs.to_string()));
        }
        resp.body(self.status_bytes())
    }
}

/// The details of an error about one object: its name, group and resource.
fn details(info: &ResourceInfo, name: &str) -> StatusDetails {
    StatusDetails {
        name: name.into(),
        group: info.group.into(),
        kind: info.plural.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::find;

    #[test]
    fn not_found_reads_like_upstream() {
        let pods = find("", "v1", "pods").unwrap();
        let e = ApiError::not_found(pods, "x");
        let s = e.to_status();
        assert_eq!(s["message"], "pods \"x\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"]["kind"], "pods");
        let deploy = find("apps", "v1", "deployments").unwrap();
        let s = ApiError::already_exists(deploy, "web").to_status();
        assert_eq!(s["message"], "deployments.apps \"web\" already exists");
        assert_eq!(s["details"]["group"], "apps");
    }

    #[test]
    fn invalid_details_name_the_kind_and_causes_omit_the_path() {
        use api_types::validation::{ErrorKind, FieldError};
        let cms = find("", "v1", "configmaps").unwrap();
        let err = FieldError {
            kind: ErrorKind::Required,
            field: "metadata.name".into(),
            value: None,
            detail: "name or generateName is required".into(),
        };
        let s = ApiError::invalid(cms, "", &[err]).to_status();
        assert_eq!(s["details"]["kind"], "ConfigMap");
        let cause = &s["details"]["causes"][0];
        assert_eq!(cause["field"], "metadata.name");
        assert!(
            !cause["message"]
                .as_str()
                .unwrap()
                .starts_with("metadata.name"),
            "{cause}"
        );
        assert!(s["message"]
            .as_str()
            .unwrap()
            .contains("metadata.name: Required value"));
    }

    #[test]
    fn conflict_names_the_object() {
        let cm = find("", "v1", "configmaps").unwrap();
        let s = ApiError::modified(cm, "c").to_status();
        assert_eq!(s["code"], 409);
        assert_eq!(s["reason"], "Conflict");
        assert!(s["message"].as_str().unwrap().starts_with(
            "Operation cannot be fulfilled on configmaps \"c\": the object has been modified"
        ));
    }

    /// The bytes upstream's apiserver writes for these errors (field order and the
    /// trailing newline of Go's `json.Encoder`), compared whole as some clients do.
    #[test]
    fn status_bodies_are_upstreams_bytes() {
        let pods = find("", "v1", "pods").unwrap();
        let body = String::from_utf8(ApiError::not_found(pods, "x").status_bytes()).unwrap();
        assert_eq!(
            body,
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":404}\n"
        );
        let deploy = find("apps", "v1", "deployments").unwrap();
        let body =
            String::from_utf8(ApiError::already_exists(deploy, "web").status_bytes()).unwrap();
        assert_eq!(
            body,
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"deployments.apps \\\"web\\\" already exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":409}\n"
        );
        use api_types::validation::{ErrorKind, FieldError};
        let cms = find("", "v1", "configmaps").unwrap();
        let err = FieldError {
            kind: ErrorKind::Required,
            field: "metadata.name".into(),
            value: None,
            detail: "name or generateName is required".into(),
        };
        let body = String::from_utf8(ApiError::invalid(cms, "", &[err]).status_bytes()).unwrap();
        assert_eq!(
            body,
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"ConfigMap \\\"\\\" is invalid: metadata.name: Required value: name or generateName is required\",\"reason\":\"Invalid\",\"details\":{\"kind\":\"ConfigMap\",\"causes\":[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value: name or generateName is required\",\"field\":\"metadata.name\"}]},\"code\":422}\n"
        );
    }

    #[test]
    fn success_status_has_no_message_or_reason() {
        let body = status_bytes(Outcome::Success, "", "", None, 201);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"code\":201}\n"
        );
    }
}
