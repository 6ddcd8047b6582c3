//! What every printer shares: durations and ages as kubectl shows them, JSON access with
//! upstream's placeholders, quantities, labels and label selectors.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// Upstream's `duration.HumanDuration`: a short, 2–3 significant figure form of `d`, as in
/// the AGE column: "45s", "119s", "2m5s", "15m", "3h20m", "10h", "3d5h", "20d", "2y30d",
/// "9y". Slightly negative values (clock skew of up to a second) print "0s"; more negative
/// ones print "<invalid>".
pub fn human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// Time elapsed from `t` to `now` as [`human_duration`], `<unknown>` when `t` is unset.
pub fn translate_timestamp_since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.duration_since(t)),
        None => "<unknown>".into(),
    }
}

/// A timestamp field; unset, null, unparseable or Go's zero time are all "unset".
pub(super) fn ts(obj: &Value, pointer: &str) -> Option<Timestamp> {
    let t: Timestamp = obj.pointer(pointer)?.as_str()?.parse().ok()?;
    (t.as_second() != GO_ZERO_TIME_SECONDS).then_some(t)
}

/// `0001-01-01T00:00:00Z`, which is how Go writes an unset time.
pub(super) const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

pub(super) fn age(obj: &Value, now: Timestamp) -> String {
    translate_timestamp_since(ts(obj, "/metadata/creationTimestamp"), now)
}

/// The default table's `Created At`: RFC 3339 in UTC, whole seconds, Go's zero time if unset.
pub(super) fn created_at(obj: &Value) -> String {
    match ts(obj, "/metadata/creationTimestamp") {
        Some(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "0001-01-01T00:00:00Z".into(),
    }
}

pub(super) fn s<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The string at `pointer`, or `default` when it is unset or empty.
pub(super) fn str_or<'a>(obj: &'a Value, pointer: &str, default: &'a str) -> &'a str {
    match s(obj, pointer) {
        "" => default,
        v => v,
    }
}

pub(super) fn n(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

pub(super) fn list<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Entries of an array or map.
pub(super) fn len(obj: &Value, pointer: &str) -> usize {
    match obj.pointer(pointer) {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(m)) => m.len(),
        _ => 0,
    }
}

pub(super) fn none_if_empty(v: String) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v
    }
}

pub(super) fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

pub(super) fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// A quantity in canonical form (`1024Mi` prints `1Gi`, `1000m` prints `1`), as upstream
/// prints quantities; unset is the zero quantity; text that does not parse prints as is.
pub(super) fn quantity(v: Option<&Value>) -> String {
    let text = match v {
        Some(Value::String(q)) => q.clone(),
        Some(Value::Number(q)) => q.to_string(),
        _ => return "0".into(),
    };
    match text.parse::<crate::quantity::Quantity>() {
        Ok(q) => q.to_string(),
        Err(_) => text,
    }
}

/// An IntOrString's text, `None` when unset.
pub(super) fn int_or_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn bool_ptr(v: Option<&Value>) -> &'static str {
    match v.and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

