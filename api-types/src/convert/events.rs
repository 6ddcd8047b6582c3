//! core/v1 ↔ events.k8s.io/v1 Events.
//!
//! Events map field for field (`involvedObject`↔`regarding`, `message`↔`note`,
//! `source`↔`deprecatedSource`, `firstTimestamp`↔`deprecatedFirstTimestamp`,
//! `lastTimestamp`↔`deprecatedLastTimestamp`, `count`↔`deprecatedCount`,
//! `reportingComponent`↔`reportingController`); only fields present in the input are written,
//! so a round trip returns the object unchanged.

use serde_json::Value;

use super::{carry, typed};

/// core/v1 field → events.k8s.io/v1 field, in events.k8s.io/v1 field order.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("metadata", "metadata"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("action", "action"),
    ("reason", "reason"),
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("message", "note"),
    ("type", "type"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// core/v1 field order, for the reverse direction.
const CORE_EVENT_ORDER: &[&str] = &[
    "metadata",
    "involvedObject",
    "reason",
    "message",
    "source",
    "firstTimestamp",
    "lastTimestamp",
    "count",
    "type",
    "eventTime",
    "series",
    "action",
    "related",
    "reportingComponent",
    "reportingInstance",
];

/// A core/v1 Event as an events.k8s.io/v1 Event.
pub fn core_event_to_events_v1(obj: &Value) -> Value {
    let mut out = typed("events.k8s.io/v1", "Event");
    for (core, events) in EVENT_FIELDS {
        carry(obj, core, &mut out, events);
    }
    Value::Object(out)
}

/// An events.k8s.io/v1 Event as a core/v1 Event.
pub fn events_v1_to_core_event(obj: &Value) -> Value {
    let mut out = typed("v1", "Event");
    for core in CORE_EVENT_ORDER {
        let events = EVENT_FIELDS
            .iter()
            .find(|(c, _)| c == core)
            .map(|(_, e)| *e)
            .unwrap_or(core);
        carry(obj, events, &mut out, core);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {

    use crate::convert::convert;
    use crate::convert::testing::*;
    use serde_json::json;

    #[test]
    fn core_event_maps_to_events_v1_fields() {
        let e = convert(core_event(), "v1", "events.k8s.io/v1").unwrap();
        assert_eq!(e["apiVersion"], "events.k8s.io/v1");
        assert_eq!(e["kind"], "Event");
        assert_eq!(e["metadata"]["name"], "web-1.17a");
        assert_eq!(e["regarding"]["name"], "web-1");
        assert_eq!(e["regarding"]["fieldPath"], "spec.containers{web}");
        assert_eq!(e["note"], "Successfully pulled image \"nginx\"");
        assert_eq!(e["deprecatedSource"]["component"], "kubelet");
        assert_eq!(e["deprecatedSource"]["host"], "node-1");
        assert_eq!(e["deprecatedFirstTimestamp"], "2024-05-01T10:00:00Z");
        assert_eq!(e["deprecatedLastTimestamp"], "2024-05-01T10:05:00Z");
        assert_eq!(e["deprecatedCount"], 3);
        assert_eq!(e["reportingController"], "kubelet");
        assert_eq!(e["reportingInstance"], "node-1");
        assert_eq!(e["reason"], "Pulled");
        assert_eq!(e["type"], "Normal");
        for core_only in [
            "involvedObject",
            "message",
            "source",
            "count",
            "reportingComponent",
        ] {
            assert!(e.get(core_only).is_none(), "{core_only} leaked");
        }
    }

    #[test]
    fn core_event_round_trips_unchanged() {
        let e = core_event();
        let there = convert(e.clone(), "v1", "events.k8s.io/v1").unwrap();
        let back = convert(there, "events.k8s.io/v1", "v1").unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn events_v1_event_with_series_round_trips_unchanged() {
        let e = json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "x.1", "namespace": "ns"},
            "eventTime": "2024-05-01T10:00:00.123456Z",
            "series": {"count": 7, "lastObservedTime": "2024-05-01T10:09:00.000000Z"},
            "reportingController": "example.com/ctrl",
            "reportingInstance": "ctrl-0",
            "action": "Reconcile",
            "reason": "Synced",
            "regarding": {"kind": "Deployment", "name": "web", "namespace": "ns"},
            "related": {"kind": "ReplicaSet", "name": "web-abc", "namespace": "ns"},
            "note": "synced",
            "type": "Normal",
        });
        let core = convert(e.clone(), "events.k8s.io/v1", "v1").unwrap();
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "web");
        assert_eq!(core["message"], "synced");
        assert_eq!(core["reportingComponent"], "example.com/ctrl");
        assert_eq!(core["series"]["count"], 7);
        assert_eq!(core["related"]["name"], "web-abc");
        assert_eq!(core["action"], "Reconcile");
        assert_eq!(core["eventTime"], "2024-05-01T10:00:00.123456Z");
        assert_eq!(convert(core, "v1", "events.k8s.io/v1").unwrap(), e);
    }

    #[test]
    fn event_lists_convert_each_item() {
        let list = json!({
            "apiVersion": "v1",
            "kind": "EventList",
            "metadata": {"resourceVersion": "9"},
            "items": [
                {"metadata": {"name": "a"}, "message": "one"},
                {"metadata": {"name": "b"}, "message": "two"},
            ],
        });
        let out = convert(list.clone(), "v1", "events.k8s.io/v1").unwrap();
        assert_eq!(out["apiVersion"], "events.k8s.io/v1");
        assert_eq!(out["kind"], "EventList");
        assert_eq!(out["items"][1]["note"], "two");
        assert!(out["items"][0].get("apiVersion").is_none());
        let back = convert(out, "events.k8s.io/v1", "v1").unwrap();
        assert_eq!(back, list);
    }
}
