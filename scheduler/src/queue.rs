//! The scheduling queue, upstream's three sub-queues: active (a heap ordered by PrioritySort:
//! higher priority first, then earlier arrival), back-off (pods that failed recently wait 1 s
//! doubling to 10 s) and unschedulable (pods no node fits, parked until a cluster event could
//! change that, or at most 5 minutes). Pods are keyed by `namespace/name`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::Notify;

/// Upstream's `podInitialBackoffDuration` and `podMaxBackoffDuration`.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Upstream's `podMaxInUnschedulablePodsDuration`.
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff(Instant),
    Unschedulable(Instant),
    /// Popped and being scheduled: updates are kept, the pod is re-placed by the cycle.
    InFlight,
}

struct Entry {
    pod: Arc<Pod>,
    attempts: u32,
    /// When the pod first entered the queue (PrioritySort's tie-breaker).
    since: Instant,
    place: Place,
    /// Bumped on each push to the heap so stale heap entries are skipped.
    seq: u64,
    /// An update arrived while the pod was in flight: retry at once.
    updated_in_flight: bool,
}

#[derive(PartialEq, Eq)]
struct HeapItem {
    priority: i32,
    since: Instant,
    seq: u64,
    key: String,
}

impl Ord for HeapItem {
    fn cmp(&self, o: &Self) -> Ordering {
        self.priority
            .cmp(&o.priority)
            .then_with(|| o.since.cmp(&self.since))
            .then_with(|| o.seq.cmp(&self.seq))
    }
}

impl PartialOrd for HeapItem {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Default)]
struct State {
    pods: HashMap<String, Entry>,
    heap: BinaryHeap<HeapItem>,
    next_seq: u64,
    closed: bool,
}

/// A pod handed out by [`SchedulingQueue::pop`].
#[derive(Clone, Debug)]
pub struct QueuedPod {
    pub key: String,
    pub pod: Arc<Pod>,
    pub attempts: u32,
}

/// The queue; cloning shares it.
#[derive(Clone, Default)]
pub struct SchedulingQueue {
    state: Arc<Mutex<State>>,
    ready: Arc<Notify>,
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// Back-off after `attempts` failures: 1 s doubling, at most 10 s.
pub fn backoff(attempts: u32) -> Duration {
    let shift = attempts.saturating_sub(1).min(16);
    (INITIAL_BACKOFF * (1u32 << shift)).min(MAX_BACKOFF)
}

impl State {
    fn push(&mut self, key: &str) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(e) = self.pods.get_mut(key) {
            e.place = Place::Active;
            e.seq = seq;
            self.heap.push(HeapItem {
                priority: priority(&e.pod),
                since: e.since,
                seq,
                key: key.to_string(),
            });
        }
    }
}

