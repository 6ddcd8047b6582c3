//! The scheduler's view of the cluster: every node with the pods counted against it, kept
//! from the informers, plus "assumed" pods: a pod counts against its chosen node from the
//! moment the cycle picks it, before the binding reaches the apiserver and comes back through
//! the watch, so the next cycles do not overcommit the node.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::NodeInfo;

/// The cache shared by the informer handlers and the scheduling loop. A handler that
/// panicked left it consistent (each method changes it in one step), so a poisoned lock is used.
pub fn lock(cache: &std::sync::Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
pub struct Cache {
    nodes: HashMap<String, NodeInfo>,
    /// Node names in a stable order, for the rotating start of each cycle's search.
    order: Vec<String>,
    /// Which node each counted pod is on, by `namespace/name`.
    pod_node: HashMap<String, String>,
    /// Pods counted because the scheduler chose a node, not yet seen bound.
    assumed: HashSet<String>,
    /// Pods counted on nodes the cache does not know yet (the node's event comes later).
    orphans: HashMap<String, (String, Arc<Pod>)>,
}

impl Cache {
    pub fn set_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        match self.nodes.get_mut(&name) {
            Some(info) => info.node = node,
            None => {
                let mut info = NodeInfo::new(node);
                let waiting: Vec<String> = self
                    .orphans
                    .iter()
                    .filter(|(_, (n, _))| *n == name)
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in waiting {
                    if let Some((_, pod)) = self.orphans.remove(&key) {
                        info.add_pod(key, pod);
                    }
                }
                self.nodes.insert(name.clone(), info);
                self.order.push(name);
                self.order.sort();
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.remove(name) {
            for (key, (pod, _, _)) in info.pods {
                self.orphans.insert(key, (name.to_string(), pod));
            }
        }
        self.order.retain(|n| n != name);
    }

    /// Counts a pod on `node` (replacing its earlier place, assumed or not).
    pub fn add_pod(&mut self, key: &str, node: &str, pod: Arc<Pod>) {
        self.remove_pod(key);
        self.pod_node.insert(key.to_string(), node.to_string());
        match self.nodes.get_mut(node) {
            Some(info) => info.add_pod(key.to_string(), pod),
            None => {
                self.orphans
                    .insert(key.to_string(), (node.to_string(), pod));
            }
        }
    }

    /// Stops counting a pod (deleted, finished, or its binding failed).
    pub fn remove_pod(&mut self, key: &str) {
        self.assumed.remove(key);
        self.orphans.remove(key);
        if let Some(node) = self.pod_node.remove(key) {
            if let Some(info) = self.nodes.get_mut(&node) {
                info.remove_pod(key);
            }
        }
    }

    /// Counts the pod on the node the cycle chose.
    pub fn assume(&mut self, key: &str, node: &str, pod: Arc<Pod>) {
        self.add_pod(key, node, pod);
        self.assumed.insert(key.to_string());
    }

    /// The pod's binding is seen: it is counted for real now.
    pub fn confirm(&mut self, key: &str) {
        self.assumed.remove(key);
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.assumed.contains(key)
    }

    pub fn node_count(&self) -> usize {
        self.order.len()
    }

    /// The node at position `i` of the stable order.
    pub fn node_at(&self, i: usize) -> Option<&NodeInfo> {
        self.order.get(i).and_then(|n| self.nodes.get(n))
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap())
    }

    fn pod() -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(serde_json::json!({"spec": {"containers": [
            {"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}))
            .unwrap(),
        )
    }

    #[test]
    fn assumed_pods_count_until_removed_and_move_between_nodes() {
        let mut c = Cache::default();
        c.set_node(node("a"));
        c.set_node(node("b"));
        c.assume("d/p", "a", pod());
        assert!(c.is_assumed("d/p"));
        assert_eq!(c.node("a").unwrap().requested.milli_cpu, 1000);
        // The watch shows it bound elsewhere (another scheduler won): it moves.
        c.add_pod("d/p", "b", pod());
        assert!(!c.is_assumed("d/p"));
        assert_eq!(c.node("a").unwrap().requested.milli_cpu, 0);
        assert_eq!(c.node("b").unwrap().pod_count, 1);
        c.remove_pod("d/p");
        assert_eq!(c.node("b").unwrap().pod_count, 0);
    }

    #[test]
    fn pods_seen_before_their_node_are_counted_when_it_arrives() {
        let mut c = Cache::default();
        c.add_pod("d/p", "late", pod());
        c.set_node(node("late"));
        assert_eq!(c.node("late").unwrap().pod_count, 1);
        c.remove_node("late");
        assert_eq!(c.node_count(), 0);
        c.set_node(node("late"));
        assert_eq!(c.node("late").unwrap().pod_count, 1);
    }
}
