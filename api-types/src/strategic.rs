//! Strategic merge patch (`application/strategic-merge-patch+json`): applying the patches
//! `kubectl patch`, client-side `kubectl apply` and `kubectl edit` send.
//!
//! A strategic merge patch is a JSON merge patch whose lists can merge: each built-in list
//! field has a patch strategy (from upstream's `patchStrategy`/`patchMergeKey` struct tags).
//! Lists of objects with strategy `merge` merge element by element, matched on a merge key
//! (`containers` by `name`); lists of scalars with strategy `merge` merge as sets
//! (`finalizers`); every other list is replaced whole. Maps merge key by key and `null`
//! deletes a key. Directives in the patch refine this:
//!
//! - `$patch: replace` in a map replaces the map; as a list element it replaces the list
//!   with the patch's other elements. `$patch: delete` in a map empties it; as a list element
//!   it deletes the elements with its merge key. `$patch: merge` is the default, stated.
//! - `$retainKeys: [..]` clears the keys of the original map not listed.
//! - `$deleteFromPrimitiveList/<field>: [..]` removes values from a scalar list.
//! - `$setElementOrder/<field>: [..]` orders the merged list: the listed elements in the
//!   listed order, elements only the server has kept where they were.
//!
//! The table of strategies is [`field_strategy`]; it walks upstream's type structure from
//! an object's root, so pod templates inside workloads share the pod's rules.

use std::collections::HashSet;

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StrategicError(pub String);

type Obj = Map<String, Value>;
type Result<T> = std::result::Result<T, StrategicError>;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// How a field is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Maps merge key by key; lists are replaced whole.
    Default,
    /// The patch's value replaces the field whole, maps included.
    Replace,
    /// Lists merge: objects matched on the merge key, scalars (no key) as a set.
    Merge(Option<&'static str>),
}

/// Applies a strategic merge `patch` to `target`, returning the patched document. The
/// strategies are those of the kind named by `target`'s `apiVersion` and `kind`.
pub fn apply(target: &Value, patch: &Value) -> std::result::Result<Value, StrategicError> {
    let api_version = target
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = target.get("kind").and_then(Value::as_str).unwrap_or("");
    apply_for(group, kind, target, patch)
}

/// Applies a strategic merge `patch` to `target`, an object of `kind` in API `group`
/// (empty for the core group). Kinds without a table entry merge maps and replace lists.
pub fn apply_for(group: &str, kind: &str, target: &Value, patch: &Value) -> Result<Value> {
    let original = match target {
        Value::Object(m) => m.clone(),
        Value::Null => Obj::new(),
        _ => return Err(StrategicError("invalid JSON document".into())),
    };
    let patch = match patch {
        Value::Object(p) => p,
        Value::Null => return Ok(Value::Object(original)),
        _ => return Err(StrategicError("invalid JSON document".into())),
    };
    merge_map(original, patch, root_schema(group, kind), "").map(Value::Object)
}

/// The patch strategy of the field at `path` (field names from the object's root; list
/// elements add no step) in objects of `kind` in API `group`.
pub fn field_strategy(group: &str, kind: &str, path: &[&str]) -> Strategy {
    let mut schema = root_schema(group, kind);
    let mut strategy = Strategy::Default;
    for name in path {
        let f = field(schema, name);
        strategy = f.strategy;
        schema = f.schema;
    }
    strategy
}

// ----- the strategy table --------------------------------------------------------------------

/// The upstream types whose fields carry patch strategies, or lead to fields that do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    Unknown,
    // Object roots.
    PlainRoot,
    PodRoot,
    PodTemplateRoot,
    /// Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController, Job.
    WorkloadRoot,
    CronJobRoot,
    ServiceRoot,
    NodeRoot,
    /// Kinds whose only strategic list is `status.conditions`.
    ConditionsRoot,
    PdbRoot,
    ServiceAccountRoot,
    CsiNodeRoot,
    // Nested types.
    ObjectMeta,
    PodTemplateSpec,
    PodSpec,
    Container,
    PodStatus,
    WorkloadSpec,
    CronJobSpec,
    JobTemplateSpec,
    ConditionsStatus,
    ServiceSpec,
    NodeSpec,
    NodeStatus,
    PdbSpec,
    CsiNodeSpec,
}

impl Schema {
    fn is_root(self) -> bool {
        use Schema::*;
        matches!(
            self,
            PlainRoot
                | PodRoot
                | PodTemplateRoot
                | WorkloadRoot
                | CronJobRoot
                | ServiceRoot
                | NodeRoot
                | ConditionsRoot
                | PdbRoot
                | ServiceAccountRoot
                | CsiNodeRoot
        )
    }
}

/// A field's strategy and the schema of its value (of its elements, for lists).
#[derive(Debug, Clone, Copy)]
struct Field {
    strategy: Strategy,
    schema: Schema,
}

