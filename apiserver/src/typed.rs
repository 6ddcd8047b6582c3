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
    use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
    struct Seed<'a> {
        path: String,
        out: &'a mut Vec<String>,
    }
    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while seq
                .next_element_seed(Seed {
                    path: format!("{}[{i}]", self.path),
                    out: self.out,
                })?
                .is_some()
            {
                i += 1;
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.path.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.path)
                };
                if !seen.insert(key) {
                    self.out.push(path.clone());
                }
                map.next_value_seed(Seed {
                    path,
                    out: self.out,
                })?;
            }
            Ok(())
        }
    }
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Seed {
        path: String::new(),
        out: &mut out,
    }
    .deserialize(&mut de);
    out
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
