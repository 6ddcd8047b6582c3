//! Upstream's ControllerExpectations: a controller that created (or deleted) N objects waits
//! until its informer has seen all N before it counts objects again, so a slow watch never
//! makes it create twice. Expectations expire after 5 minutes, as upstream, so a lost event
//! cannot wedge a controller for ever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Upstream's `ExpectationsTimeout`.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Expected {
    add: i64,
    del: i64,
    at: Instant,
}

/// Pending creations and deletions per controller key. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    inner: Arc<Mutex<HashMap<String, Expected>>>,
}

impl Expectations {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Expected>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the controller may count and act for `key`: nothing is pending, everything
    /// pending was observed, or the expectations expired.
    pub fn satisfied(&self, key: &str) -> bool {
        match self.lock().get(key) {
            None => true,
            Some(e) => (e.add <= 0 && e.del <= 0) || e.at.elapsed() > EXPECTATIONS_TIMEOUT,
        }
    }

    /// Records that `adds` creations and `dels` deletions were just issued for `key`.
    pub fn expect(&self, key: &str, adds: usize, dels: usize) {
        self.lock().insert(
            key.to_string(),
            Expected {
                add: adds as i64,
                del: dels as i64,
                at: Instant::now(),
            },
        );
    }

    /// One creation for `key` was seen (or failed, so will never be seen).
    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.lock().get_mut(key) {
            e.add -= 1;
        }
    }

    /// One deletion for `key` was seen (or failed).
    pub fn deletion_observed(&self, key: &str) {
        if let Some(e) = self.lock().get_mut(key) {
            e.del -= 1;
        }
    }

    /// Forgets `key` (its owner was deleted).
    pub fn delete(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfied_once_every_expected_event_is_seen() {
        let e = Expectations::new();
        assert!(e.satisfied("d/rs"));
        e.expect("d/rs", 2, 1);
        assert!(!e.satisfied("d/rs"));
        e.creation_observed("d/rs");
        e.creation_observed("d/rs");
        assert!(!e.satisfied("d/rs"));
        e.deletion_observed("d/rs");
        assert!(e.satisfied("d/rs"));
        e.expect("d/rs", 1, 0);
        e.delete("d/rs");
        assert!(e.satisfied("d/rs"));
    }
}