fn root_schema(group: &str, kind: &str) -> Schema {
    use Schema::*;
    match (group, kind) {
        ("", "Pod") => PodRoot,
        ("", "PodTemplate") => PodTemplateRoot,
        ("", "ReplicationController")
        | ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job") => WorkloadRoot,
        ("batch", "CronJob") => CronJobRoot,
        ("", "Service") => ServiceRoot,
        ("", "Node") => NodeRoot,
        ("", "Namespace" | "PersistentVolumeClaim")
        | ("autoscaling", "HorizontalPodAutoscaler") => ConditionsRoot,
        ("policy", "PodDisruptionBudget") => PdbRoot,
        ("", "ServiceAccount") => ServiceAccountRoot,
        ("storage.k8s.io", "CSINode") => CsiNodeRoot,
        _ => PlainRoot,
    }
}

fn field(schema: Schema, name: &str) -> Field {
    use Schema::*;
    use Strategy::{Default, Merge, Replace};
    let (strategy, schema) = match (schema, name) {
        (s, "metadata") if s.is_root() || s == PodTemplateSpec || s == JobTemplateSpec => {
            (Default, ObjectMeta)
        }
        (ObjectMeta, "finalizers") => (Merge(None), Unknown),
        (ObjectMeta, "ownerReferences") => (Merge(Some("uid")), Unknown),

        (PodRoot, "spec") => (Default, PodSpec),
        (PodRoot, "status") => (Default, PodStatus),
        (PodTemplateRoot, "template") => (Default, PodTemplateSpec),
        (WorkloadRoot, "spec") => (Default, WorkloadSpec),
        (CronJobRoot, "spec") => (Default, CronJobSpec),
        (ServiceRoot, "spec") => (Default, ServiceSpec),
        (NodeRoot, "spec") => (Default, NodeSpec),
        (NodeRoot, "status") => (Default, NodeStatus),
        (PdbRoot, "spec") => (Default, PdbSpec),
        (WorkloadRoot | ServiceRoot | ConditionsRoot | PdbRoot, "status") => {
            (Default, ConditionsStatus)
        }
        (ServiceAccountRoot, "secrets") => (Merge(Some("name")), Unknown),
        (CsiNodeRoot, "spec") => (Default, CsiNodeSpec),

        (PodTemplateSpec, "spec") => (Default, PodSpec),
        (PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
            (Merge(Some("name")), Container)
        }
        (PodSpec, "volumes" | "imagePullSecrets" | "schedulingGates" | "resourceClaims") => {
            (Merge(Some("name")), Unknown)
        }
        (PodSpec, "hostAliases") => (Merge(Some("ip")), Unknown),
        (PodSpec, "topologySpreadConstraints") => (Merge(Some("topologyKey")), Unknown),
        (Container, "ports") => (Merge(Some("containerPort")), Unknown),
        (Container, "env") => (Merge(Some("name")), Unknown),
        (Container, "volumeMounts") => (Merge(Some("mountPath")), Unknown),
        (Container, "volumeDevices") => (Merge(Some("devicePath")), Unknown),
        (PodStatus, "conditions") => (Merge(Some("type")), Unknown),
        (PodStatus, "podIPs" | "hostIPs") => (Merge(Some("ip")), Unknown),
        (PodStatus, "resourceClaimStatuses") => (Merge(Some("name")), Unknown),

        (WorkloadSpec, "template") => (Default, PodTemplateSpec),
        (CronJobSpec, "jobTemplate") => (Default, JobTemplateSpec),
        (JobTemplateSpec, "spec") => (Default, WorkloadSpec),
        (ConditionsStatus, "conditions") => (Merge(Some("type")), Unknown),
        (ServiceSpec, "ports") => (Merge(Some("port")), Unknown),
        (NodeSpec, "podCIDRs") => (Merge(None), Unknown),
        (NodeStatus, "conditions" | "addresses") => (Merge(Some("type")), Unknown),
        (PdbSpec, "selector") => (Replace, Unknown),
        (CsiNodeSpec, "drivers") => (Merge(Some("name")), Unknown),
        _ => (Default, Unknown),
    };
    Field { strategy, schema }
}

// ----- merging -------------------------------------------------------------------------------

fn err(path: &str, msg: impl std::fmt::Display) -> StrategicError {
    if path.is_empty() {
        StrategicError(msg.to_string())
    } else {
        StrategicError(format!("{path}: {msg}"))
    }
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The field a `$prefix/<field>` directive names.
fn directive_field<'a>(key: &'a str, prefix: &str, path: &str, what: &str) -> Result<&'a str> {
    match key.split_once('/') {
        Some((p, field)) if p == prefix && !field.is_empty() => Ok(field),
        _ => Err(err(
            path,
            format!("invalid patch format of {what}: {key:?}"),
        )),
    }
}

/// Equality of merge key values and list scalars. As upstream, `80` and `80.0` differ.
fn same(a: &Value, b: &Value) -> bool {
    a == b
}

