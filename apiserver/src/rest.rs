//! The REST verbs on resources: get, list, create, update, patch, delete, deletecollection,
//! and the `status`, `finalize` and `binding` subresources, with upstream's semantics for
//! metadata, optimistic concurrency, finalizers and graceful pod deletion.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use api_types::fields::FieldSelector;
use api_types::labels::LabelSelector;
use api_types::resources::{storage_of, ResourceInfo};
use api_types::{managed, validation};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::object::{
    format_timestamp, meta_str, metadata_mut, now_rfc3339, set_resource_version, CachedObject,
};
use crate::request::{Query, ResourceRequest};
use crate::storage::{prefix_end, StorageError, StoredKv, WriteOutcome};
use crate::table::{self, Rendering};
use crate::typed;
use crate::AppState;

/// The largest request body accepted, as upstream's 3 MiB.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// How long a read waits for the watch cache to reach a requested revision.
const CACHE_WAIT: Duration = Duration::from_secs(3);

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

/// Resources whose spec changes bump `metadata.generation`.
fn tracks_generation(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.plural),
        (
            "apps",
            "deployments" | "replicasets" | "statefulsets" | "daemonsets"
        ) | ("", "replicationcontrollers")
            | ("batch", "jobs" | "cronjobs")
            | ("autoscaling", "horizontalpodautoscalers")
            | ("policy", "poddisruptionbudgets")
            | ("networking.k8s.io", "ingresses" | "networkpolicies")
    )
}

/// Resources an update may create (upstream's `AllowCreateOnUpdate`).
fn allows_create_on_update(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.plural),
        ("", "endpoints" | "events")
            | ("coordination.k8s.io", "leases")
            | ("rbac.authorization.k8s.io", _)
            | ("events.k8s.io", "events")
    )
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
    let content_type = content_type(req);
    let media = content_type.split(';').next().unwrap_or("").trim();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match media {
        "application/vnd.kubernetes.protobuf" => decode_protobuf(body),
        "application/json" | "" | "*/*" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't decode the request body as JSON: {e}"))
        }),
        "application/yaml" | "application/x-yaml" | "text/yaml" => serde_yaml::from_slice(body)
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

/// Checks `apiVersion`/`kind` against the endpoint (filling them when absent), then decodes
/// the object as its type.
fn typed_object(info: &ResourceInfo, mut obj: Value) -> ApiResult<typed::Decoded> {
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
    fn enforce(
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

/// Duplicate fields of a JSON request body (YAML bodies with duplicate keys fail to decode).
fn body_duplicates(req: &HttpRequest, body: &[u8]) -> Vec<String> {
    let content_type = content_type(req);
    if content_type.contains("yaml") || api_types::protobuf::is_protobuf(content_type) {
        Vec::new()
    } else {
        typed::duplicate_fields(body)
    }
}

/// Converts an object of `info`'s version into its storage version.
fn to_storage(info: &ResourceInfo, obj: Value) -> ApiResult<Value> {
    if info.is_storage_version() {
        return Ok(obj);
    }
    let s = storage_of(info);
    api_types::convert::convert(obj, &info.api_version(), &s.api_version())
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Converts a stored object into `info`'s version.
fn from_storage(info: &ResourceInfo, obj: Value) -> ApiResult<Value> {
    if info.is_storage_version() {
        return Ok(obj);
    }
    let s = storage_of(info);
    api_types::convert::convert(obj, &s.api_version(), &info.api_version())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The bytes of a cached object in `info`'s version.
pub fn encode_cached(info: &ResourceInfo, obj: &CachedObject) -> ApiResult<Bytes> {
    if info.is_storage_version() {
        return Ok(obj.json.clone());
    }
    let v = from_storage(info, obj.value())?;
    Ok(Bytes::from(
        serde_json::to_vec(&v).expect("JSON values serialize"),
    ))
}

fn decode_stored(kv: &StoredKv) -> ApiResult<Value> {
    let mut v: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))?;
    set_resource_version(&mut v, kv.mod_revision);
    Ok(v)
}

/// The bytes stored in etcd: the object without `metadata.resourceVersion` (that is the etcd
/// revision, set on the way out), serialized without copying the object first.
fn stored_bytes(obj: &Value) -> Vec<u8> {
    use serde::ser::{Serialize, SerializeMap, Serializer};
    struct Skipping<'a>(&'a Map<String, Value>, Option<&'static str>);
    impl Serialize for Skipping<'_> {
        fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            let mut map = ser.serialize_map(None)?;
            for (k, v) in self.0 {
                match (self.1, v) {
                    // At the top level, descend into metadata to drop resourceVersion.
                    (None, Value::Object(meta)) if k == "metadata" => {
                        map.serialize_entry(k, &Skipping(meta, Some("resourceVersion")))?
                    }
                    (Some(skip), _) if k == skip => {}
                    _ => map.serialize_entry(k, v)?,
                }
            }
            map.end()
        }
    }
    match obj {
        Value::Object(top) => serde_json::to_vec(&Skipping(top, None)),
        other => serde_json::to_vec(other),
    }
    .expect("JSON values serialize")
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

/// Records `manager`'s ownership of what this write changed in `new`'s managedFields.
fn track_update(
    sinfo: &ResourceInfo,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    subresource: Option<&str>,
) -> Value {
    managed::update(
        sinfo.group,
        sinfo.kind,
        &sinfo.api_version(),
        old,
        new,
        manager,
        subresource,
        &now_rfc3339(),
    )
}

impl From<managed::ApplyError> for ApiError {
    fn from(e: managed::ApplyError) -> Self {
        match e {
            managed::ApplyError::Conflicts(c) => ApiError {
                code: 409,
                reason: "Conflict",
                message: managed::conflict_message("", &c),
                details: Some(crate::error::StatusDetails {
                    causes: managed::conflict_causes(&c)
                        .iter()
                        .map(crate::error::StatusCause::from_value)
                        .collect(),
                    ..Default::default()
                }),
            },
            managed::ApplyError::Invalid(m) => ApiError::bad_request(m),
        }
    }
}

// ----- get ---------------------------------------------------------------------------------

fn object_key(st: &AppState, rr: &ResourceRequest, name: &str) -> String {
    let s = storage_of(rr.info);
    st.storage.object_key(
        s.plural,
        if s.namespaced {
            rr.namespace.as_deref()
        } else {
            None
        },
        name,
    )
}

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

pub async fn get(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
) -> ApiResult<HttpResponse> {
    require_namespace(rr)?;
    let sinfo = storage_of(rr.info);
    let obj = if q.get("resourceVersion") == Some("0") {
        // Any version will do: serve from the watch cache.
        let rc = st
            .cache
            .resource(sinfo.plural)
            .expect("every storage resource is cached");
        let rel = rel_key(sinfo, rr.namespace.as_deref(), name);
        match rc.get(&rel) {
            Some(o) => o.value(),
            None => return Err(ApiError::not_found(rr.info, name)),
        }
    } else {
        let key = object_key(st, rr, name);
        match st.storage.get(&key, sinfo.plural).await? {
            Some(kv) => decode_stored(&kv)?,
            None => return Err(ApiError::not_found(rr.info, name)),
        }
    };
    let obj = project(rr, from_storage(rr.info, obj)?)?;
    object_response(req, q, rr.info, 200, obj, &[])
}

/// A subresource's view of an object (the whole object for `status`).
fn project(rr: &ResourceRequest, obj: Value) -> ApiResult<Value> {
    match rr.subresource.as_deref() {
        Some("scale") => scale_view(&obj),
        _ => Ok(obj),
    }
}

/// The `autoscaling/v1` Scale of a workload: its replicas and its selector as a string.
fn scale_view(obj: &Value) -> ApiResult<Value> {
    let selector = match obj.pointer("/spec/selector") {
        // Deployments, ReplicaSets and StatefulSets have a LabelSelector.
        Some(sel) if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() => {
            let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
                serde_json::from_value(sel.clone())
                    .map_err(|e| ApiError::internal(format!("stored selector is invalid: {e}")))?;
            LabelSelector::from_label_selector(&typed)
                .map_err(|e| ApiError::internal(format!("stored selector is invalid: {e}")))?
                .to_string()
        }
        // ReplicationControllers have a plain map.
        Some(Value::Object(m)) => {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            pairs.sort();
            pairs.join(",")
        }
        _ => String::new(),
    };
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    let mut scale_meta = serde_json::Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(k) {
            scale_meta.insert(k.into(), v.clone());
        }
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    }))
}

