//! kubectl's JSONPath templates: literal text with `{...}` actions (`.a.b`, `['k']`, `[0]`,
//! `[-1]`, `[1:3]`, `[*]`, `..name`, `[?(@.x=="y")]`, `{range ...}...{end}`, `{"\n"}`).

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum JsonPathError {
    #[error("unclosed action")]
    Unclosed,
    #[error("unrecognized character in action: {0}")]
    BadChar(char),
    #[error("not in range, nothing to end")]
    NothingToEnd,
    #[error("unterminated filter or index: {0}")]
    BadIndex(String),
    #[error("{0} is not found")]
    NotFound(String),
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Recursive(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Filter(Filter),
}

#[derive(Debug, Clone)]
struct Filter {
    left: Vec<Step>,
    op: Option<(String, Operand)>,
}

#[derive(Debug, Clone)]
enum Operand {
    Literal(Value),
    Path(Vec<Step>),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    pub fn parse(src: &str) -> Result<Self, JsonPathError> {
        let mut stack: Vec<(Vec<Step>, Vec<Node>)> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        let mut rest = src;
        while !rest.is_empty() {
            match rest.find('{') {
                None => {
                    nodes.push(Node::Text(rest.to_string()));
                    break;
                }
                Some(i) => {
                    if i > 0 {
                        nodes.push(Node::Text(rest[..i].to_string()));
                    }
                    let after = &rest[i + 1..];
                    let end = find_close(after).ok_or(JsonPathError::Unclosed)?;
                    let action = after[..end].trim();
                    rest = &after[end + 1..];
                    if action == "end" {
                        let (path, outer) = stack.pop().ok_or(JsonPathError::NothingToEnd)?;
                        let body = std::mem::replace(&mut nodes, outer);
                        nodes.push(Node::Range(path, body));
                    } else if let Some(expr) = action.strip_prefix("range ") {
                        let path = parse_path(expr.trim())?;
                        stack.push((path, std::mem::take(&mut nodes)));
                    } else if action.starts_with('"') || action.starts_with('\'') {
                        nodes.push(Node::Text(unquote(action)));
                    } else if !action.is_empty() {
                        nodes.push(Node::Path(parse_path(action)?));
                    }
                }
            }
        }
        if !stack.is_empty() {
            return Err(JsonPathError::Unclosed);
        }
        Ok(Template { nodes })
    }

    /// Renders the template against `data`. Missing keys print nothing when
    /// `allow_missing` (kubectl's default), else fail.
    pub fn render(&self, data: &Value, allow_missing: bool) -> Result<String, JsonPathError> {
        let mut out = String::new();
        render_nodes(&self.nodes, data, data, allow_missing, &mut out)?;
        Ok(out)
    }

    /// Whether the template is one path and nothing else (`{.a.b}`).
    pub fn is_single_path(&self) -> bool {
        matches!(self.nodes.as_slice(), [Node::Path(_)])
    }

    /// The values the template's paths select, for custom columns.
    pub fn values(&self, data: &Value) -> Vec<Value> {
        let mut vals = Vec::new();
        for n in &self.nodes {
            if let Node::Path(p) = n {
                vals.extend(eval(p, data, data).into_iter().cloned());
            }
        }
        vals
    }
}

fn find_close(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (None, '"') | (None, '\'') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> String {
    let inner = &s[1..s.len().saturating_sub(1).max(1)];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_path(expr: &str) -> Result<Vec<Step>, JsonPathError> {
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    if i < chars.len() && (chars[i] == '$' || chars[i] == '@') {
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let recursive = chars.get(i + 1) == Some(&'.');
                i += if recursive { 2 } else { 1 };
                let mut name = String::new();
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    name.push(chars[i]);
                    i += 1;
                }
                if name == "*" {
                    steps.push(Step::Wildcard);
                } else if recursive {
                    steps.push(Step::Recursive(name));
                } else if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                let start = i + 1;
                let mut depth = 0;
                let mut j = start;
                let mut quote: Option<char> = None;
                while j < chars.len() {
                    let c = chars[j];
                    match quote {
                        Some(q) if c == q => quote = None,
                        Some(_) => {}
                        None => match c {
                            '"' | '\'' => quote = Some(c),
                            '[' => depth += 1,
                            ']' if depth == 0 => break,
                            ']' => depth -= 1,
                            _ => {}
                        },
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(JsonPathError::BadIndex(expr.to_string()));
                }
                let inner: String = chars[start..j].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = j + 1;
            }
            ' ' => i += 1,
            c => {
                // A bare field name (custom columns allow `metadata.name`).
                if steps.is_empty() && (c.is_alphanumeric() || c == '_') {
                    let mut name = String::new();
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        name.push(chars[i]);
                        i += 1;
                    }
                    steps.push(Step::Field(name));
                } else {
                    return Err(JsonPathError::BadChar(c));
                }
            }
        }
    }
    Ok(steps)
}