/// A value as Go's `%v` prints the decoded JSON upstream puts in its messages:
/// `map[name:web]`, `[a b]`, `<nil>`.
fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_fmt).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_fmt(&m[*k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// The element's merge key value, when it is an object that has one.
fn key_of<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item.as_object()
        .and_then(|m| m.get(key))
        .filter(|v| !v.is_null())
}

fn no_merge_key(path: &str, item: &Value, key: &str) -> StrategicError {
    err(
        path,
        format!(
            "map: {} does not contain declared merge key: {key}",
            go_fmt(item)
        ),
    )
}

/// Merges `patch` into `original` (a map whose fields follow `schema`).
fn merge_map(mut original: Obj, patch: &Obj, schema: Schema, path: &str) -> Result<Obj> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        match directive.as_str() {
            Some("replace") => {
                let rest: Obj = patch
                    .iter()
                    .filter(|(k, _)| *k != DIRECTIVE)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                return merge_map(Obj::new(), &rest, schema, path);
            }
            Some("delete") => return Ok(Obj::new()),
            Some("merge") => {}
            _ => {
                return Err(err(
                    path,
                    format!(
                        "unknown patch type: {} in map: {}",
                        go_fmt(directive),
                        go_fmt(&Value::Object(patch.clone()))
                    ),
                ))
            }
        }
    }

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Some(list) = retain.as_array() else {
            return Err(err(
                path,
                "invalid patch format of retainKeys: $retainKeys must be a list",
            ));
        };
        let keep: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
        for (k, v) in patch {
            if v.is_null()
                || k == DIRECTIVE
                || k == RETAIN_KEYS
                || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
                || k.starts_with(SET_ELEMENT_ORDER)
            {
                continue;
            }
            if !keep.contains(&k.as_str()) {
                return Err(err(
                    path,
                    format!(
                        "invalid patch format of retainKeys: {k:?} is not listed in $retainKeys"
                    ),
                ));
            }
        }
        original.retain(|k, _| keep.contains(&k.as_str()));
    }

    let ordered = apply_element_orders(&mut original, patch, schema, path)?;

    for (k, v) in patch {
        if k == DIRECTIVE
            || k == RETAIN_KEYS
            || k.starts_with(SET_ELEMENT_ORDER)
            || ordered.contains(k.as_str())
        {
            continue;
        }
        if k.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let name = directive_field(k, DELETE_FROM_PRIMITIVE_LIST, path, "primitive list")?;
            let Some(remove) = v.as_array() else {
                return Err(err(
                    &child_path(path, name),
                    format!("invalid patch format of primitive list: {k} must be a list"),
                ));
            };
            if let Some(Value::Array(list)) = original.get_mut(name) {
                list.retain(|item| !remove.iter().any(|r| same(r, item)));
            }
            continue;
        }
        if v.is_null() {
            // `shift_remove` keeps the other keys in place (`remove` would swap them).
            original.shift_remove(k);
            continue;
        }
        let f = field(schema, k);
        let at = child_path(path, k);
        let Some(slot) = original.get_mut(k) else {
            original.insert(k.clone(), fill(v, f, &at)?);
            continue;
        };
        *slot = match (std::mem::take(slot), v) {
            (Value::Object(o), Value::Object(p)) if f.strategy != Strategy::Replace => {
                Value::Object(merge_map(o, p, f.schema, &at)?)
            }
            (Value::Array(o), Value::Array(p)) => Value::Array(merge_list(o, p, f, &at)?),
            _ => fill(v, f, &at)?,
        };
    }
    Ok(original)
}

/// A patch value for a field the original lacks: merged into an empty value of its type,
/// which drops directives and nulls. A new merging list whose elements lack the merge key
/// is taken as it is (as upstream does; validation has the last word on it).
fn fill(v: &Value, f: Field, path: &str) -> Result<Value> {
    Ok(match v {
        Value::Object(p) => Value::Object(merge_map(Obj::new(), p, f.schema, path)?),
        Value::Array(p) => {
            let keyless = match f.strategy {
                Strategy::Merge(Some(key)) => p.iter().any(|item| {
                    item.as_object()
                        .is_some_and(|m| !m.contains_key(DIRECTIVE) && key_of(item, key).is_none())
                }),
                _ => false,
            };
            if keyless {
                Value::Array(replace_list(p, f.schema, path)?)
            } else {
                Value::Array(merge_list(Vec::new(), p, f, path)?)
            }
        }
        other => other.clone(),
    })
}