/// PUT or PATCH of `<workload>/<name>/scale`: changes the workload's `spec.replicas`.
async fn write_scale(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
    is_patch: bool,
) -> ApiResult<HttpResponse> {
    require_namespace(rr)?;
    let dry_run = q.dry_run()?;
    let info = rr.info;
    let sinfo = storage_of(info);
    let content_type = content_type(req).to_string();
    let key = object_key(st, rr, name);
    loop {
        let Some(current) = st.storage.get(&key, sinfo.plural).await? else {
            return Err(ApiError::not_found(info, name));
        };
        let old = decode_stored(&current)?;
        let view = scale_view(&old)?;
        let wanted = if is_patch {
            apply_patch(&content_type, &view, body)?
        } else {
            decode_body(req, body)?
        };
        let scale: k8s_openapi::api::autoscaling::v1::Scale =
            serde_path_to_error::deserialize(wanted.clone()).map_err(|e| {
                ApiError::bad_request(format!(
                    "Scale in version \"v1\" cannot be handled as a Scale: {}: {}",
                    e.path(),
                    e.inner()
                ))
            })?;
        let wanted_rv = precondition(&wanted)?;
        if wanted_rv.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info, name));
        }
        let replicas = scale.spec.and_then(|s| s.replicas).unwrap_or(0);
        if replicas < 0 {
            let errs = [validation::FieldError {
                kind: validation::ErrorKind::Invalid,
                field: "spec.replicas".into(),
                value: Some(replicas.to_string()),
                detail: format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            }];
            return Err(ApiError::invalid(info, name, &errs));
        }
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(replicas);
        let new = merge_update(sinfo, None, &old, new);
        let new = track_update(sinfo, Some(&old), &new, &manager_of(req, q), Some("scale"));
        if let Some(done) =
            commit_update(st, info, sinfo, &key, &current, &old, new, dry_run).await?
        {
            return object_response(req, q, info, 200, scale_view(&done)?, &[]);
        }
        if wanted_rv.is_some() {
            return Err(ApiError::modified(info, name));
        }
    }
}

pub fn rel_key(sinfo: &ResourceInfo, namespace: Option<&str>, name: &str) -> String {
    match (sinfo.namespaced, namespace) {
        (true, Some(ns)) => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

// ----- list --------------------------------------------------------------------------------

/// Which objects a list or watch selects.
pub struct Filter {
    pub info: &'static ResourceInfo,
    pub sinfo: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn new(rr: &ResourceRequest, q: &Query) -> ApiResult<Self> {
        Ok(Filter {
            info: rr.info,
            sinfo: storage_of(rr.info),
            namespace: rr.namespace.clone(),
            labels: q.label_selector()?,
            fields: q.field_selector(rr.info)?,
        })
    }

    pub fn matches(&self, obj: &CachedObject) -> bool {
        if let Some(ns) = &self.namespace {
            if self.sinfo.namespaced && &obj.namespace != ns {
                return false;
            }
        }
        if !self.labels.matches(&obj.labels) {
            return false;
        }
        if self.fields.is_empty() {
            return true;
        }
        if self.info.is_storage_version() {
            self.fields.matches(|f| obj.field(self.sinfo, f))
        } else {
            // Another version names its fields differently: read them from the converted object.
            match from_storage(self.info, obj.value()) {
                Ok(v) => self.fields.matches(|f| match f {
                    "metadata.name" => obj.name.clone(),
                    "metadata.namespace" => obj.namespace.clone(),
                    _ => self.info.field_value(&v, f),
                }),
                Err(_) => false,
            }
        }
    }
}

/// The continue token: where the next page starts, at which revision.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.to_string(),
    };
    base64::engine::general_purpose::URL_SAFE
        .encode(serde_json::to_vec(&token).expect("token serializes"))
}

