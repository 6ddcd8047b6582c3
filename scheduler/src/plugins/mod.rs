//! The default plugins built so far, and the default profile's weights (upstream's:
//! TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, NodeResourcesBalancedAllocation 1).

pub mod affinity;
pub mod basic;
pub mod resources;
pub mod taints;

use std::sync::Arc;

use crate::framework::{FilterPlugin, PreEnqueuePlugin, ScorePlugin};

/// The plugins of one profile, in the order they run, with score weights.
pub struct Plugins {
    pub pre_enqueue: Vec<Arc<dyn PreEnqueuePlugin>>,
    pub filter: Vec<Arc<dyn FilterPlugin>>,
    pub score: Vec<(Arc<dyn ScorePlugin>, i64)>,
}

/// Every plugin name the default profile knows, for config validation.
pub const KNOWN: &[&str] = &[
    "SchedulingGates",
    "PrioritySort",
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "NodeResourcesBalancedAllocation",
    "DefaultBinder",
];

impl Plugins {
    /// The default profile with the plugins in `disabled` left out and score weights
    /// overridden by `weights`.
    pub fn default_profile(
        disabled: &[String],
        weights: &[(String, i64)],
        strategy: resources::ScoringStrategy,
    ) -> Self {
        let on = |name: &str| !disabled.iter().any(|d| d == name || d == "*");
        let weight = |name: &str, default: i64| {
            weights
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, w)| *w)
                .unwrap_or(default)
        };
        let mut p = Plugins {
            pre_enqueue: Vec::new(),
            filter: Vec::new(),
            score: Vec::new(),
        };
        if on("SchedulingGates") {
            p.pre_enqueue.push(Arc::new(basic::SchedulingGates));
        }
        if on("NodeUnschedulable") {
            p.filter.push(Arc::new(basic::NodeUnschedulable));
        }
        if on("NodeName") {
            p.filter.push(Arc::new(basic::NodeName));
        }
        if on("TaintToleration") {
            p.filter.push(Arc::new(taints::TaintToleration));
            p.score.push((
                Arc::new(taints::TaintToleration),
                weight("TaintToleration", 3),
            ));
        }
        if on("NodeAffinity") {
            p.filter.push(Arc::new(affinity::NodeAffinity));
            p.score
                .push((Arc::new(affinity::NodeAffinity), weight("NodeAffinity", 2)));
        }
        if on("NodePorts") {
            p.filter.push(Arc::new(basic::NodePorts));
        }
        if on("NodeResourcesFit") {
            p.filter
                .push(Arc::new(resources::NodeResourcesFit { strategy }));
            p.score.push((
                Arc::new(resources::NodeResourcesFit { strategy }),
                weight("NodeResourcesFit", 1),
            ));
        }
        if on("NodeResourcesBalancedAllocation") {
            p.score.push((
                Arc::new(resources::BalancedAllocation),
                weight("NodeResourcesBalancedAllocation", 1),
            ));
        }
        p
    }
}