/// Processes the `$setElementOrder/<field>` directives of `patch`: merges each named list
/// and orders it. Returns the fields done, which the caller must not merge again.
fn apply_element_orders(
    original: &mut Obj,
    patch: &Obj,
    schema: Schema,
    path: &str,
) -> Result<HashSet<String>> {
    let mut done = HashSet::new();
    for (k, v) in patch {
        if !k.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        let name = directive_field(k, SET_ELEMENT_ORDER, path, "setElementOrder list")?;
        let at = child_path(path, name);
        let Some(order) = v.as_array() else {
            return Err(err(
                &at,
                format!("invalid patch format of setElementOrder list: {k} must be a list"),
            ));
        };
        let f = field(schema, name);
        let Strategy::Merge(key) = f.strategy else {
            // The list is replaced whole; there is nothing to order.
            continue;
        };
        let patch_list = match patch.get(name) {
            None => None,
            Some(Value::Array(p)) => Some(p),
            // A null deletes the list and anything else replaces it: no ordering.
            Some(_) => continue,
        };
        if let Some(p) = patch_list {
            validate_order(p, order, key, &at)?;
        }
        let original_list = match original.get(name) {
            Some(Value::Array(o)) => Some(o.clone()),
            _ => None,
        };
        let merged = match (&original_list, patch_list) {
            (Some(o), Some(p)) => merge_list(o.clone(), p, f, &at)?,
            (Some(o), None) => o.clone(),
            (None, Some(p)) => merge_list(Vec::new(), p, f, &at)?,
            (None, None) => continue,
        };
        let server_order = original_list.unwrap_or_default();
        let (listed, server_only): (Vec<Value>, Vec<Value>) = merged
            .into_iter()
            .partition(|item| index_in(order, item, key).is_some());
        let result = normalize_order(listed, server_only, order, &server_order, key);
        original.insert(name.to_string(), Value::Array(result));
        done.insert(name.to_string());
    }
    Ok(done)
}

/// Checks that the patch list's elements appear in the `$setElementOrder` list, in its order.
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>, path: &str) -> Result<()> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = patch
        .iter()
        .filter(|item| !item.as_object().is_some_and(|m| m.contains_key(DIRECTIVE)))
        .collect();
    let (mut p, mut o) = (0, 0);
    while p < items.len() && o < order.len() {
        let equal = match key {
            Some(key) => {
                let a = key_of(items[p], key).ok_or_else(|| no_merge_key(path, items[p], key))?;
                let b = key_of(&order[o], key).ok_or_else(|| no_merge_key(path, &order[o], key))?;
                same(a, b)
            }
            None => same(items[p], &order[o]),
        };
        if equal {
            p += 1;
        }
        o += 1;
    }
    if p < items.len() {
        return Err(err(
            path,
            format!(
                "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
                go_fmt(&Value::Array(patch.to_vec())),
                go_fmt(&Value::Array(order.to_vec()))
            ),
        ));
    }
    Ok(())
}

/// Merges the patch list `patch` into `original` per the field's strategy.
fn merge_list(original: Vec<Value>, patch: &[Value], f: Field, path: &str) -> Result<Vec<Value>> {
    match f.strategy {
        Strategy::Merge(key) => merge_merging_list(original, patch, key, f.schema, path),
        Strategy::Default | Strategy::Replace => replace_list(patch, f.schema, path),
    }
}

