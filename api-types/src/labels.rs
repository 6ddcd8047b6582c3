//! Label selectors: the string form (`a=b,c!=d,e in (f,g),!h`) and `LabelSelector` objects.
//!
//! Parsing follows upstream's grammar and error wording (`unable to parse requirement: ...`,
//! `found '(', expected: identifier`), so clients see the messages they know from kubectl.

use std::collections::BTreeMap;
use std::fmt;

use crate::validation::{go_quote, is_qualified_name, is_valid_label_value};

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
    /// Sorted and without duplicates when built by this module.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// Sorted by key when built by this module (upstream sorts too).
    pub requirements: Vec<Requirement>,
}

/// Renders a value list as Go's `%#v` does in upstream messages.
fn go_string_slice(values: &[String]) -> String {
    if values.is_empty() {
        return "[]string(nil)".into();
    }
    let inner: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", inner.join(", "))
}

/// Joins upstream's aggregate of several errors: one alone, several as `[a, b]`.
fn aggregate(errs: Vec<String>) -> Option<SelectorError> {
    let mut unique: Vec<String> = Vec::new();
    for e in errs {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    match unique.len() {
        0 => None,
        1 => unique.pop().map(SelectorError),
        _ => Some(SelectorError(format!("[{}]", unique.join(", ")))),
    }
}

/// The key check, with `path` the field path upstream prints (`<nil>` from the parser).
fn key_error(path: &str, key: &str) -> Option<String> {
    let errs = is_qualified_name(key);
    if errs.is_empty() {
        None
    } else {
        Some(format!(
            "{path}: Invalid value: {}: {}",
            go_quote(key),
            errs.join("; ")
        ))
    }
}

impl Requirement {
    /// Builds a requirement, checking it as upstream's `NewRequirement` does: a valid key,
    /// the number of values the operator needs, and valid label values.
    pub fn new(
        key: impl Into<String>,
        op: Operator,
        values: Vec<String>,
    ) -> Result<Requirement, SelectorError> {
        let key = key.into();
        let mut errs = Vec::new();
        if let Some(e) = key_error("key", &key) {
            errs.push(e);
        }
        let shown = go_string_slice(&values);
        match op {
            Operator::In | Operator::NotIn if values.is_empty() => errs.push(format!(
                "values: Invalid value: {shown}: for 'in', 'notin' operators, values set can't be empty"
            )),
            Operator::Equals | Operator::NotEquals if values.len() != 1 => errs.push(format!(
                "values: Invalid value: {shown}: exact-match compatibility requires one single value"
            )),
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errs.push(format!(
                "values: Invalid value: {shown}: values set must be empty for exists and does not exist"
            )),
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(format!(
                        "values: Invalid value: {shown}: for 'Gt', 'Lt' operators, exactly one value is required"
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(format!(
                            "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
                            go_quote(v)
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = is_valid_label_value(v);
            if !msgs.is_empty() {
                errs.push(format!(
                    "values[{i}][{key}]: Invalid value: {}: {}",
                    go_quote(v),
                    msgs.join("; ")
                ));
            }
        }
        if let Some(e) = aggregate(errs) {
            return Err(e);
        }
        let mut values = values;
        values.sort();
        values.dedup();
        Ok(Requirement { key, op, values })
    }

    /// Whether the labels satisfy this requirement. `!=` and `notin` also match when the key
    /// is absent; `=`, `in`, `>` and `<` need it present.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.op {
            Operator::Equals | Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotEquals | Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), [want]) = (value, self.values.as_slice()) else {
                    return false;
                };
                let (Ok(have), Ok(want)) = (have.parse::<i64>(), want.parse::<i64>()) else {
                    return false;
                };
                if self.op == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut values = self.values.clone();
        values.sort();
        let joined = values.join(",");
        match self.op {
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::Equals => write!(f, "{}={joined}", self.key),
            Operator::NotEquals => write!(f, "{}!={joined}", self.key),
            Operator::GreaterThan => write!(f, "{}>{joined}", self.key),
            Operator::LessThan => write!(f, "{}<{joined}", self.key),
            Operator::In => write!(f, "{} in ({joined})", self.key),
            Operator::NotIn => write!(f, "{} notin ({joined})", self.key),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident,
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    GreaterThan,
    LessThan,
    Bang,
    Open,
    Close,
    Comma,
    End,
    Error,
}

/// Which tokens the parser expects next: in a value position `in`/`notin` are plain words.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn symbol_token(s: &str) -> Option<Tok> {
    Some(match s {
        "=" => Tok::Equals,
        "==" => Tok::DoubleEquals,
        "!=" => Tok::NotEquals,
        "!" => Tok::Bang,
        ">" => Tok::GreaterThan,
        "<" => Tok::LessThan,
        "(" => Tok::Open,
        ")" => Tok::Close,
        "," => Tok::Comma,
        _ => return None,
    })
}

/// Splits a selector into tokens: words run until whitespace or a special symbol, and
/// symbols are matched longest-first (`!=` before `!`).
fn lex(s: &str) -> Vec<(Tok, String)> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && is_space(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            out.push((Tok::End, String::new()));
            return out;
        }
        if is_special(chars[i]) {
            let mut buf = String::new();
            let mut last: Option<(Tok, String)> = None;
            while i < chars.len() && is_special(chars[i]) {
                buf.push(chars[i]);
                match symbol_token(&buf) {
                    Some(t) => {
                        last = Some((t, buf.clone()));
                        i += 1;
                    }
                    None if last.is_some() => break,
                    None => i += 1,
                }
            }
            match last {
                Some(item) => out.push(item),
                None => {
                    out.push((Tok::Error, format!("error expected: keyword found '{buf}'")));
                    return out;
                }
            }
        } else {
            let start = i;
            while i < chars.len() && !is_space(chars[i]) && !is_special(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let tok = match word.as_str() {
                "in" => Tok::In,
                "notin" => Tok::NotIn,
                _ => Tok::Ident,
            };
            out.push((tok, word));
        }
    }
}

struct Parser {
    items: Vec<(Tok, String)>,
    pos: usize,
}

impl Parser {
    fn peek(&self, ctx: Context) -> (Tok, String) {
        let (tok, lit) = self.items[self.pos.min(self.items.len() - 1)].clone();
        (Self::in_context(tok, ctx), lit)
    }

    fn next(&mut self, ctx: Context) -> (Tok, String) {
        let item = self.peek(ctx);
        if self.pos < self.items.len() - 1 {
            self.pos += 1;
        }
        item
    }

    fn in_context(tok: Tok, ctx: Context) -> Tok {
        match (ctx, tok) {
            (Context::Values, Tok::In | Tok::NotIn) => Tok::Ident,
            (_, t) => t,
        }
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.peek(Context::Values);
            match tok {
                Tok::Ident | Tok::Bang => {
                    let r = self.requirement().map_err(|e| {
                        SelectorError(format!("unable to parse requirement: {}", e.0))
                    })?;
                    reqs.push(r);
                    let (t, l) = self.next(Context::Values);
                    match t {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            let (t2, l2) = self.peek(Context::Values);
                            if t2 != Tok::Ident && t2 != Tok::Bang {
                                return Err(SelectorError(format!(
                                    "found '{l2}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(SelectorError(format!(
                                "found '{l}', expected: ',' or 'end of string'"
                            )))
                        }
                    }
                }
                Tok::End => return Ok(reqs),
                _ => {
                    return Err(SelectorError(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    )))
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (mut tok, mut key) = self.next(Context::Values);
        let negated = tok == Tok::Bang;
        if negated {
            (tok, key) = self.next(Context::Values);
        }
        if tok != Tok::Ident {
            return Err(SelectorError(format!(
                "found '{key}', expected: identifier"
            )));
        }
        // The parser reports key problems with no field path, which upstream prints as <nil>.
        if let Some(e) = key_error("<nil>", &key) {
            return Err(SelectorError(e));
        }
        let (after, _) = self.peek(Context::Values);
        if negated {
            return Requirement::new(key, Operator::DoesNotExist, Vec::new());
        }
        if after == Tok::End || after == Tok::Comma {
            return Requirement::new(key, Operator::Exists, Vec::new());
        }
        let (op_tok, op_lit) = self.next(Context::KeyAndOperator);
        let op = match op_tok {
            Tok::In => Operator::In,
            Tok::NotIn => Operator::NotIn,
            Tok::Equals | Tok::DoubleEquals => Operator::Equals,
            Tok::NotEquals => Operator::NotEquals,
            Tok::GreaterThan => Operator::GreaterThan,
            Tok::LessThan => Operator::LessThan,
            _ => {
                return Err(SelectorError(format!(
                    "found '{op_lit}', expected: in, notin, =, ==, !=, gt, lt"
                )))
            }
        };
        let values = match op {
            Operator::In | Operator::NotIn => self.set_values()?,
            _ => vec![self.exact_value()?],
        };
        Requirement::new(key, op, values)
    }

    /// `(a,b,c)`; empty slots are empty strings, as upstream reads `()` and `(a,)`.
    fn set_values(&mut self) -> Result<Vec<String>, SelectorError> {
        let (tok, lit) = self.next(Context::Values);
        if tok != Tok::Open {
            return Err(SelectorError(format!("found '{lit}', expected: '('")));
        }
        let (tok, lit) = self.peek(Context::Values);
        match tok {
            Tok::Ident | Tok::Comma => {}
            Tok::Close => {
                self.next(Context::Values);
                return Ok(vec![String::new()]);
            }
            _ => {
                return Err(SelectorError(format!(
                    "found '{lit}', expected: ',', ')' or identifier"
                )))
            }
        }
        let mut values = Vec::new();
        loop {
            let (tok, lit) = self.next(Context::Values);
            match tok {
                Tok::Ident => {
                    values.push(lit);
                    let (t2, l2) = self.peek(Context::Values);
                    match t2 {
                        Tok::Comma => continue,
                        Tok::Close => {
                            self.next(Context::Values);
                            return Ok(values);
                        }
                        _ => {
                            return Err(SelectorError(format!(
                                "found '{l2}', expected: ',' or ')'"
                            )))
                        }
                    }
                }
                Tok::Comma => {
                    // A comma with nothing before or after it stands for the empty value.
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    let (t2, _) = self.peek(Context::Values);
                    if t2 == Tok::Close {
                        self.next(Context::Values);
                        values.push(String::new());
                        return Ok(values);
                    }
                    if t2 == Tok::Comma {
                        self.next(Context::Values);
                        values.push(String::new());
                    }
                }
                _ => {
                    return Err(SelectorError(format!(
                        "found '{lit}', expected: ',', or identifier"
                    )))
                }
            }
        }
    }

    /// The single value after `=`, `!=`, `>` or `<`; nothing at all means the empty value.
    fn exact_value(&mut self) -> Result<String, SelectorError> {
        let (tok, _) = self.peek(Context::Values);
        if tok == Tok::End || tok == Tok::Comma {
            return Ok(String::new());
        }
        let (tok, lit) = self.next(Context::Values);
        if tok == Tok::Ident {
            Ok(lit)
        } else {
            Err(SelectorError(format!(
                "found '{lit}', expected: identifier"
            )))
        }
    }
}

impl LabelSelector {
    /// Matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses upstream's string syntax. The empty string selects everything.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut p = Parser {
            items: lex(s),
            pos: 0,
        };
        let mut requirements = p.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements })
    }

    /// Converts a `LabelSelector` object (`matchLabels` + `matchExpressions`). An empty object
    /// selects everything; a missing selector (which callers handle) selects nothing.
    pub fn from_label_selector(
        sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    ) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            requirements.push(Requirement::new(
                k.clone(),
                Operator::Equals,
                vec![v.clone()],
            )?);
        }
        for expr in sel.match_expressions.iter().flatten() {
            let op = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    )))
                }
            };
            requirements.push(Requirement::new(
                expr.key.clone(),
                op,
                expr.values.clone().unwrap_or_default(),
            )?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements })
    }

    /// The equality selector for a plain label map (a Service's or RC's `selector`). Like
    /// upstream's `SelectorFromSet`, it does not validate, and an empty map selects
    /// everything.
    pub fn from_set(set: &BTreeMap<String, String>) -> Self {
        LabelSelector {
            requirements: set
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: Operator::Equals,
                    values: vec![v.clone()],
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether every requirement holds for `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The value an `=` requirement (or a one-value `in`) pins `key` to, if any.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        self.requirements.iter().find_map(|r| match r.op {
            Operator::Equals | Operator::In if r.key == key && r.values.len() == 1 => {
                Some(r.values[0].as_str())
            }
            _ => None,
        })
    }
}

impl fmt::Display for LabelSelector {
    /// The canonical form: requirements sorted by key, joined with commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut reqs: Vec<&Requirement> = self.requirements.iter().collect();
        reqs.sort_by(|a, b| a.key.cmp(&b.key));
        for (i, r) in reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for LabelSelector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSelector::parse(s)
    }
}

/// Whether `labels` match a `LabelSelector` given as JSON (e.g. a Deployment's
/// `spec.selector`). `null` selects nothing; `{}` selects everything.
pub fn matches_label_selector_json(
    sel: &serde_json::Value,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    if sel.is_null() {
        return Ok(false);
    }
    let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
        serde_json::from_value(sel.clone())
            .map_err(|e| SelectorError(format!("invalid label selector: {e}")))?;
    Ok(LabelSelector::from_label_selector(&typed)?.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> String {
        LabelSelector::parse(s).unwrap_err().to_string()
    }

    #[test]
    fn empty_selector_matches_everything() {
        for s in ["", "   ", "\t"] {
            let parsed = sel(s);
            assert!(parsed.is_empty());
            assert!(parsed.matches(&labels(&[])));
            assert!(parsed.matches(&labels(&[("a", "b")])));
            assert_eq!(parsed.to_string(), "");
        }
    }

    #[test]
    fn parses_every_operator() {
        let s = sel("a=1,b==2,c!=3,d in (x,y),e notin (z),f,!g,h>4,i<5");
        let ops: Vec<(String, Operator, Vec<String>)> = s
            .requirements
            .iter()
            .map(|r| (r.key.clone(), r.op, r.values.clone()))
            .collect();
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ops,
            vec![
                ("a".into(), Operator::Equals, v(&["1"])),
                ("b".into(), Operator::Equals, v(&["2"])),
                ("c".into(), Operator::NotEquals, v(&["3"])),
                ("d".into(), Operator::In, v(&["x", "y"])),
                ("e".into(), Operator::NotIn, v(&["z"])),
                ("f".into(), Operator::Exists, v(&[])),
                ("g".into(), Operator::DoesNotExist, v(&[])),
                ("h".into(), Operator::GreaterThan, v(&["4"])),
                ("i".into(), Operator::LessThan, v(&["5"])),
            ]
        );
    }

    #[test]
    fn canonical_string_is_sorted_by_key() {
        assert_eq!(
            sel("z=1, a in (c, b), !m, k").to_string(),
            "a in (b,c),k,!m,z=1"
        );
        assert_eq!(sel("a==b").to_string(), "a=b");
        assert_eq!(sel("x notin (b,a,a)").to_string(), "x notin (a,b)");
        assert_eq!(sel("n>3,n<10").to_string(), "n>3,n<10");
        assert_eq!(sel("a=").to_string(), "a=");
    }

    #[test]
    fn tolerates_whitespace_everywhere() {
        let s = sel("  env  in  ( prod ,  staging )  ,  tier != frontend  ");
        assert_eq!(s.to_string(), "env in (prod,staging),tier!=frontend");
    }

    #[test]
    fn commas_inside_parentheses_belong_to_the_set() {
        let s = sel("a in (x,y,z),b=c");
        assert_eq!(s.requirements.len(), 2);
        assert_eq!(s.requirements[0].values, ["x", "y", "z"]);
    }

    #[test]
    fn empty_set_members_are_empty_values() {
        assert_eq!(sel("a in ()").requirements[0].values, [""]);
        assert_eq!(sel("a in (x,)").requirements[0].values, ["", "x"]);
        assert_eq!(sel("a in (,x)").requirements[0].values, ["", "x"]);
        assert_eq!(sel("a in (x,,y)").requirements[0].values, ["", "x", "y"]);
        assert!(sel("a in ()").matches(&labels(&[("a", "")])));
    }

    #[test]
    fn keywords_are_plain_words_in_value_positions() {
        let s = sel("in=notin,x in (in,notin)");
        assert_eq!(s.to_string(), "in=notin,x in (in,notin)");
    }

    #[test]
    fn prefixed_keys_are_accepted() {
        let s = sel("app.kubernetes.io/name=web,!example.com/skip");
        assert!(s.matches(&labels(&[("app.kubernetes.io/name", "web")])));
        assert!(!s.matches(&labels(&[
            ("app.kubernetes.io/name", "web"),
            ("example.com/skip", "")
        ])));
    }

    #[test]
    fn equality_needs_the_key_present() {
        let s = sel("a=b");
        assert!(s.matches(&labels(&[("a", "b")])));
        assert!(!s.matches(&labels(&[("a", "c")])));
        assert!(!s.matches(&labels(&[])));
    }

    #[test]
    fn inequality_matches_when_the_key_is_absent() {
        let s = sel("a!=b");
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("a", "c")])));
        assert!(!s.matches(&labels(&[("a", "b")])));
    }

    #[test]
    fn set_membership() {
        let s = sel("env in (prod,staging)");
        assert!(s.matches(&labels(&[("env", "prod")])));
        assert!(!s.matches(&labels(&[("env", "dev")])));
        assert!(!s.matches(&labels(&[])));
        let n = sel("env notin (prod,staging)");
        assert!(n.matches(&labels(&[])));
        assert!(n.matches(&labels(&[("env", "dev")])));
        assert!(!n.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn existence() {
        assert!(sel("a").matches(&labels(&[("a", "")])));
        assert!(!sel("a").matches(&labels(&[("b", "")])));
        assert!(sel("!a").matches(&labels(&[("b", "")])));
        assert!(!sel("!a").matches(&labels(&[("a", "x")])));
    }

    #[test]
    fn numeric_comparisons() {
        let gt = sel("n>5");
        assert!(gt.matches(&labels(&[("n", "6")])));
        assert!(!gt.matches(&labels(&[("n", "5")])));
        assert!(!gt.matches(&labels(&[("n", "x")])));
        assert!(!gt.matches(&labels(&[])));
        let lt = sel("n<2");
        assert!(lt.matches(&labels(&[("n", "-2")])));
        assert!(!lt.matches(&labels(&[("n", "3")])));
    }

    #[test]
    fn all_requirements_must_hold() {
        let s = sel("a=1,b=2");
        assert!(s.matches(&labels(&[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!s.matches(&labels(&[("a", "1")])));
    }

    #[test]
    fn invalid_keys_report_like_upstream() {
        assert_eq!(
            err("app:monolith"),
            "unable to parse requirement: <nil>: Invalid value: \"app:monolith\": name part must \
             consist of alphanumeric characters, '-', '_' or '.', and must start and end with an \
             alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for \
             validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert!(err("a/b/c=d").starts_with(
            "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must"
        ));
        assert!(err("Bad_Prefix/x=y").contains("prefix part a lowercase RFC 1123 subdomain"));
    }

    #[test]
    fn invalid_values_report_like_upstream() {
        assert_eq!(
            err("app=demo-{nginx}"),
            "unable to parse requirement: values[0][app]: Invalid value: \"demo-{nginx}\": a \
             valid label must be an empty string or consist of alphanumeric characters, '-', '_' \
             or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or \
             'my_value',  or '12345', regex used for validation is \
             '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        assert_eq!(
            err("n>x"),
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' \
             operators, the value must be an integer"
        );
        let long = "v".repeat(64);
        assert!(err(&format!("a={long}")).contains("must be no more than 63 characters"));
    }

    #[test]
    fn syntax_errors_name_what_was_found() {
        assert_eq!(
            err("(a)"),
            "found '(', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(err("a=b,"), "found '', expected: identifier after ','");
        assert_eq!(
            err("a in x"),
            "unable to parse requirement: found 'x', expected: '('"
        );
        assert_eq!(
            err("a in (x y)"),
            "unable to parse requirement: found 'y', expected: ',' or ')'"
        );
        assert_eq!(
            err("a in (x"),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert_eq!(
            err("a in (=)"),
            "unable to parse requirement: found '=', expected: ',', ')' or identifier"
        );
        assert_eq!(
            err("a=(b)"),
            "unable to parse requirement: found '(', expected: identifier"
        );
        assert_eq!(
            err("!=a"),
            "found '!=', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err(",a"),
            "found ',', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(err("!a=b"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(
            err("a>=1"),
            "unable to parse requirement: found '=', expected: identifier"
        );
    }

    #[test]
    fn from_label_selector_combines_labels_and_expressions() {
        let ls = metav1::LabelSelector {
            match_labels: Some(
                [("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect(),
            ),
            match_expressions: Some(vec![
                metav1::LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["fe".into(), "be".into()]),
                },
                metav1::LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        let s = LabelSelector::from_label_selector(&ls).unwrap();
        assert_eq!(s.to_string(), "app=web,!canary,tier in (be,fe)");
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "fe"), ("canary", "1")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
    }

    #[test]
    fn empty_label_selector_object_matches_everything() {
        let s = LabelSelector::from_label_selector(&metav1::LabelSelector::default()).unwrap();
        assert!(s.is_empty());
        assert!(s.matches(&labels(&[("x", "y")])));
    }

    #[test]
    fn from_label_selector_checks_value_counts() {
        let req = |op: &str, values: Option<Vec<&str>>| metav1::LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![metav1::LabelSelectorRequirement {
                key: "k".into(),
                operator: op.into(),
                values: values.map(|v| v.into_iter().map(String::from).collect()),
            }]),
        };
        let e = |ls| {
            LabelSelector::from_label_selector(&ls)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(req("In", Some(vec![]))),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            e(req("NotIn", None)),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            e(req("Exists", Some(vec!["a"]))),
            "values: Invalid value: []string{\"a\"}: values set must be empty for exists and does not exist"
        );
        assert_eq!(
            e(req("DoesNotExist", Some(vec!["a", "b"]))),
            "values: Invalid value: []string{\"a\", \"b\"}: values set must be empty for exists and does not exist"
        );
        assert_eq!(
            e(req("Gt", Some(vec!["1"]))),
            "\"Gt\" is not a valid label selector operator"
        );
        assert!(LabelSelector::from_label_selector(&req("Exists", Some(vec![]))).is_ok());
    }

    #[test]
    fn from_label_selector_validates_keys_and_values() {
        let ls = metav1::LabelSelector {
            match_labels: Some(
                [("bad key".to_string(), "bad value!".to_string())]
                    .into_iter()
                    .collect(),
            ),
            match_expressions: None,
        };
        let e = LabelSelector::from_label_selector(&ls)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("[key: Invalid value: \"bad key\": name part must consist"),
            "{e}"
        );
        assert!(
            e.contains(", values[0][bad key]: Invalid value: \"bad value!\": a valid label"),
            "{e}"
        );
        assert!(e.ends_with(']'), "{e}");
    }

    #[test]
    fn requirement_new_checks_operator_arity() {
        assert_eq!(
            Requirement::new("a", Operator::Equals, vec![]).unwrap_err().to_string(),
            "values: Invalid value: []string(nil): exact-match compatibility requires one single value"
        );
        assert_eq!(
            Requirement::new("a", Operator::GreaterThan, vec!["1".into(), "2".into()])
                .unwrap_err()
                .to_string(),
            "values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly one value is required"
        );
    }

    #[test]
    fn from_set_and_exact_match() {
        let s = LabelSelector::from_set(&labels(&[("b", "2"), ("a", "1")]));
        assert_eq!(s.to_string(), "a=1,b=2");
        assert_eq!(s.requires_exact_match("b"), Some("2"));
        assert_eq!(s.requires_exact_match("c"), None);
        assert!(LabelSelector::from_set(&labels(&[])).matches(&labels(&[("x", "y")])));
    }

    #[test]
    fn json_selector_helper() {
        let l = labels(&[("app", "web")]);
        assert!(!matches_label_selector_json(&serde_json::Value::Null, &l).unwrap());
        assert!(matches_label_selector_json(&serde_json::json!({}), &l).unwrap());
        assert!(matches_label_selector_json(
            &serde_json::json!({"matchLabels": {"app": "web"}}),
            &l
        )
        .unwrap());
        assert!(!matches_label_selector_json(
            &serde_json::json!({"matchLabels": {"app": "db"}}),
            &l
        )
        .unwrap());
        assert!(matches_label_selector_json(
            &serde_json::json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
            &l
        )
        .is_err());
    }

    #[test]
    fn round_trips_through_display() {
        for s in [
            "a=b",
            "a!=b",
            "a in (x,y)",
            "a notin (x)",
            "a",
            "!a",
            "a>1",
            "a<1",
            "a=b,c in (d,e),!f",
        ] {
            assert_eq!(sel(&sel(s).to_string()), sel(s), "{s}");
        }
    }
}
