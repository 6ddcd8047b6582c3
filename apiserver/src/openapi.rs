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

// ----- schemas -------------------------------------------------------------------------------

/// Registers the schema of a kind with the generator (from its registration); returns its
/// definition name.
fn register_kind(
    gen: &mut SchemaGenerator,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<String> {
    crate::registry::kinds::lookup(group, version, kind).map(|k| (k.schema)(gen))
}

/// A group/version/kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Gvk {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
}

impl Gvk {
    fn of(r: &ResourceInfo) -> Gvk {
        Gvk {
            group: r.group,
            version: r.version,
            kind: r.kind,
        }
    }

    fn json(self) -> Value {
        json!({"group": self.group, "kind": self.kind, "version": self.version})
    }
}

/// Every definition, refs as `#/definitions/<name>`, and the names each kind is defined under.
struct Schemas {
    definitions: BTreeMap<String, Value>,
    /// Definition names of kinds (the served kinds and the subresource kinds).
    kinds: BTreeMap<Gvk, String>,
    /// Definition names of the served kinds' lists.
    lists: BTreeMap<Gvk, String>,
}

impl Schemas {
    fn kind(&self, gvk: Gvk) -> &str {
        &self.kinds[&gvk]
    }

    fn list(&self, gvk: Gvk) -> &str {
        &self.lists[&gvk]
    }
}

/// The kinds documented: every resource's, and those of their subresources (not the proxied
/// ones, whose options kinds are query parameters rather than bodies).
fn all_kinds() -> BTreeSet<Gvk> {
    let mut out = BTreeSet::new();
    for r in RESOURCES {
        out.insert(Gvk::of(r));
        for s in r.subresources.iter().filter(|s| !s.is_proxied()) {
            out.insert(sub_gvk(r, s));
        }
    }
    out
}

/// The kind a subresource reads and writes.
fn sub_gvk(r: &ResourceInfo, s: &Subresource) -> Gvk {
    if s.kind.is_empty() {
        Gvk::of(r)
    } else {
        Gvk {
            group: s.group,
            version: s.version,
            kind: s.kind,
        }
    }
}

/// Every group-version served, in table order.
fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

fn build_schemas() -> Schemas {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
    let mut gen = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.meta_schema = None;
        })
        .into_generator();
    gen.subschema_for::<metav1::DeleteOptions>();
    gen.subschema_for::<metav1::Status>();
    gen.subschema_for::<metav1::Patch>();
    gen.subschema_for::<metav1::ListMeta>();
    gen.subschema_for::<metav1::APIResourceList>();
    gen.subschema_for::<metav1::WatchEvent<k8s_openapi::apimachinery::pkg::runtime::RawExtension>>(
    );

    let mut kinds = BTreeMap::new();
    let mut untyped = Vec::new();
    for gvk in all_kinds() {
        match register_kind(&mut gen, gvk.group, gvk.version, gvk.kind) {
            Some(name) => {
                kinds.insert(gvk, name);
            }
            None => untyped.push(gvk),
        }
    }
    let mut definitions: BTreeMap<String, Value> = gen.take_definitions(true).into_iter().collect();
    for gvk in untyped {
        let name = fallback_definition_name(gvk.group, gvk.version, gvk.kind);
        definitions.insert(
            name.clone(),
            json!({
                "description": format!("{} objects ({}).", gvk.kind, gv_display(gvk.group, gvk.version)),
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
            }),
        );
        kinds.insert(gvk, name);
    }

    let mut lists = BTreeMap::new();
    for r in RESOURCES {
        let gvk = Gvk::of(r);
        let item = &kinds[&gvk];
        let name = format!("{item}List");
        definitions.insert(name.clone(), list_schema(r, item));
        lists.insert(gvk, name);
    }

    for def in definitions.values_mut() {
        fix_schema(def);
    }
    for (name, def) in definitions.iter_mut() {
        upstream_adjustments(name, def);
    }
    for (name, field, strategy, key) in patch_strategies() {
        let Some(prop) = definitions
            .get_mut(name)
            .and_then(|d| d.pointer_mut(&format!("/properties/{field}")))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        prop.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
        if let Some(key) = key {
            prop.insert("x-kubernetes-patch-merge-key".into(), json!(key));
        }
    }

    // The kinds carry the group-version-kinds they are served as.
    let mut gvks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (gvk, name) in &kinds {
        gvks.entry(name.clone()).or_default().push(gvk.json());
    }
    for (gvk, name) in &lists {
        let list_kind = format!("{}List", gvk.kind);
        gvks.entry(name.clone())
            .or_default()
            .push(json!({"group": gvk.group, "kind": list_kind, "version": gvk.version}));
    }
    gvks.entry(meta("Status"))
        .or_default()
        .push(json!({"group": "", "kind": "Status", "version": "v1"}));
    for (group, version) in group_versions() {
        for kind in ["DeleteOptions", "WatchEvent"] {
            gvks.entry(meta(kind))
                .or_default()
                .push(json!({"group": group, "kind": kind, "version": version}));
        }
    }
    for (name, list) in gvks {
        if let Some(Value::Object(def)) = definitions.get_mut(&name) {
            def.insert("x-kubernetes-group-version-kind".into(), Value::Array(list));
        }
    }

    Schemas {
        definitions,
        kinds,
        lists,
    }
}

fn gv_display(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn list_schema(r: &ResourceInfo, item: &str) -> Value {
    json!({
        "description": format!("{}List is a list of {} objects.", r.kind, r.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {
                "description": "The versioned schema of this representation of an object: group/version, or the version alone for the core group.",
                "type": "string",
            },
            "items": {
                "description": format!("The {} in the list.", r.plural),
                "type": "array",
                "items": {"$ref": format!("{REF_PREFIX}{item}")},
            },
            "kind": {
                "description": "The REST resource this object represents, in CamelCase.",
                "type": "string",
            },
            "metadata": {
                "description": "Standard list metadata: resourceVersion and continue token.",
                "$ref": format!("{REF_PREFIX}{}", meta("ListMeta")),
            },
        },
    })
}

/// Keeps the schema within what OpenAPI v2 (and gnostic) can say: one `type`, no
/// `const`/`oneOf`/`anyOf`/`not`, and no `metadata` in `required` (upstream never requires it).
fn fix_schema(v: &mut Value) {
    let Value::Object(m) = v else { return };
    if let Some(Value::Array(types)) = m.get("type") {
        let first = types.iter().find(|t| *t != "null").cloned();
        match first {
            Some(t) => m.insert("type".into(), t),
            None => m.remove("type"),
        };
    }
    if let Some(c) = m.remove("const") {
        m.insert("enum".into(), json!([c]));
    }
    for key in ["oneOf", "anyOf", "not", "$schema", "title"] {
        m.remove(key);
    }
    let requires_meta = m
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|req| req.iter().any(|r| r == "metadata"));
    let meta_is_ref = m
        .get("properties")
        .and_then(|p| p.get("metadata"))
        .and_then(|p| p.get("$ref"))
        .and_then(Value::as_str)
        .is_some_and(|r| r.ends_with(".ObjectMeta") || r.ends_with(".ListMeta"));
    if requires_meta && meta_is_ref {
        if let Some(Value::Array(req)) = m.get_mut("required") {
            req.retain(|r| r != "metadata");
        }
    }
    if m.get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        m.remove("required");
    }
    for (key, child) in m.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" => {
                if let Value::Object(props) = child {
                    for p in props.values_mut() {
                        fix_schema(p);
                    }
                }
            }
            "items" | "additionalProperties" => fix_schema(child),
            "allOf" => {
                if let Value::Array(list) = child {
                    for s in list {
                        fix_schema(s);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Where k8s-openapi's schemas differ from upstream's published ones.
fn upstream_adjustments(name: &str, def: &mut Value) {
    let Value::Object(m) = def else { return };
    match name {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => {
            m.remove("x-kubernetes-int-or-string");
            m.insert("type".into(), json!("string"));
            m.insert("format".into(), json!("int-or-string"));
        }
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => {
            m.remove("x-kubernetes-int-or-string");
            m.insert("type".into(), json!("string"));
        }
        _ => {}
    }
}

/// Upstream's `patchStrategy`/`patchMergeKey` tags, published as the
/// `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key` extensions that client-side
/// apply reads (they match the server's table in `api_types::strategic`): one
/// `<definition> <field> <strategy> [<merge key>]` a line.
const PATCH_STRATEGIES: &str = "
io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta finalizers merge
io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta ownerReferences merge uid
io.k8s.api.core.v1.PodSpec containers merge name
io.k8s.api.core.v1.PodSpec initContainers merge name
io.k8s.api.core.v1.PodSpec ephemeralContainers merge name
io.k8s.api.core.v1.PodSpec volumes merge,retainKeys name
io.k8s.api.core.v1.PodSpec imagePullSecrets merge name
io.k8s.api.core.v1.PodSpec schedulingGates merge name
io.k8s.api.core.v1.PodSpec resourceClaims merge,retainKeys name
io.k8s.api.core.v1.PodSpec hostAliases merge ip
io.k8s.api.core.v1.PodSpec topologySpreadConstraints merge topologyKey
io.k8s.api.core.v1.Container ports merge containerPort
io.k8s.api.core.v1.Container env merge name
io.k8s.api.core.v1.Container volumeMounts merge mountPath
io.k8s.api.core.v1.Container volumeDevices merge devicePath
io.k8s.api.core.v1.EphemeralContainer ports merge containerPort
io.k8s.api.core.v1.EphemeralContainer env merge name
io.k8s.api.core.v1.EphemeralContainer volumeMounts merge mountPath
io.k8s.api.core.v1.EphemeralContainer volumeDevices merge devicePath
io.k8s.api.core.v1.PodStatus conditions merge type
io.k8s.api.core.v1.PodStatus podIPs merge ip
io.k8s.api.core.v1.PodStatus hostIPs merge ip
io.k8s.api.core.v1.PodStatus resourceClaimStatuses merge,retainKeys name
io.k8s.api.core.v1.ServiceSpec ports merge port
io.k8s.api.core.v1.ServiceStatus conditions merge type
io.k8s.api.core.v1.ServiceAccount secrets merge name
io.k8s.api.core.v1.NodeSpec podCIDRs merge
io.k8s.api.core.v1.NodeStatus conditions merge type
io.k8s.api.core.v1.NodeStatus addresses merge type
io.k8s.api.core.v1.NamespaceStatus conditions merge type
io.k8s.api.core.v1.PersistentVolumeClaimStatus conditions merge type
io.k8s.api.core.v1.ReplicationControllerStatus conditions merge type
io.k8s.api.apps.v1.DeploymentSpec strategy retainKeys
io.k8s.api.apps.v1.DeploymentStatus conditions merge type
io.k8s.api.apps.v1.ReplicaSetStatus conditions merge type
io.k8s.api.apps.v1.StatefulSetStatus conditions merge type
io.k8s.api.apps.v1.DaemonSetStatus conditions merge type
io.k8s.api.batch.v1.JobStatus conditions merge type
io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus conditions merge type
io.k8s.api.policy.v1.PodDisruptionBudgetSpec selector replace
io.k8s.api.policy.v1.PodDisruptionBudgetStatus conditions merge type
io.k8s.api.storage.v1.CSINodeSpec drivers merge name
";

/// The entries of [`PATCH_STRATEGIES`]: definition, field, strategy, merge key.
fn patch_strategies() -> impl Iterator<
    Item = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ),
> {
    PATCH_STRATEGIES.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        Some((words.next()?, words.next()?, words.next()?, words.next()))
    })
}

