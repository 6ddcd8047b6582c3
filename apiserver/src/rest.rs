//! The HTTP side of the REST verbs: decode the request (body, content type, query), call the
//! generic store (`registry`), encode the response (the object, a Table, or a Status). What a
//! write does to an object lives in the store and the kinds' strategies, not here.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use api_types::managed;
use api_types::resources::ResourceInfo;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult, StatusCause, StatusDetails};
use crate::object::meta_str;
use crate::registry::apply::ApplyRequest;
use crate::registry::delete::DeleteOptions;
use crate::registry::input::{check_identity, precondition, typed_object, FieldValidation};
use crate::registry::list::list_objects;
use crate::registry::store::{from_storage, to_storage, Store, WriteOptions};
use crate::registry::subresource::scale_view;
use crate::registry::update::ScaleInput;
use crate::request::{Query, ResourceRequest};
use crate::storage::StorageError;
use crate::table::{self, Rendering};
use crate::typed;
use crate::AppState;

// The watch side reads lists' filters and cached bytes from here.
pub use crate::registry::list::{encode_cached, Filter};

/// The largest request body accepted, as upstream's 3 MiB.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Compacted(rv) => ApiError::expired(format!(
                "The resourceVersion for the provided list is too old ({rv})."
            )),
            other => ApiError::internal(other.to_string()),
        }
    }
}

// ----- request bodies -------------------------------------------------------------------

/// The request's `Content-Type`, JSON when absent.
fn content_type(req: &HttpRequest) -> &str {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
}

/// Decodes a JSON, YAML or Kubernetes protobuf body into a JSON value.
pub fn decode_body(req: &HttpRequest, body: &[u8]) -> ApiResult<Value> {
    decode_body_checked(req, body).map(|(v, _)| v)
}

/// Decodes a body in one pass, with the fields a JSON body has twice (YAML bodies with
/// duplicate keys fail to decode; protobuf has none).
pub fn decode_body_checked(req: &HttpRequest, body: &[u8]) -> ApiResult<(Value, Vec<String>)> {
    let content_type = content_type(req);
    let media = content_type.split(';').next().unwrap_or("").trim();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match media {
        "application/vnd.kubernetes.protobuf" => Ok((decode_protobuf(body)?, Vec::new())),
        "application/json" | "" | "*/*" => typed::parse_json(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't decode the request body as JSON: {e}"))
        }),
        "application/yaml" | "application/x-yaml" | "text/yaml" => serde_yaml::from_slice(body)
            .map(|v| (v, Vec::new()))
            .map_err(|e| {
                ApiError::bad_request(format!("couldn't decode the request body as YAML: {e}"))
            }),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// A `application/vnd.kubernetes.protobuf` body (client-go's typed clients) as JSON.
fn decode_protobuf(body: &[u8]) -> ApiResult<Value> {
    api_types::protobuf::decode(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't decode the request body as protobuf: {e}"))
    })
}

/// Duplicate fields of a JSON request body (YAML bodies with duplicate keys fail to decode).
fn body_duplicates(req: &HttpRequest, body: &[u8]) -> Vec<String> {
    let content_type = content_type(req);
    if content_type.contains("yaml") || api_types::protobuf::is_protobuf(content_type) {
        Vec::new()
    } else {
        typed::duplicate_fields(body)
    }
}

// ----- responses ----------------------------------------------------------------------------

pub fn json_response(status: u16, body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("valid status code"))
        .content_type("application/json")
        .body(body.into())
}

