//! Workloads and what scales or protects them: Deployments, ReplicaSets, StatefulSets,
//! DaemonSets and ControllerRevisions (apps/v1), ReplicationControllers (core/v1),
//! PodDisruptionBudgets (policy/v1) and HorizontalPodAutoscalers (autoscaling).

use jiff::Timestamp;
use serde_json::{json, Value};

use super::cells::*;
use super::{
    age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer, CONTAINERS, IMAGES,
};
use crate::convert;

fn replication_controller_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
    vec![
        name_cell(obj),
        json!(n(obj, "/spec/replicas").unwrap_or(1)),
        json!(n(obj, "/status/replicas").unwrap_or(0)),
        json!(n(obj, "/status/readyReplicas").unwrap_or(0)),
        age_cell(obj, now),
        json!(names),
        json!(images),
        json!(format_labels(obj.pointer("/spec/selector"))),
    ]
}

#[rustfmt::skip]
fn replication_controller_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Desired", "integer", doc::RC_DESIRED),
        col("Current", "integer", doc::RC_CURRENT),
        col("Ready", "integer", doc::RC_READY),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
        wide("Selector", "string", doc::RC_SELECTOR),
    ]
}

pub(super) const REPLICATION_CONTROLLER: Printer = Printer {
    columns: replication_controller_columns,
    row: replication_controller_row,
};

fn replica_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
    vec![
        name_cell(obj),
        json!(n(obj, "/spec/replicas").unwrap_or(1)),
        json!(n(obj, "/status/replicas").unwrap_or(0)),
        json!(n(obj, "/status/readyReplicas").unwrap_or(0)),
        age_cell(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(obj.pointer("/spec/selector"))),
    ]
}

#[rustfmt::skip]
fn replica_set_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Desired", "integer", doc::RS_DESIRED),
        col("Current", "integer", doc::RS_CURRENT),
        col("Ready", "integer", doc::RS_READY),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
        wide("Selector", "string", doc::RS_SELECTOR),
    ]
}

pub(super) const REPLICA_SET: Printer = Printer {
    columns: replica_set_columns,
    row: replica_set_row,
};

fn daemon_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
    let st = |f: &str| json!(n(obj, &format!("/status/{f}")).unwrap_or(0));
    vec![
        name_cell(obj),
        st("desiredNumberScheduled"),
        st("currentNumberScheduled"),
        st("numberReady"),
        st("updatedNumberScheduled"),
        st("numberAvailable"),
        json!(format_labels(
            obj.pointer("/spec/template/spec/nodeSelector")
        )),
        age_cell(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(obj.pointer("/spec/selector"))),
    ]
}

#[rustfmt::skip]
fn daemon_set_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Desired", "integer", doc::DS_DESIRED),
        col("Current", "integer", doc::DS_CURRENT),
        col("Ready", "integer", doc::DS_READY),
        col("Up-to-date", "integer", doc::DS_UPDATED),
        col("Available", "integer", doc::DS_AVAILABLE),
        col("Node Selector", "string", doc::POD_NODE_SELECTOR),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
        wide("Selector", "string", doc::DS_SELECTOR),
    ]
}

pub(super) const DAEMON_SET: Printer = Printer {
    columns: daemon_set_columns,
    row: daemon_set_row,
};

fn stateful_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
    let ready = n(obj, "/status/readyReplicas").unwrap_or(0);
    let desired = n(obj, "/spec/replicas").unwrap_or(1);
    vec![
        name_cell(obj),
        json!(format!("{ready}/{desired}")),
        age_cell(obj, now),
        json!(names),
        json!(images),
    ]
}

#[rustfmt::skip]
fn stateful_set_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Ready", "string", "Number of the pod with ready state"),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
    ]
}

pub(super) const STATEFUL_SET: Printer = Printer {
    columns: stateful_set_columns,
    row: stateful_set_row,
};

fn deployment_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
    let ready = n(obj, "/status/readyReplicas").unwrap_or(0);
    let desired = n(obj, "/spec/replicas").unwrap_or(1);
    let selector =
        selector_string(obj.pointer("/spec/selector")).unwrap_or_else(|| "<invalid>".to_string());
    vec![
        name_cell(obj),
        json!(format!("{ready}/{desired}")),
        json!(n(obj, "/status/updatedReplicas").unwrap_or(0)),
        json!(n(obj, "/status/availableReplicas").unwrap_or(0)),
        age_cell(obj, now),
        json!(names),
        json!(images),
        json!(selector),
    ]
}

