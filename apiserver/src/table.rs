//! Alternate renderings kubectl asks for through `Accept`: server-side `Table`s (with
//! upstream's columns per kind) and `PartialObjectMetadata`.

use actix_web::http::header;
use actix_web::HttpRequest;
use api_types::printers;
use api_types::resources::ResourceInfo;
use serde_json::{json, Value};

use crate::request::Query;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    Json,
    /// `meta.k8s.io` Table at this version (`v1` or `v1beta1`).
    Table(&'static str),
    /// `meta.k8s.io` PartialObjectMetadata at this version.
    Metadata(&'static str),
}

/// The first rendering in the `Accept` header that we serve.
pub fn rendering(req: &HttpRequest) -> Rendering {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    parse_accept(accept)
}

pub fn parse_accept(accept: &str) -> Rendering {
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        if media != "application/json" && media != "*/*" && media != "application/*" {
            continue;
        }
        let (mut as_, mut g, mut v) = ("", "", "");
        for p in parts {
            match p.split_once('=') {
                Some(("as", x)) => as_ = x,
                Some(("g", x)) => g = x,
                Some(("v", x)) => v = x,
                _ => {}
            }
        }
        if as_.is_empty() {
            return Rendering::Json;
        }
        if g != "meta.k8s.io" {
            continue;
        }
        let version = match v {
            "v1" => "v1",
            "v1beta1" => "v1beta1",
            _ => continue,
        };
        match as_ {
            "Table" => return Rendering::Table(version),
            "PartialObjectMetadata" | "PartialObjectMetadataList" => {
                return Rendering::Metadata(version)
            }
            _ => continue,
        }
    }
    Rendering::Json
}

fn partial(version: &str, obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// Renders `objs` (of `info`'s version) as asked. `list` says whether the request was a list
/// (a PartialObjectMetadataList rather than one PartialObjectMetadata).
pub fn render(
    info: &ResourceInfo,
    rendering: Rendering,
    q: &Query,
    objs: Vec<Value>,
    list_meta: Value,
    list: bool,
) -> Value {
    match rendering {
        Rendering::Json => {
            if list {
                json!({"kind": info.list_kind(), "apiVersion": info.api_version(), "metadata": list_meta, "items": objs})
            } else {
                objs.into_iter().next().unwrap_or(Value::Null)
            }
        }
        Rendering::Metadata(v) => {
            if list {
                let items: Vec<Value> = objs.iter().map(|o| partial(v, o)).collect();
                json!({"kind": "PartialObjectMetadataList", "apiVersion": format!("meta.k8s.io/{v}"), "metadata": list_meta, "items": items})
            } else {
                objs.first().map(|o| partial(v, o)).unwrap_or(Value::Null)
            }
        }
        Rendering::Table(v) => {
            let now = jiff::Timestamp::now();
            let columns: Vec<Value> = printers::columns(info.group, info.plural)
                .iter()
                .map(|c| c.to_json())
                .collect();
            let include = q.get("includeObject").unwrap_or("Metadata");
            let rows: Vec<Value> = objs
                .iter()
                .map(|o| {
                    let mut row = json!({"cells": printers::row(info.group, info.plural, o, now)});
                    match include {
                        "None" => {}
                        "Object" => row["object"] = o.clone(),
                        _ => row["object"] = partial(v, o),
                    }
                    row
                })
                .collect();
            json!({
                "kind": "Table",
                "apiVersion": format!("meta.k8s.io/{v}"),
                "metadata": list_meta,
                "columnDefinitions": columns,
                "rows": rows,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_headers() {
        assert_eq!(
            parse_accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"),
            Rendering::Table("v1")
        );
        assert_eq!(
            parse_accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"),
            Rendering::Table("v1beta1")
        );
        assert_eq!(parse_accept("application/json"), Rendering::Json);
        assert_eq!(parse_accept(""), Rendering::Json);
        assert_eq!(
            parse_accept("application/vnd.kubernetes.protobuf, application/json"),
            Rendering::Json
        );
        assert_eq!(
            parse_accept("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            Rendering::Metadata("v1")
        );
        // An alternate we do not serve falls through to the next.
        assert_eq!(
            parse_accept("application/json;as=Table;v=v9;g=meta.k8s.io,application/json"),
            Rendering::Json
        );
    }
}
