//! Leader election over `coordination.k8s.io/v1` Lease objects with upstream client-go's
//! semantics: acquire a free or expired lease, renew it every retry period, stop leading when
//! renewal has failed for the renew deadline, and let the apiserver's resourceVersion check
//! (409 Conflict) decide races between candidates.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;

/// Errors of leader election.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid leader election config: {0}")]
    InvalidConfig(String),
    #[error("lease {0} was changed concurrently")]
    Conflict(String),
    #[error("lease {lease}: {source}")]
    Api {
        lease: String,
        #[source]
        source: kube::Error,
    },
}

/// Upstream's jitter factor for retries while acquiring: waits are `retry * (1 + rand * 1.2)`.
pub const JITTER_FACTOR: f64 = 1.2;

/// Timing of an election; the defaults are upstream's component defaults.
#[derive(Debug, Clone)]
pub struct LeaderElectionConfig {
    /// How long a lease is honoured after its holder's last observed renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a failing renewal before it stops leading.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire and the leader renews.
    pub retry_period: Duration,
    /// Whether to give the lease up (clear its holder) when stopping, so a successor need not
    /// wait for it to expire.
    pub release_on_cancel: bool,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: false,
        }
    }
}

impl LeaderElectionConfig {
    /// Upstream's checks: the lease outlives the renew deadline, which outlives a jittered
    /// retry, so a leader always notices it failed before anyone else may take over.
    pub fn validate(&self) -> Result<(), Error> {
        if self.lease_duration <= self.renew_deadline {
            return Err(Error::InvalidConfig(
                "lease duration must be greater than renew deadline".into(),
            ));
        }
        if self.renew_deadline.as_secs_f64() <= JITTER_FACTOR * self.retry_period.as_secs_f64() {
            return Err(Error::InvalidConfig(format!(
                "renew deadline must be greater than retry period * {JITTER_FACTOR}"
            )));
        }
        if self.retry_period.is_zero() {
            return Err(Error::InvalidConfig("retry period must be positive".into()));
        }
        if self.lease_duration.as_secs() == 0 {
            return Err(Error::InvalidConfig(
                "lease duration must be at least one second".into(),
            ));
        }
        Ok(())
    }
}

/// Which Lease to contend for, and as whom.
#[derive(Debug, Clone)]
pub struct LeaseLock {
    pub namespace: String,
    pub name: String,
    /// This candidate's identity, unique among candidates (usually hostname plus a UUID).
    pub identity: String,
}

/// The election state kept in the lock object (upstream's `LeaderElectionRecord`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderElectionRecord {
    /// Empty when nobody holds the lease.
    pub holder_identity: String,
    pub lease_duration_seconds: i32,
    pub acquire_time: Option<Timestamp>,
    pub renew_time: Option<Timestamp>,
    pub leader_transitions: i32,
}

impl LeaderElectionRecord {
    pub fn from_lease_spec(spec: &LeaseSpec) -> Self {
        Self {
            holder_identity: spec.holder_identity.clone().unwrap_or_default(),
            lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
            acquire_time: spec.acquire_time.as_ref().map(|t| t.0),
            renew_time: spec.renew_time.as_ref().map(|t| t.0),
            leader_transitions: spec.lease_transitions.unwrap_or(0),
        }
    }

    /// Writes the record into `spec`, keeping the spec's other fields.
    pub fn apply_to(&self, spec: &mut LeaseSpec) {
        spec.holder_identity = Some(self.holder_identity.clone());
        spec.lease_duration_seconds = Some(self.lease_duration_seconds);
        spec.acquire_time = self.acquire_time.map(MicroTime);
        spec.renew_time = self.renew_time.map(MicroTime);
        spec.lease_transitions = Some(self.leader_transitions);
    }
}

