//! The small steps every kind's defaulting is made of: what counts as unset, setting a
//! default, reaching into nested objects and lists.

use serde_json::{Map, Value};

pub(super) type Obj = Map<String, Value>;

pub(super) fn unset(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

pub(super) fn unset_str(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// Sets `key` to `value` when it is absent or null.
pub(super) fn default_value(o: &mut Obj, key: &str, value: Value) {
    if unset(o.get(key)) {
        o.insert(key.to_string(), value);
    }
}

/// Sets a string field when it is absent, null or empty (a Go string's zero value).
pub(super) fn default_str(o: &mut Obj, key: &str, value: &str) {
    if unset_str(o.get(key)) {
        o.insert(key.to_string(), Value::String(value.to_string()));
    }
}

/// The object under `key`, if there is one.
pub(super) fn object<'a>(o: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    o.get_mut(key).and_then(Value::as_object_mut)
}

/// The object under `key`, created empty when unset (upstream's non-pointer structs always
/// exist). `None` only when the field holds something else, which validation rejects.
pub(super) fn ensure_object<'a>(o: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    if unset(o.get(key)) {
        o.insert(key.to_string(), Value::Object(Obj::new()));
    }
    object(o, key)
}

/// Runs `f` on each object in the list under `key`.
pub(super) fn for_each(o: &mut Obj, key: &str, mut f: impl FnMut(&mut Obj)) {
    if let Some(items) = o.get_mut(key).and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            f(item);
        }
    }
}

pub(super) fn str_of<'a>(o: &'a Obj, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn non_empty_object(v: Option<&Value>) -> bool {
    v.and_then(Value::as_object).is_some_and(|m| !m.is_empty())
}

pub(super) fn non_empty_array(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

/// Copies each key of the map at `from` missing in the map at `to` (creating `to` when
/// there is something to copy). Used for requests-from-limits and limit range defaults.
pub(super) fn copy_missing_keys(o: &mut Obj, from: &str, to: &str) {
    let Some(source) = o.get(from).and_then(Value::as_object).cloned() else {
        return;
    };
    if source.is_empty() {
        return;
    }
    let Some(target) = ensure_object(o, to) else {
        return;
    };
    for (k, v) in source {
        if !target.contains_key(&k) {
            target.insert(k, v);
        }
    }
}
