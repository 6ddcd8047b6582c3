//! Max-in-flight: at most `--max-requests-inflight` read-only and
//! `--max-mutating-requests-inflight` mutating requests at once; the rest get upstream's `429`
//! with `Retry-After: 1` at once rather than queueing without bound. Long-running requests
//! (watches, exec, logs, proxy) and `system:masters` are exempt, as upstream.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use prometheus::IntGauge;

use super::authentication::{UserInfo, PRIVILEGED_GROUP};
use super::request_info::RequestInfo;

/// One limit and its current use.
struct Limit {
    max: usize,
    current: AtomicUsize,
    gauge: IntGauge,
}

impl Limit {
    fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        if self.max == 0 {
            // 0 means unlimited, as upstream; still counted for the gauge.
            self.current.fetch_add(1, Ordering::AcqRel);
        } else {
            let mut cur = self.current.load(Ordering::Acquire);
            loop {
                if cur >= self.max {
                    return None;
                }
                match self.current.compare_exchange_weak(
                    cur,
                    cur + 1,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => cur = actual,
                }
            }
        }
        self.gauge.inc();
        Some(Permit(self.clone()))
    }
}

/// Held while a request runs; releases its slot when dropped (also on panic or cancel).
pub struct Permit(Arc<Limit>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::AcqRel);
        self.0.gauge.dec();
    }
}

pub struct MaxInFlight {
    read_only: Arc<Limit>,
    mutating: Arc<Limit>,
}

/// What the filter decided for one request.
pub enum Admit {
    /// Not limited (long-running or privileged).
    Exempt,
    Admitted(Permit),
    /// Over the limit: answer this.
    Rejected(HttpResponse),
}

impl MaxInFlight {
    pub fn new(max_read_only: usize, max_mutating: usize, gauges: [IntGauge; 2]) -> Self {
        let [ro, mu] = gauges;
        MaxInFlight {
            read_only: Arc::new(Limit {
                max: max_read_only,
                current: AtomicUsize::new(0),
                gauge: ro,
            }),
            mutating: Arc::new(Limit {
                max: max_mutating,
                current: AtomicUsize::new(0),
                gauge: mu,
            }),
        }
    }

    pub fn admit(&self, info: &RequestInfo, user: &UserInfo) -> Admit {
        if info.is_long_running() || user.in_group(PRIVILEGED_GROUP) {
            return Admit::Exempt;
        }
        let limit = if info.is_mutating() {
            &self.mutating
        } else {
            &self.read_only
        };
        match limit.try_acquire() {
            Some(p) => Admit::Admitted(p),
            None => Admit::Rejected(too_many_requests()),
        }
    }
}

/// Upstream's answer (`http.Error`, so plain text) when a limit is reached.
pub fn too_many_requests() -> HttpResponse {
    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
        .insert_header(("Retry-After", "1"))
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body("Too many requests, please try again later.\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Query;

    fn gauges() -> [IntGauge; 2] {
        [
            IntGauge::new("ro", "ro").unwrap(),
            IntGauge::new("mu", "mu").unwrap(),
        ]
    }

    #[test]
    fn limits_per_kind_and_slots_come_back() {
        let f = MaxInFlight::new(1, 1, gauges());
        let q = Query::default();
        let get = RequestInfo::new("GET", "/api/v1/namespaces/a/pods/p", &q);
        let post = RequestInfo::new("POST", "/api/v1/namespaces/a/pods", &q);
        let watch = RequestInfo::new("GET", "/api/v1/pods", &Query::parse("watch=true").unwrap());
        let anon = UserInfo::anonymous();
        let first = match f.admit(&get, &anon) {
            Admit::Admitted(p) => p,
            _ => panic!("the first read is admitted"),
        };
        match f.admit(&get, &anon) {
            Admit::Rejected(r) => {
                assert_eq!(r.status(), 429);
                assert_eq!(r.headers().get("Retry-After").unwrap(), "1");
            }
            _ => panic!("the second read is over the limit"),
        }
        // Mutating requests have their own limit; watches and masters none.
        assert!(matches!(f.admit(&post, &anon), Admit::Admitted(_)));
        assert!(matches!(f.admit(&watch, &anon), Admit::Exempt));
        let admin = UserInfo {
            name: "admin".into(),
            groups: vec![PRIVILEGED_GROUP.into()],
            ..Default::default()
        };
        assert!(matches!(f.admit(&get, &admin), Admit::Exempt));
        drop(first);
        assert!(matches!(f.admit(&get, &anon), Admit::Admitted(_)));
    }

    #[test]
    fn zero_is_unlimited() {
        let f = MaxInFlight::new(0, 0, gauges());
        let get = RequestInfo::new("GET", "/api/v1/nodes", &Query::default());
        let permits: Vec<_> = (0..1000)
            .map(|_| f.admit(&get, &UserInfo::anonymous()))
            .collect();
        assert!(permits.iter().all(|a| matches!(a, Admit::Admitted(_))));
    }
}