fn decode_continue(s: &str) -> ApiResult<ContinueToken> {
    let bad = || ApiError::bad_request("continue key is not valid");
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(s))
        .map_err(|_| bad())?;
    let t: ContinueToken = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if t.v != "meta.k8s.io/v1" || t.rv <= 0 || t.start.contains("..") {
        return Err(bad());
    }
    Ok(t)
}

pub struct ListResult {
    pub items: Vec<Bytes>,
    pub revision: i64,
    pub continue_token: Option<String>,
    pub remaining: Option<i64>,
}

pub async fn list_objects(st: &AppState, rr: &ResourceRequest, q: &Query) -> ApiResult<ListResult> {
    let filter = Filter::new(rr, q)?;
    let limit = q.int("limit")?.filter(|l| *l > 0);
    let rv = q.get("resourceVersion").unwrap_or("");
    let rv_match = q.get("resourceVersionMatch").unwrap_or("");
    let cont = q.get("continue").filter(|c| !c.is_empty());
    if cont.is_some() && !rv.is_empty() {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    match rv_match {
        "" | "NotOlderThan" | "Exact" => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
            )))
        }
    }
    if !rv_match.is_empty() && rv.is_empty() {
        return Err(ApiError::bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    let exact = rv_match == "Exact";
    let requested_rv: Option<i64> = match rv {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}")))?,
        ),
    };
    if exact && requested_rv == Some(0) {
        return Err(ApiError::bad_request(
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
        ));
    }
    // Pages and exact versions come from etcd snapshots; everything else from the cache.
    if cont.is_some() || exact || (limit.is_some() && requested_rv != Some(0)) {
        let (revision, start) = match cont {
            Some(c) => {
                let t = decode_continue(c)?;
                (t.rv, Some(t.start))
            }
            None => (requested_rv.unwrap_or(0), None),
        };
        return list_from_etcd(st, &filter, revision, start, limit).await;
    }
    let revision = match requested_rv {
        None => st.cache.wait_fresh(CACHE_WAIT).await.map_err(|_| {
            ApiError::timeout(
                "Too large resource version: the watch cache is not caught up with etcd",
            )
        })?,
        Some(0) => st.cache.revision(),
        Some(n) => {
            if !st.cache.wait_for(n, CACHE_WAIT).await {
                return Err(ApiError::timeout(format!(
                    "Too large resource version: {n}, current: {}",
                    st.cache.revision()
                )));
            }
            st.cache.revision()
        }
    };
    let rc = st
        .cache
        .resource(filter.sinfo.plural)
        .expect("every storage resource is cached");
    let ns = if filter.sinfo.namespaced {
        filter.namespace.as_deref()
    } else {
        None
    };
    let mut items = Vec::new();
    for o in rc.list(ns).iter().filter(|o| filter.matches(o)) {
        items.push(encode_cached(rr.info, o)?);
    }
    Ok(ListResult {
        items,
        revision,
        continue_token: None,
        remaining: None,
    })
}

async fn list_from_etcd(
    st: &AppState,
    filter: &Filter,
    revision: i64,
    start_rel: Option<String>,
    limit: Option<i64>,
) -> ApiResult<ListResult> {
    let sinfo = filter.sinfo;
    let ns = if sinfo.namespaced {
        filter.namespace.as_deref()
    } else {
        None
    };
    let prefix = st.storage.list_prefix(sinfo.plural, ns);
    let resource_prefix = st.storage.resource_prefix(sinfo.plural);
    let end = prefix_end(&prefix);
    let mut start = match &start_rel {
        Some(rel) => format!("{resource_prefix}{rel}"),
        None => prefix.clone(),
    };
    let rc = st
        .cache
        .resource(sinfo.plural)
        .expect("every storage resource is cached");
    let mut revision = revision;
    let mut items = Vec::new();
    let want = limit.unwrap_or(i64::MAX);
    let unfiltered = filter.labels.is_empty() && filter.fields.is_empty();
    loop {
        let chunk = limit
            .map(|l| (want - items.len() as i64).max(1).max(l.min(500)))
            .unwrap_or(1000);
        let page = st
            .storage
            .range(&start, &end, revision, chunk, sinfo.plural)
            .await
            .map_err(|e| match e {
                StorageError::Compacted(_) if start_rel.is_some() => ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ),
                StorageError::Compacted(rv) => ApiError::expired(format!(
                    "The resourceVersion for the provided list is too old: {rv}"
                )),
                other => other.into(),
            })?;
        if revision == 0 {
            revision = page.revision;
        }
        let n = page.kvs.len();
        for (i, kv) in page.kvs.iter().enumerate() {
            let key = String::from_utf8_lossy(&kv.key).into_owned();
            let rel = key
                .strip_prefix(&resource_prefix)
                .unwrap_or(&key)
                .to_string();
            // The cache usually holds this very version; reuse its bytes.
            let obj = match rc.get(&rel).filter(|o| o.rv == kv.mod_revision) {
                Some(o) => o,
                None => match CachedObject::decode(sinfo, &kv.value, kv.mod_revision) {
                    Ok(o) => Arc::new(o),
                    Err(e) => {
                        tracing::warn!(%key, error = %e, "skipping undecodable object");
                        continue;
                    }
                },
            };
            if filter.matches(&obj) {
                items.push(encode_cached(filter.info, &obj)?);
            }
            if items.len() as i64 >= want {
                let more_here = i + 1 < n;
                if more_here || page.more {
                    let next_rel = format!("{rel}\u{0}");
                    let remaining = if unfiltered {
                        Some(page.count - (i as i64 + 1))
                    } else {
                        None
                    };
                    return Ok(ListResult {
                        items,
                        revision,
                        continue_token: Some(encode_continue(revision, &next_rel)),
                        remaining,
                    });
                }
                return Ok(ListResult {
                    items,
                    revision,
                    continue_token: None,
                    remaining: None,
                });
            }
        }
        match page.kvs.last() {
            Some(last) if page.more => {
                let mut next = last.key.clone();
                next.push(0);
                start = String::from_utf8_lossy(&next).into_owned();
            }
            _ => break,
        }
    }
    Ok(ListResult {
        items,
        revision,
        continue_token: None,
        remaining: None,
    })
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

