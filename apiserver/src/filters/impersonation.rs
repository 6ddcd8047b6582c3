//! Impersonation: `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
//! `Impersonate-Extra-<key>` headers make a request act as another user, if the authorizer
//! lets the real user `impersonate` each of them, as upstream.

use std::collections::BTreeMap;

use actix_web::HttpRequest;

use super::authentication::{UserInfo, ANONYMOUS_USER, AUTHENTICATED_GROUP};
use super::authorization::{Attributes, Authorization};
use crate::error::ApiError;

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA_PREFIX: &str = "impersonate-extra-";
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// The user the request acts as: `user` itself when it asks for no impersonation.
pub fn impersonate(
    req: &HttpRequest,
    user: UserInfo,
    authz: &Authorization,
) -> Result<UserInfo, ApiError> {
    let headers = req.headers();
    let text = |v: &actix_web::http::header::HeaderValue| v.to_str().unwrap_or("").to_string();
    let name = headers.get(USER).map(text);
    let groups: Vec<String> = headers.get_all(GROUP).map(text).collect();
    let uid = headers.get(UID).map(text);
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in headers.iter() {
        if let Some(key) = k.as_str().strip_prefix(EXTRA_PREFIX) {
            extra
                .entry(percent_decode(key).to_lowercase())
                .or_default()
                .push(text(v));
        }
    }
    let Some(name) = name else {
        if groups.is_empty() && extra.is_empty() && uid.is_none() {
            return Ok(user);
        }
        return Err(ApiError::internal(format!(
            "requested impersonation of {} without impersonating a user",
            describe(&groups, &extra, uid.as_deref())
        )));
    };
    // Each impersonated attribute is a separate `impersonate` check, as upstream.
    let allowed = |resource: &str, namespace: Option<&str>, target: &str| {
        let attrs = Attributes {
            user: &user,
            verb: "impersonate",
            is_resource_request: true,
            api_group: if matches!(resource, "uids" | "userextras") {
                "authentication.k8s.io"
            } else {
                ""
            },
            api_version: "",
            namespace,
            resource,
            subresource: "",
            name: Some(target),
            path: req.path(),
        };
        authz.check(&attrs)
    };
    let mut result = UserInfo {
        name: name.clone(),
        ..Default::default()
    };
    match name
        .strip_prefix(SERVICE_ACCOUNT_PREFIX)
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, sa)) => {
            allowed("serviceaccounts", Some(ns), sa)?;
            result.groups.push("system:serviceaccounts".into());
            result.groups.push(format!("system:serviceaccounts:{ns}"));
        }
        None => allowed("users", None, &name)?,
    }
    for g in &groups {
        allowed("groups", None, g)?;
        result.groups.push(g.clone());
    }
    if let Some(u) = &uid {
        allowed("uids", None, u)?;
        result.uid = u.clone();
    }
    for (k, values) in &extra {
        for v in values {
            let attrs = Attributes {
                user: &user,
                verb: "impersonate",
                is_resource_request: true,
                api_group: "authentication.k8s.io",
                api_version: "",
                namespace: None,
                resource: "userextras",
                subresource: k,
                name: Some(v.as_str()),
                path: req.path(),
            };
            authz.check(&attrs)?;
        }
    }
    result.extra = extra;
    // Every impersonated user but anonymous is authenticated.
    if result.name != ANONYMOUS_USER && !result.in_group(AUTHENTICATED_GROUP) {
        result.groups.push(AUTHENTICATED_GROUP.into());
    }
    Ok(result)
}

fn describe(groups: &[String], extra: &BTreeMap<String, Vec<String>>, uid: Option<&str>) -> String {
    let mut parts: Vec<String> = groups.iter().map(|g| format!("group {g:?}")).collect();
    parts.extend(extra.keys().map(|k| format!("extra {k:?}")));
    if let Some(u) = uid {
        parts.push(format!("uid {u:?}"));
    }
    parts.join(", ")
}

/// Extra keys are percent-encoded in header names (`Impersonate-Extra-scopes%2Fx`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::authorization::{Authorizer, Decision};
    use actix_web::test::TestRequest;

    struct OnlyUsers;
    impl Authorizer for OnlyUsers {
        fn authorize(&self, a: &Attributes) -> Decision {
            if a.resource == "users" {
                Decision::Allow
            } else {
                Decision::Deny(String::new())
            }
        }
    }

    #[test]
    fn no_headers_no_change() {
        let req = TestRequest::default().to_http_request();
        let authz = Authorization::from_modes("AlwaysAllow").unwrap();
        let u = impersonate(&req, UserInfo::anonymous(), &authz).unwrap();
        assert_eq!(u, UserInfo::anonymous());
    }

    #[test]
    fn impersonating_a_user_groups_and_extras() {
        let req = TestRequest::default()
            .insert_header(("Impersonate-User", "jane"))
            .append_header(("Impersonate-Group", "devs"))
            .append_header(("Impersonate-Group", "ops"))
            .insert_header(("Impersonate-Extra-Scopes%2Fa", "x"))
            .to_http_request();
        let authz = Authorization::from_modes("AlwaysAllow").unwrap();
        let u = impersonate(&req, UserInfo::anonymous(), &authz).unwrap();
        assert_eq!(u.name, "jane");
        assert_eq!(u.groups, vec!["devs", "ops", AUTHENTICATED_GROUP]);
        assert_eq!(u.extra.get("scopes/a"), Some(&vec!["x".to_string()]));
        let sa = TestRequest::default()
            .insert_header((
                "Impersonate-User",
                "system:serviceaccount:kube-system:default",
            ))
            .to_http_request();
        let u = impersonate(&sa, UserInfo::anonymous(), &authz).unwrap();
        assert!(u.in_group("system:serviceaccounts:kube-system"));
    }

    #[test]
    fn denied_impersonation_and_groups_without_a_user() {
        let authz = Authorization::new(vec![Box::new(OnlyUsers)]);
        let req = TestRequest::default()
            .insert_header(("Impersonate-User", "jane"))
            .insert_header(("Impersonate-Group", "admins"))
            .to_http_request();
        let e = impersonate(&req, UserInfo::anonymous(), &authz).unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "groups \"admins\" is forbidden: User \"system:anonymous\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope"
        );
        let req = TestRequest::default()
            .insert_header(("Impersonate-Group", "admins"))
            .to_http_request();
        let e = impersonate(&req, UserInfo::anonymous(), &authz).unwrap_err();
        assert_eq!(e.code, 500);
        assert!(
            e.message.contains("without impersonating a user"),
            "{}",
            e.message
        );
    }
}
