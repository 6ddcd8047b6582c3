//! `kubectl explain TYPE[.field.path]`: a resource's schema from the server's OpenAPI v3
//! documents, printed in upstream's plaintext layout.

use anyhow::bail;
use serde_json::{Map, Value};

use super::Ctx;
use crate::discovery::DiscoveryError;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// TYPE[.FIELD...]
    pub target: Vec<String>,
    /// Print the fields of fields (currently only 1 level deep).
    #[arg(long, default_value = "false", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub recursive: bool,
    /// Use given api-version (group/version) of the resource.
    #[arg(long)]
    pub api_version: Option<String>,
    /// Format in which to render the schema (plaintext).
    #[arg(long, default_value = "plaintext")]
    pub output: String,
}

/// Where explaining fails, worded as upstream's.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete list of supported resources.")]
    NoType,
    #[error("We accept only this format: explain RESOURCE")]
    TooManyArgs,
    #[error("field {0:?} does not exist")]
    NoField(String),
    #[error("GVR ({group}/{version}, Resource={plural}) not found in OpenAPI schema")]
    NotInOpenApi {
        group: String,
        version: String,
        plural: String,
    },
    #[error("unrecognized format: {0}")]
    Output(String),
    #[error("the plaintext-openapiv2 format is not supported by this kubectl; use plaintext")]
    OpenApiV2,
}

/// Text is wrapped so that indented lines stay within this many columns.
const WIDTH: usize = 80;

pub async fn run(ctx: &mut Ctx, a: ExplainArgs) -> anyhow::Result<()> {
    match a.output.as_str() {
        "plaintext" => {}
        "plaintext-openapiv2" => bail!(ExplainError::OpenApiV2),
        other => bail!(ExplainError::Output(other.to_string())),
    }
    let target = match a.target.as_slice() {
        [] => bail!(ExplainError::NoType),
        [t] => t.clone(),
        _ => bail!(ExplainError::TooManyArgs),
    };
    let segments: Vec<&str> = target.trim_end_matches('.').split('.').collect();
    // `deployments.apps.spec`: the type may carry its group.
    let mut type_len = 1;
    if segments.len() > 1 && ctx.disco.resolve(&segments[..2].join(".")).await.is_ok() {
        type_len = 2;
    }
    let ty = segments[..type_len].join(".");
    let fields = &segments[type_len..];
    let resource = match ctx.disco.resolve(&ty).await {
        Ok(mut r) => r.remove(0),
        Err(e @ DiscoveryError::UnknownResource(_)) => {
            // Upstream prints this one without the `error: ` prefix.
            eprintln!("{e}");
            return Err(crate::Reported.into());
        }
        Err(e) => return Err(e.into()),
    };
    let (group, version, kind) = match &a.api_version {
        None => (
            resource.group.clone(),
            resource.version.clone(),
            resource.kind.clone(),
        ),
        Some(gv) => {
            let (group, version) = api_types::resources::split_api_version(gv);
            let not_found = || ExplainError::NotInOpenApi {
                group: group.to_string(),
                version: version.to_string(),
                plural: resource.plural.clone(),
            };
            let list = ctx
                .disco
                .resources_in(group, version)
                .await
                .map_err(|_| not_found())?;
            let found = list
                .into_iter()
                .find(|r| r.plural == resource.plural)
                .ok_or_else(not_found)?;
            (group.to_string(), version.to_string(), found.kind)
        }
    };
    let doc = fetch_document(ctx, &group, &version).await?;
    let not_found = || ExplainError::NotInOpenApi {
        group: group.clone(),
        version: version.clone(),
        plural: resource.plural.clone(),
    };
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(not_found)?;
    let root = find_kind(schemas, &group, &version, &kind).ok_or_else(not_found)?;
    let mut out = String::new();
    if !group.is_empty() {
        out.push_str(&format!("GROUP:      {group}\n"));
    }
    out.push_str(&format!("KIND:       {kind}\nVERSION:    {version}\n\n"));
    let docs = Schemas(schemas);
    match docs.explain(root, fields, a.recursive, &mut out) {
        Ok(()) => {
            print!("{out}");
            Ok(())
        }
        Err(e) => {
            // Upstream has printed the header before it finds the field missing.
            print!("{out}");
            Err(e.into())
        }
    }
}