// ----- create ------------------------------------------------------------------------------

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generated_name(base: &str) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    // Upstream caps the base so the result stays within 63 characters.
    let base: String = base.chars().take(58).collect();
    let suffix: String = (0..5)
        .map(|_| NAME_CHARS[rng.random_range(0..NAME_CHARS.len())] as char)
        .collect();
    format!("{base}{suffix}")
}

/// Whether objects may be created in namespace `ns` (it exists and is not terminating).
fn check_namespace(st: &AppState, ns: &str) -> ApiResult<()> {
    let namespaces = st
        .cache
        .resource("namespaces")
        .expect("namespaces are cached");
    match namespaces.get(ns) {
        None => Err(ApiError::namespace_not_found(ns)),
        Some(o) => {
            let v = o.value();
            if meta_str(&v, "deletionTimestamp").is_some() {
                Err(ApiError::forbidden(format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                )))
            } else {
                Ok(())
            }
        }
    }
}

/// Sets what the server owns in a new object's metadata and status.
fn prepare_create(sinfo: &ResourceInfo, obj: &mut Value, namespace: Option<&str>) -> ApiResult<()> {
    let meta = metadata_mut(obj).expect("typed objects are JSON objects");
    match (namespace, meta.get("namespace").and_then(Value::as_str)) {
        (Some(ns), Some(body_ns)) if !body_ns.is_empty() && body_ns != ns => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ))
        }
        (Some(ns), _) => {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
        }
        (None, _) => {}
    }
    let has_name = meta
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !has_name {
        if let Some(base) = meta.get("generateName").and_then(Value::as_str) {
            if !base.is_empty() {
                let name = generated_name(base);
                meta.insert("name".into(), Value::String(name));
            }
        }
    }
    meta.insert(
        "uid".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    meta.insert("creationTimestamp".into(), Value::String(now_rfc3339()));
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        meta.remove(k);
    }
    if tracks_generation(sinfo) {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    let map = obj.as_object_mut().expect("typed objects are JSON objects");
    match (sinfo.group, sinfo.plural) {
        ("", "pods") => {
            let qos = pod_qos(map.get("spec"));
            map.insert(
                "status".into(),
                json!({"phase": "Pending", "qosClass": qos}),
            );
        }
        ("", "namespaces") => {
            map.insert("status".into(), json!({"phase": "Active"}));
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            if spec.get("finalizers").is_none() {
                spec["finalizers"] = json!(["kubernetes"]);
            }
        }
        // A node registers itself with its status; keep it.
        ("", "nodes") => {}
        _ if sinfo.has_status() => {
            map.remove("status");
        }
        _ => {}
    }
    Ok(())
}

/// The pod's QoS class from its containers' requests and limits.
fn pod_qos(spec: Option<&Value>) -> &'static str {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(res));
            let request = requests.and_then(|r| r.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn validate_new(info: &ResourceInfo, sinfo: &ResourceInfo, obj: &Value) -> ApiResult<()> {
    let errs = validation::validate(sinfo.group, sinfo.plural, sinfo.namespaced, obj);
    if errs.is_empty() {
        Ok(())
    } else {
        let name = meta_str(obj, "name").unwrap_or("");
        Err(ApiError::invalid(info, name, &errs))
    }
}

pub async fn create(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?;
    let dry_run = q.dry_run()?;
    let info = rr.info;
    let sinfo = storage_of(info);
    let validation = FieldValidation::from_query(q)?;
    let decoded = typed_object(info, decode_body(req, body)?)?;
    let warnings = validation.enforce(info, &decoded, body_duplicates(req, body))?;
    let mut obj = to_storage(info, decoded.value)?;
    prepare_create(sinfo, &mut obj, ns)?;
    api_types::defaults::apply(sinfo.group, sinfo.plural, &mut obj);
    let mut obj = track_update(sinfo, None, &obj, &manager_of(req, q), None);
    validate_new(info, sinfo, &obj)?;
    if let Some(ns) = ns {
        check_namespace(st, ns)?;
    }
    let generated =
        meta_str(&obj, "generateName").is_some_and(|g| !g.is_empty()) && q.get("name").is_none();
    for attempt in 0..3 {
        let name = meta_str(&obj, "name").unwrap_or("").to_string();
        if dry_run {
            return object_response(req, q, info, 201, from_storage(info, obj)?, &warnings);
        }
        let key = st.storage.object_key(sinfo.plural, ns, &name);
        match st
            .storage
            .create(&key, stored_bytes(&obj), sinfo.plural)
            .await?
        {
            WriteOutcome::Written(rev) => {
                set_resource_version(&mut obj, rev);
                return object_response(req, q, info, 201, from_storage(info, obj)?, &warnings);
            }
            WriteOutcome::Conflict(_) if generated && attempt < 2 => {
                let base = meta_str(&obj, "generateName").unwrap_or("").to_string();
                metadata_mut(&mut obj)
                    .expect("objects have metadata")
                    .insert("name".into(), Value::String(generated_name(&base)));
            }
            WriteOutcome::Conflict(_) => return Err(ApiError::already_exists(info, &name)),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

// ----- update and patch --------------------------------------------------------------------

/// Everything but `metadata` and `status`: what counts as the spec for `generation`.
fn spec_part(obj: &Value) -> Value {
    let mut copy = obj.clone();
    if let Some(m) = copy.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    copy
}

/// Builds the object to store from the current one and the client's, per subresource.
fn merge_update(sinfo: &ResourceInfo, subresource: Option<&str>, old: &Value, new: Value) -> Value {
    let mut result = match subresource {
        Some("status") => {
            let mut r = old.clone();
            match new.get("status") {
                Some(s) => r["status"] = s.clone(),
                None => {
                    r.as_object_mut().map(|m| m.remove("status"));
                }
            }
            r
        }
        Some("finalize") => {
            let mut r = old.clone();
            let fins = new
                .pointer("/spec/finalizers")
                .cloned()
                .unwrap_or(json!([]));
            r["spec"]["finalizers"] = fins;
            r
        }
        Some("approval") => {
            let mut r = old.clone();
            let conds = new
                .pointer("/status/conditions")
                .cloned()
                .unwrap_or(json!([]));
            r["status"]["conditions"] = conds;
            r
        }
        _ => {
            let mut r = new;
            if sinfo.group.is_empty() && sinfo.plural == "services" {
                keep_allocated_service_fields(old, &mut r);
            }
            if sinfo.has_status() {
                match old.get("status") {
                    Some(s) => r["status"] = s.clone(),
                    None => {
                        r.as_object_mut().map(|m| m.remove("status"));
                    }
                }
            }
            r
        }
    };
    // Metadata the server owns stays as it was.
    let old_meta = old.get("metadata").cloned().unwrap_or(json!({}));
    let meta = metadata_mut(&mut result).expect("objects have metadata");
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "name",
        "namespace",
        "generateName",
    ] {
        match old_meta.get(k) {
            Some(v) => meta.insert(k.into(), v.clone()),
            None => meta.remove(k),
        };
    }
    meta.remove("selfLink");
    if tracks_generation(sinfo) {
        let gen = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let changed = spec_part(old) != spec_part(&result);
        result["metadata"]["generation"] = json!(if changed { gen + 1 } else { gen });
    } else if let Some(g) = old_meta.get("generation") {
        result["metadata"]["generation"] = g.clone();
    }
    result
}

/// A Service's allocated addresses survive an update that leaves them out, as upstream's
/// registry copies them before validating.
fn keep_allocated_service_fields(old: &Value, new: &mut Value) {
    for field in ["clusterIP", "clusterIPs", "ipFamilies"] {
        let unset = new
            .pointer(&format!("/spec/{field}"))
            .is_none_or(|v| v.is_null() || v == "" || v.as_array().is_some_and(|a| a.is_empty()));
        if let (true, Some(prev)) = (unset, old.pointer(&format!("/spec/{field}"))) {
            if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert(field.to_string(), prev.clone());
            }
        }
    }
}

/// The version to store for a write of `obj` over `old`: server-owned parts kept, defaults
/// filled, and (for ordinary writes) the writer's field ownership recorded.
fn next_version(
    sinfo: &ResourceInfo,
    subresource: Option<&str>,
    old: &Value,
    obj: Value,
    manager: Option<&str>,
) -> Value {
    let mut new = merge_update(sinfo, subresource, old, obj);
    if subresource.is_none() {
        api_types::defaults::apply(sinfo.group, sinfo.plural, &mut new);
    }
    match manager {
        Some(m) => track_update(sinfo, Some(old), &new, m, subresource),
        None => new,
    }
}

/// Parses the resourceVersion a client sent as a precondition.
fn precondition(obj: &Value) -> ApiResult<Option<i64>> {
    match meta_str(obj, "resourceVersion") {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "metadata.resourceVersion: Invalid value: {s:?}: must be an integer"
            ))
        }),
    }
}

