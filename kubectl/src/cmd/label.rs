//! `kubectl label` and `kubectl annotate`: `key=value` and `key-` through a JSON merge patch,
//! refusing to change an existing value without `--overwrite`, as upstream does.

use std::collections::BTreeMap;

use anyhow::bail;
use http::Method;
use serde_json::{json, Map, Value};

use super::Ctx;

#[derive(clap::Args, Debug)]
pub struct LabelArgs {
    /// TYPE NAME KEY_1=VAL_1 ... KEY_N=VAL_N, or TYPE/NAME KEY=VAL, KEY- removes.
    pub args: Vec<String>,
    /// Allow existing values to be overwritten.
    #[arg(long)]
    pub overwrite: bool,
    /// Select all resources of the type in the namespace.
    #[arg(long)]
    pub all: bool,
    /// Across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Only update if the object's resourceVersion matches.
    #[arg(long)]
    pub resource_version: Option<String>,
    /// List the current labels/annotations of the objects.
    #[arg(long)]
    pub list: bool,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// none, server or client.
    #[arg(long, default_value = "none", num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Labels,
    Annotations,
}

impl Which {
    fn field(self) -> &'static str {
        match self {
            Which::Labels => "labels",
            Which::Annotations => "annotations",
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Which::Labels => "labeled",
            Which::Annotations => "annotated",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Which::Labels => "label",
            Which::Annotations => "annotation",
        }
    }
}

/// The changes asked for: keys to set and keys to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

/// Splits the arguments into resource arguments and changes.
pub fn split_args(args: &[String], which: Which) -> anyhow::Result<(Vec<String>, Changes)> {
    let mut resources = Vec::new();
    let mut changes = Changes::default();
    for a in args {
        if let Some((k, v)) = a.split_once('=') {
            if k.is_empty() {
                bail!("invalid {} format: {a}", which.noun());
            }
            if which == Which::Labels {
                validate_label_value(v)
                    .map_err(|e| anyhow::anyhow!("invalid label value: \"{a}\": {e}"))?;
            }
            changes.set.insert(k.to_string(), v.to_string());
        } else if let Some(k) = a.strip_suffix('-').filter(|_| !resources.is_empty()) {
            changes.remove.push(k.to_string());
        } else {
            if !changes.set.is_empty() || !changes.remove.is_empty() {
                bail!(
                    "all resources must be specified before {} changes: {a}",
                    which.noun()
                );
            }
            resources.push(a.clone());
        }
    }
    for k in &changes.remove {
        if changes.set.contains_key(k) {
            bail!(
                "can not both modify and remove the following {}(s) in the same command: {k}",
                which.noun()
            );
        }
    }
    Ok((resources, changes))
}