/// Where the election record lives. [`LeaderElector::new`] uses a Lease; other implementations
/// serve tests.
pub trait ResourceLock: Send + Sync {
    /// The current record and its resourceVersion, or `None` when the lock object is absent.
    fn get(&self) -> BoxFuture<'_, Result<Option<(LeaderElectionRecord, String)>, Error>>;
    /// Creates the lock object; `Error::Conflict` when it already exists. Returns the new
    /// resourceVersion.
    fn create(&self, record: LeaderElectionRecord) -> BoxFuture<'_, Result<String, Error>>;
    /// Replaces the record if the object is still at `resource_version`; `Error::Conflict`
    /// otherwise. Returns the new resourceVersion.
    fn update(
        &self,
        record: LeaderElectionRecord,
        resource_version: String,
    ) -> BoxFuture<'_, Result<String, Error>>;
    /// `namespace/name`, for messages.
    fn describe(&self) -> String;
}

/// A [`ResourceLock`] on a `coordination.k8s.io/v1` Lease.
pub struct LeaseResourceLock {
    api: Api<Lease>,
    name: String,
    namespace: String,
    /// The Lease as last read or written, so updates keep fields the record does not cover.
    cached: Mutex<Option<Lease>>,
}

impl LeaseResourceLock {
    pub fn new(client: Client, namespace: &str, name: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            namespace: namespace.to_string(),
            cached: Mutex::new(None),
        }
    }

    fn cached(&self) -> MutexGuard<'_, Option<Lease>> {
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self, source: kube::Error) -> Error {
        match &source {
            kube::Error::Api(status) if status.code == 409 => Error::Conflict(self.describe()),
            _ => Error::Api {
                lease: self.describe(),
                source,
            },
        }
    }

    fn remember(&self, lease: Lease) -> String {
        let rv = lease.metadata.resource_version.clone().unwrap_or_default();
        *self.cached() = Some(lease);
        rv
    }
}

impl ResourceLock for LeaseResourceLock {
    fn get(&self) -> BoxFuture<'_, Result<Option<(LeaderElectionRecord, String)>, Error>> {
        Box::pin(async move {
            let Some(lease) = self
                .api
                .get_opt(&self.name)
                .await
                .map_err(|e| self.error(e))?
            else {
                return Ok(None);
            };
            let record =
                LeaderElectionRecord::from_lease_spec(&lease.spec.clone().unwrap_or_default());
            let rv = self.remember(lease);
            Ok(Some((record, rv)))
        })
    }

    fn create(&self, record: LeaderElectionRecord) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let mut spec = LeaseSpec::default();
            record.apply_to(&mut spec);
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(spec),
            };
            let created = self
                .api
                .create(&PostParams::default(), &lease)
                .await
                .map_err(|e| self.error(e))?;
            Ok(self.remember(created))
        })
    }

    fn update(
        &self,
        record: LeaderElectionRecord,
        resource_version: String,
    ) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let mut lease = self.cached().clone().unwrap_or_else(|| Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: None,
            });
            lease.metadata.resource_version = Some(resource_version);
            record.apply_to(lease.spec.get_or_insert_with(LeaseSpec::default));
            let updated = self
                .api
                .replace(&self.name, &PostParams::default(), &lease)
                .await
                .map_err(|e| self.error(e))?;
            Ok(self.remember(updated))
        })
    }

    fn describe(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What an election attempt should write, given the record found in the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write this record (acquire or renew).
    Write(LeaderElectionRecord),
    /// Someone else holds an unexpired lease.
    HeldBy(String),
}

/// The decision at the heart of upstream's `tryAcquireOrRenew`, free of I/O and clocks.
///
/// `current` is the record in the lock and `observed_at` when this candidate first saw that
/// record (expiry counts from local observation, not the record's timestamps, so candidates'
/// clock skew does not matter). `desired` is the record this candidate would write.
pub fn decide(
    identity: &str,
    current: &LeaderElectionRecord,
    observed_at: Instant,
    now: Instant,
    mut desired: LeaderElectionRecord,
) -> Decision {
    let is_leader = current.holder_identity == identity;
    let lease = Duration::from_secs(u64::try_from(current.lease_duration_seconds).unwrap_or(0));
    if !current.holder_identity.is_empty() && observed_at + lease > now && !is_leader {
        return Decision::HeldBy(current.holder_identity.clone());
    }
    if is_leader {
        desired.acquire_time = current.acquire_time;
        desired.leader_transitions = current.leader_transitions;
    } else {
        desired.leader_transitions = current.leader_transitions + 1;
    }
    Decision::Write(desired)
}

