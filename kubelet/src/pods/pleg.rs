//! The pod lifecycle event generator: relists every sandbox and container from CRI once a
//! second and reports the pods whose runtime state changed (so their workers sync), and the
//! sandboxes the runtime holds, by pod UID (so sandboxes of pods that no longer exist are
//! found and removed).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cri::{Cri, LABEL_POD_UID};

/// The relist period.
pub const PERIOD: Duration = Duration::from_secs(1);

/// One relist's findings.
#[derive(Debug, Default)]
pub struct Relist {
    /// Pods whose containers or sandboxes changed state since the last relist.
    pub changed: HashSet<String>,
    /// Every sandbox: ID and pod UID.
    pub sandboxes: Vec<(String, String)>,
}

/// Container and sandbox states by ID: (pod UID, state).
type States = HashMap<String, (String, i32)>;

/// The pods that differ between two relists (appeared, vanished or changed state).
pub fn diff(old: &States, new: &States) -> HashSet<String> {
    let mut changed = HashSet::new();
    for (id, (uid, state)) in new {
        if old.get(id).is_none_or(|(_, s)| s != state) {
            changed.insert(uid.clone());
        }
    }
    for (id, (uid, _)) in old {
        if !new.contains_key(id) {
            changed.insert(uid.clone());
        }
    }
    changed
}

async fn relist(cri: &Cri) -> Result<(States, Vec<(String, String)>), tonic::Status> {
    let mut rt = cri.runtime.clone();
    let mut states = States::new();
    let sandboxes = rt
        .list_pod_sandbox(k8s_cri::v1::ListPodSandboxRequest { filter: None })
        .await?
        .into_inner()
        .items;
    let mut list = Vec::new();
    for s in sandboxes {
        let Some(uid) = s.labels.get(LABEL_POD_UID) else {
            continue;
        };
        states.insert(format!("s/{}", s.id), (uid.clone(), s.state));
        list.push((s.id, uid.clone()));
    }
    let containers = rt
        .list_containers(k8s_cri::v1::ListContainersRequest { filter: None })
        .await?
        .into_inner()
        .containers;
    for c in containers {
        let Some(uid) = c.labels.get(LABEL_POD_UID) else {
            continue;
        };
        states.insert(c.id, (uid.clone(), c.state));
    }
    Ok((states, list))
}

/// Relists every [`PERIOD`] and sends what it found until `tx` closes.
pub async fn run(cri: Cri, tx: mpsc::Sender<Relist>) {
    let mut old = States::new();
    let mut ticker = tokio::time::interval(PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match relist(&cri).await {
            Ok((new, sandboxes)) => {
                let changed = diff(&old, &new);
                old = new;
                if tx.send(Relist { changed, sandboxes }).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!("PLEG: relisting the runtime: {}", e.message()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_reports_changed_new_and_gone_pods() {
        let old: States = [
            ("c1".to_string(), ("a".to_string(), 1)),
            ("c2".to_string(), ("b".to_string(), 1)),
            ("c3".to_string(), ("c".to_string(), 1)),
        ]
        .into();
        let new: States = [
            ("c1".to_string(), ("a".to_string(), 1)),
            ("c2".to_string(), ("b".to_string(), 2)),
            ("c4".to_string(), ("d".to_string(), 0)),
        ]
        .into();
        let mut got: Vec<_> = diff(&old, &new).into_iter().collect();
        got.sort();
        assert_eq!(got, ["b", "c", "d"]);
        assert!(diff(&new, &new).is_empty());
    }
}
