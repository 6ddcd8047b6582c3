//! The Swagger 2.0 document (`/openapi/v2`) as JSON.

#[allow(unused_imports)]
use super::*;

pub(super) fn v2_param(p: &Param) -> Value {
    let mut m = Map::new();
    if p.location == In::Query {
        m.insert("uniqueItems".into(), json!(true));
    }
    m.insert("type".into(), json!(p.ty));
    m.insert("description".into(), json!(p.description));
    m.insert("name".into(), json!(p.name));
    m.insert(
        "in".into(),
        json!(if p.location == In::Path {
            "path"
        } else {
            "query"
        }),
    );
    if p.required {
        m.insert("required".into(), json!(true));
    }
    Value::Object(m)
}

pub(super) fn v2_ref(name: &str) -> Value {
    json!({"$ref": format!("{REF_PREFIX}{name}")})
}

pub(super) fn v2_op(s: &Schemas, op: &Op) -> Value {
    let mut m = Map::new();
    let consumes: &[&str] = match op.body {
        Body::Patch => PATCH_TYPES,
        _ => &["*/*"],
    };
    m.insert("consumes".into(), json!(consumes));
    m.insert("description".into(), json!(op.description));
    m.insert("operationId".into(), json!(op.id));
    let mut params = Vec::new();
    if let Some(def) = body_definition(s, op) {
        let mut body = json!({"name": "body", "in": "body", "schema": v2_ref(&def)});
        if op.body != Body::DeleteOptions {
            body["required"] = json!(true);
        }
        params.push(body);
    }
    params.extend(op.params.iter().map(v2_param));
    if !params.is_empty() {
        m.insert("parameters".into(), Value::Array(params));
    }
    m.insert("produces".into(), json!(produces(op)));
    let reply = reply_definition(s, op);
    let mut responses = Map::new();
    for code in op.codes {
        responses.insert(
            (*code).into(),
            json!({"description": code_description(code), "schema": v2_ref(&reply)}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    m.insert("responses".into(), Value::Object(responses));
    m.insert("schemes".into(), json!(["https"]));
    m.insert("tags".into(), json!([op.tag]));
    extensions(op, &mut m);
    Value::Object(m)
}

pub(super) fn v2_path_item(s: &Schemas, item: &PathItem) -> Value {
    let mut m = Map::new();
    for op in &item.ops {
        m.insert(op.method.into(), v2_op(s, op));
    }
    if !item.params.is_empty() {
        m.insert(
            "parameters".into(),
            item.params.iter().map(v2_param).collect(),
        );
    }
    Value::Object(m)
}

/// The two encodings of the v2 document; only their bytes are kept.
pub(super) struct V2Docs {
    pub(super) json: Doc,
    pub(super) protobuf: Doc,
}

pub(super) fn v2_docs() -> &'static V2Docs {
    static DOCS: OnceLock<V2Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let v = v2_document(&build_schemas());
        V2Docs {
            json: doc(serde_json::to_vec(&v).expect("JSON values serialize"), JSON),
            protobuf: doc(pb::document(&v).encode_to_vec(), V2_PROTOBUF_CONTENT_TYPE),
        }
    })
}

pub(super) fn v2_document(s: &Schemas) -> Value {
    let mut paths = Map::new();
    for gv in all_group_versions() {
        for item in &gv.paths {
            paths.insert(item.path.clone(), v2_path_item(s, item));
        }
    }
    let definitions: Map<String, Value> = s
        .definitions
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header",
            },
        },
        "security": [{"BearerToken": []}],
    })
}
