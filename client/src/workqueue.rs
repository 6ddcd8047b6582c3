//! A rate-limited work queue with upstream client-go's semantics: a key is queued at most once
//! however often it is added, a key being processed is never handed to a second worker (one
//! re-added meanwhile is queued again when the first worker calls `done`), delayed and
//! rate-limited (per-key exponential backoff plus an overall token bucket) re-adds, and a
//! shutdown that lets workers drain what is queued.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Errors of the work queue's worker helper.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("work queue is shutting down")]
    ShuttingDown,
}

/// Decides how long an item waits before it is retried.
pub trait RateLimiter<T>: Send {
    /// The delay before `item` may be processed again; records one more failure for it.
    fn when(&mut self, item: &T) -> Duration;
    /// Stops tracking `item` (it succeeded): its backoff starts from the beginning again.
    fn forget(&mut self, item: &T);
    /// How many times `item` has been rate-limited since it was last forgotten.
    fn num_requeues(&self, item: &T) -> u32;
}

/// Per-item exponential backoff: `base * 2^failures`, capped at `max`.
#[derive(Debug, Clone)]
pub struct ItemExponentialFailureRateLimiter<T> {
    base: Duration,
    max: Duration,
    failures: HashMap<T, u32>,
}

impl<T: Eq + Hash> ItemExponentialFailureRateLimiter<T> {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: HashMap::new(),
        }
    }
}

impl<T: Eq + Hash + Clone + Send> RateLimiter<T> for ItemExponentialFailureRateLimiter<T> {
    fn when(&mut self, item: &T) -> Duration {
        let failures = self.failures.entry(item.clone()).or_insert(0);
        let exp = *failures;
        *failures = failures.saturating_add(1);
        // Like upstream, anything that would overflow is simply the maximum.
        2u32.checked_pow(exp)
            .and_then(|factor| self.base.checked_mul(factor))
            .map_or(self.max, |d| d.min(self.max))
    }

    fn forget(&mut self, item: &T) {
        self.failures.remove(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.failures.get(item).copied().unwrap_or(0)
    }
}

/// An overall token bucket (`qps` refill, `burst` capacity) shared by all items, with the
/// reservation semantics of Go's `rate.Limiter`: every call takes a token, possibly one that
/// only exists in the future, and the wait is how long until it does.
#[derive(Debug, Clone)]
pub struct BucketRateLimiter {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl BucketRateLimiter {
    pub fn new(qps: f64, burst: u32) -> Self {
        Self {
            qps,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
        }
    }
}

impl<T> RateLimiter<T> for BucketRateLimiter {
    fn when(&mut self, _item: &T) -> Duration {
        let now = Instant::now();
        let last = self.last.unwrap_or(now);
        // tokio's Instant is monotonic, so `last` is never ahead of `now`.
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst);
        self.last = Some(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 || self.qps <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }

    fn forget(&mut self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> u32 {
        0
    }
}

/// The longest delay of several limiters (each is consulted on every call).
pub struct MaxOfRateLimiter<T> {
    limiters: Vec<Box<dyn RateLimiter<T>>>,
}

impl<T> MaxOfRateLimiter<T> {
    pub fn new(limiters: Vec<Box<dyn RateLimiter<T>>>) -> Self {
        Self { limiters }
    }
}

impl<T: Send> RateLimiter<T> for MaxOfRateLimiter<T> {
    fn when(&mut self, item: &T) -> Duration {
        self.limiters
            .iter_mut()
            .map(|l| l.when(item))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    fn forget(&mut self, item: &T) {
        for l in &mut self.limiters {
            l.forget(item);
        }
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.limiters
            .iter()
            .map(|l| l.num_requeues(item))
            .max()
            .unwrap_or(0)
    }
}

/// Upstream's `DefaultControllerRateLimiter`: per-item exponential backoff from 5ms to 1000s,
/// and overall no more than 10 retries a second after a burst of 100.
pub fn default_controller_rate_limiter<T>() -> MaxOfRateLimiter<T>
where
    T: Eq + Hash + Clone + Send + 'static,
{
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        )),
        Box::new(BucketRateLimiter::new(10.0, 100)),
    ])
}

