//! `metadata.managedFields` entries: decoding, encoding in upstream's order, folding old
//! `Update` entries, and the client-side apply annotation.

use std::collections::HashMap;

use serde_json::Value;

use super::fieldset::{path_string, Set, Trail};
use super::schema::{ListKind, Schema};
use super::{
    Obj, ANCIENT_CHANGES, ANNOTATIONS_MAX_BYTES, APPLY, LAST_APPLIED_ANNOTATION,
    MAX_UPDATE_MANAGERS, UPDATE,
};

/// The paths a `fieldsV1` value lists, as upstream prints them (`.spec.replicas`,
/// `.spec.template.spec.containers[name="nginx"]`), members only, in upstream's order.
pub fn fields_v1_paths(fields_v1: &Value) -> Option<Vec<String>> {
    let set = Set::from_fields_v1(fields_v1)?;
    Some(set.paths().iter().map(|p| path_string(p)).collect())
}
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) manager: String,
    pub(super) operation: String,
    pub(super) api_version: String,
    pub(super) time: Option<String>,
    pub(super) subresource: Option<String>,
    pub(super) set: Set,
}

impl Entry {
    /// Whether this is the entry of `manager` doing `operation`: appliers have one entry
    /// whatever the version they apply at, updaters one per version.
    pub(super) fn is(
        &self,
        manager: &str,
        operation: &str,
        api_version: &str,
        sub: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == sub
            && (operation == APPLY || self.api_version == api_version)
    }

    pub(super) fn order_key(&self) -> (&str, &str, &str, Option<&str>) {
        (
            &self.manager,
            &self.operation,
            &self.api_version,
            self.subresource.as_deref(),
        )
    }

    fn seconds(&self) -> i64 {
        self.time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or(0, |t| t.as_second())
    }

    fn to_json(&self) -> Value {
        let mut m = Obj::new();
        m.insert("manager".into(), Value::String(self.manager.clone()));
        m.insert("operation".into(), Value::String(self.operation.clone()));
        m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(t) = &self.time {
            m.insert("time".into(), Value::String(t.clone()));
        }
        m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), Value::String(s.clone()));
        }
        Value::Object(m)
    }
}

/// The entries of `obj`'s managed fields; an error when they cannot be read (upstream then
/// treats the object as having none).
pub(super) fn decode_entries(obj: &Value) -> Result<Vec<Entry>, ()> {
    let list = match obj.pointer("/metadata/managedFields") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(()),
    };
    let mut out: Vec<Entry> = Vec::new();
    for e in list {
        let e = e.as_object().ok_or(())?;
        let text = |k: &str| -> Result<Option<String>, ()> {
            match e.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(()),
            }
        };
        let operation = text("operation")?.ok_or(())?;
        if operation != APPLY && operation != UPDATE {
            return Err(());
        }
        if text("fieldsType")?.as_deref() != Some("FieldsV1") {
            return Err(());
        }
        let set = match e.get("fieldsV1") {
            None | Some(Value::Null) => Set::default(),
            Some(v) => Set::from_fields_v1(v).ok_or(())?,
        };
        let entry = Entry {
            manager: text("manager")?.unwrap_or_default(),
            operation,
            api_version: text("apiVersion")?.unwrap_or_default(),
            time: text("time")?,
            subresource: text("subresource")?.filter(|s| !s.is_empty()),
            set,
        };
        let same = out.iter_mut().find(|o| {
            o.is(
                &entry.manager,
                &entry.operation,
                &entry.api_version,
                entry.subresource.as_deref(),
            )
        });
        match same {
            Some(o) => o.set.union_with(&entry.set),
            None => out.push(entry),
        }
    }
    Ok(out)
}

/// `managedFields: [{}]` (every entry empty) asks to clear the managed fields.
pub(super) fn is_reset(obj: &Value) -> bool {
    match obj.pointer("/metadata/managedFields") {
        Some(Value::Array(list)) => {
            !list.is_empty()
                && list
                    .iter()
                    .all(|e| e.as_object().is_some_and(|m| m.is_empty()))
        }
        _ => false,
    }
}

pub(super) fn without_managed_fields(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("managedFields");
    }
    obj
}

/// Writes the entries into `obj` in upstream's order: appliers first, then by time,
/// manager, version and subresource. No entries, no field.
pub(super) fn set_managed_fields(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then(a.seconds().cmp(&b.seconds()))
            .then(a.manager.cmp(&b.manager))
            .then(a.api_version.cmp(&b.api_version))
            .then(a.subresource.cmp(&b.subresource))
    });
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.shift_remove("managedFields");
        }
        return;
    }
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Obj::new()));
    if !meta.is_object() {
        *meta = Value::Object(Obj::new());
    }
    if let Some(meta) = meta.as_object_mut() {
        let list: Vec<Value> = entries.iter().map(Entry::to_json).collect();
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// Folds the oldest `Update` entries into per-version `ancient-changes` entries until at
/// most [`MAX_UPDATE_MANAGERS`] are left.
pub(super) fn cap_update_entries(entries: &mut Vec<Entry>) {
    let mut count = entries.iter().filter(|e| e.operation == UPDATE).count();
    if count <= MAX_UPDATE_MANAGERS {
        return;
    }
    let mut oldest: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].operation == UPDATE)
        .collect();
    oldest.sort_by(|&a, &b| {
        (entries[a].seconds(), &entries[a].manager)
            .cmp(&(entries[b].seconds(), &entries[b].manager))
    });
    let mut buckets: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if e.operation == UPDATE && e.manager == ANCIENT_CHANGES && e.subresource.is_none() {
            buckets.insert(e.api_version.clone(), i);
        }
    }
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut gone = vec![false; entries.len()];
    for i in oldest {
        if count <= MAX_UPDATE_MANAGERS {
            break;
        }
        let version = entries[i].api_version.clone();
        if buckets.get(&version) == Some(&i) {
            continue;
        }
        let bucket = match (buckets.get(&version), first.get(&version)) {
            (Some(&b), _) => b,
            (None, Some(&f)) => {
                entries[f].manager = ANCIENT_CHANGES.into();
                entries[f].subresource = None;
                buckets.insert(version.clone(), f);
                f
            }
            (None, None) => {
                first.insert(version, i);
                continue;
            }
        };
        let (set, time) = (entries[i].set.clone(), entries[i].time.clone());
        entries[bucket].set.union_with(&set);
        entries[bucket].time = time;
        gone[i] = true;
        count -= 1;
    }
    let mut i = 0;
    entries.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
}

