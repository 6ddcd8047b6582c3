//! Deletion through the store: preconditions, admission, graceful deletion (the strategy's),
//! finalizers (metadata and, for namespaces, spec), and delete-collection.

use serde_json::{json, Value};

use super::list::{Filter, CACHE_WAIT};
use super::store::{Decision, Store, WriteOptions, Written};
use super::strategy::Strategy;
use crate::error::{ApiError, ApiResult};
use crate::object::{format_timestamp, meta_str};

/// `metav1.DeleteOptions`, as far as the store uses them.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub orphan_dependents: Option<bool>,
    pub preconditions: Option<Preconditions>,
    pub dry_run: Option<Vec<String>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// What deleting `obj` does under its kind's `strategy`: remove it, mark it (deletionTimestamp
/// set, for finalizers or the kubelet to finish), or nothing when it is already being deleted
/// as asked.
pub fn delete_decision(strategy: &Strategy, obj: &Value, opts: &DeleteOptions) -> Decision {
    let now = jiff::Timestamp::now();
    let already = meta_str(obj, "deletionTimestamp").is_some();
    if strategy.graceful_deletion {
        let scheduled = obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let phase = obj
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("");
        let terminal = phase == "Succeeded" || phase == "Failed";
        let default_grace = obj
            .pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30);
        let grace = opts.grace_period_seconds.unwrap_or(default_grace).max(0);
        // Unscheduled and finished pods have no kubelet to wait for.
        if scheduled && !terminal && grace > 0 {
            let current = obj
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64);
            if already && current.is_some_and(|c| c <= grace) {
                return Decision::Unchanged(obj.clone());
            }
            let mut marked = obj.clone();
            let at = now + jiff::SignedDuration::from_secs(grace);
            marked["metadata"]["deletionTimestamp"] = json!(format_timestamp(at));
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            return Decision::Write(marked);
        }
    }
    let mut finalizers: Vec<Value> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let policy_finalizer = match opts.propagation_policy.as_deref() {
        Some("Foreground") => Some("foregroundDeletion"),
        Some("Orphan") => Some("orphan"),
        _ if opts.orphan_dependents == Some(true) => Some("orphan"),
        _ => None,
    };
    if let Some(f) = policy_finalizer {
        if !finalizers.iter().any(|x| x == f) {
            finalizers.push(json!(f));
        }
    }
    let spec_finalizers = strategy.spec_finalizers
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
    if finalizers.is_empty() && !spec_finalizers {
        return Decision::Remove(obj.clone());
    }
    let mut marked = obj.clone();
    if !finalizers.is_empty() {
        marked["metadata"]["finalizers"] = Value::Array(finalizers);
    }
    if !already {
        marked["metadata"]["deletionTimestamp"] = json!(format_timestamp(now));
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    } else if opts.grace_period_seconds == Some(0) && strategy.graceful_deletion {
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    }
    if strategy.spec_finalizers {
        // A namespace with finalizers left says it is going away.
        marked["status"]["phase"] = json!("Terminating");
    }
    if &marked == obj {
        Decision::Unchanged(marked)
    } else {
        Decision::Write(marked)
    }
}

impl Store<'_> {
    /// Deletes one object; returns it as the client should see it (gone, or marked).
    pub async fn delete(&self, name: &str, opts: &DeleteOptions) -> ApiResult<Written> {
        let wopts = WriteOptions {
            dry_run: opts.dry_run.is_some(),
            ..Default::default()
        };
        let info = self.info;
        self.guaranteed_update(name, None, &wopts, |current| {
            let Some(obj) = current else {
                return Err(ApiError::not_found(info, name));
            };
            check_preconditions(self, name, obj, opts)?;
            self.admit_delete(name, obj, &wopts)?;
            Ok(delete_decision(self.strategy, obj, opts))
        })
        .await
    }
}

