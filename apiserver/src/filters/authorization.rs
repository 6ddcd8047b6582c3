//! Authorization: may this user do this verb on this resource. The seam RBAC and Node
//! authorization will implement; today `--authorization-mode=AlwaysAllow` is the only mode.
//! Denials read exactly as upstream's `Forbidden` Status.

use super::authentication::UserInfo;
use super::request_info::RequestInfo;
use crate::error::ApiError;

/// What an authorizer is asked, as upstream's `authorizer.Attributes`.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub user: &'a UserInfo,
    pub verb: &'a str,
    pub is_resource_request: bool,
    pub api_group: &'a str,
    pub api_version: &'a str,
    pub namespace: Option<&'a str>,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: Option<&'a str>,
    pub path: &'a str,
}

impl<'a> Attributes<'a> {
    pub fn of_request(user: &'a UserInfo, info: &'a RequestInfo) -> Self {
        Attributes {
            user,
            verb: info.verb,
            is_resource_request: info.is_resource_request,
            api_group: &info.api_group,
            api_version: &info.api_version,
            namespace: info.namespace.as_deref(),
            resource: &info.resource,
            subresource: &info.subresource,
            name: info.name.as_deref(),
            path: &info.path,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied, with the reason appended to the message (may be empty).
    Deny(String),
    /// This authorizer has no opinion; the next one decides (denied when none does).
    NoOpinion,
}

pub trait Authorizer: Send + Sync {
    fn authorize(&self, attrs: &Attributes) -> Decision;
}

/// `--authorization-mode=AlwaysAllow`.
pub struct AlwaysAllow;

impl Authorizer for AlwaysAllow {
    fn authorize(&self, _: &Attributes) -> Decision {
        Decision::Allow
    }
}

/// Authorizers consulted in `--authorization-mode` order; the first opinion wins.
pub struct Authorization {
    authorizers: Vec<Box<dyn Authorizer>>,
}

impl Authorization {
    /// Builds the chain named by `--authorization-mode` (validated at start-up).
    pub fn from_modes(modes: &str) -> Result<Self, String> {
        let mut authorizers: Vec<Box<dyn Authorizer>> = Vec::new();
        for mode in modes.split(',').map(str::trim) {
            match mode {
                "AlwaysAllow" => authorizers.push(Box::new(AlwaysAllow)),
                other => {
                    return Err(format!(
                        "{other:?} is not supported yet; only AlwaysAllow is"
                    ))
                }
            }
        }
        Ok(Authorization { authorizers })
    }

    pub fn new(authorizers: Vec<Box<dyn Authorizer>>) -> Self {
        Authorization { authorizers }
    }

    pub fn decide(&self, attrs: &Attributes) -> Decision {
        for a in &self.authorizers {
            match a.authorize(attrs) {
                Decision::NoOpinion => continue,
                d => return d,
            }
        }
        Decision::Deny(String::new())
    }

    /// Allowed, or upstream's `403 Forbidden` Status.
    pub fn check(&self, attrs: &Attributes) -> Result<(), ApiError> {
        match self.decide(attrs) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(forbidden(attrs, &reason)),
            Decision::NoOpinion => Err(forbidden(attrs, "")),
        }
    }
}

/// Upstream's wording: `pods is forbidden: User "jane" cannot list resource "pods" in API
/// group "" in the namespace "default"` (plus `: reason` when the authorizer gave one).
pub fn forbidden(a: &Attributes, reason: &str) -> ApiError {
    let user = &a.user.name;
    let message = if a.is_resource_request {
        let resource = if a.subresource.is_empty() {
            a.resource.to_string()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        // The qualified resource names the resource without its subresource, as upstream's
        // `NewForbidden(GroupResource, name, ...)`.
        let qualified = if a.api_group.is_empty() {
            a.resource.to_string()
        } else {
            format!("{}.{}", a.resource, a.api_group)
        };
        let grouped = match a.name {
            Some(n) if !n.is_empty() => format!("{qualified} \"{n}\""),
            _ => qualified,
        };
        let scope = match a.namespace {
            Some(ns) if !ns.is_empty() => format!("in the namespace \"{ns}\""),
            _ => "at the cluster scope".to_string(),
        };
        format!(
            "{grouped} is forbidden: User \"{user}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
            a.verb, a.api_group
        )
    } else {
        format!(
            "forbidden: User \"{user}\" cannot {} path \"{}\"",
            a.verb, a.path
        )
    };
    let message = if reason.is_empty() {
        message
    } else {
        format!("{message}: {reason}")
    };
    let mut e = ApiError::forbidden(message);
    if a.is_resource_request {
        e = e.with_details(crate::error::StatusDetails {
            name: a.name.unwrap_or("").to_string(),
            group: a.api_group.to_string(),
            kind: a.resource.to_string(),
            ..Default::default()
        });
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    struct DenyAll;
    impl Authorizer for DenyAll {
        fn authorize(&self, _: &Attributes) -> Decision {
            Decision::Deny(String::new())
        }
    }

    fn attrs<'a>(user: &'a UserInfo, info: &'a RequestInfo) -> Attributes<'a> {
        Attributes::of_request(user, info)
    }

    #[test]
    fn forbidden_reads_like_upstream() {
        let jane = UserInfo {
            name: "jane".into(),
            ..Default::default()
        };
        let q = crate::request::Query::default();
        let list = RequestInfo::new("GET", "/api/v1/namespaces/default/pods", &q);
        let e = Authorization::new(vec![Box::new(DenyAll)])
            .check(&attrs(&jane, &list))
            .unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let get = RequestInfo::new(
            "GET",
            "/apis/apps/v1/namespaces/a/deployments/web/scale",
            &q,
        );
        assert_eq!(
            forbidden(&attrs(&jane, &get), "").message,
            "deployments.apps \"web\" is forbidden: User \"jane\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"a\""
        );
        let nodes = RequestInfo::new("GET", "/api/v1/nodes", &q);
        assert!(forbidden(&attrs(&jane, &nodes), "")
            .message
            .ends_with("in API group \"\" at the cluster scope"));
        let health = RequestInfo::new("GET", "/healthz", &q);
        assert_eq!(
            forbidden(&attrs(&jane, &health), "").message,
            "forbidden: User \"jane\" cannot get path \"/healthz\""
        );
    }

    #[test]
    fn always_allow_and_unknown_modes() {
        let a = Authorization::from_modes("AlwaysAllow").unwrap();
        let u = UserInfo::anonymous();
        let q = crate::request::Query::default();
        let i = RequestInfo::new("DELETE", "/api/v1/nodes/n", &q);
        assert!(a.check(&attrs(&u, &i)).is_ok());
        assert!(Authorization::from_modes("RBAC").is_err());
        // No authorizer with an opinion: denied.
        assert!(Authorization::new(vec![]).check(&attrs(&u, &i)).is_err());
    }
}
