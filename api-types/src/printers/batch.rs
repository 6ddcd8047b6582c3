//! Jobs and CronJobs (batch/v1).

use jiff::Timestamp;
use serde_json::{json, Value};

use super::cells::*;
use super::{
    age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer, CONTAINERS, IMAGES,
};

fn job_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/template/spec/containers"));
    vec![
        name_cell(obj),
        json!(job_status(obj)),
        json!(job_completions(obj)),
        json!(job_duration(obj, now)),
        age_cell(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(obj.pointer("/spec/selector"))),
    ]
}

#[rustfmt::skip]
fn job_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Status", "string", "Status of the job."),
        col("Completions", "string", doc::JOB_SUCCEEDED),
        col("Duration", "string", "Time required to complete the job."),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
        wide("Selector", "string", doc::JOB_SELECTOR),
    ]
}

pub(super) const JOB: Printer = Printer {
    columns: job_columns,
    row: job_row,
};

fn cron_job_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(list(obj, "/spec/jobTemplate/spec/template/spec/containers"));
    let last = match ts(obj, "/status/lastScheduleTime") {
        Some(t) => translate_timestamp_since(Some(t), now),
        None => "<none>".to_string(),
    };
    let tz = obj
        .pointer("/spec/timeZone")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    vec![
        name_cell(obj),
        json!(s(obj, "/spec/schedule")),
        json!(tz),
        json!(bool_ptr(obj.pointer("/spec/suspend"))),
        json!(list(obj, "/status/active").len()),
        json!(last),
        age_cell(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(
            obj.pointer("/spec/jobTemplate/spec/selector")
        )),
    ]
}

#[rustfmt::skip]
fn cron_job_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Schedule", "string", doc::CJ_SCHEDULE),
        col("Timezone", "string", doc::CJ_TIMEZONE),
        col("Suspend", "boolean", doc::CJ_SUSPEND),
        col("Active", "integer", doc::CJ_ACTIVE),
        col("Last Schedule", "string", doc::CJ_LAST_SCHEDULE),
        age_col(),
        wide("Containers", "string", CONTAINERS),
        wide("Images", "string", IMAGES),
        wide("Selector", "string", doc::JOB_SELECTOR),
    ]
}

pub(super) const CRON_JOB: Printer = Printer {
    columns: cron_job_columns,
    row: cron_job_row,
};

fn job_condition(job: &Value, ty: &str) -> bool {
    list(job, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == ty)
        .is_some_and(|c| s(c, "/status") == "True")
}

fn job_status(job: &Value) -> &'static str {
    if job_condition(job, "Complete") {
        "Complete"
    } else if job_condition(job, "Failed") {
        "Failed"
    } else if deleting(job) {
        "Terminating"
    } else if job_condition(job, "Suspended") {
        "Suspended"
    } else if job_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn job_completions(job: &Value) -> String {
    let succeeded = n(job, "/status/succeeded").unwrap_or(0);
    if let Some(c) = n(job, "/spec/completions") {
        return format!("{succeeded}/{c}");
    }
    match n(job, "/spec/parallelism").unwrap_or(0) {
        p if p > 1 => format!("{succeeded}/1 of {p}"),
        _ => format!("{succeeded}/1"),
    }
}

fn job_duration(job: &Value, now: Timestamp) -> String {
    match (
        ts(job, "/status/startTime"),
        ts(job, "/status/completionTime"),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(end)) => human_duration(end.duration_since(start)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::row;
    use crate::printers::testing::*;

    fn job(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "pi", "creationTimestamp": ago(120)}, "spec": spec, "status": status})
    }

    #[test]
    fn completed_job() {
        let j = job(
            json!({"completions": 1, "template": template(&[("pi", "perl")])}),
            json!({"succeeded": 1, "startTime": ago(100), "completionTime": ago(75),
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                               {"type": "Complete", "status": "True"}]}),
        );
        let r = row("batch", "jobs", &j, now());
        assert_eq!(
            &r[..5],
            &[
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("25s"),
                json!("2m")
            ]
        );
    }

    #[test]
    fn running_job_duration_counts_to_now() {
        let j = job(
            json!({"parallelism": 3}),
            json!({"startTime": ago(30), "active": 3}),
        );
        let r = row("batch", "jobs", &j, now());
        assert_eq!(r[1], "Running");
        assert_eq!(r[2], "0/1 of 3");
        assert_eq!(r[3], "30s");
        let not_started = job(json!({}), json!({}));
        assert_eq!(cell("batch", "jobs", &not_started, "Duration"), "");
        assert_eq!(cell("batch", "jobs", &not_started, "Completions"), "0/1");
    }

    #[test]
    fn job_statuses() {
        let with = |ty: &str| {
            job(
                json!({}),
                json!({"conditions": [{"type": ty, "status": "True"}]}),
            )
        };
        assert_eq!(cell("batch", "jobs", &with("Failed"), "Status"), "Failed");
        assert_eq!(
            cell("batch", "jobs", &with("Suspended"), "Status"),
            "Suspended"
        );
        assert_eq!(
            cell("batch", "jobs", &with("FailureTarget"), "Status"),
            "FailureTarget"
        );
        let mut deleted = with("Suspended");
        deleted["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(cell("batch", "jobs", &deleted, "Status"), "Terminating");
        let false_complete = job(
            json!({}),
            json!({"conditions": [{"type": "Complete", "status": "False"}]}),
        );
        assert_eq!(cell("batch", "jobs", &false_complete, "Status"), "Running");
    }

    #[test]
    fn cronjob_row() {
        let cj = json!({
            "metadata": {"name": "backup", "creationTimestamp": ago(7200)},
            "spec": {"schedule": "*/5 * * * *", "suspend": false,
                "jobTemplate": {"spec": {"template": template(&[("b", "backup:1")])}}},
            "status": {"active": [{"name": "backup-1"}], "lastScheduleTime": ago(60)},
        });
        let r = row("batch", "cronjobs", &cj, now());
        assert_eq!(
            &r[..7],
            &[
                json!("backup"),
                json!("*/5 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("60s"),
                json!("120m")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"timeZone": "Etc/UTC"}});
        let r = row("batch", "cronjobs", &bare, now());
        assert_eq!(
            &r[2..6],
            &[
                json!("Etc/UTC"),
                json!("<unset>"),
                json!(0),
                json!("<none>")
            ]
        );
    }
}