/// Whether an object being deleted has nothing left holding it.
fn ready_to_delete(obj: &Value) -> bool {
    let deleting = meta_str(obj, "deletionTimestamp").is_some();
    let meta_fins = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let spec_fins = obj.get("kind").and_then(Value::as_str) == Some("Namespace")
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
    let grace = obj
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    deleting && !meta_fins && !spec_fins && grace == 0
}

/// Writes `new` over `current` if nothing changed in between. None: a concurrent writer won.
#[allow(clippy::too_many_arguments)]
async fn commit_update(
    st: &AppState,
    info: &ResourceInfo,
    sinfo: &ResourceInfo,
    key: &str,
    current: &StoredKv,
    old: &Value,
    mut new: Value,
    dry_run: bool,
) -> ApiResult<Option<Value>> {
    let name = meta_str(old, "name").unwrap_or("").to_string();
    let errs = validation::validate_update(sinfo.group, sinfo.plural, sinfo.namespaced, old, &new);
    if !errs.is_empty() {
        return Err(ApiError::invalid(info, &name, &errs));
    }
    set_resource_version(&mut new, current.mod_revision);
    if &new == old {
        // Nothing changed: upstream skips the write and returns the object as it is.
        return Ok(Some(new));
    }
    if dry_run {
        return Ok(Some(new));
    }
    if ready_to_delete(&new) {
        return match st
            .storage
            .delete(key, current.mod_revision, sinfo.plural)
            .await?
        {
            WriteOutcome::Written(rev) => {
                set_resource_version(&mut new, rev);
                Ok(Some(new))
            }
            WriteOutcome::Conflict(_) => Ok(None),
        };
    }
    match st
        .storage
        .update(key, current.mod_revision, stored_bytes(&new), sinfo.plural)
        .await?
    {
        WriteOutcome::Written(rev) => {
            set_resource_version(&mut new, rev);
            Ok(Some(new))
        }
        WriteOutcome::Conflict(_) => Ok(None),
    }
}

fn check_identity(
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

pub async fn update(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    if rr.subresource.as_deref() == Some("scale") {
        return write_scale(st, req, rr, q, name, body, false).await;
    }
    if rr.subresource.as_deref() == Some("scale") {
        return write_scale(st, req, rr, q, name, body, false).await;
    }
    let ns = require_namespace(rr)?;
    let dry_run = q.dry_run()?;
    let info = rr.info;
    let sinfo = storage_of(info);
    let validation = FieldValidation::from_query(q)?;
    let decoded = typed_object(info, decode_body(req, body)?)?;
    let warnings = validation.enforce(info, &decoded, body_duplicates(req, body))?;
    let mut obj = decoded.value;
    let manager = manager_of(req, q);
    check_identity(info, &mut obj, name, ns)?;
    let wanted_rv = precondition(&obj)?;
    let obj = to_storage(info, obj)?;
    let key = object_key(st, rr, name);
    loop {
        let Some(current) = st.storage.get(&key, sinfo.plural).await? else {
            if allows_create_on_update(info) && rr.subresource.is_none() && wanted_rv.is_none() {
                return create(st, req, rr, q, body).await;
            }
            return Err(ApiError::not_found(info, name));
        };
        if wanted_rv.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info, name));
        }
        let old = decode_stored(&current)?;
        let sub = rr.subresource.as_deref();
        let new = next_version(sinfo, sub, &old, obj.clone(), Some(&manager));
        if let Some(done) =
            commit_update(st, info, sinfo, &key, &current, &old, new, dry_run).await?
        {
            return object_response(req, q, info, 200, from_storage(info, done)?, &warnings);
        }
        if wanted_rv.is_some() {
            return Err(ApiError::modified(info, name));
        }
    }
}

