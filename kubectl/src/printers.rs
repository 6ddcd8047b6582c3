//! Output encodings as upstream kubectl writes them: Go's tabwriter alignment (padding 3),
//! JSON with sorted keys and four-space indentation, and YAML as go-yaml v2 emits it
//! (sorted keys, quoting of ambiguous strings, literal blocks, folding at 80 columns).

use std::fmt::Write as _;

use serde_json::Value;

/// Aligns tab-separated cells like kubectl's `tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)`: every
/// cell but the last of a line is padded to its column's widest cell plus three spaces, and
/// to at least six.
pub fn align(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                break;
            }
            let w = cell.chars().count();
            if widths.len() <= i {
                widths.resize(i + 1, 0);
            }
            widths[i] = widths[i].max(w);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = (widths[i] + 3).max(6) - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// Go's text/tabwriter over `text` (cells end at tabs) with flags 0 and padding character
/// ' ': column blocks are runs of consecutive lines that have a cell in that column.
pub fn tabwrite(text: &str, minwidth: usize, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .map(|l| l.split('\t').collect())
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    let mut out = String::with_capacity(text.len() * 2);
    format_block(
        &lines,
        0,
        lines.len(),
        &mut widths,
        minwidth,
        padding,
        &mut out,
    );
    out
}

fn format_block(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    minwidth: usize,
    padding: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut width = minwidth;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(lines[this][column].chars().count() + padding);
            this += 1;
        }
        widths.push(width);
        format_block(lines, line0, this, widths, minwidth, padding, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(lines: &[Vec<&str>], from: usize, to: usize, widths: &[usize], out: &mut String) {
    for line in &lines[from..to] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j < widths.len() && j + 1 < line.len() {
                let w = cell.chars().count();
                out.extend(std::iter::repeat_n(' ', widths[j].saturating_sub(w)));
            }
        }
        out.push('\n');
    }
}

/// A JSON value with its object keys sorted, recursively (Go marshals maps sorted).
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::with_capacity(m.len());
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `kubectl -o json`: sorted keys, four spaces, Go's HTML escaping, trailing newline.
pub fn to_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, &sorted(v), 0);
    out.push('\n');
    out
}

/// JSON in the value's own key order (for documents Go prints from structs).
pub fn to_json_in_order(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v, 0);
    out.push('\n');
    out
}

fn write_json(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) => {
            out.push_str("{\n");
            let n = m.len();
            for (i, (k, val)) in m.iter().enumerate() {
                push_indent(out, indent + 1);
                json_string(out, k);
                out.push_str(": ");
                write_json(out, val, indent + 1);
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            push_indent(out, indent);
            out.push('}');
        }
        Value::Array(a) => {
            out.push_str("[\n");
            let n = a.len();
            for (i, val) in a.iter().enumerate() {
                push_indent(out, indent + 1);
                write_json(out, val, indent + 1);
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            push_indent(out, indent);
            out.push(']');
        }
        Value::String(s) => json_string(out, s),
        other => out.push_str(&other.to_string()),
    }
}

fn push_indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push_str("    ");
    }
}