/// Responds with one object of `info`'s version, as a Table when asked.
fn object_response(
    req: &HttpRequest,
    q: &Query,
    info: &ResourceInfo,
    status: u16,
    obj: Value,
    warnings: &[String],
) -> ApiResult<HttpResponse> {
    let body = match table::rendering(req) {
        Rendering::Json => serde_json::to_vec(&obj).expect("JSON values serialize"),
        r => {
            let rv = meta_str(&obj, "resourceVersion").unwrap_or("").to_string();
            let t = table::render(info, r, q, vec![obj], json!({"resourceVersion": rv}), false);
            serde_json::to_vec(&t).expect("JSON values serialize")
        }
    };
    let mut resp = json_response(status, body);
    for w in warnings {
        // RFC 7234 warn-code 299 with an unnamed agent, as upstream sends them.
        let text = format!(
            "299 - {}",
            serde_json::to_string(w).expect("strings serialize")
        );
        if let Ok(v) = header::HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    Ok(resp)
}

/// The field manager of a write: `fieldManager`, else the User-Agent's product, as upstream.
fn manager_of(req: &HttpRequest, q: &Query) -> String {
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    managed::manager_name(q.get("fieldManager"), agent)
}

impl From<managed::ApplyError> for ApiError {
    fn from(e: managed::ApplyError) -> Self {
        match e {
            managed::ApplyError::Conflicts(c) => ApiError {
                code: 409,
                reason: "Conflict",
                message: managed::conflict_message("", &c),
                details: Some(Box::new(StatusDetails {
                    causes: managed::conflict_causes(&c)
                        .iter()
                        .map(StatusCause::from_value)
                        .collect(),
                    ..Default::default()
                })),
            },
            managed::ApplyError::Invalid(m) => ApiError::bad_request(m),
        }
    }
}

// ----- reads ----------------------------------------------------------------------------------

fn require_namespace(rr: &ResourceRequest) -> ApiResult<Option<&str>> {
    if rr.info.namespaced {
        match rr.namespace.as_deref() {
            Some(ns) => Ok(Some(ns)),
            None => Err(ApiError::path_not_found(&format!(
                "{} without a namespace",
                rr.info.plural
            ))),
        }
    } else {
        Ok(None)
    }
}

/// The write options of a request: dry run, field manager, subresource.
fn write_options<'a>(
    rr: &'a ResourceRequest,
    q: &Query,
    manager: Option<&'a str>,
    user: &'a crate::filters::authentication::UserInfo,
) -> ApiResult<WriteOptions<'a>> {
    Ok(WriteOptions {
        dry_run: q.dry_run()?,
        manager,
        subresource: rr.subresource.as_deref(),
        user: Some(user),
    })
}

pub async fn get(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let store = Store::new(st, rr.info, ns);
    let obj = if q.get("resourceVersion") == Some("0") {
        // Any version will do: serve from the watch cache.
        store.get_cached(name)?
    } else {
        store.get(name).await?
    };
    let obj = from_storage(rr.info, obj)?;
    let obj = match rr.subresource.as_deref() {
        Some("scale") => scale_view(&obj)?,
        _ => obj,
    };
    object_response(req, q, rr.info, 200, obj, &[])
}

pub async fn list(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
) -> ApiResult<HttpResponse> {
    let result = list_objects(st, rr, q).await?;
    let mut meta = json!({"resourceVersion": result.revision.to_string()});
    if let Some(c) = &result.continue_token {
        meta["continue"] = Value::String(c.clone());
    }
    if let Some(r) = result.remaining {
        meta["remainingItemCount"] = json!(r);
    }
    match table::rendering(req) {
        Rendering::Json => {
            // Assemble the list from the objects' bytes without re-encoding them.
            let head = json!({
                "kind": rr.info.list_kind(),
                "apiVersion": rr.info.api_version(),
                "metadata": meta,
            })
            .to_string();
            let total: usize = result.items.iter().map(|b| b.len() + 1).sum();
            let mut body = Vec::with_capacity(head.len() + total + 16);
            body.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
            body.extend_from_slice(b",\"items\":[");
            for (i, item) in result.items.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(item);
            }
            body.extend_from_slice(b"]}");
            Ok(json_response(200, body))
        }
        r => {
            let objs: Vec<Value> = result
                .items
                .iter()
                .map(|b| serde_json::from_slice(b).expect("cached objects are valid JSON"))
                .collect();
            let body = table::render(rr.info, r, q, objs, meta, true);
            Ok(json_response(
                200,
                serde_json::to_vec(&body).expect("JSON values serialize"),
            ))
        }
    }
}

// ----- writes ---------------------------------------------------------------------------------

