//! Field selectors (`metadata.name=x,status.phase!=Running`), with upstream's escaping.
//!
//! Terms are split on unescaped commas; in values `\,` `\=` `\\` (and `\!`) stand for the
//! literal characters, and an unescaped `,` or `=` in a value is an error. Field names are
//! taken as written (no escaping, no trimming), as upstream does.

use std::fmt;

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
    /// The unescaped value.
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

/// Splits on commas that are not escaped; escapes stay in the terms for `unescape_value`.
fn split_terms(s: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at its first operator; `!=` and `==` are tried before `=` at each position.
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOp::NotEquals),
            ("==", FieldOp::Equals),
            ("=", FieldOp::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], kind, value));
            }
        }
    }
    None
}

/// Turns an escaped selector value back into its literal text.
pub fn unescape_value(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            match c {
                '\\' | ',' | '=' | '!' => out.push(c),
                other => {
                    return Err(SelectorError(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    )))
                }
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ',' | '=' => {
                return Err(SelectorError(format!(
                    "invalid field selector: unescaped character in value: {c}"
                )))
            }
            other => out.push(other),
        }
    }
    if escaped {
        return Err(SelectorError(
            "invalid field selector: invalid escape sequence: \\".into(),
        ));
    }
    Ok(out)
}

/// Escapes a literal value for use in a selector string.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl FieldSelector {
    /// Matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses `field=value`, `field==value` and `field!=value` terms joined by commas. The
    /// empty string selects everything. Terms come out sorted, as upstream sorts them.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        if s.is_empty() {
            return Ok(Self::default());
        }
        let mut terms = split_terms(s);
        terms.sort_unstable();
        let mut requirements = Vec::new();
        for term in terms.into_iter().filter(|t| !t.is_empty()) {
            let (field, op, raw) = split_term(term).ok_or_else(|| {
                SelectorError(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                ))
            })?;
            requirements.push(FieldRequirement {
                field: field.to_string(),
                op,
                value: unescape_value(raw)?,
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// A selector requiring `field` to equal `value`.
    pub fn one_term_equal(field: impl Into<String>, value: impl Into<String>) -> Self {
        FieldSelector {
            requirements: vec![FieldRequirement {
                field: field.into(),
                op: FieldOp::Equals,
                value: value.into(),
            }],
        }
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

    /// The value an `=` term pins `field` to, if any (lets callers narrow a lookup, e.g. by
    /// `metadata.name`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.op == FieldOp::Equals)
            .map(|r| r.value.as_str())
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            FieldOp::Equals => "=",
            FieldOp::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

impl fmt::Display for FieldSelector {
    /// The canonical form: terms joined by commas, values re-escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for FieldSelector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldSelector::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sel(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn getter(pairs: &[(&str, &str)]) -> impl Fn(&str) -> String {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |f: &str| map.get(f).cloned().unwrap_or_default()
    }

    #[test]
    fn empty_selects_everything() {
        let s = sel("");
        assert!(s.is_empty());
        assert!(s.matches(getter(&[])));
        assert_eq!(s.to_string(), "");
    }

    #[test]
    fn parses_the_three_operators() {
        let s = sel("a=1,b==2,c!=3");
        let got: Vec<(&str, FieldOp, &str)> = s
            .requirements
            .iter()
            .map(|r| (r.field.as_str(), r.op, r.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", FieldOp::Equals, "1"),
                ("b", FieldOp::Equals, "2"),
                ("c", FieldOp::NotEquals, "3")
            ]
        );
        assert_eq!(s.to_string(), "a=1,b=2,c!=3");
    }

    #[test]
    fn terms_are_sorted() {
        assert_eq!(
            sel("status.phase!=Running,metadata.name=web").to_string(),
            "metadata.name=web,status.phase!=Running"
        );
    }

    #[test]
    fn matching_reads_fields_through_the_getter() {
        let s = sel("metadata.name=web,status.phase!=Running");
        assert!(s.matches(getter(&[
            ("metadata.name", "web"),
            ("status.phase", "Pending")
        ])));
        assert!(!s.matches(getter(&[
            ("metadata.name", "web"),
            ("status.phase", "Running")
        ])));
        assert!(!s.matches(getter(&[("metadata.name", "db")])));
        // A missing field reads as the empty string.
        assert!(sel("spec.nodeName=").matches(getter(&[])));
        assert!(!sel("spec.nodeName!=").matches(getter(&[])));
    }

    #[test]
    fn escaped_values_round_trip() {
        let s = sel(r"a=x\,y\=z\\w");
        assert_eq!(s.requirements[0].value, r"x,y=z\w");
        assert_eq!(s.to_string(), r"a=x\,y\=z\\w");
        assert_eq!(s.requirements.len(), 1);
        assert_eq!(sel(r"a=b\!c").requirements[0].value, "b!c");
        assert_eq!(sel("a=b!c").requirements[0].value, "b!c");
    }

    #[test]
    fn unescaped_specials_in_values_are_errors() {
        assert_eq!(
            FieldSelector::parse("a=b=c").unwrap_err().to_string(),
            "invalid field selector: unescaped character in value: ="
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\x").unwrap_err().to_string(),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\").unwrap_err().to_string(),
            r"invalid field selector: invalid escape sequence: \"
        );
    }

    #[test]
    fn terms_without_an_operator_are_errors() {
        assert_eq!(
            FieldSelector::parse("a=b,foo").unwrap_err().to_string(),
            "invalid selector: 'a=b,foo'; can't understand 'foo'"
        );
    }

    #[test]
    fn first_operator_splits_the_term() {
        let s = sel("a!=b");
        assert_eq!(
            (s.requirements[0].field.as_str(), s.requirements[0].op),
            ("a", FieldOp::NotEquals)
        );
        let s = sel("a==b");
        assert_eq!(s.requirements[0].value, "b");
    }

    #[test]
    fn empty_terms_are_skipped() {
        assert_eq!(sel("a=b,,c=d,").requirements.len(), 2);
    }

    #[test]
    fn fields_and_exact_match() {
        let s = sel("metadata.name=web,spec.nodeName!=n1");
        assert_eq!(
            s.fields().collect::<Vec<_>>(),
            ["metadata.name", "spec.nodeName"]
        );
        assert_eq!(s.requires_exact_match("metadata.name"), Some("web"));
        assert_eq!(s.requires_exact_match("spec.nodeName"), None);
        assert_eq!(
            FieldSelector::one_term_equal("a", "x,y").to_string(),
            r"a=x\,y"
        );
    }

    #[test]
    fn escape_and_unescape_are_inverse() {
        for v in ["plain", "a,b", "a=b", r"back\slash", r"\,=\"] {
            assert_eq!(unescape_value(&escape_value(v)).unwrap(), v);
        }
    }
}
