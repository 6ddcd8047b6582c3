//! Decoding bodies into the k8s-openapi type of their kind: this checks every field's type
//! (with the path of the first wrong one) and drops fields the type does not know, as
//! upstream's decoder does, before the object is validated and stored.

use api_types::resources::ResourceInfo;
use serde_json::Value;

use crate::registry::kinds;

/// Why a body could not be decoded as its kind: the JSON path and serde's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub path: String,
    pub message: String,
}

/// An object decoded as its type, and the fields the type does not know (dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    pub unknown_fields: Vec<String>,
}

/// Decodes `value` as `T` and re-encodes it; every registered kind's decoder is this.
pub fn roundtrip<T>(value: Value) -> Result<Decoded, DecodeError>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let mut record = |path: serde_ignored::Path| unknown.push(field_path(&path));
    let ignored = serde_ignored::Deserializer::new(value, &mut record);
    let typed: T = T::deserialize(serde_path_to_error::Deserializer::new(ignored, &mut track))
        .map_err(|e| DecodeError {
            path: track.path().to_string(),
            message: e.to_string(),
        })?;
    Ok(Decoded {
        value: serde_json::to_value(typed).expect("k8s-openapi types always serialize"),
        unknown_fields: unknown,
    })
}

/// `spec.containers[0].foo`, as upstream names fields in messages.
fn field_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => {
            let p = field_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Fields that appear twice in one JSON object of `body` (the last one wins when decoding).
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    parse_json(body).map(|(_, d)| d).unwrap_or_default()
}

/// Where in a document a value is, as a chain on the stack: paths are only rendered when a
/// duplicate is found, so parsing allocates nothing for them.
#[derive(Clone, Copy)]
enum Seg<'p> {
    Root,
    Key(&'p str, &'p Seg<'p>),
    Index(usize, &'p Seg<'p>),
}

impl Seg<'_> {
    /// `spec.containers[0].name`, as upstream names fields in messages.
    fn render(&self) -> String {
        match self {
            Seg::Root => String::new(),
            Seg::Key(k, parent) => {
                let p = parent.render();
                if p.is_empty() {
                    k.to_string()
                } else {
                    format!("{p}.{k}")
                }
            }
            Seg::Index(i, parent) => format!("{}[{i}]", parent.render()),
        }
    }
}

/// Parses a JSON body into a value in one pass, noting the fields that appear twice in one
/// object (the last one wins, as in `serde_json::from_slice`), so a write reads its body once.
pub fn parse_json(body: &[u8]) -> Result<(Value, Vec<String>), serde_json::Error> {
    use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
    struct Seed<'p, 'o> {
        at: &'p Seg<'p>,
        dups: &'o mut Vec<String>,
    }
    impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
        type Value = Value;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Seed<'_, '_> {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            loop {
                let at = Seg::Index(items.len(), self.at);
                match seq.next_element_seed(Seed {
                    at: &at,
                    dups: &mut *self.dups,
                })? {
                    Some(v) => items.push(v),
                    None => return Ok(Value::Array(items)),
                }
            }
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut obj = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let at = Seg::Key(&key, self.at);
                let v = map.next_value_seed(Seed {
                    at: &at,
                    dups: &mut *self.dups,
                })?;
                if obj.contains_key(&key) {
                    self.dups.push(at.render());
                }
                obj.insert(key, v);
            }
            Ok(Value::Object(obj))
        }
    }
    let mut dups = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Seed {
        at: &Seg::Root,
        dups: &mut dups,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((value, dups))
}

/// Decodes `value` as `info`'s kind and re-encodes it. `apiVersion` and `kind` must already
/// be set to `info`'s. Kinds are decoded by their registration; routing serves no other.
pub fn normalize(info: &ResourceInfo, value: Value) -> Result<Decoded, DecodeError> {
    match kinds::lookup(info.group, info.version, info.kind) {
        Some(k) => (k.decode)(value),
        None => Err(DecodeError {
            path: "kind".into(),
            message: format!(
                "no kind \"{}\" is registered for version \"{}\"",
                info.kind,
                info.api_version()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::{find, RESOURCES};
    use serde_json::json;

    #[test]
    fn wrong_types_name_the_field() {
        let pods = find("", "v1", "pods").unwrap();
        let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": 5}]}});
        let err = normalize(pods, bad).unwrap_err();
        assert_eq!(err.path, "spec.containers[0].image");
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn unknown_fields_are_dropped_and_named() {
        let cms = find("", "v1", "configmaps").unwrap();
        let v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "bogusMeta": 2},
            "data": {"a": "b"}, "bogus": 1});
        let out = normalize(cms, v).unwrap();
        assert!(out.value.get("bogus").is_none());
        assert_eq!(out.value["data"]["a"], "b");
        assert_eq!(out.unknown_fields, vec!["metadata.bogusMeta", "bogus"]);
        let pods = find("", "v1", "pods").unwrap();
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicy": "Always", "colour": "red"}]}});
        assert_eq!(
            normalize(pods, v).unwrap().unknown_fields,
            vec!["spec.containers[0].colour"]
        );
    }

    #[test]
    fn one_pass_parsing_equals_serde_json_and_finds_duplicates() {
        let body = br#"{"b": 1, "a": [true, null, 1.5, -3, "x", {"k": {}, "k": []}], "b": 2}"#;
        let (v, dups) = parse_json(body).unwrap();
        assert_eq!(v, serde_json::from_slice::<Value>(body).unwrap());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            serde_json::to_string(&serde_json::from_slice::<Value>(body).unwrap()).unwrap()
        );
        assert_eq!(dups, vec!["a[5].k", "b"]);
        for bad in [&b"{"[..], b"[1,]", b"{} x", b"", b"{\"a\" 1}"] {
            assert_eq!(
                parse_json(bad).unwrap_err().to_string(),
                serde_json::from_slice::<Value>(bad)
                    .unwrap_err()
                    .to_string()
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(
            parse_json(deep.as_bytes()).is_err(),
            "the recursion limit holds"
        );
    }

    #[test]
    fn duplicate_fields_are_found_with_paths() {
        let body = br#"{"metadata": {"name": "a", "name": "b"}, "data": {"x": "1"}, "items": [{"k": 1, "k": 2}]}"#;
        assert_eq!(duplicate_fields(body), vec!["metadata.name", "items[0].k"]);
        assert!(duplicate_fields(br#"{"a": {"b": 1}, "b": 2}"#).is_empty());
    }

    #[test]
    fn every_table_kind_round_trips_a_minimal_object() {
        for info in RESOURCES {
            let v = json!({"apiVersion": info.api_version(), "kind": info.kind, "metadata": {"name": "x"}});
            // Kinds with required fields fail on them, which is fine; what must not happen is
            // an apiVersion/kind mismatch, which would mean the table and the types disagree.
            if let Err(e) = normalize(info, v) {
                assert!(
                    !e.message.contains("expected") || e.path != "apiVersion" && e.path != "kind",
                    "{} {}: {:?}",
                    info.api_version(),
                    info.kind,
                    e
                );
            }
        }
    }
}
