//! Lists through the store: from the watch cache (bytes concatenated, no re-encoding), or,
//! for pages and exact versions, from etcd snapshots with continue tokens.

use std::sync::Arc;
use std::time::Duration;

use api_types::fields::FieldSelector;
use api_types::labels::LabelSelector;
use api_types::resources::{storage_of, ResourceInfo};
use base64::Engine;
use bytes::Bytes;

use super::store::from_storage;
use crate::error::{ApiError, ApiResult};
use crate::object::CachedObject;
use crate::request::{Query, ResourceRequest};
use crate::storage::{prefix_end, StorageError};
use crate::AppState;

/// How long a read waits for the watch cache to reach a requested revision.
pub const CACHE_WAIT: Duration = Duration::from_secs(3);

/// The bytes of a cached object in `info`'s version.
pub fn encode_cached(info: &ResourceInfo, obj: &CachedObject) -> ApiResult<Bytes> {
    if info.is_storage_version() {
        return Ok(obj.json.clone());
    }
    let v = from_storage(info, obj.value())?;
    Ok(Bytes::from(
        serde_json::to_vec(&v).expect("JSON values serialize"),
    ))
}

/// Which objects a list or watch selects.
pub struct Filter {
    pub info: &'static ResourceInfo,
    pub sinfo: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn new(rr: &ResourceRequest, q: &Query) -> ApiResult<Self> {
        Ok(Filter {
            info: rr.info,
            sinfo: storage_of(rr.info),
            namespace: rr.namespace.clone(),
            labels: q.label_selector()?,
            fields: q.field_selector(rr.info)?,
        })
    }

    pub fn matches(&self, obj: &CachedObject) -> bool {
        if let Some(ns) = &self.namespace {
            if self.sinfo.namespaced && &obj.namespace != ns {
                return false;
            }
        }
        if !self.labels.matches(&obj.labels) {
            return false;
        }
        if self.fields.is_empty() {
            return true;
        }
        if self.info.is_storage_version() {
            self.fields.matches(|f| obj.field(self.sinfo, f))
        } else {
            // Another version names its fields differently: read them from the converted object.
            match from_storage(self.info, obj.value()) {
                Ok(v) => self.fields.matches(|f| match f {
                    "metadata.name" => obj.name.clone(),
                    "metadata.namespace" => obj.namespace.clone(),
                    _ => self.info.field_value(&v, f),
                }),
                Err(_) => false,
            }
        }
    }
}

/// The continue token: where the next page starts, at which revision.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.to_string(),
    };
    base64::engine::general_purpose::URL_SAFE
        .encode(serde_json::to_vec(&token).expect("token serializes"))
}

fn decode_continue(s: &str) -> ApiResult<ContinueToken> {
    let bad = || ApiError::bad_request("continue key is not valid");
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(s))
        .map_err(|_| bad())?;
    let t: ContinueToken = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if t.v != "meta.k8s.io/v1" || t.rv <= 0 || t.start.contains("..") {
        return Err(bad());
    }
    Ok(t)
}

pub struct ListResult {
    pub items: Vec<Bytes>,
    pub revision: i64,
    pub continue_token: Option<String>,
    pub remaining: Option<i64>,
}

pub async fn list_objects(st: &AppState, rr: &ResourceRequest, q: &Query) -> ApiResult<ListResult> {
    let filter = Filter::new(rr, q)?;
    let limit = q.int("limit")?.filter(|l| *l > 0);
    let rv = q.get("resourceVersion").unwrap_or("");
    let rv_match = q.get("resourceVersionMatch").unwrap_or("");
    let cont = q.get("continue").filter(|c| !c.is_empty());
    if cont.is_some() && !rv.is_empty() {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    match rv_match {
        "" | "NotOlderThan" | "Exact" => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
            )))
        }
    }
    if !rv_match.is_empty() && rv.is_empty() {
        return Err(ApiError::bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    let exact = rv_match == "Exact";
    let requested_rv: Option<i64> = match rv {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}")))?,
        ),
    };
    if exact && requested_rv == Some(0) {
        return Err(ApiError::bad_request(
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
        ));
    }
    // Pages and exact versions come from etcd snapshots; everything else from the cache.
    if cont.is_some() || exact || (limit.is_some() && requested_rv != Some(0)) {
        let (revision, start) = match cont {
            Some(c) => {
                let t = decode_continue(c)?;
                (t.rv, Some(t.start))
            }
            None => (requested_rv.unwrap_or(0), None),
        };
        return list_from_etcd(st, &filter, revision, start, limit).await;
    }
    let revision = match requested_rv {
        None => st.cache.wait_fresh(CACHE_WAIT).await.map_err(|_| {
            ApiError::timeout(
                "Too large resource version: the watch cache is not caught up with etcd",
            )
        })?,
        Some(0) => st.cache.revision(),
        Some(n) => {
            if !st.cache.wait_for(n, CACHE_WAIT).await {
                return Err(ApiError::timeout(format!(
                    "Too large resource version: {n}, current: {}",
                    st.cache.revision()
                )));
            }
            st.cache.revision()
        }
    };
    let rc = st
        .cache
        .resource(filter.sinfo.plural)
        .expect("every storage resource is cached");
    let ns = if filter.sinfo.namespaced {
        filter.namespace.as_deref()
    } else {
        None
    };
    // The objects and the revision come from one snapshot, so a watch from that revision
    // repeats none of them.
    let (objects, revision) = rc.list_at(ns, revision);
    let mut items = Vec::new();
    for o in objects.iter().filter(|o| filter.matches(o)) {
        items.push(encode_cached(rr.info, o)?);
    }
    Ok(ListResult {
        items,
        revision,
        continue_token: None,
        remaining: None,
    })
}

