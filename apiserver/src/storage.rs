//! The etcd layer: keys in upstream's layout (`<prefix>/<resource>/<namespace>/<name>`),
//! optimistic concurrency through mod revisions, snapshot reads for paged lists, and
//! compaction. The apiserver is etcd's only writer; `resourceVersion` is the etcd revision.

use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, KvClient, Txn, TxnOp, TxnOpResponse,
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

    pub fn client(&self) -> Client {
        self.client.clone()
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