pub async fn create(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let info = rr.info;
    let validation = FieldValidation::from_query(q)?;
    let (value, duplicates) = decode_body_checked(req, body)?;
    let decoded = typed_object(info, value)?;
    let warnings = validation.enforce(info, &decoded, duplicates)?;
    let obj = to_storage(info, decoded.value)?;
    let manager = manager_of(req, q);
    let user = crate::filters::user_of(req);
    let opts = write_options(rr, q, Some(&manager), &user)?;
    let created = Store::new(st, info, ns).create(obj, &opts).await?;
    object_response(req, q, info, 201, from_storage(info, created)?, &warnings)
}

pub async fn update(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let info = rr.info;
    let manager = manager_of(req, q);
    let user = crate::filters::user_of(req);
    let opts = write_options(rr, q, Some(&manager), &user)?;
    let store = Store::new(st, info, ns);
    if rr.subresource.as_deref() == Some("scale") {
        let scale = store
            .scale(name, ScaleInput::Replace(decode_body(req, body)?), &opts)
            .await?;
        return object_response(req, q, info, 200, scale, &[]);
    }
    let validation = FieldValidation::from_query(q)?;
    let (value, duplicates) = decode_body_checked(req, body)?;
    let decoded = typed_object(info, value)?;
    let warnings = validation.enforce(info, &decoded, duplicates)?;
    let mut obj = decoded.value;
    check_identity(info, &mut obj, name, ns)?;
    let wanted_rv = precondition(&obj)?;
    let obj = to_storage(info, obj)?;
    let (code, done) = store.update(name, obj, wanted_rv, &opts).await?;
    object_response(req, q, info, code, from_storage(info, done)?, &warnings)
}

pub async fn patch(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let info = rr.info;
    let content_type = content_type(req).to_string();
    if content_type.starts_with("application/apply-patch+yaml") {
        return server_side_apply(st, req, rr, q, name, body).await;
    }
    let manager = manager_of(req, q);
    let user = crate::filters::user_of(req);
    let opts = write_options(rr, q, Some(&manager), &user)?;
    let store = Store::new(st, info, ns);
    if rr.subresource.as_deref() == Some("scale") {
        let input = ScaleInput::Patch {
            content_type: &content_type,
            body,
        };
        let scale = store.scale(name, input, &opts).await?;
        return object_response(req, q, info, 200, scale, &[]);
    }
    let validation = FieldValidation::from_query(q)?;
    let duplicates = body_duplicates(req, body);
    let ((code, done), warnings) = store
        .patch(name, &content_type, body, validation, &duplicates, &opts)
        .await?;
    object_response(req, q, info, code, from_storage(info, done)?, &warnings)
}

/// Server-side apply (`application/apply-patch+yaml`): merges the applied configuration into
/// the live object (or creates it) with field ownership, refusing changes to fields other
/// managers own unless `force=true`.
async fn server_side_apply(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let info = rr.info;
    let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::new(
            422,
            "Invalid",
            "fieldManager: Required value: is required for apply patch",
        ));
    };
    let force = q.flag("force")?;
    // Apply configurations are checked strictly unless the client asks otherwise.
    let validation = match q.get("fieldValidation") {
        None | Some("") => FieldValidation::Strict,
        _ => FieldValidation::from_query(q)?,
    };
    let applied: Value = serde_yaml::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    let Some(map) = applied.as_object() else {
        return Err(ApiError::bad_request(
            "the apply configuration must be an object",
        ));
    };
    let av = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if av != info.api_version() || kind != info.kind {
        return Err(ApiError::bad_request(format!(
            "the apply configuration must have apiVersion {:?} and kind {:?} (got {av:?}, {kind:?})",
            info.api_version(),
            info.kind
        )));
    }
    match applied.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if n == name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        None => {
            return Err(ApiError::bad_request(
                "metadata.name: Required value: name is required",
            ))
        }
    }
    let duplicates = body_duplicates(req, body);
    let apply = ApplyRequest {
        applied: &applied,
        manager,
        force,
        validation,
        duplicates: &duplicates,
    };
    let user = crate::filters::user_of(req);
    let opts = write_options(rr, q, None, &user)?;
    let ((code, done), warnings) = Store::new(st, info, ns).apply(name, &apply, &opts).await?;
    object_response(req, q, info, code, from_storage(info, done)?, &warnings)
}