/// Container names and images, comma-separated.
pub(super) fn containers(cs: &[Value]) -> (String, String) {
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// Upstream's `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
pub fn format_labels(labels: Option<&Value>) -> String {
    let mut pairs: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    none_if_empty(pairs.join(","))
}

/// A label selector in selector syntax (`app=web,tier in (a,b),!legacy`), requirements
/// sorted by key; empty for a missing or empty selector; `None` for an invalid one.
pub(super) fn selector_string(sel: Option<&Value>) -> Option<String> {
    let Some(sel) = sel.filter(|v| v.is_object()) else {
        return Some(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(labels) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = s(e, "/key");
        let mut values: Vec<&str> = list(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let rendered = match s(e, "/operator") {
            "In" | "NotIn" if values.is_empty() => return None,
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" | "DoesNotExist" if !values.is_empty() => return None,
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        };
        reqs.push((key.to_string(), rendered));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Some(
        reqs.into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Upstream's `metav1.FormatLabelSelector`: `<none>` when empty, `<error>` when invalid.
pub fn format_label_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        Some(s) => none_if_empty(s),
        None => "<error>".into(),
    }
}

/// Present and an object (Go's non-nil pointer).
pub(super) fn obj_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    v.pointer(pointer).filter(|v| v.is_object())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testing::*;
    use serde_json::json;

    #[test]
    fn durations_under_two_minutes_are_seconds() {
        assert_eq!(secs(0), "0s");
        assert_eq!(secs(59), "59s");
        assert_eq!(secs(90), "90s");
        assert_eq!(secs(119), "119s");
    }

    #[test]
    fn durations_under_ten_minutes_show_minutes_and_seconds() {
        assert_eq!(secs(120), "2m");
        assert_eq!(secs(125), "2m5s");
        assert_eq!(secs(9 * 60 + 59), "9m59s");
    }

    #[test]
    fn durations_under_three_hours_are_minutes() {
        assert_eq!(secs(10 * 60 + 30), "10m");
        assert_eq!(secs(179 * 60 + 59), "179m");
    }

    #[test]
    fn durations_under_eight_hours_show_hours_and_minutes() {
        assert_eq!(secs(3 * 3600), "3h");
        assert_eq!(secs(3 * 3600 + 20 * 60 + 15), "3h20m");
        assert_eq!(secs(7 * 3600 + 59 * 60), "7h59m");
    }

    #[test]
    fn durations_under_two_days_are_hours() {
        assert_eq!(secs(8 * 3600 + 30 * 60), "8h");
        assert_eq!(secs(47 * 3600), "47h");
    }

    #[test]
    fn durations_under_eight_days_show_days_and_hours() {
        assert_eq!(secs(48 * 3600), "2d");
        assert_eq!(secs((3 * 24 + 5) * 3600), "3d5h");
        assert_eq!(secs((7 * 24 + 23) * 3600), "7d23h");
    }

    #[test]
    fn durations_under_two_years_are_days() {
        assert_eq!(secs(8 * 24 * 3600), "8d");
        assert_eq!(secs(729 * 24 * 3600), "729d");
    }

    #[test]
    fn long_durations_are_years() {
        assert_eq!(secs(730 * 24 * 3600), "2y");
        assert_eq!(secs((2 * 365 + 30) * 24 * 3600), "2y30d");
        assert_eq!(secs(8 * 365 * 24 * 3600 + 100 * 24 * 3600), "8y");
    }

    #[test]
    fn small_clock_skew_is_zero_and_larger_is_invalid() {
        assert_eq!(human_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(secs(-1), "0s");
        assert_eq!(secs(-2), "<invalid>");
    }

    #[test]
    fn missing_timestamps_are_unknown() {
        assert_eq!(translate_timestamp_since(None, now()), "<unknown>");
        let pod = json!({"metadata": {"name": "p"}});
        assert_eq!(cell("", "pods", &pod, "Age"), "<unknown>");
        let zero = json!({"metadata": {"name": "p", "creationTimestamp": "0001-01-01T00:00:00Z"}});
        assert_eq!(cell("", "pods", &zero, "Age"), "<unknown>");
    }

    #[test]
    fn invalid_or_empty_selectors() {
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(None), "<none>");
        let d = json!({"metadata": {"name": "d"}, "spec": {"selector": bad}});
        assert_eq!(cell("apps", "deployments", &d, "Selector"), "<invalid>");
    }

    #[test]
    fn quantities_print_canonically() {
        assert_eq!(quantity(Some(&json!("1024Mi"))), "1Gi");
        assert_eq!(quantity(Some(&json!("1000m"))), "1");
        assert_eq!(quantity(Some(&json!("500m"))), "500m");
        assert_eq!(quantity(Some(&json!(2))), "2");
        assert_eq!(quantity(None), "0");
        assert_eq!(quantity(Some(&json!("lots"))), "lots");
    }
}
