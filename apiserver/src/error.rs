//! API errors as clients see them: a `metav1.Status` with upstream's `reason`, `code` and
//! message wording, built from the resource, name and cause.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use api_types::resources::ResourceInfo;
use api_types::validation::FieldError;
use serde_json::{json, Value};

/// One failure of an API request, carrying everything its `Status` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
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

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
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
        .with_details(json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}))
    }

    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(404, "NotFound", format!("namespaces \"{ns}\" not found"))
            .with_details(json!({"name": ns, "kind": "namespaces"}))
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
        let causes: Vec<Value> = errs
            .iter()
            .map(|e| {
                let full = e.message();
                let prefix = format!("{}: ", e.field);
                let body = full.strip_prefix(&prefix).unwrap_or(&full).to_string();
                json!({
                    "reason": e.kind.reason(),
                    "message": body,
                    "field": e.field,
                })
            })
            .collect();
        let joined = api_types::validation::aggregate_message(errs);
        let mut d = json!({"name": name, "kind": info.kind, "causes": causes});
        if !info.group.is_empty() {
            d["group"] = Value::String(info.group.to_string());
        }
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

    /// The `metav1.Status` body.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        // An error upstream did not classify (reason `Unknown`) has no reason at all.
        if self.reason.is_empty() {
            if let Some(m) = status.as_object_mut() {
                m.remove("reason");
            }
        }
        status
    }

    pub fn to_response(&self) -> HttpResponse {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(code)
            .content_type("application/json")
            .body(self.to_status().to_string())
    }
}

fn details(info: &ResourceInfo, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": info.plural});
    if !info.group.is_empty() {
        d["group"] = Value::String(info.group.to_string());
    }
    d
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
}
