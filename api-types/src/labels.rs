//! Label selectors: the string form (`a=b,c!=d,e in (f,g),!h`) and `LabelSelector` objects.
//! STUB: to be replaced by the full implementation.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Operator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn everything() -> Self {
        Self::default()
    }
    pub fn parse(_s: &str) -> Result<Self, SelectorError> {
        Err(SelectorError("label selectors are not implemented yet".into()))
    }
    pub fn from_label_selector(
        _sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    ) -> Result<Self, SelectorError> {
        Err(SelectorError("label selectors are not implemented yet".into()))
    }
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
    pub fn matches(&self, _labels: &BTreeMap<String, String>) -> bool {
        self.requirements.is_empty()
    }
}
