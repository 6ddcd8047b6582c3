//! Validation of names and objects, returning errors with field paths as upstream words them.
//! STUB: to be replaced by the full implementation.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Required,
    Invalid,
    Duplicate,
    NotSupported,
    TooLong,
    TooMany,
    Forbidden,
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
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub kind: ErrorKind,
    /// Dotted path with indices, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The offending value as upstream quotes it, when there is one.
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    /// The message upstream prints, e.g. `metadata.name: Required value: name or generateName is required`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.detail)
    }
}

/// Validates a whole object of `group`/`plural` (as stored: its storage version).
pub fn validate(_group: &str, _plural: &str, _namespaced: bool, _obj: &Value) -> Vec<FieldError> {
    Vec::new()
}

/// Validates an update: everything `validate` checks plus immutable fields.
pub fn validate_update(
    group: &str,
    plural: &str,
    namespaced: bool,
    _old: &Value,
    new: &Value,
) -> Vec<FieldError> {
    validate(group, plural, namespaced, new)
}