async fn list_from_etcd(
    st: &AppState,
    filter: &Filter,
    revision: i64,
    start_rel: Option<String>,
    limit: Option<i64>,
) -> ApiResult<ListResult> {
    let sinfo = filter.sinfo;
    let ns = if sinfo.namespaced {
        filter.namespace.as_deref()
    } else {
        None
    };
    let prefix = st.storage.list_prefix(sinfo.plural, ns);
    let resource_prefix = st.storage.resource_prefix(sinfo.plural);
    let end = prefix_end(&prefix);
    let mut start = match &start_rel {
        Some(rel) => st.storage.relative_key(sinfo.plural, rel),
        None => prefix.clone(),
    };
    let rc = st
        .cache
        .resource(sinfo.plural)
        .expect("every storage resource is cached");
    let mut revision = revision;
    let mut items = Vec::new();
    let want = limit.unwrap_or(i64::MAX);
    let unfiltered = filter.labels.is_empty() && filter.fields.is_empty();
    loop {
        let chunk = limit
            .map(|l| (want - items.len() as i64).max(1).max(l.min(500)))
            .unwrap_or(1000);
        let page = st
            .storage
            .range(&start, &end, revision, chunk, sinfo.plural)
            .await
            .map_err(|e| match e {
                StorageError::Compacted(_) if start_rel.is_some() => ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ),
                StorageError::Compacted(rv) => ApiError::expired(format!(
                    "The resourceVersion for the provided list is too old: {rv}"
                )),
                other => other.into(),
            })?;
        if revision == 0 {
            revision = page.revision;
        }
        let n = page.kvs.len();
        for (i, kv) in page.kvs.iter().enumerate() {
            let key = String::from_utf8_lossy(&kv.key).into_owned();
            let rel = key
                .strip_prefix(&resource_prefix)
                .unwrap_or(&key)
                .to_string();
            // The cache usually holds this very version; reuse its bytes.
            let obj = match rc.get(&rel).filter(|o| o.rv == kv.mod_revision) {
                Some(o) => o,
                None => match CachedObject::decode(sinfo, &kv.value, kv.mod_revision) {
                    Ok(o) => Arc::new(o),
                    Err(e) => {
                        tracing::warn!(%key, error = %e, "skipping undecodable object");
                        continue;
                    }
                },
            };
            if filter.matches(&obj) {
                items.push(encode_cached(filter.info, &obj)?);
            }
            if items.len() as i64 >= want {
                let more_here = i + 1 < n;
                if more_here || page.more {
                    let next_rel = format!("{rel}\u{0}");
                    let remaining = if unfiltered {
                        Some(page.count - (i as i64 + 1))
                    } else {
                        None
                    };
                    return Ok(ListResult {
                        items,
                        revision,
                        continue_token: Some(encode_continue(revision, &next_rel)),
                        remaining,
                    });
                }
                return Ok(ListResult {
                    items,
                    revision,
                    continue_token: None,
                    remaining: None,
                });
            }
        }
        match page.kvs.last() {
            Some(last) if page.more => {
                let mut next = last.key.clone();
                next.push(0);
                start = String::from_utf8_lossy(&next).into_owned();
            }
            _ => break,
        }
    }
    Ok(ListResult {
        items,
        revision,
        continue_token: None,
        remaining: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(42, "ns/name\u{0}");
        let d = decode_continue(&t).unwrap();
        assert_eq!(d.rv, 42);
        assert_eq!(d.start, "ns/name\u{0}");
        assert!(decode_continue("not-a-token").is_err());
    }
}
