//! Field errors as upstream words them, and Go's renderings of values inside their messages.

use std::collections::BTreeMap;

use serde_json::Value;

use super::common::{arr, str_of, sub};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Required,
    Invalid,
    Duplicate,
    NotSupported,
    TooLong,
    TooMany,
    Forbidden,
    NotFound,
}

impl ErrorKind {
    /// The `reason` of a `StatusCause`, e.g. `FieldValueRequired`.
    pub fn reason(&self) -> &'static str {
        match self {
            ErrorKind::Required => "FieldValueRequired",
            ErrorKind::Invalid => "FieldValueInvalid",
            ErrorKind::Duplicate => "FieldValueDuplicate",
            ErrorKind::NotSupported => "FieldValueNotSupported",
            ErrorKind::TooLong => "FieldValueTooLong",
            ErrorKind::TooMany => "FieldValueTooMany",
            ErrorKind::Forbidden => "FieldValueForbidden",
            ErrorKind::NotFound => "FieldValueNotFound",
        }
    }

    /// The words upstream puts before the value, e.g. `Required value`.
    pub fn type_str(&self) -> &'static str {
        match self {
            ErrorKind::Required => "Required value",
            ErrorKind::Invalid => "Invalid value",
            ErrorKind::Duplicate => "Duplicate value",
            ErrorKind::NotSupported => "Unsupported value",
            ErrorKind::TooLong => "Too long",
            ErrorKind::TooMany => "Too many",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "Not found",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct FieldError {
    pub kind: ErrorKind,
    /// Dotted path with indices, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The offending value as upstream quotes it, when there is one.
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    fn new(
        kind: ErrorKind,
        field: impl Into<String>,
        value: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind,
            field: field.into(),
            value,
            detail: detail.into(),
        }
    }

    /// `<field>: Required value[: <detail>]`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Required, field, None, detail)
    }

    /// `<field>: Invalid value: <value>: <detail>`; strings are quoted, numbers bare, label
    /// maps and string lists printed the way Go prints them.
    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(
            ErrorKind::Invalid,
            field,
            Some(go_value(&value.into())),
            detail,
        )
    }

    /// Like `invalid`, with the value already rendered.
    pub fn invalid_rendered(
        field: impl Into<String>,
        rendered: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorKind::Invalid, field, Some(rendered.into()), detail)
    }

    /// `<field>: Unsupported value: "<v>": supported values: "a", "b"`.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<Value>,
        supported: &[&str],
    ) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(
            ErrorKind::NotSupported,
            field,
            Some(go_value(&value.into())),
            detail,
        )
    }

    /// `<field>: Duplicate value: "<v>"`.
    pub fn duplicate(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(
            ErrorKind::Duplicate,
            field,
            Some(go_value(&value.into())),
            "",
        )
    }

    /// `<field>: Not found: "<v>"`.
    pub fn not_found(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(
            ErrorKind::NotFound,
            field,
            Some(go_value(&value.into())),
            "",
        )
    }

    /// `<field>: Too long: may not be more than N bytes`.
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> Self {
        let unit = if max_bytes == 1 { "byte" } else { "bytes" };
        Self::new(
            ErrorKind::TooLong,
            field,
            None,
            format!("may not be more than {max_bytes} {unit}"),
        )
    }

    /// `<field>: Too many: <actual>: must have at most N items`.
    pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> Self {
        let unit = if max == 1 { "item" } else { "items" };
        Self::new(
            ErrorKind::TooMany,
            field,
            Some(actual.to_string()),
            format!("must have at most {max} {unit}"),
        )
    }

    /// `<field>: Forbidden: <detail>`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, field, None, detail)
    }

    /// Everything after `<field>: `, as upstream's `ErrorBody`.
    pub fn error_body(&self) -> String {
        let mut s = self.kind.type_str().to_string();
        let shows_value = !matches!(
            self.kind,
            ErrorKind::Required | ErrorKind::Forbidden | ErrorKind::TooLong
        );
        if shows_value {
            if let Some(v) = &self.value {
                s.push_str(": ");
                s.push_str(v);
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// The message upstream prints, e.g. `metadata.name: Required value: name or generateName is required`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.error_body())
    }
}

/// Upstream's aggregate of several errors: one alone as itself, several as `[a, b]`,
/// duplicates dropped.
pub fn aggregate_message(errs: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        let m = e.message();
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// Quotes a string as Go's `%q` does (double quotes, backslash escapes).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders a value the way upstream's messages show it: strings quoted, numbers and booleans
/// bare, string maps as `map[string]string{"k":"v"}`, string lists as `[]string{"a", "b"}`,
/// anything else as compact JSON.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => go_quote(s),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let inner: Vec<String> = items.iter().map(go_value).collect();
            format!("[]string{{{}}}", inner.join(", "))
        }
        Value::Object(m) if m.values().all(Value::is_string) => go_string_map(v),
        _ => v.to_string(),
    }
}

