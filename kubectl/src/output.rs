//! `-o` formats for objects: `yaml`, `json`, `name`, `jsonpath=...`, `jsonpath-file=...`,
//! `custom-columns=...`, `custom-columns-file=...`, and the object name form `kind.group/name`.

use serde_json::Value;

use crate::jsonpath::{JsonPathError, Template};
use crate::printers;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("unable to match a printer suitable for the output format \"{0}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml")]
    Unknown(String),
    #[error("error parsing jsonpath {template}, {source}")]
    JsonPath {
        template: String,
        source: JsonPathError,
    },
    #[error("custom-columns format specified but no custom columns given")]
    NoColumns,
    #[error("unexpected custom-columns spec: {0}, expected <header>:<json-path-expr>")]
    BadColumn(String),
    #[error("reading {0}: {1}")]
    File(String, std::io::Error),
}

/// A parsed `-o` value.
#[derive(Debug, Clone)]
pub enum Format {
    Table { wide: bool },
    Yaml,
    Json,
    Name,
    JsonPath(Template, String),
    CustomColumns(Vec<(String, Template)>),
}

impl Format {
    pub fn parse(o: Option<&str>) -> Result<Self, OutputError> {
        let Some(o) = o else {
            return Ok(Format::Table { wide: false });
        };
        let (kind, arg) = match o.split_once('=') {
            Some((k, a)) => (k, Some(a)),
            None => (o, None),
        };
        let jsonpath = |t: String| {
            Template::parse(&t)
                .map(|tp| Format::JsonPath(tp, t.clone()))
                .map_err(|source| OutputError::JsonPath {
                    template: t,
                    source,
                })
        };
        match (kind, arg) {
            ("", None) => Ok(Format::Table { wide: false }),
            ("wide", None) => Ok(Format::Table { wide: true }),
            ("yaml", None) => Ok(Format::Yaml),
            ("json", None) => Ok(Format::Json),
            ("name", None) => Ok(Format::Name),
            ("jsonpath", Some(t)) => jsonpath(t.to_string()),
            ("jsonpath-file", Some(f)) => {
                jsonpath(std::fs::read_to_string(f).map_err(|e| OutputError::File(f.into(), e))?)
            }
            ("custom-columns", Some(spec)) => custom_columns(spec),
            ("custom-columns-file", Some(f)) => {
                let text =
                    std::fs::read_to_string(f).map_err(|e| OutputError::File(f.into(), e))?;
                let mut lines = text.lines().filter(|l| !l.trim().is_empty());
                let headers: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
                let paths: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
                if headers.len() != paths.len() || headers.is_empty() {
                    return Err(OutputError::NoColumns);
                }
                let spec: Vec<String> = headers
                    .iter()
                    .zip(paths)
                    .map(|(h, p)| format!("{h}:{p}"))
                    .collect();
                custom_columns(&spec.join(","))
            }
            _ => Err(OutputError::Unknown(o.to_string())),
        }
    }

    pub fn is_table(&self) -> bool {
        matches!(self, Format::Table { .. })
    }
}

fn custom_columns(spec: &str) -> Result<Format, OutputError> {
    if spec.is_empty() {
        return Err(OutputError::NoColumns);
    }
    let mut cols = Vec::new();
    for part in spec.split(',') {
        let Some((header, path)) = part.split_once(':') else {
            return Err(OutputError::BadColumn(part.to_string()));
        };
        let expr = relaxed(path);
        let t = Template::parse(&expr).map_err(|source| OutputError::JsonPath {
            template: expr.clone(),
            source,
        })?;
        cols.push((header.to_string(), t));
    }
    Ok(Format::CustomColumns(cols))
}

/// `.a.b`, `a.b` or `{.a.b}` → `{.a.b}`.
pub fn relaxed(path: &str) -> String {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(p);
    if p.starts_with('.') {
        format!("{{{p}}}")
    } else {
        format!("{{.{p}}}")
    }
}

/// `pod/x` or `deployment.apps/x` for an object.
pub fn object_name(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, _) = api_types::resources::split_api_version(api_version);
    if group.is_empty() {
        format!("{}/{name}", kind.to_lowercase())
    } else {
        format!("{}.{group}/{name}", kind.to_lowercase())
    }
}

/// Go's `%v` of a JSON value, as custom columns print it.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(go_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_value(&m[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Prints objects in a non-table format. `single` prints the one object as itself rather
/// than in a `List`.
pub fn print_objects(
    format: &Format,
    items: Vec<Value>,
    single: bool,
    no_headers: bool,
) -> Result<String, OutputError> {
    let whole = || {
        if single && items.len() == 1 {
            items[0].clone()
        } else {
            printers::list_of(items.clone())
        }
    };
    Ok(match format {
        Format::Yaml => printers::to_yaml(&whole()),
        Format::Json => printers::to_json(&whole()),
        Format::Name => items.iter().map(|o| object_name(o) + "\n").collect(),
        Format::JsonPath(t, src) => {
            t.render(&whole(), true)
                .map_err(|source| OutputError::JsonPath {
                    template: src.clone(),
                    source,
                })?
        }
        Format::CustomColumns(cols) => {
            let mut rows: Vec<Vec<String>> = Vec::new();
            if !no_headers {
                rows.push(cols.iter().map(|(h, _)| h.clone()).collect());
            }
            for item in &items {
                rows.push(
                    cols.iter()
                        .map(|(_, t)| {
                            let vals = t.values(item);
                            if vals.is_empty() {
                                "<none>".to_string()
                            } else {
                                vals.iter().map(go_value).collect::<Vec<_>>().join(",")
                            }
                        })
                        .collect(),
                );
            }
            printers::align(&rows)
        }
        Format::Table { .. } => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_parse() {
        assert!(matches!(
            Format::parse(Some("wide")),
            Ok(Format::Table { wide: true })
        ));
        assert!(matches!(
            Format::parse(Some("jsonpath={.a}")),
            Ok(Format::JsonPath(..))
        ));
        assert!(Format::parse(Some("bogus")).is_err());
        assert!(Format::parse(Some("custom-columns=A")).is_err());
    }

    #[test]
    fn names_and_columns() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": {"a": "b"}}});
        assert_eq!(object_name(&d), "deployment.apps/x");
        let f = Format::parse(Some(
            "custom-columns=NAME:.metadata.name,L:metadata.labels,X:.nope",
        ))
        .unwrap();
        assert_eq!(
            print_objects(&f, vec![d], false, false).unwrap(),
            "NAME   L          X\nx      map[a:b]   <none>\n"
        );
    }
}
