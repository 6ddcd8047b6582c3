//! Conversion between versions that share storage: core/v1 and events.k8s.io/v1 Events
//! (`events`), autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers (`hpa`, with their
//! metrics in `hpa_metrics`), and their lists.

use serde_json::{Map, Value};

mod events;
mod hpa;
mod hpa_metrics;
#[cfg(test)]
mod testing;

pub use events::{core_event_to_events_v1, events_v1_to_core_event};
pub use hpa::{hpa_v1_to_v2, hpa_v2_to_v1};

/// Holds the v2 metric specs autoscaling/v1 cannot express (v1 `MetricSpec` encoding).
pub const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// Holds every v2 current metric status (v1 `MetricStatus` encoding).
pub const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// Holds the v2 status conditions.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// Holds the v2 `spec.behavior`, keyed by Go field names as upstream writes it.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// The CPU utilization target autoscaling/v1 implies when no metric is given.
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

pub(super) const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRIC_SPECS_ANNOTATION,
    METRIC_STATUSES_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert {kind} from {from} to {to}")]
pub struct ConvertError {
    pub kind: String,
    pub from: String,
    pub to: String,
}

/// Converts `obj` (whose `apiVersion` is `from`) to apiVersion `to`. Same version: unchanged.
/// Supported pairs: `v1` ↔ `events.k8s.io/v1` for `Event`/`EventList`, and
/// `autoscaling/v2` ↔ `autoscaling/v1` for `HorizontalPodAutoscaler`(`List`). An object
/// without a `kind` is taken to be of the pair's kind.
pub fn convert(obj: Value, from: &str, to: &str) -> Result<Value, ConvertError> {
    if from == to {
        return Ok(obj);
    }
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let err = || ConvertError {
        kind: kind.clone(),
        from: from.to_string(),
        to: to.to_string(),
    };
    let item_fn: fn(&Value) -> Value = match (from, to) {
        ("v1", "events.k8s.io/v1") => core_event_to_events_v1,
        ("events.k8s.io/v1", "v1") => events_v1_to_core_event,
        ("autoscaling/v2", "autoscaling/v1") => hpa_v2_to_v1,
        ("autoscaling/v1", "autoscaling/v2") => hpa_v1_to_v2,
        _ => return Err(err()),
    };
    let item_kind = if from.starts_with("autoscaling/") {
        "HorizontalPodAutoscaler"
    } else {
        "Event"
    };
    if kind.is_empty() || kind == item_kind {
        return Ok(item_fn(&obj));
    }
    if kind == format!("{item_kind}List") {
        return Ok(convert_list(obj, to, item_fn));
    }
    Err(err())
}

/// Converts every item of a list; items keep `apiVersion`/`kind` only if they had them.
fn convert_list(mut list: Value, to: &str, item_fn: fn(&Value) -> Value) -> Value {
    if let Some(map) = list.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(to.to_string()));
        if let Some(items) = map.get_mut("items").and_then(Value::as_array_mut) {
            for item in items.iter_mut() {
                let had_type = item.get("apiVersion").is_some() || item.get("kind").is_some();
                let mut converted = item_fn(item);
                if !had_type {
                    if let Some(m) = converted.as_object_mut() {
                        m.remove("apiVersion");
                        m.remove("kind");
                    }
                }
                *item = converted;
            }
        }
    }
    list
}

/// Copies `obj[from]` into `out[to]` when present.
pub(super) fn carry(obj: &Value, from: &str, out: &mut Map<String, Value>, to: &str) {
    if let Some(v) = obj.get(from) {
        out.insert(to.to_string(), v.clone());
    }
}

pub(super) fn typed(api_version: &str, kind: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String(kind.into()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testing::*;
    use serde_json::json;

    #[test]
    fn same_version_is_unchanged() {
        let e = core_event();
        assert_eq!(convert(e.clone(), "v1", "v1").unwrap(), e);
    }

    #[test]
    fn unsupported_pairs_fail() {
        let err = convert(json!({"kind": "Pod"}), "v1", "apps/v1").unwrap_err();
        assert_eq!(err.kind, "Pod");
        assert_eq!(err.to_string(), "cannot convert Pod from v1 to apps/v1");
        assert!(convert(json!({"kind": "Pod"}), "v1", "events.k8s.io/v1").is_err());
        assert!(convert(core_event(), "v1", "events.k8s.io/v1beta1").is_err());
        assert!(convert(
            json!({"kind": "Deployment"}),
            "autoscaling/v2",
            "autoscaling/v1"
        )
        .is_err());
    }
}