/// The definitions `roots` reference, directly or not, roots included.
fn closure<'a>(
    defs: &BTreeMap<String, Value>,
    roots: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().map(str::to_string).collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            collect_refs(def, &mut todo);
        }
    }
    seen
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "$ref" {
                    if let Some(name) = child.as_str().and_then(|r| r.strip_prefix(REF_PREFIX)) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

// ----- operations ----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum In {
    Path,
    Query,
}

#[derive(Debug, Clone)]
struct Param {
    name: &'static str,
    location: In,
    ty: &'static str,
    description: String,
    required: bool,
}

fn query(name: &'static str, ty: &'static str, description: &str) -> Param {
    Param {
        name,
        location: In::Query,
        ty,
        description: description.to_string(),
        required: false,
    }
}

fn p_pretty() -> Param {
    query(
        "pretty",
        "string",
        "If 'true', the response is pretty-printed.",
    )
}
fn p_dry_run() -> Param {
    query(
        "dryRun",
        "string",
        "When present, the request is validated and processed but its effects are not persisted. The only accepted value is 'All'.",
    )
}
fn p_field_manager() -> Param {
    query(
        "fieldManager",
        "string",
        "The name of the actor making the change, recorded in managedFields. At most 128 printable characters. Required for apply patches.",
    )
}
fn p_field_validation() -> Param {
    query(
        "fieldValidation",
        "string",
        "How the server treats unknown and duplicate fields in the request body: 'Ignore' drops them silently, 'Warn' drops them and returns a warning for each (the default), 'Strict' fails the request.",
    )
}
fn p_force() -> Param {
    query(
        "force",
        "boolean",
        "Force an apply request: take ownership of fields other managers own. Must be unset for patches other than apply.",
    )
}

fn list_params() -> Vec<Param> {
    vec![
        query("allowWatchBookmarks", "boolean", "For watches: ask for BOOKMARK events, which carry only a resourceVersion. The server may send them or not."),
        query("continue", "string", "The continue token of a previous list response whose limit cut it short: returns the next chunk."),
        query("fieldSelector", "string", "Restricts the returned objects by their fields. Defaults to everything."),
        query("labelSelector", "string", "Restricts the returned objects by their labels. Defaults to everything."),
        query("limit", "integer", "The most objects a list response returns; when more remain, its metadata carries a continue token."),
        query("resourceVersion", "string", "Which version of the collection to return, with resourceVersionMatch; unset means the most recent."),
        query("resourceVersionMatch", "string", "How resourceVersion is applied to a list: 'Exact' or 'NotOlderThan'."),
        query("sendInitialEvents", "boolean", "For watches with resourceVersionMatch=NotOlderThan: start with synthetic ADDED events for the current objects, then a bookmark."),
        query("timeoutSeconds", "integer", "How long a list or watch call may take, whatever its activity."),
        query("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update and remove notifications."),
    ]
}

fn delete_params() -> Vec<Param> {
    vec![
        p_dry_run(),
        query("gracePeriodSeconds", "integer", "Seconds before the object is deleted; zero deletes immediately. Unset takes the kind's default."),
        query("orphanDependents", "boolean", "Deprecated, use propagationPolicy: whether dependents are orphaned rather than deleted."),
        query("propagationPolicy", "string", "Whether and how garbage collection deletes dependents: 'Orphan', 'Background' or 'Foreground'."),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    /// The kind's object (create, update).
    Object,
    /// A patch document.
    Patch,
    /// `DeleteOptions`, optional.
    DeleteOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// The kind's object.
    Object,
    /// The kind's list (streamed as watch events with `watch=true`).
    List,
    Status,
    WatchEvent,
    ApiResourceList,
}

#[derive(Debug, Clone)]
struct Op {
    method: &'static str,
    id: String,
    description: String,
    action: &'static str,
    gvk: Option<Gvk>,
    tag: String,
    params: Vec<Param>,
    body: Body,
    reply: Reply,
    codes: &'static [&'static str],
}

#[derive(Debug, Clone)]
struct PathItem {
    path: String,
    params: Vec<Param>,
    ops: Vec<Op>,
}

/// Everything served at one group-version.
struct GroupVersion {
    group: &'static str,
    version: &'static str,
    paths: Vec<PathItem>,
}

fn api_prefix(group: &str, version: &str) -> String {
    format!("/{}", gv_path(group, version))
}

fn name_param(kind: &str) -> Param {
    Param {
        name: "name",
        location: In::Path,
        ty: "string",
        description: format!("The name of the {kind}."),
        required: true,
    }
}

fn namespace_param() -> Param {
    Param {
        name: "namespace",
        location: In::Path,
        ty: "string",
        description: "The namespace of the objects: their name scope and authorization scope."
            .into(),
        required: true,
    }
}

fn write_params() -> Vec<Param> {
    vec![p_dry_run(), p_field_manager(), p_field_validation()]
}

fn patch_params() -> Vec<Param> {
    vec![
        p_dry_run(),
        p_field_manager(),
        p_field_validation(),
        p_force(),
    ]
}

const OK: &[&str] = &["200"];
const CREATED: &[&str] = &["200", "201", "202"];
const REPLACED: &[&str] = &["200", "201"];
const DELETED: &[&str] = &["200", "202"];

/// The operations upstream serves for a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    List,
    ListAllNamespaces,
    Create,
    DeleteCollection,
    Read,
    Replace,
    Patch,
    Delete,
    WatchList,
    WatchListAllNamespaces,
    Watch,
}

/// The operations of one resource.
struct OpBuilder<'a> {
    r: &'a ResourceInfo,
    /// `CoreV1`, `AppsV1`.
    gv_ident: String,
    tag: String,
}

