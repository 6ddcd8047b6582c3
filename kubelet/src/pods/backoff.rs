//! Upstream's container restart back-off: the first restart is immediate, then 10 s doubling
//! up to 5 min, measured from when the container last finished; an entry untouched for twice
//! the maximum starts over.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;

/// The first back-off delay.
pub const INITIAL: Duration = Duration::from_secs(10);
/// The longest back-off delay.
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Entry {
    delay: Duration,
    last_update: Timestamp,
}

/// Back-off delays per container of one pod (keyed by container name and image, as upstream
/// keys them, so a changed image restarts without waiting).
#[derive(Debug, Default)]
pub struct Backoff {
    entries: HashMap<String, Entry>,
}

fn since(now: Timestamp, then: Timestamp) -> Duration {
    now.duration_since(then)
        .try_into()
        .unwrap_or(Duration::ZERO)
}

impl Backoff {
    /// The key of a container: its name and image.
    pub fn key(container: &str, image: &str) -> String {
        format!("{container}_{image}")
    }

    /// How long `key` must still wait after finishing at `finished_at`, or `None` when it may
    /// restart now.
    pub fn remaining(&self, key: &str, finished_at: Timestamp, now: Timestamp) -> Option<Duration> {
        let entry = self.entries.get(key)?;
        let elapsed = since(now, finished_at);
        (elapsed < entry.delay).then(|| entry.delay - elapsed)
    }

    /// The current delay of `key` (for the CrashLoopBackOff message).
    pub fn delay(&self, key: &str) -> Option<Duration> {
        self.entries.get(key).map(|e| e.delay)
    }

    /// Records a restart of `key` at `now`: the next one waits [`INITIAL`] the first time,
    /// twice the previous delay after that, capped at [`MAX`].
    pub fn next(&mut self, key: &str, now: Timestamp) {
        let delay = match self.entries.get(key) {
            Some(e) if since(now, e.last_update) <= 2 * MAX => (e.delay * 2).min(MAX),
            _ => INITIAL,
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                delay,
                last_update: now,
            },
        );
    }

    /// Forgets every entry not in `keep` (containers gone from the spec).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn doubles_from_ten_seconds_to_five_minutes() {
        let mut b = Backoff::default();
        let k = Backoff::key("c", "busybox");
        assert_eq!(
            b.remaining(&k, at(0), at(0)),
            None,
            "first restart is immediate"
        );
        let mut delays = Vec::new();
        for now in 0..7 {
            b.next(&k, at(now));
            delays.push(b.delay(&k).unwrap().as_secs());
        }
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn remaining_counts_from_the_finish() {
        let mut b = Backoff::default();
        let k = Backoff::key("c", "i");
        b.next(&k, at(100));
        assert_eq!(
            b.remaining(&k, at(100), at(104)),
            Some(Duration::from_secs(6))
        );
        assert_eq!(b.remaining(&k, at(100), at(110)), None);
    }

    #[test]
    fn a_long_quiet_period_resets() {
        let mut b = Backoff::default();
        let k = Backoff::key("c", "i");
        b.next(&k, at(0));
        b.next(&k, at(1));
        assert_eq!(b.delay(&k), Some(Duration::from_secs(20)));
        b.next(&k, at(1 + 601));
        assert_eq!(b.delay(&k), Some(INITIAL));
        b.retain(|_| false);
        assert_eq!(b.delay(&k), None);
    }
}
