//! Validation of names and objects, returning errors with field paths as upstream words them.
//!
//! `validate` and `validate_update` work on objects as JSON (already decoded into the typed
//! form once by the apiserver, so field types are right) and return every problem found, each
//! a `FieldError` whose `message()` reads exactly like upstream's, e.g.
//! `spec.containers[0].image: Required value`. Checks follow upstream's documented rules for
//! the common kinds; rules that need cluster state (quota, admission) live elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::labels::LabelSelector;
use crate::quantity::Quantity;

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
fn go_string_map(v: &Value) -> String {
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
fn go_label_selector(sel: &Value) -> String {
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

// ---------------------------------------------------------------------------------------
// Name and format checks. Each returns upstream's messages; empty means valid.
// ---------------------------------------------------------------------------------------

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const WILDCARD_DNS1123_SUBDOMAIN_FMT: &str =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_DNS1123_SUBDOMAIN_ERR: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_ERR: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Upper bound on the total size of an object's annotations (keys plus values).
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
/// Upper bound on the data of a ConfigMap or Secret.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// `must be no more than N characters`.
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `must be between LO and HI, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// Upstream's regex error text: the message, then examples and the regex in parentheses.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{ex}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_lower_alnum(b[0])
        && is_lower_alnum(b[b.len() - 1])
        && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

/// RFC 1123 label: lower case alphanumerics and '-', at most 63 characters (namespace names).
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            // A valid subdomain that is not a label can only be failing on its dots.
            errs.push("must not contain dots".into());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// RFC 1123 subdomain: labels joined by dots, at most 253 characters (most object names).
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// RFC 1035 label: like an RFC 1123 label but starting with a letter (service names).
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    let ok = matches_dns1123_label(value) && value.as_bytes()[0].is_ascii_lowercase();
    if !ok {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `*.` followed by a DNS-1123 subdomain (ingress hosts, TLS hosts).
pub fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = value
        .strip_prefix("*.")
        .is_some_and(matches_dns1123_subdomain);
    if !ok {
        errs.push(regex_error(
            WILDCARD_DNS1123_SUBDOMAIN_ERR,
            WILDCARD_DNS1123_SUBDOMAIN_FMT,
            &["*.example.com"],
        ));
    }
    errs
}

/// Label keys, annotation keys, finalizers: an optional DNS subdomain prefix and '/', then a
/// name of at most 63 alphanumerics, '-', '_' or '.'.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".into());
            } else {
                for msg in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {msg}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Label values: empty, or at most 63 alphanumerics, '-', '_' or '.' starting and ending
/// with an alphanumeric.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name_part(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Keys of ConfigMap and Secret data (they become file names, so no `.`/`..`).
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_');
    if !ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errs.push("must not be '.'".into());
    } else if value == ".." {
        errs.push("must not be '..'".into());
    } else if value.starts_with("..") {
        errs.push("must not start with '..'".into());
    }
    errs
}

/// Port numbers: 1 to 65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Port names (IANA service names): at most 15 of `[-a-z0-9]`, with a letter, no `--`, no
/// leading or trailing '-'.
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// An IPv4 or IPv6 address.
pub fn is_valid_ip(value: &str) -> Vec<String> {
    if value.parse::<IpAddr>().is_ok() {
        Vec::new()
    } else {
        vec!["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".into()]
    }
}

pub fn is_valid_ipv4_address(value: &str) -> Vec<String> {
    if value.parse::<std::net::Ipv4Addr>().is_ok() {
        Vec::new()
    } else {
        vec!["must be a valid IPv4 address".into()]
    }
}

pub fn is_valid_ipv6_address(value: &str) -> Vec<String> {
    if value.parse::<std::net::Ipv6Addr>().is_ok() {
        Vec::new()
    } else {
        vec!["must be a valid IPv6 address".into()]
    }
}

/// A CIDR such as `10.0.0.0/16` or `fd00::/64`.
pub fn is_valid_cidr(value: &str) -> Vec<String> {
    let ok = value.split_once('/').is_some_and(|(ip, bits)| {
        let max = match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => 32,
            Ok(IpAddr::V6(_)) => 128,
            Err(_) => return false,
        };
        !bits.is_empty()
            && bits.bytes().all(|c| c.is_ascii_digit())
            && bits.parse::<u32>().is_ok_and(|b| b <= max)
    });
    if ok {
        Vec::new()
    } else {
        vec!["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".into()]
    }
}

/// A percentage string such as `25%`.
pub fn is_valid_percent(value: &str) -> Vec<String> {
    let ok = value
        .strip_suffix('%')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(PERCENT_ERR, PERCENT_FMT, &["1%", "93%"])]
    }
}

/// Names that appear as one segment of a URL path (RBAC objects, events): anything but `.`,
/// `..`, or text containing `/` or `%`.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    is_valid_path_segment_prefix(name)
}

/// The part of `is_valid_path_segment_name` that applies to a `generateName` prefix.
pub fn is_valid_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|bad| name.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

/// Environment variable names: printable ASCII other than '='.
pub fn is_env_var_name(value: &str) -> Vec<String> {
    if !value.is_empty()
        && value
            .bytes()
            .all(|c| (b' '..=b'~').contains(&c) && c != b'=')
    {
        Vec::new()
    } else {
        vec!["a valid environment variable name must consist only of printable ASCII characters other than '='".into()]
    }
}

/// How a resource's `metadata.name` is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    Dns1123Subdomain,
    Dns1123Label,
    Dns1035Label,
    PathSegment,
}

impl NameRule {
    /// Checks a name, or (with `prefix`) a `generateName` prefix, which may end in '-'.
    pub fn check(&self, name: &str, prefix: bool) -> Vec<String> {
        // A generated name gets a suffix appended, so a trailing '-' is fine in the prefix.
        let masked;
        let name = if prefix && name.len() > 1 && name.ends_with('-') {
            masked = format!("{}a", &name[..name.len() - 1]);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameRule::Dns1123Subdomain => is_dns1123_subdomain(name),
            NameRule::Dns1123Label => is_dns1123_label(name),
            NameRule::Dns1035Label => is_dns1035_label(name),
            NameRule::PathSegment if prefix => is_valid_path_segment_prefix(name),
            NameRule::PathSegment => is_valid_path_segment_name(name),
        }
    }
}

/// The name rule upstream applies to each resource; unknown resources (custom resources
/// included) use DNS-1123 subdomains.
pub fn name_rule(group: &str, plural: &str) -> NameRule {
    match (group, plural) {
        ("", "namespaces") => NameRule::Dns1123Label,
        ("", "services") => NameRule::Dns1035Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        ("", "events") | ("events.k8s.io", "events") => NameRule::PathSegment,
        ("certificates.k8s.io", "certificatesigningrequests") => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

// ---------------------------------------------------------------------------------------
// JSON access and paths.
// ---------------------------------------------------------------------------------------

type Errs = Vec<FieldError>;

static NULL: Value = Value::Null;

fn sub<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&NULL)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn opt_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn int_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn obj_of<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn key_path(path: &str, key: &str) -> String {
    format!("{path}[{key}]")
}

/// Upstream treats empty and missing lists, maps and strings alike when comparing objects;
/// dropping them (and nulls) lets a JSON comparison do the same.
fn normalized(v: &Value) -> Value {
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

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

// ---------------------------------------------------------------------------------------
// Shared checks.
// ---------------------------------------------------------------------------------------

fn check_nonnegative(v: &Value, key: &str, path: &str, errs: &mut Errs) {
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

fn check_enum(v: &Value, key: &str, path: &str, supported: &[&str], errs: &mut Errs) {
    if let Some(s) = opt_str(v, key) {
        if !supported.contains(&s) {
            errs.push(FieldError::not_supported(child(path, key), s, supported));
        }
    }
}

fn push_msgs(errs: &mut Errs, path: &str, value: &str, msgs: Vec<String>) {
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
fn selector_of(sel: &Value) -> Option<LabelSelector> {
    let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
        serde_json::from_value(sel.clone()).ok()?;
    LabelSelector::from_label_selector(&typed).ok()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect()
}

/// An int-or-percent field (`maxUnavailable: 1` or `"25%"`): a count of at least 0 or a
/// percentage of at most 100%.
fn check_int_or_percent(v: &Value, key: &str, path: &str, errs: &mut Errs) {
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
fn is_zero_int_or_percent(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s.trim_end_matches('%').parse::<u64>() == Ok(0),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Object metadata.
// ---------------------------------------------------------------------------------------

fn validate_object_meta(meta: &Value, namespaced: bool, rule: NameRule, errs: &mut Errs) {
    let name = str_of(meta, "name");
    let generate_name = str_of(meta, "generateName");
    if !generate_name.is_empty() {
        push_msgs(
            errs,
            "metadata.generateName",
            generate_name,
            rule.check(generate_name, true),
        );
    }
    if name.is_empty() {
        // The apiserver fills the name in from generateName before storing.
        if generate_name.is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        push_msgs(errs, "metadata.name", name, rule.check(name, false));
    }
    let namespace = str_of(meta, "namespace");
    if namespaced {
        // An empty namespace is filled in from the request path by the caller.
        if !namespace.is_empty() {
            push_msgs(
                errs,
                "metadata.namespace",
                namespace,
                is_dns1123_label(namespace),
            );
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    errs.extend(validate_labels(sub(meta, "labels"), "metadata.labels"));
    errs.extend(validate_annotations(
        sub(meta, "annotations"),
        "metadata.annotations",
    ));
    let finalizers = arr(meta, "finalizers");
    for f in finalizers {
        let f = f.as_str().unwrap_or("");
        push_msgs(errs, "metadata.finalizers", f, is_qualified_name(f));
    }
    let has_finalizer = |n: &str| finalizers.iter().any(|f| f.as_str() == Some(n));
    if has_finalizer("orphan") && has_finalizer("foregroundDeletion") {
        errs.push(FieldError::invalid(
            "metadata.finalizers",
            Value::Array(finalizers.to_vec()),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    let owners = arr(meta, "ownerReferences");
    for owner in owners {
        let api_version = str_of(owner, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errs.push(FieldError::invalid(
                "metadata.ownerReferences.apiVersion",
                api_version,
                "version must not be empty",
            ));
        }
        for (field, what) in [("kind", "kind"), ("name", "name"), ("uid", "uid")] {
            if str_of(owner, field).is_empty() {
                errs.push(FieldError::invalid(
                    format!("metadata.ownerReferences.{field}"),
                    "",
                    format!("{what} must not be empty"),
                ));
            }
        }
    }
    let controllers: Vec<String> = owners
        .iter()
        .filter(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|o| format!("{}/{}", str_of(o, "kind"), str_of(o, "name")))
        .collect();
    if controllers.len() > 1 {
        errs.push(FieldError::invalid_rendered(
            "metadata.ownerReferences",
            Value::Array(owners.to_vec()).to_string(),
            format!(
                "Only one reference can have Controller set to true. Found \"true\" in references for {}",
                controllers.join(" and ")
            ),
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Entry points.
// ---------------------------------------------------------------------------------------

/// Validates a whole object of `group`/`plural` (as stored: its storage version).
pub fn validate(group: &str, plural: &str, namespaced: bool, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_object_meta(
        sub(obj, "metadata"),
        namespaced,
        name_rule(group, plural),
        &mut errs,
    );
    let spec = sub(obj, "spec");
    match (group, plural) {
        ("", "pods") => validate_pod_spec(spec, "spec", true, &mut errs),
        ("", "podtemplates") => validate_pod_template(sub(obj, "template"), "template", &mut errs),
        ("", "replicationcontrollers") => validate_replication_controller(spec, &mut errs),
        ("", "services") => validate_service(spec, &mut errs),
        ("", "endpoints") => validate_endpoints(obj, &mut errs),
        ("", "configmaps") => validate_config_map(obj, &mut errs),
        ("", "secrets") => validate_secret(obj, &mut errs),
        ("", "namespaces") => validate_namespace(spec, &mut errs),
        ("", "nodes") => validate_node(spec, &mut errs),
        ("", "persistentvolumeclaims") => validate_pvc(spec, &mut errs),
        ("", "persistentvolumes") => validate_pv(spec, &mut errs),
        ("", "resourcequotas") => validate_resource_quota(spec, &mut errs),
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets") => {
            validate_workload(plural, spec, &mut errs)
        }
        ("batch", "jobs") => validate_job_spec(spec, "spec", &mut errs),
        ("batch", "cronjobs") => validate_cron_job(obj, &mut errs),
        ("coordination.k8s.io", "leases") => validate_lease(spec, &mut errs),
        ("discovery.k8s.io", "endpointslices") => validate_endpoint_slice(obj, &mut errs),
        ("networking.k8s.io", "ingresses") => validate_ingress(spec, &mut errs),
        ("networking.k8s.io", "ingressclasses") if str_of(spec, "controller").is_empty() => {
            errs.push(FieldError::required("spec.controller", ""));
        }
        ("networking.k8s.io", "networkpolicies") => validate_network_policy(spec, &mut errs),
        ("policy", "poddisruptionbudgets") => validate_pdb(spec, &mut errs),
        ("autoscaling", "horizontalpodautoscalers") => validate_hpa(spec, &mut errs),
        ("scheduling.k8s.io", "priorityclasses") => validate_priority_class(obj, &mut errs),
        ("storage.k8s.io", "storageclasses") => validate_storage_class(obj, &mut errs),
        ("rbac.authorization.k8s.io", "roles") => validate_rules(obj, true, &mut errs),
        ("rbac.authorization.k8s.io", "clusterroles") => validate_rules(obj, false, &mut errs),
        ("rbac.authorization.k8s.io", "rolebindings") => validate_binding(obj, true, &mut errs),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            validate_binding(obj, false, &mut errs)
        }
        _ => {}
    }
    errs
}

// ---------------------------------------------------------------------------------------
// Pods.
// ---------------------------------------------------------------------------------------

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// The message upstream gives when a pod update touches an immutable field.
pub const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// A pod template: its labels and annotations, then its pod spec at `<path>.spec`.
fn validate_pod_template(tpl: &Value, path: &str, errs: &mut Errs) {
    let meta = sub(tpl, "metadata");
    errs.extend(validate_labels(
        sub(meta, "labels"),
        &child(path, "metadata.labels"),
    ));
    errs.extend(validate_annotations(
        sub(meta, "annotations"),
        &child(path, "metadata.annotations"),
    ));
    validate_pod_spec(sub(tpl, "spec"), &child(path, "spec"), false, errs);
}

/// A pod spec at `path`; `is_pod` adds the checks upstream makes only for real pods.
fn validate_pod_spec(spec: &Value, path: &str, is_pod: bool, errs: &mut Errs) {
    let volumes = validate_volumes(arr(spec, "volumes"), &child(path, "volumes"), errs);

    let containers = arr(spec, "containers");
    let mut names = BTreeSet::new();
    if containers.is_empty() {
        errs.push(FieldError::required(child(path, "containers"), ""));
    }
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let ctx = ContainerContext {
        volumes: &volumes,
        is_pod,
        host_network,
    };
    // Init containers are checked first, as upstream does, so duplicate names are reported
    // on the regular container.
    for (i, c) in arr(spec, "initContainers").iter().enumerate() {
        validate_container(
            c,
            &index(&child(path, "initContainers"), i),
            true,
            &ctx,
            &mut names,
            errs,
        );
    }
    for (i, c) in containers.iter().enumerate() {
        validate_container(
            c,
            &index(&child(path, "containers"), i),
            false,
            &ctx,
            &mut names,
            errs,
        );
    }

    if let Some(policy) = opt_str(spec, "restartPolicy") {
        if policy.is_empty() {
            errs.push(FieldError::required(child(path, "restartPolicy"), ""));
        } else if !RESTART_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                child(path, "restartPolicy"),
                policy,
                RESTART_POLICIES,
            ));
        }
    }
    check_enum(spec, "dnsPolicy", path, DNS_POLICIES, errs);
    if let Some(secs) = int_of(spec, "activeDeadlineSeconds") {
        if !(1..=i64::from(i32::MAX)).contains(&secs) {
            errs.push(FieldError::invalid(
                child(path, "activeDeadlineSeconds"),
                secs,
                inclusive_range_error(1, i64::from(i32::MAX)),
            ));
        }
    }
    for (key, check) in [
        ("nodeName", is_dns1123_subdomain as fn(&str) -> Vec<String>),
        ("serviceAccountName", is_dns1123_subdomain),
        ("hostname", is_dns1123_label),
        ("subdomain", is_dns1123_label),
        ("priorityClassName", is_dns1123_subdomain),
    ] {
        if let Some(v) = opt_str(spec, key).filter(|v| !v.is_empty()) {
            push_msgs(errs, &child(path, key), v, check(v));
        }
    }
    errs.extend(validate_labels(
        sub(spec, "nodeSelector"),
        &child(path, "nodeSelector"),
    ));
    validate_tolerations(arr(spec, "tolerations"), &child(path, "tolerations"), errs);
    for (i, g) in arr(spec, "imagePullSecrets").iter().enumerate() {
        if str_of(g, "name").is_empty() {
            errs.push(FieldError::required(
                child(&index(&child(path, "imagePullSecrets"), i), "name"),
                "",
            ));
        }
    }
}

/// Checks the volume list and returns the set of volume names.
fn validate_volumes(volumes: &[Value], path: &str, errs: &mut Errs) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, vol) in volumes.iter().enumerate() {
        let p = index(path, i);
        let name = str_of(vol, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else {
            let msgs = is_dns1123_label(name);
            if !msgs.is_empty() {
                push_msgs(errs, &child(&p, "name"), name, msgs);
            } else if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), name));
            }
        }
        // Every other key is a volume source; exactly one is allowed.
        let sources: Vec<&String> = vol
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| k.as_str() != "name" && !v.is_null())
            .map(|(k, _)| k)
            .collect();
        match sources.as_slice() {
            [] => errs.push(FieldError::required(p, "must specify a volume type")),
            [_] => {}
            [_, second, ..] => errs.push(FieldError::forbidden(
                child(&p, second),
                "may not specify more than 1 volume type",
            )),
        }
    }
    names
}

struct ContainerContext<'a> {
    volumes: &'a BTreeSet<String>,
    is_pod: bool,
    host_network: bool,
}

fn validate_container(
    c: &Value,
    path: &str,
    init: bool,
    ctx: &ContainerContext<'_>,
    names: &mut BTreeSet<String>,
    errs: &mut Errs,
) {
    let name = str_of(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else {
        let msgs = is_dns1123_label(name);
        if !msgs.is_empty() {
            push_msgs(errs, &child(path, "name"), name, msgs);
        } else if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(path, "name"), name));
        }
    }
    let image = str_of(c, "image");
    if image.is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    } else if ctx.is_pod && image.trim() != image {
        errs.push(FieldError::invalid(
            child(path, "image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    check_enum(c, "imagePullPolicy", path, PULL_POLICIES, errs);
    if let Some(policy) = opt_str(c, "restartPolicy") {
        if !init {
            errs.push(FieldError::forbidden(
                child(path, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        } else if policy != "Always" {
            errs.push(FieldError::not_supported(
                child(path, "restartPolicy"),
                policy,
                &["Always"],
            ));
        }
    }

    let mut port_names = BTreeSet::new();
    for (i, port) in arr(c, "ports").iter().enumerate() {
        let p = index(&child(path, "ports"), i);
        if let Some(pn) = opt_str(port, "name").filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(pn);
            if !msgs.is_empty() {
                push_msgs(errs, &child(&p, "name"), pn, msgs);
            } else if !port_names.insert(pn.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), pn));
            }
        }
        let container_port = int_of(port, "containerPort").unwrap_or(0);
        if container_port == 0 {
            errs.push(FieldError::required(child(&p, "containerPort"), ""));
        } else {
            for msg in is_valid_port_num(container_port) {
                errs.push(FieldError::invalid(
                    child(&p, "containerPort"),
                    container_port,
                    msg,
                ));
            }
        }
        if let Some(host_port) = int_of(port, "hostPort").filter(|h| *h != 0) {
            for msg in is_valid_port_num(host_port) {
                errs.push(FieldError::invalid(child(&p, "hostPort"), host_port, msg));
            }
            if ctx.host_network && host_port != container_port {
                errs.push(FieldError::invalid(
                    child(&p, "hostPort"),
                    host_port,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
        check_enum(port, "protocol", &p, PROTOCOLS, errs);
    }

    for (i, env) in arr(c, "env").iter().enumerate() {
        let p = child(&index(&child(path, "env"), i), "name");
        let n = str_of(env, "name");
        if n.is_empty() {
            errs.push(FieldError::required(p, ""));
        } else {
            push_msgs(errs, &p, n, is_env_var_name(n));
        }
    }

    let mut mount_paths = BTreeSet::new();
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let p = index(&child(path, "volumeMounts"), i);
        let n = str_of(m, "name");
        if n.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else if !ctx.volumes.contains(n) {
            errs.push(FieldError::not_found(child(&p, "name"), n));
        }
        let mount_path = str_of(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(child(&p, "mountPath"), ""));
        } else if !mount_paths.insert(mount_path.to_string()) {
            errs.push(FieldError::invalid(
                child(&p, "mountPath"),
                mount_path,
                "must be unique",
            ));
        }
    }

    validate_resources(sub(c, "resources"), &child(path, "resources"), errs);
}

/// Requests and limits: valid, non-negative quantities, and each request at most its limit.
fn validate_resources(res: &Value, path: &str, errs: &mut Errs) {
    let mut parsed: [BTreeMap<String, Quantity>; 2] = Default::default();
    for (slot, which) in ["limits", "requests"].iter().enumerate() {
        let p = child(path, which);
        for (name, v) in obj_of(res, which).into_iter().flatten() {
            let rp = key_path(&p, name);
            push_msgs(errs, &rp, name, resource_name_errors(name));
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match Quantity::parse(text.trim()) {
                Err(e) => errs.push(FieldError::invalid(rp, text, e.to_string())),
                Ok(q) if q.signum() < 0 => errs.push(FieldError::invalid(
                    rp,
                    q.to_string(),
                    "must be greater than or equal to 0",
                )),
                Ok(q) => {
                    parsed[slot].insert(name.clone(), q);
                }
            }
        }
    }
    let [limits, requests] = parsed;
    for (name, req) in &requests {
        if let Some(limit) = limits.get(name) {
            if req > limit {
                errs.push(FieldError::invalid(
                    child(path, "requests"),
                    req.to_string(),
                    format!("must be less than or equal to {name} limit of {limit}"),
                ));
            }
        }
    }
}

/// Resource names are standard names (`cpu`, `memory`...) or qualified extended names.
fn resource_name_errors(name: &str) -> Vec<String> {
    is_qualified_name(name)
}

fn validate_tolerations(tolerations: &[Value], path: &str, errs: &mut Errs) {
    for (i, t) in tolerations.iter().enumerate() {
        let p = index(path, i);
        let key = str_of(t, "key");
        if !key.is_empty() {
            push_msgs(errs, &child(&p, "key"), key, is_qualified_name(key));
        }
        let op = opt_str(t, "operator").unwrap_or("Equal");
        match op {
            "Exists" => {
                if !str_of(t, "value").is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        str_of(t, "value"),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            "Equal" | "" => {
                if key.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        op,
                        "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                    ));
                }
                let value = str_of(t, "value");
                push_msgs(
                    errs,
                    &child(&p, "value"),
                    value,
                    is_valid_label_value(value),
                );
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if let Some(effect) = opt_str(t, "effect").filter(|e| !e.is_empty()) {
            if !TAINT_EFFECTS.contains(&effect) {
                errs.push(FieldError::not_supported(
                    child(&p, "effect"),
                    effect,
                    TAINT_EFFECTS,
                ));
            }
        }
        if has(t, "tolerationSeconds") && opt_str(t, "effect") != Some("NoExecute") {
            errs.push(FieldError::invalid(
                child(&p, "effect"),
                str_of(t, "effect"),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Services and endpoints.
// ---------------------------------------------------------------------------------------

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

fn validate_service(spec: &Value, errs: &mut Errs) {
    let svc_type = opt_str(spec, "type").unwrap_or("ClusterIP");
    let cluster_ip = str_of(spec, "clusterIP");
    let headless = cluster_ip == "None";
    let ports = arr(spec, "ports");

    if !SERVICE_TYPES.contains(&svc_type) {
        errs.push(FieldError::not_supported(
            "spec.type",
            svc_type,
            SERVICE_TYPES,
        ));
    }
    if svc_type == "ExternalName" {
        let external = str_of(spec, "externalName");
        if external.is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        } else {
            let trimmed = external.strip_suffix('.').unwrap_or(external);
            push_msgs(
                errs,
                "spec.externalName",
                external,
                is_dns1123_subdomain(trimmed),
            );
        }
        if !cluster_ip.is_empty() {
            errs.push(FieldError::forbidden(
                "spec.clusterIPs",
                "may not be set for ExternalName services",
            ));
        }
    } else if ports.is_empty() && !headless {
        errs.push(FieldError::required("spec.ports", ""));
    }

    if !cluster_ip.is_empty() && !headless {
        push_msgs(errs, "spec.clusterIP", cluster_ip, is_valid_ip(cluster_ip));
    }
    let cluster_ips = arr(spec, "clusterIPs");
    for (i, ip) in cluster_ips.iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        if i == 0 && ip == "None" {
            if cluster_ips.len() > 1 {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs",
                    Value::Array(cluster_ips.to_vec()),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        push_msgs(errs, &index("spec.clusterIPs", i), ip, is_valid_ip(ip));
    }
    if let (Some(first), false) = (
        cluster_ips.first().and_then(Value::as_str),
        cluster_ip.is_empty(),
    ) {
        if first != cluster_ip {
            errs.push(FieldError::invalid(
                "spec.clusterIPs",
                Value::Array(cluster_ips.to_vec()),
                "first value must match `clusterIP`",
            ));
        }
    }

    let require_name = ports.len() > 1;
    let mut names = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index("spec.ports", i);
        let name = str_of(port, "name");
        if name.is_empty() {
            if require_name {
                errs.push(FieldError::required(child(&p, "name"), ""));
            }
        } else {
            push_msgs(errs, &child(&p, "name"), name, is_dns1123_label(name));
            if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), name));
            }
        }
        let number = int_of(port, "port").unwrap_or(0);
        for msg in is_valid_port_num(number) {
            errs.push(FieldError::invalid(child(&p, "port"), number, msg));
        }
        check_enum(port, "protocol", &p, PROTOCOLS, errs);
        let protocol = opt_str(port, "protocol").unwrap_or("TCP");
        if !seen.insert((number, protocol.to_string())) {
            errs.push(FieldError::duplicate(
                p.clone(),
                serde_json::json!({"port": number, "protocol": protocol}),
            ));
        }
        validate_port_num_or_name(port.get("targetPort"), &child(&p, "targetPort"), errs);
        if let Some(node_port) = int_of(port, "nodePort").filter(|n| *n != 0) {
            if svc_type == "ClusterIP" {
                errs.push(FieldError::forbidden(
                    child(&p, "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else {
                for msg in is_valid_port_num(node_port) {
                    errs.push(FieldError::invalid(child(&p, "nodePort"), node_port, msg));
                }
            }
        }
    }

    check_enum(spec, "sessionAffinity", "spec", &["ClientIP", "None"], errs);
    check_enum(
        spec,
        "externalTrafficPolicy",
        "spec",
        &["Cluster", "Local"],
        errs,
    );
    check_enum(
        spec,
        "internalTrafficPolicy",
        "spec",
        &["Cluster", "Local"],
        errs,
    );
    check_enum(
        spec,
        "ipFamilyPolicy",
        "spec",
        &["PreferDualStack", "RequireDualStack", "SingleStack"],
        errs,
    );
    errs.extend(validate_labels(sub(spec, "selector"), "spec.selector"));
}

/// A port given as a number (1-65535) or a port name.
fn validate_port_num_or_name(v: Option<&Value>, path: &str, errs: &mut Errs) {
    match v {
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(path, n, msg));
            }
        }
        Some(Value::String(s)) => push_msgs(errs, path, s, is_valid_port_name(s)),
        _ => {}
    }
}

fn validate_endpoints(obj: &Value, errs: &mut Errs) {
    for (i, subset) in arr(obj, "subsets").iter().enumerate() {
        let sp = index("subsets", i);
        for which in ["addresses", "notReadyAddresses"] {
            for (j, addr) in arr(subset, which).iter().enumerate() {
                let ip = str_of(addr, "ip");
                push_msgs(
                    errs,
                    &child(&index(&child(&sp, which), j), "ip"),
                    ip,
                    is_valid_ip(ip),
                );
            }
        }
        let ports = arr(subset, "ports");
        for (j, port) in ports.iter().enumerate() {
            let p = index(&child(&sp, "ports"), j);
            let name = str_of(port, "name");
            if name.is_empty() && ports.len() > 1 {
                errs.push(FieldError::required(child(&p, "name"), ""));
            } else if !name.is_empty() {
                push_msgs(errs, &child(&p, "name"), name, is_dns1123_label(name));
            }
            let n = int_of(port, "port").unwrap_or(0);
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&p, "port"), n, msg));
            }
            check_enum(port, "protocol", &p, PROTOCOLS, errs);
        }
    }
}

const ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];

fn validate_endpoint_slice(obj: &Value, errs: &mut Errs) {
    let address_type = str_of(obj, "addressType");
    if address_type.is_empty() {
        errs.push(FieldError::required("addressType", ""));
    } else if !ADDRESS_TYPES.contains(&address_type) {
        errs.push(FieldError::not_supported(
            "addressType",
            address_type,
            ADDRESS_TYPES,
        ));
    }
    let endpoints = arr(obj, "endpoints");
    if endpoints.len() > 1000 {
        errs.push(FieldError::too_many("endpoints", endpoints.len(), 1000));
    }
    for (i, ep) in endpoints.iter().enumerate() {
        let p = index("endpoints", i);
        let ap = child(&p, "addresses");
        let addresses = arr(ep, "addresses");
        if addresses.is_empty() {
            errs.push(FieldError::required(
                ap.clone(),
                "must contain at least 1 address",
            ));
        } else if addresses.len() > 100 {
            errs.push(FieldError::too_many(ap.clone(), addresses.len(), 100));
        }
        for (j, a) in addresses.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            let msgs = match address_type {
                "IPv4" => is_valid_ipv4_address(a),
                "IPv6" => is_valid_ipv6_address(a),
                "FQDN" => is_dns1123_subdomain(a),
                _ => Vec::new(),
            };
            push_msgs(errs, &index(&ap, j), a, msgs);
        }
        if let Some(node) = opt_str(ep, "nodeName").filter(|n| !n.is_empty()) {
            push_msgs(
                errs,
                &child(&p, "nodeName"),
                node,
                is_dns1123_subdomain(node),
            );
        }
        if let Some(host) = opt_str(ep, "hostname").filter(|n| !n.is_empty()) {
            push_msgs(errs, &child(&p, "hostname"), host, is_dns1123_label(host));
        }
    }
    let ports = arr(obj, "ports");
    if ports.len() > 20000 {
        errs.push(FieldError::too_many("ports", ports.len(), 20000));
    }
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index("ports", i);
        let name = str_of(port, "name");
        if !name.is_empty() {
            push_msgs(errs, &child(&p, "name"), name, is_dns1123_label(name));
        }
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(&p, "name"), name));
        }
        check_enum(port, "protocol", &p, PROTOCOLS, errs);
        if let Some(n) = int_of(port, "port") {
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&p, "port"), n, msg));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Config and storage.
// ---------------------------------------------------------------------------------------

/// The decoded size of a base64 value (Secret data and ConfigMap binaryData are base64 in JSON).
fn base64_decoded_len(s: &str) -> usize {
    let s = s.trim_end_matches('=');
    s.len() * 3 / 4
}

fn validate_config_map(obj: &Value, errs: &mut Errs) {
    let mut total = 0;
    let binary = obj_of(obj, "binaryData");
    for (k, v) in obj_of(obj, "data").into_iter().flatten() {
        let p = key_path("data", k);
        push_msgs(errs, &p, k, is_config_map_key(k));
        if binary.is_some_and(|b| b.contains_key(k)) {
            errs.push(FieldError::invalid(
                p,
                k.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total += v.as_str().map_or(0, str::len);
    }
    for (k, v) in binary.into_iter().flatten() {
        push_msgs(errs, &key_path("binaryData", k), k, is_config_map_key(k));
        total += v.as_str().map_or(0, base64_decoded_len);
    }
    if total > MAX_SECRET_SIZE {
        // Upstream reports the size against the whole object, with an empty path.
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE));
    }
}

fn validate_secret(obj: &Value, errs: &mut Errs) {
    let mut total = 0;
    let mut keys = BTreeSet::new();
    for (k, v) in obj_of(obj, "data").into_iter().flatten() {
        push_msgs(errs, &key_path("data", k), k, is_config_map_key(k));
        total += v.as_str().map_or(0, base64_decoded_len);
        keys.insert(k.clone());
    }
    // stringData is merged into data on write; check it the same way.
    for (k, v) in obj_of(obj, "stringData").into_iter().flatten() {
        push_msgs(errs, &key_path("stringData", k), k, is_config_map_key(k));
        total += v.as_str().map_or(0, str::len);
        keys.insert(k.clone());
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", MAX_SECRET_SIZE));
    }
    let has_key = |k: &str| keys.contains(k);
    match str_of(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let annotations = sub(sub(obj, "metadata"), "annotations");
            if str_of(annotations, "kubernetes.io/service-account.name").is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" if !has_key(".dockercfg") => {
            errs.push(FieldError::required("data[.dockercfg]", ""));
        }
        "kubernetes.io/dockerconfigjson" if !has_key(".dockerconfigjson") => {
            errs.push(FieldError::required("data[.dockerconfigjson]", ""));
        }
        "kubernetes.io/basic-auth" if !has_key("username") && !has_key("password") => {
            errs.push(FieldError::required("data[username]", ""));
            errs.push(FieldError::required("data[password]", ""));
        }
        "kubernetes.io/ssh-auth" if !has_key("ssh-privatekey") => {
            errs.push(FieldError::required("data[ssh-privatekey]", ""));
        }
        "kubernetes.io/tls" => {
            for k in ["tls.crt", "tls.key"] {
                if !has_key(k) {
                    errs.push(FieldError::required(key_path("data", k), ""));
                }
            }
        }
        _ => {}
    }
}

fn validate_namespace(spec: &Value, errs: &mut Errs) {
    for f in arr(spec, "finalizers") {
        let f = f.as_str().unwrap_or("");
        let msgs = is_qualified_name(f);
        if !msgs.is_empty() {
            push_msgs(errs, "spec.finalizers", f, msgs);
        } else if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            errs.push(FieldError::invalid(
                "spec.finalizers",
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

fn validate_node(spec: &Value, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, taint) in arr(spec, "taints").iter().enumerate() {
        let p = index("spec.taints", i);
        let key = str_of(taint, "key");
        push_msgs(errs, &child(&p, "key"), key, is_qualified_name(key));
        let value = str_of(taint, "value");
        push_msgs(
            errs,
            &child(&p, "value"),
            value,
            is_valid_label_value(value),
        );
        let effect = str_of(taint, "effect");
        if effect.is_empty() {
            errs.push(FieldError::required(child(&p, "effect"), ""));
        } else if !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                child(&p, "effect"),
                effect,
                TAINT_EFFECTS,
            ));
        }
        if !seen.insert((key.to_string(), effect.to_string())) {
            let mut e = FieldError::duplicate(p, taint.clone());
            e.detail = "taints must be unique by key and effect pair".into();
            errs.push(e);
        }
    }
    if let Some(cidr) = opt_str(spec, "podCIDR").filter(|c| !c.is_empty()) {
        push_msgs(errs, "spec.podCIDR", cidr, is_valid_cidr(cidr));
    }
    for (i, cidr) in arr(spec, "podCIDRs").iter().enumerate() {
        let cidr = cidr.as_str().unwrap_or("");
        push_msgs(errs, &index("spec.podCIDRs", i), cidr, is_valid_cidr(cidr));
    }
}

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn validate_access_modes(spec: &Value, errs: &mut Errs) {
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(
            "spec.accessModes",
            "at least 1 access mode is required",
        ));
    }
    for m in modes {
        let m = m.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                "spec.accessModes",
                m,
                ACCESS_MODES,
            ));
        }
    }
    check_enum(spec, "volumeMode", "spec", &["Block", "Filesystem"], errs);
}

/// A quantity that must be present and positive, at `path`.
fn check_positive_quantity(v: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        errs.push(FieldError::required(path, ""));
        return;
    };
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    match Quantity::parse(text.trim()) {
        Err(e) => errs.push(FieldError::invalid(path, text, e.to_string())),
        Ok(q) if q.signum() <= 0 => errs.push(FieldError::invalid(
            path,
            q.to_string(),
            "must be greater than zero",
        )),
        Ok(_) => {}
    }
}

fn validate_pvc(spec: &Value, errs: &mut Errs) {
    validate_access_modes(spec, errs);
    let storage = sub(sub(spec, "resources"), "requests").get("storage");
    check_positive_quantity(storage, "spec.resources[storage]", errs);
    if let Some(sel) = spec.get("selector").filter(|s| !s.is_null()) {
        errs.extend(validate_label_selector(sel, "spec.selector"));
    }
}

/// Fields of a PersistentVolume spec that are not its volume source.
const PV_NON_SOURCE_FIELDS: &[&str] = &[
    "accessModes",
    "capacity",
    "claimRef",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "mountOptions",
    "volumeMode",
    "nodeAffinity",
    "volumeAttributesClassName",
];

fn pv_sources(spec: &Value) -> Vec<&String> {
    spec.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !PV_NON_SOURCE_FIELDS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, _)| k)
        .collect()
}

fn validate_pv(spec: &Value, errs: &mut Errs) {
    validate_access_modes(spec, errs);
    if !has(spec, "capacity") {
        errs.push(FieldError::required("spec.capacity", ""));
    } else {
        check_positive_quantity(
            sub(spec, "capacity").get("storage"),
            "spec.capacity[storage]",
            errs,
        );
    }
    match pv_sources(spec).as_slice() {
        [] => errs.push(FieldError::required("spec", "must specify a volume type")),
        [_] => {}
        [_, second, ..] => errs.push(FieldError::forbidden(
            child("spec", second),
            "may not specify more than 1 volume type",
        )),
    }
    check_enum(
        spec,
        "persistentVolumeReclaimPolicy",
        "spec",
        &["Delete", "Recycle", "Retain"],
        errs,
    );
}

fn validate_resource_quota(spec: &Value, errs: &mut Errs) {
    for which in ["hard", "used"] {
        for (name, v) in obj_of(spec, which).into_iter().flatten() {
            let p = key_path(&child("spec", which), name);
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match Quantity::parse(text.trim()) {
                Err(e) => errs.push(FieldError::invalid(p, text, e.to_string())),
                Ok(q) if q.signum() < 0 => errs.push(FieldError::invalid(
                    p,
                    q.to_string(),
                    "must be greater than or equal to 0",
                )),
                Ok(_) => {}
            }
        }
    }
}

fn validate_storage_class(obj: &Value, errs: &mut Errs) {
    if str_of(obj, "provisioner").is_empty() {
        errs.push(FieldError::required("provisioner", ""));
    }
    check_enum(obj, "reclaimPolicy", "", &["Delete", "Retain"], errs);
    check_enum(
        obj,
        "volumeBindingMode",
        "",
        &["Immediate", "WaitForFirstConsumer"],
        errs,
    );
}

// ---------------------------------------------------------------------------------------
// Workloads.
// ---------------------------------------------------------------------------------------

/// The singular name upstream uses in workload messages.
fn workload_word(plural: &str) -> &'static str {
    match plural {
        "statefulsets" => "statefulset",
        "daemonsets" => "daemonset",
        // Upstream's ReplicaSet check also says "deployment".
        _ => "deployment",
    }
}

/// Selector required and non-empty, template labels matching it.
fn validate_selector_and_template(spec: &Value, word: &str, errs: &mut Errs) {
    let sel = sub(spec, "selector");
    if sel.is_null() {
        errs.push(FieldError::required("spec.selector", ""));
    } else {
        errs.extend(validate_label_selector(sel, "spec.selector"));
        if arr(sel, "matchExpressions").is_empty()
            && obj_of(sel, "matchLabels").is_none_or(Map::is_empty)
        {
            errs.push(FieldError::invalid_rendered(
                "spec.selector",
                go_label_selector(sel),
                format!("empty selector is invalid for {word}"),
            ));
        }
    }
    check_template_matches_selector(spec, sel, errs);
}

fn check_template_matches_selector(spec: &Value, sel: &Value, errs: &mut Errs) {
    if sel.is_null() {
        return;
    }
    let labels = sub(sub(sub(spec, "template"), "metadata"), "labels");
    match selector_of(sel) {
        None => errs.push(FieldError::invalid_rendered(
            "spec.selector",
            go_label_selector(sel),
            "invalid label selector",
        )),
        Some(s) if !s.is_empty() && !s.matches(&string_map(labels)) => {
            errs.push(FieldError::invalid_rendered(
                "spec.template.metadata.labels",
                go_string_map(labels),
                "`selector` does not match template `labels`",
            ));
        }
        Some(_) => {}
    }
}

/// The pod template of a workload whose pods run forever (restartPolicy Always).
fn validate_long_running_template(spec: &Value, kind: &str, errs: &mut Errs) {
    let tpl = sub(spec, "template");
    validate_pod_template(tpl, "spec.template", errs);
    let pod_spec = sub(tpl, "spec");
    if let Some(policy) = opt_str(pod_spec, "restartPolicy") {
        if policy != "Always" && RESTART_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                "spec.template.spec.restartPolicy",
                policy,
                &["Always"],
            ));
        }
    }
    if let Some(secs) = int_of(pod_spec, "activeDeadlineSeconds") {
        errs.push(FieldError::invalid(
            "spec.template.spec.activeDeadlineSeconds",
            secs,
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

fn validate_workload(plural: &str, spec: &Value, errs: &mut Errs) {
    validate_selector_and_template(spec, workload_word(plural), errs);
    let kind = match plural {
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        _ => "ReplicaSet",
    };
    validate_long_running_template(spec, kind, errs);
    if plural != "daemonsets" {
        check_nonnegative(spec, "replicas", "spec", errs);
    }
    check_nonnegative(spec, "minReadySeconds", "spec", errs);
    check_nonnegative(spec, "revisionHistoryLimit", "spec", errs);
    match plural {
        "deployments" => validate_deployment_strategy(spec, errs),
        "daemonsets" => {
            let strategy = sub(spec, "updateStrategy");
            check_enum(
                strategy,
                "type",
                "spec.updateStrategy",
                &["OnDelete", "RollingUpdate"],
                errs,
            );
            let ru = sub(strategy, "rollingUpdate");
            check_int_or_percent(
                ru,
                "maxUnavailable",
                "spec.updateStrategy.rollingUpdate",
                errs,
            );
            check_int_or_percent(ru, "maxSurge", "spec.updateStrategy.rollingUpdate", errs);
        }
        "statefulsets" => {
            check_enum(
                spec,
                "podManagementPolicy",
                "spec",
                &["OrderedReady", "Parallel"],
                errs,
            );
            let strategy = sub(spec, "updateStrategy");
            check_enum(
                strategy,
                "type",
                "spec.updateStrategy",
                &["OnDelete", "RollingUpdate"],
                errs,
            );
            let ru = sub(strategy, "rollingUpdate");
            check_nonnegative(ru, "partition", "spec.updateStrategy.rollingUpdate", errs);
            check_int_or_percent(
                ru,
                "maxUnavailable",
                "spec.updateStrategy.rollingUpdate",
                errs,
            );
            if let Some(name) = opt_str(spec, "serviceName").filter(|n| !n.is_empty()) {
                push_msgs(errs, "spec.serviceName", name, is_dns1123_label(name));
            }
            for (i, pvc) in arr(spec, "volumeClaimTemplates").iter().enumerate() {
                let name = str_of(sub(pvc, "metadata"), "name");
                let p = index("spec.volumeClaimTemplates", i);
                if name.is_empty() {
                    errs.push(FieldError::required(child(&p, "metadata.name"), ""));
                } else {
                    push_msgs(
                        errs,
                        &child(&p, "metadata.name"),
                        name,
                        is_dns1123_subdomain(name),
                    );
                }
            }
        }
        _ => {}
    }
}

fn validate_deployment_strategy(spec: &Value, errs: &mut Errs) {
    let strategy = sub(spec, "strategy");
    let strategy_type = opt_str(strategy, "type").unwrap_or("RollingUpdate");
    let ru = sub(strategy, "rollingUpdate");
    match strategy_type {
        "Recreate" if !ru.is_null() => errs.push(FieldError::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        "Recreate" | "RollingUpdate" => {}
        other => errs.push(FieldError::not_supported(
            "spec.strategy.type",
            other,
            &["Recreate", "RollingUpdate"],
        )),
    }
    let rp = "spec.strategy.rollingUpdate";
    check_int_or_percent(ru, "maxUnavailable", rp, errs);
    check_int_or_percent(ru, "maxSurge", rp, errs);
    if is_zero_int_or_percent(ru.get("maxUnavailable"))
        && is_zero_int_or_percent(ru.get("maxSurge"))
    {
        errs.push(FieldError::invalid(
            child(rp, "maxUnavailable"),
            ru.get("maxUnavailable").cloned().unwrap_or(Value::Null),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    check_nonnegative(spec, "progressDeadlineSeconds", "spec", errs);
    if let Some(deadline) = int_of(spec, "progressDeadlineSeconds") {
        if deadline <= int_of(spec, "minReadySeconds").unwrap_or(0) {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
}

fn validate_replication_controller(spec: &Value, errs: &mut Errs) {
    let selector = sub(spec, "selector");
    if let Some(sel) = selector.as_object() {
        // v1 defaults a missing selector from the template labels, so only an explicit
        // empty one is an error.
        if sel.is_empty() {
            errs.push(FieldError::required("spec.selector", ""));
        } else {
            errs.extend(validate_labels(selector, "spec.selector"));
            let labels = sub(sub(sub(spec, "template"), "metadata"), "labels");
            if !LabelSelector::from_set(&string_map(selector)).matches(&string_map(labels)) {
                errs.push(FieldError::invalid_rendered(
                    "spec.template.metadata.labels",
                    go_string_map(labels),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    check_nonnegative(spec, "replicas", "spec", errs);
    check_nonnegative(spec, "minReadySeconds", "spec", errs);
    if sub(spec, "template").is_null() {
        errs.push(FieldError::required("spec.template", ""));
    } else {
        validate_long_running_template(spec, "ReplicationController", errs);
    }
}

fn validate_job_spec(spec: &Value, path: &str, errs: &mut Errs) {
    for key in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        check_nonnegative(spec, key, path, errs);
    }
    let mode = opt_str(spec, "completionMode").unwrap_or("NonIndexed");
    if !["Indexed", "NonIndexed"].contains(&mode) {
        errs.push(FieldError::not_supported(
            child(path, "completionMode"),
            mode,
            &["NonIndexed", "Indexed"],
        ));
    } else if mode == "Indexed" && !has(spec, "completions") {
        errs.push(FieldError::required(
            child(path, "completions"),
            "when completion mode is Indexed",
        ));
    }
    // The selector is normally generated by the apiserver; a given one must match the template.
    let sel = sub(spec, "selector");
    if !sel.is_null() {
        errs.extend(validate_label_selector(sel, &child(path, "selector")));
        let labels = sub(sub(sub(spec, "template"), "metadata"), "labels");
        if let Some(s) = selector_of(sel) {
            if !s.is_empty() && !s.matches(&string_map(labels)) {
                errs.push(FieldError::invalid_rendered(
                    child(path, "template.metadata.labels"),
                    go_string_map(labels),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    let tpl_path = child(path, "template");
    let tpl = sub(spec, "template");
    validate_pod_template(tpl, &tpl_path, errs);
    // A job's pods must finish, so they may not restart forever (upstream defaults to Always).
    let policy = opt_str(sub(tpl, "spec"), "restartPolicy").unwrap_or("Always");
    if policy != "OnFailure" && policy != "Never" && RESTART_POLICIES.contains(&policy) {
        errs.push(FieldError::not_supported(
            child(&tpl_path, "spec.restartPolicy"),
            policy,
            &["OnFailure", "Never"],
        ));
    }
}

fn validate_cron_job(obj: &Value, errs: &mut Errs) {
    let name = str_of(sub(obj, "metadata"), "name");
    // Job names get an 11-character suffix and must stay DNS-1035 labels.
    if name.len() > 52 {
        errs.push(FieldError::invalid(
            "metadata.name",
            name,
            "must be no more than 52 characters",
        ));
    }
    let spec = sub(obj, "spec");
    let schedule = str_of(spec, "schedule");
    if schedule.is_empty() {
        errs.push(FieldError::required("spec.schedule", ""));
    } else if schedule.contains("TZ") {
        errs.push(FieldError::invalid(
            "spec.schedule",
            schedule,
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ));
    } else if let Err(msg) = check_cron_schedule(schedule) {
        errs.push(FieldError::invalid("spec.schedule", schedule, msg));
    }
    check_enum(
        spec,
        "concurrencyPolicy",
        "spec",
        &["Allow", "Forbid", "Replace"],
        errs,
    );
    for key in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        check_nonnegative(spec, key, "spec", errs);
    }
    let job_template = sub(spec, "jobTemplate");
    errs.extend(validate_labels(
        sub(sub(job_template, "metadata"), "labels"),
        "spec.jobTemplate.metadata.labels",
    ));
    validate_job_spec(sub(job_template, "spec"), "spec.jobTemplate.spec", errs);
}

/// Checks a standard five-field cron schedule (or a `@daily`-style descriptor), with the
/// messages of the cron library upstream uses.
pub fn check_cron_schedule(schedule: &str) -> Result<(), String> {
    if let Some(descriptor) = schedule.strip_prefix('@') {
        return match descriptor {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            d if d.starts_with("every ") => Ok(()),
            _ => Err(format!("unrecognized descriptor: {schedule}")),
        };
    }
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "Expected exactly 5 fields, found {}: {schedule}",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let bounds: [(u32, u32, &[&str]); 5] = [
        (0, 59, &[]),
        (0, 23, &[]),
        (1, 31, &[]),
        (1, 12, MONTHS),
        (0, 6, DAYS),
    ];
    for (field, (min, max, names)) in fields.iter().zip(bounds) {
        for expr in field.split(',') {
            check_cron_range(expr, min, max, names)?;
        }
    }
    Ok(())
}

fn check_cron_range(expr: &str, min: u32, max: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match expr.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (expr, None),
    };
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + min);
        }
        s.parse::<u32>().map_err(|_| {
            format!("failed to parse int from {s}: strconv.Atoi: parsing \"{s}\": invalid syntax")
        })
    };
    let (lo, hi) = if range == "*" || range == "?" {
        (min, max)
    } else if let Some((a, b)) = range.split_once('-') {
        (value(a)?, value(b)?)
    } else {
        let v = value(range)?;
        (v, v)
    };
    if let Some(step) = step {
        let n = value(step)?;
        if n == 0 {
            return Err(format!("step of range should be a positive number: {expr}"));
        }
    }
    if lo < min {
        return Err(format!(
            "beginning of range ({lo}) below minimum ({min}): {expr}"
        ));
    }
    if hi > max {
        return Err(format!("end of range ({hi}) above maximum ({max}): {expr}"));
    }
    if lo > hi {
        return Err(format!(
            "beginning of range ({lo}) beyond end of range ({hi}): {expr}"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Coordination, networking, policy, autoscaling, scheduling, RBAC.
// ---------------------------------------------------------------------------------------

fn validate_lease(spec: &Value, errs: &mut Errs) {
    if let Some(d) = int_of(spec, "leaseDurationSeconds") {
        if d <= 0 {
            errs.push(FieldError::invalid(
                "spec.leaseDurationSeconds",
                d,
                "must be greater than 0",
            ));
        }
    }
    check_nonnegative(spec, "leaseTransitions", "spec", errs);
}

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];

fn validate_ingress(spec: &Value, errs: &mut Errs) {
    let rules = arr(spec, "rules");
    if let Some(backend) = spec.get("defaultBackend").filter(|b| !b.is_null()) {
        validate_ingress_backend(backend, "spec.defaultBackend", errs);
    } else if rules.is_empty() {
        errs.push(FieldError::invalid_rendered(
            "spec",
            normalized(spec).to_string(),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    for (i, rule) in rules.iter().enumerate() {
        let p = index("spec.rules", i);
        let host = str_of(rule, "host");
        if !host.is_empty() {
            if host.parse::<IpAddr>().is_ok() {
                errs.push(FieldError::invalid(
                    child(&p, "host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            } else if host.contains('*') {
                push_msgs(
                    errs,
                    &child(&p, "host"),
                    host,
                    is_wildcard_dns1123_subdomain(host),
                );
            } else {
                push_msgs(errs, &child(&p, "host"), host, is_dns1123_subdomain(host));
            }
        }
        let http = sub(rule, "http");
        if http.is_null() {
            continue;
        }
        let paths = arr(http, "paths");
        if paths.is_empty() {
            errs.push(FieldError::required(child(&p, "http.paths"), ""));
        }
        for (j, path) in paths.iter().enumerate() {
            let pp = index(&child(&p, "http.paths"), j);
            let path_type = str_of(path, "pathType");
            let text = str_of(path, "path");
            if path_type.is_empty() {
                errs.push(FieldError::required(
                    child(&pp, "pathType"),
                    "pathType must be specified",
                ));
            } else if !PATH_TYPES.contains(&path_type) {
                errs.push(FieldError::not_supported(
                    child(&pp, "pathType"),
                    path_type,
                    PATH_TYPES,
                ));
            } else if path_type != "ImplementationSpecific" && !text.starts_with('/') {
                errs.push(FieldError::invalid(
                    child(&pp, "path"),
                    text,
                    "must be an absolute path",
                ));
            }
            validate_ingress_backend(sub(path, "backend"), &child(&pp, "backend"), errs);
        }
    }
    for (i, tls) in arr(spec, "tls").iter().enumerate() {
        for (j, host) in arr(tls, "hosts").iter().enumerate() {
            let host = host.as_str().unwrap_or("");
            let p = index(&child(&index("spec.tls", i), "hosts"), j);
            let msgs = if host.contains('*') {
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            push_msgs(errs, &p, host, msgs);
        }
    }
}

fn validate_ingress_backend(backend: &Value, path: &str, errs: &mut Errs) {
    let service = sub(backend, "service");
    let resource = sub(backend, "resource");
    match (service.is_null(), resource.is_null()) {
        (false, false) => errs.push(FieldError::invalid_rendered(
            path,
            normalized(backend).to_string(),
            "cannot set both resource and service backends",
        )),
        (true, true) => errs.push(FieldError::invalid_rendered(
            path,
            normalized(backend).to_string(),
            "resource or service backend is required",
        )),
        (false, true) => {
            let sp = child(path, "service");
            let name = str_of(service, "name");
            if name.is_empty() {
                errs.push(FieldError::required(child(&sp, "name"), ""));
            } else {
                push_msgs(errs, &child(&sp, "name"), name, is_dns1035_label(name));
            }
            let port = sub(service, "port");
            let pp = child(&sp, "port");
            let port_name = str_of(port, "name");
            match (port_name.is_empty(), int_of(port, "number")) {
                (false, Some(_)) => errs.push(FieldError::invalid_rendered(
                    pp,
                    normalized(port).to_string(),
                    "cannot set both port name & port number",
                )),
                (false, None) => push_msgs(
                    errs,
                    &child(&pp, "name"),
                    port_name,
                    is_valid_port_name(port_name),
                ),
                (true, Some(n)) => {
                    for msg in is_valid_port_num(n) {
                        errs.push(FieldError::invalid(child(&pp, "number"), n, msg));
                    }
                }
                (true, None) => errs.push(FieldError::invalid_rendered(
                    pp,
                    normalized(port).to_string(),
                    "port name or number is required",
                )),
            }
        }
        (true, false) => {
            let rp = child(path, "resource");
            for key in ["kind", "name"] {
                if str_of(resource, key).is_empty() {
                    errs.push(FieldError::required(child(&rp, key), ""));
                }
            }
        }
    }
}

fn validate_network_policy(spec: &Value, errs: &mut Errs) {
    errs.extend(validate_label_selector(
        sub(spec, "podSelector"),
        "spec.podSelector",
    ));
    for (i, t) in arr(spec, "policyTypes").iter().enumerate() {
        let t = t.as_str().unwrap_or("");
        if t != "Ingress" && t != "Egress" {
            errs.push(FieldError::not_supported(
                index("spec.policyTypes", i),
                t,
                &["Ingress", "Egress"],
            ));
        }
    }
    for (dir, peers_key) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = index(&child("spec", dir), i);
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                let pp = index(&child(&rp, "ports"), j);
                check_enum(port, "protocol", &pp, PROTOCOLS, errs);
                validate_port_num_or_name(port.get("port"), &child(&pp, "port"), errs);
            }
            for (j, peer) in arr(rule, peers_key).iter().enumerate() {
                let pp = index(&child(&rp, peers_key), j);
                for sel in ["podSelector", "namespaceSelector"] {
                    if let Some(s) = peer.get(sel).filter(|s| !s.is_null()) {
                        errs.extend(validate_label_selector(s, &child(&pp, sel)));
                    }
                }
                if let Some(cidr) = opt_str(sub(peer, "ipBlock"), "cidr") {
                    push_msgs(errs, &child(&pp, "ipBlock.cidr"), cidr, is_valid_cidr(cidr));
                }
            }
        }
    }
}

fn validate_pdb(spec: &Value, errs: &mut Errs) {
    if has(spec, "minAvailable") && has(spec, "maxUnavailable") {
        errs.push(FieldError::invalid_rendered(
            "spec",
            normalized(spec).to_string(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    check_int_or_percent(spec, "minAvailable", "spec", errs);
    check_int_or_percent(spec, "maxUnavailable", "spec", errs);
    if let Some(sel) = spec.get("selector").filter(|s| !s.is_null()) {
        errs.extend(validate_label_selector(sel, "spec.selector"));
    }
    check_enum(
        spec,
        "unhealthyPodEvictionPolicy",
        "spec",
        &["AlwaysAllow", "IfHealthyBudget"],
        errs,
    );
}

fn validate_hpa(spec: &Value, errs: &mut Errs) {
    let target = sub(spec, "scaleTargetRef");
    if str_of(target, "kind").is_empty() {
        errs.push(FieldError::required("spec.scaleTargetRef.kind", ""));
    }
    let name = str_of(target, "name");
    if name.is_empty() {
        errs.push(FieldError::required("spec.scaleTargetRef.name", ""));
    } else {
        push_msgs(
            errs,
            "spec.scaleTargetRef.name",
            name,
            is_valid_path_segment_name(name),
        );
    }
    let min = int_of(spec, "minReplicas");
    if let Some(m) = min.filter(|m| *m < 1) {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            m,
            "must be greater than or equal to 1",
        ));
    }
    let max = int_of(spec, "maxReplicas").unwrap_or(0);
    if max < 1 {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            max,
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|m| max < m) {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
}

/// Priority classes upstream creates itself, with their values.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i64)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

fn validate_priority_class(obj: &Value, errs: &mut Errs) {
    let name = str_of(sub(obj, "metadata"), "name");
    let value = int_of(obj, "value").unwrap_or(0);
    if name.starts_with("system-") {
        let known = SYSTEM_PRIORITY_CLASSES
            .iter()
            .any(|(n, v)| *n == name && *v == value);
        if !known {
            errs.push(FieldError::forbidden(
                "metadata.name",
                format!(
                    "priority class names with 'system-' prefix are reserved for system use only. error: {name} is not a known system priority class"
                ),
            ));
        }
    } else if value > HIGHEST_USER_PRIORITY {
        errs.push(FieldError::forbidden(
            "value",
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"),
        ));
    }
    check_enum(
        obj,
        "preemptionPolicy",
        "",
        &["Never", "PreemptLowerPriority"],
        errs,
    );
}

fn validate_rules(obj: &Value, namespaced: bool, errs: &mut Errs) {
    for (i, rule) in arr(obj, "rules").iter().enumerate() {
        let p = index("rules", i);
        if arr(rule, "verbs").is_empty() {
            errs.push(FieldError::required(
                child(&p, "verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = arr(rule, "nonResourceURLs");
        if !urls.is_empty() {
            let shown = Value::Array(urls.to_vec());
            if namespaced {
                errs.push(FieldError::invalid(
                    child(&p, "nonResourceURLs"),
                    shown.clone(),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !arr(rule, "apiGroups").is_empty()
                || !arr(rule, "resources").is_empty()
                || !arr(rule, "resourceNames").is_empty()
            {
                errs.push(FieldError::invalid(
                    child(&p, "nonResourceURLs"),
                    shown,
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if arr(rule, "apiGroups").is_empty() {
            errs.push(FieldError::required(
                child(&p, "apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(rule, "resources").is_empty() {
            errs.push(FieldError::required(
                child(&p, "resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn validate_binding(obj: &Value, namespaced: bool, errs: &mut Errs) {
    let role_ref = sub(obj, "roleRef");
    let group = str_of(role_ref, "apiGroup");
    if group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            "roleRef.apiGroup",
            group,
            &[RBAC_GROUP],
        ));
    }
    let kind = str_of(role_ref, "kind");
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported("roleRef.kind", kind, kinds));
    }
    let name = str_of(role_ref, "name");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        push_msgs(errs, "roleRef.name", name, is_valid_path_segment_name(name));
    }
    for (i, subject) in arr(obj, "subjects").iter().enumerate() {
        let p = index("subjects", i);
        let name = str_of(subject, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        }
        let api_group = str_of(subject, "apiGroup");
        match str_of(subject, "kind") {
            "ServiceAccount" => {
                if !name.is_empty() {
                    push_msgs(errs, &child(&p, "name"), name, is_dns1123_subdomain(name));
                }
                if !api_group.is_empty() {
                    errs.push(FieldError::not_supported(
                        child(&p, "apiGroup"),
                        api_group,
                        &[""],
                    ));
                }
                if !namespaced && str_of(subject, "namespace").is_empty() {
                    errs.push(FieldError::required(child(&p, "namespace"), ""));
                }
            }
            "User" | "Group" => {
                if api_group != RBAC_GROUP {
                    errs.push(FieldError::not_supported(
                        child(&p, "apiGroup"),
                        api_group,
                        &[RBAC_GROUP],
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Updates.
// ---------------------------------------------------------------------------------------

/// Validates an update: everything `validate` checks plus immutable fields. The caller checks
/// that `metadata.name` and `metadata.namespace` did not change.
pub fn validate_update(
    group: &str,
    plural: &str,
    namespaced: bool,
    old: &Value,
    new: &Value,
) -> Vec<FieldError> {
    let mut errs = validate(group, plural, namespaced, new);
    let (old_spec, new_spec) = (sub(old, "spec"), sub(new, "spec"));
    match (group, plural) {
        ("", "pods") => validate_pod_update(old_spec, new_spec, &mut errs),
        ("", "services") => validate_service_update(old_spec, new_spec, &mut errs),
        ("", "configmaps") => validate_immutable_data(old, new, &["data", "binaryData"], &mut errs),
        ("", "secrets") => {
            validate_immutable_data(old, new, &["data"], &mut errs);
            let secret_type = |o: &Value| {
                opt_str(o, "type")
                    .filter(|t| !t.is_empty())
                    .unwrap_or("Opaque")
                    .to_string()
            };
            if secret_type(old) != secret_type(new) {
                errs.push(FieldError::invalid(
                    "type",
                    secret_type(new),
                    "field is immutable",
                ));
            }
        }
        ("", "persistentvolumeclaims") => validate_pvc_update(old_spec, new_spec, &mut errs),
        ("", "persistentvolumes") => {
            let source = |s: &Value| {
                let keys = pv_sources(s);
                keys.iter()
                    .map(|k| (k.to_string(), normalized(sub(s, k))))
                    .collect::<Vec<_>>()
            };
            if source(old_spec) != source(new_spec) {
                errs.push(FieldError::forbidden(
                    "spec.persistentvolumesource",
                    "spec.persistentvolumesource is immutable after creation",
                ));
            }
        }
        ("", "nodes") => {
            let old_cidrs = arr(old_spec, "podCIDRs");
            if !old_cidrs.is_empty()
                && !same(&Value::Array(old_cidrs.to_vec()), sub(new_spec, "podCIDRs"))
            {
                errs.push(FieldError::forbidden(
                    "spec.podCIDRs",
                    "node updates may not change podCIDR except from \"\" to valid",
                ));
            }
        }
        ("apps", "deployments" | "replicasets" | "daemonsets" | "statefulsets") => {
            check_selector_immutable(old_spec, new_spec, &mut errs);
            if plural == "statefulsets" {
                validate_stateful_set_update(old_spec, new_spec, &mut errs);
            }
        }
        ("batch", "jobs") => {
            check_selector_immutable(old_spec, new_spec, &mut errs);
            validate_job_template_update(old, new, &mut errs);
        }
        ("discovery.k8s.io", "endpointslices")
            if str_of(old, "addressType") != str_of(new, "addressType") =>
        {
            errs.push(FieldError::invalid(
                "addressType",
                str_of(new, "addressType"),
                "field is immutable",
            ));
        }
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            let (old_ref, new_ref) = (sub(old, "roleRef"), sub(new, "roleRef"));
            if !same(old_ref, new_ref) {
                errs.push(FieldError::invalid_rendered(
                    "roleRef",
                    format!(
                        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                        go_quote(str_of(new_ref, "apiGroup")),
                        go_quote(str_of(new_ref, "kind")),
                        go_quote(str_of(new_ref, "name"))
                    ),
                    "cannot change roleRef",
                ));
            }
        }
        ("scheduling.k8s.io", "priorityclasses") => {
            if int_of(old, "value") != int_of(new, "value") {
                errs.push(FieldError::forbidden(
                    "value",
                    "may not be changed in an update.",
                ));
            }
            let policy = |o: &Value| {
                opt_str(o, "preemptionPolicy")
                    .unwrap_or("PreemptLowerPriority")
                    .to_string()
            };
            if policy(old) != policy(new) {
                errs.push(FieldError::invalid(
                    "preemptionPolicy",
                    policy(new),
                    "field is immutable",
                ));
            }
        }
        _ => {}
    }
    errs
}

fn validate_pod_update(old: &Value, new: &Value, errs: &mut Errs) {
    // activeDeadlineSeconds may be added or lowered, never raised or removed.
    match (
        int_of(old, "activeDeadlineSeconds"),
        int_of(new, "activeDeadlineSeconds"),
    ) {
        (Some(o), Some(n)) if n > o => {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                n,
                "must be less than or equal to previous value",
            ));
            return;
        }
        (Some(_), None) => {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                Value::Null,
                "must not update from a positive integer to nil value",
            ));
            return;
        }
        _ => {}
    }
    // Existing tolerations must all remain (only their tolerationSeconds may change).
    let without_seconds = |t: &Value| {
        let mut t = normalized(t);
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    let new_tolerations: Vec<Value> = arr(new, "tolerations")
        .iter()
        .map(without_seconds)
        .collect();
    for t in arr(old, "tolerations") {
        if !new_tolerations.contains(&without_seconds(t)) {
            errs.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            return;
        }
    }

    // Copy the mutable fields from the new spec onto the old one; anything else that differs
    // is a forbidden change.
    let mut patched = old.clone();
    let Some(p) = patched.as_object_mut() else {
        return;
    };
    for key in ["containers", "initContainers"] {
        let new_list = arr(new, key);
        if let Some(Value::Array(list)) = p.get_mut(key) {
            if list.len() == new_list.len() {
                for (c, n) in list.iter_mut().zip(new_list) {
                    if let (Some(c), Some(image)) = (c.as_object_mut(), n.get("image")) {
                        c.insert("image".into(), image.clone());
                    }
                }
            }
        }
    }
    for key in ["activeDeadlineSeconds", "tolerations"] {
        match new.get(key) {
            Some(v) => p.insert(key.into(), v.clone()),
            None => p.remove(key),
        };
    }
    // A negative grace period (old clients) may be corrected to 1.
    if int_of(old, "terminationGracePeriodSeconds").is_some_and(|s| s < 0)
        && int_of(new, "terminationGracePeriodSeconds") == Some(1)
    {
        p.insert("terminationGracePeriodSeconds".into(), Value::from(1));
    }
    if !same(&patched, new) {
        errs.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN));
    }
}

fn validate_service_update(old: &Value, new: &Value, errs: &mut Errs) {
    // ExternalName services have no cluster IP, so switching to or from them may change it.
    let is_external = |s: &Value| str_of(s, "type") == "ExternalName";
    if is_external(old) || is_external(new) {
        return;
    }
    let (old_ip, new_ip) = (str_of(old, "clusterIP"), str_of(new, "clusterIP"));
    if !old_ip.is_empty() && old_ip != new_ip {
        errs.push(FieldError::invalid(
            "spec.clusterIP",
            new_ip,
            "field is immutable",
        ));
    }
}

fn validate_immutable_data(old: &Value, new: &Value, fields: &[&str], errs: &mut Errs) {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden(
            "immutable",
            "field is immutable when `immutable` is set",
        ));
    }
    for f in fields {
        if !same(sub(old, f), sub(new, f)) {
            errs.push(FieldError::forbidden(
                *f,
                "field is immutable when `immutable` is set",
            ));
        }
    }
}

fn check_selector_immutable(old: &Value, new: &Value, errs: &mut Errs) {
    let (old_sel, new_sel) = (sub(old, "selector"), sub(new, "selector"));
    if !same(old_sel, new_sel) {
        errs.push(FieldError::invalid_rendered(
            "spec.selector",
            go_label_selector(new_sel),
            "field is immutable",
        ));
    }
}

fn validate_stateful_set_update(old: &Value, new: &Value, errs: &mut Errs) {
    let strip = |s: &Value| {
        let mut s = normalized(s);
        if let Some(m) = s.as_object_mut() {
            for k in [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ] {
                m.remove(k);
            }
        }
        s
    };
    if strip(old) != strip(new) {
        errs.push(FieldError::forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}

fn validate_job_template_update(old: &Value, new: &Value, errs: &mut Errs) {
    let (old_tpl, new_tpl) = (
        sub(sub(old, "spec"), "template"),
        sub(sub(new, "spec"), "template"),
    );
    // A suspended job that never started may still change its pods' scheduling directives
    // and labels (upstream's "mutable scheduling directives").
    let never_started = sub(sub(old, "status"), "startTime").is_null();
    let suspended = sub(sub(old, "spec"), "suspend").as_bool() == Some(true);
    let mutable: &[&str] = if suspended && never_started {
        &[
            "metadata.labels",
            "metadata.annotations",
            "spec.nodeSelector",
            "spec.affinity",
            "spec.tolerations",
            "spec.schedulingGates",
        ]
    } else {
        &[]
    };
    let strip = |t: &Value| {
        let mut t = normalized(t);
        for path in mutable {
            let (outer, inner) = path.split_once('.').unwrap_or((path, ""));
            if let Some(m) = t.get_mut(outer).and_then(Value::as_object_mut) {
                m.remove(inner);
            }
        }
        normalized(&t)
    };
    if strip(old_tpl) != strip(new_tpl) {
        errs.push(FieldError::invalid_rendered(
            "spec.template",
            normalized(new_tpl).to_string(),
            "field is immutable",
        ));
    }
}

fn validate_pvc_update(old: &Value, new: &Value, errs: &mut Errs) {
    let strip = |s: &Value, old_volume_name: &str| {
        let mut s = normalized(s);
        if let Some(m) = s.as_object_mut() {
            m.remove("volumeAttributesClassName");
            // The binder sets volumeName once; that is not a user change.
            if old_volume_name.is_empty() {
                m.remove("volumeName");
            }
            if let Some(Value::Object(r)) = m.get_mut("resources") {
                r.remove("requests");
            }
        }
        normalized(&s)
    };
    let old_volume = str_of(old, "volumeName");
    if strip(old, old_volume) != strip(new, old_volume) {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msgs(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(FieldError::message).collect()
    }

    fn check(group: &str, plural: &str, namespaced: bool, obj: Value) -> Vec<String> {
        msgs(&validate(group, plural, namespaced, &obj))
    }

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    fn check_pod(spec: Value) -> Vec<String> {
        check("", "pods", true, pod(spec))
    }

    fn container() -> Value {
        json!({"name": "app", "image": "nginx"})
    }

    fn deployment(spec: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    fn good_deployment_spec() -> Value {
        json!({
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container()]}
            }
        })
    }

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    // --- name and format checks ---

    #[test]
    fn dns1123_subdomain() {
        assert!(is_dns1123_subdomain("example.com").is_empty());
        assert!(is_dns1123_subdomain("a").is_empty());
        assert!(is_dns1123_subdomain("1-2.x-y").is_empty());
        assert_eq!(is_dns1123_subdomain("Example.com"), [SUBDOMAIN_MSG]);
        for bad in ["", "-a", "a-", "a..b", ".a", "a.", "a_b"] {
            assert_eq!(is_dns1123_subdomain(bad), [SUBDOMAIN_MSG], "{bad:?}");
        }
        let long = "a".repeat(254);
        assert_eq!(
            is_dns1123_subdomain(&long),
            ["must be no more than 253 characters"]
        );
        assert!(is_dns1123_subdomain(&"a".repeat(253)).is_empty());
    }

    #[test]
    fn dns1123_label() {
        assert!(is_dns1123_label("my-name").is_empty());
        assert!(is_dns1123_label("123-abc").is_empty());
        assert_eq!(is_dns1123_label("a.b"), ["must not contain dots"]);
        assert_eq!(is_dns1123_label("My-Name"), [LABEL_MSG]);
        assert_eq!(is_dns1123_label(""), [LABEL_MSG]);
        assert_eq!(
            is_dns1123_label(&"a".repeat(64)),
            ["must be no more than 63 characters"]
        );
    }

    #[test]
    fn dns1035_label() {
        assert!(is_dns1035_label("my-svc").is_empty());
        assert_eq!(is_dns1035_label("1svc"), [DNS1035_MSG]);
        assert_eq!(is_dns1035_label("svc-"), [DNS1035_MSG]);
        assert_eq!(
            is_dns1035_label(&"a".repeat(64)),
            ["must be no more than 63 characters"]
        );
    }

    #[test]
    fn qualified_names() {
        for ok in ["app", "App_1.x-y", "example.com/app", "a/B"] {
            assert!(is_qualified_name(ok).is_empty(), "{ok}");
        }
        assert_eq!(
            is_qualified_name("-app"),
            ["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]
        );
        assert_eq!(is_qualified_name("/app"), ["prefix part must be non-empty"]);
        assert_eq!(
            is_qualified_name("example.com/")[0],
            "name part must be non-empty"
        );
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            ["name part must be no more than 63 characters"]
        );
        assert_eq!(
            is_qualified_name("Example.com/app"),
            [format!("prefix part {SUBDOMAIN_MSG}")]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        );
    }

    #[test]
    fn label_values() {
        assert!(is_valid_label_value("").is_empty());
        assert!(is_valid_label_value("v1.2_x-y").is_empty());
        assert_eq!(
            is_valid_label_value("-bad"),
            ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]
        );
        assert_eq!(
            is_valid_label_value(&"v".repeat(64)),
            ["must be no more than 63 characters"]
        );
    }

    #[test]
    fn config_map_keys() {
        assert!(is_config_map_key("key.name").is_empty());
        assert!(is_config_map_key("KEY_NAME").is_empty());
        assert!(is_config_map_key(".hidden").is_empty());
        assert_eq!(
            is_config_map_key("a b"),
            ["a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]
        );
        assert_eq!(is_config_map_key(".."), ["must not be '..'"]);
        assert_eq!(is_config_map_key("."), ["must not be '.'"]);
        assert_eq!(is_config_map_key("..x"), ["must not start with '..'"]);
    }

    #[test]
    fn ports_ips_and_friends() {
        assert!(is_valid_port_num(1).is_empty());
        assert!(is_valid_port_num(65535).is_empty());
        assert_eq!(
            is_valid_port_num(0),
            ["must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            is_valid_port_num(70000),
            ["must be between 1 and 65535, inclusive"]
        );
        assert!(is_valid_port_name("http").is_empty());
        assert_eq!(
            is_valid_port_name("8080"),
            ["must contain at least one letter (a-z)"]
        );
        assert_eq!(
            is_valid_port_name("a--b-"),
            [
                "must not contain consecutive hyphens",
                "must not begin or end with a hyphen"
            ]
        );
        assert_eq!(
            is_valid_port_name("way-too-long-port-name")[0],
            "must be no more than 15 characters"
        );
        assert!(is_valid_ip("10.0.0.1").is_empty());
        assert!(is_valid_ip("2001:db8::1").is_empty());
        assert_eq!(
            is_valid_ip("10.0.0"),
            ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
        );
        assert!(is_valid_cidr("10.0.0.0/8").is_empty());
        assert!(is_valid_cidr("fd00::/64").is_empty());
        assert!(!is_valid_cidr("10.0.0.0/33").is_empty());
        assert!(!is_valid_cidr("10.0.0.0").is_empty());
        assert!(is_valid_percent("25%").is_empty());
        assert_eq!(
            is_valid_percent("25"),
            ["a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]
        );
        assert_eq!(is_valid_path_segment_name(".."), ["may not be '..'"]);
        assert_eq!(
            is_valid_path_segment_name("a/b%c"),
            ["may not contain '/'", "may not contain '%'"]
        );
        assert!(is_valid_path_segment_name("system:admin").is_empty());
        assert!(is_wildcard_dns1123_subdomain("*.example.com").is_empty());
        assert!(!is_wildcard_dns1123_subdomain("*example.com").is_empty());
        assert!(is_env_var_name("MY_VAR.1").is_empty());
        assert!(!is_env_var_name("A=B").is_empty());
    }

    #[test]
    fn name_rules_mask_a_trailing_dash_in_prefixes() {
        assert!(NameRule::Dns1123Subdomain.check("web-", true).is_empty());
        assert_eq!(
            NameRule::Dns1123Subdomain.check("web-", false),
            [SUBDOMAIN_MSG]
        );
        assert!(NameRule::PathSegment.check("..", true).is_empty());
        assert_eq!(
            NameRule::PathSegment.check("..", false),
            ["may not be '..'"]
        );
    }

    // --- error formatting ---

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

    // --- metadata ---

    #[test]
    fn name_or_generate_name_is_required() {
        assert_eq!(
            check("", "configmaps", true, json!({"metadata": {}})),
            ["metadata.name: Required value: name or generateName is required"]
        );
        assert!(check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"generateName": "cm-"}})
        )
        .is_empty());
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"generateName": "CM-"}})
            ),
            [format!(
                "metadata.generateName: Invalid value: \"CM-\": {SUBDOMAIN_MSG}"
            )]
        );
    }

    #[test]
    fn names_follow_each_resource_rule() {
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "My_Config"}})
            ),
            [format!(
                "metadata.name: Invalid value: \"My_Config\": {SUBDOMAIN_MSG}"
            )]
        );
        assert_eq!(
            check(
                "",
                "namespaces",
                false,
                json!({"metadata": {"name": "a.b"}})
            ),
            ["metadata.name: Invalid value: \"a.b\": must not contain dots"]
        );
        assert_eq!(
            check(
                "",
                "services",
                true,
                json!({"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}})
            ),
            [format!(
                "metadata.name: Invalid value: \"1svc\": {DNS1035_MSG}"
            )]
        );
        assert!(check(
            "rbac.authorization.k8s.io",
            "clusterroles",
            false,
            json!({"metadata": {"name": "system:controller:x"}})
        )
        .is_empty());
        assert_eq!(
            check(
                "rbac.authorization.k8s.io",
                "roles",
                true,
                json!({"metadata": {"name": "a/b"}})
            ),
            ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
        assert!(check(
            "",
            "events",
            true,
            json!({"metadata": {"name": "Pod.Web:1"}})
        )
        .is_empty());
        assert!(check(
            "",
            "nodes",
            false,
            json!({"metadata": {"name": "node-1.example.com"}})
        )
        .is_empty());
        assert!(check(
            "example.com",
            "widgets",
            true,
            json!({"metadata": {"name": "w1"}})
        )
        .is_empty());
    }

    #[test]
    fn namespace_must_be_absent_on_cluster_scoped_objects() {
        assert_eq!(
            check(
                "",
                "nodes",
                false,
                json!({"metadata": {"name": "n1", "namespace": "default"}})
            ),
            ["metadata.namespace: Forbidden: not allowed on this type"]
        );
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c", "namespace": "Bad"}})
            ),
            [format!(
                "metadata.namespace: Invalid value: \"Bad\": {LABEL_MSG}"
            )]
        );
    }

    #[test]
    fn labels_and_annotations_are_checked() {
        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c", "labels": {"bad key": "ok", "k": "bad value"}}}),
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0]
            .starts_with("metadata.labels: Invalid value: \"bad key\": name part must consist"));
        assert!(errs[1]
            .starts_with("metadata.labels: Invalid value: \"bad value\": a valid label must"));

        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c", "annotations": {"Example.COM/Key": "x"}}}),
        );
        assert!(
            errs.is_empty(),
            "annotation keys are case-insensitive: {errs:?}"
        );

        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c", "annotations": {"a": big}}})
            ),
            ["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
    }

    #[test]
    fn finalizers_and_owner_references() {
        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c", "finalizers": ["example.com/ok", "bad finalizer"]}}),
        );
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("metadata.finalizers: Invalid value: \"bad finalizer\": name part")
        );
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": ""}]}})
            ),
            ["metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"]
        );
    }

    // --- pods ---

    #[test]
    fn valid_pod_passes() {
        let spec = json!({
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "env": [{"name": "MODE", "value": "prod"}]
            }],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "restartPolicy": "Always",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
        });
        assert_eq!(check_pod(spec), Vec::<String>::new());
    }

    #[test]
    fn pod_needs_containers() {
        assert_eq!(check_pod(json!({})), ["spec.containers: Required value"]);
        assert_eq!(
            check_pod(json!({"containers": []})),
            ["spec.containers: Required value"]
        );
        assert_eq!(
            check("", "pods", true, json!({"metadata": {"name": "p"}})),
            ["spec.containers: Required value"]
        );
    }

    #[test]
    fn container_name_and_image() {
        assert_eq!(
            check_pod(json!({"containers": [{"image": "nginx"}]})),
            ["spec.containers[0].name: Required value"]
        );
        assert_eq!(
            check_pod(json!({"containers": [{"name": "app"}]})),
            ["spec.containers[0].image: Required value"]
        );
        assert_eq!(
            check_pod(json!({"containers": [{"name": "App", "image": "nginx"}]})),
            [format!(
                "spec.containers[0].name: Invalid value: \"App\": {LABEL_MSG}"
            )]
        );
        assert_eq!(
            check_pod(json!({"containers": [container(), container()]})),
            ["spec.containers[1].name: Duplicate value: \"app\""]
        );
        assert_eq!(
            check_pod(json!({"initContainers": [container()], "containers": [container()]})),
            ["spec.containers[0].name: Duplicate value: \"app\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [{"name": "app", "image": " nginx"}]})),
            ["spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace"]
        );
    }

    #[test]
    fn container_ports() {
        let with_ports = |ports: Value| {
            check_pod(json!({"containers": [{"name": "app", "image": "nginx", "ports": ports}]}))
        };
        assert_eq!(
            with_ports(json!([{"containerPort": 70000}])),
            ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            with_ports(json!([{}])),
            ["spec.containers[0].ports[0].containerPort: Required value"]
        );
        assert_eq!(
            with_ports(json!([{"containerPort": 80, "protocol": "HTTP"}])),
            ["spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""]
        );
        assert_eq!(
            with_ports(json!([{"containerPort": 80, "hostPort": 0}, {"containerPort": 81, "hostPort": 99999}])),
            ["spec.containers[0].ports[1].hostPort: Invalid value: 99999: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            with_ports(
                json!([{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}])
            ),
            ["spec.containers[0].ports[1].name: Duplicate value: \"web\""]
        );
        let host_net = check_pod(
            json!({"hostNetwork": true, "containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
        );
        assert_eq!(host_net, ["spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"]);
    }

    #[test]
    fn restart_policy_and_dns_policy() {
        assert_eq!(
            check_pod(json!({"containers": [container()], "restartPolicy": "Sometimes"})),
            ["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "dnsPolicy": "Google"})),
            ["spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "activeDeadlineSeconds": 0})),
            ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"]
        );
    }

    #[test]
    fn volumes_and_mounts() {
        assert_eq!(
            check_pod(
                json!({"containers": [container()], "volumes": [{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}]})
            ),
            ["spec.volumes[1].name: Duplicate value: \"a\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "volumes": [{"name": "a"}]})),
            ["spec.volumes[0]: Required value: must specify a volume type"]
        );
        assert_eq!(
            check_pod(
                json!({"containers": [container()], "volumes": [{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}}]})
            ),
            ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"]
        );
        assert_eq!(
            check_pod(
                json!({"containers": [{"name": "app", "image": "x", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}]})
            ),
            ["spec.containers[0].volumeMounts[0].name: Not found: \"nope\""]
        );
        assert_eq!(
            check_pod(json!({
                "volumes": [{"name": "a", "emptyDir": {}}],
                "containers": [{"name": "app", "image": "x", "volumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/x"}]}]
            })),
            ["spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/x\": must be unique"]
        );
    }

    #[test]
    fn requests_may_not_exceed_limits() {
        let with_resources = |r: Value| {
            check_pod(json!({"containers": [{"name": "app", "image": "x", "resources": r}]}))
        };
        assert_eq!(
            with_resources(json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "10m"}})),
            ["spec.containers[0].resources.requests: Invalid value: \"100m\": must be less than or equal to cpu limit of 10m"]
        );
        assert_eq!(
            with_resources(json!({"requests": {"memory": "1Gi"}, "limits": {"memory": "1G"}})),
            ["spec.containers[0].resources.requests: Invalid value: \"1Gi\": must be less than or equal to memory limit of 1G"]
        );
        assert!(
            with_resources(json!({"requests": {"cpu": "1000m"}, "limits": {"cpu": "1"}}))
                .is_empty()
        );
        assert_eq!(
            with_resources(json!({"limits": {"cpu": "lots"}})),
            ["spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]
        );
        assert_eq!(
            with_resources(json!({"requests": {"cpu": "-1"}})),
            ["spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"]
        );
    }

    #[test]
    fn env_and_tolerations() {
        assert_eq!(
            check_pod(
                json!({"containers": [{"name": "app", "image": "x", "env": [{"value": "v"}]}]})
            ),
            ["spec.containers[0].env[0].name: Required value"]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "tolerations": [{"key": "k", "operator": "Maybe"}]})),
            ["spec.tolerations[0].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "tolerations": [{"key": "k", "effect": "NoRun"}]})),
            ["spec.tolerations[0].effect: Unsupported value: \"NoRun\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""]
        );
    }

    #[test]
    fn sidecar_restart_policy() {
        assert!(check_pod(json!({"initContainers": [{"name": "side", "image": "x", "restartPolicy": "Always"}], "containers": [container()]})).is_empty());
        assert_eq!(
            check_pod(json!({"containers": [{"name": "app", "image": "x", "restartPolicy": "Always"}]})),
            ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"]
        );
    }

    // --- services ---

    fn check_service(spec: Value) -> Vec<String> {
        check(
            "",
            "services",
            true,
            json!({"metadata": {"name": "web"}, "spec": spec}),
        )
    }

    #[test]
    fn service_ports() {
        assert!(check_service(
            json!({"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "web"}})
        )
        .is_empty());
        assert_eq!(check_service(json!({})), ["spec.ports: Required value"]);
        assert!(check_service(json!({"clusterIP": "None"})).is_empty());
        assert!(
            check_service(json!({"type": "ExternalName", "externalName": "db.example.com"}))
                .is_empty()
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 80}, {"port": 81}]})),
            [
                "spec.ports[0].name: Required value",
                "spec.ports[1].name: Required value"
            ]
        );
        assert_eq!(
            check_service(json!({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]})),
            ["spec.ports[1].name: Duplicate value: \"a\""]
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 0}]})),
            ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 80, "targetPort": "HTTP"}]})),
            [
                "spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain at least one letter (a-z)"
            ]
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 80, "nodePort": 30080}]})),
            ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
        );
        assert!(check_service(
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})
        )
        .is_empty());
    }

    #[test]
    fn service_type_and_cluster_ip() {
        assert_eq!(
            check_service(json!({"type": "Magic", "ports": [{"port": 80}]})),
            ["spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""]
        );
        assert_eq!(
            check_service(json!({"clusterIP": "10.0.0", "ports": [{"port": 80}]})),
            ["spec.clusterIP: Invalid value: \"10.0.0\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
        );
        assert!(check_service(json!({"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 53}]})).is_empty());
        assert_eq!(
            check_service(json!({"type": "ExternalName"})),
            ["spec.externalName: Required value"]
        );
    }

    // --- workloads ---

    #[test]
    fn valid_deployment_passes() {
        assert_eq!(
            check(
                "apps",
                "deployments",
                true,
                deployment(good_deployment_spec())
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn deployment_selector_must_match_template() {
        let mut spec = good_deployment_spec();
        spec["template"]["metadata"]["labels"] = json!({"app": "other", "tier": "fe"});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\", \"tier\":\"fe\"}: `selector` does not match template `labels`"]
        );
    }

    #[test]
    fn deployment_selector_required_and_non_empty() {
        let mut spec = good_deployment_spec();
        spec.as_object_mut().unwrap().remove("selector");
        assert_eq!(
            check("apps", "deployments", true, deployment(spec.clone())),
            ["spec.selector: Required value"]
        );
        spec["selector"] = json!({});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
        );
        let mut spec = good_deployment_spec();
        spec["selector"] = json!({"matchExpressions": [{"key": "app", "operator": "In"}]});
        let errs = check("apps", "deployments", true, deployment(spec));
        assert_eq!(errs[0], "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
    }

    #[test]
    fn deployment_numbers_and_strategy() {
        let mut spec = good_deployment_spec();
        spec["replicas"] = json!(-1);
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
        let mut spec = good_deployment_spec();
        spec["strategy"] = json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]
        );
        let mut spec = good_deployment_spec();
        spec["strategy"] = json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"]
        );
        let mut spec = good_deployment_spec();
        spec["strategy"] = json!({"rollingUpdate": {"maxUnavailable": "120%"}});
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%"]
        );
        let mut spec = good_deployment_spec();
        spec["minReadySeconds"] = json!(10);
        spec["progressDeadlineSeconds"] = json!(5);
        assert_eq!(
            check("apps", "deployments", true, deployment(spec)),
            ["spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"]
        );
    }

    #[test]
    fn workload_templates_are_pod_specs_that_restart_always() {
        let mut spec = good_deployment_spec();
        spec["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("image");
        spec["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            check("apps", "replicasets", true, deployment(spec)),
            [
                "spec.template.spec.containers[0].image: Required value",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }

    #[test]
    fn statefulsets_and_daemonsets() {
        let mut spec = good_deployment_spec();
        spec["podManagementPolicy"] = json!("Random");
        assert_eq!(
            check("apps", "statefulsets", true, deployment(spec)),
            ["spec.podManagementPolicy: Unsupported value: \"Random\": supported values: \"OrderedReady\", \"Parallel\""]
        );
        let mut spec = good_deployment_spec();
        spec["selector"] = json!({});
        let errs = check("apps", "daemonsets", true, deployment(spec));
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].ends_with("empty selector is invalid for daemonset"),
            "{errs:?}"
        );
    }

    #[test]
    fn replication_controllers() {
        let rc = json!({"metadata": {"name": "rc"}, "spec": {
            "selector": {"app": "a"},
            "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [container()]}}
        }});
        assert_eq!(
            check("", "replicationcontrollers", true, rc),
            ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"b\"}: `selector` does not match template `labels`"]
        );
    }

    // --- jobs ---

    fn job(spec: Value) -> Value {
        json!({"metadata": {"name": "pi"}, "spec": spec})
    }

    #[test]
    fn job_pods_may_not_restart_always() {
        let tpl = |policy: Value| json!({"template": {"spec": {"containers": [container()], "restartPolicy": policy}}});
        assert!(check("batch", "jobs", true, job(tpl(json!("Never")))).is_empty());
        assert!(check("batch", "jobs", true, job(tpl(json!("OnFailure")))).is_empty());
        let unsupported = "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"";
        assert_eq!(
            check("batch", "jobs", true, job(tpl(json!("Always")))),
            [unsupported]
        );
        assert_eq!(
            check("batch", "jobs", true, job(tpl(Value::Null))),
            [unsupported]
        );
    }

    #[test]
    fn job_counts_and_completion_mode() {
        let spec = json!({"backoffLimit": -1, "completionMode": "Indexed", "template": {"spec": {"containers": [container()], "restartPolicy": "Never"}}});
        assert_eq!(
            check("batch", "jobs", true, job(spec)),
            [
                "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.completions: Required value: when completion mode is Indexed"
            ]
        );
    }

    #[test]
    fn cron_jobs() {
        let cj = |schedule: Value| {
            json!({"metadata": {"name": "nightly"}, "spec": {
                "schedule": schedule,
                "jobTemplate": {"spec": {"template": {"spec": {"containers": [container()], "restartPolicy": "OnFailure"}}}}
            }})
        };
        assert!(check("batch", "cronjobs", true, cj(json!("*/5 * * * *"))).is_empty());
        assert!(check(
            "batch",
            "cronjobs",
            true,
            cj(json!("0 3 * JAN-MAR mon,fri"))
        )
        .is_empty());
        assert!(check("batch", "cronjobs", true, cj(json!("@hourly"))).is_empty());
        assert_eq!(
            check("batch", "cronjobs", true, cj(Value::Null)),
            ["spec.schedule: Required value"]
        );
        assert_eq!(
            check("batch", "cronjobs", true, cj(json!("bad"))),
            ["spec.schedule: Invalid value: \"bad\": Expected exactly 5 fields, found 1: bad"]
        );
        assert_eq!(
            check("batch", "cronjobs", true, cj(json!("61 * * * *"))),
            ["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"]
        );
        assert_eq!(
            check("batch", "cronjobs", true, cj(json!("TZ=UTC 0 * * * *"))),
            ["spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]
        );
        let mut long = cj(json!("@daily"));
        long["metadata"]["name"] = json!("a".repeat(53));
        assert_eq!(
            check("batch", "cronjobs", true, long),
            [format!(
                "metadata.name: Invalid value: \"{}\": must be no more than 52 characters",
                "a".repeat(53)
            )]
        );
    }

    // --- config ---

    #[test]
    fn config_maps() {
        assert!(check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c"}, "data": {"app.conf": "x"}})
        )
        .is_empty());
        let errs = check(
            "",
            "configmaps",
            true,
            json!({"metadata": {"name": "c"}, "data": {"bad key": "x"}}),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with(
            "data[bad key]: Invalid value: \"bad key\": a valid config key must consist"
        ));
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c"}, "data": {"a": "x"}, "binaryData": {"a": "eA=="}})
            ),
            ["data[a]: Invalid value: \"a\": duplicate of key present in binaryData"]
        );
        let big = "x".repeat(MAX_SECRET_SIZE + 1);
        assert_eq!(
            check(
                "",
                "configmaps",
                true,
                json!({"metadata": {"name": "c"}, "data": {"a": big}})
            ),
            [": Too long: may not be more than 1048576 bytes"]
        );
    }

    #[test]
    fn secrets() {
        assert!(check(
            "",
            "secrets",
            true,
            json!({"metadata": {"name": "s"}, "data": {"password": "cGFzcw=="}})
        )
        .is_empty());
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})
            ),
            ["data[tls.key]: Required value"]
        );
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "type": "kubernetes.io/basic-auth"})
            ),
            [
                "data[username]: Required value",
                "data[password]: Required value"
            ]
        );
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "type": "kubernetes.io/dockerconfigjson", "stringData": {"x": "y"}})
            ),
            ["data[.dockerconfigjson]: Required value"]
        );
        // 1 MiB of decoded data is fine; a little more is not.
        let at_limit = "A".repeat(MAX_SECRET_SIZE / 3 * 4);
        assert!(check(
            "",
            "secrets",
            true,
            json!({"metadata": {"name": "s"}, "data": {"a": at_limit}})
        )
        .is_empty());
        let over = "A".repeat((MAX_SECRET_SIZE / 3 + 1) * 4);
        assert_eq!(
            check(
                "",
                "secrets",
                true,
                json!({"metadata": {"name": "s"}, "data": {"a": over}})
            ),
            ["data: Too long: may not be more than 1048576 bytes"]
        );
    }

    // --- cluster objects ---

    #[test]
    fn namespaces_and_nodes() {
        assert_eq!(
            check("", "namespaces", false, json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["custom"]}})),
            ["spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"]
        );
        assert!(check(
            "",
            "namespaces",
            false,
            json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}})
        )
        .is_empty());
        assert_eq!(
            check("", "nodes", false, json!({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Nope"}]}})),
            ["spec.taints[0].effect: Unsupported value: \"Nope\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""]
        );
        let dup = check(
            "",
            "nodes",
            false,
            json!({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule", "value": "v"}]}}),
        );
        assert_eq!(dup.len(), 1);
        assert!(
            dup[0].starts_with("spec.taints[1]: Duplicate value: "),
            "{dup:?}"
        );
        assert!(dup[0].ends_with(": taints must be unique by key and effect pair"));
        assert_eq!(
            check("", "nodes", false, json!({"metadata": {"name": "n"}, "spec": {"podCIDR": "10.0.0.0/99"}})),
            ["spec.podCIDR: Invalid value: \"10.0.0.0/99\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]
        );
    }

    #[test]
    fn persistent_volume_claims() {
        let pvc = |spec: Value| {
            check(
                "",
                "persistentvolumeclaims",
                true,
                json!({"metadata": {"name": "data"}, "spec": spec}),
            )
        };
        assert!(pvc(
            json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}})
        )
        .is_empty());
        assert_eq!(
            pvc(json!({})),
            [
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value"
            ]
        );
        assert_eq!(
            pvc(json!({"accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "0"}}})),
            [
                "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.resources[storage]: Invalid value: \"0\": must be greater than zero"
            ]
        );
        let pv = |spec: Value| {
            check(
                "",
                "persistentvolumes",
                false,
                json!({"metadata": {"name": "pv1"}, "spec": spec}),
            )
        };
        assert!(pv(json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/d"}})).is_empty());
        assert_eq!(
            pv(json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}})),
            ["spec: Required value: must specify a volume type"]
        );
    }

    #[test]
    fn leases_and_endpoint_slices() {
        assert_eq!(
            check(
                "coordination.k8s.io",
                "leases",
                true,
                json!({"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}})
            ),
            ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
        );
        let slice = |obj: Value| check("discovery.k8s.io", "endpointslices", true, obj);
        assert_eq!(
            slice(json!({"metadata": {"name": "s"}})),
            ["addressType: Required value"]
        );
        assert_eq!(
            slice(json!({"metadata": {"name": "s"}, "addressType": "IPv5"})),
            ["addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""]
        );
        assert_eq!(
            slice(
                json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["::1"]}, {"addresses": []}]})
            ),
            [
                "endpoints[0].addresses[0]: Invalid value: \"::1\": must be a valid IPv4 address",
                "endpoints[1].addresses: Required value: must contain at least 1 address"
            ]
        );
        assert!(slice(json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})).is_empty());
    }

    #[test]
    fn ingresses() {
        let ing = |spec: Value| {
            check(
                "networking.k8s.io",
                "ingresses",
                true,
                json!({"metadata": {"name": "i"}, "spec": spec}),
            )
        };
        let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
        assert!(ing(json!({"rules": [{"host": "*.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]})).is_empty());
        assert_eq!(
            ing(json!({"rules": [{"host": "1.2.3.4", "http": {"paths": [{"path": "api", "pathType": "Exact", "backend": backend}]}}]})),
            [
                "spec.rules[0].host: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address",
                "spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path"
            ]
        );
        assert_eq!(
            ing(json!({"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]})),
            ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]
        );
        assert_eq!(
            ing(json!({})),
            ["spec: Invalid value: {}: either `defaultBackend` or `rules` must be specified"]
        );
        assert_eq!(
            ing(json!({"defaultBackend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}}})),
            ["spec.defaultBackend.service.port: Invalid value: {\"name\":\"http\",\"number\":80}: cannot set both port name & port number"]
        );
    }

    #[test]
    fn disruption_budgets_and_autoscalers() {
        assert_eq!(
            check("policy", "poddisruptionbudgets", true, json!({"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "maxUnavailable": 1}})),
            ["spec: Invalid value: {\"minAvailable\":1,\"maxUnavailable\":1}: minAvailable and maxUnavailable cannot be both set"]
        );
        assert!(check("policy", "poddisruptionbudgets", true, json!({"metadata": {"name": "p"}, "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}})).is_empty());
        let hpa = |spec: Value| {
            check(
                "autoscaling",
                "horizontalpodautoscalers",
                true,
                json!({"metadata": {"name": "h"}, "spec": spec}),
            )
        };
        assert!(hpa(json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 3})).is_empty());
        assert_eq!(
            hpa(json!({"scaleTargetRef": {}, "minReplicas": 5, "maxReplicas": 3})),
            [
                "spec.scaleTargetRef.kind: Required value",
                "spec.scaleTargetRef.name: Required value",
                "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"
            ]
        );
    }

    #[test]
    fn priority_classes() {
        assert_eq!(
            check(
                "scheduling.k8s.io",
                "priorityclasses",
                false,
                json!({"metadata": {"name": "high"}, "value": 2_000_000_000})
            ),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
        );
        assert!(check(
            "scheduling.k8s.io",
            "priorityclasses",
            false,
            json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000})
        )
        .is_empty());
        assert_eq!(
            check("scheduling.k8s.io", "priorityclasses", false, json!({"metadata": {"name": "system-mine"}, "value": 1})),
            ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]
        );
    }

    #[test]
    fn rbac_rules_and_bindings() {
        assert_eq!(
            check(
                "rbac.authorization.k8s.io",
                "roles",
                true,
                json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]})
            ),
            ["rules[0].verbs: Required value: verbs must contain at least one value"]
        );
        assert_eq!(
            check("rbac.authorization.k8s.io", "roles", true, json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]})),
            ["rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs"]
        );
        assert!(check("rbac.authorization.k8s.io", "clusterroles", false, json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]})).is_empty());
        let binding = |role_ref: Value, subjects: Value| json!({"metadata": {"name": "b"}, "roleRef": role_ref, "subjects": subjects});
        let good_ref = json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "view"});
        assert!(check(
            "rbac.authorization.k8s.io",
            "rolebindings",
            true,
            binding(
                good_ref.clone(),
                json!([{"kind": "ServiceAccount", "name": "default"}])
            )
        )
        .is_empty());
        assert_eq!(
            check(
                "rbac.authorization.k8s.io",
                "clusterrolebindings",
                false,
                binding(
                    json!({"apiGroup": RBAC_GROUP, "kind": "Role", "name": "r"}),
                    json!([{"kind": "ServiceAccount", "name": "default"}])
                )
            ),
            [
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value"
            ]
        );
        assert_eq!(
            check("rbac.authorization.k8s.io", "rolebindings", true, binding(good_ref, json!([{"kind": "User", "name": "jane"}, {"kind": "Robot", "name": "r2"}]))),
            [
                "subjects[0].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                "subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
            ]
        );
    }

    // --- updates ---

    fn update(group: &str, plural: &str, old: Value, new: Value) -> Vec<String> {
        msgs(&validate_update(group, plural, true, &old, &new))
    }

    #[test]
    fn pod_image_and_deadline_may_change() {
        let old = pod(json!({"containers": [container()], "activeDeadlineSeconds": 100}));
        let new = pod(
            json!({"containers": [{"name": "app", "image": "nginx:2"}], "activeDeadlineSeconds": 50}),
        );
        assert!(update("", "pods", old, new).is_empty());
    }

    #[test]
    fn pod_other_spec_changes_are_forbidden() {
        let old = pod(json!({"containers": [container()]}));
        let new = pod(
            json!({"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}),
        );
        assert_eq!(
            update("", "pods", old, new),
            [format!("spec: Forbidden: {POD_UPDATE_FORBIDDEN}")]
        );
        assert!(POD_UPDATE_FORBIDDEN.starts_with(
            "pod updates may not change fields other than `spec.containers[*].image`"
        ));
    }

    #[test]
    fn pod_updates_ignore_empty_versus_missing() {
        let old = pod(json!({"containers": [container()], "volumes": [], "nodeSelector": {}}));
        let new = pod(json!({"containers": [container()]}));
        assert!(update("", "pods", old, new).is_empty());
    }

    #[test]
    fn pod_tolerations_may_only_be_added() {
        let t1 = json!({"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30});
        let t2 = json!({"key": "b", "operator": "Exists"});
        let old = pod(json!({"containers": [container()], "tolerations": [t1.clone()]}));
        let mut t1_shorter = t1.clone();
        t1_shorter["tolerationSeconds"] = json!(10);
        let added =
            pod(json!({"containers": [container()], "tolerations": [t1_shorter, t2.clone()]}));
        assert!(update("", "pods", old.clone(), added).is_empty());
        let removed = pod(json!({"containers": [container()], "tolerations": [t2]}));
        assert_eq!(
            update("", "pods", old, removed),
            ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
        );
    }

    #[test]
    fn pod_active_deadline_may_not_grow_or_vanish() {
        let old = pod(json!({"containers": [container()], "activeDeadlineSeconds": 100}));
        assert_eq!(
            update("", "pods", old.clone(), pod(json!({"containers": [container()], "activeDeadlineSeconds": 200}))),
            ["spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"]
        );
        assert_eq!(
            update("", "pods", old, pod(json!({"containers": [container()]}))),
            ["spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"]
        );
    }

    #[test]
    fn pod_grace_period_may_be_fixed_from_negative() {
        let old = pod(json!({"containers": [container()], "terminationGracePeriodSeconds": -1}));
        let fixed = pod(json!({"containers": [container()], "terminationGracePeriodSeconds": 1}));
        assert!(update("", "pods", old, fixed).is_empty());
        let old = pod(json!({"containers": [container()], "terminationGracePeriodSeconds": 30}));
        let changed =
            pod(json!({"containers": [container()], "terminationGracePeriodSeconds": 10}));
        assert_eq!(update("", "pods", old, changed).len(), 1);
    }

    #[test]
    fn service_cluster_ip_is_immutable() {
        let svc = |ip: &str| json!({"metadata": {"name": "web"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}});
        assert_eq!(
            update("", "services", svc("10.0.0.1"), svc("10.0.0.2")),
            ["spec.clusterIP: Invalid value: \"10.0.0.2\": field is immutable"]
        );
        assert!(update("", "services", svc(""), svc("10.0.0.2")).is_empty());
        assert!(update("", "services", svc("10.0.0.1"), svc("10.0.0.1")).is_empty());
    }

    #[test]
    fn workload_selectors_are_immutable() {
        let old = deployment(good_deployment_spec());
        let mut new_spec = good_deployment_spec();
        new_spec["selector"] = json!({"matchLabels": {"app": "web", "v": "2"}});
        new_spec["template"]["metadata"]["labels"] = json!({"app": "web", "v": "2"});
        assert_eq!(
            update("apps", "deployments", old.clone(), deployment(new_spec)),
            ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
        );
        let mut scaled = good_deployment_spec();
        scaled["replicas"] = json!(5);
        assert!(update("apps", "deployments", old, deployment(scaled)).is_empty());
    }

    #[test]
    fn stateful_set_spec_is_mostly_immutable() {
        let old = deployment(good_deployment_spec());
        let mut new_spec = good_deployment_spec();
        new_spec["serviceName"] = json!("other");
        assert_eq!(
            update("apps", "statefulsets", old.clone(), deployment(new_spec)),
            ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]
        );
        let mut new_spec = good_deployment_spec();
        new_spec["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
        assert!(update("apps", "statefulsets", old, deployment(new_spec)).is_empty());
    }

    #[test]
    fn job_templates_are_immutable() {
        let spec = |image: &str| json!({"template": {"spec": {"containers": [{"name": "app", "image": image}], "restartPolicy": "Never"}}});
        let errs = update("batch", "jobs", job(spec("a")), job(spec("b")));
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("spec.template: Invalid value: {"),
            "{errs:?}"
        );
        assert!(errs[0].ends_with("}: field is immutable"));
        // A suspended job that never ran may change where its pods are scheduled.
        let mut old = job(spec("a"));
        old["spec"]["suspend"] = json!(true);
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "a"});
        assert!(update("batch", "jobs", old, new).is_empty());
    }

    #[test]
    fn immutable_config_maps_and_secrets() {
        let cm = |data: Value, immutable: bool| json!({"metadata": {"name": "c"}, "data": data, "immutable": immutable});
        assert_eq!(
            update(
                "",
                "configmaps",
                cm(json!({"a": "1"}), true),
                cm(json!({"a": "2"}), true)
            ),
            ["data: Forbidden: field is immutable when `immutable` is set"]
        );
        assert_eq!(
            update(
                "",
                "configmaps",
                cm(json!({"a": "1"}), true),
                cm(json!({"a": "1"}), false)
            ),
            ["immutable: Forbidden: field is immutable when `immutable` is set"]
        );
        assert!(update(
            "",
            "configmaps",
            cm(json!({"a": "1"}), false),
            cm(json!({"a": "2"}), true)
        )
        .is_empty());
        let secret =
            |t: Value| json!({"metadata": {"name": "s"}, "type": t, "data": {"a": "eA=="}});
        assert_eq!(
            update(
                "",
                "secrets",
                secret(json!("Opaque")),
                secret(json!("example.com/custom"))
            ),
            ["type: Invalid value: \"example.com/custom\": field is immutable"]
        );
        assert!(update("", "secrets", secret(Value::Null), secret(json!("Opaque"))).is_empty());
    }

    #[test]
    fn role_ref_is_immutable() {
        let b = |name: &str| json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name}});
        assert_eq!(
            update("rbac.authorization.k8s.io", "rolebindings", b("view"), b("edit")),
            ["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"]
        );
    }

    #[test]
    fn pvc_spec_is_immutable_except_requests() {
        let pvc = |size: &str, mode: &str| json!({"metadata": {"name": "d"}, "spec": {"accessModes": [mode], "resources": {"requests": {"storage": size}}}});
        assert!(update(
            "",
            "persistentvolumeclaims",
            pvc("1Gi", "ReadWriteOnce"),
            pvc("2Gi", "ReadWriteOnce")
        )
        .is_empty());
        assert_eq!(
            update("", "persistentvolumeclaims", pvc("1Gi", "ReadWriteOnce"), pvc("1Gi", "ReadWriteMany")),
            ["spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"]
        );
        let mut bound = pvc("1Gi", "ReadWriteOnce");
        bound["spec"]["volumeName"] = json!("pv-1");
        assert!(update(
            "",
            "persistentvolumeclaims",
            pvc("1Gi", "ReadWriteOnce"),
            bound
        )
        .is_empty());
    }

    #[test]
    fn update_also_validates_the_new_object() {
        let old = json!({"metadata": {"name": "c"}, "data": {"a": "1"}});
        let new = json!({"metadata": {"name": "c"}, "data": {"bad key": "1"}});
        assert_eq!(update("", "configmaps", old, new).len(), 1);
    }
}