// ----- delete ------------------------------------------------------------------------------

/// The DeleteOptions of a request: its body (JSON or protobuf) and query.
fn delete_options(req: &HttpRequest, body: &[u8], q: &Query) -> ApiResult<DeleteOptions> {
    let mut opts: DeleteOptions = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else if api_types::protobuf::is_protobuf(content_type(req)) {
        serde_json::from_value(decode_protobuf(body)?).map_err(|e| {
            ApiError::bad_request(format!(
                "couldn't decode DeleteOptions from the request body: {e}"
            ))
        })?
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "couldn't decode DeleteOptions from the request body: {e}"
            ))
        })?
    };
    if let Some(g) = q.int("gracePeriodSeconds")? {
        opts.grace_period_seconds = Some(g);
    }
    if let Some(p) = q.get("propagationPolicy") {
        opts.propagation_policy = Some(p.to_string());
    }
    if q.dry_run()? {
        opts.dry_run = Some(vec!["All".into()]);
    }
    match opts.propagation_policy.as_deref() {
        None | Some("Foreground" | "Background" | "Orphan") => {}
        Some(other) => {
            return Err(ApiError::new(
                422,
                "Invalid",
                format!("propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""),
            ))
        }
    }
    if opts.orphan_dependents.is_some() && opts.propagation_policy.is_some() {
        return Err(ApiError::new(
            422,
            "Invalid",
            "propagationPolicy: Invalid value: orphanDependents and propagationPolicy cannot both be set",
        ));
    }
    if let Some(d) = &opts.dry_run {
        if d.iter().any(|v| v != "All") {
            return Err(ApiError::bad_request(
                "dryRun: Unsupported value: supported values: \"All\"",
            ));
        }
    }
    Ok(opts)
}

pub async fn delete(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let opts = delete_options(req, body, q)?;
    let (status, obj) = Store::new(st, rr.info, ns).delete(name, &opts).await?;
    object_response(req, q, rr.info, status, from_storage(rr.info, obj)?, &[])
}

pub async fn delete_collection(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    if rr.info.namespaced && rr.namespace.is_none() {
        // Upstream serves deletecollection only per namespace for namespaced resources.
        return Err(ApiError::method_not_allowed("DELETECOLLECTION", rr.info));
    }
    let opts = delete_options(req, body, q)?;
    let filter = Filter::new(rr, q)?;
    let store = Store::new(st, rr.info, rr.namespace.as_deref());
    let mut items = Vec::new();
    for v in store.delete_collection(&filter, &opts).await? {
        items.push(from_storage(rr.info, v)?);
    }
    let body = json!({
        "kind": rr.info.list_kind(),
        "apiVersion": rr.info.api_version(),
        "metadata": {"resourceVersion": st.cache.revision().to_string()},
        "items": items,
    });
    Ok(json_response(
        200,
        serde_json::to_vec(&body).expect("JSON values serialize"),
    ))
}

// ----- pods/binding ------------------------------------------------------------------------

/// Binds a pod to a node (`pods/<name>/binding` or `bindings`); answers upstream's
/// `201 Success` Status.
pub async fn bind(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    pod_name: Option<&str>,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let binding_info =
        api_types::resources::find("", "v1", "bindings").expect("bindings are in the table");
    let binding = typed_object(binding_info, decode_body(req, body)?)?.value;
    let name = match (pod_name, meta_str(&binding, "name")) {
        (Some(p), _) => p.to_string(),
        (None, Some(b)) if !b.is_empty() => b.to_string(),
        _ => {
            return Err(ApiError::bad_request(
                "metadata.name: Required value: name is required",
            ))
        }
    };
    let pods = api_types::resources::find("", "v1", "pods").expect("pods are in the table");
    let manager = manager_of(req, q);
    let user = crate::filters::user_of(req);
    let opts = WriteOptions {
        dry_run: q.dry_run()?,
        manager: Some(&manager),
        subresource: Some("binding"),
        user: Some(&user),
    };
    Store::new(st, pods, ns).bind(&name, binding, &opts).await?;
    Ok(crate::error::success_response(201, None))
}
