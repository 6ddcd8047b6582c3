//! Jobs and CronJobs (batch/v1), with the selector upstream's Job create strategy generates.

use serde_json::{json, Value};

use super::apps::spec_template;
use super::common::*;

/// Label keys upstream's Job create strategy puts on the pod template (and selects on).
const JOB_CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_JOB_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

pub(super) fn job(o: &mut Obj) {
    let (name, uid) = {
        let meta = o.get("metadata");
        let get = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (get("name"), get("uid"))
    };
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    // Upstream's create strategy generates the selector unless the client asked to manage
    // it; the object is stored with it, so it is filled in here once the uid exists.
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual && !uid.is_empty() && !name.is_empty() {
        generate_job_selector(spec, &name, &uid);
    }
    if unset(spec.get("completions")) && unset(spec.get("parallelism")) {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default_value(spec, "parallelism", json!(1));
    if unset(spec.get("backoffLimit")) {
        let limit = if unset(spec.get("backoffLimitPerIndex")) {
            6
        } else {
            i64::from(i32::MAX)
        };
        spec.insert("backoffLimit".into(), json!(limit));
    }
    default_value(spec, "completionMode", json!("NonIndexed"));
    default_value(spec, "suspend", json!(false));
    let has_failure_policy = !unset(spec.get("podFailurePolicy"));
    if let Some(policy) = object(spec, "podFailurePolicy") {
        for_each(policy, "rules", |rule| {
            for_each(rule, "onPodConditions", |p| {
                default_str(p, "status", "True")
            });
        });
    }
    let replacement = if has_failure_policy {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    default_value(spec, "podReplacementPolicy", json!(replacement));
    default_value(spec, "manualSelector", json!(false));
    spec_template(spec);
    let template_labels = spec
        .get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned();
    if let Some(labels) = template_labels {
        if let Some(meta) = ensure_object(o, "metadata") {
            if !non_empty_object(meta.get("labels")) {
                meta.insert("labels".into(), Value::Object(labels));
            }
        }
    }
}

fn generate_job_selector(spec: &mut Obj, name: &str, uid: &str) {
    if let Some(labels) = ensure_object(spec, "template")
        .and_then(|t| ensure_object(t, "metadata"))
        .and_then(|m| ensure_object(m, "labels"))
    {
        for (key, value) in [
            (JOB_CONTROLLER_UID, uid),
            (JOB_NAME, name),
            (LEGACY_JOB_CONTROLLER_UID, uid),
            (LEGACY_JOB_NAME, name),
        ] {
            if !labels.contains_key(key) {
                labels.insert(key.into(), Value::String(value.into()));
            }
        }
    }
    if let Some(match_labels) =
        ensure_object(spec, "selector").and_then(|s| ensure_object(s, "matchLabels"))
    {
        if !match_labels.contains_key(JOB_CONTROLLER_UID) {
            match_labels.insert(JOB_CONTROLLER_UID.into(), Value::String(uid.into()));
        }
    }
}

pub(super) fn cron_job(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_str(spec, "concurrencyPolicy", "Allow");
    default_value(spec, "suspend", json!(false));
    default_value(spec, "successfulJobsHistoryLimit", json!(3));
    default_value(spec, "failedJobsHistoryLimit", json!(1));
    // The job template gets pod template defaults only, not the Job's own.
    if let Some(job_spec) = object(spec, "jobTemplate").and_then(|t| object(t, "spec")) {
        spec_template(job_spec);
    }
}

#[cfg(test)]
mod tests {

    use crate::defaults::testing::*;
    use serde_json::json;

    #[test]
    fn job_defaults() {
        let j = defaulted(
            "batch",
            "jobs",
            json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "perl:5"}]}}}}),
        );
        let spec = &j["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["manualSelector"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(
            spec["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
        );
        let labels = &spec["template"]["metadata"]["labels"];
        assert_eq!(labels["batch.kubernetes.io/controller-uid"], "u-1");
        assert_eq!(labels["batch.kubernetes.io/job-name"], "pi");
        assert_eq!(labels["controller-uid"], "u-1");
        assert_eq!(labels["job-name"], "pi");
        assert_eq!(j["metadata"]["labels"], *labels);
    }

    #[test]
    fn job_parallelism_completions_and_policies() {
        let parallel = defaulted("batch", "jobs", json!({"spec": {"parallelism": 3}}));
        assert_eq!(parallel["spec"]["parallelism"], 3);
        assert!(parallel["spec"].get("completions").is_none());

        let completions = defaulted("batch", "jobs", json!({"spec": {"completions": 5}}));
        assert_eq!(completions["spec"]["completions"], 5);
        assert_eq!(completions["spec"]["parallelism"], 1);

        let per_index = defaulted(
            "batch",
            "jobs",
            json!({"spec": {"completions": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 1}}),
        );
        assert_eq!(per_index["spec"]["backoffLimit"], 2147483647);
        assert_eq!(per_index["spec"]["completionMode"], "Indexed");

        let failure = defaulted(
            "batch",
            "jobs",
            json!({"spec": {"podFailurePolicy": {"rules": [{"action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
        );
        assert_eq!(failure["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(
            failure["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
            "True"
        );

        let manual = defaulted(
            "batch",
            "jobs",
            json!({"metadata": {"name": "m", "uid": "u"}, "spec": {"manualSelector": true,
                "selector": {"matchLabels": {"x": "y"}}, "template": {"metadata": {"labels": {"x": "y"}}}}}),
        );
        assert_eq!(
            manual["spec"]["selector"],
            json!({"matchLabels": {"x": "y"}})
        );
        assert_eq!(
            manual["spec"]["template"]["metadata"]["labels"],
            json!({"x": "y"})
        );
        assert_eq!(manual["metadata"]["labels"], json!({"x": "y"}));
    }

    #[test]
    fn cron_job_defaults() {
        let c = defaulted(
            "batch",
            "cronjobs",
            json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
        );
        let spec = &c["spec"];
        assert_eq!(spec["concurrencyPolicy"], "Allow");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["successfulJobsHistoryLimit"], 3);
        assert_eq!(spec["failedJobsHistoryLimit"], 1);
        let job_spec = &spec["jobTemplate"]["spec"];
        assert!(job_spec.get("backoffLimit").is_none());
        assert!(job_spec.get("completions").is_none());
        let pod = &job_spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "OnFailure");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
    }
}
