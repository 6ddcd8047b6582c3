//! What a request asks for: the route its path names (discovery, health, a resource, an
//! object, a subresource) and the list/watch/write options in its query string.

use api_types::fields::FieldSelector;
use api_types::labels::LabelSelector;
use api_types::resources::{self, ResourceInfo};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Health(&'static str),
    Metrics,
    /// `/openapi/v2`
    OpenApiV2,
    /// `/openapi/v3` (None) or `/openapi/v3/<api/v1 | apis/group/version>`
    OpenApiV3(Option<String>),
    Version,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`
    ResourceList(String, String),
    Resource(ResourceRequest),
    NotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRequest {
    pub info: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The path used the legacy `/watch/` prefix.
    pub legacy_watch: bool,
}

pub fn parse_path(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["healthz", ..] => Route::Health("healthz"),
        ["livez", ..] => Route::Health("livez"),
        ["readyz", ..] => Route::Health("readyz"),
        ["metrics"] => Route::Metrics,
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3(None),
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3(Some(rest.join("/"))),
        ["version"] => Route::Version,
        ["api"] => Route::CoreVersions,
        ["api", v] => known_group_version("", v),
        ["api", v, rest @ ..] => resource_route("", v, rest),
        ["apis"] => Route::Groups,
        ["apis", g] => {
            if resources::groups().iter().any(|gv| gv.group == *g) {
                Route::Group(g.to_string())
            } else {
                Route::NotFound
            }
        }
        ["apis", g, v] => known_group_version(g, v),
        ["apis", g, v, rest @ ..] => resource_route(g, v, rest),
        _ => Route::NotFound,
    }
}

fn known_group_version(group: &str, version: &str) -> Route {
    if resources::resources_in(group, version).next().is_some() {
        Route::ResourceList(group.to_string(), version.to_string())
    } else {
        Route::NotFound
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let (legacy_watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    // `namespaces/<ns>/<resource>...` names a namespaced resource, except for the namespace
    // object's own subresources (`namespaces/<ns>/status`, `namespaces/<ns>/finalize`).
    let (namespace, rest) = match rest {
        ["namespaces", ns, sub] if group.is_empty() && (*sub == "status" || *sub == "finalize") => {
            let _ = ns;
            (None, rest)
        }
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return Route::NotFound,
    };
    // A kind without a registration (and so without a strategy) is not served.
    let Some(info) =
        resources::find(group, version, plural).filter(|i| crate::registry::kinds::of(i).is_some())
    else {
        return Route::NotFound;
    };
    if namespace.is_some() && !info.namespaced {
        return Route::NotFound;
    }
    if let Some(s) = &sub {
        if info.subresource(s).is_none() {
            return Route::NotFound;
        }
    }
    if name.as_deref() == Some("") || namespace.as_deref() == Some("") {
        return Route::NotFound;
    }
    Route::Resource(ResourceRequest {
        info,
        namespace,
        name,
        subresource: sub,
        legacy_watch,
    })
}

/// The query parameters of list, watch and write requests.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: &str) -> ApiResult<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query)?;
        Ok(Query { pairs })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, key: &str) -> ApiResult<bool> {
        match self.get(key) {
            None | Some("") | Some("false") | Some("0") | Some("False") => Ok(false),
            Some("true") | Some("1") | Some("True") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "invalid value for {key}: {other:?} is not a boolean"
            ))),
        }
    }

    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value for {key}: {v:?} is not an integer"))
            }),
        }
    }

    pub fn label_selector(&self) -> ApiResult<LabelSelector> {
        match self.get("labelSelector") {
            None | Some("") => Ok(LabelSelector::everything()),
            Some(s) => LabelSelector::parse(s)
                .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}"))),
        }
    }

    pub fn field_selector(&self, info: &ResourceInfo) -> ApiResult<FieldSelector> {
        let sel = match self.get("fieldSelector") {
            None | Some("") => FieldSelector::default(),
            Some(s) => FieldSelector::parse(s)
                .map_err(|e| ApiError::bad_request(format!("invalid field selector: {e}")))?,
        };
        for f in sel.fields() {
            if !info.field_is_selectable(f) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {f}"
                )));
            }
        }
        Ok(sel)
    }

    /// `dryRun=All` (the only value upstream accepts).
    pub fn dry_run(&self) -> ApiResult<bool> {
        let values: Vec<&str> = self
            .pairs
            .iter()
            .filter(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.as_str())
            .collect();
        match values.as_slice() {
            [] => Ok(false),
            ["All"] => Ok(true),
            other => Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: {:?}: supported values: \"All\"",
                other.join(",")
            ))),
        }
    }
}

fn serde_urlencoded_pairs(query: &str) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> ApiResult<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                let b = u8::from_str_radix(hex, 16)
                    .map_err(|_| ApiError::bad_request(format!("invalid URL escape in {s:?}")))?;
                out.push(b);
                i += 2;
            }
            b'%' => {
                return Err(ApiError::bad_request(format!(
                    "invalid URL escape in {s:?}"
                )))
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("query is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourceRequest {
        match parse_path(path) {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_resolve_like_upstream() {
        let r = res("/api/v1/namespaces/default/pods/p1/status");
        assert_eq!(r.info.plural, "pods");
        assert_eq!(r.namespace.as_deref(), Some("default"));
        assert_eq!(r.name.as_deref(), Some("p1"));
        assert_eq!(r.subresource.as_deref(), Some("status"));

        let r = res("/api/v1/namespaces/kube-system");
        assert_eq!(r.info.plural, "namespaces");
        assert_eq!(r.name.as_deref(), Some("kube-system"));
        assert_eq!(r.namespace, None);

        let r = res("/api/v1/namespaces/x/finalize");
        assert_eq!(r.info.plural, "namespaces");
        assert_eq!(r.subresource.as_deref(), Some("finalize"));

        let r = res("/apis/apps/v1/deployments");
        assert_eq!(r.info.plural, "deployments");
        assert_eq!(r.namespace, None);

        let r = res("/api/v1/watch/namespaces/default/configmaps");
        assert!(r.legacy_watch);
        assert_eq!(r.info.plural, "configmaps");

        assert_eq!(parse_path("/api/v1/namespaces/x/nodes"), Route::NotFound);
        assert_eq!(parse_path("/api/v1/bogus"), Route::NotFound);
        assert_eq!(parse_path("/api/v1/pods/p/nosuchsub"), Route::NotFound);
        assert_eq!(parse_path("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(parse_path("/apis/nope"), Route::NotFound);
        assert_eq!(
            parse_path("/apis/apps/v1"),
            Route::ResourceList("apps".into(), "v1".into())
        );
        assert_eq!(parse_path("/readyz"), Route::Health("readyz"));
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse("labelSelector=app%3Dweb%2Ctier+in+%28a%29&watch=1&limit=5").unwrap();
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.flag("watch").unwrap());
        assert_eq!(q.int("limit").unwrap(), Some(5));
        assert!(Query::parse("a=%zz").is_err());
        assert!(Query::parse("a=%4").is_err());
        assert!(q.flag("missing").is_ok_and(|b| !b));
        assert!(Query::parse("watch=maybe").unwrap().flag("watch").is_err());
        assert!(Query::parse("dryRun=All").unwrap().dry_run().unwrap());
        assert!(Query::parse("dryRun=Some").unwrap().dry_run().is_err());
    }
}