/// Applies a JSON patch or JSON merge patch to `target`.
fn apply_patch(content_type: &str, target: &Value, patch: &[u8]) -> ApiResult<Value> {
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

pub async fn patch(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    if rr.subresource.as_deref() == Some("scale") {
        return write_scale(st, req, rr, q, name, body, true).await;
    }
    let ns = require_namespace(rr)?;
    let dry_run = q.dry_run()?;
    let info = rr.info;
    let sinfo = storage_of(info);
    let content_type = content_type(req).to_string();
    if content_type.starts_with("application/apply-patch+yaml") {
        return server_side_apply(st, req, rr, q, name, body).await;
    }
    let manager = manager_of(req, q);
    let validation = FieldValidation::from_query(q)?;
    let duplicates = body_duplicates(req, body);
    let key = object_key(st, rr, name);
    loop {
        let Some(current) = st.storage.get(&key, sinfo.plural).await? else {
            return Err(ApiError::not_found(info, name));
        };
        let old = decode_stored(&current)?;
        let old_versioned = from_storage(info, old.clone())?;
        let patched = apply_patch(&content_type, &old_versioned, body)?;
        let decoded = typed_object(info, patched)?;
        let warnings = validation.enforce(info, &decoded, duplicates.clone())?;
        let mut patched = decoded.value;
        check_identity(info, &mut patched, name, ns)?;
        let wanted_rv = precondition(&patched)?;
        if wanted_rv.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info, name));
        }
        let patched = to_storage(info, patched)?;
        let sub = rr.subresource.as_deref();
        let new = next_version(sinfo, sub, &old, patched, Some(&manager));
        if let Some(done) =
            commit_update(st, info, sinfo, &key, &current, &old, new, dry_run).await?
        {
            return object_response(req, q, info, 200, from_storage(info, done)?, &warnings);
        }
        if wanted_rv.is_some() {
            return Err(ApiError::modified(info, name));
        }
    }
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
    let dry_run = q.dry_run()?;
    let info = rr.info;
    let sinfo = storage_of(info);
    let sub = rr.subresource.as_deref();
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
    let key = object_key(st, rr, name);
    loop {
        let current = st.storage.get(&key, sinfo.plural).await?;
        let old = current.as_ref().map(decode_stored).transpose()?;
        let live = old.clone().map(|o| from_storage(info, o)).transpose()?;
        if live.is_none() && sub.is_some() {
            return Err(ApiError::not_found(info, name));
        }
        let result = managed::apply_subresource(
            info.group,
            info.kind,
            &info.api_version(),
            live.as_ref(),
            &applied,
            manager,
            sub,
            force,
            &now_rfc3339(),
        )?;
        let decoded = typed_object(info, result)?;
        let warnings = validation.enforce(info, &decoded, body_duplicates(req, body))?;
        let mut obj = to_storage(info, decoded.value)?;
        let (Some(current), Some(old)) = (current, old) else {
            // Apply to a missing object creates it.
            check_identity(info, &mut obj, name, ns)?;
            prepare_create(sinfo, &mut obj, ns)?;
            api_types::defaults::apply(sinfo.group, sinfo.plural, &mut obj);
            validate_new(info, sinfo, &obj)?;
            if let Some(ns) = ns {
                check_namespace(st, ns)?;
            }
            if dry_run {
                return object_response(req, q, info, 201, from_storage(info, obj)?, &warnings);
            }
            match st
                .storage
                .create(&key, stored_bytes(&obj), sinfo.plural)
                .await?
            {
                WriteOutcome::Written(rev) => {
                    set_resource_version(&mut obj, rev);
                    return object_response(req, q, info, 201, from_storage(info, obj)?, &warnings);
                }
                WriteOutcome::Conflict(_) => continue,
            }
        };
        let wanted_rv = precondition(&obj)?;
        if wanted_rv.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info, name));
        }
        // Apply recorded its own ownership; no Update entry on top.
        let new = next_version(sinfo, sub, &old, obj, None);
        if let Some(done) =
            commit_update(st, info, sinfo, &key, &current, &old, new, dry_run).await?
        {
            return object_response(req, q, info, 200, from_storage(info, done)?, &warnings);
        }
        if wanted_rv.is_some() {
            return Err(ApiError::modified(info, name));
        }
    }
}

// ----- delete ------------------------------------------------------------------------------

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteOptions {
    grace_period_seconds: Option<i64>,
    propagation_policy: Option<String>,
    orphan_dependents: Option<bool>,
    preconditions: Option<Preconditions>,
    dry_run: Option<Vec<String>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Preconditions {
    uid: Option<String>,
    resource_version: Option<String>,
}

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

/// What deleting an object does, given its current state.
enum DeleteAction {
    /// Remove it from etcd now.
    Remove,
    /// Store this version (deletionTimestamp set) and let finalizers or the kubelet finish.
    Mark(Value),
    /// It is already being deleted as asked; nothing to write.
    Unchanged,
}

fn delete_action(sinfo: &ResourceInfo, obj: &Value, opts: &DeleteOptions) -> DeleteAction {
    let now = jiff::Timestamp::now();
    let already = meta_str(obj, "deletionTimestamp").is_some();
    let is_pod = sinfo.group.is_empty() && sinfo.plural == "pods";
    if is_pod {
        let scheduled = obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let phase = obj
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("");
        let terminal = phase == "Succeeded" || phase == "Failed";
        let default_grace = obj
            .pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30);
        let grace = opts.grace_period_seconds.unwrap_or(default_grace).max(0);
        // Unscheduled and finished pods have no kubelet to wait for.
        if scheduled && !terminal && grace > 0 {
            let current = obj
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64);
            if already && current.is_some_and(|c| c <= grace) {
                return DeleteAction::Unchanged;
            }
            let mut marked = obj.clone();
            let at = now + jiff::SignedDuration::from_secs(grace);
            marked["metadata"]["deletionTimestamp"] = json!(format_timestamp(at));
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            return DeleteAction::Mark(marked);
        }
    }
    let mut finalizers: Vec<Value> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let policy_finalizer = match opts.propagation_policy.as_deref() {
        Some("Foreground") => Some("foregroundDeletion"),
        Some("Orphan") => Some("orphan"),
        _ if opts.orphan_dependents == Some(true) => Some("orphan"),
        _ => None,
    };
    if let Some(f) = policy_finalizer {
        if !finalizers.iter().any(|x| x == f) {
            finalizers.push(json!(f));
        }
    }
    let is_namespace = sinfo.group.is_empty() && sinfo.plural == "namespaces";
    let spec_finalizers = is_namespace
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
    if finalizers.is_empty() && !spec_finalizers {
        return DeleteAction::Remove;
    }
    let mut marked = obj.clone();
    if !finalizers.is_empty() {
        marked["metadata"]["finalizers"] = Value::Array(finalizers);
    }
    if !already {
        marked["metadata"]["deletionTimestamp"] = json!(format_timestamp(now));
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    } else if opts.grace_period_seconds == Some(0) && is_pod {
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    }
    if is_namespace {
        marked["status"]["phase"] = json!("Terminating");
    }
    if &marked == obj {
        DeleteAction::Unchanged
    } else {
        DeleteAction::Mark(marked)
    }
}