/// Rewrites client-side apply's annotation to the applied configuration, when the object
/// has one (kubectl's server-side apply keeps it current so a downgrade works).
pub(super) fn update_last_applied(object: &mut Value, applied: &Value) {
    let has = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has {
        return;
    }
    let mut config = applied.clone();
    if let Some(meta) = config.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.shift_remove(LAST_APPLIED_ANNOTATION);
            if a.is_empty() {
                meta.shift_remove("annotations");
            }
        }
    }
    let mut text = sorted(&config).to_string();
    text.push('\n');
    let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let others: usize = annotations
        .iter()
        .filter(|(k, _)| *k != LAST_APPLIED_ANNOTATION)
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if others + LAST_APPLIED_ANNOTATION.len() + text.len() > ANNOTATIONS_MAX_BYTES {
        annotations.shift_remove(LAST_APPLIED_ANNOTATION);
    } else {
        annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    }
}

/// `v` with every map's keys sorted, as Go encodes maps.
pub(super) fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        _ => v.clone(),
    }
}

/// Fields the applied configuration sets to `null` are owned but not stored, as upstream's
/// typed objects drop them.
pub(super) fn strip_config_nulls(
    schema: &Schema,
    object: &mut Value,
    applied: &Value,
    t: &mut Trail,
) {
    match (object, applied) {
        (Value::Object(o), Value::Object(a)) => {
            for (k, av) in a {
                if av.is_null() {
                    if o.get(k).is_some_and(Value::is_null) {
                        o.shift_remove(k);
                    }
                } else if let Some(ov) = o.get_mut(k) {
                    t.push_field(k);
                    strip_config_nulls(schema, ov, av, t);
                    t.pop_field();
                }
            }
        }
        (Value::Array(o), Value::Array(a)) => {
            let kind = schema.list_kind(t);
            if !matches!(kind, ListKind::Map(_)) || schema.elem_atomic(t) {
                return;
            }
            let (Ok(Some(ope)), Ok(Some(ape))) =
                (schema.list_pes(&kind, o), schema.list_pes(&kind, a))
            else {
                return;
            };
            for (pe, av) in ape.into_iter().zip(a) {
                if let Some(i) = ope.iter().position(|p| *p == pe) {
                    t.push_item(pe);
                    strip_config_nulls(schema, &mut o[i], av, t);
                    t.pop_item();
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::testing::*;
    use crate::managed::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips() {
        let f = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:ports": {".": {}, "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}},
                       "f:finalizers": {"v:\"a\"": {}}, "f:x": {"i:0": {}}},
        });
        let set = Set::from_fields_v1(&f).unwrap();
        assert_eq!(set.to_fields_v1(), f);
        assert_eq!(
            fields_v1_paths(&f).unwrap(),
            vec![
                ".metadata.labels",
                ".metadata.labels.app",
                ".spec.ports",
                ".spec.finalizers[=\"a\"]",
                ".spec.ports[port=80,protocol=\"TCP\"]",
                ".spec.ports[port=80,protocol=\"TCP\"].port",
                ".spec.x[0]",
            ]
        );
        assert!(Set::from_fields_v1(&json!({"bogus": {}})).is_none());
    }

    #[test]
    fn managers_are_sorted_appliers_first_then_by_time() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "zeta",
            None,
            T0,
        );
        let v2 = apply(
            "",
            "ConfigMap",
            "v1",
            Some(&v1),
            &cm(json!({"b": "1"})),
            "alpha",
            false,
            T2,
        )
        .unwrap();
        let mut n = v2.clone();
        n["data"]["c"] = json!("1");
        let v3 = update("", "ConfigMap", "v1", Some(&v2), &n, "beta", None, T1);
        let names: Vec<Value> = entries(&v3).iter().map(|e| e["manager"].clone()).collect();
        assert_eq!(names, vec![json!("alpha"), json!("zeta"), json!("beta")]);
    }

    #[test]
    fn manager_names_fall_back_to_the_user_agent() {
        assert_eq!(manager_name(Some("helm"), Some("kubectl/v1.33")), "helm");
        assert_eq!(
            manager_name(None, Some("kubectl/v1.33.0 (linux/amd64)")),
            "kubectl"
        );
        assert_eq!(manager_name(Some(""), None), "unknown");
    }
}
