//! Helpers the printer tests share: a fixed clock, timestamps before it, column names and cells.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use super::*;

pub(super) fn now() -> Timestamp {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

/// A timestamp `secs` seconds before [`now`].
pub(super) fn ago(secs: i64) -> String {
    (now() - SignedDuration::from_secs(secs))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

pub(super) fn names(cols: &[Column]) -> Vec<&'static str> {
    cols.iter().map(|c| c.name).collect()
}

pub(super) fn wide_names(cols: &[Column]) -> Vec<&'static str> {
    cols.iter()
        .filter(|c| c.priority == 1)
        .map(|c| c.name)
        .collect()
}

/// The cell under `column` in `obj`'s row.
pub(super) fn cell(group: &str, plural: &str, obj: &Value, column: &str) -> Value {
    let cols = columns(group, plural);
    let i = cols
        .iter()
        .position(|c| c.name == column)
        .unwrap_or_else(|| panic!("no column {column} for {plural}"));
    row(group, plural, obj, now())[i].clone()
}

pub(super) fn secs(s: i64) -> String {
    human_duration(SignedDuration::from_secs(s))
}

pub(super) fn template(containers: &[(&str, &str)]) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|(n, i)| json!({"name": n, "image": i}))
        .collect();
    json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": cs}})
}