impl OpBuilder<'_> {
    /// The operation `verb` on the resource, or on its subresource `sub` (whose kind is
    /// `gvk`): operation id, description and parameters as upstream has them.
    fn op(&self, verb: Verb, sub: Option<&Subresource>, gvk: Gvk) -> Op {
        use Verb::*;
        let kind = self.r.kind;
        let gv = &self.gv_ident;
        let scope = if self.r.namespaced { "Namespaced" } else { "" };
        let suffix = sub.map(|s| capitalize(s.name)).unwrap_or_default();
        let id = |v: &str| format!("{v}{gv}{scope}{kind}{suffix}");
        let of = |what: &str| match sub {
            Some(s) => format!("{what} {} of the specified {kind}", s.name),
            None => format!("{what} the specified {kind}"),
        };
        let deprecated = "deprecated: use the 'watch' parameter with a list operation instead";
        let (method, id, description, action, params, body, reply, codes) = match verb {
            List => (
                "get",
                id("list"),
                format!("list or watch objects of kind {kind}"),
                "list",
                list_params(),
                Body::None,
                Reply::List,
                OK,
            ),
            ListAllNamespaces => (
                "get",
                format!("list{gv}{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
                "list",
                list_params(),
                Body::None,
                Reply::List,
                OK,
            ),
            Create => (
                "post",
                id("create"),
                match sub {
                    Some(s) => format!("create {} of a {kind}", s.name),
                    None => format!("create a {kind}"),
                },
                "post",
                write_params(),
                Body::Object,
                Reply::Object,
                CREATED,
            ),
            DeleteCollection => {
                let mut params = delete_params();
                params.extend(
                    list_params()
                        .into_iter()
                        .filter(|p| !matches!(p.name, "watch" | "allowWatchBookmarks")),
                );
                (
                    "delete",
                    format!("delete{gv}Collection{scope}{kind}"),
                    format!("delete collection of {kind}"),
                    "deletecollection",
                    params,
                    Body::DeleteOptions,
                    Reply::Status,
                    OK,
                )
            }
            Read => (
                "get",
                id("read"),
                of("read"),
                "get",
                vec![],
                Body::None,
                Reply::Object,
                OK,
            ),
            Replace => (
                "put",
                id("replace"),
                of("replace"),
                "put",
                write_params(),
                Body::Object,
                Reply::Object,
                REPLACED,
            ),
            Patch => (
                "patch",
                id("patch"),
                of("partially update"),
                "patch",
                patch_params(),
                Body::Patch,
                Reply::Object,
                REPLACED,
            ),
            Delete => (
                "delete",
                id("delete"),
                format!("delete a {kind}"),
                "delete",
                delete_params(),
                Body::DeleteOptions,
                Reply::Status,
                DELETED,
            ),
            WatchList | WatchListAllNamespaces => (
                "get",
                if verb == WatchList {
                    id("watch") + "List"
                } else {
                    format!("watch{gv}{kind}ListForAllNamespaces")
                },
                format!("watch individual changes to a list of {kind}. {deprecated}."),
                "watchlist",
                list_params(),
                Body::None,
                Reply::WatchEvent,
                OK,
            ),
            Watch => (
                "get",
                id("watch"),
                format!(
                    "watch changes to an object of kind {kind}. {deprecated}, filtered to a \
                     single item with the 'fieldSelector' parameter."
                ),
                "watch",
                list_params(),
                Body::None,
                Reply::WatchEvent,
                OK,
            ),
        };
        Op {
            method,
            id,
            description,
            action,
            gvk: Some(gvk),
            tag: self.tag.clone(),
            params,
            body,
            reply,
            codes,
        }
    }
}

fn resource_paths(r: &ResourceInfo) -> Vec<PathItem> {
    use Verb::*;
    let b = OpBuilder {
        r,
        gv_ident: format!("{}{}", group_ident(r.group), capitalize(r.version)),
        tag: tag(r.group, r.version),
    };
    let gvk = Gvk::of(r);
    let prefix = api_prefix(r.group, r.version);
    let ns = r.namespaced;
    let scope = if ns { "/namespaces/{namespace}" } else { "" };
    let scope_params = || {
        let mut p = Vec::new();
        if ns {
            p.push(namespace_param());
        }
        p.push(p_pretty());
        p
    };
    let item_params = |kind: &str| {
        let mut p = vec![name_param(kind)];
        p.extend(scope_params());
        p
    };
    let ops = |verbs: &[(&str, Verb)]| -> Vec<Op> {
        verbs
            .iter()
            .filter(|(v, _)| r.supports_verb(v))
            .map(|(_, verb)| b.op(*verb, None, gvk))
            .collect()
    };
    let collection = format!("{prefix}{scope}/{}", r.plural);
    let mut out = vec![
        PathItem {
            path: collection.clone(),
            params: scope_params(),
            ops: ops(&[
                ("list", List),
                ("create", Create),
                ("deletecollection", DeleteCollection),
            ]),
        },
        PathItem {
            path: format!("{collection}/{{name}}"),
            params: item_params(r.kind),
            ops: ops(&[
                ("get", Read),
                ("update", Replace),
                ("patch", Patch),
                ("delete", Delete),
            ]),
        },
    ];
    // The proxied subresources (`pods/exec`, `pods/log`, `*/proxy`) are not documented yet.
    for s in r.subresources.iter().filter(|s| !s.is_proxied()) {
        let sgvk = sub_gvk(r, s);
        let verbs = s.verbs.iter().filter_map(|v| match *v {
            "get" => Some(Read),
            "update" => Some(Replace),
            "patch" => Some(Patch),
            "create" => Some(Create),
            _ => None,
        });
        out.push(PathItem {
            path: format!("{collection}/{{name}}/{}", s.name),
            params: item_params(sgvk.kind),
            ops: verbs.map(|v| b.op(v, Some(s), sgvk)).collect(),
        });
    }
    if ns {
        out.push(PathItem {
            path: format!("{prefix}/{}", r.plural),
            params: vec![p_pretty()],
            ops: ops(&[("list", ListAllNamespaces)]),
        });
    }
    // The legacy `/watch/` paths.
    out.push(PathItem {
        path: format!("{prefix}/watch{scope}/{}", r.plural),
        params: scope_params(),
        ops: ops(&[("watch", WatchList)]),
    });
    out.push(PathItem {
        path: format!("{prefix}/watch{scope}/{}/{{name}}", r.plural),
        params: item_params(r.kind),
        ops: ops(&[("watch", Watch)]),
    });
    if ns {
        out.push(PathItem {
            path: format!("{prefix}/watch/{}", r.plural),
            params: vec![p_pretty()],
            ops: ops(&[("watch", WatchListAllNamespaces)]),
        });
    }
    out.retain(|p| !p.ops.is_empty());
    out
}

fn group_version_paths(group: &'static str, version: &'static str) -> GroupVersion {
    let gv_ident = format!("{}{}", group_ident(group), capitalize(version));
    let mut paths = vec![PathItem {
        path: format!("{}/", api_prefix(group, version)),
        params: vec![],
        ops: vec![Op {
            method: "get",
            id: format!("get{gv_ident}APIResources"),
            description: "get available resources".into(),
            action: "",
            gvk: None,
            tag: tag(group, version),
            params: vec![],
            body: Body::None,
            reply: Reply::ApiResourceList,
            codes: OK,
        }],
    }];
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        paths.extend(resource_paths(r));
    }
    GroupVersion {
        group,
        version,
        paths,
    }
}

fn all_group_versions() -> Vec<GroupVersion> {
    group_versions()
        .into_iter()
        .map(|(g, v)| group_version_paths(g, v))
        .collect()
}

/// The definition an operation's body or reply names.
fn reply_definition(s: &Schemas, op: &Op) -> String {
    let gvk = op.gvk;
    match op.reply {
        Reply::Object => s.kind(gvk.expect("object replies have a kind")).to_string(),
        Reply::List => s.list(gvk.expect("list replies have a kind")).to_string(),
        Reply::Status => meta("Status"),
        Reply::WatchEvent => meta("WatchEvent"),
        Reply::ApiResourceList => meta("APIResourceList"),
    }
}

fn body_definition(s: &Schemas, op: &Op) -> Option<String> {
    match op.body {
        Body::None => None,
        Body::Object => Some(
            s.kind(op.gvk.expect("object bodies have a kind"))
                .to_string(),
        ),
        Body::Patch => Some(meta("Patch")),
        Body::DeleteOptions => Some(meta("DeleteOptions")),
    }
}

const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
const PRODUCES: &[&str] = &["application/json", "application/yaml"];
const PRODUCES_LIST: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/json;stream=watch",
];
const PRODUCES_WATCH: &[&str] = &["application/json", "application/json;stream=watch"];

fn produces(op: &Op) -> &'static [&'static str] {
    match op.reply {
        Reply::List => PRODUCES_LIST,
        Reply::WatchEvent => PRODUCES_WATCH,
        _ => PRODUCES,
    }
}

fn code_description(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        _ => "Unauthorized",
    }
}

fn extensions(op: &Op, m: &mut Map<String, Value>) {
    if !op.action.is_empty() {
        m.insert("x-kubernetes-action".into(), json!(op.action));
    }
    if let Some(gvk) = op.gvk {
        m.insert("x-kubernetes-group-version-kind".into(), gvk.json());
    }
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": crate::discovery::GIT_VERSION})
}

// ----- OpenAPI v2 ----------------------------------------------------------------------------

