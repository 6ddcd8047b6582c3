//! What a request is about, parsed once at the start of the handler chain into one struct
//! that every later step reads (authentication, authorization, max-in-flight, metrics, the
//! store), as upstream's `RequestInfo`.

use crate::proxy::{self, ProxyRequest};
use crate::request::{self, Query, ResourceRequest, Route};

/// The route a path names: a proxied subresource (streams both ways, served before the body
/// is read) or an ordinary route.
#[derive(Debug, Clone)]
pub enum Target {
    Proxy(ProxyRequest),
    Route(Route),
}

/// Upstream's request attributes: the Kubernetes verb, and for resource requests the API
/// group, version, resource, subresource, namespace and name.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub is_resource_request: bool,
    pub path: String,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection` for
    /// resource requests; the lower-cased HTTP method for the others, as upstream.
    pub verb: &'static str,
    pub api_group: String,
    pub api_version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub subresource: String,
    pub name: Option<String>,
    pub target: Target,
}

impl RequestInfo {
    /// Parses the path, method and query once.
    pub fn new(method: &str, path: &str, query: &Query) -> Self {
        if let Some(pr) = proxy::parse(path) {
            let verb = method_verb(method, true);
            return RequestInfo {
                is_resource_request: true,
                path: path.to_string(),
                verb,
                api_group: String::new(),
                api_version: "v1".into(),
                namespace: pr.namespace.clone(),
                resource: pr.kind.plural().into(),
                subresource: pr.kind.subresource().into(),
                name: Some(pr.id.clone()),
                target: Target::Proxy(pr),
            };
        }
        let route = request::parse_path(path);
        match &route {
            Route::Resource(rr) => RequestInfo {
                is_resource_request: true,
                path: path.to_string(),
                verb: resource_verb(method, rr, query),
                api_group: rr.info.group.into(),
                api_version: rr.info.version.into(),
                namespace: rr.namespace.clone(),
                resource: rr.info.plural.into(),
                subresource: rr.subresource.clone().unwrap_or_default(),
                name: rr.name.clone(),
                target: Target::Route(route),
            },
            _ => RequestInfo {
                is_resource_request: false,
                path: path.to_string(),
                verb: method_verb(method, false),
                api_group: String::new(),
                api_version: String::new(),
                namespace: None,
                resource: String::new(),
                subresource: String::new(),
                name: None,
                target: Target::Route(route),
            },
        }
    }

    /// Watches and the proxied subresources stream for as long as the client wants: upstream
    /// exempts them from max-in-flight limits and request timeouts.
    pub fn is_long_running(&self) -> bool {
        matches!(self.target, Target::Proxy(_))
            || self.verb == "watch"
            || matches!(
                self.subresource.as_str(),
                "attach" | "exec" | "proxy" | "log" | "portforward"
            )
    }

    /// Whether the request changes state (counts against the mutating in-flight limit).
    pub fn is_mutating(&self) -> bool {
        matches!(
            self.verb,
            "create" | "update" | "patch" | "delete" | "deletecollection" | "post" | "put"
        )
    }

    /// The verb label of upstream's request metrics (`LIST`, `WATCH`, `POST`, `CONNECT`, ...).
    pub fn metrics_verb(&self) -> &'static str {
        if matches!(self.target, Target::Proxy(_)) {
            return "CONNECT";
        }
        match self.verb {
            "get" => "GET",
            "list" => "LIST",
            "watch" => "WATCH",
            "create" => "POST",
            "update" => "PUT",
            "patch" => "PATCH",
            "delete" => "DELETE",
            "deletecollection" => "DELETECOLLECTION",
            _ if !self.is_resource_request => "GET",
            _ => "OTHER",
        }
    }

    /// The resource request, if the path names one served from storage.
    pub fn resource_request(&self) -> Option<&ResourceRequest> {
        match &self.target {
            Target::Route(Route::Resource(rr)) => Some(rr),
            _ => None,
        }
    }
}

/// The verb of a request on a resource path.
fn resource_verb(method: &str, rr: &ResourceRequest, q: &Query) -> &'static str {
    // A malformed `watch` flag is reported by the handler; here it only picks a verb.
    let watch = rr.legacy_watch || q.flag("watch").unwrap_or(false);
    match method {
        "GET" | "HEAD" if watch => "watch",
        "GET" | "HEAD" if rr.name.is_none() => "list",
        "DELETE" if rr.name.is_none() => "deletecollection",
        other => method_verb(other, true),
    }
}

fn method_verb(method: &str, resource: bool) -> &'static str {
    match (method, resource) {
        ("GET" | "HEAD", _) => "get",
        ("POST", true) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("POST", false) => "post",
        ("PUT", false) => "put",
        ("PATCH", false) => "patch",
        ("DELETE", false) => "delete",
        ("OPTIONS", _) => "options",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: &str, path_and_query: &str) -> RequestInfo {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        RequestInfo::new(method, path, &Query::parse(query).unwrap())
    }

    #[test]
    fn verbs_as_upstream_names_them() {
        let i = info("GET", "/api/v1/namespaces/default/pods");
        assert_eq!((i.verb, i.resource.as_str()), ("list", "pods"));
        assert_eq!(i.namespace.as_deref(), Some("default"));
        assert_eq!(info("GET", "/api/v1/pods?watch=true").verb, "watch");
        assert_eq!(
            info("GET", "/api/v1/watch/namespaces/a/pods/p").verb,
            "watch"
        );
        let i = info("GET", "/apis/apps/v1/namespaces/a/deployments/d/scale");
        assert_eq!((i.verb, i.subresource.as_str()), ("get", "scale"));
        assert_eq!(i.api_group, "apps");
        assert_eq!(i.name.as_deref(), Some("d"));
        assert_eq!(info("POST", "/api/v1/namespaces/a/pods").verb, "create");
        assert_eq!(
            info("PUT", "/api/v1/namespaces/a/pods/p/status").verb,
            "update"
        );
        assert_eq!(info("PATCH", "/api/v1/nodes/n").verb, "patch");
        assert_eq!(
            info("DELETE", "/api/v1/namespaces/a/pods").verb,
            "deletecollection"
        );
        assert_eq!(info("DELETE", "/api/v1/namespaces/a/pods/p").verb, "delete");
    }

    #[test]
    fn non_resource_and_long_running_requests() {
        let i = info("GET", "/healthz");
        assert!(!i.is_resource_request);
        assert_eq!(i.verb, "get");
        assert!(!i.is_long_running());
        assert!(info("GET", "/api/v1/pods?watch=1").is_long_running());
        let exec = info("POST", "/api/v1/namespaces/a/pods/p/exec");
        assert!(exec.is_long_running());
        assert_eq!((exec.verb, exec.subresource.as_str()), ("create", "exec"));
        assert_eq!(exec.metrics_verb(), "CONNECT");
        assert!(info("POST", "/api/v1/namespaces/a/configmaps").is_mutating());
        assert!(!info("GET", "/api/v1/namespaces/a/configmaps").is_mutating());
    }
}