/// How [`LeaderElector::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The shutdown future completed (while leading or while waiting to lead).
    Shutdown,
    /// Renewal failed past the renew deadline, or someone else took the lease.
    LostLeadership,
    /// The leading future finished by itself.
    Finished,
}

/// What this candidate last saw in the lock.
#[derive(Debug, Default)]
struct Observed {
    record: Option<LeaderElectionRecord>,
    at: Option<Instant>,
}

/// One candidate in a leader election.
pub struct LeaderElector {
    lock: Arc<dyn ResourceLock>,
    identity: String,
    config: LeaderElectionConfig,
    observed: Mutex<Observed>,
    leader: watch::Sender<Option<String>>,
}

/// The record timestamps at the microsecond precision `MicroTime` keeps, so what we write
/// compares equal to what we read back.
fn now_micros() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

impl LeaderElector {
    /// A candidate for the Lease `lock.namespace/lock.name`.
    pub fn new(
        client: Client,
        lock: LeaseLock,
        config: LeaderElectionConfig,
    ) -> Result<Self, Error> {
        let resource = LeaseResourceLock::new(client, &lock.namespace, &lock.name);
        Self::with_lock(Arc::new(resource), lock.identity, config)
    }

    /// A candidate on any lock.
    pub fn with_lock(
        lock: Arc<dyn ResourceLock>,
        identity: String,
        config: LeaderElectionConfig,
    ) -> Result<Self, Error> {
        config.validate()?;
        if identity.is_empty() {
            return Err(Error::InvalidConfig("identity must not be empty".into()));
        }
        Ok(Self {
            lock,
            identity,
            config,
            observed: Mutex::new(Observed::default()),
            leader: watch::channel(None).0,
        })
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    fn observed(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the last record seen or written names this candidate as holder.
    pub fn is_leader(&self) -> bool {
        self.observed()
            .record
            .as_ref()
            .is_some_and(|r| r.holder_identity == self.identity)
    }

    /// The holder as last observed (upstream's `OnNewLeader`): changes whenever a different
    /// holder (or none, as `None`) is seen.
    pub fn leader_changes(&self) -> watch::Receiver<Option<String>> {
        self.leader.subscribe()
    }

    fn set_observed(&self, record: LeaderElectionRecord, now: Instant) {
        let holder = Some(record.holder_identity.clone()).filter(|h| !h.is_empty());
        let mut observed = self.observed();
        observed.record = Some(record);
        observed.at = Some(now);
        drop(observed);
        self.leader.send_if_modified(|current| {
            let changed = *current != holder;
            *current = holder;
            changed
        });
    }

    /// One attempt to acquire or renew the lease; whether this candidate holds it now.
    pub async fn try_acquire_or_renew(&self) -> bool {
        let now = Instant::now();
        let wall = now_micros();
        let desired = LeaderElectionRecord {
            holder_identity: self.identity.clone(),
            lease_duration_seconds: i32::try_from(self.config.lease_duration.as_secs())
                .unwrap_or(i32::MAX),
            acquire_time: Some(wall),
            renew_time: Some(wall),
            leader_transitions: 0,
        };
        let lock = self.lock.describe();
        let (current, rv) = match self.lock.get().await {
            Ok(Some(found)) => found,
            Ok(None) => {
                return match self.lock.create(desired.clone()).await {
                    Ok(_) => {
                        self.set_observed(desired, now);
                        true
                    }
                    Err(e) => {
                        tracing::info!(%lock, error = %e, "creating lease failed");
                        false
                    }
                };
            }
            Err(e) => {
                tracing::warn!(%lock, error = %e, "reading lease failed");
                return false;
            }
        };
        // Expiry counts from when this candidate first saw the current record.
        let observed_at = {
            let observed = self.observed();
            match (&observed.record, observed.at) {
                (Some(seen), Some(at)) if *seen == current => Some(at),
                _ => None,
            }
        };
        let observed_at = match observed_at {
            Some(at) => at,
            None => {
                self.set_observed(current.clone(), now);
                now
            }
        };
        match decide(&self.identity, &current, observed_at, now, desired) {
            Decision::HeldBy(holder) => {
                tracing::debug!(%lock, %holder, "lease is held by another candidate");
                false
            }
            Decision::Write(record) => match self.lock.update(record.clone(), rv).await {
                Ok(_) => {
                    self.set_observed(record, now);
                    true
                }
                Err(e) => {
                    tracing::info!(%lock, error = %e, "updating lease failed");
                    false
                }
            },
        }
    }

    /// Gives the lease up if this candidate holds it: clears the holder and shortens the
    /// duration to a second, as upstream does, so the next candidate acquires at once.
    ///
    /// Reads the lease afresh rather than trusting what was last observed: a renewal cancelled
    /// by shutdown may still have been written, leaving the lease at a newer resourceVersion
    /// than the last one this candidate saw.
    pub async fn release(&self) -> bool {
        let lock = self.lock.describe();
        for _ in 0..3 {
            let (current, rv) = match self.lock.get().await {
                Ok(Some(found)) => found,
                Ok(None) => return true,
                Err(e) => {
                    tracing::warn!(%lock, error = %e, "reading lease to release it failed");
                    return false;
                }
            };
            if current.holder_identity != self.identity {
                return true;
            }
            let now = now_micros();
            let released = LeaderElectionRecord {
                holder_identity: String::new(),
                lease_duration_seconds: 1,
                acquire_time: Some(now),
                renew_time: Some(now),
                leader_transitions: current.leader_transitions,
            };
            match self.lock.update(released.clone(), rv).await {
                Ok(_) => {
                    self.set_observed(released, Instant::now());
                    tracing::info!(%lock, identity = %self.identity, "released leader lease");
                    return true;
                }
                Err(Error::Conflict(_)) => continue,
                Err(e) => {
                    tracing::warn!(%lock, error = %e, "releasing lease failed");
                    return false;
                }
            }
        }
        tracing::warn!(%lock, "releasing lease failed: it kept changing");
        false
    }

    /// Retries with jitter until the lease is acquired.
    async fn acquire(&self) {
        let lock = self.lock.describe();
        tracing::info!(%lock, identity = %self.identity, "attempting to acquire leader lease");
        loop {
            // A hung request must not stall the campaign; upstream bounds its client the same.
            let attempt =
                tokio::time::timeout(self.config.renew_deadline, self.try_acquire_or_renew());
            if matches!(attempt.await, Ok(true)) {
                tracing::info!(%lock, identity = %self.identity, "acquired leader lease");
                return;
            }
            let jitter = rand::rng().random::<f64>() * JITTER_FACTOR;
            tokio::time::sleep(self.config.retry_period.mul_f64(1.0 + jitter)).await;
        }
    }

    /// Renews every retry period until a renewal has failed for the renew deadline or someone
    /// else is seen holding the lease; then returns.
    async fn renew(&self) {
        let lock = self.lock.describe();
        loop {
            let deadline = Instant::now() + self.config.renew_deadline;
            let renewed = loop {
                let attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await;
                if matches!(attempt, Ok(true)) {
                    break true;
                }
                // Safer than upstream, which keeps trying until the deadline: once another
                // holder is on record, leading any longer can only overlap with it.
                if !self.is_leader() {
                    break false;
                }
                let next = Instant::now() + self.config.retry_period;
                if next >= deadline {
                    tokio::time::sleep_until(deadline).await;
                    break false;
                }
                tokio::time::sleep_until(next).await;
            };
            if !renewed {
                tracing::warn!(%lock, identity = %self.identity, "failed to renew leader lease, stopping leading");
                return;
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// Campaigns for the lease and, once acquired, runs `leading()` while renewing. Returns when
    /// `shutdown` completes, leadership is lost (the leading future is then dropped, which
    /// cancels it) or the leading future finishes. With `release_on_cancel` the lease is given
    /// up on the way out. What upstream calls `OnStoppedLeading` is whatever the caller does
    /// after this returns.
    pub async fn run<S, F, Fut>(&self, shutdown: S, leading: F) -> Outcome
    where
        S: Future<Output = ()>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = ()>,
    {
        tokio::pin!(shutdown);
        let acquired = tokio::select! {
            _ = self.acquire() => true,
            _ = &mut shutdown => false,
        };
        let outcome = if acquired {
            tokio::select! {
                _ = leading() => Outcome::Finished,
                _ = self.renew() => Outcome::LostLeadership,
                _ = &mut shutdown => Outcome::Shutdown,
            }
        } else {
            Outcome::Shutdown
        };
        // Also when shut down while campaigning: a write cancelled mid-flight may have made
        // this candidate the holder without it knowing.
        if self.config.release_on_cancel {
            let _ = tokio::time::timeout(self.config.renew_deadline, self.release()).await;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn record(holder: &str, duration: i32, transitions: i32) -> LeaderElectionRecord {
        let t = now_micros();
        LeaderElectionRecord {
            holder_identity: holder.into(),
            lease_duration_seconds: duration,
            acquire_time: Some(t),
            renew_time: Some(t),
            leader_transitions: transitions,
        }
    }

    #[test]
    fn defaults_are_upstreams_and_validate() {
        let c = LeaderElectionConfig::default();
        assert_eq!(c.lease_duration, Duration::from_secs(15));
        assert_eq!(c.renew_deadline, Duration::from_secs(10));
        assert_eq!(c.retry_period, Duration::from_secs(2));
        c.validate().unwrap();
        let bad = LeaderElectionConfig {
            renew_deadline: Duration::from_secs(15),
            ..c.clone()
        };
        assert!(bad.validate().is_err());
        let bad = LeaderElectionConfig {
            retry_period: Duration::from_secs(9),
            ..c
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn record_round_trips_through_a_lease_spec() {
        let r = record("a", 15, 3);
        let mut spec = LeaseSpec {
            strategy: Some("OldestEmulationVersion".into()),
            ..LeaseSpec::default()
        };
        r.apply_to(&mut spec);
        assert_eq!(LeaderElectionRecord::from_lease_spec(&spec), r);
        assert_eq!(spec.strategy.as_deref(), Some("OldestEmulationVersion"));
        assert_eq!(
            LeaderElectionRecord::from_lease_spec(&LeaseSpec::default()),
            LeaderElectionRecord::default()
        );
    }

    #[test]
    fn held_lease_is_respected_until_it_expires_from_observation() {
        let t0 = Instant::now();
        let current = record("b", 15, 0);
        let desired = record("a", 15, 0);
        let d = decide(
            "a",
            &current,
            t0,
            t0 + Duration::from_secs(14),
            desired.clone(),
        );
        assert_eq!(d, Decision::HeldBy("b".into()));
        let d = decide(
            "a",
            &current,
            t0,
            t0 + Duration::from_secs(16),
            desired.clone(),
        );
        let Decision::Write(w) = d else {
            panic!("expired lease should be taken: {d:?}")
        };
        assert_eq!(w.holder_identity, "a");
        assert_eq!(w.leader_transitions, 1);
        assert_eq!(w.acquire_time, desired.acquire_time);
    }

    #[test]
    fn free_or_released_lease_is_taken_at_once_and_counts_a_transition() {
        let t0 = Instant::now();
        let released = record("", 1, 4);
        let Decision::Write(w) = decide("a", &released, t0, t0, record("a", 15, 0)) else {
            panic!("released lease should be taken")
        };
        assert_eq!(w.leader_transitions, 5);
        assert_eq!(w.lease_duration_seconds, 15);
    }

    #[test]
    fn renewal_keeps_acquire_time_and_transitions() {
        let t0 = Instant::now();
        let mut current = record("a", 15, 7);
        current.acquire_time = Some(Timestamp::from_second(1_000_000).unwrap());
        let desired = record("a", 15, 0);
        let Decision::Write(w) = decide(
            "a",
            &current,
            t0,
            t0 + Duration::from_secs(100),
            desired.clone(),
        ) else {
            panic!("holder renews even past expiry")
        };
        assert_eq!(w.acquire_time, current.acquire_time);
        assert_eq!(w.renew_time, desired.renew_time);
        assert_eq!(w.leader_transitions, 7);
    }

    /// An in-memory lock with resourceVersion checks and a switch to make it fail.
    #[derive(Default)]
    struct MemoryLock {
        state: Mutex<Option<(LeaderElectionRecord, u64)>>,
        failing: AtomicBool,
        writes: Mutex<Vec<LeaderElectionRecord>>,
    }

    impl MemoryLock {
        fn check(&self) -> Result<(), Error> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(Error::InvalidConfig("injected failure".into()));
            }
            Ok(())
        }
        fn record(&self) -> Option<LeaderElectionRecord> {
            self.state.lock().unwrap().as_ref().map(|(r, _)| r.clone())
        }
    }

    impl ResourceLock for MemoryLock {
        fn get(&self) -> BoxFuture<'_, Result<Option<(LeaderElectionRecord, String)>, Error>> {
            Box::pin(async move {
                self.check()?;
                Ok(self
                    .state
                    .lock()
                    .unwrap()
                    .as_ref()
                    .map(|(r, rv)| (r.clone(), rv.to_string())))
            })
        }
        fn create(&self, record: LeaderElectionRecord) -> BoxFuture<'_, Result<String, Error>> {
            Box::pin(async move {
                self.check()?;
                let mut state = self.state.lock().unwrap();
                if state.is_some() {
                    return Err(Error::Conflict("mem".into()));
                }
                self.writes.lock().unwrap().push(record.clone());
                *state = Some((record, 1));
                Ok("1".into())
            })
        }
        fn update(
            &self,
            record: LeaderElectionRecord,
            resource_version: String,
        ) -> BoxFuture<'_, Result<String, Error>> {
            Box::pin(async move {
                self.check()?;
                let mut state = self.state.lock().unwrap();
                match state.as_mut() {
                    Some((r, rv)) if rv.to_string() == resource_version => {
                        *r = record.clone();
                        *rv += 1;
                        self.writes.lock().unwrap().push(record);
                        Ok(rv.to_string())
                    }
                    _ => Err(Error::Conflict("mem".into())),
                }
            })
        }
        fn describe(&self) -> String {
            "mem/lease".into()
        }
    }

    fn fast_config(release: bool) -> LeaderElectionConfig {
        LeaderElectionConfig {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: release,
        }
    }

    /// A lock whose every call is delayed a little, so concurrent candidates interleave.
    struct SlowLock(Arc<MemoryLock>);

    impl ResourceLock for SlowLock {
        fn get(&self) -> BoxFuture<'_, Result<Option<(LeaderElectionRecord, String)>, Error>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                self.0.get().await
            })
        }
        fn create(&self, record: LeaderElectionRecord) -> BoxFuture<'_, Result<String, Error>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                self.0.create(record).await
            })
        }
        fn update(
            &self,
            record: LeaderElectionRecord,
            rv: String,
        ) -> BoxFuture<'_, Result<String, Error>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                self.0.update(record, rv).await
            })
        }
        fn describe(&self) -> String {
            self.0.describe()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn racing_creates_have_exactly_one_winner() {
        let mem = Arc::new(MemoryLock::default());
        let a = LeaderElector::with_lock(
            Arc::new(SlowLock(mem.clone())),
            "a".into(),
            fast_config(false),
        )
        .unwrap();
        let b = LeaderElector::with_lock(
            Arc::new(SlowLock(mem.clone())),
            "b".into(),
            fast_config(false),
        )
        .unwrap();
        let (ra, rb) = tokio::join!(a.try_acquire_or_renew(), b.try_acquire_or_renew());
        assert!(ra ^ rb, "exactly one wins: a={ra} b={rb}");
        let holder = mem.record().unwrap().holder_identity;
        assert_eq!(holder, if ra { "a" } else { "b" });
        // The loser saw nothing it could write; trying again it sees the holder.
        let loser = if ra { &b } else { &a };
        assert!(!loser.try_acquire_or_renew().await);
        assert_eq!(*loser.leader_changes().borrow(), Some(holder));
    }

    #[tokio::test(start_paused = true)]
    async fn released_lease_passes_to_the_other_candidate_quickly() {
        let mem = Arc::new(MemoryLock::default());
        let a =
            Arc::new(LeaderElector::with_lock(mem.clone(), "a".into(), fast_config(true)).unwrap());
        let b =
            Arc::new(LeaderElector::with_lock(mem.clone(), "b".into(), fast_config(true)).unwrap());

        let (stop_a, stop_a_rx) = tokio::sync::oneshot::channel::<()>();
        let a_leading = Arc::new(AtomicBool::new(false));
        let run_a = {
            let a = a.clone();
            let flag = a_leading.clone();
            tokio::spawn(async move {
                a.run(
                    async {
                        let _ = stop_a_rx.await;
                    },
                    || async move {
                        flag.store(true, Ordering::SeqCst);
                        std::future::pending::<()>().await
                    },
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(a_leading.load(Ordering::SeqCst));
        assert!(a.is_leader());

        let b_started = Arc::new(Mutex::new(None::<Instant>));
        let run_b = {
            let b = b.clone();
            let started = b_started.clone();
            tokio::spawn(async move {
                b.run(std::future::pending(), || async move {
                    *started.lock().unwrap() = Some(Instant::now());
                    std::future::pending::<()>().await
                })
                .await
            })
        };
        // b keeps trying for a minute while a renews.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(b_started.lock().unwrap().is_none());
        assert_eq!(mem.record().unwrap().holder_identity, "a");
        assert_eq!(mem.record().unwrap().leader_transitions, 0);

        let stopped_at = Instant::now();
        stop_a.send(()).unwrap();
        assert_eq!(run_a.await.unwrap(), Outcome::Shutdown);
        let released = mem.record().unwrap();
        assert_eq!(released.holder_identity, "");
        assert_eq!(released.lease_duration_seconds, 1);
        assert!(!a.is_leader());

        // b takes over within one jittered retry period, not a whole lease duration.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let took_over = b_started.lock().unwrap().expect("b leads");
        assert!(took_over - stopped_at <= Duration::from_secs_f64(2.0 * 2.2));
        let r = mem.record().unwrap();
        assert_eq!(r.holder_identity, "b");
        assert_eq!(r.leader_transitions, 1);
        run_b.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn leader_that_cannot_renew_steps_down_and_successor_waits_for_expiry() {
        let mem_a = Arc::new(MemoryLock::default());
        // a and b share the record but a's lock can be made to fail on its own.
        struct Shared(Arc<MemoryLock>, Arc<AtomicBool>);
        impl ResourceLock for Shared {
            fn get(&self) -> BoxFuture<'_, Result<Option<(LeaderElectionRecord, String)>, Error>> {
                if self.1.load(Ordering::SeqCst) {
                    return Box::pin(async { Err(Error::InvalidConfig("partitioned".into())) });
                }
                self.0.get()
            }
            fn create(&self, r: LeaderElectionRecord) -> BoxFuture<'_, Result<String, Error>> {
                self.0.create(r)
            }
            fn update(
                &self,
                r: LeaderElectionRecord,
                rv: String,
            ) -> BoxFuture<'_, Result<String, Error>> {
                if self.1.load(Ordering::SeqCst) {
                    return Box::pin(async { Err(Error::InvalidConfig("partitioned".into())) });
                }
                self.0.update(r, rv)
            }
            fn describe(&self) -> String {
                "mem/lease".into()
            }
        }
        let partitioned = Arc::new(AtomicBool::new(false));
        let a = Arc::new(
            LeaderElector::with_lock(
                Arc::new(Shared(mem_a.clone(), partitioned.clone())),
                "a".into(),
                fast_config(false),
            )
            .unwrap(),
        );
        let b = Arc::new(
            LeaderElector::with_lock(mem_a.clone(), "b".into(), fast_config(false)).unwrap(),
        );
        let run_a = {
            let a = a.clone();
            tokio::spawn(async move { a.run(std::future::pending(), std::future::pending).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(a.is_leader());
        let b_led_at = Arc::new(Mutex::new(None::<Instant>));
        let run_b = {
            let b = b.clone();
            let at = b_led_at.clone();
            tokio::spawn(async move {
                b.run(std::future::pending(), || async move {
                    *at.lock().unwrap() = Some(Instant::now());
                    std::future::pending::<()>().await
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_secs(7)).await;
        let cut = Instant::now();
        partitioned.store(true, Ordering::SeqCst);
        // a stops leading once a renewal has failed for the renew deadline (10s), counted
        // from the first failed attempt within 2s after the cut.
        let outcome = run_a.await.unwrap();
        assert_eq!(outcome, Outcome::LostLeadership);
        let a_stopped = Instant::now();
        assert!(
            a_stopped - cut <= Duration::from_secs(12),
            "{:?}",
            a_stopped - cut
        );
        assert!(a_stopped - cut >= Duration::from_secs(10));
        // b takes over only after the lease expired from its point of view: 15s after it
        // last saw a's renewal, which was before the cut.
        tokio::time::sleep(Duration::from_secs(30)).await;
        let b_led = b_led_at.lock().unwrap().expect("b leads eventually");
        assert!(
            b_led >= a_stopped,
            "no overlap: b led at {:?} after a stopped",
            b_led - cut
        );
        // At worst b first saw a's last renewal (before the cut) one jittered retry (4.4s)
        // after it, and noticed the expiry one more jittered retry later.
        assert!(b_led - cut <= Duration::from_secs_f64(15.0 + 2.0 * 4.4));
        let r = mem_a.record().unwrap();
        assert_eq!(r.holder_identity, "b");
        assert_eq!(r.leader_transitions, 1);
        run_b.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn leader_that_sees_another_holder_steps_down_at_once() {
        let mem = Arc::new(MemoryLock::default());
        let a = LeaderElector::with_lock(mem.clone(), "a".into(), fast_config(false)).unwrap();
        let start = Instant::now();
        let outcome = a
            .run(std::future::pending(), || async {
                // Someone overwrote the record behind our back (an admin, a split brain).
                tokio::time::sleep(Duration::from_secs(3)).await;
                {
                    let mut state = mem.state.lock().unwrap();
                    let (r, rv) = state.as_mut().unwrap();
                    r.holder_identity = "intruder".into();
                    *rv += 1;
                }
                std::future::pending::<()>().await
            })
            .await;
        assert_eq!(outcome, Outcome::LostLeadership);
        assert!(start.elapsed() <= Duration::from_secs(5));
        assert_eq!(*a.leader_changes().borrow(), Some("intruder".to_string()));
    }

    #[tokio::test(start_paused = true)]
    async fn leading_future_finishing_ends_the_run_and_releases() {
        let mem = Arc::new(MemoryLock::default());
        let a = LeaderElector::with_lock(mem.clone(), "a".into(), fast_config(true)).unwrap();
        let outcome = a.run(std::future::pending(), || async {}).await;
        assert_eq!(outcome, Outcome::Finished);
        assert_eq!(mem.record().unwrap().holder_identity, "");
        // Shutdown before acquiring never touches the lock.
        mem.failing.store(true, Ordering::SeqCst);
        let b = LeaderElector::with_lock(mem.clone(), "b".into(), fast_config(true)).unwrap();
        let outcome = b
            .run(tokio::time::sleep(Duration::from_secs(5)), || async {
                panic!("must not lead")
            })
            .await;
        assert_eq!(outcome, Outcome::Shutdown);
        assert!(mem
            .writes
            .lock()
            .unwrap()
            .iter()
            .all(|r| r.holder_identity != "b"));
    }
}