fn v2_param(p: &Param) -> Value {
    let mut m = Map::new();
    if p.location == In::Query {
        m.insert("uniqueItems".into(), json!(true));
    }
    m.insert("type".into(), json!(p.ty));
    m.insert("description".into(), json!(p.description));
    m.insert("name".into(), json!(p.name));
    m.insert(
        "in".into(),
        json!(if p.location == In::Path {
            "path"
        } else {
            "query"
        }),
    );
    if p.required {
        m.insert("required".into(), json!(true));
    }
    Value::Object(m)
}

fn v2_ref(name: &str) -> Value {
    json!({"$ref": format!("{REF_PREFIX}{name}")})
}

fn v2_op(s: &Schemas, op: &Op) -> Value {
    let mut m = Map::new();
    let consumes: &[&str] = match op.body {
        Body::Patch => PATCH_TYPES,
        _ => &["*/*"],
    };
    m.insert("consumes".into(), json!(consumes));
    m.insert("description".into(), json!(op.description));
    m.insert("operationId".into(), json!(op.id));
    let mut params = Vec::new();
    if let Some(def) = body_definition(s, op) {
        let mut body = json!({"name": "body", "in": "body", "schema": v2_ref(&def)});
        if op.body != Body::DeleteOptions {
            body["required"] = json!(true);
        }
        params.push(body);
    }
    params.extend(op.params.iter().map(v2_param));
    if !params.is_empty() {
        m.insert("parameters".into(), Value::Array(params));
    }
    m.insert("produces".into(), json!(produces(op)));
    let reply = reply_definition(s, op);
    let mut responses = Map::new();
    for code in op.codes {
        responses.insert(
            (*code).into(),
            json!({"description": code_description(code), "schema": v2_ref(&reply)}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    m.insert("responses".into(), Value::Object(responses));
    m.insert("schemes".into(), json!(["https"]));
    m.insert("tags".into(), json!([op.tag]));
    extensions(op, &mut m);
    Value::Object(m)
}

fn v2_path_item(s: &Schemas, item: &PathItem) -> Value {
    let mut m = Map::new();
    for op in &item.ops {
        m.insert(op.method.into(), v2_op(s, op));
    }
    if !item.params.is_empty() {
        m.insert(
            "parameters".into(),
            item.params.iter().map(v2_param).collect(),
        );
    }
    Value::Object(m)
}

/// The two encodings of the v2 document; only their bytes are kept.
struct V2Docs {
    json: Doc,
    protobuf: Doc,
}

fn v2_docs() -> &'static V2Docs {
    static DOCS: OnceLock<V2Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let v = v2_document(&build_schemas());
        V2Docs {
            json: doc(serde_json::to_vec(&v).expect("JSON values serialize"), JSON),
            protobuf: doc(pb::document(&v).encode_to_vec(), V2_PROTOBUF_CONTENT_TYPE),
        }
    })
}

fn v2_document(s: &Schemas) -> Value {
    let mut paths = Map::new();
    for gv in all_group_versions() {
        for item in &gv.paths {
            paths.insert(item.path.clone(), v2_path_item(s, item));
        }
    }
    let definitions: Map<String, Value> = s
        .definitions
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header",
            },
        },
        "security": [{"BearerToken": []}],
    })
}

// ----- OpenAPI v3 ----------------------------------------------------------------------------

struct V3Docs {
    root: Doc,
    group_versions: BTreeMap<String, Doc>,
}

fn v3_docs() -> &'static V3Docs {
    static DOCS: OnceLock<V3Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let s = build_schemas();
        let mut group_versions = BTreeMap::new();
        let mut root = Map::new();
        for gv in all_group_versions() {
            let body = serde_json::to_vec(&v3_document(&s, &gv)).expect("JSON values serialize");
            let d = doc(body, JSON);
            let path = gv_path(gv.group, gv.version);
            let hash = d.etag.trim_matches('"').to_string();
            root.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
            group_versions.insert(path, d);
        }
        let body = serde_json::to_vec(&json!({"paths": root})).expect("JSON values serialize");
        V3Docs {
            root: doc(body, JSON),
            group_versions,
        }
    })
}

const V3_REF_PREFIX: &str = "#/components/schemas/";

fn v3_ref(name: &str) -> Value {
    json!({"$ref": format!("{V3_REF_PREFIX}{name}")})
}

fn v3_param(p: &Param) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(p.name));
    m.insert(
        "in".into(),
        json!(if p.location == In::Path {
            "path"
        } else {
            "query"
        }),
    );
    m.insert("description".into(), json!(p.description));
    if p.required {
        m.insert("required".into(), json!(true));
    }
    let mut schema = json!({"type": p.ty});
    if p.location == In::Query {
        schema["uniqueItems"] = json!(true);
    }
    m.insert("schema".into(), schema);
    Value::Object(m)
}

fn v3_op(s: &Schemas, op: &Op) -> Value {
    let mut m = Map::new();
    m.insert("tags".into(), json!([op.tag]));
    m.insert("description".into(), json!(op.description));
    m.insert("operationId".into(), json!(op.id));
    if !op.params.is_empty() {
        m.insert(
            "parameters".into(),
            op.params.iter().map(v3_param).collect(),
        );
    }
    if let Some(def) = body_definition(s, op) {
        let types: &[&str] = match op.body {
            Body::Patch => PATCH_TYPES,
            _ => &["*/*"],
        };
        let content: Map<String, Value> = types
            .iter()
            .map(|t| ((*t).to_string(), json!({"schema": v3_ref(&def)})))
            .collect();
        let mut body = json!({"content": content});
        if op.body != Body::DeleteOptions {
            body["required"] = json!(true);
        }
        m.insert("requestBody".into(), body);
    }
    let reply = reply_definition(s, op);
    let mut responses = Map::new();
    for code in op.codes {
        let content: Map<String, Value> = produces(op)
            .iter()
            .map(|t| ((*t).to_string(), json!({"schema": v3_ref(&reply)})))
            .collect();
        responses.insert(
            (*code).into(),
            json!({"description": code_description(code), "content": content}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    m.insert("responses".into(), Value::Object(responses));
    extensions(op, &mut m);
    Value::Object(m)
}

/// A v2 schema as OpenAPI 3 has it: refs into `components/schemas`, and a ref with
/// siblings (a description) wrapped in `allOf`, as upstream publishes them.
fn v3_schema(v: &Value) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (k, child) in m {
        let child = match k.as_str() {
            "$ref" => match child.as_str().and_then(|r| r.strip_prefix(REF_PREFIX)) {
                Some(name) => json!(format!("{V3_REF_PREFIX}{name}")),
                None => child.clone(),
            },
            "properties" | "patternProperties" => Value::Object(
                child
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), v3_schema(s)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => match child {
                Value::Array(list) => Value::Array(list.iter().map(v3_schema).collect()),
                other => v3_schema(other),
            },
            "allOf" | "anyOf" | "oneOf" => match child {
                Value::Array(list) => Value::Array(list.iter().map(v3_schema).collect()),
                other => other.clone(),
            },
            _ => child.clone(),
        };
        out.insert(k.clone(), child);
    }
    if out.len() > 1 {
        if let Some(r) = out.remove("$ref") {
            out.insert("allOf".into(), json!([{"$ref": r}]));
        }
    }
    Value::Object(out)
}

fn v3_document(s: &Schemas, gv: &GroupVersion) -> Value {
    let mut paths = Map::new();
    let mut roots = BTreeSet::new();
    for item in &gv.paths {
        let mut m = Map::new();
        for op in &item.ops {
            m.insert(op.method.into(), v3_op(s, op));
            roots.insert(reply_definition(s, op));
            roots.extend(body_definition(s, op));
        }
        if !item.params.is_empty() {
            m.insert(
                "parameters".into(),
                item.params.iter().map(v3_param).collect(),
            );
        }
        paths.insert(item.path.clone(), Value::Object(m));
    }
    let names = closure(&s.definitions, roots.iter().map(String::as_str));
    let schemas: Map<String, Value> = names
        .iter()
        .filter_map(|n| s.definitions.get(n).map(|d| (n.clone(), v3_schema(d))))
        .collect();
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                },
            },
        },
        "security": [{"BearerToken": []}],
    })
}

// ----- gnostic's OpenAPI v2 protobuf -----------------------------------------------------------

