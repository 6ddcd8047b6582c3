//! OpenAPI documents (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/<group-version>`) built
//! from the resource table, so that upstream clients find what they look for.
//!
//! kubectl reads them before it creates or applies anything: it looks up the PATCH
//! operation carrying the object's `x-kubernetes-group-version-kind` and checks that it
//! takes the `fieldValidation` query parameter (server-side field validation). kubectl 1.27
//! reads the Swagger 2.0 document as gnostic's protobuf `openapi.v2.Document`, newer ones read
//! the OpenAPI 3 root (one entry per group-version, each with a content hash) and then the
//! group-version documents as JSON. Both also parse the schemas (the v2 definitions must all
//! resolve), and `kubectl explain`/client-side apply read the field schemas and their
//! `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key` extensions.
//!
//! The field schemas come from k8s-openapi's `schemars` implementations (named as upstream
//! names them, `io.k8s.api.core.v1.Pod`); list kinds are written here. Every document is
//! built once, on first use, and kept.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use api_types::resources::{ResourceInfo, Subresource, RESOURCES};
use bytes::Bytes;
use k8s_openapi::schemars::{generate::SchemaSettings, SchemaGenerator};
use prost::Message;
use serde_json::{json, Map, Value};

/// One served document: its bytes, its `ETag` header value (quoted, a content hash) and
/// its `Content-Type`.
#[derive(Debug, Clone)]
pub struct Doc {
    pub body: Bytes,
    pub etag: String,
    pub content_type: &'static str,
}

/// The media type kubectl asks `/openapi/v2` for.
pub const V2_PROTOBUF_ACCEPT: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The media type upstream answers protobuf requests for `/openapi/v2` with.
pub const V2_PROTOBUF_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
const JSON: &str = "application/json";

/// `GET /openapi/v3`: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}}}`.
pub fn v3_root() -> &'static Doc {
    &v3_docs().root
}

/// `GET /openapi/v3/<path>` for `path` = `api/v1` or `apis/<group>/<version>` (a leading
/// `/` is ignored); `None` for any other path.
pub fn v3_group_version(path: &str) -> Option<&'static Doc> {
    v3_docs().group_versions.get(path.trim_matches('/'))
}

/// `GET /openapi/v2` as JSON.
pub fn v2_json() -> &'static Doc {
    &v2_docs().json
}

/// `GET /openapi/v2` as gnostic's protobuf `openapi.v2.Document`.
pub fn v2_protobuf() -> &'static Doc {
    &v2_docs().protobuf
}

/// Whether a request for `/openapi/v2` with this `Accept` header is to be answered with the
/// protobuf document: the protobuf type (either spelling) is the acceptable type with the
/// highest quality (the earliest listed among equals), JSON, `application/*` and `*/*` being
/// the others served.
pub fn wants_v2_protobuf(accept: &str) -> bool {
    let mut best: Option<(f32, bool)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
        }
        let protobuf = match media.as_str() {
            V2_PROTOBUF_ACCEPT | V2_PROTOBUF_CONTENT_TYPE => true,
            "application/json" | "application/*" | "*/*" => false,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, protobuf));
        }
    }
    best.is_some_and(|(_, protobuf)| protobuf)
}

fn doc(body: Vec<u8>, content_type: &'static str) -> Doc {
    Doc {
        etag: format!("\"{}\"", content_hash(&body)),
        body: Bytes::from(body),
        content_type,
    }
}

/// Upstream's document hash: SHA-512 of the body, upper-case hex.
fn content_hash(body: &[u8]) -> String {
    use std::fmt::Write;
    openssl::sha::sha512(body)
        .iter()
        .fold(String::with_capacity(128), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

// ----- names ---------------------------------------------------------------------------------

/// `Core`, `Apps`, `RbacAuthorization`: the group as operation ids spell it.
fn group_ident(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    group
        .trim_end_matches(".k8s.io")
        .split(['.', '-'])
        .map(capitalize)
        .collect()
}

/// `core_v1`, `apps_v1`, `rbacAuthorization_v1`: the operation tag of a group-version.
fn tag(group: &str, version: &str) -> String {
    let ident = group_ident(group);
    let mut chars = ident.chars();
    let first = chars.next().map(|c| c.to_ascii_lowercase());
    format!(
        "{}{}_{}",
        first.into_iter().collect::<String>(),
        chars.as_str(),
        version
    )
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `api/v1` or `apis/apps/v1`: the group-version's key in the v3 root.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The definition name upstream gives a built-in kind, for kinds without a typed schema.
fn fallback_definition_name(group: &str, version: &str, kind: &str) -> String {
    let package = if group.is_empty() {
        "core"
    } else {
        group.split('.').next().unwrap_or(group)
    };
    format!("io.k8s.api.{package}.{version}.{kind}")
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";
const REF_PREFIX: &str = "#/definitions/";

fn meta(name: &str) -> String {
    format!("{META}.{name}")
}

mod paths;
#[allow(clippy::large_enum_variant)]
pub mod pb;
mod schemas;
#[cfg(test)]
mod tests;
mod v2;
mod v3;

use paths::*;
use schemas::*;
use v2::*;
use v3::*;
