//! The operations and paths of every served resource and subresource, with upstream's
//! operation ids, parameters, replies and `x-kubernetes-*` extensions.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum In {
    Path,
    Query,
}

#[derive(Debug, Clone)]
pub(super) struct Param {
    pub(super) name: &'static str,
    pub(super) location: In,
    pub(super) ty: &'static str,
    pub(super) description: String,
    pub(super) required: bool,
}

pub(super) fn query(name: &'static str, ty: &'static str, description: &str) -> Param {
    Param {
        name,
        location: In::Query,
        ty,
        description: description.to_string(),
        required: false,
    }
}

pub(super) fn p_pretty() -> Param {
    query(
        "pretty",
        "string",
        "If 'true', the response is pretty-printed.",
    )
}
pub(super) fn p_dry_run() -> Param {
    query(
        "dryRun",
        "string",
        "When present, the request is validated and processed but its effects are not persisted. The only accepted value is 'All'.",
    )
}
pub(super) fn p_field_manager() -> Param {
    query(
        "fieldManager",
        "string",
        "The name of the actor making the change, recorded in managedFields. At most 128 printable characters. Required for apply patches.",
    )
}
pub(super) fn p_field_validation() -> Param {
    query(
        "fieldValidation",
        "string",
        "How the server treats unknown and duplicate fields in the request body: 'Ignore' drops them silently, 'Warn' drops them and returns a warning for each (the default), 'Strict' fails the request.",
    )
}
pub(super) fn p_force() -> Param {
    query(
        "force",
        "boolean",
        "Force an apply request: take ownership of fields other managers own. Must be unset for patches other than apply.",
    )
}

pub(super) fn list_params() -> Vec<Param> {
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

pub(super) fn delete_params() -> Vec<Param> {
    vec![
        p_dry_run(),
        query("gracePeriodSeconds", "integer", "Seconds before the object is deleted; zero deletes immediately. Unset takes the kind's default."),
        query("orphanDependents", "boolean", "Deprecated, use propagationPolicy: whether dependents are orphaned rather than deleted."),
        query("propagationPolicy", "string", "Whether and how garbage collection deletes dependents: 'Orphan', 'Background' or 'Foreground'."),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    None,
    /// The kind's object (create, update).
    Object,
    /// A patch document.
    Patch,
    /// `DeleteOptions`, optional.
    DeleteOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reply {
    /// The kind's object.
    Object,
    /// The kind's list (streamed as watch events with `watch=true`).
    List,
    Status,
    WatchEvent,
    ApiResourceList,
}

#[derive(Debug, Clone)]
pub(super) struct Op {
    pub(super) method: &'static str,
    pub(super) id: String,
    pub(super) description: String,
    pub(super) action: &'static str,
    pub(super) gvk: Option<Gvk>,
    pub(super) tag: String,
    pub(super) params: Vec<Param>,
    pub(super) body: Body,
    pub(super) reply: Reply,
    pub(super) codes: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub(super) struct PathItem {
    pub(super) path: String,
    pub(super) params: Vec<Param>,
    pub(super) ops: Vec<Op>,
}

/// Everything served at one group-version.
pub(super) struct GroupVersion {
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) paths: Vec<PathItem>,
}

pub(super) fn api_prefix(group: &str, version: &str) -> String {
    format!("/{}", gv_path(group, version))
}

pub(super) fn name_param(kind: &str) -> Param {
    Param {
        name: "name",
        location: In::Path,
        ty: "string",
        description: format!("The name of the {kind}."),
        required: true,
    }
}

pub(super) fn namespace_param() -> Param {
    Param {
        name: "namespace",
        location: In::Path,
        ty: "string",
        description: "The namespace of the objects: their name scope and authorization scope."
            .into(),
        required: true,
    }
}

pub(super) fn write_params() -> Vec<Param> {
    vec![p_dry_run(), p_field_manager(), p_field_validation()]
}

pub(super) fn patch_params() -> Vec<Param> {
    vec![
        p_dry_run(),
        p_field_manager(),
        p_field_validation(),
        p_force(),
    ]
}

pub(super) const OK: &[&str] = &["200"];
pub(super) const CREATED: &[&str] = &["200", "201", "202"];
pub(super) const REPLACED: &[&str] = &["200", "201"];
pub(super) const DELETED: &[&str] = &["200", "202"];

/// The operations upstream serves for a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
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
pub(super) struct OpBuilder<'a> {
    pub(super) r: &'a ResourceInfo,
    /// `CoreV1`, `AppsV1`.
    pub(super) gv_ident: String,
    pub(super) tag: String,
}

impl OpBuilder<'_> {
    /// The operation `verb` on the resource, or on its subresource `sub` (whose kind is
    /// `gvk`): operation id, description and parameters as upstream has them.
    pub(super) fn op(&self, verb: Verb, sub: Option<&Subresource>, gvk: Gvk) -> Op {
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

pub(super) fn resource_paths(r: &ResourceInfo) -> Vec<PathItem> {
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

pub(super) fn group_version_paths(group: &'static str, version: &'static str) -> GroupVersion {
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

pub(super) fn all_group_versions() -> Vec<GroupVersion> {
    group_versions()
        .into_iter()
        .map(|(g, v)| group_version_paths(g, v))
        .collect()
}

/// The definition an operation's body or reply names.
pub(super) fn reply_definition(s: &Schemas, op: &Op) -> String {
    let gvk = op.gvk;
    match op.reply {
        Reply::Object => s.kind(gvk.expect("object replies have a kind")).to_string(),
        Reply::List => s.list(gvk.expect("list replies have a kind")).to_string(),
        Reply::Status => meta("Status"),
        Reply::WatchEvent => meta("WatchEvent"),
        Reply::ApiResourceList => meta("APIResourceList"),
    }
}

pub(super) fn body_definition(s: &Schemas, op: &Op) -> Option<String> {
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

pub(super) const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
pub(super) const PRODUCES: &[&str] = &["application/json", "application/yaml"];
pub(super) const PRODUCES_LIST: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/json;stream=watch",
];
pub(super) const PRODUCES_WATCH: &[&str] = &["application/json", "application/json;stream=watch"];

pub(super) fn produces(op: &Op) -> &'static [&'static str] {
    match op.reply {
        Reply::List => PRODUCES_LIST,
        Reply::WatchEvent => PRODUCES_WATCH,
        _ => PRODUCES,
    }
}

pub(super) fn code_description(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        _ => "Unauthorized",
    }
}

pub(super) fn extensions(op: &Op, m: &mut Map<String, Value>) {
    if !op.action.is_empty() {
        m.insert("x-kubernetes-action".into(), json!(op.action));
    }
    if let Some(gvk) = op.gvk {
        m.insert("x-kubernetes-group-version-kind".into(), gvk.json());
    }
}

pub(super) fn info() -> Value {
    json!({"title": "Kubernetes", "version": crate::discovery::GIT_VERSION})
}