fn parse_bracket(inner: &str) -> Result<Step, JsonPathError> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if (inner.starts_with('\'') && inner.ends_with('\''))
        || (inner.starts_with('"') && inner.ends_with('"'))
    {
        return Ok(Step::Field(inner[1..inner.len() - 1].to_string()));
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return parse_filter(f.trim());
    }
    if let Some((a, b)) = inner.split_once(':') {
        let b = b.split(':').next().unwrap_or("");
        let num = |s: &str| -> Result<Option<i64>, JsonPathError> {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse()
                    .map(Some)
                    .map_err(|_| JsonPathError::BadIndex(inner.to_string()))
            }
        };
        return Ok(Step::Slice(num(a)?, num(b)?));
    }
    inner
        .parse()
        .map(Step::Index)
        .map_err(|_| JsonPathError::BadIndex(inner.to_string()))
}

fn parse_filter(f: &str) -> Result<Step, JsonPathError> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = split_outside_quotes(f, op) {
            let left = parse_path(l.trim())?;
            let r = r.trim();
            let operand = if r.starts_with('"') || r.starts_with('\'') {
                Operand::Literal(Value::String(unquote(r)))
            } else if let Ok(n) = serde_json::from_str::<Value>(r) {
                Operand::Literal(n)
            } else {
                Operand::Path(parse_path(r)?)
            };
            return Ok(Step::Filter(Filter {
                left,
                op: Some((op.to_string(), operand)),
            }));
        }
    }
    Ok(Step::Filter(Filter {
        left: parse_path(f)?,
        op: None,
    }))
}

fn split_outside_quotes<'a>(s: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if s[i..].starts_with(op) => return Some((&s[..i], &s[i + op.len()..])),
            None => {}
        }
    }
    None
}

fn eval<'a>(steps: &[Step], root: &'a Value, cur: &'a Value) -> Vec<&'a Value> {
    let mut vals: Vec<&'a Value> = vec![cur];
    for step in steps {
        let mut next = Vec::new();
        for v in vals {
            match step {
                Step::Field(name) => {
                    if let Some(x) = v.get(name.as_str()) {
                        next.push(x);
                    }
                }
                Step::Recursive(name) => collect_recursive(v, name, &mut next),
                Step::Wildcard => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Index(i) => {
                    if let Value::Array(a) = v {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        if idx >= 0 {
                            if let Some(x) = a.get(idx as usize) {
                                next.push(x);
                            }
                        }
                    }
                }
                Step::Slice(a, b) => {
                    if let Value::Array(arr) = v {
                        let len = arr.len() as i64;
                        let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                        let s = a.map(norm).unwrap_or(0);
                        let e = b.map(norm).unwrap_or(len);
                        if s < e {
                            next.extend(arr[s as usize..e as usize].iter());
                        }
                    }
                }
                Step::Filter(f) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for item in items {
                        if filter_matches(f, root, item) {
                            next.push(item);
                        }
                    }
                }
            }
        }
        vals = next;
    }
    vals
}

