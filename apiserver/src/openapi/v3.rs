//! The OpenAPI 3 documents: the root listing each group-version with its hash, and one
//! document per group-version.

#[allow(unused_imports)]
use super::*;

pub(super) struct V3Docs {
    pub(super) root: Doc,
    pub(super) group_versions: BTreeMap<String, Doc>,
}

pub(super) fn v3_docs() -> &'static V3Docs {
    static DOCS: OnceLock<V3Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let s = build_schemas();
        let mut group_versions = BTreeMap::new();
        let mut root = Map::new();
        for gv in all_group_versions() {
            let body = serde_json::to_vec(&v3_document(&s, &gv)).expect("JSON values serialize");
            let d = doc(body, JSON);
            let path = gv_path(gv.group, gv.version);
            let hash = d.etag.trim_matches('"').to_string();
            root.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
            group_versions.insert(path, d);
        }
        let body = serde_json::to_vec(&json!({"paths": root})).expect("JSON values serialize");
        V3Docs {
            root: doc(body, JSON),
            group_versions,
        }
    })
}

pub(super) const V3_REF_PREFIX: &str = "#/components/schemas/";

pub(super) fn v3_ref(name: &str) -> Value {
    json!({"$ref": format!("{V3_REF_PREFIX}{name}")})
}

pub(super) fn v3_param(p: &Param) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(p.name));
    m.insert(
        "in".into(),
        json!(if p.location == In::Path {
            "path"
        } else {
            "query"
        }),
    );
    m.insert("description".into(), json!(p.description));
    if p.required {
        m.insert("required".into(), json!(true));
    }
    let mut schema = json!({"type": p.ty});
    if p.location == In::Query {
        schema["uniqueItems"] = json!(true);
    }
    m.insert("schema".into(), schema);
    Value::Object(m)
}

pub(super) fn v3_op(s: &Schemas, op: &Op) -> Value {
    let mut m = Map::new();
    m.insert("tags".into(), json!([op.tag]));
    m.insert("description".into(), json!(op.description));
    m.insert("operationId".into(), json!(op.id));
    if !op.params.is_empty() {
        m.insert(
            "parameters".into(),
            op.params.iter().map(v3_param).collect(),
        );
    }
    if let Some(def) = body_definition(s, op) {
        let types: &[&str] = match op.body {
            Body::Patch => PATCH_TYPES,
            _ => &["*/*"],
        };
        let content: Map<String, Value> = types
            .iter()
            .map(|t| ((*t).to_string(), json!({"schema": v3_ref(&def)})))
            .collect();
        let mut body = json!({"content": content});
        if op.body != Body::DeleteOptions {
            body["required"] = json!(true);
        }
        m.insert("requestBody".into(), body);
    }
    let reply = reply_definition(s, op);
    let mut responses = Map::new();
    for code in op.codes {
        let content: Map<String, Value> = produces(op)
            .iter()
            .map(|t| ((*t).to_string(), json!({"schema": v3_ref(&reply)})))
            .collect();
        responses.insert(
            (*code).into(),
            json!({"description": code_description(code), "content": content}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    m.insert("responses".into(), Value::Object(responses));
    extensions(op, &mut m);
    Value::Object(m)
}

/// A v2 schema as OpenAPI 3 has it: refs into `components/schemas`, and a ref with
/// siblings (a description) wrapped in `allOf`, as upstream publishes them.
pub(super) fn v3_schema(v: &Value) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (k, child) in m {
        let child = match k.as_str() {
            "$ref" => match child.as_str().and_then(|r| r.strip_prefix(REF_PREFIX)) {
                Some(name) => json!(format!("{V3_REF_PREFIX}{name}")),
                None => child.clone(),
            },
            "properties" | "patternProperties" => Value::Object(
                child
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), v3_schema(s)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => match child {
                Value::Array(list) => Value::Array(list.iter().map(v3_schema).collect()),
                other => v3_schema(other),
            },
            "allOf" | "anyOf" | "oneOf" => match child {
                Value::Array(list) => Value::Array(list.iter().map(v3_schema).collect()),
                other => other.clone(),
            },
            _ => child.clone(),
        };
        out.insert(k.clone(), child);
    }
    if out.len() > 1 {
        if let Some(r) = out.remove("$ref") {
            out.insert("allOf".into(), json!([{"$ref": r}]));
        }
    }
    Value::Object(out)
}

pub(super) fn v3_document(s: &Schemas, gv: &GroupVersion) -> Value {
    let mut paths = Map::new();
    let mut roots = BTreeSet::new();
    for item in &gv.paths {
        let mut m = Map::new();
        for op in &item.ops {
            m.insert(op.method.into(), v3_op(s, op));
            roots.insert(reply_definition(s, op));
            roots.extend(body_definition(s, op));
        }
        if !item.params.is_empty() {
            m.insert(
                "parameters".into(),
                item.params.iter().map(v3_param).collect(),
            );
        }
        paths.insert(item.path.clone(), Value::Object(m));
    }
    let names = closure(&s.definitions, roots.iter().map(String::as_str));
    let schemas: Map<String, Value> = names
        .iter()
        .filter_map(|n| s.definitions.get(n).map(|d| (n.clone(), v3_schema(d))))
        .collect();
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                },
            },
        },
        "security": [{"BearerToken": []}],
    })
}
