//! Reading `-f` manifests: files, directories (`-R` for subdirectories), `-` for stdin;
//! multi-document YAML or JSON, `List` objects expanded; errors name the file and document.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// One object read from a manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file name as given (`STDIN` for `-`).
    pub source: String,
    pub object: Value,
}

impl Manifest {
    pub fn api_version(&self) -> &str {
        self.object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn namespace(&self) -> Option<&str> {
        self.object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the path \"{0}\" does not exist")]
    Missing(String),
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
    #[error("error parsing {file} (document {document}): {problem}")]
    Parse {
        file: String,
        document: usize,
        problem: String,
    },
    #[error("error validating \"{file}\" (document {document}): {problem}")]
    Invalid {
        file: String,
        document: usize,
        problem: String,
    },
    /// The `-f` arguments, as Go prints a list: `[a b]`.
    #[error("error reading [{0}]: recognized file extensions are [.json .yaml .yml]")]
    NoManifests(String),
}

/// The files behind `-f` arguments, in order.
fn expand(path: &str, recursive: bool) -> Result<Vec<PathBuf>, ManifestError> {
    let p = Path::new(path);
    if !p.exists() {
        return Err(ManifestError::Missing(path.to_string()));
    }
    if !p.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| ManifestError::Read(path.to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            if recursive {
                out.extend(expand(&e.to_string_lossy(), true)?);
            }
        } else if matches!(
            e.extension().and_then(|x| x.to_str()),
            Some("json" | "yaml" | "yml")
        ) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Every source's text, in order: (`name`, text).
pub fn read_sources(
    filenames: &[String],
    recursive: bool,
) -> Result<Vec<(String, String)>, ManifestError> {
    let mut out = Vec::new();
    for f in filenames {
        if f == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| ManifestError::Read("STDIN".into(), e))?;
            out.push(("STDIN".to_string(), text));
            continue;
        }
        for p in expand(f, recursive)? {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| ManifestError::Read(p.display().to_string(), e))?;
            out.push((p.display().to_string(), text));
        }
    }
    Ok(out)
}

/// Splits one source into objects. Documents that fail are returned as errors in place, so
/// callers can go on with the rest.
pub fn parse_source(source: &str, text: &str) -> Vec<Result<Manifest, ManifestError>> {
    let mut out = Vec::new();
    let docs = split_documents(text);
    for (i, doc) in docs.iter().enumerate() {
        let document = i + 1;
        if doc
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        let value: Result<Value, String> = match serde_yaml::Deserializer::from_str(doc).next() {
            Some(d) => Value::deserialize(d).map_err(|e| e.to_string()),
            None => continue,
        };
        let value = match value {
            Ok(Value::Null) => continue,
            Ok(v) => v,
            Err(problem) => {
                out.push(Err(ManifestError::Parse {
                    file: source.to_string(),
                    document,
                    problem,
                }));
                continue;
            }
        };
        let objects = if value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && value.get("items").is_some_and(Value::is_array)
        {
            value["items"].as_array().cloned().unwrap_or_default()
        } else {
            vec![value]
        };
        for object in objects {
            let mut missing = Vec::new();
            if !object.is_object() {
                out.push(Err(ManifestError::Invalid {
                    file: source.to_string(),
                    document,
                    problem: "expected an object".to_string(),
                }));
                continue;
            }
            if object
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                missing.push("apiVersion not set");
            }
            if object
                .get("kind")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                missing.push("kind not set");
            }
            if !missing.is_empty() {
                out.push(Err(ManifestError::Invalid {
                    file: source.to_string(),
                    document,
                    problem: format!("error validating data: [{}]", missing.join(", ")),
                }));
                continue;
            }
            out.push(Ok(Manifest {
                source: source.to_string(),
                object,
            }));
        }
    }
    out
}

/// Splits YAML text at `---` document markers.
fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.starts_with("---") && line[3..].trim().is_empty() || line.starts_with("--- ") {
            docs.push(String::new());
            continue;
        }
        let cur = docs.last_mut().expect("at least one document");
        cur.push_str(line);
        cur.push('\n');
    }
    docs
}

/// Reads all `-f` sources; returns the objects and the errors met, in order.
pub fn read_all(
    filenames: &[String],
    recursive: bool,
) -> Result<Vec<Result<Manifest, ManifestError>>, ManifestError> {
    let mut out = Vec::new();
    let sources = read_sources(filenames, recursive)?;
    for (name, text) in &sources {
        out.extend(parse_source(name, text));
    }
    // No files at all is an error here; files without objects are the caller's to judge
    // (`no objects passed to create`, `No resources found`).
    if sources.is_empty() {
        return Err(ManifestError::NoManifests(filenames.join(" ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_errors() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# comment only\n---\nkind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n---\nmetadata: {name: x}\n---\na: [\n";
        let got = parse_source("f.yaml", text);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].as_ref().unwrap().name(), "a");
        assert_eq!(got[1].as_ref().unwrap().kind(), "Secret");
        let e = got[2].as_ref().unwrap_err().to_string();
        assert_eq!(
            e,
            "error validating \"f.yaml\" (document 4): error validating data: [apiVersion not set, kind not set]"
        );
        let e = got[3].as_ref().unwrap_err().to_string();
        assert!(e.starts_with("error parsing f.yaml (document 5): "), "{e}");
    }

    #[test]
    fn json_documents_parse() {
        let got = parse_source(
            "x.json",
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"#,
        );
        assert_eq!(got[0].as_ref().unwrap().name(), "p");
    }
}