/// The subset of gnostic's `openapi.v2` messages (`openapiv2/OpenAPIv2.proto`) the served
/// document uses, with gnostic's field numbers, and the conversion from the JSON document.
/// Values of arbitrary JSON (extensions, defaults, enums) travel as YAML text in `Any.yaml`.
#[allow(clippy::large_enum_variant)]
pub mod pb {
    use serde_json::{Map, Value};

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Document {
        #[prost(string, tag = "1")]
        pub swagger: String,
        #[prost(message, optional, tag = "2")]
        pub info: Option<Info>,
        #[prost(string, tag = "3")]
        pub host: String,
        #[prost(string, tag = "4")]
        pub base_path: String,
        #[prost(string, repeated, tag = "5")]
        pub schemes: Vec<String>,
        #[prost(string, repeated, tag = "6")]
        pub consumes: Vec<String>,
        #[prost(string, repeated, tag = "7")]
        pub produces: Vec<String>,
        #[prost(message, optional, tag = "8")]
        pub paths: Option<Paths>,
        #[prost(message, optional, tag = "9")]
        pub definitions: Option<Definitions>,
        #[prost(message, repeated, tag = "12")]
        pub security: Vec<SecurityRequirement>,
        #[prost(message, optional, tag = "13")]
        pub security_definitions: Option<SecurityDefinitions>,
        #[prost(message, repeated, tag = "16")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Info {
        #[prost(string, tag = "1")]
        pub title: String,
        #[prost(string, tag = "2")]
        pub version: String,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(message, repeated, tag = "7")]
        pub vendor_extension: Vec<NamedAny>,
    }

    /// A JSON value, as YAML text (field 1, a `google.protobuf.Any`, is not used).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Any {
        #[prost(string, tag = "2")]
        pub yaml: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedAny {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<Any>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Paths {
        #[prost(message, repeated, tag = "1")]
        pub vendor_extension: Vec<NamedAny>,
        #[prost(message, repeated, tag = "2")]
        pub path: Vec<NamedPathItem>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedPathItem {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<PathItem>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PathItem {
        #[prost(string, tag = "1")]
        pub r#ref: String,
        #[prost(message, optional, tag = "2")]
        pub get: Option<Operation>,
        #[prost(message, optional, tag = "3")]
        pub put: Option<Operation>,
        #[prost(message, optional, tag = "4")]
        pub post: Option<Operation>,
        #[prost(message, optional, tag = "5")]
        pub delete: Option<Operation>,
        #[prost(message, optional, tag = "6")]
        pub options: Option<Operation>,
        #[prost(message, optional, tag = "7")]
        pub head: Option<Operation>,
        #[prost(message, optional, tag = "8")]
        pub patch: Option<Operation>,
        #[prost(message, repeated, tag = "9")]
        pub parameters: Vec<ParametersItem>,
        #[prost(message, repeated, tag = "10")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Operation {
        #[prost(string, repeated, tag = "1")]
        pub tags: Vec<String>,
        #[prost(string, tag = "2")]
        pub summary: String,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(string, tag = "5")]
        pub operation_id: String,
        #[prost(string, repeated, tag = "6")]
        pub produces: Vec<String>,
        #[prost(string, repeated, tag = "7")]
        pub consumes: Vec<String>,
        #[prost(message, repeated, tag = "8")]
        pub parameters: Vec<ParametersItem>,
        #[prost(message, optional, tag = "9")]
        pub responses: Option<Responses>,
        #[prost(string, repeated, tag = "10")]
        pub schemes: Vec<String>,
        #[prost(bool, tag = "11")]
        pub deprecated: bool,
        #[prost(message, repeated, tag = "13")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ParametersItem {
        #[prost(oneof = "parameters_item::Oneof", tags = "1, 2")]
        pub oneof: Option<parameters_item::Oneof>,
    }

    pub mod parameters_item {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "1")]
            Parameter(super::Parameter),
            #[prost(message, tag = "2")]
            JsonReference(super::JsonReference),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct JsonReference {
        #[prost(string, tag = "1")]
        pub r#ref: String,
        #[prost(string, tag = "2")]
        pub description: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Parameter {
        #[prost(oneof = "parameter::Oneof", tags = "1, 2")]
        pub oneof: Option<parameter::Oneof>,
    }

    pub mod parameter {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "1")]
            BodyParameter(super::BodyParameter),
            #[prost(message, tag = "2")]
            NonBodyParameter(super::NonBodyParameter),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BodyParameter {
        #[prost(string, tag = "1")]
        pub description: String,
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(string, tag = "3")]
        pub r#in: String,
        #[prost(bool, tag = "4")]
        pub required: bool,
        #[prost(message, optional, tag = "5")]
        pub schema: Option<Schema>,
        #[prost(message, repeated, tag = "6")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NonBodyParameter {
        #[prost(oneof = "non_body_parameter::Oneof", tags = "3, 4")]
        pub oneof: Option<non_body_parameter::Oneof>,
    }

    pub mod non_body_parameter {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "3")]
            QueryParameterSubSchema(super::QueryParameterSubSchema),
            #[prost(message, tag = "4")]
            PathParameterSubSchema(super::PathParameterSubSchema),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryParameterSubSchema {
        #[prost(bool, tag = "1")]
        pub required: bool,
        #[prost(string, tag = "2")]
        pub r#in: String,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(string, tag = "4")]
        pub name: String,
        #[prost(bool, tag = "5")]
        pub allow_empty_value: bool,
        #[prost(string, tag = "6")]
        pub r#type: String,
        #[prost(string, tag = "7")]
        pub format: String,
        #[prost(bool, tag = "20")]
        pub unique_items: bool,
        #[prost(message, repeated, tag = "23")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PathParameterSubSchema {
        #[prost(bool, tag = "1")]
        pub required: bool,
        #[prost(string, tag = "2")]
        pub r#in: String,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(string, tag = "4")]
        pub name: String,
        #[prost(string, tag = "5")]
        pub r#type: String,
        #[prost(string, tag = "6")]
        pub format: String,
        #[prost(bool, tag = "19")]
        pub unique_items: bool,
        #[prost(message, repeated, tag = "22")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Responses {
        #[prost(message, repeated, tag = "1")]
        pub response_code: Vec<NamedResponseValue>,
        #[prost(message, repeated, tag = "2")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedResponseValue {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<ResponseValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResponseValue {
        #[prost(oneof = "response_value::Oneof", tags = "1, 2")]
        pub oneof: Option<response_value::Oneof>,
    }

    pub mod response_value {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "1")]
            Response(super::Response),
            #[prost(message, tag = "2")]
            JsonReference(super::JsonReference),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Response {
        #[prost(string, tag = "1")]
        pub description: String,
        #[prost(message, optional, tag = "2")]
        pub schema: Option<SchemaItem>,
        #[prost(message, repeated, tag = "5")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SchemaItem {
        #[prost(oneof = "schema_item::Oneof", tags = "1")]
        pub oneof: Option<schema_item::Oneof>,
    }

    pub mod schema_item {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "1")]
            Schema(super::Schema),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Definitions {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSchema>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedSchema {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<Schema>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Schema {
        #[prost(string, tag = "1")]
        pub r#ref: String,
        #[prost(string, tag = "2")]
        pub format: String,
        #[prost(string, tag = "3")]
        pub title: String,
        #[prost(string, tag = "4")]
        pub description: String,
        #[prost(message, optional, tag = "5")]
        pub default: Option<Any>,
        #[prost(double, tag = "6")]
        pub multiple_of: f64,
        #[prost(double, tag = "7")]
        pub maximum: f64,
        #[prost(bool, tag = "8")]
        pub exclusive_maximum: bool,
        #[prost(double, tag = "9")]
        pub minimum: f64,
        #[prost(bool, tag = "10")]
        pub exclusive_minimum: bool,
        #[prost(int64, tag = "11")]
        pub max_length: i64,
        #[prost(int64, tag = "12")]
        pub min_length: i64,
        #[prost(string, tag = "13")]
        pub pattern: String,
        #[prost(int64, tag = "14")]
        pub max_items: i64,
        #[prost(int64, tag = "15")]
        pub min_items: i64,
        #[prost(bool, tag = "16")]
        pub unique_items: bool,
        #[prost(int64, tag = "17")]
        pub max_properties: i64,
        #[prost(int64, tag = "18")]
        pub min_properties: i64,
        #[prost(string, repeated, tag = "19")]
        pub required: Vec<String>,
        #[prost(message, repeated, tag = "20")]
        pub r#enum: Vec<Any>,
        #[prost(message, optional, boxed, tag = "21")]
        pub additional_properties: Option<Box<AdditionalPropertiesItem>>,
        #[prost(message, optional, tag = "22")]
        pub r#type: Option<TypeItem>,
        #[prost(message, optional, tag = "23")]
        pub items: Option<ItemsItem>,
        #[prost(message, repeated, tag = "24")]
        pub all_of: Vec<Schema>,
        #[prost(message, optional, tag = "25")]
        pub properties: Option<Properties>,
        #[prost(string, tag = "26")]
        pub discriminator: String,
        #[prost(bool, tag = "27")]
        pub read_only: bool,
        #[prost(message, optional, tag = "30")]
        pub example: Option<Any>,
        #[prost(message, repeated, tag = "31")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AdditionalPropertiesItem {
        #[prost(oneof = "additional_properties_item::Oneof", tags = "1, 2")]
        pub oneof: Option<additional_properties_item::Oneof>,
    }

    pub mod additional_properties_item {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "1")]
            Schema(super::Schema),
            #[prost(bool, tag = "2")]
            Boolean(bool),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeItem {
        #[prost(string, repeated, tag = "1")]
        pub value: Vec<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ItemsItem {
        #[prost(message, repeated, tag = "1")]
        pub schema: Vec<Schema>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Properties {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSchema>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SecurityDefinitions {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSecurityDefinitionsItem>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedSecurityDefinitionsItem {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<SecurityDefinitionsItem>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SecurityDefinitionsItem {
        #[prost(oneof = "security_definitions_item::Oneof", tags = "2")]
        pub oneof: Option<security_definitions_item::Oneof>,
    }

    pub mod security_definitions_item {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Oneof {
            #[prost(message, tag = "2")]
            ApiKeySecurity(super::ApiKeySecurity),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ApiKeySecurity {
        #[prost(string, tag = "1")]
        pub r#type: String,
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(string, tag = "3")]
        pub r#in: String,
        #[prost(string, tag = "4")]
        pub description: String,
        #[prost(message, repeated, tag = "5")]
        pub vendor_extension: Vec<NamedAny>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SecurityRequirement {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedStringArray>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedStringArray {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<StringArray>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StringArray {
        #[prost(string, repeated, tag = "1")]
        pub value: Vec<String>,
    }

    // ----- conversion from the JSON document ----------------------------------------------

    fn s(v: &Value, key: &str) -> String {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    fn b(v: &Value, key: &str) -> bool {
        v.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    fn f(v: &Value, key: &str) -> f64 {
        v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
    }

    fn i(v: &Value, key: &str) -> i64 {
        v.get(key).and_then(Value::as_i64).unwrap_or(0)
    }

    fn strings(v: &Value, key: &str) -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn obj(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
        v.as_object().into_iter().flat_map(Map::iter)
    }

    /// A JSON value as gnostic keeps it: YAML text.
    pub fn any(v: &Value) -> Any {
        Any {
            yaml: serde_yaml::to_string(v).unwrap_or_else(|_| v.to_string()),
        }
    }

    fn extensions(v: &Value) -> Vec<NamedAny> {
        obj(v)
            .filter(|(k, _)| k.starts_with("x-"))
            .map(|(k, v)| NamedAny {
                name: k.clone(),
                value: Some(any(v)),
            })
            .collect()
    }

    pub fn document(v: &Value) -> Document {
        let paths = Paths {
            vendor_extension: vec![],
            path: obj(&v["paths"])
                .map(|(name, item)| NamedPathItem {
                    name: name.clone(),
                    value: Some(path_item(item)),
                })
                .collect(),
        };
        let definitions = Definitions {
            additional_properties: obj(&v["definitions"])
                .map(|(name, def)| NamedSchema {
                    name: name.clone(),
                    value: Some(schema(def)),
                })
                .collect(),
        };
        let security_definitions = SecurityDefinitions {
            additional_properties: obj(&v["securityDefinitions"])
                .map(|(name, def)| NamedSecurityDefinitionsItem {
                    name: name.clone(),
                    value: Some(SecurityDefinitionsItem {
                        oneof: Some(security_definitions_item::Oneof::ApiKeySecurity(
                            ApiKeySecurity {
                                r#type: s(def, "type"),
                                name: s(def, "name"),
                                r#in: s(def, "in"),
                                description: s(def, "description"),
                                vendor_extension: extensions(def),
                            },
                        )),
                    }),
                })
                .collect(),
        };
        let security = v["security"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|req| SecurityRequirement {
                additional_properties: obj(req)
                    .map(|(name, scopes)| NamedStringArray {
                        name: name.clone(),
                        value: Some(StringArray {
                            value: scopes
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect(),
                        }),
                    })
                    .collect(),
            })
            .collect();
        Document {
            swagger: s(v, "swagger"),
            info: Some(Info {
                title: s(&v["info"], "title"),
                version: s(&v["info"], "version"),
                description: s(&v["info"], "description"),
                vendor_extension: extensions(&v["info"]),
            }),
            host: s(v, "host"),
            base_path: s(v, "basePath"),
            schemes: strings(v, "schemes"),
            consumes: strings(v, "consumes"),
            produces: strings(v, "produces"),
            paths: Some(paths),
            definitions: Some(definitions),
            security,
            security_definitions: Some(security_definitions),
            vendor_extension: extensions(v),
        }
    }

    fn path_item(v: &Value) -> PathItem {
        let op = |m: &str| v.get(m).map(operation);
        PathItem {
            r#ref: s(v, "$ref"),
            get: op("get"),
            put: op("put"),
            post: op("post"),
            delete: op("delete"),
            options: op("options"),
            head: op("head"),
            patch: op("patch"),
            parameters: parameters(v),
            vendor_extension: extensions(v),
        }
    }

    fn parameters(v: &Value) -> Vec<ParametersItem> {
        v.get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(parameter)
            .collect()
    }

    fn parameter(p: &Value) -> ParametersItem {
        use non_body_parameter::Oneof as NonBody;
        if p.get("$ref").is_some() {
            return ParametersItem {
                oneof: Some(parameters_item::Oneof::JsonReference(JsonReference {
                    r#ref: s(p, "$ref"),
                    description: s(p, "description"),
                })),
            };
        }
        let param = match p.get("in").and_then(Value::as_str) {
            Some("body") => parameter::Oneof::BodyParameter(BodyParameter {
                description: s(p, "description"),
                name: s(p, "name"),
                r#in: s(p, "in"),
                required: b(p, "required"),
                schema: p.get("schema").map(schema),
                vendor_extension: extensions(p),
            }),
            Some("path") => parameter::Oneof::NonBodyParameter(NonBodyParameter {
                oneof: Some(NonBody::PathParameterSubSchema(PathParameterSubSchema {
                    required: b(p, "required"),
                    r#in: s(p, "in"),
                    description: s(p, "description"),
                    name: s(p, "name"),
                    r#type: s(p, "type"),
                    format: s(p, "format"),
                    unique_items: b(p, "uniqueItems"),
                    vendor_extension: extensions(p),
                })),
            }),
            _ => parameter::Oneof::NonBodyParameter(NonBodyParameter {
                oneof: Some(NonBody::QueryParameterSubSchema(QueryParameterSubSchema {
                    required: b(p, "required"),
                    r#in: s(p, "in"),
                    description: s(p, "description"),
                    name: s(p, "name"),
                    allow_empty_value: b(p, "allowEmptyValue"),
                    r#type: s(p, "type"),
                    format: s(p, "format"),
                    unique_items: b(p, "uniqueItems"),
                    vendor_extension: extensions(p),
                })),
            }),
        };
        ParametersItem {
            oneof: Some(parameters_item::Oneof::Parameter(Parameter {
                oneof: Some(param),
            })),
        }
    }

    fn operation(v: &Value) -> Operation {
        let responses = Responses {
            response_code: obj(&v["responses"])
                .filter(|(k, _)| !k.starts_with("x-"))
                .map(|(code, r)| NamedResponseValue {
                    name: code.clone(),
                    value: Some(ResponseValue {
                        oneof: Some(response_value::Oneof::Response(Response {
                            description: s(r, "description"),
                            schema: r.get("schema").map(|sch| SchemaItem {
                                oneof: Some(schema_item::Oneof::Schema(schema(sch))),
                            }),
                            vendor_extension: extensions(r),
                        })),
                    }),
                })
                .collect(),
            vendor_extension: extensions(&v["responses"]),
        };
        Operation {
            tags: strings(v, "tags"),
            summary: s(v, "summary"),
            description: s(v, "description"),
            operation_id: s(v, "operationId"),
            produces: strings(v, "produces"),
            consumes: strings(v, "consumes"),
            parameters: parameters(v),
            responses: Some(responses),
            schemes: strings(v, "schemes"),
            deprecated: b(v, "deprecated"),
            vendor_extension: extensions(v),
        }
    }

    pub fn schema(v: &Value) -> Schema {
        Schema {
            r#ref: s(v, "$ref"),
            format: s(v, "format"),
            title: s(v, "title"),
            description: s(v, "description"),
            default: v.get("default").map(any),
            multiple_of: f(v, "multipleOf"),
            maximum: f(v, "maximum"),
            exclusive_maximum: b(v, "exclusiveMaximum"),
            minimum: f(v, "minimum"),
            exclusive_minimum: b(v, "exclusiveMinimum"),
            max_length: i(v, "maxLength"),
            min_length: i(v, "minLength"),
            pattern: s(v, "pattern"),
            max_items: i(v, "maxItems"),
            min_items: i(v, "minItems"),
            unique_items: b(v, "uniqueItems"),
            max_properties: i(v, "maxProperties"),
            min_properties: i(v, "minProperties"),
            required: strings(v, "required"),
            r#enum: v
                .get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(any)
                .collect(),
            additional_properties: v.get("additionalProperties").map(|a| {
                Box::new(AdditionalPropertiesItem {
                    oneof: Some(match a {
                        Value::Bool(flag) => additional_properties_item::Oneof::Boolean(*flag),
                        other => additional_properties_item::Oneof::Schema(schema(other)),
                    }),
                })
            }),
            r#type: v.get("type").map(|t| TypeItem {
                value: match t {
                    Value::Array(l) => l
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    other => other.as_str().map(str::to_string).into_iter().collect(),
                },
            }),
            items: v.get("items").map(|it| ItemsItem {
                schema: match it {
                    Value::Array(l) => l.iter().map(schema).collect(),
                    other => vec![schema(other)],
                },
            }),
            all_of: v
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(schema)
                .collect(),
            properties: v.get("properties").map(|p| Properties {
                additional_properties: obj(p)
                    .map(|(name, sch)| NamedSchema {
                        name: name.clone(),
                        value: Some(schema(sch)),
                    })
                    .collect(),
            }),
            discriminator: s(v, "discriminator"),
            read_only: b(v, "readOnly"),
            example: v.get("example").map(any),
            vendor_extension: extensions(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_value() -> Value {
        serde_json::from_slice(&v2_json().body).unwrap()
    }

    fn v3(path: &str) -> Value {
        serde_json::from_slice(&v3_group_version(path).expect("served").body).unwrap()
    }

    fn gvk_of(op: &Value) -> Option<(String, String, String)> {
        let g = op.get("x-kubernetes-group-version-kind")?;
        Some((
            g["group"].as_str()?.to_string(),
            g["version"].as_str()?.to_string(),
            g["kind"].as_str()?.to_string(),
        ))
    }

    /// What kubectl's query-parameter verifier (v3) does: the PATCH operations of the kind
    /// and whether they take `param` in the query.
    fn v3_patch_params(doc: &Value, group: &str, version: &str, kind: &str) -> Vec<Vec<String>> {
        let want = Some((group.to_string(), version.to_string(), kind.to_string()));
        let mut out = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            let Some(op) = item.get("patch") else {
                continue;
            };
            if gvk_of(op) != want {
                continue;
            }
            out.push(
                op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "query")
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn configmap_patch_takes_field_validation_in_v3() {
        let doc = v3("api/v1");
        let patches = v3_patch_params(&doc, "", "v1", "ConfigMap");
        assert_eq!(patches.len(), 1);
        for p in ["fieldValidation", "dryRun", "fieldManager", "force"] {
            assert!(
                patches[0].iter().any(|n| n == p),
                "{p} missing: {patches:?}"
            );
        }
        let op = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(op["operationId"], "patchCoreV1NamespacedConfigMap");
        assert_eq!(op["x-kubernetes-action"], "patch");
        let content = op["requestBody"]["content"].as_object().unwrap();
        for t in PATCH_TYPES {
            assert_eq!(
                content[*t]["schema"]["$ref"],
                "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
            );
        }
        let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
        assert_eq!(
            cm["x-kubernetes-group-version-kind"],
            json!([{"group": "", "kind": "ConfigMap", "version": "v1"}])
        );
        assert_eq!(cm["properties"]["data"]["type"], "object");
        // Every PATCH of every kind takes it (kubectl stops at the first one it finds).
        for gv in all_group_versions() {
            let doc = v3(&gv_path(gv.group, gv.version));
            for item in doc["paths"].as_object().unwrap().values() {
                if let Some(op) = item.get("patch") {
                    assert!(
                        op["parameters"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|p| p["name"] == "fieldValidation"),
                        "{}",
                        op["operationId"]
                    );
                }
            }
        }
    }

    #[test]
    fn v3_root_lists_every_group_version_with_its_hash() {
        let root: Value = serde_json::from_slice(&v3_root().body).unwrap();
        let paths = root["paths"].as_object().unwrap();
        assert_eq!(paths.len(), group_versions().len());
        for (path, entry) in paths {
            let d = v3_group_version(path).unwrap();
            let url = entry["serverRelativeURL"].as_str().unwrap();
            let hash = d.etag.trim_matches('"');
            assert_eq!(hash.len(), 128);
            assert_eq!(url, format!("/openapi/v3/{path}?hash={hash}"));
            assert_eq!(d.content_type, "application/json");
        }
        assert!(paths.contains_key("api/v1"));
        assert!(paths.contains_key("apis/apps/v1"));
        assert!(paths.contains_key("apis/autoscaling/v2"));
        assert!(v3_group_version("/apis/apps/v1").is_some());
        assert!(v3_group_version("apis/apps/v9").is_none());
        assert!(v3_group_version("api").is_none());
    }

    #[test]
    fn v3_documents_resolve_every_ref() {
        for gv in all_group_versions() {
            let doc = v3(&gv_path(gv.group, gv.version));
            assert_eq!(doc["openapi"], "3.0.0");
            let schemas = doc["components"]["schemas"].as_object().unwrap();
            let mut refs = Vec::new();
            collect_all_refs(&doc, &mut refs);
            for r in refs {
                let name = r
                    .strip_prefix(V3_REF_PREFIX)
                    .unwrap_or_else(|| panic!("bad ref {r}"));
                assert!(
                    schemas.contains_key(name),
                    "{name} missing in {}",
                    gv_path(gv.group, gv.version)
                );
            }
            // A ref with a description is wrapped in allOf, as upstream has it.
            if gv.group == "apps" {
                let meta = &schemas["io.k8s.api.apps.v1.Deployment"]["properties"]["metadata"];
                assert_eq!(
                    meta["allOf"][0]["$ref"],
                    "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
                );
            }
        }
    }

    fn collect_all_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    if k == "$ref" {
                        out.push(c.as_str().unwrap().to_string());
                    } else {
                        collect_all_refs(c, out);
                    }
                }
            }
            Value::Array(l) => l.iter().for_each(|c| collect_all_refs(c, out)),
            _ => {}
        }
    }

    #[test]
    fn every_resource_has_its_paths() {
        let v2 = v2_value();
        for r in RESOURCES {
            let doc = v3(&gv_path(r.group, r.version));
            let want = Some((
                r.group.to_string(),
                r.version.to_string(),
                r.kind.to_string(),
            ));
            let prefix = api_prefix(r.group, r.version);
            let scope = if r.namespaced {
                "/namespaces/{namespace}"
            } else {
                ""
            };
            let collection = format!("{prefix}{scope}/{}", r.plural);
            let mut found = 0;
            for (path, item) in doc["paths"].as_object().unwrap() {
                for (method, op) in item.as_object().unwrap() {
                    if method != "parameters"
                        && gvk_of(op) == want
                        && path.contains(&format!("/{}", r.plural))
                    {
                        found += 1;
                        assert!(
                            v2["paths"][path][method].is_object(),
                            "{path} {method} not in v2"
                        );
                    }
                }
            }
            assert!(found > 0, "{} has no operations", r.qualified_plural());
            let item = &doc["paths"][&collection];
            if r.supports_verb("create") {
                assert_eq!(item["post"]["x-kubernetes-action"], "post", "{collection}");
            }
            if r.supports_verb("list") {
                assert_eq!(item["get"]["x-kubernetes-action"], "list", "{collection}");
                let list = &doc["paths"][&collection]["get"]["responses"]["200"]["content"]
                    ["application/json"]["schema"]["$ref"];
                assert!(
                    list.as_str()
                        .unwrap()
                        .ends_with(&format!(".{}List", r.kind)),
                    "{list}"
                );
            }
            if r.supports_verb("get") {
                let one = &doc["paths"][format!("{collection}/{{name}}")];
                assert_eq!(one["get"]["x-kubernetes-action"], "get");
                assert_eq!(one["patch"]["x-kubernetes-action"], "patch");
                assert_eq!(one["put"]["x-kubernetes-action"], "put");
                assert_eq!(one["delete"]["x-kubernetes-action"], "delete");
            }
            for s in r.subresources.iter().filter(|s| !s.is_proxied()) {
                let path = format!("{collection}/{{name}}/{}", s.name);
                assert!(doc["paths"][&path].is_object(), "{path}");
            }
            if r.namespaced && r.supports_verb("list") {
                let all = &doc["paths"][format!("{prefix}/{}", r.plural)]["get"];
                assert_eq!(
                    all["operationId"],
                    format!(
                        "list{}{}{}ForAllNamespaces",
                        group_ident(r.group),
                        capitalize(r.version),
                        r.kind
                    )
                );
            }
            // Every kind has a typed schema.
            assert!(
                register_kind(&mut SchemaGenerator::default(), r.group, r.version, r.kind)
                    .is_some(),
                "{} has no typed schema",
                r.kind
            );
        }
    }

    #[test]
    fn operation_ids_and_tags_match_upstream_spelling() {
        let doc = v3("apis/apps/v1");
        let p = &doc["paths"];
        assert_eq!(
            p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]["operationId"],
            "patchAppsV1NamespacedDeployment"
        );
        assert_eq!(
            p["/apis/apps/v1/namespaces/{namespace}/deployments"]["delete"]["operationId"],
            "deleteAppsV1CollectionNamespacedDeployment"
        );
        assert_eq!(
            p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["get"]
                ["operationId"],
            "readAppsV1NamespacedDeploymentScale"
        );
        assert_eq!(
            p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
                ["x-kubernetes-group-version-kind"],
            json!({"group": "autoscaling", "kind": "Scale", "version": "v1"})
        );
        assert_eq!(
            p["/apis/apps/v1/watch/namespaces/{namespace}/deployments"]["get"]
                ["x-kubernetes-action"],
            "watchlist"
        );
        assert_eq!(
            p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["get"]["tags"],
            json!(["apps_v1"])
        );
        let core = v3("api/v1");
        let p = &core["paths"];
        assert_eq!(
            p["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["operationId"],
            "readCoreV1NamespacedPod"
        );
        assert_eq!(
            p["/api/v1/namespaces/{namespace}/pods/{name}/status"]["put"]["operationId"],
            "replaceCoreV1NamespacedPodStatus"
        );
        assert_eq!(
            p["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]["operationId"],
            "createCoreV1NamespacedPodBinding"
        );
        assert_eq!(
            p["/api/v1/namespaces/{name}/finalize"]["put"]["operationId"],
            "replaceCoreV1NamespaceFinalize"
        );
        assert_eq!(
            p["/api/v1/nodes/{name}"]["get"]["operationId"],
            "readCoreV1Node"
        );
        assert_eq!(
            p["/api/v1/watch/pods"]["get"]["operationId"],
            "watchCoreV1PodListForAllNamespaces"
        );
        let list = &p["/api/v1/namespaces/{namespace}/pods"]["get"];
        let names: Vec<&str> = list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for want in [
            "labelSelector",
            "fieldSelector",
            "limit",
            "continue",
            "resourceVersion",
            "resourceVersionMatch",
            "watch",
            "allowWatchBookmarks",
            "sendInitialEvents",
            "timeoutSeconds",
        ] {
            assert!(names.contains(&want), "{want}");
        }
        let rbac = v3("apis/rbac.authorization.k8s.io/v1");
        assert_eq!(
            rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["patch"]
                ["operationId"],
            "patchRbacAuthorizationV1ClusterRole"
        );
        assert_eq!(
            rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["patch"]
                ["tags"],
            json!(["rbacAuthorization_v1"])
        );
    }

    #[test]
    fn v2_protobuf_decodes_back_and_answers_kubectl() {
        let d = v2_protobuf();
        assert_eq!(d.content_type, V2_PROTOBUF_CONTENT_TYPE);
        let decoded = pb::Document::decode(d.body.clone()).unwrap();
        assert_eq!(decoded.swagger, "2.0");
        let json = v2_value();
        assert_eq!(decoded, pb::document(&json));
        let defs = decoded.definitions.as_ref().unwrap();
        assert_eq!(
            defs.additional_properties.len(),
            json["definitions"].as_object().unwrap().len()
        );
        assert_eq!(
            decoded.paths.as_ref().unwrap().path.len(),
            json["paths"].as_object().unwrap().len()
        );

        // What kubectl 1.27's verifier does: the PATCH with the kind's extension, and a
        // query parameter named fieldValidation among its parameters.
        let gvk_yaml = |exts: &[pb::NamedAny]| -> Option<Value> {
            let e = exts
                .iter()
                .find(|e| e.name == "x-kubernetes-group-version-kind")?;
            serde_yaml::from_str(&e.value.as_ref()?.yaml).ok()
        };
        let want = json!({"group": "", "kind": "ConfigMap", "version": "v1"});
        let mut found = 0;
        for named in &decoded.paths.as_ref().unwrap().path {
            let Some(patch) = named.value.as_ref().and_then(|p| p.patch.as_ref()) else {
                continue;
            };
            if gvk_yaml(&patch.vendor_extension) != Some(want.clone()) {
                continue;
            }
            found += 1;
            let has = patch.parameters.iter().any(|p| {
                matches!(&p.oneof, Some(pb::parameters_item::Oneof::Parameter(pb::Parameter {
                    oneof: Some(pb::parameter::Oneof::NonBodyParameter(pb::NonBodyParameter {
                        oneof: Some(pb::non_body_parameter::Oneof::QueryParameterSubSchema(q)),
                    })),
                })) if q.name == "fieldValidation")
            });
            assert!(has, "{}", named.name);
        }
        assert_eq!(found, 1);

        // Definitions: the kind, its GVK list, and refs that all resolve.
        let names: BTreeSet<&str> = defs
            .additional_properties
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        let pod = defs
            .additional_properties
            .iter()
            .find(|n| n.name == "io.k8s.api.core.v1.Pod")
            .unwrap();
        let pod = pod.value.as_ref().unwrap();
        assert_eq!(
            gvk_yaml(&pod.vendor_extension),
            Some(json!([{"group": "", "kind": "Pod", "version": "v1"}]))
        );
        assert_eq!(
            pod.r#type.as_ref().unwrap().value,
            vec!["object".to_string()]
        );
        fn refs(s: &pb::Schema, out: &mut Vec<String>) {
            if !s.r#ref.is_empty() {
                out.push(s.r#ref.clone());
            }
            if let Some(p) = &s.properties {
                p.additional_properties
                    .iter()
                    .filter_map(|n| n.value.as_ref())
                    .for_each(|c| refs(c, out));
            }
            if let Some(i) = &s.items {
                i.schema.iter().for_each(|c| refs(c, out));
            }
            if let Some(a) = &s.additional_properties {
                if let Some(pb::additional_properties_item::Oneof::Schema(c)) = &a.oneof {
                    refs(c, out);
                }
            }
            s.all_of.iter().for_each(|c| refs(c, out));
        }
        let mut all = Vec::new();
        for n in &defs.additional_properties {
            let sch = n.value.as_ref().unwrap();
            refs(sch, &mut all);
            assert!(
                sch.r#type.as_ref().is_none_or(|t| t.value.len() == 1),
                "{}",
                n.name
            );
        }
        for r in all {
            let name = r.strip_prefix(REF_PREFIX).unwrap();
            assert!(names.contains(name), "dangling {r}");
        }
    }

    #[test]
    fn v2_json_has_the_patch_parameters_and_gvks() {
        let d = v2_json();
        assert_eq!(d.content_type, "application/json");
        let v: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(v["swagger"], "2.0");
        let op = &v["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(op["consumes"], json!(PATCH_TYPES));
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["body", "dryRun", "fieldManager", "fieldValidation", "force"]
        );
        assert_eq!(
            op["parameters"][0]["schema"]["$ref"],
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
        );
        let defs = &v["definitions"];
        assert_eq!(
            defs["io.k8s.api.apps.v1.DeploymentList"]["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "DeploymentList", "version": "v1"}])
        );
        assert_eq!(
            defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
                ["x-kubernetes-patch-merge-key"],
            "name"
        );
        assert_eq!(
            defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
                ["x-kubernetes-patch-strategy"],
            "merge"
        );
        assert_eq!(
            defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"],
            "int-or-string"
        );
        assert!(defs["io.k8s.api.core.v1.Pod"].get("required").is_none());
        let delete_options = defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
            ["x-kubernetes-group-version-kind"]
            .as_array()
            .unwrap();
        assert_eq!(delete_options.len(), group_versions().len());
        // The table of patch strategies names real fields.
        for (name, field, _, _) in patch_strategies() {
            assert!(
                defs[name]["properties"][field].is_object(),
                "{name}.{field}"
            );
        }
        assert_eq!(v2_json().etag, d.etag);
        assert!(d.etag.starts_with('"') && d.etag.ends_with('"'));
    }

    #[test]
    fn accept_negotiation() {
        assert!(wants_v2_protobuf(V2_PROTOBUF_ACCEPT));
        assert!(wants_v2_protobuf(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        ));
        assert!(wants_v2_protobuf(
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
        ));
        assert!(wants_v2_protobuf(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json"
        ));
        assert!(wants_v2_protobuf(
            "application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        ));
        assert!(!wants_v2_protobuf("application/json"));
        assert!(!wants_v2_protobuf("*/*"));
        assert!(!wants_v2_protobuf(""));
        assert!(!wants_v2_protobuf(
            "application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        ));
        assert!(!wants_v2_protobuf(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0"
        ));
        assert!(!wants_v2_protobuf(
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.4, */*;q=0.5"
        ));
    }

    #[test]
    fn names() {
        assert_eq!(group_ident(""), "Core");
        assert_eq!(
            group_ident("rbac.authorization.k8s.io"),
            "RbacAuthorization"
        );
        assert_eq!(group_ident("certificates.k8s.io"), "Certificates");
        assert_eq!(tag("", "v1"), "core_v1");
        assert_eq!(tag("storage.k8s.io", "v1"), "storage_v1");
        assert_eq!(
            fallback_definition_name("networking.k8s.io", "v1", "Foo"),
            "io.k8s.api.networking.v1.Foo"
        );
        assert_eq!(
            content_hash(b""),
            "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"
        );
    }
}