/// Deletes one object; returns the object as the client should see it (gone, or marked).
async fn delete_one(
    st: &AppState,
    info: &ResourceInfo,
    key: &str,
    name: &str,
    opts: &DeleteOptions,
) -> ApiResult<(u16, Value)> {
    let sinfo = storage_of(info);
    let dry_run = opts.dry_run.is_some();
    loop {
        let Some(current) = st.storage.get(key, sinfo.plural).await? else {
            return Err(ApiError::not_found(info, name));
        };
        let obj = decode_stored(&current)?;
        if let Some(p) = &opts.preconditions {
            let uid = meta_str(&obj, "uid").unwrap_or("");
            if let Some(want) = p.uid.as_deref().filter(|u| !u.is_empty()) {
                if want != uid {
                    return Err(ApiError::conflict(
                        info,
                        name,
                        &format!("Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"),
                    ));
                }
            }
            if let Some(want) = p.resource_version.as_deref().filter(|r| !r.is_empty()) {
                if want != current.mod_revision.to_string() {
                    return Err(ApiError::conflict(
                        info,
                        name,
                        &format!("Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {}", current.mod_revision),
                    ));
                }
            }
        }
        match delete_action(sinfo, &obj, opts) {
            DeleteAction::Unchanged => return Ok((200, from_storage(info, obj)?)),
            DeleteAction::Mark(marked) => {
                if dry_run {
                    return Ok((200, from_storage(info, marked)?));
                }
                let mut marked = marked;
                match st
                    .storage
                    .update(
                        key,
                        current.mod_revision,
                        stored_bytes(&marked),
                        sinfo.plural,
                    )
                    .await?
                {
                    WriteOutcome::Written(rev) => {
                        set_resource_version(&mut marked, rev);
                        // Upstream answers 202 when deletion goes on in the background.
                        return Ok((200, from_storage(info, marked)?));
                    }
                    WriteOutcome::Conflict(_) => continue,
                }
            }
            DeleteAction::Remove => {
                if dry_run {
                    return Ok((200, from_storage(info, obj)?));
                }
                match st
                    .storage
                    .delete(key, current.mod_revision, sinfo.plural)
                    .await?
                {
                    WriteOutcome::Written(_) => return Ok((200, from_storage(info, obj)?)),
                    WriteOutcome::Conflict(_) => continue,
                }
            }
        }
    }
}

pub async fn delete(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    q: &Query,
    name: &str,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    require_namespace(rr)?;
    let opts = delete_options(req, body, q)?;
    let key = object_key(st, rr, name);
    let (status, obj) = delete_one(st, rr.info, &key, name, &opts).await?;
    object_response(req, q, rr.info, status, obj, &[])
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
    st.cache
        .wait_fresh(CACHE_WAIT)
        .await
        .map_err(ApiError::from)?;
    let rc = st
        .cache
        .resource(filter.sinfo.plural)
        .expect("every storage resource is cached");
    let ns = if filter.sinfo.namespaced {
        filter.namespace.as_deref()
    } else {
        None
    };
    let targets: Vec<Arc<CachedObject>> = rc
        .list(ns)
        .into_iter()
        .filter(|o| filter.matches(o))
        .collect();
    let mut items = Vec::new();
    for o in targets {
        let key = st.storage.object_key(
            filter.sinfo.plural,
            if filter.sinfo.namespaced {
                Some(o.namespace.as_str())
            } else {
                None
            },
            &o.name,
        );
        match delete_one(st, rr.info, &key, &o.name, &opts).await {
            Ok((_, v)) => items.push(v),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
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

/// Binds a pod to a node (`pods/<name>/binding` or `bindings`): sets `spec.nodeName` once and
/// the `PodScheduled` condition.
pub async fn bind(
    st: &AppState,
    req: &HttpRequest,
    rr: &ResourceRequest,
    pod_name: Option<&str>,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    let ns = require_namespace(rr)?.unwrap_or("default").to_string();
    let binding_info =
        api_types::resources::find("", "v1", "bindings").expect("bindings are in the table");
    let binding = typed_object(binding_info, decode_body(req, body)?)?.value;
    let name = match (pod_name, meta_str(&binding, "name")) {
        (Some(p), Some(b)) if !b.is_empty() && b != p => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({b}) does not match the name on the URL ({p})"
            )))
        }
        (Some(p), _) => p.to_string(),
        (None, Some(b)) if !b.is_empty() => b.to_string(),
        _ => {
            return Err(ApiError::bad_request(
                "metadata.name: Required value: name is required",
            ))
        }
    };
    let target = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let target_kind = binding
        .pointer("/target/kind")
        .and_then(Value::as_str)
        .unwrap_or("Node");
    if target.is_empty() || (target_kind != "Node" && !target_kind.is_empty()) {
        let errs = [validation::FieldError {
            kind: validation::ErrorKind::Required,
            field: "target.name".into(),
            value: None,
            detail: "a binding must name a node".into(),
        }];
        return Err(ApiError::invalid(binding_info, &name, &errs));
    }
    let pods = api_types::resources::find("", "v1", "pods").expect("pods are in the table");
    let key = st.storage.object_key("pods", Some(&ns), &name);
    loop {
        let Some(current) = st.storage.get(&key, "pods").await? else {
            return Err(ApiError::not_found(pods, &name));
        };
        let mut pod = decode_stored(&current)?;
        if meta_str(&pod, "deletionTimestamp").is_some() {
            return Err(ApiError::conflict(
                pods,
                &name,
                &format!("pod {name} is being deleted, cannot be assigned to a host"),
            ));
        }
        if let Some(node) = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            return Err(ApiError::conflict(
                pods,
                &name,
                &format!("pod {name} is already assigned to node \"{node}\""),
            ));
        }
        pod["spec"]["nodeName"] = json!(target);
        if let Some(ann) = binding
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            let meta = metadata_mut(&mut pod).expect("pods have metadata");
            let anns = meta.entry("annotations").or_insert_with(|| json!({}));
            for (k, v) in ann {
                anns[k] = v.clone();
            }
        }
        let cond = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now_rfc3339()});
        let conds = pod["status"]
            .as_object_mut()
            .map(|s| s.entry("conditions").or_insert_with(|| json!([])));
        if let Some(Value::Array(list)) = conds {
            list.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
            list.push(cond);
        }
        match st
            .storage
            .update(&key, current.mod_revision, stored_bytes(&pod), "pods")
            .await?
        {
            WriteOutcome::Written(_) => return Ok(crate::error::success_response(201, None)),
            WriteOutcome::Conflict(_) => continue,
        }
    }
}

