//! The etcd layer: keys in upstream's layout (`<prefix>/<resource>/<namespace>/<name>`),
//! optimistic concurrency through mod revisions, snapshot reads for paged lists, watches of
//! etcd's history and compaction. The apiserver is etcd's only writer; `resourceVersion` is the
//! etcd revision. No other module names an etcd type: the watch cache and the watch handler
//! read history through [`Storage::watch`].

use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, KvClient, PutOptions, Txn,
    TxnOp, TxnOpResponse, WatchOptions, WatchRequestSender, WatchResponseStream,
};

use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("etcd request failed: {0}")]
    Etcd(#[from] etcd_client::Error),
    #[error("the requested revision {0} has been compacted")]
    Compacted(i64),
    #[error("etcd returned an unexpected response: {0}")]
    Unexpected(&'static str),
    /// A watch ended without a compaction (etcd restarted or lost its leader, the connection
    /// broke, etcd cancelled the watch); resuming from the last revision seen loses nothing.
    #[error("the etcd watch ended: {0}")]
    WatchEnded(String),
}

impl StorageError {
    fn classify(e: etcd_client::Error, revision: i64) -> Self {
        let text = e.to_string();
        if text.contains("required revision has been compacted") {
            StorageError::Compacted(revision)
        } else {
            StorageError::Etcd(e)
        }
    }
}

/// One key as read from etcd.
#[derive(Debug, Clone)]
pub struct StoredKv {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub mod_revision: i64,
}

/// The outcome of a conditional write.
#[derive(Debug)]
pub enum WriteOutcome {
    /// Written at this revision.
    Written(i64),
    /// The precondition failed; the key's current state (None: absent).
    Conflict(Option<StoredKv>),
}

/// A page of a ranged read.
#[derive(Debug)]
pub struct RangePage {
    pub kvs: Vec<StoredKv>,
    pub revision: i64,
    pub more: bool,
    /// Keys in the whole range at that revision (from `start`).
    pub count: i64,
}

/// Whether a key was written or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageEventKind {
    Put,
    Delete,
}

/// One change to one key, as etcd's history records it.
#[derive(Debug, Clone)]
pub struct StorageEvent {
    pub kind: StorageEventKind,
    pub key: Vec<u8>,
    /// The new value (empty for a deletion).
    pub value: Vec<u8>,
    /// The revision of the change.
    pub mod_revision: i64,
    /// The revision that created the key (equal to `mod_revision` for a creation).
    pub create_revision: i64,
    /// The key's state before the change, when the watch asked for it.
    pub prev: Option<StoredKv>,
}

/// What a watch delivers, in revision order.
#[derive(Debug)]
pub enum WatchBatch {
    /// Changes; every change up to the last one's revision has now been delivered.
    Events(Vec<StorageEvent>),
    /// Nothing more changed under the watched prefix up to this revision.
    Progress(i64),
}

/// How a watch starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct WatchFlags {
    /// Deliver each change's previous state.
    pub prev_kv: bool,
    /// Ask etcd for periodic progress notifications as well.
    pub progress_notify: bool,
}

/// An open watch of etcd's history under one prefix. It ends with
/// `StorageError::Compacted` when etcd no longer has the revisions asked for, and with
/// `StorageError::WatchEnded` for any other end; it never ends silently.
pub struct StorageWatch {
    requests: WatchRequestSender,
    responses: WatchResponseStream,
    start_revision: i64,
}

impl StorageWatch {
    /// The next batch of changes or progress notification.
    pub async fn next(&mut self) -> Result<WatchBatch, StorageError> {
        loop {
            let resp = match self.responses.message().await {
                Ok(Some(r)) => r,
                Ok(None) => return Err(StorageError::WatchEnded("etcd closed the stream".into())),
                Err(e) => return Err(StorageError::WatchEnded(e.to_string())),
            };
            if resp.compact_revision() > 0 {
                return Err(StorageError::Compacted(self.start_revision));
            }
            if resp.canceled() {
                let reason = match resp.cancel_reason() {
                    "" => "etcd cancelled the watch".to_string(),
                    r => format!("etcd cancelled the watch: {r}"),
                };
                return Err(StorageError::WatchEnded(reason));
            }
            if resp.events().is_empty() {
                // The creation confirmation says nothing about progress; anything else
                // without events is a progress notification.
                if resp.created() {
                    continue;
                }
                return Ok(WatchBatch::Progress(revision_of(resp.header())?));
            }
            let events = resp
                .events()
                .iter()
                .filter_map(|ev| {
                    let kv = ev.kv()?;
                    Some(StorageEvent {
                        kind: match ev.event_type() {
                            EventType::Put => StorageEventKind::Put,
                            EventType::Delete => StorageEventKind::Delete,
                        },
                        key: kv.key().to_vec(),
                        value: kv.value().to_vec(),
                        mod_revision: kv.mod_revision(),
                        create_revision: kv.create_revision(),
                        prev: ev.prev_kv().map(to_stored),
                    })
                })
                .collect();
            return Ok(WatchBatch::Events(events));
        }
    }