struct State<T> {
    /// Items ready to be handed out, in order.
    queue: VecDeque<T>,
    /// Items that need processing: queued ones, and processing ones re-added meanwhile.
    dirty: HashSet<T>,
    /// Items handed out and not yet `done`.
    processing: HashSet<T>,
    /// Delayed items by ready time; the sequence number keeps equal times in add order.
    waiting: BTreeMap<(Instant, u64), T>,
    /// Each delayed item's entry in `waiting`, so an item waits at most once.
    waiting_at: HashMap<T, (Instant, u64)>,
    seq: u64,
    shutting_down: bool,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    /// Woken on every change a waiting `get` or drain might care about.
    changed: Notify,
    limiter: Mutex<Box<dyn RateLimiter<T>>>,
}

/// A rate-limited work queue of keys (by default `namespace/name` strings). Cloning gives
/// another handle to the same queue.
pub struct WorkQueue<T = String> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for WorkQueue<T>
where
    T: Clone + Eq + Hash + Send + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<T> WorkQueue<T>
where
    T: Clone + Eq + Hash + Send + 'static,
{
    /// A queue with [`default_controller_rate_limiter`].
    pub fn new() -> Self {
        Self::with_rate_limiter(default_controller_rate_limiter())
    }

    pub fn with_rate_limiter(limiter: impl RateLimiter<T> + 'static) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashSet::new(),
                    waiting: BTreeMap::new(),
                    waiting_at: HashMap::new(),
                    seq: 0,
                    shutting_down: false,
                }),
                changed: Notify::new(),
                limiter: Mutex::new(Box::new(limiter)),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding the lock leaves the sets consistent (each operation mutates
        // them in one step), so a poisoned lock is still usable.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn limiter(&self) -> MutexGuard<'_, Box<dyn RateLimiter<T>>> {
        self.inner.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `item` as needing processing. Ignored while it is already queued, and after
    /// shutdown; an item being processed is queued again once it is `done`.
    pub fn add(&self, item: T) {
        let mut state = self.state();
        if add_locked(&mut state, item) {
            drop(state);
            self.inner.changed.notify_waiters();
        }
    }

    /// Adds `item` once `delay` has passed. An item already waiting keeps the earlier of its two
    /// ready times.
    pub fn add_after(&self, item: T, delay: Duration) {
        if delay.is_zero() {
            return self.add(item);
        }
        let mut state = self.state();
        if state.shutting_down {
            return;
        }
        let ready_at = Instant::now() + delay;
        if let Some(&(existing, seq)) = state.waiting_at.get(&item) {
            if existing <= ready_at {
                return;
            }
            state.waiting.remove(&(existing, seq));
        }
        state.seq += 1;
        let entry = (ready_at, state.seq);
        state.waiting.insert(entry, item.clone());
        state.waiting_at.insert(item, entry);
        drop(state);
        // A sleeping `get` may need to wake earlier than it planned.
        self.inner.changed.notify_waiters();
    }

    /// Adds `item` after the delay the rate limiter gives it.
    pub fn add_rate_limited(&self, item: T) {
        let delay = self.limiter().when(&item);
        self.add_after(item, delay);
    }

    /// Resets `item`'s backoff (call it when the item was processed successfully).
    pub fn forget(&self, item: &T) {
        self.limiter().forget(item);
    }

    /// How often `item` has been rate-limited since it was last forgotten.
    pub fn num_requeues(&self, item: &T) -> u32 {
        self.limiter().num_requeues(item)
    }

    /// Waits for the next item and marks it as being processed; the caller must call
    /// [`done`](Self::done) with it. Returns `None` once the queue is shut down and drained.
    pub async fn get(&self) -> Option<T> {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            // Register before looking at the state so a change in between is not missed.
            notified.as_mut().enable();
            let next_ready = {
                let mut state = self.state();
                promote_due(&mut state, Instant::now());
                if let Some(item) = state.queue.pop_front() {
                    state.dirty.remove(&item);
                    state.processing.insert(item.clone());
                    return Some(item);
                }
                if state.shutting_down {
                    return None;
                }
                state.waiting.keys().next().map(|&(at, _)| at)
            };
            match next_ready {
                Some(at) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks `item` as processed. If it was added again meanwhile it is queued again now.
    pub fn done(&self, item: &T) {
        let mut state = self.state();
        state.processing.remove(item);
        if state.dirty.contains(item) {
            state.queue.push_back(item.clone());
        }
        drop(state);
        self.inner.changed.notify_waiters();
    }

    /// Items ready to be handed out (not counting delayed or processing ones).
    pub fn len(&self) -> usize {
        let mut state = self.state();
        promote_due(&mut state, Instant::now());
        state.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops accepting items and drops delayed ones; `get` keeps handing out what is queued and
    /// then returns `None`.
    pub fn shut_down(&self) {
        let mut state = self.state();
        state.shutting_down = true;
        state.waiting.clear();
        state.waiting_at.clear();
        drop(state);
        self.inner.changed.notify_waiters();
    }

    /// Like [`shut_down`](Self::shut_down), then waits until every handed-out item is `done`.
    pub async fn shut_down_with_drain(&self) {
        self.shut_down();
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.state();
                if state.processing.is_empty() && state.queue.is_empty() {
                    return;
                }
            }
            notified.await;
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.state().shutting_down
    }

    /// A worker loop: takes items until shutdown and runs `handler` on each. Success forgets
    /// the item's backoff; failure logs it and adds it back rate-limited.
    pub async fn run_worker<F, Fut, E>(&self, mut handler: F)
    where
        T: Display,
        F: FnMut(T) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        while let Some(item) = self.get().await {
            match handler(item.clone()).await {
                Ok(()) => self.forget(&item),
                Err(e) => {
                    tracing::warn!(key = %item, error = %e, "processing failed, retrying with backoff");
                    self.add_rate_limited(item.clone());
                }
            }
            self.done(&item);
        }
    }

    /// Like [`add`](Self::add) but reports whether the queue accepted the item.
    pub fn try_add(&self, item: T) -> Result<(), Error> {
        let mut state = self.state();
        if state.shutting_down {
            return Err(Error::ShuttingDown);
        }
        if add_locked(&mut state, item) {
            drop(state);
            self.inner.changed.notify_waiters();
        }
        Ok(())
    }
}

/// Adds `item` to the state; returns whether it was newly queued (waiters need waking).
fn add_locked<T: Clone + Eq + Hash>(state: &mut State<T>, item: T) -> bool {
    if state.shutting_down || state.dirty.contains(&item) {
        return false;
    }
    state.dirty.insert(item.clone());
    if state.processing.contains(&item) {
        return false;
    }
    state.queue.push_back(item);
    true
}

/// Moves delayed items whose time has come into the queue.
fn promote_due<T: Clone + Eq + Hash>(state: &mut State<T>, now: Instant) {
    while let Some(entry) = state.waiting.first_entry() {
        if entry.key().0 > now {
            break;
        }
        let item = entry.remove();
        state.waiting_at.remove(&item);
        add_locked(state, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> WorkQueue<String> {
        WorkQueue::new()
    }

    /// Whether `get` would hand out something within `d` (the paused clock makes this instant).
    async fn gets_within(q: &WorkQueue<String>, d: Duration) -> Option<String> {
        tokio::time::timeout(d, q.get()).await.ok().flatten()
    }

    #[tokio::test(start_paused = true)]
    async fn add_dedups_while_queued() {
        let q = queue();
        q.add("ns/a".into());
        q.add("ns/b".into());
        q.add("ns/a".into());
        assert_eq!(q.len(), 2);
        assert_eq!(q.get().await.as_deref(), Some("ns/a"));
        assert_eq!(q.get().await.as_deref(), Some("ns/b"));
        assert!(q.is_empty());
        assert_eq!(gets_within(&q, Duration::from_secs(5)).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn processing_item_is_not_handed_out_twice_and_requeues_on_done() {
        let q = queue();
        q.add("a".into());
        let a = q.get().await.unwrap();
        q.add("a".into());
        q.add("a".into());
        // Re-added while processing: not queued yet, so a second worker gets nothing.
        assert_eq!(q.len(), 0);
        assert_eq!(gets_within(&q, Duration::from_secs(1)).await, None);
        q.done(&a);
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await.as_deref(), Some("a"));
        q.done(&"a".to_string());
        // Done without a re-add: nothing comes back.
        assert_eq!(gets_within(&q, Duration::from_secs(1)).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn done_wakes_a_waiting_worker() {
        let q = queue();
        q.add("a".into());
        let a = q.get().await.unwrap();
        q.add("a".into());
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.get().await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        q.done(&a);
        assert_eq!(waiter.await.unwrap().as_deref(), Some("a"));
    }

    #[tokio::test(start_paused = true)]
    async fn add_after_waits_for_the_delay() {
        let q = queue();
        let start = Instant::now();
        q.add_after("a".into(), Duration::from_millis(1500));
        assert_eq!(q.len(), 0);
        assert_eq!(q.get().await.as_deref(), Some("a"));
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn add_after_keeps_the_earliest_time_and_waits_once() {
        let q = queue();
        let start = Instant::now();
        q.add_after("a".into(), Duration::from_secs(5));
        q.add_after("a".into(), Duration::from_secs(1));
        q.add_after("a".into(), Duration::from_secs(3));
        let a = q.get().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        q.done(&a);
        // The 3s and 5s requests were folded into the 1s one.
        assert_eq!(gets_within(&q, Duration::from_secs(10)).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn add_after_wakes_a_getter_sleeping_for_a_later_item() {
        let q = queue();
        let start = Instant::now();
        q.add_after("late".into(), Duration::from_secs(10));
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.get().await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        q.add_after("early".into(), Duration::from_secs(1));
        assert_eq!(waiter.await.unwrap().as_deref(), Some("early"));
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_item_already_queued_is_not_duplicated() {
        let q = queue();
        q.add("a".into());
        q.add_after("a".into(), Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn exponential_limiter_doubles_up_to_the_max_and_forgets() {
        let mut l = ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        );
        let a = "a".to_string();
        let b = "b".to_string();
        assert_eq!(l.when(&a), Duration::from_millis(5));
        assert_eq!(l.when(&a), Duration::from_millis(10));
        assert_eq!(l.when(&a), Duration::from_millis(20));
        assert_eq!(l.when(&b), Duration::from_millis(5));
        assert_eq!(l.num_requeues(&a), 3);
        for _ in 0..40 {
            l.when(&a);
        }
        assert_eq!(l.when(&a), Duration::from_secs(1000));
        l.forget(&a);
        assert_eq!(l.num_requeues(&a), 0);
        assert_eq!(l.when(&a), Duration::from_millis(5));
        // 5ms * 2^17 = 655s is still under the cap, 2^18 is over it.
        let mut l = ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        );
        let delays: Vec<_> = (0..20).map(|_| l.when(&a)).collect();
        assert_eq!(delays[17], Duration::from_millis(5 << 17));
        assert_eq!(delays[18], Duration::from_secs(1000));
        assert_eq!(l.num_requeues(&b), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_limiter_allows_a_burst_then_qps() {
        let mut l = BucketRateLimiter::new(10.0, 100);
        let item = "x".to_string();
        for _ in 0..100 {
            assert_eq!(RateLimiter::<String>::when(&mut l, &item), Duration::ZERO);
        }
        let d = RateLimiter::<String>::when(&mut l, &item);
        assert!((d.as_secs_f64() - 0.1).abs() < 1e-6, "{d:?}");
        let d = RateLimiter::<String>::when(&mut l, &item);
        assert!((d.as_secs_f64() - 0.2).abs() < 1e-6, "{d:?}");
        // Two reservations are outstanding; after a second, 10 tokens came back, 8 are free.
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..8 {
            assert_eq!(RateLimiter::<String>::when(&mut l, &item), Duration::ZERO);
        }
        assert!(RateLimiter::<String>::when(&mut l, &item) > Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn default_limiter_is_the_max_of_both() {
        let mut l = default_controller_rate_limiter::<String>();
        let a = "a".to_string();
        assert_eq!(l.when(&a), Duration::from_millis(5));
        assert_eq!(l.when(&a), Duration::from_millis(10));
        assert_eq!(l.num_requeues(&a), 2);
        // Burn the bucket with other keys: the bucket's wait then dominates a fresh key's 5ms.
        for i in 0..98 {
            l.when(&format!("k{i}"));
        }
        let d = l.when(&"fresh".to_string());
        assert!((d.as_secs_f64() - 0.1).abs() < 1e-6, "{d:?}");
        l.forget(&a);
        assert_eq!(l.num_requeues(&a), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn add_rate_limited_backs_off_per_key_and_forget_resets() {
        let q = queue();
        let start = Instant::now();
        for expected_ms in [5u64, 10, 20, 40] {
            let t0 = Instant::now();
            q.add_rate_limited("a".into());
            let a = q.get().await.unwrap();
            assert_eq!(t0.elapsed(), Duration::from_millis(expected_ms));
            q.done(&a);
        }
        assert_eq!(q.num_requeues(&"a".to_string()), 4);
        q.forget(&"a".to_string());
        assert_eq!(q.num_requeues(&"a".to_string()), 0);
        let t0 = Instant::now();
        q.add_rate_limited("a".into());
        q.get().await.unwrap();
        assert_eq!(t0.elapsed(), Duration::from_millis(5));
        assert_eq!(start.elapsed(), Duration::from_millis(80));
    }

    #[tokio::test(start_paused = true)]
    async fn shut_down_drains_then_returns_none() {
        let q = queue();
        q.add("a".into());
        q.add("b".into());
        q.add_after("c".into(), Duration::from_secs(1));
        q.shut_down();
        assert!(q.is_shutting_down());
        q.add("d".into());
        assert!(matches!(q.try_add("e".into()), Err(Error::ShuttingDown)));
        assert_eq!(q.get().await.as_deref(), Some("a"));
        assert_eq!(q.get().await.as_deref(), Some("b"));
        // Delayed items are dropped at shutdown, as upstream's delaying queue stops its loop.
        assert_eq!(q.get().await, None);
        assert_eq!(q.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shut_down_wakes_idle_workers() {
        let q = queue();
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        q.shut_down();
        for w in workers {
            assert_eq!(w.await.unwrap(), None);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shut_down_with_drain_waits_for_processing_items() {
        let q = queue();
        q.add("a".into());
        let a = q.get().await.unwrap();
        let q2 = q.clone();
        let drain = tokio::spawn(async move { q2.shut_down_with_drain().await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!drain.is_finished());
        q.done(&a);
        drain.await.unwrap();
        assert_eq!(q.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_workers_never_share_a_key() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let q = queue();
        let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
        let handled = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                let in_flight = in_flight.clone();
                let handled = handled.clone();
                tokio::spawn(async move {
                    while let Some(key) = q.get().await {
                        assert!(in_flight.lock().unwrap().insert(key.clone()), "{key} twice");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        in_flight.lock().unwrap().remove(&key);
                        handled.fetch_add(1, Ordering::SeqCst);
                        q.done(&key);
                    }
                })
            })
            .collect();
        for round in 0..20 {
            for k in 0..3 {
                q.add(format!("ns/k{k}"));
            }
            tokio::time::sleep(Duration::from_millis(3 + round % 7)).await;
        }
        q.shut_down_with_drain().await;
        for w in workers {
            w.await.unwrap();
        }
        // Each key is handled at least once per overlap window and never twice at once.
        assert!(handled.load(Ordering::SeqCst) >= 3);
    }

    #[tokio::test(start_paused = true)]
    async fn run_worker_retries_failures_with_backoff_and_forgets_successes() {
        let q = queue();
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let worker = {
            let q = q.clone();
            let attempts = attempts.clone();
            tokio::spawn(async move {
                q.run_worker(|key: String| {
                    let attempts = attempts.clone();
                    async move {
                        let mut a = attempts.lock().unwrap();
                        a.push((key, start.elapsed()));
                        if a.len() < 3 {
                            Err("not yet")
                        } else {
                            Ok(())
                        }
                    }
                })
                .await
            })
        };
        q.add("ns/x".into());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(q.num_requeues(&"ns/x".to_string()), 0);
        q.shut_down();
        worker.await.unwrap();
        let times: Vec<_> = attempts.lock().unwrap().iter().map(|(_, t)| *t).collect();
        assert_eq!(
            times,
            vec![
                Duration::ZERO,
                Duration::from_millis(5),
                Duration::from_millis(15)
            ]
        );
    }
}