/// `map[string]string{"a":"b", "c":"d"}` with sorted keys; `null` is Go's nil map.
pub(super) fn go_string_map(v: &Value) -> String {
    let Some(m) = v.as_object() else {
        return "map[string]string(nil)".into();
    };
    let sorted: BTreeMap<&String, &Value> = m.iter().collect();
    let inner: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v.as_str().unwrap_or(""))))
        .collect();
    format!("map[string]string{{{}}}", inner.join(", "))
}

/// A `LabelSelector` as Go's `%#v` prints it in immutability errors.
pub(super) fn go_label_selector(sel: &Value) -> String {
    let exprs = arr(sel, "matchExpressions");
    let exprs = if exprs.is_empty() {
        "[]v1.LabelSelectorRequirement(nil)".to_string()
    } else {
        let items: Vec<String> = exprs
            .iter()
            .map(|e| {
                let values = arr(e, "values");
                let values = if values.is_empty() {
                    "[]string(nil)".to_string()
                } else {
                    go_value(&Value::Array(values.to_vec()))
                };
                format!(
                    "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                    go_quote(str_of(e, "key")),
                    go_quote(str_of(e, "operator")),
                    values
                )
            })
            .collect();
        format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sub(sel, "matchLabels")),
        exprs
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::names::TOTAL_ANNOTATION_SIZE_LIMIT;
    use crate::validation::pods::RESTART_POLICIES;
    use serde_json::json;

    #[test]
    fn error_messages_read_like_upstream() {
        assert_eq!(
            FieldError::required("spec.containers", "").message(),
            "spec.containers: Required value"
        );
        assert_eq!(
            FieldError::required("metadata.name", "name or generateName is required").message(),
            "metadata.name: Required value: name or generateName is required"
        );
        assert_eq!(
            FieldError::invalid("metadata.name", "Bad", "oops").message(),
            "metadata.name: Invalid value: \"Bad\": oops"
        );
        assert_eq!(
            FieldError::invalid("spec.replicas", -1, "must be greater than or equal to 0")
                .message(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            FieldError::not_supported("spec.restartPolicy", "Sometimes", RESTART_POLICIES).message(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
        );
        assert_eq!(
            FieldError::duplicate("spec.containers[1].name", "app").message(),
            "spec.containers[1].name: Duplicate value: \"app\""
        );
        assert_eq!(
            FieldError::too_long("metadata.annotations", TOTAL_ANNOTATION_SIZE_LIMIT).message(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            FieldError::too_many("endpoints", 1001, 1000).message(),
            "endpoints: Too many: 1001: must have at most 1000 items"
        );
        assert_eq!(
            FieldError::forbidden("metadata.namespace", "not allowed on this type").message(),
            "metadata.namespace: Forbidden: not allowed on this type"
        );
        assert_eq!(
            FieldError::not_found("spec.containers[0].volumeMounts[0].name", "data").message(),
            "spec.containers[0].volumeMounts[0].name: Not found: \"data\""
        );
        assert_eq!(
            FieldError::required("x", "").to_string(),
            "x: Required value"
        );
        assert_eq!(ErrorKind::NotFound.reason(), "FieldValueNotFound");
    }

    #[test]
    fn values_render_like_go() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
        assert_eq!(go_quote("héllo"), "\"héllo\"");
        assert_eq!(
            go_value(&json!({"b": "2", "a": "1"})),
            "map[string]string{\"a\":\"1\", \"b\":\"2\"}"
        );
        assert_eq!(go_value(&json!(["x", "y"])), "[]string{\"x\", \"y\"}");
        assert_eq!(go_value(&json!(true)), "true");
        assert_eq!(go_value(&Value::Null), "null");
        assert_eq!(go_value(&json!({"port": 80})), "{\"port\":80}");
        assert_eq!(go_string_map(&Value::Null), "map[string]string(nil)");
        assert_eq!(
            go_label_selector(&json!({"matchLabels": {"app": "web"}})),
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
        assert_eq!(
            go_label_selector(&json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]})),
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"a\", Operator:\"In\", Values:[]string{\"x\"}}}}"
        );
    }

    #[test]
    fn aggregates_like_upstream() {
        let a = FieldError::required("a", "");
        let b = FieldError::required("b", "");
        assert_eq!(aggregate_message(&[]), "");
        assert_eq!(
            aggregate_message(std::slice::from_ref(&a)),
            "a: Required value"
        );
        assert_eq!(
            aggregate_message(&[a.clone(), b, a]),
            "[a: Required value, b: Required value]"
        );
    }
}