#[rustfmt::skip]
fn deployment_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Ready", "string", "Number of the pod with ready state"),
        col("Up-to-date", "string", doc::DEPLOY_UPDATED),
        col("Available", "string", doc::DEPLOY_AVAILABLE),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
        wide("Selector", "string", doc::DEPLOY_SELECTOR),
    ]
}

pub(super) const DEPLOYMENT: Printer = Printer {
    columns: deployment_columns,
    row: deployment_row,
};

fn controller_revision_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(controller_of(obj)),
        json!(n(obj, "/revision").unwrap_or(0)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn controller_revision_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Controller", "string", "Controller of the object"),
        col("Revision", "string", doc::CR_REVISION),
        age_col(),
    ]
}

pub(super) const CONTROLLER_REVISION: Printer = Printer {
    columns: controller_revision_columns,
    row: controller_revision_row,
};

fn pod_disruption_budget_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(int_or_string(obj.pointer("/spec/minAvailable")).unwrap_or("N/A".into())),
        json!(int_or_string(obj.pointer("/spec/maxUnavailable")).unwrap_or("N/A".into())),
        json!(n(obj, "/status/disruptionsAllowed").unwrap_or(0)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn pod_disruption_budget_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Min Available", "string", "The minimum number of pods that must be available."),
        col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
        col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
        age_col(),
    ]
}

pub(super) const POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: pod_disruption_budget_columns,
    row: pod_disruption_budget_row,
};

fn horizontal_pod_autoscaler_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let v2;
    let obj = if is_hpa_v1(obj) {
        v2 = convert::hpa_v1_to_v2(obj);
        &v2
    } else {
        obj
    };
    let reference = format!(
        "{}/{}",
        s(obj, "/spec/scaleTargetRef/kind"),
        s(obj, "/spec/scaleTargetRef/name")
    );
    let min = n(obj, "/spec/minReplicas")
        .map(|m| m.to_string())
        .unwrap_or_else(|| "<unset>".into());
    vec![
        name_cell(obj),
        json!(reference),
        json!(hpa_metrics(
            list(obj, "/spec/metrics"),
            list(obj, "/status/currentMetrics")
        )),
        json!(min),
        json!(n(obj, "/spec/maxReplicas").unwrap_or(0)),
        json!(n(obj, "/status/currentReplicas").unwrap_or(0)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn horizontal_pod_autoscaler_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Reference", "string", doc::HPA_REFERENCE),
        col("Targets", "string", doc::HPA_TARGETS),
        col("MinPods", "string", doc::HPA_MIN),
        col("MaxPods", "string", doc::HPA_MAX),
        col("Replicas", "string", doc::HPA_REPLICAS),
        age_col(),
    ]
}

pub(super) const HORIZONTAL_POD_AUTOSCALER: Printer = Printer {
    columns: horizontal_pod_autoscaler_columns,
    row: horizontal_pod_autoscaler_row,
};

fn controller_of(obj: &Value) -> String {
    let Some(owner) = list(obj, "/metadata/ownerReferences")
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
    else {
        return "<none>".into();
    };
    let (group, _) = crate::resources::split_api_version(s(owner, "/apiVersion"));
    let kind = s(owner, "/kind");
    let name = s(owner, "/name");
    if group.is_empty() && kind.is_empty() {
        return name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

fn is_hpa_v1(obj: &Value) -> bool {
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some(v) => v == "autoscaling/v1",
        None => obj
            .pointer("/spec/targetCPUUtilizationPercentage")
            .is_some(),
    }
}

/// A quantity pointer's text, `<nil>` when unset (Go's nil `*Quantity`).
fn q_ptr(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer).filter(|q| !q.is_null()) {
        Some(q) => quantity(Some(q)),
        None => "<nil>".into(),
    }
}

