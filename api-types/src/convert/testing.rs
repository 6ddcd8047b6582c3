//! Helpers the conversion tests share.

use serde_json::{json, Value};

pub(super) fn core_event() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web-1.17a", "namespace": "default", "resourceVersion": "42"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "u1",
                           "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
        "reason": "Pulled",
        "message": "Successfully pulled image \"nginx\"",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:00Z",
        "lastTimestamp": "2024-05-01T10:05:00Z",
        "count": 3,
        "type": "Normal",
        "eventTime": null,
        "reportingComponent": "kubelet",
        "reportingInstance": "node-1",
    })
}