/// A JSON string as Go's encoding/json writes it (escaping `<`, `>`, `&`, U+2028, U+2029).
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `kubectl -o yaml`: the document without a leading `---`.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    let v = sorted(v);
    match &v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            write_scalar(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let mut first = true;
    for (k, v) in m {
        if !first {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        first = false;
        write_string(out, k, indent, true);
        out.push(':');
        write_value_after_key(out, v, indent);
    }
}

/// Writes a mapping value that follows `key:` (the cursor is right after the colon).
fn write_value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent + 2));
            write_map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            write_seq(out, a, indent);
        }
        other => {
            out.push(' ');
            write_scalar(out, other, indent + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    let mut first = true;
    for v in a {
        if !first {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        first = false;
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            other => {
                write_scalar(out, other, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_scalar(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => write_string(out, s, indent, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn go_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{}", f as i64);
    }
    let s = format!("{f}");
    if f.abs() >= 1e21 || (f != 0.0 && f.abs() < 1e-4) {
        let e = format!("{f:e}");
        // Go writes 1e+21 where Rust writes 1e21.
        return match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x:0>2}"),
            Some((m, x)) => format!("{m}e-{:0>2}", &x[1..]),
            None => e,
        };
    }
    s
}

/// Whether go-yaml would read the plain scalar `s` as something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y",
        "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        return s[1..].bytes().all(|b| b.is_ascii_digit()) && s.len() > 1 || is_yaml_float(s);
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return false;
    }
    if is_timestamp(s) {
        return true;
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    if is_go_int(&plain) || is_yaml_float(&plain) || is_base60(s) {
        return true;
    }
    let unsigned = plain.strip_prefix('-').unwrap_or(&plain);
    unsigned.len() > 2
        && unsigned.starts_with("0b")
        && unsigned[2..].bytes().all(|b| b == b'0' || b == b'1')
}

fn is_go_int(s: &str) -> bool {
    let s = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('+'))
        .unwrap_or(s);
    if s.is_empty() {
        return false;
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (o, 8)
    } else if let Some(b) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (b, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    } else {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60(s: &str) -> bool {
    let s = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('+'))
        .unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if !f.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return false;
        }
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if head.is_empty()
        || !head.as_bytes()[0].is_ascii_digit()
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let b = p.as_bytes();
        let ok = match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    n > 0
}

/// Dates and times go-yaml reads as timestamps (`2006-1-2`, `2006-1-2T15:4:5Z`, ...).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let (date, time) = match rest.find(['T', 't', ' ']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut dp = date.split('-');
    let (Some(m), Some(d), None) = (dp.next(), dp.next(), dp.next()) else {
        return false;
    };
    let num = |x: &str| (1..=2).contains(&x.len()) && x.bytes().all(|c| c.is_ascii_digit());
    if !num(m) || !num(d) {
        return false;
    }
    match time {
        None => true,
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let t = t.split(['+', '-']).next().unwrap_or("");
            let t = t.split('.').next().unwrap_or("");
            let mut tp = t.split(':');
            matches!((tp.next(), tp.next(), tp.next(), tp.next()),
                (Some(h), Some(mi), Some(se), None) if num(h) && num(mi) && num(se))
        }
    }
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
        && c != '\u{feff}'
}

enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn choose_style(s: &str, key: bool) -> Style {
    if s.is_empty() || resolves_to_non_string(s) {
        return Style::Double;
    }
    let special = s.chars().any(|c| !is_printable(c));
    let multiline = s.contains('\n');
    if special {
        return Style::Double;
    }
    // Spaces next to line breaks rule out block and single-quoted styles.
    let space_break = s.contains(" \n");
    if multiline {
        if key || space_break || s.ends_with(' ') {
            return Style::Double;
        }
        return Style::Literal;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut indicators = false;
    if s.starts_with("---") || s.starts_with("...") {
        indicators = true;
    }
    for (i, &c) in chars.iter().enumerate() {
        let next_blank = chars.get(i + 1).is_none_or(|n| *n == ' ');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => indicators = true,
                '?' | ':' | '-' if next_blank => indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if next_blank => indicators = true,
                '#' if chars[i - 1] == ' ' => indicators = true,
                _ => {}
            }
        }
    }
    let leading_trailing_space = s.starts_with(' ') || s.ends_with(' ');
    if indicators || leading_trailing_space {
        Style::Single
    } else {
        Style::Plain
    }
}

fn write_string(out: &mut String, s: &str, indent: usize, key: bool) {
    match choose_style(s, key) {
        Style::Plain => write_folded(out, s, indent, key, false),
        Style::Single => {
            out.push('\'');
            write_folded(out, &s.replace('\'', "''"), indent, key, true);
            out.push('\'');
        }
        Style::Double => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    '\0' => out.push_str("\\0"),
                    c if !is_printable(c) => {
                        let n = c as u32;
                        if n <= 0xff {
                            let _ = write!(out, "\\x{n:02X}");
                        } else if n <= 0xffff {
                            let _ = write!(out, "\\u{n:04X}");
                        } else {
                            let _ = write!(out, "\\U{n:08X}");
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Style::Literal => {
            let trailing = s.len() - s.trim_end_matches('\n').len();
            out.push('|');
            if s.starts_with(' ') {
                out.push('2');
            }
            match trailing {
                0 => out.push('-'),
                1 => {}
                _ => out.push('+'),
            }
            let body = if trailing > 0 { &s[..s.len() - 1] } else { s };
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.extend(std::iter::repeat_n(' ', indent));
                    out.push_str(line);
                }
            }
        }
    }
}

