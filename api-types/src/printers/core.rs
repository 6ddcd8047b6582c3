//! Namespaces, Nodes, Events (core/v1 and events.k8s.io/v1), ConfigMaps, Secrets,
//! ServiceAccounts and ResourceQuotas.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::cells::*;
use super::{age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer};
use crate::convert;

fn namespace_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(s(obj, "/status/phase")),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn namespace_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Status", "string", "The status of the namespace"),
        age_col(),
    ]
}

pub(super) const NAMESPACE: Printer = Printer {
    columns: namespace_columns,
    row: namespace_row,
};

fn node_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let or_unknown = |v: &str| {
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v.to_string()
        }
    };
    vec![
        name_cell(obj),
        json!(node_status(obj)),
        json!(none_if_empty(node_roles(obj).join(","))),
        age_cell(obj, now),
        json!(s(obj, "/status/nodeInfo/kubeletVersion")),
        json!(node_address(obj, "InternalIP")),
        json!(node_address(obj, "ExternalIP")),
        json!(or_unknown(s(obj, "/status/nodeInfo/osImage"))),
        json!(or_unknown(s(obj, "/status/nodeInfo/kernelVersion"))),
        json!(or_unknown(s(
            obj,
            "/status/nodeInfo/containerRuntimeVersion"
        ))),
    ]
}

#[rustfmt::skip]
fn node_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Status", "string", "The status of the node"),
        col("Roles", "string", "The roles of the node"),
        age_col(),
        col("Version", "string", doc::NODE_KUBELET_VERSION),
        wide("Internal-IP", "string", doc::NODE_ADDRESSES),
        wide("External-IP", "string", doc::NODE_ADDRESSES),
        wide("OS-Image", "string", doc::NODE_OS_IMAGE),
        wide("Kernel-Version", "string", doc::NODE_KERNEL),
        wide("Container-Runtime", "string", doc::NODE_RUNTIME),
    ]
}

pub(super) const NODE: Printer = Printer {
    columns: node_columns,
    row: node_row,
};

#[rustfmt::skip]
fn event_columns() -> Vec<Column> {
    vec![
        col("Last Seen", "string", doc::EV_LAST),
        col("Type", "string", doc::EV_TYPE),
        col("Reason", "string", doc::EV_REASON),
        col("Object", "string", doc::EV_OBJECT),
        wide("Subobject", "string", doc::EV_FIELD_PATH),
        wide("Source", "string", doc::EV_SOURCE),
        col("Message", "string", doc::EV_MESSAGE),
        wide("First Seen", "string", doc::EV_FIRST),
        wide("Count", "string", doc::EV_COUNT),
        Column {
            format: "name",
            ..wide("Name", "string", doc::NAME)
        },
    ]
}

pub(super) const EVENT: Printer = Printer {
    columns: event_columns,
    row: event_row,
};

fn config_map_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(len(obj, "/data") + len(obj, "/binaryData")),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn config_map_columns() -> Vec<Column> {
    vec![name_col(), col("Data", "string", doc::CM_DATA), age_col()]
}

pub(super) const CONFIG_MAP: Printer = Printer {
    columns: config_map_columns,
    row: config_map_row,
};

fn secret_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(s(obj, "/type")),
        json!(len(obj, "/data")),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn secret_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Type", "string", doc::SECRET_TYPE),
        col("Data", "string", doc::SECRET_DATA),
        age_col(),
    ]
}

pub(super) const SECRET: Printer = Printer {
    columns: secret_columns,
    row: secret_row,
};

fn service_account_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(len(obj, "/secrets")),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn service_account_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Secrets", "string", doc::SA_SECRETS),
        age_col(),
    ]
}

pub(super) const SERVICE_ACCOUNT: Printer = Printer {
    columns: service_account_columns,
    row: service_account_row,
};

fn resource_quota_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (requests, limits) = quota_columns(obj);
    vec![
        name_cell(obj),
        json!(requests),
        json!(limits),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn resource_quota_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
        col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
        age_col(),
    ]
}

pub(super) const RESOURCE_QUOTA: Printer = Printer {
    columns: resource_quota_columns,
    row: resource_quota_row,
};

fn node_status(node: &Value) -> String {
    let mut status: Vec<String> = Vec::new();
    // Only the last Ready condition counts, as upstream keeps the last one per type.
    if let Some(c) = list(node, "/status/conditions")
        .iter()
        .rev()
        .find(|c| s(c, "/type") == "Ready")
    {
        status.push(if s(c, "/status") == "True" {
            "Ready".into()
        } else {
            "NotReady".into()
        });
    }
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    status.join(",")
}

