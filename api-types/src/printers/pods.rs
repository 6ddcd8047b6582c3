//! Pods and PodTemplates (core/v1): the READY, STATUS and RESTARTS columns as kubectl computes them.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::cells::*;
use super::{
    age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer, CONTAINERS, IMAGES,
};

fn pod_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let p = pod_summary(obj, now);
    let or_none = |v: &str| none_if_empty(v.to_string());
    let ip = list(obj, "/status/podIPs")
        .first()
        .map(|ip| s(ip, "/ip"))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| s(obj, "/status/podIP"));
    vec![
        name_cell(obj),
        json!(p.ready),
        json!(p.status),
        json!(p.restarts),
        age_cell(obj, now),
        json!(or_none(ip)),
        json!(or_none(s(obj, "/spec/nodeName"))),
        json!(or_none(s(obj, "/status/nominatedNodeName"))),
        json!(readiness_gates(obj)),
    ]
}

#[rustfmt::skip]
fn pod_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        col("Status", "string", "The aggregate status of the containers in this pod."),
        col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        age_col(),
        wide("IP", "string", doc::POD_IP),
        wide("Node", "string", doc::POD_NODE),
        wide("Nominated Node", "string", doc::POD_NOMINATED),
        wide("Readiness Gates", "string", doc::POD_READINESS_GATES),
    ]
}

pub(super) const POD: Printer = Printer {
    columns: pod_columns,
    row: pod_row,
};

fn pod_template_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/template/spec/containers"));
    vec![
        name_cell(obj),
        json!(names),
        json!(images),
        json!(format_labels(obj.pointer("/template/metadata/labels"))),
    ]
}

#[rustfmt::skip]
fn pod_template_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Containers", "string", CONTAINERS),
        col("Images", "string", IMAGES),
        col("Pod Labels", "string", "The labels for the pod template."),
    ]
}

pub(super) const POD_TEMPLATE: Printer = Printer {
    columns: pod_template_columns,
    row: pod_template_row,
};

struct PodSummary {
    ready: String,
    status: String,
    restarts: String,
}

/// The STATUS column of `kubectl get pods`: the pod's phase or reason, refined by its
/// containers' states (`Init:1/2`, `Init:CrashLoopBackOff`, `ContainerCreating`,
/// `CrashLoopBackOff`, `Completed`, `Error`, `OOMKilled`, `ExitCode:1`, `Signal:9`,
/// `NotReady`, `SchedulingGated`), `Terminating` once deleted, `Unknown` for a deleted pod
/// on a lost node.
pub fn pod_status(pod: &Value) -> String {
    pod_summary(pod, Timestamp::UNIX_EPOCH).status
}

/// The READY column of `kubectl get pods`: ready containers / containers (restartable init
/// containers, i.e. sidecars, count as containers).
pub fn pod_ready(pod: &Value) -> String {
    pod_summary(pod, Timestamp::UNIX_EPOCH).ready
}

fn later(cur: Option<Timestamp>, t: Option<Timestamp>) -> Option<Timestamp> {
    match (cur, t) {
        (Some(c), Some(t)) if c < t => Some(t),
        (None, Some(t)) => Some(t),
        (c, _) => c,
    }
}

