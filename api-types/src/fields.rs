//! Field selectors (`metadata.name=x,status.phase!=Running`), with upstream's escaping.
//! STUB: to be replaced by the full implementation.

pub use crate::labels::SelectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Equals,
    NotEquals,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub op: FieldOp,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    pub fn parse(_s: &str) -> Result<Self, SelectorError> {
        Err(SelectorError("field selectors are not implemented yet".into()))
    }
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
    /// The field names the selector uses, so callers can reject unsupported ones.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| r.field.as_str())
    }
    /// Whether the selector matches, reading each field's value through `get`.
    pub fn matches(&self, get: impl Fn(&str) -> String) -> bool {
        self.requirements.iter().all(|r| match r.op {
            FieldOp::Equals => get(&r.field) == r.value,
            FieldOp::NotEquals => get(&r.field) != r.value,
        })
    }
}