fn node_roles(node: &Value) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = node.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                if let Some(v) = v.as_str().filter(|v| !v.is_empty()) {
                    roles.push(v.to_string());
                }
            }
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

fn node_address(node: &Value, ty: &str) -> String {
    list(node, "/status/addresses")
        .iter()
        .find(|a| s(a, "/type") == ty)
        .map(|a| s(a, "/address").to_string())
        .unwrap_or_else(|| "<none>".into())
}

fn quota_columns(quota: &Value) -> (String, String) {
    let Some(hard) = quota.pointer("/status/hard").and_then(Value::as_object) else {
        return (String::new(), String::new());
    };
    let mut names: Vec<&String> = hard.keys().collect();
    names.sort();
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    for name in names {
        let used = quantity(
            quota
                .pointer("/status/used")
                .and_then(|u| u.get(name.as_str())),
        );
        let entry = format!("{name}: {used}/{}", quantity(hard.get(name.as_str())));
        let pieces: Vec<&str> = name.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    (requests.join(", "), limits.join(", "))
}

fn is_events_v1(obj: &Value) -> bool {
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some(v) => v == "events.k8s.io/v1",
        None => obj.get("involvedObject").is_none() && obj.get("regarding").is_some(),
    }
}

fn event_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let core;
    let ev = if is_events_v1(obj) {
        core = convert::events_v1_to_core_event(obj);
        &core
    } else {
        obj
    };
    let first = match ts(ev, "/firstTimestamp") {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => translate_timestamp_since(ts(ev, "/eventTime"), now),
    };
    let mut last = match ts(ev, "/lastTimestamp") {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => first.clone(),
    };
    let mut count = n(ev, "/count").unwrap_or(0);
    if let Some(series) = obj_at(ev, "/series") {
        last = translate_timestamp_since(ts(series, "/lastObservedTime"), now);
        count = n(series, "/count").unwrap_or(0);
    } else if count == 0 {
        // Singleton events don't have a count set in the new API.
        count = 1;
    }
    let kind = s(ev, "/involvedObject/kind").to_lowercase();
    let target = match s(ev, "/involvedObject/name") {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let first_non_empty = |a: &str, b: &str| if a.is_empty() { b } else { a }.to_string();
    let component = first_non_empty(s(ev, "/source/component"), s(ev, "/reportingComponent"));
    let host = first_non_empty(s(ev, "/source/host"), s(ev, "/reportingInstance"));
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    vec![
        json!(last),
        json!(s(ev, "/type")),
        json!(s(ev, "/reason")),
        json!(target),
        json!(s(ev, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(ev, "/message").trim()),
        json!(first),
        json!(count),
        json!(s(ev, "/metadata/name")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testing::*;
    use crate::printers::{columns, row};

    #[test]
    fn core_columns_match_upstream() {
        assert_eq!(
            names(&columns("", "services")),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
        assert_eq!(names(&columns("", "namespaces")), ["Name", "Status", "Age"]);
        assert_eq!(names(&columns("", "configmaps")), ["Name", "Data", "Age"]);
        assert_eq!(
            names(&columns("", "secrets")),
            ["Name", "Type", "Data", "Age"]
        );
        assert_eq!(
            names(&columns("coordination.k8s.io", "leases")),
            ["Name", "Holder", "Age"]
        );
        let nodes = columns("", "nodes");
        assert_eq!(
            names(&nodes),
            [
                "Name",
                "Status",
                "Roles",
                "Age",
                "Version",
                "Internal-IP",
                "External-IP",
                "OS-Image",
                "Kernel-Version",
                "Container-Runtime"
            ]
        );
        assert_eq!(wide_names(&nodes).len(), 5);
    }

    #[test]
    fn event_columns_match_upstream_in_both_groups() {
        let cols = columns("", "events");
        assert_eq!(
            names(&cols),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        assert_eq!(
            wide_names(&cols),
            ["Subobject", "Source", "First Seen", "Count", "Name"]
        );
        assert_eq!(cols[9].format, "name");
        assert_eq!(columns("events.k8s.io", "events"), cols);
    }

    fn node(conditions: Value) -> Value {
        json!({
            "metadata": {"name": "node-1", "creationTimestamp": ago(86400 * 10),
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master",
                           "node-role.kubernetes.io/": "x", "kubernetes.io/hostname": "node-1"}},
            "status": {"conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node-1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                             "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.0"}},
        })
    }

    #[test]
    fn ready_node_row() {
        let n = node(
            json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]),
        );
        assert_eq!(
            row("", "nodes", &n, now()),
            vec![
                json!("node-1"),
                json!("Ready"),
                json!("control-plane,master"),
                json!("10d"),
                json!("v1.33.1"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("6.1.0"),
                json!("containerd://1.7.0"),
            ]
        );
    }

    #[test]
    fn node_statuses() {
        let mut n = node(json!([{"type": "Ready", "status": "Unknown"}]));
        n["spec"] = json!({"unschedulable": true});
        assert_eq!(
            cell("", "nodes", &n, "Status"),
            "NotReady,SchedulingDisabled"
        );
        let bare = json!({"metadata": {"name": "n"}});
        let r = row("", "nodes", &bare, now());
        assert_eq!(&r[1..3], &[json!("Unknown"), json!("<none>")]);
        assert_eq!(r[7], "<unknown>");
    }

    #[test]
    fn namespace_configmap_secret_serviceaccount_lease_rows() {
        let ns = json!({"metadata": {"name": "default", "creationTimestamp": ago(300)}, "status": {"phase": "Active"}});
        assert_eq!(
            row("", "namespaces", &ns, now()),
            vec![json!("default"), json!("Active"), json!("5m")]
        );
        let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cell("", "configmaps", &cm, "Data"), 3);
        let secret = json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"u": "eA==", "p": "eQ=="}});
        let r = row("", "secrets", &secret, now());
        assert_eq!(&r[1..3], &[json!("Opaque"), json!(2)]);
        let sa = json!({"metadata": {"name": "default"}, "secrets": [{"name": "t"}]});
        assert_eq!(cell("", "serviceaccounts", &sa, "Secrets"), 1);
        let lease = json!({"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "node-1_abc"}});
        assert_eq!(
            cell("coordination.k8s.io", "leases", &lease, "Holder"),
            "node-1_abc"
        );
        let free = json!({"metadata": {"name": "l"}, "spec": {}});
        assert_eq!(cell("coordination.k8s.io", "leases", &free, "Holder"), "");
    }

    #[test]
    fn resource_quota_splits_requests_and_limits() {
        let q = json!({"metadata": {"name": "q"}, "status": {
            "hard": {"requests.cpu": "1000m", "pods": "10", "limits.cpu": "2", "limits.memory": "2048Mi"},
            "used": {"requests.cpu": "500m", "pods": "1", "limits.cpu": "1"}}});
        let r = row("", "resourcequotas", &q, now());
        assert_eq!(r[1], "pods: 1/10, requests.cpu: 500m/1");
        assert_eq!(r[2], "limits.cpu: 1/2, limits.memory: 0/2Gi");
    }

    fn core_event() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-0.17c", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
            "reason": "Pulled",
            "message": "  Container image \"nginx\" already present on machine\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": ago(600),
            "lastTimestamp": ago(90),
            "count": 4,
            "type": "Normal",
        })
    }

    #[test]
    fn core_event_row() {
        assert_eq!(
            row("", "events", &core_event(), now()),
            vec![
                json!("90s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Container image \"nginx\" already present on machine"),
                json!("10m"),
                json!(4),
                json!("web-0.17c"),
            ]
        );
    }

    #[test]
    fn events_k8s_io_event_prints_like_its_core_form() {
        let core = core_event();
        let ev = convert::core_event_to_events_v1(&core);
        assert_eq!(
            row("events.k8s.io", "events", &ev, now()),
            row("", "events", &core, now())
        );
    }

    #[test]
    fn new_style_event_uses_event_time_series_and_reporting_controller() {
        let ev = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "x"},
            "eventTime": format!("{}", ago(300)),
            "reportingController": "example.com/ctrl",
            "reason": "Synced", "regarding": {"kind": "Deployment", "name": "web"},
            "note": "ok", "type": "Normal",
        });
        let r = row("events.k8s.io", "events", &ev, now());
        assert_eq!(
            &r[..4],
            &[
                json!("5m"),
                json!("Normal"),
                json!("Synced"),
                json!("deployment/web")
            ]
        );
        assert_eq!(
            &r[5..9],
            &[
                json!("example.com/ctrl"),
                json!("ok"),
                json!("5m"),
                json!(1)
            ]
        );
        let mut series = ev.clone();
        series["series"] = json!({"count": 12, "lastObservedTime": ago(20)});
        let r = row("events.k8s.io", "events", &series, now());
        assert_eq!(r[0], "20s");
        assert_eq!(r[8], 12);
    }

    #[test]
    fn event_without_times_or_name() {
        let ev = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Node"}, "type": "Warning"});
        let r = row("", "events", &ev, now());
        assert_eq!(
            &r[..4],
            &[
                json!("<unknown>"),
                json!("Warning"),
                json!(""),
                json!("node")
            ]
        );
        assert_eq!(r[7], "<unknown>");
    }
}
