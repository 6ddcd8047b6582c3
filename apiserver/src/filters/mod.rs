//! The HTTP handler chain, one step per module, in upstream's order: panic recovery, request
//! info, authentication, impersonation, max-in-flight, authorization; then the handlers (the
//! registry's store, discovery, health, proxying). Mutating and validating admission run
//! later, inside the store's write path.

pub mod authentication;
pub mod authorization;
pub mod impersonation;
pub mod inflight;
pub mod panic;
pub mod request_info;

use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use self::authentication::{Authentication, UserInfo};
use self::authorization::{Attributes, Authorization};
use self::inflight::{Admit, MaxInFlight, Permit};
use self::request_info::RequestInfo;
use crate::metrics::Metrics;

/// The configured steps between the request line and the handlers.
pub struct Chain {
    pub authentication: Authentication,
    pub authorization: Authorization,
    pub inflight: MaxInFlight,
}

/// A request the chain let through, holding its in-flight slot (if it took one) until
/// dropped.
pub struct Admitted {
    _permit: Option<Permit>,
}

impl Chain {
    /// Builds the chain from the apiserver's flags (already validated).
    /// `loopback_token` authenticates the apiserver's own loopback client.
    pub fn new(
        options: &crate::Options,
        metrics: &Metrics,
        loopback_token: &str,
    ) -> Result<Self, String> {
        // Only the loopback token so far: the security work adds client certificates,
        // bearer tokens and service-account tokens here.
        let authenticators: Vec<Box<dyn authentication::Authenticator>> = vec![Box::new(
            authentication::LoopbackToken::new(loopback_token.to_string()),
        )];
        Ok(Chain {
            authentication: Authentication::new(authenticators, options.anonymous_auth),
            authorization: Authorization::from_modes(&options.authorization_mode)?,
            inflight: MaxInFlight::new(
                options.max_requests_inflight,
                options.max_mutating_requests_inflight,
                [
                    metrics.inflight.with_label_values(&["readOnly"]),
                    metrics.inflight.with_label_values(&["mutating"]),
                ],
            ),
        })
    }

    /// Authentication, impersonation, max-in-flight and authorization for one request whose
    /// info has been parsed. The user is left in the request's extensions for the handlers
    /// (admission reads it there, through `user_of`).
    pub fn admit(
        &self,
        req: &HttpRequest,
        info: &RequestInfo,
    ) -> Result<Admitted, Box<HttpResponse>> {
        let user = self
            .authentication
            .authenticate(req)
            .map_err(|e| Box::new(e.to_response()))?;
        let user = impersonation::impersonate(req, user, &self.authorization)
            .map_err(|e| Box::new(e.to_response()))?;
        let permit = match self.inflight.admit(info, &user) {
            Admit::Exempt => None,
            Admit::Admitted(p) => Some(p),
            Admit::Rejected(resp) => return Err(Box::new(resp)),
        };
        self.authorization
            .check(&Attributes::of_request(&user, info))
            .map_err(|e| Box::new(e.to_response()))?;
        req.extensions_mut().insert(user);
        Ok(Admitted { _permit: permit })
    }
}

/// The user the chain established for `req` (anonymous outside a chain, e.g. in unit tests).
pub fn user_of(req: &HttpRequest) -> UserInfo {
    req.extensions()
        .get::<UserInfo>()
        .cloned()
        .unwrap_or_else(UserInfo::anonymous)
}