fn collect_recursive<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for child in m.values() {
                collect_recursive(child, name, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                collect_recursive(child, name, out);
            }
        }
        _ => {}
    }
}

fn filter_matches(f: &Filter, root: &Value, item: &Value) -> bool {
    let left = eval(&f.left, root, item);
    let Some((op, operand)) = &f.op else {
        return !left.is_empty();
    };
    let right: Vec<Value> = match operand {
        Operand::Literal(v) => vec![v.clone()],
        Operand::Path(p) => eval(p, root, item).into_iter().cloned().collect(),
    };
    let (Some(l), Some(r)) = (left.first(), right.first()) else {
        return false;
    };
    let cmp = match (l.as_f64(), r.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => Some(text(l).cmp(&text(r))),
    };
    use std::cmp::Ordering::*;
    match (op.as_str(), cmp) {
        ("==", Some(Equal)) => true,
        ("!=", Some(o)) => o != Equal,
        ("<", Some(Less)) | (">", Some(Greater)) => true,
        ("<=", Some(o)) => o != Greater,
        (">=", Some(o)) => o != Less,
        _ => false,
    }
}

/// How a selected value prints: strings raw, everything else as compact JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => {
            let mut out = String::new();
            compact_json(&crate::printers::sorted(other), &mut out);
            out
        }
    }
}

fn compact_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::printers::json_string(out, k);
                out.push(':');
                compact_json(val, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, val) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_json(val, out);
            }
            out.push(']');
        }
        Value::String(s) => crate::printers::json_string(out, s),
        other => out.push_str(&other.to_string()),
    }
}

fn render_nodes(
    nodes: &[Node],
    root: &Value,
    cur: &Value,
    allow_missing: bool,
    out: &mut String,
) -> Result<(), JsonPathError> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let vals = eval(p, root, cur);
                if vals.is_empty() && !allow_missing && !p.is_empty() {
                    return Err(JsonPathError::NotFound(step_name(p)));
                }
                let parts: Vec<String> = vals.into_iter().map(text).collect();
                out.push_str(&parts.join(" "));
            }
            Node::Range(p, body) => {
                for v in eval(p, root, cur) {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) if matches!(p.last(), Some(Step::Field(_))) => {
                            a.iter().collect()
                        }
                        other => vec![other],
                    };
                    for item in items {
                        render_nodes(body, root, item, allow_missing, out)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn step_name(p: &[Step]) -> String {
    match p.last() {
        Some(Step::Field(n)) | Some(Step::Recursive(n)) => n.clone(),
        _ => "path".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().render(v, true).unwrap()
    }

    #[test]
    fn paths_ranges_and_filters() {
        let v = json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app.k/x": "1"}}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            {"metadata": {"name": "b"}, "spec": {"replicas": 3}}
        ]});
        assert_eq!(render("{.items[*].metadata.name}", &v), "a b");
        assert_eq!(
            render("{range .items[*]}{.metadata.name}{\"\\n\"}{end}", &v),
            "a\nb\n"
        );
        assert_eq!(render("{.items[-1].spec.replicas}", &v), "3");
        assert_eq!(render("x={.items[0].metadata.labels.app\\.k/x}", &v), "x=1");
        assert_eq!(render("{.items[0].metadata.labels['app.k/x']}", &v), "1");
        assert_eq!(
            render(
                "{.items[0].status.conditions[?(@.type==\"Ready\")].status}",
                &v
            ),
            "True"
        );
        assert_eq!(render("{..name}", &v), "a b");
        assert_eq!(render("{.items[1].spec}", &v), "{\"replicas\":3}");
        assert_eq!(render("{.kind}{.missing}", &v), "List");
        assert!(Template::parse("{.a").is_err());
        assert!(Template::parse("{.items}")
            .unwrap()
            .render(&v, false)
            .is_ok());
        assert!(Template::parse("{.nope}")
            .unwrap()
            .render(&v, false)
            .is_err());
    }
}