impl Store<'_> {
    /// Deletes every object `filter` selects (as the watch cache sees them once it has caught
    /// up with etcd); returns them as the client should see them. Objects gone meanwhile are
    /// skipped.
    pub async fn delete_collection(
        &self,
        filter: &Filter,
        opts: &DeleteOptions,
    ) -> ApiResult<Vec<Value>> {
        self.st
            .cache
            .wait_fresh(CACHE_WAIT)
            .await
            .map_err(ApiError::from)?;
        let rc = self
            .st
            .cache
            .resource(self.sinfo.plural)
            .expect("every storage resource is cached");
        let targets: Vec<_> = rc
            .list(self.namespace)
            .into_iter()
            .filter(|o| filter.matches(o))
            .collect();
        let mut items = Vec::new();
        for o in targets {
            let store = Store::new(self.st, self.info, Some(o.namespace.as_str()));
            match store.delete(&o.name, opts).await {
                Ok((_, v)) => items.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(items)
    }
}

fn check_preconditions(
    store: &Store,
    name: &str,
    obj: &Value,
    opts: &DeleteOptions,
) -> ApiResult<()> {
    let Some(p) = &opts.preconditions else {
        return Ok(());
    };
    let uid = meta_str(obj, "uid").unwrap_or("");
    if let Some(want) = p.uid.as_deref().filter(|u| !u.is_empty()) {
        if want != uid {
            return Err(ApiError::conflict(
                store.info,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                ),
            ));
        }
    }
    let rv = meta_str(obj, "resourceVersion").unwrap_or("");
    if let Some(want) = p.resource_version.as_deref().filter(|r| !r.is_empty()) {
        if want != rv {
            return Err(ApiError::conflict(
                store.info,
                name,
                &format!("Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rv}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::kinds::strategy_of;
    use crate::registry::store::ready_to_delete;
    use api_types::resources::find;

    #[test]
    fn graceful_pod_deletion_marks_scheduled_pods_only() {
        let pods = strategy_of(find("", "v1", "pods").unwrap());
        let opts = DeleteOptions::default();
        let unscheduled =
            json!({"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}});
        assert!(matches!(
            delete_decision(pods, &unscheduled, &opts),
            Decision::Remove(_)
        ));
        let scheduled = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n"}, "status": {"phase": "Running"}});
        match delete_decision(pods, &scheduled, &opts) {
            Decision::Write(m) => {
                assert_eq!(m["metadata"]["deletionGracePeriodSeconds"], 30);
                assert!(m["metadata"]["deletionTimestamp"].is_string());
            }
            _ => panic!("a running scheduled pod is deleted gracefully"),
        }
        let now = DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        assert!(matches!(
            delete_decision(pods, &scheduled, &now),
            Decision::Remove(_)
        ));
    }

    #[test]
    fn finalizers_hold_deletion() {
        let cms = strategy_of(find("", "v1", "configmaps").unwrap());
        let obj = json!({"metadata": {"name": "c", "finalizers": ["example.com/hold"]}});
        let marked = match delete_decision(cms, &obj, &DeleteOptions::default()) {
            Decision::Write(m) => m,
            _ => panic!("finalizers hold the object"),
        };
        assert!(!ready_to_delete(cms, &marked));
        let mut released = marked.clone();
        released["metadata"]["finalizers"] = json!([]);
        assert!(ready_to_delete(cms, &released));
        // Deleting again changes nothing.
        assert!(matches!(
            delete_decision(cms, &marked, &DeleteOptions::default()),
            Decision::Unchanged(_)
        ));
    }

    #[test]
    fn namespace_spec_finalizers_hold_deletion() {
        let ns = strategy_of(find("", "v1", "namespaces").unwrap());
        let obj = json!({"metadata": {"name": "n"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let marked = match delete_decision(ns, &obj, &DeleteOptions::default()) {
            Decision::Write(m) => m,
            _ => panic!("spec finalizers hold a namespace"),
        };
        assert_eq!(marked["status"]["phase"], "Terminating");
        assert!(!ready_to_delete(ns, &marked));
        let mut finalized = marked.clone();
        finalized["spec"]["finalizers"] = json!([]);
        assert!(ready_to_delete(ns, &finalized));
    }
}