/// Writes a plain or single-quoted scalar, breaking at a space once past column 80 as
/// libyaml does (not in keys).
fn write_folded(out: &mut String, s: &str, indent: usize, key: bool, quoted: bool) {
    if key {
        out.push_str(s);
        return;
    }
    let line_start = out.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let mut column = out[line_start..].chars().count();
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_space = chars.get(i + 1) == Some(&' ');
            let inner = !quoted || (i != 0 && i + 1 != chars.len());
            if !prev_space && column > 80 && !next_space && inner && i + 1 < chars.len() {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
                prev_space = true;
                continue;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
        out.push(c);
        column += 1;
    }
}

/// A multi-object result as upstream prints it: a `v1` `List`.
pub fn list_of(items: Vec<Value>) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_tabwriter_aligns_column_blocks() {
        let text =
            "Name:\tx\nLonger Name:\ty\nSection:\n  Sub:\ta\n  Other key:\tb\nEvents:\t<none>\n";
        assert_eq!(
            tabwrite(text, 0, 2),
            "Name:         x\nLonger Name:  y\nSection:\n  Sub:        a\n  Other key:  b\nEvents:       <none>\n"
        );
    }

    #[test]
    fn tabwriter_cells_are_at_least_six_wide() {
        let rows = vec![vec!["a".to_string(), "1".to_string(), "x".to_string()]];
        assert_eq!(align(&rows), "a     1     x\n");
    }

    #[test]
    fn tabwriter_pads_by_three() {
        let rows = vec![
            vec!["NAME".to_string(), "DATA".to_string(), "AGE".to_string()],
            vec!["kube-root".to_string(), "1".to_string(), "5s".to_string()],
        ];
        assert_eq!(
            align(&rows),
            "NAME        DATA   AGE\nkube-root   1      5s\n"
        );
    }

    #[test]
    fn json_is_sorted_and_indented() {
        let v = json!({"b": 1, "a": {"x": [], "y": "<&>"}, "c": [1, {}]});
        assert_eq!(
            to_json(&v),
            "{\n    \"a\": {\n        \"x\": [],\n        \"y\": \"\\u003c\\u0026\\u003e\"\n    },\n    \"b\": 1,\n    \"c\": [\n        1,\n        {}\n    ]\n}\n"
        );
    }

    #[test]
    fn yaml_quotes_like_go_yaml() {
        let v = json!({
            "a": "x: y", "b": "true", "c": "8080", "d": "", "e": " lead", "f": "-dash",
            "g": "multi\nline\n", "h": "multi\nline", "j": "#hash", "k": "a #b", "l": "null",
            "m": "1.5", "o": "0x1F", "p": "1e3", "q": "tab\there", "r": "ünï", "s": "{json}",
            "t": "[a]", "u": "a'b", "v": "\"q\"", "w": "trail ", "x": "~", "y": "*star",
            "z": "@at", "k1": "1:20", "k2": "on", "k3": "=x", "k4": "a:b",
            "k5": "multi\n  indented\nend\n\n", "k6": "a \nb", "ts": "2026-11-23T15:06:22Z",
            "i": "this is a very long string with many words that goes on and on past eighty characters wide for sure yes",
            "list": [{"name": "a", "ports": [{"containerPort": 80}]}, "s"], "empty": {}, "none": []
        });
        let want = r#"a: 'x: y'
b: "true"
c: "8080"
d: ""
e: ' lead'
empty: {}
f: -dash
g: |
  multi
  line
h: |-
  multi
  line
i: this is a very long string with many words that goes on and on past eighty characters
  wide for sure yes
j: '#hash'
k: 'a #b'
k1: "1:20"
k2: "on"
k3: =x
k4: a:b
k5: |+
  multi
    indented
  end

k6: "a \nb"
l: "null"
list:
- name: a
  ports:
  - containerPort: 80
- s
m: "1.5"
none: []
o: "0x1F"
p: "1e3"
q: "tab\there"
r: ünï
s: '{json}'
t: '[a]'
ts: "2026-11-23T15:06:22Z"
u: a'b
v: '"q"'
w: 'trail '
x: "~"
"y": '*star'
z: '@at'
"#;
        assert_eq!(to_yaml(&v), want);
    }
}