/// The OpenAPI v3 document of one group version, found through the `/openapi/v3` index.
async fn fetch_document(ctx: &Ctx, group: &str, version: &str) -> anyhow::Result<Value> {
    let key = if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    };
    let index = ctx.rest.get_json("/openapi/v3").await?;
    let url = index
        .pointer(&format!(
            "/paths/{}/serverRelativeURL",
            key.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/openapi/v3/{key}"));
    Ok(ctx.rest.get_json(&url).await?)
}

/// The schema carrying `x-kubernetes-group-version-kind` for the kind.
fn find_kind<'a>(
    schemas: &'a Map<String, Value>,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<&'a Value> {
    schemas.values().find(|s| {
        s.get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|gvk| gvk["group"] == group && gvk["version"] == version && gvk["kind"] == kind)
    })
}

struct Schemas<'a>(&'a Map<String, Value>);

impl<'a> Schemas<'a> {
    /// The schema a `$ref` (direct or as the single `allOf`) points at, with its name.
    fn deref(&self, s: &'a Value) -> Option<(&'a str, &'a Value)> {
        let r = s.get("$ref").and_then(Value::as_str).or_else(|| {
            s.get("allOf")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|f| f.get("$ref"))
                .and_then(Value::as_str)
        })?;
        let name = r.rsplit('/').next().unwrap_or(r);
        Some((name, self.0.get(name)?))
    }

    /// What a schema stands for after following its reference.
    fn resolve(&self, s: &'a Value) -> &'a Value {
        self.deref(s).map(|(_, t)| t).unwrap_or(s)
    }

    /// The schema whose fields a field has: its referenced type, through arrays and maps.
    fn element(&self, s: &'a Value) -> &'a Value {
        let s = self.resolve(s);
        if let Some(items) = s.get("items") {
            return self.element(items);
        }
        match s.get("additionalProperties") {
            Some(v @ Value::Object(_)) if s.get("properties").is_none() => self.element(v),
            _ => s,
        }
    }

    /// Upstream's type names: `string`, `[]Container`, `map[string]string`, `ObjectMeta`.
    fn type_name(&self, s: &Value) -> String {
        if let Some((name, target)) = self.deref(s) {
            return match target.get("type").and_then(Value::as_str) {
                Some("object") | None => short_name(name).to_string(),
                Some(_) => self.type_name(target),
            };
        }
        match s.get("type").and_then(Value::as_str) {
            Some("array") => format!(
                "[]{}",
                s.get("items")
                    .map(|i| self.type_name(i))
                    .unwrap_or_else(|| "Object".into())
            ),
            Some("object") => match s.get("additionalProperties") {
                Some(v @ Value::Object(_)) if s.get("properties").is_none() => {
                    format!("map[string]{}", self.type_name(v))
                }
                _ => "Object".to_string(),
            },
            Some(t) => t.to_string(),
            None => "Object".to_string(),
        }
    }

    fn explain(
        &self,
        root: &'a Value,
        path: &[&str],
        recursive: bool,
        out: &mut String,
    ) -> Result<(), ExplainError> {
        let mut schema = root;
        let mut field: Option<(&str, &Value)> = None;
        for name in path {
            let here = self.element(schema);
            let Some(next) = here
                .get("properties")
                .and_then(Value::as_object)
                .and_then(|p| p.get(*name))
            else {
                return Err(ExplainError::NoField(name.to_string()));
            };
            field = Some((name, next));
            schema = next;
        }
        let mut description: Vec<&str> = Vec::new();
        match field {
            Some((name, f)) => {
                out.push_str(&format!("FIELD: {name} <{}>\n\n\n", self.type_name(f)));
                description.extend(f.get("description").and_then(Value::as_str));
                let mut inner = f;
                if let Some(items) = f.get("items") {
                    inner = items;
                } else if let Some(v @ Value::Object(_)) = f.get("additionalProperties") {
                    inner = v;
                }
                if let Some((_, t)) = self.deref(inner) {
                    description.extend(t.get("description").and_then(Value::as_str));
                }
            }
            None => description.extend(root.get("description").and_then(Value::as_str)),
        }
        out.push_str("DESCRIPTION:\n");
        let text = description.join("\n") + "\n";
        for line in text.split('\n') {
            push_wrapped(out, line, 4);
        }
        let fields = self.element(schema);
        match fields.get("properties").and_then(Value::as_object) {
            Some(props) if !props.is_empty() => {
                out.push_str("FIELDS:\n");
                let mut stack = Vec::new();
                self.fields(fields, recursive, 2, &mut stack, out);
            }
            _ => {}
        }
        out.push('\n');
        Ok(())
    }

    /// The `FIELDS:` lines of an object schema: with descriptions, or nested names only.
    fn fields(
        &self,
        s: &'a Value,
        recursive: bool,
        indent: usize,
        stack: &mut Vec<*const Value>,
        out: &mut String,
    ) {
        let Some(props) = s.get("properties").and_then(Value::as_object) else {
            return;
        };
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut names: Vec<&String> = props.keys().collect();
        names.sort();
        stack.push(s as *const Value);
        for name in names {
            let f = &props[name.as_str()];
            out.push_str(&" ".repeat(indent));
            out.push_str(&format!("{name}\t<{}>", self.type_name(f)));
            if required.contains(&name.as_str()) {
                out.push_str(" -required-");
            }
            out.push('\n');
            if recursive {
                let inner = self.element(f);
                // A type that contains itself would go on forever.
                if !stack.contains(&(inner as *const Value)) {
                    self.fields(inner, true, indent + 2, stack, out);
                }
                continue;
            }
            let desc = f.get("description").and_then(Value::as_str).unwrap_or("");
            if !desc.is_empty() {
                for line in desc.split('\n') {
                    push_wrapped(out, line, indent + 2);
                }
            }
            out.push('\n');
        }
        stack.pop();
    }
}

/// `io.k8s.api.core.v1.PodSpec` → `PodSpec`.
fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// One line of description text, word-wrapped so indented lines stay within [`WIDTH`]
/// columns; runs of spaces inside a line are kept, and a word longer than a line gets a
/// line of its own.
fn push_wrapped(out: &mut String, text: &str, indent: usize) {
    let width = WIDTH.saturating_sub(indent);
    let pad = " ".repeat(indent);
    let mut line = String::new();
    let mut line_len = 0;
    // Leading spaces belong to the line; spaces between words are dropped at a break.
    let trimmed = text.trim_start_matches(' ');
    let mut spaces = text.len() - trimmed.len();
    let mut rest = trimmed;
    while !rest.is_empty() {
        let end = rest.find(' ').unwrap_or(rest.len());
        let word = &rest[..end];
        let word_len = word.chars().count();
        if line_len > 0 && line_len + spaces + word_len > width {
            out.push_str(&pad);
            out.push_str(&line);
            out.push('\n');
            line.clear();
            line_len = 0;
        } else {
            line.extend(std::iter::repeat_n(' ', spaces));
            line_len += spaces;
        }
        line.push_str(word);
        line_len += word_len;
        let after = &rest[end..];
        let next = after.trim_start_matches(' ');
        spaces = after.len() - next.len();
        rest = next;
    }
    out.push_str(&pad);
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_wraps_at_eighty_columns() {
        let mut out = String::new();
        push_wrapped(
            &mut out,
            "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
            4,
        );
        assert_eq!(
            out,
            "    APIVersion defines the versioned schema of this representation of an object.
    Servers should convert recognized schemas to the latest internal value, and
    may reject unrecognized values. More info:
    https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources
"
        );
        let mut out = String::new();
        push_wrapped(&mut out, "", 4);
        assert_eq!(out, "    \n");
    }

    #[test]
    fn type_names_follow_references() {
        let schemas = json!({
            "a.Container": {"type": "object", "properties": {"name": {"type": "string"}}},
            "a.Time": {"type": "string"},
            "a.FieldsV1": {"type": "object"},
        });
        let s = Schemas(schemas.as_object().unwrap());
        let name = |v: Value| s.type_name(&v);
        assert_eq!(
            name(json!({"type": "array", "items": {"$ref": "#/components/schemas/a.Container"}})),
            "[]Container"
        );
        assert_eq!(
            name(json!({"allOf": [{"$ref": "#/components/schemas/a.Time"}]})),
            "string"
        );
        assert_eq!(
            name(json!({"allOf": [{"$ref": "#/components/schemas/a.FieldsV1"}]})),
            "FieldsV1"
        );
        assert_eq!(
            name(json!({"type": "object", "additionalProperties": {"type": "string"}})),
            "map[string]string"
        );
        assert_eq!(
            name(json!({"type": "integer", "format": "int32"})),
            "integer"
        );
    }
}