impl SchedulingQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a new pending pod or takes an update of a queued one. An updated unschedulable
    /// pod goes back to active (its spec may now fit), as upstream's `Update`.
    pub fn add_or_update(&self, key: String, pod: Arc<Pod>) {
        let mut st = self.lock();
        match st.pods.get_mut(&key) {
            Some(e) => {
                e.pod = pod;
                match e.place {
                    Place::InFlight => e.updated_in_flight = true,
                    Place::Unschedulable(_) => st.push(&key),
                    Place::Active | Place::Backoff(_) => {}
                }
            }
            None => {
                st.pods.insert(
                    key.clone(),
                    Entry {
                        pod,
                        attempts: 0,
                        since: Instant::now(),
                        place: Place::Active,
                        seq: 0,
                        updated_in_flight: false,
                    },
                );
                st.push(&key);
            }
        }
        drop(st);
        self.ready.notify_one();
    }

    /// Forgets a pod (deleted, bound, or no longer ours).
    pub fn remove(&self, key: &str) {
        self.lock().pods.remove(key);
    }

    /// Waits for the next pod to schedule; `None` once closed.
    pub async fn pop(&self) -> Option<QueuedPod> {
        loop {
            let notified = self.ready.notified();
            {
                let mut st = self.lock();
                if st.closed {
                    return None;
                }
                while let Some(item) = st.heap.pop() {
                    let Some(e) = st.pods.get_mut(&item.key) else {
                        continue;
                    };
                    if e.seq != item.seq || e.place != Place::Active {
                        continue;
                    }
                    e.place = Place::InFlight;
                    e.attempts += 1;
                    e.updated_in_flight = false;
                    return Some(QueuedPod {
                        key: item.key,
                        pod: e.pod.clone(),
                        attempts: e.attempts,
                    });
                }
            }
            notified.await;
        }
    }

    /// The cycle failed with an error (or binding failed): retry after the back-off.
    pub fn requeue_backoff(&self, key: &str) {
        self.requeue(key, false);
    }

    /// No node fits: park the pod until a cluster event (or the 5-minute flush).
    pub fn requeue_unschedulable(&self, key: &str) {
        self.requeue(key, true);
    }

    /// Puts an in-flight pod back; one updated meanwhile is retried at once.
    fn requeue(&self, key: &str, unschedulable: bool) {
        let mut st = self.lock();
        let Some(e) = st.pods.get_mut(key) else {
            return;
        };
        if e.updated_in_flight {
            st.push(key);
            drop(st);
            self.ready.notify_one();
            return;
        }
        let now = Instant::now();
        e.place = if unschedulable {
            Place::Unschedulable(now)
        } else {
            Place::Backoff(now + backoff(e.attempts))
        };
    }

    /// A cluster event that may let parked pods fit (a node added or changed, a pod deleted):
    /// unschedulable pods move to back-off, or to active when their back-off has passed.
    pub fn move_all_to_active_or_backoff(&self) {
        let now = Instant::now();
        let mut st = self.lock();
        let keys: Vec<(String, u32, Place)> = st
            .pods
            .iter()
            .filter(|(_, e)| matches!(e.place, Place::Unschedulable(_)))
            .map(|(k, e)| (k.clone(), e.attempts, e.place))
            .collect();
        let mut woke = false;
        for (key, attempts, place) in keys {
            let Place::Unschedulable(since) = place else {
                continue;
            };
            let until = since + backoff(attempts);
            if until <= now {
                st.push(&key);
                woke = true;
            } else if let Some(e) = st.pods.get_mut(&key) {
                e.place = Place::Backoff(until);
            }
        }
        drop(st);
        if woke {
            self.ready.notify_one();
        }
    }

    /// Moves back-off pods whose time has come, and pods parked longer than 5 minutes, to
    /// active. Run every second by [`SchedulingQueue::run_flush`].
    pub fn flush(&self) {
        let now = Instant::now();
        let mut st = self.lock();
        let due: Vec<String> = st
            .pods
            .iter()
            .filter(|(_, e)| match e.place {
                Place::Backoff(until) => until <= now,
                Place::Unschedulable(since) => now.duration_since(since) >= MAX_UNSCHEDULABLE,
                _ => false,
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in &due {
            st.push(key);
        }
        drop(st);
        if !due.is_empty() {
            self.ready.notify_waiters();
            self.ready.notify_one();
        }
    }

    pub async fn run_flush(&self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if self.lock().closed {
                return;
            }
            self.flush();
        }
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_waiters();
        self.ready.notify_one();
    }

    /// Pods per sub-queue (active, backoff, unschedulable), for `scheduler_pending_pods`.
    pub fn pending(&self) -> (usize, usize, usize) {
        let st = self.lock();
        let mut n = (0, 0, 0);
        for e in st.pods.values() {
            match e.place {
                Place::Active => n.0 += 1,
                Place::Backoff(_) => n.1 += 1,
                Place::Unschedulable(_) => n.2 += 1,
                Place::InFlight => {}
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(prio: i32) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(
                serde_json::json!({"spec": {"containers": [], "priority": prio}}),
            )
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn higher_priority_first_then_arrival_order() {
        let q = SchedulingQueue::new();
        q.add_or_update("d/a".into(), pod(0));
        q.add_or_update("d/b".into(), pod(10));
        q.add_or_update("d/c".into(), pod(0));
        assert_eq!(q.pop().await.unwrap().key, "d/b");
        assert_eq!(q.pop().await.unwrap().key, "d/a");
        assert_eq!(q.pop().await.unwrap().key, "d/c");
    }

    #[tokio::test]
    async fn unschedulable_pods_wait_for_an_event() {
        let q = SchedulingQueue::new();
        q.add_or_update("d/a".into(), pod(0));
        let p = q.pop().await.unwrap();
        assert_eq!(p.attempts, 1);
        q.requeue_unschedulable("d/a");
        assert_eq!(q.pending(), (0, 0, 1));
        q.flush();
        assert_eq!(q.pending(), (0, 0, 1));
        q.move_all_to_active_or_backoff();
        // Attempt 1 backs off 1 s from when it was parked.
        assert_eq!(q.pending().2, 0);
    }

    #[tokio::test]
    async fn an_update_while_in_flight_retries_at_once() {
        let q = SchedulingQueue::new();
        q.add_or_update("d/a".into(), pod(0));
        q.pop().await.unwrap();
        q.add_or_update("d/a".into(), pod(1));
        q.requeue_unschedulable("d/a");
        let p = q.pop().await.unwrap();
        assert_eq!(p.pod.spec.as_ref().unwrap().priority, Some(1));
    }

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(5), Duration::from_secs(10));
        assert_eq!(backoff(100), Duration::from_secs(10));
    }
}
