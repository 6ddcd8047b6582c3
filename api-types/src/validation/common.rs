//! JSON access, field paths and the checks several kinds share (labels, annotations, label
//! selectors, enums, int-or-percent values, immutable selectors).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::errors::{go_label_selector, FieldError};
use super::names::*;
use crate::labels::LabelSelector;

pub(super) type Errs = Vec<FieldError>;

pub(super) static NULL: Value = Value::Null;

pub(super) fn sub<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&NULL)
}

pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn opt_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn int_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

pub(super) fn obj_of<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

pub(super) fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

pub(super) fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

pub(super) fn key_path(path: &str, key: &str) -> String {
    format!("{path}[{key}]")
}

/// Upstream treats empty and missing lists, maps and strings alike when comparing objects;
/// dropping them (and nulls) lets a JSON comparison do the same.
pub(super) fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !is_empty_value(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

pub(super) fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

pub(super) fn same(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

pub(super) fn check_nonnegative(v: &Value, key: &str, path: &str, errs: &mut Errs) {
    if let Some(n) = int_of(v, key) {
        if n < 0 {
            errs.push(FieldError::invalid(
                child(path, key),
                n,
                "must be greater than or equal to 0",
            ));
        }
    }
}

pub(super) fn check_enum(v: &Value, key: &str, path: &str, supported: &[&str], errs: &mut Errs) {
    if let Some(s) = opt_str(v, key) {
        if !supported.contains(&s) {
            errs.push(FieldError::not_supported(child(path, key), s, supported));
        }
    }
}

pub(super) fn push_msgs(errs: &mut Errs, path: &str, value: &str, msgs: Vec<String>) {
    for msg in msgs {
        errs.push(FieldError::invalid(path, value, msg));
    }
}

/// Label maps: keys are qualified names, values valid label values (all reported at `path`).
pub fn validate_labels(labels: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels.as_object().into_iter().flatten() {
        push_msgs(&mut errs, path, k, is_qualified_name(k));
        let v = v.as_str().unwrap_or("");
        push_msgs(&mut errs, path, v, is_valid_label_value(v));
    }
    errs
}

/// Annotation keys are qualified names (case-insensitively) and the total size is bounded.
pub fn validate_annotations(annotations: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0;
    for (k, v) in annotations.as_object().into_iter().flatten() {
        push_msgs(&mut errs, path, k, is_qualified_name(&k.to_lowercase()));
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

/// A `LabelSelector` object as upstream checks it in workload specs.
pub fn validate_label_selector(sel: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = validate_labels(sub(sel, "matchLabels"), &child(path, "matchLabels"));
    for (i, e) in arr(sel, "matchExpressions").iter().enumerate() {
        let p = index(&child(path, "matchExpressions"), i);
        let values = arr(e, "values");
        let op = str_of(e, "operator");
        match op {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                child(&p, "values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                child(&p, "values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            _ => errs.push(FieldError::invalid(
                child(&p, "operator"),
                op,
                "not a valid selector operator",
            )),
        }
        let key = str_of(e, "key");
        push_msgs(&mut errs, &child(&p, "key"), key, is_qualified_name(key));
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            push_msgs(
                &mut errs,
                &index(&child(&p, "values"), j),
                v,
                is_valid_label_value(v),
            );
        }
    }
    errs
}

/// Converts a JSON `LabelSelector`, or `None` when it is not a valid one.
pub(super) fn selector_of(sel: &Value) -> Option<LabelSelector> {
    let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
        serde_json::from_value(sel.clone()).ok()?;
    LabelSelector::from_label_selector(&typed).ok()
}

pub(super) fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect()
}

/// An int-or-percent field (`maxUnavailable: 1` or `"25%"`): a count of at least 0 or a
/// percentage of at most 100%.
pub(super) fn check_int_or_percent(v: &Value, key: &str, path: &str, errs: &mut Errs) {
    let p = child(path, key);
    match v.get(key) {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n < 0) => {
            errs.push(FieldError::invalid(
                p,
                n.clone(),
                "must be greater than or equal to 0",
            ));
        }
        Some(Value::String(s)) => {
            let msgs = is_valid_percent(s);
            if !msgs.is_empty() {
                push_msgs(errs, &p, s, msgs);
            } else if s
                .trim_end_matches('%')
                .parse::<u64>()
                .is_ok_and(|n| n > 100)
            {
                errs.push(FieldError::invalid(
                    p,
                    s.as_str(),
                    "must not be greater than 100%",
                ));
            }
        }
        _ => {}
    }
}

/// Whether an int-or-percent value is zero (`0` or `"0%"`).
pub(super) fn is_zero_int_or_percent(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s.trim_end_matches('%').parse::<u64>() == Ok(0),
        _ => false,
    }
}

pub(super) fn check_selector_immutable(old: &Value, new: &Value, errs: &mut Errs) {
    let (old_sel, new_sel) = (sub(old, "selector"), sub(new, "selector"));
    if !same(old_sel, new_sel) {
        errs.push(FieldError::invalid_rendered(
            "spec.selector",
            go_label_selector(new_sel),
            "field is immutable",
        ));
    }
}