fn validate_label_value(v: &str) -> Result<(), String> {
    if v.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    let ok_chars = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    let ends = v.is_empty()
        || (v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && v.chars().last().is_some_and(|c| c.is_ascii_alphanumeric()));
    if ok_chars && ends {
        Ok(())
    } else {
        Err("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into())
    }
}

/// The merge patch that makes `current` carry `changes`, or an error when a value would
/// change without `overwrite`. `None` when nothing changes.
pub fn patch_for(
    current: &Map<String, Value>,
    changes: &Changes,
    overwrite: bool,
    which: Which,
    resource_version: Option<&str>,
) -> anyhow::Result<Option<Value>> {
    let mut m = Map::new();
    for (k, v) in &changes.set {
        match current.get(k).and_then(Value::as_str) {
            Some(old) if old == v => {}
            Some(old) if !overwrite => {
                bail!("'{k}' already has a value ({old}), and --overwrite is false")
            }
            _ => {
                m.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    for k in &changes.remove {
        if current.contains_key(k) {
            m.insert(k.clone(), Value::Null);
        } else {
            eprintln!("{} {k:?} not found.", which.noun());
        }
    }
    if m.is_empty() {
        return Ok(None);
    }
    let mut meta = json!({ which.field(): m });
    if let Some(rv) = resource_version {
        meta["resourceVersion"] = json!(rv);
    }
    Ok(Some(json!({ "metadata": meta })))
}

pub async fn run(ctx: &mut Ctx, a: LabelArgs, which: Which) -> anyhow::Result<()> {
    let (resource_args, changes) = split_args(&a.args, which)?;
    if changes.set.is_empty() && changes.remove.is_empty() && !a.list {
        bail!("at least one {} update is required", which.noun());
    }
    let (targets, _) = super::resolve_args(ctx, &resource_args).await?;
    let format = match &a.output {
        Some(o) => Some(crate::output::Format::parse(Some(o))?),
        None => None,
    };
    let (dry, dry_q) = super::create::dry_run_query(&a.dry_run)?;
    let mut errors = Vec::new();
    for t in targets {
        let r = &t.resource;
        let objects: Vec<Value> = if t.names.is_empty() {
            if !a.all && a.selector.is_none() {
                bail!("resource(s) were provided, but no name was specified");
            }
            let ns = (!a.all_namespaces).then_some(ctx.namespace.as_str());
            super::list_objects(ctx, r, ns, a.selector.as_deref(), None).await?
        } else {
            let mut v = Vec::new();
            for name in &t.names {
                let ns = super::ns_for(r, &ctx.namespace);
                match ctx.rest.get_json(&r.object_path(ns, name)).await {
                    Ok(o) => v.push(o),
                    Err(e) => errors.push(e.into()),
                }
            }
            v
        };
        for obj in objects {
            let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
            let empty = Map::new();
            let current = obj["metadata"][which.field()].as_object().unwrap_or(&empty);
            if a.list {
                for (k, v) in current {
                    println!("{k}={}", v.as_str().unwrap_or(""));
                }
                continue;
            }
            let patch = match patch_for(
                current,
                &changes,
                a.overwrite,
                which,
                a.resource_version.as_deref(),
            ) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut result = obj.clone();
            if let Some(p) = &patch {
                if !dry || !dry_q.is_empty() {
                    let mut path = r.object_path(ns.as_deref(), &name);
                    if !dry_q.is_empty() {
                        path = format!("{path}?{dry_q}");
                    }
                    match ctx
                        .rest
                        .send_json(Method::PATCH, &path, "application/merge-patch+json", p)
                        .await
                    {
                        Ok(v) => result = v,
                        Err(e) => {
                            errors.push(e.into());
                            continue;
                        }
                    }
                }
            }
            let verb = if patch.is_some() {
                if which == Which::Labels && changes.set.is_empty() {
                    "unlabeled".to_string()
                } else {
                    which.verb().to_string()
                }
            } else {
                format!("not {}", which.verb())
            };
            super::create::print_result(&format, r, &result, &verb, "")?;
        }
    }
    super::get::finish(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments_split_into_resources_and_changes() {
        let (r, c) = split_args(&s(&["pods", "x", "a=b", "c-"]), Which::Labels).unwrap();
        assert_eq!(r, s(&["pods", "x"]));
        assert_eq!(c.set.get("a").map(String::as_str), Some("b"));
        assert_eq!(c.remove, s(&["c"]));
        assert!(split_args(&s(&["pods", "x", "a=b c"]), Which::Labels).is_err());
        assert!(split_args(&s(&["pods", "x", "a=b c"]), Which::Annotations).is_ok());
    }

    #[test]
    fn overwrite_is_required_to_change_values() {
        let current: Map<String, Value> = serde_json::from_str(r#"{"a":"1","b":"2"}"#).unwrap();
        let (_, c) = split_args(&s(&["po", "x", "a=3"]), Which::Labels).unwrap();
        let e = patch_for(&current, &c, false, Which::Labels, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "'a' already has a value (1), and --overwrite is false"
        );
        let p = patch_for(&current, &c, true, Which::Labels, None)
            .unwrap()
            .unwrap();
        assert_eq!(p, json!({"metadata": {"labels": {"a": "3"}}}));
        let (_, c) = split_args(&s(&["po", "x", "a=1", "z-"]), Which::Labels).unwrap();
        assert_eq!(
            patch_for(&current, &c, false, Which::Labels, None).unwrap(),
            None
        );
        let (_, c) = split_args(&s(&["po", "x", "b-"]), Which::Annotations).unwrap();
        assert_eq!(
            patch_for(&current, &c, false, Which::Annotations, None).unwrap(),
            Some(json!({"metadata": {"annotations": {"b": null}}}))
        );
    }
}
