//! Objects as the apiserver keeps them in memory: the serialized JSON (with its
//! resourceVersion set) plus the few things selectors look at, so lists and watches are served
//! by copying bytes rather than re-encoding objects.

use std::collections::BTreeMap;

use api_types::resources::ResourceInfo;
use bytes::Bytes;
use serde_json::{Map, Value};

/// One version of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedObject {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub rv: i64,
    pub labels: BTreeMap<String, String>,
    /// Values of the storage resource's selectable fields, in `selectable_fields` order.
    pub fields: Vec<String>,
    /// The full object, `metadata.resourceVersion` set to `rv`.
    pub json: Bytes,
}

impl CachedObject {
    /// Decodes a stored value of `info` (the storage version) at revision `rv`.
    pub fn decode(info: &ResourceInfo, value: &[u8], rv: i64) -> Result<Self, serde_json::Error> {
        let mut obj: Value = serde_json::from_slice(value)?;
        set_resource_version(&mut obj, rv);
        Ok(Self::from_value(info, &obj, rv))
    }

    /// Builds the cached form of `obj`, whose resourceVersion is already `rv`.
    pub fn from_value(info: &ResourceInfo, obj: &Value, rv: i64) -> Self {
        let meta = obj.get("metadata");
        let text = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let labels = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let fields = info
            .selectable_fields
            .iter()
            .map(|f| info.field_value(obj, f))
            .collect();
        CachedObject {
            namespace: text("namespace"),
            name: text("name"),
            uid: text("uid"),
            rv,
            labels,
            fields,
            json: Bytes::from(serde_json::to_vec(obj).expect("a JSON value always serializes")),
        }
    }

    /// This object as a re-stamped copy: the same content at another revision (a deletion's).
    pub fn at_revision(&self, info: &ResourceInfo, rv: i64) -> Self {
        let mut obj = self.value();
        set_resource_version(&mut obj, rv);
        Self::from_value(info, &obj, rv)
    }

    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).expect("cached objects are valid JSON")
    }

    /// The value a field selector compares, for the storage resource `info`.
    pub fn field(&self, info: &ResourceInfo, field: &str) -> String {
        match field {
            "metadata.name" => self.name.clone(),
            "metadata.namespace" => self.namespace.clone(),
            _ => info
                .selectable_fields
                .iter()
                .position(|f| *f == field)
                .and_then(|i| self.fields.get(i).cloned())
                .unwrap_or_default(),
        }
    }
}

pub fn set_resource_version(obj: &mut Value, rv: i64) {
    if let Some(meta) = metadata_mut(obj) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

/// `metadata` as a mutable map, created when missing (None only if `obj` is not an object).
pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
}

pub fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(key)?.as_str()
}

/// The current time as upstream writes timestamps: RFC 3339 in UTC, whole seconds.
pub fn now_rfc3339() -> String {
    format_timestamp(jiff::Timestamp::now())
}

pub fn format_timestamp(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::find;
    use serde_json::json;

    #[test]
    fn decode_sets_resource_version_and_extracts_selectable_parts() {
        let pods = find("", "v1", "pods").unwrap();
        let stored = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "labels": {"app": "web"}},
            "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}
        });
        let o = CachedObject::decode(pods, stored.to_string().as_bytes(), 42).unwrap();
        assert_eq!(o.rv, 42);
        assert_eq!(o.name, "p");
        assert_eq!(o.namespace, "ns");
        assert_eq!(o.labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(o.field(pods, "spec.nodeName"), "node-1");
        assert_eq!(o.field(pods, "status.phase"), "Running");
        assert_eq!(o.field(pods, "metadata.name"), "p");
        assert_eq!(o.value()["metadata"]["resourceVersion"], "42");
        let later = o.at_revision(pods, 50);
        assert_eq!(later.value()["metadata"]["resourceVersion"], "50");
    }

    #[test]
    fn timestamps_are_whole_seconds_utc() {
        let ts: jiff::Timestamp = "2026-01-02T03:04:05.678Z".parse().unwrap();
        assert_eq!(format_timestamp(ts), "2026-01-02T03:04:05Z");
    }
}