/// A list replaced whole: the patch's elements, without directive-only elements, objects
/// cleaned of directives and nulls.
fn replace_list(patch: &[Value], elem: Schema, path: &str) -> Result<Vec<Value>> {
    let elem_field = Field {
        strategy: Strategy::Default,
        schema: elem,
    };
    let mut out = Vec::with_capacity(patch.len());
    for item in patch {
        match item {
            Value::Object(m) if m.len() == 1 && m.contains_key(DIRECTIVE) => {}
            Value::Object(_) => out.push(fill(item, elem_field, path)?),
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

#[derive(PartialEq, Eq)]
enum ElementKind {
    Object,
    Scalar,
}

/// The common kind of the elements of both lists.
fn element_kind(a: &[Value], b: &[Value], path: &str) -> Result<ElementKind> {
    let mut kind: Option<u8> = None;
    for item in a.iter().chain(b) {
        let k = match item {
            Value::Array(_) => return Err(err(path, "lists of lists are not supported")),
            Value::Object(_) => 0,
            Value::String(_) => 1,
            Value::Number(_) => 2,
            Value::Bool(_) => 3,
            Value::Null => 4,
        };
        match kind {
            None => kind = Some(k),
            Some(prev) if prev != k => {
                return Err(err(path, "list element types are not identical"));
            }
            Some(_) => {}
        }
    }
    Ok(if kind == Some(0) {
        ElementKind::Object
    } else {
        ElementKind::Scalar
    })
}

fn merge_merging_list(
    original: Vec<Value>,
    patch: &[Value],
    key: Option<&'static str>,
    elem: Schema,
    path: &str,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    if element_kind(&original, patch, path)? == ElementKind::Scalar {
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for item in original.iter().chain(patch) {
            if !merged.iter().any(|m| same(m, item)) {
                merged.push(item.clone());
            }
        }
        let (from_patch, server_only): (Vec<Value>, Vec<Value>) = merged
            .into_iter()
            .partition(|item| patch.iter().any(|p| same(p, item)));
        return Ok(normalize_order(
            from_patch,
            server_only,
            patch,
            &original,
            None,
        ));
    }
    let Some(key) = key else {
        return Err(err(
            path,
            format!("cannot merge lists without merge key for {path}"),
        ));
    };
    let elem_field = Field {
        strategy: Strategy::Default,
        schema: elem,
    };

    // Directive elements first: deletions by merge key, and list replacement.
    let mut original = original;
    let mut plain: Vec<Value> = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let m = item
            .as_object()
            .expect("element_kind checked the elements are objects");
        let Some(directive) = m.get(DIRECTIVE) else {
            plain.push(item.clone());
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = key_of(item, key).ok_or_else(|| no_merge_key(path, item, key))?;
                original.retain(|o| !key_of(o, key).is_some_and(|k| same(k, value)));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                if m.len() > 1 {
                    let mut rest = m.clone();
                    rest.shift_remove(DIRECTIVE);
                    plain.push(Value::Object(rest));
                }
            }
            _ => {
                return Err(err(
                    path,
                    format!(
                        "unknown patch type: {} in map: {}",
                        go_fmt(directive),
                        go_fmt(item)
                    ),
                ));
            }
        }
    }
    if replace {
        return plain
            .iter()
            .map(|item| fill(item, elem_field, path))
            .collect();
    }

    let server_order = original.clone();
    for item in &plain {
        let value = key_of(item, key).ok_or_else(|| no_merge_key(path, item, key))?;
        let at = format!("{path}[{key}={}]", go_fmt(value));
        let p = item
            .as_object()
            .expect("element_kind checked the elements are objects");
        match original
            .iter()
            .position(|o| key_of(o, key).is_some_and(|k| same(k, value)))
        {
            Some(pos) => {
                let current = match std::mem::take(&mut original[pos]) {
                    Value::Object(o) => o,
                    _ => Obj::new(),
                };
                original[pos] = Value::Object(merge_map(current, p, elem, &at)?);
            }
            None => original.push(Value::Object(merge_map(Obj::new(), p, elem, &at)?)),
        }
    }
    let (from_patch, server_only): (Vec<Value>, Vec<Value>) = original
        .into_iter()
        .partition(|item| index_in(&plain, item, Some(key)).is_some());
    Ok(normalize_order(
        from_patch,
        server_only,
        &plain,
        &server_order,
        Some(key),
    ))
}

/// Where `item` is in `list`: by merge key for objects, by value for scalars.
fn index_in(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    match key {
        Some(key) => {
            let value = key_of(item, key)?;
            list.iter()
                .position(|x| key_of(x, key).is_some_and(|k| same(k, value)))
        }
        None => list.iter().position(|x| same(x, item)),
    }
}

/// Orders the patch's elements as `patch_order` has them and the server-only ones as
/// `server_order` has them, then interleaves the two, keeping a server-only element before
/// a patch element when the live list had it first.
fn normalize_order(
    mut from_patch: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    from_patch.sort_by_key(|item| index_in(patch_order, item, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|item| index_in(server_order, item, key).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(from_patch.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = from_patch.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (Some(l), Some(r)) => {
                let li = index_in(server_order, l, key);
                let ri = index_in(server_order, r, key);
                if matches!((li, ri), (Some(a), Some(b)) if a < b) {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "p",
                "labels": {"app": "web", "tier": "front"},
                "finalizers": ["a/one"]
            },
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "busybox:1", "args": ["sleep", "1d"]}
                ],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "tolerations": [{"key": "a", "operator": "Exists"}]
            }
        })
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn changing_one_image_keeps_other_containers() {
        let out = apply(
            &pod(),
            &json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}),
        )
        .unwrap();
        let cs = &out["spec"]["containers"];
        assert_eq!(names(cs), ["web", "sidecar"]);
        assert_eq!(cs[0]["image"], "nginx:1.26");
        assert_eq!(cs[0]["env"], json!([{"name": "A", "value": "1"}]));
        assert_eq!(cs[1]["image"], "busybox:1");
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "web", "tier": "front"})
        );
    }

    #[test]
    fn adding_an_env_var_to_one_container() {
        let out = apply(
            &pod(),
            &json!({"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}}),
        )
        .unwrap();
        let cs = &out["spec"]["containers"];
        assert_eq!(
            cs[0]["env"],
            json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}])
        );
        assert!(cs[1].get("env").is_none());
        // Changing an existing variable keeps its place.
        let out = apply(
            &out,
            &json!({"spec": {"containers": [{"name": "web", "env": [{"name": "A", "value": "9"}]}]}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["containers"][0]["env"],
            json!([{"name": "B", "value": "2"}, {"name": "A", "value": "9"}])
        );
    }

    #[test]
    fn new_elements_come_first_without_an_order_directive() {
        let out = apply(
            &pod(),
            &json!({"spec": {"containers": [{"name": "new", "image": "redis"}]}}),
        )
        .unwrap();
        assert_eq!(names(&out["spec"]["containers"]), ["new", "web", "sidecar"]);
    }

    #[test]
    fn patch_delete_removes_a_container() {
        let out = apply(
            &pod(),
            &json!({"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}),
        )
        .unwrap();
        assert_eq!(names(&out["spec"]["containers"]), ["web"]);
        // Deleting an absent element is not an error.
        let again = apply(
            &out,
            &json!({"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}),
        )
        .unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn patch_delete_needs_the_merge_key() {
        let e = apply(
            &pod(),
            &json!({"spec": {"containers": [{"$patch": "delete"}]}}),
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "spec.containers: map: map[$patch:delete] does not contain declared merge key: name"
        );
    }

    #[test]
    fn set_element_order_reorders() {
        let out = apply(
            &pod(),
            &json!({"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}}),
        )
        .unwrap();
        assert_eq!(names(&out["spec"]["containers"]), ["sidecar", "web"]);
        // With additions, as kubectl apply sends them.
        let out = apply(
            &pod(),
            &json!({"spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "new"}, {"name": "sidecar"}],
                "containers": [{"name": "new", "image": "redis"}]
            }}),
        )
        .unwrap();
        assert_eq!(names(&out["spec"]["containers"]), ["web", "new", "sidecar"]);
    }

    #[test]
    fn set_element_order_keeps_server_only_elements_in_place() {
        let target = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
            {"name": "a"}, {"name": "injected"}, {"name": "b"}
        ]}});
        let out = apply(
            &target,
            &json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"name": "b", "image": "x"}]}}),
        )
        .unwrap();
        assert_eq!(names(&out["spec"]["containers"]), ["a", "injected", "b"]);
        assert_eq!(out["spec"]["containers"][2]["image"], "x");
    }

    #[test]
    fn set_element_order_with_deletions() {
        let out = apply(
            &pod(),
            &json!({"spec": {
                "$setElementOrder/containers": [{"name": "sidecar"}],
                "containers": [{"name": "web", "$patch": "delete"}]
            }}),
        )
        .unwrap();
        assert_eq!(names(&out["spec"]["containers"]), ["sidecar"]);
    }

    #[test]
    fn set_element_order_must_match_the_patch_list() {
        let e = apply(
            &pod(),
            &json!({"spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                "containers": [{"name": "sidecar", "image": "x"}, {"name": "web", "image": "y"}]
            }}),
        )
        .unwrap_err();
        assert!(e.0.contains("doesn't match $setElementOrder list"), "{e}");
        let e = apply(
            &pod(),
            &json!({"spec": {"$setElementOrder/containers": "web"}}),
        )
        .unwrap_err();
        assert!(e.0.contains("setElementOrder"), "{e}");
        assert!(e.0.starts_with("spec.containers"), "{e}");
        let e = apply(&pod(), &json!({"spec": {"$setElementOrder": []}})).unwrap_err();
        assert!(
            e.0.contains("invalid patch format of setElementOrder list"),
            "{e}"
        );
    }

    #[test]
    fn null_removes_a_label() {
        let out = apply(
            &pod(),
            &json!({"metadata": {"labels": {"tier": null, "new": "x"}}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"app": "web", "new": "x"}));
        // A null for an absent key is ignored.
        let out = apply(&pod(), &json!({"metadata": {"annotations": {"a": null}}})).unwrap();
        assert_eq!(out["metadata"]["annotations"], json!({}));
        let out = apply(&pod(), &json!({"spec": {"nodeName": null}})).unwrap();
        assert!(out["spec"].get("nodeName").is_none());
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let out = apply(
            &pod(),
            &json!({"metadata": {"finalizers": ["b/two", "a/one"]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b/two", "a/one"]));
        let out = apply(&pod(), &json!({"metadata": {"finalizers": ["b/two"]}})).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b/two", "a/one"]));
        let out = apply(
            &out,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/one"]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b/two"]));
        let out = apply(
            &out,
            &json!({"metadata": {"$setElementOrder/finalizers": ["c", "b/two"], "finalizers": ["c"]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "b/two"]));
    }

    #[test]
    fn primitive_list_directive_errors() {
        let e = apply(
            &pod(),
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
        )
        .unwrap_err();
        assert!(
            e.0.contains("invalid patch format of primitive list"),
            "{e}"
        );
        assert!(e.0.starts_with("metadata.finalizers"), "{e}");
        let e = apply(
            &pod(),
            &json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
        )
        .unwrap_err();
        assert!(
            e.0.contains("invalid patch format of primitive list"),
            "{e}"
        );
    }

    #[test]
    fn deployment_template_containers_merge_by_name() {
        let deploy = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "d"}}, "spec": {
                "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]
            }}}
        });
        let out = apply(
            &deploy,
            &json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 3);
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            cs,
            &json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}])
        );
        assert_eq!(
            out["spec"]["template"]["metadata"]["labels"],
            json!({"app": "d"})
        );
    }

    #[test]
    fn cron_job_template_containers_merge_by_name() {
        let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]
        }}}}}});
        let out = apply(
            &cj,
            &json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}}}}}}),
        )
        .unwrap();
        let cs = &out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            cs,
            &json!([{"name": "a", "image": "a:2"}, {"name": "b", "image": "b:1"}])
        );
    }

    #[test]
    fn unknown_paths_replace_lists() {
        let out = apply(
            &pod(),
            &json!({"spec": {"tolerations": [{"key": "b", "operator": "Exists"}],
                "containers": [{"name": "sidecar", "args": ["sleep", "2d"]}]}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["tolerations"],
            json!([{"key": "b", "operator": "Exists"}])
        );
        assert_eq!(out["spec"]["containers"][1]["args"], json!(["sleep", "2d"]));
        // An unknown kind: every list is replaced, maps still merge.
        let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "spec": {"items": [{"name": "a"}], "config": {"x": 1}}});
        let out = apply(
            &widget,
            &json!({"spec": {"items": [{"name": "b"}], "config": {"y": 2}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["items"], json!([{"name": "b"}]));
        assert_eq!(out["spec"]["config"], json!({"x": 1, "y": 2}));
    }

    #[test]
    fn patch_replace_directives() {
        let out = apply(
            &pod(),
            &json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"only": "this"}));
        let out = apply(
            &pod(),
            &json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "solo", "image": "x"}])
        );
    }

    #[test]
    fn patch_delete_and_merge_on_maps() {
        let out = apply(
            &pod(),
            &json!({"metadata": {"labels": {"$patch": "delete"}}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({}));
        let out = apply(
            &pod(),
            &json!({"metadata": {"labels": {"$patch": "merge", "x": "y"}}}),
        )
        .unwrap();
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "web", "tier": "front", "x": "y"})
        );
        let e = apply(
            &pod(),
            &json!({"metadata": {"labels": {"$patch": "bogus"}}}),
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "metadata.labels: unknown patch type: bogus in map: map[$patch:bogus]"
        );
        assert!(e.0.starts_with("metadata.labels:"), "{e}");
        let e = apply(
            &pod(),
            &json!({"spec": {"containers": [{"name": "web", "$patch": 1}]}}),
        )
        .unwrap_err();
        assert!(e.0.contains("unknown patch type"), "{e}");
    }

    #[test]
    fn retain_keys_clears_unlisted_fields() {
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"strategy": {
            "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}});
        let out = apply(
            &deploy,
            &json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let e = apply(
            &deploy,
            &json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}),
        )
        .unwrap_err();
        assert!(e.0.contains("invalid patch format of retainKeys"), "{e}");
        assert!(e.0.starts_with("spec.strategy:"), "{e}");
        let e = apply(
            &deploy,
            &json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
        )
        .unwrap_err();
        assert!(e.0.contains("retainKeys"), "{e}");
        // Volumes use it per element.
        let out = apply(
            &pod(),
            &json!({"spec": {"volumes": [{"name": "data", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}]}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["volumes"],
            json!([{"name": "data", "configMap": {"name": "c"}}])
        );
    }

    #[test]
    fn other_merge_keys() {
        let out = apply(
            &pod(),
            &json!({"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                "volumeMounts": [{"mountPath": "/data", "name": "data"}]}]}}),
        )
        .unwrap();
        let web = &out["spec"]["containers"][0];
        assert_eq!(
            web["ports"],
            json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}])
        );
        assert_eq!(
            web["volumeMounts"],
            json!([{"mountPath": "/data", "name": "data"}])
        );

        let svc = json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [
            {"port": 80, "targetPort": 8080}, {"port": 443}]}});
        let out = apply(
            &svc,
            &json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": 9090}, {"port": 443}])
        );

        let node = json!({"apiVersion": "v1", "kind": "Node", "status": {
            "conditions": [{"type": "Ready", "status": "False"}, {"type": "MemoryPressure", "status": "False"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}});
        let out = apply(
            &node,
            &json!({"status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "n1"}]}}),
        )
        .unwrap();
        assert_eq!(
            out["status"]["conditions"][0],
            json!({"type": "Ready", "status": "True"})
        );
        assert_eq!(out["status"]["conditions"][1]["type"], "MemoryPressure");
        assert_eq!(out["status"]["addresses"].as_array().unwrap().len(), 2);

        let owned = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"ownerReferences": [
            {"uid": "1", "name": "a", "kind": "X", "apiVersion": "v1"}]}});
        let out = apply(
            &owned,
            &json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b", "kind": "X", "apiVersion": "v1"}]}}),
        )
        .unwrap();
        assert_eq!(
            out["metadata"]["ownerReferences"].as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn endpoints_subsets_are_replaced() {
        let ep = json!({"apiVersion": "v1", "kind": "Endpoints", "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]});
        let out = apply(
            &ep,
            &json!({"subsets": [{"addresses": [{"ip": "10.0.0.2"}]}]}),
        )
        .unwrap();
        assert_eq!(out["subsets"], json!([{"addresses": [{"ip": "10.0.0.2"}]}]));
    }

    #[test]
    fn pdb_selector_is_replaced() {
        let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "spec": {
            "minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}});
        let out = apply(
            &pdb,
            &json!({"spec": {"selector": {"matchExpressions": []}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["selector"], json!({"matchExpressions": []}));
        assert_eq!(out["spec"]["minAvailable"], 1);
    }

    #[test]
    fn new_fields_are_cleaned_of_directives_and_nulls() {
        let target =
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}});
        let out = apply(
            &target,
            &json!({"metadata": {"labels": {"a": "b", "c": null}},
                "spec": {"containers": [{"name": "x", "image": "y"}, {"name": "gone", "$patch": "delete"}]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"a": "b"}));
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "x", "image": "y"}])
        );
    }

    #[test]
    fn key_order_is_kept() {
        let out = apply(
            &pod(),
            &json!({"metadata": {"name": "q", "labels": null}, "apiVersion": "v1"}),
        )
        .unwrap();
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
        let meta: Vec<&String> = out["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(meta, ["name", "finalizers"]);
    }

    #[test]
    fn new_merging_lists_without_merge_keys_are_kept() {
        let out = apply(
            &pod(),
            &json!({"spec": {"hostAliases": [{"hostnames": ["a"]}]}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["hostAliases"], json!([{"hostnames": ["a"]}]));
    }

    #[test]
    fn type_changes_replace_values() {
        let out = apply(&pod(), &json!({"spec": {"containers": {"not": "a list"}}})).unwrap();
        assert_eq!(out["spec"]["containers"], json!({"not": "a list"}));
        let out = apply(&pod(), &json!({"metadata": {"labels": "x"}})).unwrap();
        assert_eq!(out["metadata"]["labels"], "x");
    }

    #[test]
    fn malformed_lists_and_documents() {
        let e = apply(&pod(), &json!({"spec": {"containers": [["a"]]}})).unwrap_err();
        assert!(e.0.contains("lists of lists"), "{e}");
        let e = apply(&pod(), &json!({"spec": {"containers": ["web"]}})).unwrap_err();
        assert!(e.0.contains("not identical"), "{e}");
        let e = apply(&pod(), &json!({"spec": {"containers": [{"image": "x"}]}})).unwrap_err();
        assert!(e.0.contains("merge key: name"), "{e}");
        let e = apply(&pod(), &json!(["not", "an", "object"])).unwrap_err();
        assert_eq!(e.0, "invalid JSON document");
        assert_eq!(apply(&pod(), &Value::Null).unwrap(), pod());
        assert_eq!(apply(&pod(), &json!({})).unwrap(), pod());
    }

    #[test]
    fn apply_for_names_the_kind_explicitly() {
        let doc = json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}});
        let patch = json!({"spec": {"containers": [{"name": "a", "image": "2"}]}});
        let merged = apply_for("", "Pod", &doc, &patch).unwrap();
        assert_eq!(merged["spec"]["containers"].as_array().unwrap().len(), 2);
        let replaced = apply(&doc, &patch).unwrap();
        assert_eq!(replaced["spec"]["containers"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn strategy_table() {
        use Strategy::*;
        assert_eq!(
            field_strategy("", "Pod", &["spec", "containers"]),
            Merge(Some("name"))
        );
        assert_eq!(
            field_strategy("", "Pod", &["spec", "containers", "ports"]),
            Merge(Some("containerPort"))
        );
        assert_eq!(
            field_strategy("", "Pod", &["spec", "initContainers", "volumeMounts"]),
            Merge(Some("mountPath"))
        );
        assert_eq!(
            field_strategy("", "Pod", &["spec", "ephemeralContainers", "volumeDevices"]),
            Merge(Some("devicePath"))
        );
        assert_eq!(field_strategy("", "Pod", &["spec", "tolerations"]), Default);
        assert_eq!(
            field_strategy("", "Pod", &["spec", "hostAliases"]),
            Merge(Some("ip"))
        );
        assert_eq!(
            field_strategy("", "Pod", &["status", "conditions"]),
            Merge(Some("type"))
        );
        assert_eq!(
            field_strategy("", "Pod", &["metadata", "finalizers"]),
            Merge(None)
        );
        assert_eq!(
            field_strategy("", "Secret", &["metadata", "ownerReferences"]),
            Merge(Some("uid"))
        );
        assert_eq!(
            field_strategy("", "Service", &["spec", "ports"]),
            Merge(Some("port"))
        );
        assert_eq!(
            field_strategy(
                "apps",
                "StatefulSet",
                &["spec", "template", "spec", "volumes"]
            ),
            Merge(Some("name"))
        );
        assert_eq!(
            field_strategy(
                "apps",
                "DaemonSet",
                &["spec", "template", "metadata", "finalizers"]
            ),
            Merge(None)
        );
        assert_eq!(
            field_strategy(
                "batch",
                "CronJob",
                &[
                    "spec",
                    "jobTemplate",
                    "spec",
                    "template",
                    "spec",
                    "containers",
                    "env"
                ]
            ),
            Merge(Some("name"))
        );
        assert_eq!(
            field_strategy("", "ReplicationController", &["status", "conditions"]),
            Merge(Some("type"))
        );
        assert_eq!(
            field_strategy("", "Node", &["status", "addresses"]),
            Merge(Some("type"))
        );
        assert_eq!(
            field_strategy("", "Node", &["spec", "podCIDRs"]),
            Merge(None)
        );
        assert_eq!(field_strategy("", "Endpoints", &["subsets"]), Default);
        assert_eq!(
            field_strategy("policy", "PodDisruptionBudget", &["spec", "selector"]),
            Replace
        );
        assert_eq!(
            field_strategy("apps", "Deployment", &["spec", "containers"]),
            Default
        );
        assert_eq!(
            field_strategy("example.com", "Pod", &["spec", "containers"]),
            Default
        );
    }
}
