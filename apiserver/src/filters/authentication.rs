//! Authentication: who is making the request. The seam the security work implements (client
//! certificates, bearer tokens, service-account tokens); until then the only authenticator is
//! upstream's anonymous one, on by default (`--anonymous-auth`).

use std::collections::BTreeMap;

use actix_web::HttpRequest;

use crate::error::ApiError;

/// The user a request acts as, as upstream's `user.Info`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

pub const ANONYMOUS_USER: &str = "system:anonymous";
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// Members bypass max-in-flight limits, as upstream's `system:masters`.
pub const PRIVILEGED_GROUP: &str = "system:masters";

impl UserInfo {
    pub fn anonymous() -> Self {
        UserInfo {
            name: ANONYMOUS_USER.into(),
            groups: vec![UNAUTHENTICATED_GROUP.into()],
            ..Default::default()
        }
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// What an authenticator concluded.
#[derive(Debug)]
pub enum Outcome {
    /// The request proves this identity.
    User(UserInfo),
    /// The request carries no credential this authenticator understands: ask the next one.
    NotMine,
}

/// One way of establishing identity. An error means the request carried a credential this
/// authenticator owns and it is invalid: the request gets `401` at once.
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, req: &HttpRequest) -> Result<Outcome, String>;
}

/// The apiserver's own loopback client (post-start hooks), as upstream: a random bearer token
/// made at start-up that authenticates as `system:apiserver` in `system:masters`.
pub struct LoopbackToken {
    token: String,
}

pub const APISERVER_USER: &str = "system:apiserver";

impl LoopbackToken {
    pub fn new(token: String) -> Self {
        LoopbackToken { token }
    }
}

impl Authenticator for LoopbackToken {
    fn authenticate(&self, req: &HttpRequest) -> Result<Outcome, String> {
        let presented = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            // Compared without an early exit, so timing does not reveal a prefix.
            Some(t)
                if t.len() == self.token.len()
                    && t.bytes()
                        .zip(self.token.bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0 =>
            {
                Ok(Outcome::User(UserInfo {
                    name: APISERVER_USER.into(),
                    groups: vec![PRIVILEGED_GROUP.into()],
                    ..Default::default()
                }))
            }
            // Other bearer tokens belong to authenticators that do not exist yet.
            _ => Ok(Outcome::NotMine),
        }
    }
}

/// Authenticators tried in order, then anonymous if enabled, as upstream's union
/// authenticator.
pub struct Authentication {
    authenticators: Vec<Box<dyn Authenticator>>,
    anonymous: bool,
}

impl Authentication {
    pub fn new(authenticators: Vec<Box<dyn Authenticator>>, anonymous: bool) -> Self {
        Authentication {
            authenticators,
            anonymous,
        }
    }

    /// The request's user, or upstream's `401 Unauthorized` Status.
    pub fn authenticate(&self, req: &HttpRequest) -> Result<UserInfo, ApiError> {
        for a in &self.authenticators {
            match a.authenticate(req) {
                Ok(Outcome::User(mut u)) => {
                    if !u.in_group(AUTHENTICATED_GROUP) && u.name != ANONYMOUS_USER {
                        u.groups.push(AUTHENTICATED_GROUP.into());
                    }
                    return Ok(u);
                }
                Ok(Outcome::NotMine) => {}
                Err(reason) => {
                    tracing::debug!(%reason, path = req.path(), "unable to authenticate the request");
                    return Err(unauthorized());
                }
            }
        }
        if self.anonymous {
            Ok(UserInfo::anonymous())
        } else {
            Err(unauthorized())
        }
    }
}

/// Upstream's answer to a request without valid credentials.
pub fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    struct Header;
    impl Authenticator for Header {
        fn authenticate(&self, req: &HttpRequest) -> Result<Outcome, String> {
            match req
                .headers()
                .get("x-test-user")
                .map(|v| v.to_str().unwrap_or(""))
            {
                None => Ok(Outcome::NotMine),
                Some("") => Err("empty user".into()),
                Some(u) => Ok(Outcome::User(UserInfo {
                    name: u.into(),
                    ..Default::default()
                })),
            }
        }
    }

    #[test]
    fn the_loopback_token_is_a_privileged_user() {
        let a = Authentication::new(vec![Box::new(LoopbackToken::new("s3cret".into()))], false);
        let req = TestRequest::default()
            .insert_header(("Authorization", "Bearer s3cret"))
            .to_http_request();
        let u = a.authenticate(&req).unwrap();
        assert_eq!(u.name, APISERVER_USER);
        assert!(u.in_group(PRIVILEGED_GROUP) && u.in_group(AUTHENTICATED_GROUP));
        let other = TestRequest::default()
            .insert_header(("Authorization", "Bearer s3cres"))
            .to_http_request();
        assert_eq!(a.authenticate(&other).unwrap_err().code, 401);
    }

    #[test]
    fn anonymous_only_when_enabled_and_nobody_claims_the_request() {
        let on = Authentication::new(vec![Box::new(Header)], true);
        let req = TestRequest::default().to_http_request();
        assert_eq!(on.authenticate(&req).unwrap(), UserInfo::anonymous());
        let off = Authentication::new(vec![Box::new(Header)], false);
        let e = off.authenticate(&req).unwrap_err();
        assert_eq!(
            (e.code, e.reason, e.message.as_str()),
            (401, "Unauthorized", "Unauthorized")
        );
    }

    #[test]
    fn an_authenticated_user_joins_system_authenticated_and_bad_credentials_are_401() {
        let a = Authentication::new(vec![Box::new(Header)], true);
        let req = TestRequest::default()
            .insert_header(("x-test-user", "jane"))
            .to_http_request();
        let u = a.authenticate(&req).unwrap();
        assert_eq!(u.name, "jane");
        assert!(u.in_group(AUTHENTICATED_GROUP));
        let bad = TestRequest::default()
            .insert_header(("x-test-user", ""))
            .to_http_request();
        assert_eq!(a.authenticate(&bad).unwrap_err().code, 401);
    }
}