fn pod_summary(pod: &Value, now: Timestamp) -> PodSummary {
    let init_specs = list(pod, "/spec/initContainers");
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| s(c, "/name") == name && s(c, "/restartPolicy") == "Always")
    };
    let total = list(pod, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| s(c, "/restartPolicy") == "Always")
            .count();
    let phase = s(pod, "/status/phase");
    let mut reason = str_or(pod, "/status/reason", phase).to_string();
    let conditions = list(pod, "/status/conditions");
    if conditions
        .iter()
        .any(|c| s(c, "/type") == "PodScheduled" && s(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let mut initializing = false;
    let init_statuses = list(pod, "/status/initContainerStatuses");
    for (i, c) in init_statuses.iter().enumerate() {
        let count = n(c, "/restartCount").unwrap_or(0);
        let finished = ts(c, "/lastState/terminated/finishedAt");
        restarts += count;
        last_restart = later(last_restart, finished);
        let sidecar = is_sidecar(s(c, "/name"));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let terminated = obj_at(c, "/state/terminated");
        let waiting_reason = obj_at(c, "/state/waiting").map(|w| s(w, "/reason"));
        if terminated.is_some_and(|t| n(t, "/exitCode").unwrap_or(0) == 0) {
            continue;
        }
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match s(t, "/reason") {
                "" => match n(t, "/signal").unwrap_or(0) {
                    0 => format!("Init:ExitCode:{}", n(t, "/exitCode").unwrap_or(0)),
                    sig => format!("Init:Signal:{sig}"),
                },
                r => format!("Init:{r}"),
            };
        } else if let Some(w) = waiting_reason.filter(|w| !w.is_empty() && *w != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .find(|c| s(c, "/type") == "Initialized")
        .is_some_and(|c| s(c, "/status") == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in list(pod, "/status/containerStatuses").iter().rev() {
            restarts += n(c, "/restartCount").unwrap_or(0);
            last_restart = later(last_restart, ts(c, "/lastState/terminated/finishedAt"));
            let waiting = obj_at(c, "/state/waiting");
            let terminated = obj_at(c, "/state/terminated");
            if let Some(w) = waiting.filter(|w| !s(w, "/reason").is_empty()) {
                reason = s(w, "/reason").to_string();
            } else if let Some(t) = terminated {
                reason = match s(t, "/reason") {
                    "" => match n(t, "/signal").unwrap_or(0) {
                        0 => format!("ExitCode:{}", n(t, "/exitCode").unwrap_or(0)),
                        sig => format!("Signal:{sig}"),
                    },
                    r => r.to_string(),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && obj_at(c, "/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }

    if deleting(pod) && s(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting(pod) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }

    let restarts = match last_restart {
        Some(t) if restarts != 0 => {
            format!(
                "{restarts} ({} ago)",
                translate_timestamp_since(Some(t), now)
            )
        }
        _ => restarts.to_string(),
    };
    PodSummary {
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
    }
}

fn readiness_gates(pod: &Value) -> String {
    let gates = list(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".into();
    }
    let conditions = list(pod, "/status/conditions");
    let true_count = gates
        .iter()
        .filter(|g| {
            conditions
                .iter()
                .find(|c| s(c, "/type") == s(g, "/conditionType"))
                .is_some_and(|c| s(c, "/status") == "True")
        })
        .count();
    format!("{true_count}/{}", gates.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testing::*;
    use crate::printers::{columns, row};

    #[test]
    fn pod_columns_match_upstream() {
        let cols = columns("", "pods");
        assert_eq!(
            names(&cols),
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        assert_eq!(
            wide_names(&cols),
            ["IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        assert_eq!(cols[0].format, "name");
        assert!(cols[0]
            .description
            .starts_with("Name must be unique within a namespace."));
        assert!(cols.iter().all(|c| c.type_ == "string"));
    }

    fn running(name: &str, ready: bool, restarts: i64) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts,
               "state": {"running": {"startedAt": ago(600)}}})
    }

    fn pod(containers: &[&str], status: Value) -> Value {
        let cs: Vec<Value> = containers
            .iter()
            .map(|c| json!({"name": c, "image": format!("{c}:1")}))
            .collect();
        json!({
            "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": ago(3600)},
            "spec": {"containers": cs, "nodeName": "node-1"},
            "status": status,
        })
    }

    #[test]
    fn pod_with_one_of_two_containers_ready() {
        let p = pod(
            &["app", "sidecar"],
            json!({"phase": "Running", "containerStatuses": [
                running("app", true, 0), running("sidecar", false, 0)]}),
        );
        let r = row("", "pods", &p, now());
        assert_eq!(r[0], "web-0");
        assert_eq!(r[1], "1/2");
        assert_eq!(r[2], "Running");
        assert_eq!(r[3], "0");
        assert_eq!(r[4], "60m");
        assert_eq!(pod_ready(&p), "1/2");
    }

    #[test]
    fn deleted_pod_is_terminating() {
        let mut p = pod(
            &["app"],
            json!({"phase": "Running", "containerStatuses": [running("app", true, 0)]}),
        );
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(pod_status(&p), "Terminating");
    }

    #[test]
    fn deleted_completed_pod_keeps_its_status() {
        let mut p = pod(
            &["app"],
            json!({"phase": "Succeeded", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}),
        );
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(pod_status(&p), "Completed");
        assert_eq!(pod_ready(&p), "0/1");
    }

    #[test]
    fn deleted_pod_on_lost_node_is_unknown() {
        let mut p = pod(&["app"], json!({"phase": "Running", "reason": "NodeLost"}));
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(pod_status(&p), "Unknown");
    }

    #[test]
    fn pending_pod_without_statuses() {
        let p = pod(&["app"], json!({"phase": "Pending"}));
        let r = row("", "pods", &p, now());
        assert_eq!(r[1], "0/1");
        assert_eq!(r[2], "Pending");
        assert_eq!(r[3], "0");
    }

    #[test]
    fn waiting_container_reason_is_the_status() {
        let p = pod(
            &["app"],
            json!({"phase": "Pending", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
        );
        assert_eq!(pod_status(&p), "ContainerCreating");
    }

    #[test]
    fn crash_looping_pod_shows_restarts_and_when() {
        let p = pod(
            &["app"],
            json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(300)}}}]}),
        );
        let r = row("", "pods", &p, now());
        assert_eq!(r[2], "CrashLoopBackOff");
        assert_eq!(r[3], "4 (5m ago)");
    }

    #[test]
    fn restarts_without_a_termination_time_are_just_the_count() {
        let p = pod(
            &["app"],
            json!({"phase": "Running", "containerStatuses": [running("app", true, 2)]}),
        );
        assert_eq!(cell("", "pods", &p, "Restarts"), "2");
    }

    #[test]
    fn terminated_container_without_reason_shows_exit_code_or_signal() {
        let term = |t: Value| {
            pod(
                &["app"],
                json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false,
                    "restartCount": 0, "state": {"terminated": t}}]}),
            )
        };
        assert_eq!(pod_status(&term(json!({"exitCode": 137}))), "ExitCode:137");
        assert_eq!(
            pod_status(&term(json!({"exitCode": 0, "signal": 9}))),
            "Signal:9"
        );
        assert_eq!(
            pod_status(&term(json!({"exitCode": 137, "reason": "OOMKilled"}))),
            "OOMKilled"
        );
    }

    #[test]
    fn first_container_reason_wins() {
        let p = pod(
            &["a", "b"],
            json!({"phase": "Pending", "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                {"name": "b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}},
            ]}),
        );
        assert_eq!(pod_status(&p), "ImagePullBackOff");
    }

    fn init_pod(init_statuses: Value) -> Value {
        json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Pending", "initContainerStatuses": init_statuses,
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}}}]},
        })
    }

    #[test]
    fn evicted_pod_shows_its_reason() {
        let p = pod(&["app"], json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(pod_status(&p), "Evicted");
    }

    #[test]
    fn init_container_progress() {
        let p = init_pod(json!([
            {"name": "i1", "ready": false, "restartCount": 0, "state": {"running": {}}},
            {"name": "i2", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}},
        ]));
        assert_eq!(pod_status(&p), "Init:0/2");
        let p = init_pod(json!([
            {"name": "i1", "ready": true, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "i2", "ready": false, "restartCount": 0, "state": {"running": {}}},
        ]));
        assert_eq!(pod_status(&p), "Init:1/2");
        assert_eq!(pod_ready(&p), "0/1");
    }

    #[test]
    fn failing_init_containers() {
        let p = init_pod(json!([
            {"name": "i1", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}}},
        ]));
        assert_eq!(pod_status(&p), "Init:CrashLoopBackOff");
        assert_eq!(cell("", "pods", &p, "Restarts"), "3 (90s ago)");
        let term = |t: Value| {
            init_pod(
                json!([{"name": "i1", "ready": false, "restartCount": 0, "state": {"terminated": t}}]),
            )
        };
        assert_eq!(
            pod_status(&term(json!({"exitCode": 1, "reason": "Error"}))),
            "Init:Error"
        );
        assert_eq!(pod_status(&term(json!({"exitCode": 2}))), "Init:ExitCode:2");
        assert_eq!(
            pod_status(&term(json!({"exitCode": 2, "signal": 15}))),
            "Init:Signal:15"
        );
    }

    #[test]
    fn sidecar_init_containers_count_as_containers() {
        let p = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                     "containers": [{"name": "app"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                    "state": {"running": {}}}],
                "containerStatuses": [running("app", true, 0)]},
        });
        let r = row("", "pods", &p, now());
        assert_eq!(r[1], "2/2");
        assert_eq!(r[2], "Running");
        assert_eq!(r[3], "1");
    }

    #[test]
    fn completed_pod_with_a_running_container_is_running_or_not_ready() {
        let status = |ready: &str| {
            json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": ready}],
            "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                running("b", true, 0),
            ]})
        };
        assert_eq!(pod_status(&pod(&["a", "b"], status("True"))), "Running");
        assert_eq!(pod_status(&pod(&["a", "b"], status("False"))), "NotReady");
    }

    #[test]
    fn scheduling_gated_pod() {
        let p = pod(
            &["app"],
            json!({"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
        );
        assert_eq!(pod_status(&p), "SchedulingGated");
    }

    #[test]
    fn pod_wide_columns() {
        let mut p = pod(
            &["app"],
            json!({"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}],
                "conditions": [{"type": "example.com/ready", "status": "True"}],
                "containerStatuses": [running("app", true, 0)]}),
        );
        p["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/ready"}, {"conditionType": "example.com/other"}]);
        let r = row("", "pods", &p, now());
        assert_eq!(r[5], "10.0.0.9");
        assert_eq!(r[6], "node-1");
        assert_eq!(r[7], "<none>");
        assert_eq!(r[8], "1/2");
        let bare = json!({"metadata": {"name": "p"}});
        let r = row("", "pods", &bare, now());
        assert_eq!(
            &r[5..],
            &[
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let only_pod_ip = pod(&["app"], json!({"podIP": "10.1.1.1"}));
        assert_eq!(cell("", "pods", &only_pod_ip, "IP"), "10.1.1.1");
    }

    #[test]
    fn pod_template_row() {
        let pt = json!({"metadata": {"name": "t"}, "template": template(&[("a", "img")])});
        assert_eq!(
            row("", "podtemplates", &pt, now()),
            vec![json!("t"), json!("a"), json!("img"), json!("app=web")]
        );
    }
}
