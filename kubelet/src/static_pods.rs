//! Static pods: manifests in `--pod-manifest-path` (`staticPodPath`), read by polling the
//! folder, run without an apiserver. Each gets upstream's name `<name>-<node>`, a UID that is
//! a hash of its file, content and node (so a kubelet restart finds the same containers, and
//! a changed file restarts the pod), and the `kubernetes.io/config.*` annotations.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;

use crate::pods::{SourceEvent, ANNOTATION_HASH, ANNOTATION_SOURCE};

/// FNV-1a, 64 bits, from `seed`: stable across builds, unlike std's hasher.
fn fnv(seed: u64, data: &[u8]) -> u64 {
    let mut h = seed;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Reads one manifest into the pod the kubelet runs.
pub fn read_manifest(path: &Path, node: &str) -> Result<Pod, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut pod: Pod =
        serde_yaml::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = pod
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{}: the pod has no name", path.display()))?;
    if pod.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
        return Err(format!("{}: the pod has no containers", path.display()));
    }
    let mut data = path.to_string_lossy().into_owned().into_bytes();
    data.extend_from_slice(&text);
    data.extend_from_slice(node.as_bytes());
    let uid = format!(
        "{:016x}{:016x}",
        fnv(0xcbf29ce484222325, &data),
        fnv(0x84222325cbf29ce4, &data)
    );
    pod.metadata.name = Some(format!("{name}-{node}"));
    pod.metadata.namespace = Some(
        pod.metadata
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into()),
    );
    pod.metadata.uid = Some(uid.clone());
    let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(ANNOTATION_SOURCE.into(), "file".into());
    annotations.insert(ANNOTATION_HASH.into(), uid);
    annotations.insert(
        "kubernetes.io/config.seen".into(),
        jiff::Timestamp::now().to_string(),
    );
    if let Some(spec) = pod.spec.as_mut() {
        spec.node_name = Some(node.to_string());
    }
    pod.status = None;
    Ok(pod)
}

/// The manifests in `dir` (files not starting with a dot), by path.
pub fn scan(dir: &Path, node: &str) -> HashMap<PathBuf, Pod> {
    let mut out = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden || !path.is_file() {
            continue;
        }
        match read_manifest(&path, node) {
            Ok(pod) => {
                out.insert(path, pod);
            }
            Err(e) => tracing::warn!("static pod manifest: {e}"),
        }
    }
    out
}

/// Polls `dir` every `period` (capped at 5 s so edits show quickly) and sends what changed.
pub async fn run(dir: PathBuf, node: String, period: Duration, tx: mpsc::Sender<SourceEvent>) {
    let period = period.min(Duration::from_secs(5));
    let mut known: HashMap<PathBuf, Arc<Pod>> = HashMap::new();
    let mut first = true;
    loop {
        let found = scan(&dir, &node);
        let mut events = Vec::new();
        for (path, old) in &known {
            let same = found
                .get(path)
                .is_some_and(|p| p.metadata.uid == old.metadata.uid);
            if !same {
                events.push(SourceEvent::Remove(old.clone()));
            }
        }
        let mut next = HashMap::new();
        for (path, pod) in found {
            match known.remove(&path) {
                Some(old) if old.metadata.uid == pod.metadata.uid => {
                    next.insert(path, old);
                }
                _ => {
                    let pod = Arc::new(pod);
                    events.push(SourceEvent::Upsert(pod.clone()));
                    next.insert(path, pod);
                }
            }
        }
        known = next;
        for ev in events {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
        if first {
            first = false;
            if tx.send(SourceEvent::Synced("file")).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_become_node_named_static_pods() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yaml");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: busybox\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        std::fs::write(dir.path().join("bad.yaml"), "kind: Pod\nmetadata: {}\n").unwrap();
        let pods = scan(dir.path(), "n1");
        assert_eq!(pods.len(), 1);
        let pod = &pods[&path];
        assert_eq!(pod.metadata.name.as_deref(), Some("web-n1"));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        assert!(crate::pods::is_static(pod));
        let uid = pod.metadata.uid.clone().unwrap();
        assert_eq!(uid.len(), 32);
        // Same file, same UID; a changed file, a new one.
        assert_eq!(
            read_manifest(&path, "n1").unwrap().metadata.uid,
            Some(uid.clone())
        );
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: other\n",
        )
        .unwrap();
        assert_ne!(read_manifest(&path, "n1").unwrap().metadata.uid, Some(uid));
        let mirror = crate::pods::mirror_pod(pod, "n1");
        assert_eq!(
            crate::pods::mirror_hash(&mirror),
            pod.metadata.uid.as_deref()
        );
        assert_eq!(mirror.metadata.uid, None);
    }
}