/// The TARGETS column: `current/target` per metric (`cpu: 45%/80%`, `500Mi/1Gi (avg)`),
/// at most two, then ` + N more...`; `<none>` without metrics.
fn hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 2;
    let mut items: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let cur = |key: &str| status.and_then(|st| obj_at(st, &format!("/{key}")));
        let item = match s(spec, "/type") {
            "External" | "Object" => {
                let key = if s(spec, "/type") == "External" {
                    "external"
                } else {
                    "object"
                };
                let src = obj_at(spec, &format!("/{key}")).unwrap_or(&Value::Null);
                let avg_target = src.pointer("/target/averageValue").filter(|v| !v.is_null());
                if avg_target.is_some() {
                    let current = cur(key)
                        .and_then(|c| c.pointer("/current/averageValue"))
                        .filter(|v| !v.is_null())
                        .map(|q| quantity(Some(q)))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{current}/{} (avg)", q_ptr(src, "/target/averageValue"))
                } else {
                    let current = cur(key)
                        .map(|c| q_ptr(c, "/current/value"))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{current}/{}", q_ptr(src, "/target/value"))
                }
            }
            "Pods" => {
                let src = obj_at(spec, "/pods").unwrap_or(&Value::Null);
                let current = cur("pods")
                    .map(|c| q_ptr(c, "/current/averageValue"))
                    .unwrap_or_else(|| "<unknown>".into());
                format!("{current}/{}", q_ptr(src, "/target/averageValue"))
            }
            "Resource" | "ContainerResource" => {
                let key = if s(spec, "/type") == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let src = obj_at(spec, &format!("/{key}")).unwrap_or(&Value::Null);
                let name = s(src, "/name");
                if src
                    .pointer("/target/averageValue")
                    .is_some_and(|v| !v.is_null())
                {
                    let current = cur(key)
                        .map(|c| q_ptr(c, "/current/averageValue"))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{name}: {current}/{}", q_ptr(src, "/target/averageValue"))
                } else {
                    let current = cur(key)
                        .and_then(|c| n(c, "/current/averageUtilization"))
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<unknown>".into());
                    let target = n(src, "/target/averageUtilization")
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<auto>".into());
                    format!("{name}: {current}/{target}")
                }
            }
            _ => "<unknown type>".into(),
        };
        items.push(item);
    }
    let count = items.len();
    if count > MAX {
        format!("{} + {} more...", items[..MAX].join(", "), count - MAX)
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testing::*;
    use crate::printers::{columns, row};

    #[test]
    fn workload_columns_match_upstream() {
        assert_eq!(
            names(&columns("apps", "deployments")),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            wide_names(&columns("apps", "deployments")),
            ["Containers", "Images", "Selector"]
        );
        assert_eq!(
            names(&columns("apps", "replicasets")),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            names(&columns("apps", "statefulsets")),
            ["Name", "Ready", "Age", "Containers", "Images"]
        );
        assert_eq!(
            names(&columns("apps", "daemonsets")),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            names(&columns("batch", "jobs")),
            [
                "Name",
                "Status",
                "Completions",
                "Duration",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            names(&columns("batch", "cronjobs")),
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
    }

    #[test]
    fn hpa_columns_are_the_same_for_v1_and_v2() {
        assert_eq!(
            names(&columns("autoscaling", "horizontalpodautoscalers")),
            [
                "Name",
                "Reference",
                "Targets",
                "MinPods",
                "MaxPods",
                "Replicas",
                "Age"
            ]
        );
    }

    #[test]
    fn deployment_row() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(90)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "fe"}},
                     "template": template(&[("nginx", "nginx:1.25"), ("log", "busybox")])},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        });
        assert_eq!(
            row("apps", "deployments", &d, now()),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("90s"),
                json!("nginx,log"),
                json!("nginx:1.25,busybox"),
                json!("app=web,tier=fe"),
            ]
        );
    }

    #[test]
    fn deployment_defaults_to_one_replica_and_empty_selector() {
        let d = json!({"metadata": {"name": "web"}, "spec": {}});
        let r = row("apps", "deployments", &d, now());
        assert_eq!(r[1], "0/1");
        assert_eq!(r[7], "");
    }

    #[test]
    fn replica_set_row_formats_set_based_selectors() {
        let rs = json!({
            "metadata": {"name": "web-5d9"},
            "spec": {"replicas": 2, "template": template(&[("a", "a:1")]),
                "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                    {"key": "env", "operator": "NotIn", "values": ["dev"]},
                    {"key": "canary", "operator": "Exists"}]}},
            "status": {"replicas": 2, "readyReplicas": 1},
        });
        let r = row("apps", "replicasets", &rs, now());
        assert_eq!(&r[1..4], &[json!(2), json!(2), json!(1)]);
        assert_eq!(
            r[7],
            "app=web,canary,env notin (dev),!legacy,tier in (be,fe)"
        );
    }

    #[test]
    fn statefulset_and_replication_controller_rows() {
        let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3,
            "template": template(&[("pg", "postgres:16")])}, "status": {"readyReplicas": 1}});
        let r = row("apps", "statefulsets", &sts, now());
        assert_eq!(r[1], "1/3");
        assert_eq!(r[4], "postgres:16");
        let rc = json!({"metadata": {"name": "rc"}, "spec": {"replicas": 2, "selector": {"app": "x"},
            "template": template(&[("c", "i")])}, "status": {"replicas": 2, "readyReplicas": 2}});
        let r = row("", "replicationcontrollers", &rc, now());
        assert_eq!(&r[1..4], &[json!(2), json!(2), json!(2)]);
        assert_eq!(r[7], "app=x");
    }

    #[test]
    fn daemonset_row() {
        let mut t = template(&[("agent", "agent:2")]);
        t["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
        let ds = json!({"metadata": {"name": "agent"}, "spec": {"template": t,
            "selector": {"matchLabels": {"app": "agent"}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                "updatedNumberScheduled": 3, "numberAvailable": 2}});
        let r = row("apps", "daemonsets", &ds, now());
        assert_eq!(
            &r[1..6],
            &[json!(3), json!(3), json!(2), json!(3), json!(2)]
        );
        assert_eq!(r[6], "kubernetes.io/os=linux");
        assert_eq!(r[10], "app=agent");
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(cell("apps", "daemonsets", &bare, "Node Selector"), "<none>");
    }

    #[test]
    fn pdb_row() {
        let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 2},
            "status": {"disruptionsAllowed": 1}});
        let r = row("policy", "poddisruptionbudgets", &pdb, now());
        assert_eq!(&r[1..4], &[json!("2"), json!("N/A"), json!(1)]);
        let pct = json!({"metadata": {"name": "web"}, "spec": {"maxUnavailable": "25%"}});
        let r = row("policy", "poddisruptionbudgets", &pct, now());
        assert_eq!(&r[1..4], &[json!("N/A"), json!("25%"), json!(0)]);
    }

    #[test]
    fn controller_revision_names_its_owner() {
        let cr = json!({"metadata": {"name": "agent-7c", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "controller": true}]},
            "revision": 3});
        let r = row("apps", "controllerrevisions", &cr, now());
        assert_eq!(&r[1..3], &[json!("daemonset.apps/agent"), json!(3)]);
        let orphan = json!({"metadata": {"name": "x"}, "revision": 1});
        assert_eq!(
            cell("apps", "controllerrevisions", &orphan, "Controller"),
            "<none>"
        );
    }

    fn hpa_v2(metrics: Value, current: Value) -> Value {
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "creationTimestamp": ago(3 * 3600)},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 10, "metrics": metrics},
            "status": {"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": current},
        })
    }

    fn cpu_util(pct: i64) -> Value {
        json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}})
    }

    #[test]
    fn hpa_row_with_cpu_target() {
        let h = hpa_v2(
            json!([cpu_util(80)]),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45, "averageValue": "90m"}}}]),
        );
        assert_eq!(
            row("autoscaling", "horizontalpodautoscalers", &h, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 45%/80%"),
                json!("1"),
                json!(10),
                json!(3),
                json!("3h")
            ]
        );
    }

    #[test]
    fn hpa_targets_for_each_metric_type() {
        let h = hpa_v2(
            json!([
                cpu_util(80),
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
            ]),
            json!([]),
        );
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &h, "Targets"),
            "cpu: <unknown>/80%, memory: <unknown>/1Gi"
        );
        let h = hpa_v2(
            json!([
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
                {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "Object", "object": {"metric": {"name": "rps"}, "describedObject": {"kind": "Ingress", "name": "i"},
                    "target": {"type": "Value", "value": "2k"}}},
            ]),
            json!([
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "900"}}},
                {"type": "External", "external": {"metric": {"name": "q"}, "current": {"averageValue": "12"}}},
            ]),
        );
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &h, "Targets"),
            "900/1k, 12/30 (avg) + 1 more..."
        );
        let none = hpa_v2(json!([]), json!([]));
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &none, "Targets"),
            "<none>"
        );
        let container = hpa_v2(
            json!([{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                "target": {"type": "Utilization"}}}]),
            json!([]),
        );
        assert_eq!(
            cell(
                "autoscaling",
                "horizontalpodautoscalers",
                &container,
                "Targets"
            ),
            "cpu: <unknown>/<auto>"
        );
    }

    #[test]
    fn hpa_v1_object_prints_like_v2() {
        let v1 = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "creationTimestamp": ago(60)},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                     "targetCPUUtilizationPercentage": 50},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 20},
        });
        assert_eq!(
            row("autoscaling", "horizontalpodautoscalers", &v1, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 20%/50%"),
                json!("<unset>"),
                json!(5),
                json!(2),
                json!("60s")
            ]
        );
    }

    #[test]
    fn hpa_without_api_version_is_read_by_shape() {
        let v1 = json!({"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"},
            "maxReplicas": 2, "targetCPUUtilizationPercentage": 70}});
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &v1, "Targets"),
            "cpu: <unknown>/70%"
        );
        let v2 = json!({"metadata": {"name": "h"}, "spec": {"maxReplicas": 2}});
        assert_eq!(
            cell("autoscaling", "horizontalpodautoscalers", &v2, "Targets"),
            "<none>"
        );
    }
}