    /// Asks etcd to tell (with a `Progress` batch) the revision up to which everything has
    /// been delivered. Before etcd 3.4.24 and 3.5.8 (etcd-io/etcd#15220) the answer can
    /// overtake events still on their way, so the watch cache uses `Storage::mark_progress`.
    pub async fn request_progress(&mut self) -> Result<(), StorageError> {
        self.requests
            .request_progress()
            .await
            .map_err(|e| StorageError::WatchEnded(e.to_string()))
    }
}

#[derive(Clone)]
pub struct Storage {
    kv: KvClient,
    client: Client,
    pub prefix: String,
    metrics: Metrics,
}

impl Storage {
    pub async fn connect(
        endpoints: &[String],
        prefix: &str,
        metrics: Metrics,
    ) -> Result<Self, StorageError> {
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30))
            .with_keep_alive(Duration::from_secs(30), Duration::from_secs(10));
        let client = Client::connect(endpoints, Some(options)).await?;
        Ok(Storage {
            kv: client.kv_client(),
            client,
            prefix: prefix.trim_end_matches('/').to_string(),
            metrics,
        })
    }

    /// Watches every key under `prefix` from `start_revision` (inclusive) on.
    pub async fn watch(
        &self,
        prefix: &str,
        start_revision: i64,
        flags: WatchFlags,
    ) -> Result<StorageWatch, StorageError> {
        let mut options = WatchOptions::new()
            .with_range(prefix_end(prefix))
            .with_start_revision(start_revision);
        if flags.prev_kv {
            options = options.with_prev_key();
        }
        if flags.progress_notify {
            options = options.with_progress_notify();
        }
        let stream = self
            .client
            .clone()
            .watch(prefix, Some(options))
            .await
            .map_err(|e| StorageError::WatchEnded(e.to_string()))?;
        let (requests, responses) = stream.split();
        Ok(StorageWatch {
            requests,
            responses,
            start_revision,
        })
    }

    /// The key prefix every object lives under, with a trailing slash.
    pub fn root(&self) -> String {
        format!("{}/", self.prefix)
    }

    /// `<prefix>/<resource>/` — every object of one resource.
    pub fn resource_prefix(&self, storage_plural: &str) -> String {
        format!("{}/{}/", self.prefix, storage_plural)
    }

    /// `<prefix>/<resource>/<ns>/` or, for cluster-scoped resources, the resource prefix.
    pub fn list_prefix(&self, storage_plural: &str, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("{}/{}/{}/", self.prefix, storage_plural, ns),
            None => self.resource_prefix(storage_plural),
        }
    }

    pub fn object_key(&self, storage_plural: &str, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) => format!("{}/{}/{}/{}", self.prefix, storage_plural, ns, name),
            None => format!("{}/{}/{}", self.prefix, storage_plural, name),
        }
    }

    /// The key of `rel` (`<namespace>/<name>` or `<name>`, as the watch cache and continue
    /// tokens name objects) in a resource.
    pub fn relative_key(&self, storage_plural: &str, rel: &str) -> String {
        format!("{}/{}/{}", self.prefix, storage_plural, rel)
    }

    fn observe(&self, op: &'static str, ty: &str, started: Instant) {
        self.metrics
            .etcd_request_duration
            .with_label_values(&[op, ty])
            .observe(started.elapsed().as_secs_f64());
    }

    pub async fn get(&self, key: &str, ty: &str) -> Result<Option<StoredKv>, StorageError> {
        let started = Instant::now();
        let resp = self.kv.clone().get(key, None).await;
        self.observe("get", ty, started);
        let resp = resp?;
        Ok(resp.kvs().first().map(to_stored))
    }

    /// The current etcd revision (for consistent reads).
    pub async fn current_revision(&self) -> Result<i64, StorageError> {
        let started = Instant::now();
        let resp = self
            .kv
            .clone()
            .get(
                format!("{}/\u{0}revision", self.prefix),
                Some(GetOptions::new().with_count_only()),
            )
            .await;
        self.observe("get", "revision", started);
        revision_of(resp?.header())
    }

    /// Writes the progress marker, a key under the prefix that belongs to no resource. A
    /// watch of the prefix delivers its event after every earlier change, so seeing it
    /// proves the watch has caught up with the returned revision, whatever etcd's version
    /// (unlike a requested progress notification, see `StorageWatch::request_progress`).
    pub async fn mark_progress(&self) -> Result<i64, StorageError> {
        let started = Instant::now();
        let resp = self
            .kv
            .clone()
            .put(format!("{}/\u{0}progress", self.prefix), "", None)
            .await;
        self.observe("update", "progress", started);
        revision_of(resp?.header())
    }

    /// Creates `key` only if it does not exist.
    pub async fn create(
        &self,
        key: &str,
        value: Vec<u8>,
        ty: &str,
    ) -> Result<WriteOutcome, StorageError> {
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        self.conditional("create", ty, txn).await
    }

    /// Replaces `key` only if its mod revision is still `expected`.
    pub async fn update(
        &self,
        key: &str,
        expected: i64,
        value: Vec<u8>,
        ty: &str,
    ) -> Result<WriteOutcome, StorageError> {
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        self.conditional("update", ty, txn).await
    }

    /// Deletes `key` only if its mod revision is still `expected`.
    pub async fn delete(
        &self,
        key: &str,
        expected: i64,
        ty: &str,
    ) -> Result<WriteOutcome, StorageError> {
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::delete(key, None)])
            .or_else([TxnOp::get(key, None)]);
        self.conditional("delete", ty, txn).await
    }

    async fn conditional(
        &self,
        op: &'static str,
        ty: &str,
        txn: Txn,
    ) -> Result<WriteOutcome, StorageError> {
        let started = Instant::now();
        let resp = self.kv.clone().txn(txn).await;
        self.observe(op, ty, started);
        let resp = resp?;
        let revision = revision_of(resp.header())?;
        if resp.succeeded() {
            return Ok(WriteOutcome::Written(revision));
        }
        let current = resp.op_responses().into_iter().find_map(|r| match r {
            TxnOpResponse::Get(g) => Some(g.kvs().first().map(to_stored)),
            _ => None,
        });
        match current {
            Some(c) => Ok(WriteOutcome::Conflict(c)),
            None => Err(StorageError::Unexpected(
                "failed transaction without a read",
            )),
        }
    }

    /// Reads up to `limit` keys of `[start, end)` at `revision` (0: the current one).
    pub async fn range(
        &self,
        start: &str,
        end: &str,
        revision: i64,
        limit: i64,
        ty: &str,
    ) -> Result<RangePage, StorageError> {
        let mut options = GetOptions::new().with_range(end);
        if revision > 0 {
            options = options.with_revision(revision);
        }
        if limit > 0 {
            options = options.with_limit(limit);
        }
        let started = Instant::now();
        let resp = self.kv.clone().get(start, Some(options)).await;
        self.observe("list", ty, started);
        let resp = resp.map_err(|e| StorageError::classify(e, revision))?;
        Ok(RangePage {
            revision: revision_of(resp.header())?,
            kvs: resp.kvs().iter().map(to_stored).collect(),
            more: resp.more(),
            count: resp.count(),
        })
    }

    /// Compacts etcd's history up to `revision`.
    pub async fn compact(&self, revision: i64) -> Result<(), StorageError> {
        let started = Instant::now();
        let resp = self.client.clone().compact(revision, None).await;
        self.observe("compact", "", started);
        match resp {
            Ok(_) => Ok(()),
            // Someone (an earlier run of ours) already compacted further: nothing to do.
            Err(e) if e.to_string().contains("compacted") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes `key` attached to a new etcd lease of `ttl_secs`, so the key disappears by
    /// itself unless written again within that time (the apiservers' endpoint leases).
    pub async fn put_with_ttl(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl_secs: i64,
        ty: &str,
    ) -> Result<i64, StorageError> {
        let started = Instant::now();
        let lease = self.client.clone().lease_grant(ttl_secs, None).await;
        self.observe("grant", ty, started);
        let lease = lease?.id();
        let started = Instant::now();
        let resp = self
            .kv
            .clone()
            .put(key, value, Some(PutOptions::new().with_lease(lease)))
            .await;
        self.observe("update", ty, started);
        revision_of(resp?.header())
    }

    /// Deletes `key` whatever its revision (absent is fine).
    pub async fn remove(&self, key: &str, ty: &str) -> Result<(), StorageError> {
        let started = Instant::now();
        let resp = self.kv.clone().delete(key, None).await;
        self.observe("delete", ty, started);
        resp?;
        Ok(())
    }

    /// Whether etcd answers within `timeout` (for `/readyz`).
    pub async fn healthy(&self, timeout: Duration) -> Result<(), String> {
        match tokio::time::timeout(timeout, self.current_revision()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("etcd did not answer within {timeout:?}")),
        }
    }
}

/// The exclusive end of the range of keys starting with `prefix`.
pub fn prefix_end(prefix: &str) -> String {
    // Every prefix we use ends with '/', whose successor '0' ends the range.
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last += 1;
    }
    String::from_utf8(bytes).expect("prefixes are ASCII paths")
}

fn to_stored(kv: &etcd_client::KeyValue) -> StoredKv {
    StoredKv {
        key: kv.key().to_vec(),
        value: kv.value().to_vec(),
        mod_revision: kv.mod_revision(),
    }
}

fn revision_of(header: Option<&etcd_client::ResponseHeader>) -> Result<i64, StorageError> {
    header
        .map(|h| h.revision())
        .ok_or(StorageError::Unexpected("response without a header"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_key_after_every_child() {
        assert_eq!(prefix_end("/registry/pods/"), "/registry/pods0");
        assert!("/registry/pods/zzz" < prefix_end("/registry/pods/").as_str());
        assert!("/registry/podsx" > prefix_end("/registry/pods/").as_str());
    }
}