/// Creates the namespaces every cluster starts with, if they are missing.
pub async fn ensure_default_namespaces(st: &AppState) -> Result<(), StorageError> {
    let ns_info =
        api_types::resources::find("", "v1", "namespaces").expect("namespaces are in the table");
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let mut obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        prepare_create(ns_info, &mut obj, None).expect("a plain namespace is valid");
        obj["metadata"]["labels"] = json!({"kubernetes.io/metadata.name": name});
        let key = st.storage.object_key("namespaces", None, name);
        st.storage
            .create(&key, stored_bytes(&obj), "namespaces")
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::find;

    #[test]
    fn main_resource_updates_keep_status_and_bump_generation_on_spec_change() {
        let deploy = find("apps", "v1", "deployments").unwrap();
        let old = json!({"metadata": {"name": "d", "uid": "u", "generation": 3, "creationTimestamp": "t"},
            "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let new = json!({"metadata": {"name": "d", "uid": "forged"}, "spec": {"replicas": 2}, "status": {"replicas": 9}});
        let merged = merge_update(deploy, None, &old, new);
        assert_eq!(merged["status"]["replicas"], 1);
        assert_eq!(merged["metadata"]["uid"], "u");
        assert_eq!(merged["metadata"]["generation"], 4);
        assert_eq!(merged["spec"]["replicas"], 2);

        let status_only =
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 7}, "status": {"replicas": 5}});
        let merged = merge_update(deploy, Some("status"), &old, status_only);
        assert_eq!(merged["spec"]["replicas"], 1);
        assert_eq!(merged["status"]["replicas"], 5);
        assert_eq!(merged["metadata"]["generation"], 3);
    }

    #[test]
    fn stored_bytes_drop_only_the_resource_version() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "7", "labels": {"resourceVersion": "keep"}},
            "data": {"resourceVersion": "keep"}});
        let stored: Value = serde_json::from_slice(&stored_bytes(&obj)).unwrap();
        let mut want = obj.clone();
        want["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        assert_eq!(stored, want);
        // Key order is kept, so unchanged objects store byte-identical values.
        assert_eq!(
            String::from_utf8(stored_bytes(&obj)).unwrap(),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"resourceVersion":"keep"}},"data":{"resourceVersion":"keep"}}"#
        );
    }

    #[test]
    fn service_updates_keep_the_allocated_cluster_ip() {
        let svc = find("", "v1", "services").unwrap();
        let old = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}});
        let new = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 81}]}});
        let merged = merge_update(svc, None, &old, new);
        assert_eq!(merged["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(merged["spec"]["clusterIPs"], json!(["10.96.0.10"]));
        assert_eq!(merged["spec"]["ports"][0]["port"], 81);
    }

    #[test]
    fn graceful_pod_deletion_marks_scheduled_pods_only() {
        let pods = find("", "v1", "pods").unwrap();
        let opts = DeleteOptions::default();
        let unscheduled =
            json!({"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}});
        assert!(matches!(
            delete_action(pods, &unscheduled, &opts),
            DeleteAction::Remove
        ));
        let scheduled = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n"}, "status": {"phase": "Running"}});
        match delete_action(pods, &scheduled, &opts) {
            DeleteAction::Mark(m) => {
                assert_eq!(m["metadata"]["deletionGracePeriodSeconds"], 30);
                assert!(m["metadata"]["deletionTimestamp"].is_string());
            }
            _ => panic!("a running scheduled pod is deleted gracefully"),
        }
        let now = DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        assert!(matches!(
            delete_action(pods, &scheduled, &now),
            DeleteAction::Remove
        ));
    }

    #[test]
    fn finalizers_hold_deletion() {
        let cms = find("", "v1", "configmaps").unwrap();
        let obj = json!({"metadata": {"name": "c", "finalizers": ["example.com/hold"]}});
        let marked = match delete_action(cms, &obj, &DeleteOptions::default()) {
            DeleteAction::Mark(m) => m,
            _ => panic!("finalizers hold the object"),
        };
        assert!(!ready_to_delete(&marked));
        let mut released = marked.clone();
        released["metadata"]["finalizers"] = json!([]);
        assert!(ready_to_delete(&released));
        // Deleting again changes nothing.
        assert!(matches!(
            delete_action(cms, &marked, &DeleteOptions::default()),
            DeleteAction::Unchanged
        ));
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(42, "ns/name\u{0}");
        let d = decode_continue(&t).unwrap();
        assert_eq!(d.rv, 42);
        assert_eq!(d.start, "ns/name\u{0}");
        assert!(decode_continue("not-a-token").is_err());
    }

    #[test]
    fn qos_classes() {
        assert_eq!(
            pod_qos(Some(&json!({"containers": [{"name": "a"}]}))),
            "BestEffort"
        );
        let g = json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(pod_qos(Some(&g)), "Guaranteed");
        let b = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(pod_qos(Some(&b)), "Burstable");
    }
}
