//! What a written object must satisfy before the store takes it: the endpoint's apiVersion
//! and kind, its type (decoded by the kind's registration), the name and namespace on the
//! URL, and the caller's `fieldValidation`; and the patch formats applied to stored objects.

use api_types::resources::ResourceInfo;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::object::{meta_str, metadata_mut};
use crate::request::Query;
use crate::typed;

/// Checks `apiVersion`/`kind` against the endpoint (filling them when absent), then decodes
/// the object as its type.
pub fn typed_object(info: &ResourceInfo, mut obj: Value) -> ApiResult<typed::Decoded> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(format!(
            "the request body must be a JSON object describing a {}",
            info.kind
        )));
    };
    let expected_av = info.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::String(expected_av.clone()));
        }
        Some(av) if av == expected_av => {}
        Some(av) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({expected_av})"
            )))
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::String(info.kind.into()));
        }
        Some(k) if k == info.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                info.kind
            )))
        }
    }
    if !map.get("metadata").is_some_and(Value::is_object) {
        if map.get("metadata").is_some_and(|m| !m.is_null()) {
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: metadata: expected an object",
                info.kind, info.version, info.kind
            )));
        }
        map.insert("metadata".into(), Value::Object(Map::new()));
    }
    typed::normalize(info, obj).map_err(|e| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {}: {}",
            info.kind, info.version, info.kind, e.path, e.message
        ))
    })
}

/// How a write wants unknown and duplicate fields handled (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    /// Upstream's default: drop them and say so in `Warning` headers.
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn from_query(q: &Query) -> ApiResult<Self> {
        match q.get("fieldValidation") {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }

    /// The warnings to send, or the error a strict request gets.
    pub fn enforce(
        self,
        info: &ResourceInfo,
        decoded: &typed::Decoded,
        duplicates: Vec<String>,
    ) -> ApiResult<Vec<String>> {
        let mut problems: Vec<String> = duplicates
            .into_iter()
            .map(|d| format!("duplicate field \"{d}\""))
            .collect();
        problems.extend(
            decoded
                .unknown_fields
                .iter()
                .map(|u| format!("unknown field \"{u}\"")),
        );
        match self {
            FieldValidation::Ignore => Ok(Vec::new()),
            FieldValidation::Warn => Ok(problems),
            FieldValidation::Strict if problems.is_empty() => Ok(Vec::new()),
            FieldValidation::Strict => Err(ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
                problems.join(", "),
                kind = info.kind,
                version = info.version,
            ))),
        }
    }
}

/// Fills or checks the name and namespace of a written object against the URL's.
pub fn check_identity(
    info: &ResourceInfo,
    obj: &mut Value,
    name: &str,
    ns: Option<&str>,
) -> ApiResult<()> {
    let meta = metadata_mut(obj).expect("typed objects have metadata");
    match meta.get("name").and_then(Value::as_str) {
        None | Some("") => {
            meta.insert("name".into(), Value::String(name.to_string()));
        }
        Some(n) if n == name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
    }
    if let Some(ns) = ns {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), Value::String(ns.to_string()));
            }
            Some(n) if n == ns => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
        }
    } else if info.namespaced {
        return Err(ApiError::bad_request("a namespace is required"));
    }
    Ok(())
}

/// Parses the resourceVersion a client sent as a precondition.
pub fn precondition(obj: &Value) -> ApiResult<Option<i64>> {
    match meta_str(obj, "resourceVersion") {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "metadata.resourceVersion: Invalid value: {s:?}: must be an integer"
            ))
        }),
    }
}

/// Applies a JSON patch or JSON merge patch to `target`.
pub fn apply_patch(content_type: &str, target: &Value, patch: &[u8]) -> ApiResult<Value> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let mut doc = target.clone();
    match media {
        "application/json-patch+json" => {
            let p: json_patch::Patch = serde_json::from_slice(patch).map_err(|e| {
                ApiError::bad_request(format!("the server rejected our request due to an error in our request: {e}"))
            })?;
            json_patch::patch(&mut doc, &p).map_err(|e| {
                ApiError::new(422, "Invalid", format!("the server rejected our request due to an error in our request: {e}"))
            })?;
        }
        "application/merge-patch+json" => {
            let p: Value = serde_json::from_slice(patch).map_err(|e| {
                ApiError::bad_request(format!("the server rejected our request due to an error in our request: {e}"))
            })?;
            if !p.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            json_patch::merge(&mut doc, &p);
        }
        "application/strategic-merge-patch+json" => {
            let p: Value = serde_json::from_slice(patch).map_err(|e| {
                ApiError::bad_request(format!("the server rejected our request due to an error in our request: {e}"))
            })?;
            doc = api_types::strategic::apply(target, &p).map_err(|e| {
                ApiError::new(422, "Invalid", format!("the server rejected our request due to an error in our request: {e}"))
            })?;
        }
        other => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {other:?})"),
            ))
        }
    }
    Ok(doc)
}
