//! Server-side apply and `metadata.managedFields`: which manager owns which fields of an
//! object, how an apply merges into the live object and when it conflicts, and how ordinary
//! writes move ownership.
//!
//! The apiserver calls [`apply`] (or [`apply_subresource`]) for `application/apply-patch+yaml`
//! patches and [`update`] for every other write (create, update, non-apply patch); both return
//! the object to store, `metadata.managedFields` included.
//!
//! The model follows upstream's structured-merge-diff:
//!
//! - A manager's fields are a set of paths. A path steps through struct/map fields
//!   (`f:<name>`), associative-list elements by key (`k:{"name":"nginx"}`, the key fields'
//!   JSON with the names sorted) and set elements by value (`v:"x"`). Scalars, atomic lists
//!   and atomic maps/structs are owned whole as leaves. An apply owns the leaves and list
//!   elements it sets; an update also owns each map, list and element it creates (an empty
//!   one included). The set is stored as `fieldsV1`, nested objects whose `.` key marks a
//!   node that is itself in the set and also has children in it.
//! - List types come from [`crate::strategic::field_strategy`]: a list with a merge key is an
//!   associative list (`containers` by `name`; container and service `ports` by port and
//!   `protocol`, which defaults to `TCP`), a scalar list with merge strategy is a set
//!   (`finalizers`), every other list is atomic. Label selectors, `nodeSelector`, the
//!   service and replication controller `selector` maps, env `valueFrom` references and
//!   `ownerReferences` elements are atomic, as upstream marks them. Kinds the resource table
//!   does not know (custom resources) get only the `metadata` rules: maps are granular and
//!   lists atomic.
//! - An apply merges the applied configuration into the live object (maps key by key,
//!   associative lists by key, sets by value, everything else replaced; a `null` is owned
//!   but not stored), removes what the applier applied last time, omits now and nobody else
//!   owns (with the maps that leaves empty), and fails with conflicts
//!   when it changes a field (a value that differs, or is new) another manager owns, unless
//!   forced; forcing takes the field from the other managers. The applier's `Apply` entry
//!   becomes exactly the applied fields.
//! - An update gives its manager's `Update` entry every field it added or changed, takes
//!   those fields from every other manager, and drops removed fields from every manager.
//!   Entries whose sets become empty go. More than ten `Update` entries are folded, oldest
//!   first, into `ancient-changes` entries.
//! - The `apiVersion`, `kind`, `metadata.name`, `metadata.namespace` and server-populated
//!   metadata fields are never owned. On the main resource of a kind with a status
//!   subresource `status` is not tracked; on the `status` subresource `metadata` and `spec`
//!   are not. (Resetting those fields in the stored object stays the caller's strategy.)
//! - An update of an existing object that has no managed fields is not tracked (upstream's
//!   "skip non-applied" rule; clearing them with `managedFields: [{}]` leaves them cleared),
//!   while the first apply to such an object first records everything in it as owned by
//!   `before-first-apply`.
//! - `kubectl` upgrading from client-side apply: when the applier is `kubectl` and the live
//!   object has the `kubectl.kubernetes.io/last-applied-configuration` annotation, conflicts
//!   on fields that the annotation lists with the live value are allowed (the apply is then
//!   forced); afterwards the annotation is rewritten to the applied configuration, so a
//!   later client-side apply still works.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use crate::resources;
use crate::strategic::{field_strategy, Strategy};

type Obj = Map<String, Value>;

/// The manager that owns every field of an object without managed fields, on its first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";
/// The manager that the oldest `Update` entries are folded into.
pub const ANCIENT_CHANGES: &str = "ancient-changes";
/// How many `Update` entries an object keeps before folding the oldest.
pub const MAX_UPDATE_MANAGERS: usize = 10;
/// Client-side apply's record of the last applied configuration.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// kubectl's manager for client-side apply.
pub const CLIENT_SIDE_APPLY_MANAGER: &str = "kubectl-client-side-apply";

const APPLY: &str = "Apply";
const UPDATE: &str = "Update";
const KUBECTL: &str = "kubectl";
/// Upstream's limit on the total size of an object's annotations.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// A field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// Its entry's operation: `Apply` or `Update`.
    pub operation: String,
    /// Its entry's `apiVersion`.
    pub api_version: String,
    /// Its entry's subresource, if any.
    pub subresource: Option<String>,
    /// The field, as upstream prints paths: `.spec.replicas`,
    /// `.spec.template.spec.containers[name="nginx"].image`.
    pub field_path: String,
}

impl Conflict {
    /// The manager as upstream names it in conflict messages: `"m"` for an applier,
    /// `"m" using apps/v1` for an updater, `"m" with subresource "status" using v1`.
    pub fn manager_display(&self) -> String {
        let mut s = quote(&self.manager);
        if let Some(sub) = &self.subresource {
            s = format!("{s} with subresource {}", quote(sub));
        }
        if self.operation == UPDATE {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn manager_order(&self) -> (&str, &str, &str, Option<&str>) {
        (
            &self.manager,
            &self.operation,
            &self.api_version,
            self.subresource.as_deref(),
        )
    }
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Fields other managers own would change (HTTP 409; see [`conflict_status`]).
    #[error("{}", conflict_message("", .0))]
    Conflicts(Vec<Conflict>),
    /// The applied configuration is not acceptable (HTTP 400 upstream, or 422 for the
    /// typed-object errors): managed fields in the body, duplicate or keyless list elements.
    #[error("{0}")]
    Invalid(String),
}

/// Upstream's message for a conflicted apply: `Apply failed with 1 conflict: conflict with
/// "m" using apps/v1: .spec.replicas`, or for several, the conflicts grouped by manager:
/// `Apply failed with 2 conflicts: conflicts with "m" using v1:\n- .data.a\n- .data.b`.
/// The resource is not part of upstream's text; the parameter is accepted for callers that
/// name it elsewhere.
pub fn conflict_message(_resource: &str, conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager_display(),
            c.field_path
        );
    }
    let mut groups: Vec<(&Conflict, Vec<&str>)> = Vec::new();
    for c in conflicts {
        match groups
            .iter_mut()
            .find(|(first, _)| first.manager_order() == c.manager_order())
        {
            Some((_, paths)) => paths.push(&c.field_path),
            None => groups.push((c, vec![&c.field_path])),
        }
    }
    groups.sort_by(|a, b| a.0.manager_order().cmp(&b.0.manager_order()));
    let mut lines = Vec::new();
    for (c, paths) in groups {
        lines.push(format!("conflicts with {}:", c.manager_display()));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The `details.causes` of the 409 status: one `FieldManagerConflict` per conflict.
pub fn conflict_causes(conflicts: &[Conflict]) -> Vec<Value> {
    conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager_display()),
                "field": c.field_path,
            })
        })
        .collect()
}

/// The whole 409 `Status` object upstream returns for a conflicted apply.
pub fn conflict_status(conflicts: &[Conflict]) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": conflict_message("", conflicts),
        "reason": "Conflict",
        "details": {"causes": conflict_causes(conflicts)},
        "code": 409,
    })
}

/// Applies `applied` (an apply patch's body) as `manager` to `live` (`None` to create),
/// returning the object to store with its managed fields. `api_version` is the request's
/// (`apps/v1`), recorded in the entry; `now` is the RFC 3339 time (seconds) to record.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    group: &str,
    kind: &str,
    api_version: &str,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    apply_subresource(
        group,
        kind,
        api_version,
        live,
        applied,
        manager,
        None,
        force,
        now,
    )
}

/// [`apply`] through a subresource (`kubectl apply --subresource=status`): the entry records
/// the subresource and only the subresource's fields are tracked.
#[allow(clippy::too_many_arguments)]
pub fn apply_subresource(
    group: &str,
    kind: &str,
    api_version: &str,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    let schema = Schema::new(group, kind, api_version, subresource);
    if !applied.is_object() {
        return Err(ApplyError::Invalid(
            "the apply configuration must be an object".into(),
        ));
    }
    if let Some(version) = applied.get("apiVersion").and_then(Value::as_str) {
        if version != api_version {
            return Err(ApplyError::Invalid(format!(
                "Incorrect version specified in apply patch. Specified patch version: \
                 {version}, expected: {api_version}"
            )));
        }
    }
    if applied
        .pointer("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::Invalid(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let config_set = schema.config_set(applied, &mut Trail::default());
    let config_set = config_set.map_err(|e| {
        ApplyError::Invalid(format!(
            "failed to create typed patch object ({}): {e}",
            schema.gvk()
        ))
    })?;
    let config_set = schema.owned(config_set);

    let live_clean = live.map(without_managed_fields);
    let mut entries = match live {
        Some(l) => decode_entries(l).unwrap_or_default(),
        None => Vec::new(),
    };
    if let (Some(l), true) = (&live_clean, entries.is_empty()) {
        // The object predates field tracking: someone owns all of it.
        let mut c = Comparison::default();
        schema.compare(None, Some(l), &mut Trail::default(), &mut c);
        let set = schema.owned(c.changed());
        if !set.is_empty() {
            entries.push(Entry {
                manager: BEFORE_FIRST_APPLY.into(),
                operation: UPDATE.into(),
                api_version: api_version.into(),
                time: Some(now.into()),
                subresource: None,
                set,
            });
        }
    }

    let applier = entries
        .iter()
        .position(|e| e.is(manager, APPLY, api_version, subresource));
    let mut object = match &live_clean {
        Some(l) => schema.merge(l, applied, &mut Trail::default()),
        None => without_managed_fields(applied),
    };
    if let Some(i) = applier {
        let mut keep = config_set.clone();
        for (j, e) in entries.iter().enumerate() {
            if j != i {
                keep.union_with(&e.set);
            }
        }
        let last = entries[i].set.clone();
        schema.prune(&mut object, &last, Some(&keep), &mut Trail::default());
    }

    let mut cmp = Comparison::default();
    schema.compare(
        live_clean.as_ref(),
        Some(&object),
        &mut Trail::default(),
        &mut cmp,
    );
    let changed = schema.owned(cmp.changed());
    let removed = schema.owned(cmp.removed.clone());

    // Conflicts: fields another entry owns that this apply adds or changes.
    let mut order: Vec<usize> = (0..entries.len()).filter(|&j| Some(j) != applier).collect();
    order.sort_by(|&a, &b| entries[a].order_key().cmp(&entries[b].order_key()));
    let mut conflicted: Vec<(usize, Set)> = Vec::new();
    for j in order {
        let c = entries[j].set.intersection(&changed);
        if !c.is_empty() {
            conflicted.push((j, c));
        }
    }
    if !conflicted.is_empty() && !force {
        let allowed = match (&live_clean, manager == KUBECTL) {
            (Some(l), true) => schema.client_side_applied(l),
            _ => None,
        };
        let remaining: Vec<(usize, Set)> = match &allowed {
            Some(allowed) => conflicted
                .iter()
                .map(|(j, s)| (*j, s.difference(allowed)))
                .filter(|(_, s)| !s.is_empty())
                .collect(),
            None => conflicted.clone(),
        };
        if !remaining.is_empty() {
            let mut out = Vec::new();
            for (j, s) in remaining {
                let e = &entries[j];
                for path in s.paths() {
                    out.push(Conflict {
                        manager: e.manager.clone(),
                        operation: e.operation.clone(),
                        api_version: e.api_version.clone(),
                        subresource: e.subresource.clone(),
                        field_path: path_string(&path),
                    });
                }
            }
            return Err(ApplyError::Conflicts(out));
        }
    }
    for (j, c) in &conflicted {
        entries[*j].set = entries[*j].set.difference(c);
    }
    for (j, e) in entries.iter_mut().enumerate() {
        if Some(j) != applier {
            e.set = e.set.difference(&removed);
        }
    }

    strip_config_nulls(&schema, &mut object, applied, &mut Trail::default());
    let object_changed = live_clean.as_ref() != Some(&object);
    match applier {
        Some(i) => {
            entries[i].set = config_set;
            entries[i].api_version = api_version.into();
            if object_changed {
                entries[i].time = Some(now.into());
            }
        }
        None => entries.push(Entry {
            manager: manager.into(),
            operation: APPLY.into(),
            api_version: api_version.into(),
            // Upstream stamps an apply only when it changed the object.
            time: object_changed.then(|| now.to_string()),
            subresource: subresource.map(str::to_string),
            set: config_set,
        }),
    }
    if manager == KUBECTL {
        update_last_applied(&mut object, applied);
    }
    entries.retain(|e| !e.set.is_empty());
    cap_update_entries(&mut entries);
    set_managed_fields(&mut object, entries);
    Ok(object)
}

/// Records an ordinary write (create when `old` is `None`, update, non-apply patch) by
/// `manager`: returns `new` with managed fields in which `manager`'s `Update` entry owns
/// what it added or changed. `subresource` is the subresource written through (`status`,
/// `scale`), if any; then the request's managed fields are ignored, as upstream does.
#[allow(clippy::too_many_arguments)]
pub fn update(
    group: &str,
    kind: &str,
    api_version: &str,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Value {
    let schema = Schema::new(group, kind, api_version, subresource);
    let old_entries = || old.and_then(|o| decode_entries(o).ok()).unwrap_or_default();
    let mut entries = if subresource.is_some() {
        old_entries()
    } else if is_reset(new) {
        Vec::new()
    } else {
        match decode_entries(new) {
            Ok(e) if !e.is_empty() => e,
            _ => old_entries(),
        }
    };
    let mut object = without_managed_fields(new);
    if old.is_some() && entries.is_empty() {
        return object;
    }
    let old_clean = old.map(without_managed_fields);
    let mut cmp = Comparison::default();
    schema.compare(
        old_clean.as_ref(),
        Some(&object),
        &mut Trail::default(),
        &mut cmp,
    );
    let changed = schema.owned(cmp.changed());
    let removed = schema.owned(cmp.removed.clone());
    for e in entries.iter_mut() {
        e.set = e.set.difference(&removed);
        if !e.is(manager, UPDATE, api_version, subresource) {
            e.set = e.set.difference(&changed);
        }
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.is(manager, UPDATE, api_version, subresource))
        {
            Some(e) => {
                e.set.union_with(&changed);
                e.time = Some(now.into());
            }
            None => entries.push(Entry {
                manager: manager.into(),
                operation: UPDATE.into(),
                api_version: api_version.into(),
                time: Some(now.into()),
                subresource: subresource.map(str::to_string),
                set: changed,
            }),
        }
    }
    entries.retain(|e| !e.set.is_empty());
    cap_update_entries(&mut entries);
    set_managed_fields(&mut object, entries);
    object
}

/// The manager a request is recorded under: its `fieldManager` parameter, else the
/// `User-Agent` up to the first `/` (printable characters, at most 128), else `unknown`.
/// Apply requests must name a manager; upstream rejects them without one.
pub fn manager_name(field_manager: Option<&str>, user_agent: Option<&str>) -> String {
    if let Some(m) = field_manager.filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    let prefix = user_agent.unwrap_or("").split('/').next().unwrap_or("");
    let name: String = prefix
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect();
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

/// The paths a `fieldsV1` value lists, as upstream prints them (`.spec.replicas`,
/// `.spec.template.spec.containers[name="nginx"]`), members only, in upstream's order.
pub fn fields_v1_paths(fields_v1: &Value) -> Option<Vec<String>> {
    let set = Set::from_fields_v1(fields_v1)?;
    Some(set.paths().iter().map(|p| path_string(p)).collect())
}

// ----- managed fields entries ---------------------------------------------------------------

#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: Option<String>,
    set: Set,
}

impl Entry {
    /// Whether this is the entry of `manager` doing `operation`: appliers have one entry
    /// whatever the version they apply at, updaters one per version.
    fn is(&self, manager: &str, operation: &str, api_version: &str, sub: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == sub
            && (operation == APPLY || self.api_version == api_version)
    }

    fn order_key(&self) -> (&str, &str, &str, Option<&str>) {
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
fn decode_entries(obj: &Value) -> Result<Vec<Entry>, ()> {
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
fn is_reset(obj: &Value) -> bool {
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

fn without_managed_fields(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("managedFields");
    }
    obj
}

/// Writes the entries into `obj` in upstream's order: appliers first, then by time,
/// manager, version and subresource. No entries, no field.
fn set_managed_fields(obj: &mut Value, mut entries: Vec<Entry>) {
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
fn cap_update_entries(entries: &mut Vec<Entry>) {
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
fn update_last_applied(object: &mut Value, applied: &Value) {
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
fn sorted(v: &Value) -> Value {
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
fn strip_config_nulls(schema: &Schema, object: &mut Value, applied: &Value, t: &mut Trail) {
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

// ----- field paths and sets -----------------------------------------------------------------

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pe {
    /// A struct or map field.
    Field(String),
    /// An associative-list element, by its key fields (sorted by name).
    Key(Vec<(String, Value)>),
    /// A set element, by value.
    Val(Value),
    /// A list element by position (read from `fieldsV1`, never produced).
    Index(usize),
}

impl Pe {
    fn rank(&self) -> u8 {
        match self {
            Pe::Field(_) => 0,
            Pe::Key(_) => 1,
            Pe::Val(_) => 2,
            Pe::Index(_) => 3,
        }
    }

    /// The `fieldsV1` key: `f:name`, `k:{"name":"c"}`, `v:"x"`, `i:0`.
    fn encode(&self) -> String {
        match self {
            Pe::Field(n) => format!("f:{n}"),
            Pe::Key(kv) => {
                let m: Obj = kv.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                format!("k:{}", Value::Object(m))
            }
            Pe::Val(v) => format!("v:{v}"),
            Pe::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<Pe> {
        let (prefix, rest) = s.split_at_checked(2)?;
        match prefix {
            "f:" => Some(Pe::Field(rest.to_string())),
            "k:" => match serde_json::from_str::<Value>(rest).ok()? {
                Value::Object(m) => {
                    let mut kv: Vec<(String, Value)> = m.into_iter().collect();
                    kv.sort_by(|a, b| a.0.cmp(&b.0));
                    Some(Pe::Key(kv))
                }
                _ => None,
            },
            "v:" => serde_json::from_str(rest).ok().map(Pe::Val),
            "i:" => rest.parse().ok().map(Pe::Index),
            _ => None,
        }
    }

    /// As upstream prints it: `.name`, `[name="c"]`, `[="x"]`, `[0]`.
    fn display(&self) -> String {
        match self {
            Pe::Field(n) => format!(".{n}"),
            Pe::Key(kv) => {
                let parts: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
            Pe::Val(v) => format!("[={v}]"),
            Pe::Index(i) => format!("[{i}]"),
        }
    }
}

impl Ord for Pe {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Pe::Field(a), Pe::Field(b)) => a.cmp(b),
            (Pe::Key(a), Pe::Key(b)) => {
                for ((ak, av), (bk, bv)) in a.iter().zip(b) {
                    let o = ak.cmp(bk).then_with(|| cmp_value(av, bv));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Pe::Val(a), Pe::Val(b)) => cmp_value(a, b),
            (Pe::Index(a), Pe::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Pe {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order on JSON values (numbers, strings, booleans, lists, maps, null), consistent
/// with equality.
fn cmp_value(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (fx, fy) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            fx.partial_cmp(&fy)
                .unwrap_or(Ordering::Equal)
                .then_with(|| x.to_string().cmp(&y.to_string()))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = cmp_value(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<(&String, &Value)> = x.iter().collect();
            let mut ys: Vec<(&String, &Value)> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((pk, pv), (qk, qv)) in xs.iter().zip(&ys) {
                let o = pk.cmp(qk).then_with(|| cmp_value(pv, qv));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A string quoted as Go's `%q` does (for the printable strings manager names are).
fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn path_string(path: &[Pe]) -> String {
    path.iter().map(Pe::display).collect()
}

/// A set of field paths, as a tree: `member` says the path leading here is in the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Set {
    member: bool,
    children: BTreeMap<Pe, Set>,
}

impl Set {
    fn leaf() -> Set {
        Set {
            member: true,
            children: BTreeMap::new(),
        }
    }

    fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    fn insert(&mut self, path: &[Pe]) {
        let mut cur = self;
        for pe in path {
            cur = cur.children.entry(pe.clone()).or_default();
        }
        cur.member = true;
    }

    fn union_with(&mut self, other: &Set) {
        self.member |= other.member;
        for (pe, c) in &other.children {
            self.children.entry(pe.clone()).or_default().union_with(c);
        }
    }

    /// The paths of `self` that are not paths of `other` (exactly; children stay).
    fn difference(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(pe.clone(), d);
            }
        }
        out
    }

    fn intersection(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(pe.clone(), i);
                }
            }
        }
        out
    }

    /// Removes the path and everything under it.
    fn remove_tree(&mut self, path: &[Pe]) {
        let Some((first, rest)) = path.split_first() else {
            *self = Set::default();
            return;
        };
        if rest.is_empty() {
            self.children.remove(first);
            return;
        }
        if let Some(c) = self.children.get_mut(first) {
            c.remove_tree(rest);
            if c.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// Removes exactly the path (its children stay).
    fn remove_member(&mut self, path: &[Pe]) {
        let Some((first, rest)) = path.split_first() else {
            self.member = false;
            return;
        };
        if let Some(c) = self.children.get_mut(first) {
            c.remove_member(rest);
            if c.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// The member paths in upstream's order: at each level the members, then the subtrees.
    fn paths(&self) -> Vec<Vec<Pe>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<Pe>, out: &mut Vec<Vec<Pe>>) {
        for (pe, c) in &self.children {
            if c.member {
                let mut p = prefix.clone();
                p.push(pe.clone());
                out.push(p);
            }
        }
        for (pe, c) in &self.children {
            if !c.children.is_empty() {
                prefix.push(pe.clone());
                c.collect_paths(prefix, out);
                prefix.pop();
            }
        }
    }

    fn to_fields_v1(&self) -> Value {
        let mut m = Obj::new();
        for (pe, c) in &self.children {
            let mut inner = Obj::new();
            if c.member && !c.children.is_empty() {
                inner.insert(".".into(), Value::Object(Obj::new()));
            }
            if let Value::Object(grand) = c.to_fields_v1() {
                inner.extend(grand);
            }
            m.insert(pe.encode(), Value::Object(inner));
        }
        Value::Object(m)
    }

    fn from_fields_v1(v: &Value) -> Option<Set> {
        let m = v.as_object()?;
        let mut out = Set::default();
        for (k, c) in m {
            if k == "." {
                out.member = true;
                continue;
            }
            let pe = Pe::decode(k)?;
            let mut cs = Set::from_fields_v1(c)?;
            if c.as_object().is_some_and(Obj::is_empty) {
                cs.member = true;
            }
            out.children.insert(pe, cs);
        }
        Some(out)
    }
}

/// A path being walked: the field names (what the schema is keyed on; list elements add
/// none) and the full path.
#[derive(Debug, Default)]
struct Trail {
    fields: Vec<String>,
    pes: Vec<Pe>,
}

impl Trail {
    fn push_field(&mut self, name: &str) {
        self.fields.push(name.to_string());
        self.pes.push(Pe::Field(name.to_string()));
    }

    fn pop_field(&mut self) {
        self.fields.pop();
        self.pes.pop();
    }

    fn push_item(&mut self, pe: Pe) {
        self.pes.push(pe);
    }

    fn pop_item(&mut self) {
        self.pes.pop();
    }

    fn is_root(&self) -> bool {
        self.pes.is_empty()
    }

    /// Whether the path ends at a field (not at a list element).
    fn at_field(&self) -> bool {
        matches!(self.pes.last(), Some(Pe::Field(_)))
    }

    fn last_field(&self) -> &str {
        self.fields.last().map_or("", String::as_str)
    }
}

// ----- the schema -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum ListKind {
    Atomic,
    Set,
    Map(Vec<&'static str>),
}

/// Fields whose (struct or map) value upstream marks atomic.
const ATOMIC_MAPS: &[&str] = &[
    "selector",
    "labelSelector",
    "namespaceSelector",
    "podSelector",
    "nodeSelector",
    "configMapKeyRef",
    "secretKeyRef",
    "fieldRef",
    "resourceFieldRef",
    "claimRef",
    "involvedObject",
    "requiredDuringSchedulingIgnoredDuringExecution",
];

/// What is needed to walk objects of one kind.
struct Schema<'a> {
    group: &'a str,
    kind: &'a str,
    api_version: &'a str,
    /// Whether the kind is in the resource table (custom resources are not).
    builtin: bool,
    /// Top-level fields not tracked through this endpoint.
    ignored: &'static [&'static str],
}

impl<'a> Schema<'a> {
    fn new(group: &'a str, kind: &'a str, api_version: &'a str, sub: Option<&str>) -> Self {
        let (_, version) = resources::split_api_version(api_version);
        let info = resources::find_by_kind(group, version, kind);
        let ignored: &'static [&'static str] = match sub {
            None if info.is_some_and(|i| i.has_status()) => &["status"],
            Some("status") => &["metadata", "spec"],
            _ => &[],
        };
        Schema {
            group,
            kind,
            api_version,
            builtin: info.is_some(),
            ignored,
        }
    }

    /// `apps/v1, Kind=Deployment`, as upstream prints a group-version-kind.
    fn gvk(&self) -> String {
        let version = resources::split_api_version(self.api_version).1;
        format!("{}/{version}, Kind={}", self.group, self.kind)
    }

    /// The set without the fields nobody owns: identity and server-populated metadata,
    /// and the top-level fields this endpoint ignores.
    fn owned(&self, mut set: Set) -> Set {
        let f = |n: &str| Pe::Field(n.to_string());
        set.remove_tree(&[f("apiVersion")]);
        set.remove_tree(&[f("kind")]);
        set.remove_member(&[f("metadata")]);
        for name in [
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        ] {
            set.remove_tree(&[f("metadata"), f(name)]);
        }
        for name in self.ignored {
            set.remove_tree(&[f(name)]);
        }
        set
    }

    fn list_kind(&self, t: &Trail) -> ListKind {
        let path: Vec<&str> = t.fields.iter().map(String::as_str).collect();
        match field_strategy(self.group, self.kind, &path) {
            Strategy::Merge(None) => ListKind::Set,
            Strategy::Merge(Some("containerPort")) => {
                ListKind::Map(vec!["containerPort", "protocol"])
            }
            Strategy::Merge(Some("port")) => ListKind::Map(vec!["port", "protocol"]),
            Strategy::Merge(Some("topologyKey")) => {
                ListKind::Map(vec!["topologyKey", "whenUnsatisfiable"])
            }
            Strategy::Merge(Some(key)) => ListKind::Map(vec![key]),
            _ => ListKind::Atomic,
        }
    }

    /// Whether the map or struct at `t` is owned whole.
    fn map_atomic(&self, t: &Trail) -> bool {
        self.builtin && t.at_field() && ATOMIC_MAPS.contains(&t.last_field())
    }

    /// Whether the elements of the associative list at `t` are owned whole.
    fn elem_atomic(&self, t: &Trail) -> bool {
        match t.last_field() {
            "ownerReferences" => true,
            "imagePullSecrets" => self.builtin,
            _ => false,
        }
    }

    /// Whether the node at `t` always exists in upstream's typed objects (a struct that is
    /// not a pointer, a list without `omitempty`), so that it is never "added" itself.
    fn implicit(&self, t: &Trail) -> bool {
        if !self.builtin || !t.at_field() {
            return false;
        }
        let f: Vec<&str> = t.fields.iter().map(String::as_str).collect();
        match f.as_slice() {
            ["metadata" | "spec" | "status"] => true,
            ["template"] => self.kind == "PodTemplate",
            [.., "template" | "jobTemplate"] => true,
            [.., "template" | "jobTemplate", "metadata" | "spec"] => true,
            ["spec", "strategy" | "updateStrategy"] => true,
            [.., "spec", "containers"] => true,
            [.., "containers" | "initContainers" | "ephemeralContainers", "resources"] => true,
            ["status", "loadBalancer"] => self.kind == "Service",
            _ => false,
        }
    }

    /// The path elements of a set or associative list's elements; `None` for an atomic
    /// list, an error for elements that cannot be keyed or repeat.
    fn list_pes(&self, kind: &ListKind, items: &[Value]) -> Result<Option<Vec<Pe>>, String> {
        if *kind == ListKind::Atomic {
            return Ok(None);
        }
        let mut out: Vec<Pe> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let pe = match kind {
                ListKind::Atomic => return Ok(None),
                ListKind::Set => {
                    let why = match item {
                        Value::Object(_) => {
                            "associative list without keys has an element that's a map type"
                        }
                        Value::Array(_) => "not supported: associative list with lists as elements",
                        Value::Null => {
                            "associative list without keys has an element that's an explicit null"
                        }
                        _ => "",
                    };
                    if !why.is_empty() {
                        return Err(format!("element {i}: {why}"));
                    }
                    Pe::Val(item.clone())
                }
                ListKind::Map(keys) => {
                    item_key(item, keys).map_err(|e| format!("element {i}: {e}"))?
                }
            };
            if out.contains(&pe) {
                return Err(format!("duplicate entries for key {}", pe.display()));
            }
            out.push(pe);
        }
        Ok(Some(out))
    }

    // ----- the applied configuration's fields --------------------------------------------

    /// The fields the applied configuration `v` (at `t`) sets.
    /// As upstream, an empty struct or map and an empty set or associative list set
    /// nothing; an empty atomic list is owned.
    fn config_set(&self, v: &Value, t: &mut Trail) -> Result<Set, String> {
        let mut out = match v {
            Value::Object(m) if !self.map_atomic(t) => {
                let mut s = Set::default();
                for (k, c) in m {
                    t.push_field(k);
                    let cs = self.config_set(c, t);
                    t.pop_field();
                    let cs = cs?;
                    if !cs.is_empty() {
                        s.children.insert(Pe::Field(k.clone()), cs);
                    }
                }
                s
            }
            Value::Array(items) => {
                let kind = self.list_kind(t);
                let pes = self
                    .list_pes(&kind, items)
                    .map_err(|e| format!("{}: {e}", path_string(&t.pes)))?;
                match pes {
                    None => Set::leaf(),
                    Some(pes) => {
                        let leaf_elems = kind == ListKind::Set || self.elem_atomic(t);
                        let mut s = Set::default();
                        for (pe, item) in pes.into_iter().zip(items) {
                            let mut cs = if leaf_elems {
                                Set::leaf()
                            } else {
                                t.push_item(pe.clone());
                                let cs = self.config_set(item, t);
                                t.pop_item();
                                cs?
                            };
                            cs.member = true;
                            s.children.insert(pe, cs);
                        }
                        s
                    }
                }
            }
            _ => Set::leaf(),
        };
        if t.is_root() {
            out.member = false;
        }
        Ok(out)
    }

    // ----- comparing ------------------------------------------------------------------------

    /// Records what changed from `old` to `new` at `t`.
    fn compare(&self, old: Option<&Value>, new: Option<&Value>, t: &mut Trail, c: &mut Comparison) {
        match (old, new) {
            (None, None) => {}
            (None, Some(n)) => self.one_side(n, t, &mut c.added),
            (Some(o), None) => self.one_side(o, t, &mut c.removed),
            (Some(o), Some(n)) => self.compare_both(o, n, t, c),
        }
    }

    /// Records `v`, present on one side only, with everything under it: the node itself
    /// (unless it always exists) and its leaves.
    fn one_side(&self, v: &Value, t: &mut Trail, out: &mut Set) {
        match v {
            Value::Object(m) if !m.is_empty() && !self.map_atomic(t) => {
                if !t.is_root() && !self.implicit(t) {
                    out.insert(&t.pes);
                }
                for (k, c) in m {
                    t.push_field(k);
                    self.one_side(c, t, out);
                    t.pop_field();
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let kind = self.list_kind(t);
                match self.list_pes(&kind, items) {
                    Ok(Some(pes)) => {
                        if !self.implicit(t) {
                            out.insert(&t.pes);
                        }
                        let leaf_elems = kind == ListKind::Set || self.elem_atomic(t);
                        for (pe, item) in pes.into_iter().zip(items) {
                            t.push_item(pe);
                            if leaf_elems {
                                out.insert(&t.pes);
                            } else {
                                self.one_side(item, t, out);
                            }
                            t.pop_item();
                        }
                    }
                    _ => out.insert(&t.pes),
                }
            }
            _ => {
                if !t.is_root() {
                    out.insert(&t.pes);
                }
            }
        }
    }

    fn compare_both(&self, o: &Value, n: &Value, t: &mut Trail, c: &mut Comparison) {
        match (o, n) {
            (Value::Object(om), Value::Object(nm)) if !self.map_atomic(t) => {
                for (k, ov) in om {
                    t.push_field(k);
                    self.compare(Some(ov), nm.get(k), t, c);
                    t.pop_field();
                }
                for (k, nv) in nm {
                    if !om.contains_key(k) {
                        t.push_field(k);
                        self.compare(None, Some(nv), t, c);
                        t.pop_field();
                    }
                }
            }
            (Value::Array(ol), Value::Array(nl)) => self.compare_lists(ol, nl, t, c),
            // A null struct or list in upstream's typed objects is there, empty.
            (Value::Null, Value::Object(m)) if !m.is_empty() && !self.map_atomic(t) => {
                self.compare_both(&Value::Object(Obj::new()), n, t, c)
            }
            (Value::Object(m), Value::Null) if !m.is_empty() && !self.map_atomic(t) => {
                self.compare_both(o, &Value::Object(Obj::new()), t, c)
            }
            (Value::Null, Value::Array(l)) if !l.is_empty() => self.compare_lists(&[], l, t, c),
            (Value::Array(l), Value::Null) if !l.is_empty() => self.compare_lists(l, &[], t, c),
            _ => {
                if o != n {
                    c.modified.insert(&t.pes);
                }
            }
        }
    }

    fn compare_lists(&self, ol: &[Value], nl: &[Value], t: &mut Trail, c: &mut Comparison) {
        let kind = self.list_kind(t);
        let (Ok(Some(op)), Ok(Some(np))) = (self.list_pes(&kind, ol), self.list_pes(&kind, nl))
        else {
            if ol != nl {
                c.modified.insert(&t.pes);
            }
            return;
        };
        let leaf_elems = kind == ListKind::Set || self.elem_atomic(t);
        for (pe, oi) in op.iter().zip(ol) {
            let ni = np.iter().position(|p| p == pe).map(|i| &nl[i]);
            t.push_item(pe.clone());
            if leaf_elems {
                match ni {
                    None => c.removed.insert(&t.pes),
                    Some(ni) if ni != oi => c.modified.insert(&t.pes),
                    Some(_) => {}
                }
            } else {
                self.compare(Some(oi), ni, t, c);
            }
            t.pop_item();
        }
        for (pe, ni) in np.iter().zip(nl) {
            if !op.contains(pe) {
                t.push_item(pe.clone());
                if leaf_elems {
                    c.added.insert(&t.pes);
                } else {
                    self.compare(None, Some(ni), t, c);
                }
                t.pop_item();
            }
        }
    }

    // ----- merging ------------------------------------------------------------------------

    /// The live value `live` with the applied configuration `cfg` merged in.
    fn merge(&self, live: &Value, cfg: &Value, t: &mut Trail) -> Value {
        match (live, cfg) {
            (Value::Object(l), Value::Object(c)) if !self.map_atomic(t) => {
                let mut out = l.clone();
                for (k, cv) in c {
                    t.push_field(k);
                    let v = match l.get(k) {
                        Some(lv) => self.merge(lv, cv, t),
                        None => cv.clone(),
                    };
                    t.pop_field();
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            (Value::Array(l), Value::Array(c)) => self.merge_lists(l, c, t),
            _ => cfg.clone(),
        }
    }

    fn merge_lists(&self, l: &[Value], c: &[Value], t: &mut Trail) -> Value {
        let kind = self.list_kind(t);
        let (Ok(Some(lp)), Ok(Some(cp))) = (self.list_pes(&kind, l), self.list_pes(&kind, c))
        else {
            return Value::Array(c.to_vec());
        };
        let leaf_elems = kind == ListKind::Set || self.elem_atomic(t);
        let mut out = Vec::with_capacity(l.len().max(c.len()));
        for (li, ci) in merge_order(&lp, &cp) {
            match (li, ci) {
                (Some(li), None) => out.push(l[li].clone()),
                (None, Some(ci)) => out.push(c[ci].clone()),
                (Some(li), Some(ci)) if !leaf_elems => {
                    t.push_item(cp[ci].clone());
                    out.push(self.merge(&l[li], &c[ci], t));
                    t.pop_item();
                }
                (_, Some(ci)) => out.push(c[ci].clone()),
                (None, None) => {}
            }
        }
        Value::Array(out)
    }

    // ----- pruning ------------------------------------------------------------------------

    /// Removes from `v` (at `t`) what the applier owned before (`last`, the applier's old
    /// set here) and nobody owns now (`keep`: every current set, the applier's new one
    /// included): a leaf or list element goes whole, and a map left empty by the removals
    /// goes too unless someone owns it as such. Returns whether `v` stays.
    fn prune(&self, v: &mut Value, last: &Set, keep: Option<&Set>, t: &mut Trail) -> bool {
        let kept = keep.is_some_and(|k| !k.is_empty());
        if !t.is_root() && last.member && !kept {
            return false;
        }
        if last.children.is_empty() {
            return true;
        }
        let was_empty = is_empty_container(v);
        match v {
            Value::Object(m) if !self.map_atomic(t) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    let pe = Pe::Field(k.clone());
                    let Some(l) = last.children.get(&pe) else {
                        continue;
                    };
                    let keep_child = keep.and_then(|s| s.children.get(&pe));
                    t.push_field(&k);
                    let stay = match m.get_mut(&k) {
                        Some(child) => self.prune(child, l, keep_child, t),
                        None => true,
                    };
                    t.pop_field();
                    if !stay {
                        m.shift_remove(&k);
                    }
                }
            }
            Value::Array(items) => {
                let kind = self.list_kind(t);
                if let Ok(Some(pes)) = self.list_pes(&kind, items) {
                    let mut out = Vec::with_capacity(items.len());
                    for (pe, mut item) in pes.into_iter().zip(std::mem::take(items)) {
                        let stay = match last.children.get(&pe) {
                            None => true,
                            Some(l) => {
                                let keep_child = keep.and_then(|s| s.children.get(&pe));
                                let original = item.clone();
                                t.push_item(pe);
                                let stay = self.prune(&mut item, l, keep_child, t);
                                t.pop_item();
                                if let ListKind::Map(keys) = &kind {
                                    restore_keys(&mut item, &original, keys);
                                }
                                stay
                            }
                        };
                        if stay {
                            out.push(item);
                        }
                    }
                    *items = out;
                }
            }
            _ => {}
        }
        let emptied = !was_empty && is_empty_container(v);
        !(emptied && !t.is_root() && !keep.is_some_and(|k| k.member))
    }

    // ----- client-side apply ----------------------------------------------------------------

    /// The fields client-side apply's annotation on `live` lists with the live value:
    /// kubectl's first server-side apply may take them without conflict.
    fn client_side_applied(&self, live: &Value) -> Option<Set> {
        let text = live
            .pointer("/metadata/annotations")?
            .get(LAST_APPLIED_ANNOTATION)?
            .as_str()?;
        let last: Value = serde_json::from_str(text).ok()?;
        if !last.is_object() || last.get("apiVersion")?.as_str()? != self.api_version {
            return None;
        }
        let set = self.owned(self.config_set(&last, &mut Trail::default()).ok()?);
        let mut c = Comparison::default();
        self.compare(Some(&last), Some(live), &mut Trail::default(), &mut c);
        Some(
            set.difference(&c.modified)
                .difference(&c.added)
                .difference(&c.removed),
        )
    }
}

/// An associative-list element that stays keeps its key fields, whoever owns them.
fn restore_keys(item: &mut Value, original: &Value, keys: &[&str]) {
    let (Value::Object(now), Value::Object(before)) = (&*item, original) else {
        return;
    };
    if keys
        .iter()
        .all(|k| now.contains_key(*k) || !before.contains_key(*k))
    {
        return;
    }
    let rebuilt: Obj = before
        .iter()
        .filter_map(|(k, v)| match now.get(k) {
            Some(n) => Some((k.clone(), n.clone())),
            None if keys.contains(&k.as_str()) => Some((k.clone(), v.clone())),
            None => None,
        })
        .collect();
    *item = Value::Object(rebuilt);
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The key of an associative-list element; `protocol` defaults to `TCP` as upstream's
/// schema says.
fn item_key(item: &Value, keys: &[&str]) -> Result<Pe, String> {
    let obj = match item {
        Value::Object(m) => m,
        Value::Null => return Err("associative list with keys may not have a null element".into()),
        _ => return Err("associative list with keys may not have non-map elements".into()),
    };
    let mut kv = Vec::with_capacity(keys.len());
    for k in keys {
        match obj.get(*k) {
            Some(v) if !v.is_null() => {
                if v.is_object() || v.is_array() {
                    return Err(format!("key field {k:?} is not a scalar"));
                }
                kv.push((k.to_string(), v.clone()));
            }
            _ if *k == "protocol" => kv.push((k.to_string(), Value::String("TCP".into()))),
            _ => {
                return Err(format!(
                    "associative list with keys has an element that omits key field {k:?} \
                     (and doesn't have default value)"
                ))
            }
        }
    }
    kv.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Pe::Key(kv))
}

/// The order of a merged list, as pairs of (live index, applied index): applied elements
/// in applied order, live-only elements kept where they were relative to them.
fn merge_order(live: &[Pe], applied: &[Pe]) -> Vec<(Option<usize>, Option<usize>)> {
    let mut out = Vec::with_capacity(live.len().max(applied.len()));
    let mut used = vec![false; live.len()];
    let (mut i, mut j) = (0, 0);
    loop {
        while i < live.len() && (used[i] || !applied.contains(&live[i])) {
            if !used[i] {
                out.push((Some(i), None));
                used[i] = true;
            }
            i += 1;
        }
        if j >= applied.len() {
            break;
        }
        let li = live.iter().position(|p| *p == applied[j]);
        if let Some(li) = li {
            used[li] = true;
        }
        out.push((li, Some(j)));
        j += 1;
    }
    out
}

#[derive(Debug, Default)]
struct Comparison {
    added: Set,
    modified: Set,
    removed: Set,
}

impl Comparison {
    fn changed(&self) -> Set {
        let mut s = self.added.clone();
        s.union_with(&self.modified);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:01:00Z";
    const T2: &str = "2024-01-01T00:02:00Z";

    fn cm(data: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": "default"},
            "data": data,
        })
    }

    fn apply_cm(live: Option<&Value>, applied: &Value, manager: &str) -> Result<Value, ApplyError> {
        apply("", "ConfigMap", "v1", live, applied, manager, false, T1)
    }

    fn nginx(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": image}]},
                },
            },
        })
    }

    fn apply_deploy(
        live: Option<&Value>,
        applied: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApplyError> {
        apply(
            "apps",
            "Deployment",
            "apps/v1",
            live,
            applied,
            manager,
            force,
            T1,
        )
    }

    fn entries(obj: &Value) -> Vec<Value> {
        obj.pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    fn entry(obj: &Value, manager: &str, op: &str) -> Option<Value> {
        entries(obj)
            .into_iter()
            .find(|e| e["manager"] == manager && e["operation"] == op)
    }

    fn fields(obj: &Value, manager: &str, op: &str) -> Value {
        entry(obj, manager, op)
            .map(|e| e["fieldsV1"].clone())
            .unwrap_or(Value::Null)
    }

    fn paths(obj: &Value, manager: &str, op: &str) -> Vec<String> {
        fields_v1_paths(&fields(obj, manager, op)).unwrap_or_default()
    }

    fn conflicts(r: Result<Value, ApplyError>) -> Vec<Conflict> {
        match r {
            Err(ApplyError::Conflicts(c)) => c,
            other => panic!("expected conflicts, got {other:?}"),
        }
    }

    // ----- apply: creating ----------------------------------------------------------------

    #[test]
    fn apply_creates_the_upstream_configmap_example() {
        let applied = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
            "data": {"key": "some value"},
        });
        let out = apply("", "ConfigMap", "v1", None, &applied, "kubectl", false, T0).unwrap();
        assert_eq!(out["data"], json!({"key": "some value"}));
        assert_eq!(out["metadata"]["labels"], json!({"test-label": "test"}));
        let mf = entries(&out);
        assert_eq!(mf.len(), 1);
        assert_eq!(
            mf[0].to_string(),
            json!({
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "v1",
                "time": T0,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:data": {"f:key": {}},
                    "f:metadata": {"f:labels": {"f:test-label": {}}},
                },
            })
            .to_string()
        );
    }

    #[test]
    fn apply_deployment_fields_v1_matches_upstream() {
        let out = apply_deploy(None, &nginx(3, "nginx:1.14.2"), "kubectl", false).unwrap();
        let expected = json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:containers": {
                            "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}},
                        },
                    },
                },
            },
        });
        assert_eq!(
            fields(&out, "kubectl", "Apply").to_string(),
            expected.to_string()
        );
        assert!(entry(&out, "kubectl", "Apply")
            .unwrap()
            .get("subresource")
            .is_none());
    }

    #[test]
    fn container_port_keys_default_the_protocol() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
        let out = apply_deploy(None, &d, "kubectl", false).unwrap();
        let f = fields(&out, "kubectl", "Apply");
        let c = &f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"];
        assert_eq!(
            c["f:ports"].to_string(),
            r#"{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}"#
        );
    }

    #[test]
    fn apply_does_not_own_identity_or_status() {
        let mut d = nginx(1, "nginx");
        d["metadata"]["namespace"] = json!("default");
        d["status"] = json!({"replicas": 1});
        let out = apply_deploy(None, &d, "kubectl", false).unwrap();
        let f = fields(&out, "kubectl", "Apply");
        assert!(f.get("f:apiVersion").is_none() && f.get("f:kind").is_none());
        assert!(f.get("f:status").is_none());
        assert_eq!(f["f:metadata"].to_string(), r#"{"f:labels":{"f:app":{}}}"#);
    }

    #[test]
    fn apply_rejects_managed_fields_in_the_body() {
        let mut c = cm(json!({"a": "1"}));
        c["metadata"]["managedFields"] = json!([]);
        assert_eq!(
            apply_cm(None, &c, "m").unwrap_err(),
            ApplyError::Invalid("metadata.managedFields must be nil".into())
        );
    }

    #[test]
    fn apply_rejects_duplicate_list_keys() {
        let svc = json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80}, {"port": 80, "protocol": "TCP"}]},
        });
        let err = apply("", "Service", "v1", None, &svc, "m", false, T0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to create typed patch object (/v1, Kind=Service): .spec.ports: duplicate \
             entries for key [port=80,protocol=\"TCP\"]"
        );
    }

    #[test]
    fn apply_rejects_list_elements_without_their_key() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"] = json!([{"image": "x"}]);
        let err = apply_deploy(None, &d, "m", false).unwrap_err().to_string();
        assert!(
            err.contains(".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\""),
            "{err}"
        );
    }

    // ----- apply: re-applying -------------------------------------------------------------

    #[test]
    fn reapply_without_a_field_removes_it() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "2"})), "m").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"a": "1"})), "m").unwrap();
        assert_eq!(v2["data"], json!({"a": "1"}));
        assert_eq!(paths(&v2, "m", "Apply"), vec![".data.a"]);
    }

    #[test]
    fn reapply_without_a_map_removes_the_map() {
        let mut c = cm(json!({"a": "1"}));
        c["metadata"]["labels"] = json!({"x": "y"});
        let v1 = apply_cm(None, &c, "m").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"a": "1"})), "m").unwrap();
        assert!(v2["metadata"].get("labels").is_none(), "{v2}");
        assert_eq!(v2["metadata"]["name"], "test-cm");
    }

    #[test]
    fn dropped_field_another_manager_shares_stays() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "2"})), "one").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"b": "2"})), "two").unwrap();
        let v3 = apply_cm(Some(&v2), &cm(json!({"a": "1"})), "one").unwrap();
        assert_eq!(v3["data"], json!({"a": "1", "b": "2"}));
        assert_eq!(paths(&v3, "one", "Apply"), vec![".data.a"]);
        assert_eq!(paths(&v3, "two", "Apply"), vec![".data.b"]);
    }

    #[test]
    fn dropped_field_nobody_tracked_stays() {
        // A field set by a write that predates tracking is not the applier's to remove.
        let v1 = apply_cm(None, &cm(json!({"a": "1"})), "m").unwrap();
        let mut edited = v1.clone();
        edited["data"]["z"] = json!("server");
        let v2 = apply_cm(Some(&edited), &cm(json!({"a": "2"})), "m").unwrap();
        assert_eq!(v2["data"], json!({"a": "2", "z": "server"}));
    }

    #[test]
    fn two_appliers_on_different_fields_coexist() {
        let v1 = apply_cm(None, &cm(json!({"a": "1"})), "one").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"b": "2"})), "two").unwrap();
        assert_eq!(v2["data"], json!({"a": "1", "b": "2"}));
        assert_eq!(paths(&v2, "one", "Apply"), vec![".data.a"]);
        assert_eq!(paths(&v2, "two", "Apply"), vec![".data.b"]);
        // Each re-applies its own field without touching the other's.
        let v3 = apply_cm(Some(&v2), &cm(json!({"b": "3"})), "two").unwrap();
        assert_eq!(v3["data"], json!({"a": "1", "b": "3"}));
    }

    #[test]
    fn reapplying_the_same_config_keeps_the_time() {
        let v1 = apply(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "m",
            false,
            T0,
        )
        .unwrap();
        let v2 = apply(
            "",
            "ConfigMap",
            "v1",
            Some(&v1),
            &cm(json!({"a": "1"})),
            "m",
            false,
            T2,
        )
        .unwrap();
        assert_eq!(v2, v1);
        let v3 = apply(
            "",
            "ConfigMap",
            "v1",
            Some(&v2),
            &cm(json!({"a": "2"})),
            "m",
            false,
            T2,
        )
        .unwrap();
        assert_eq!(entry(&v3, "m", "Apply").unwrap()["time"], T2);
    }

    // ----- apply: conflicts ---------------------------------------------------------------

    #[test]
    fn conflicting_value_fails() {
        let v1 = apply_deploy(None, &nginx(3, "nginx"), "one", false).unwrap();
        let c = conflicts(apply_deploy(Some(&v1), &nginx(5, "nginx"), "two", false));
        assert_eq!(
            c,
            vec![Conflict {
                manager: "one".into(),
                operation: "Apply".into(),
                api_version: "apps/v1".into(),
                subresource: None,
                field_path: ".spec.replicas".into(),
            }]
        );
        assert_eq!(
            conflict_message("deployments.apps \"nginx\"", &c),
            "Apply failed with 1 conflict: conflict with \"one\": .spec.replicas"
        );
    }

    #[test]
    fn same_value_is_shared_without_conflict() {
        let v1 = apply_deploy(None, &nginx(3, "nginx"), "one", false).unwrap();
        let v2 = apply_deploy(Some(&v1), &nginx(3, "nginx"), "two", false).unwrap();
        assert!(paths(&v2, "one", "Apply").contains(&".spec.replicas".to_string()));
        assert!(paths(&v2, "two", "Apply").contains(&".spec.replicas".to_string()));
        // Shared: now neither may change it alone.
        let c = conflicts(apply_deploy(Some(&v2), &nginx(4, "nginx"), "one", false));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].manager, "two");
    }

    #[test]
    fn force_takes_ownership() {
        let v1 = apply_deploy(None, &nginx(3, "nginx"), "one", false).unwrap();
        let v2 = apply_deploy(Some(&v1), &nginx(5, "nginx:2"), "two", true).unwrap();
        assert_eq!(v2["spec"]["replicas"], 5);
        let one = paths(&v2, "one", "Apply");
        assert!(!one.contains(&".spec.replicas".to_string()), "{one:?}");
        assert!(!one.iter().any(|p| p.ends_with(".image")), "{one:?}");
        assert!(one.contains(&".spec.selector".to_string()));
        let two = paths(&v2, "two", "Apply");
        assert!(two.contains(&".spec.replicas".to_string()));
        assert!(two.contains(&".spec.template.spec.containers[name=\"nginx\"].image".to_string()));
    }

    #[test]
    fn conflict_paths_name_list_elements() {
        let v1 = apply_deploy(None, &nginx(3, "nginx:1"), "one", false).unwrap();
        let c = conflicts(apply_deploy(Some(&v1), &nginx(3, "nginx:2"), "two", false));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].field_path,
            ".spec.template.spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn conflicts_with_updaters_name_their_version() {
        let d = nginx(3, "nginx");
        let v1 = update(
            "apps",
            "Deployment",
            "apps/v1",
            None,
            &d,
            "kubectl-client-side-apply",
            None,
            T0,
        );
        let c = conflicts(apply_deploy(Some(&v1), &nginx(4, "nginx"), "ssa", false));
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            conflict_causes(&c),
            vec![json!({
                "reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
                "field": ".spec.replicas",
            })]
        );
        let status = conflict_status(&c);
        assert_eq!(status["code"], 409);
        assert_eq!(status["reason"], "Conflict");
    }

    #[test]
    fn several_conflicts_are_grouped_by_manager() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1", "b": "1"})),
            "m",
            None,
            T0,
        );
        let c = conflicts(apply_cm(Some(&v1), &cm(json!({"a": "2", "b": "2"})), "x"));
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 2 conflicts: conflicts with \"m\" using v1:\n- .data.a\n- .data.b"
        );
        assert_eq!(
            ApplyError::Conflicts(c).to_string(),
            "Apply failed with 2 conflicts: conflicts with \"m\" using v1:\n- .data.a\n- .data.b"
        );
    }

    #[test]
    fn manager_display_names_subresources() {
        let c = Conflict {
            manager: "kubelet".into(),
            operation: "Update".into(),
            api_version: "v1".into(),
            subresource: Some("status".into()),
            field_path: ".status.phase".into(),
        };
        assert_eq!(
            c.manager_display(),
            "\"kubelet\" with subresource \"status\" using v1"
        );
    }

    #[test]
    fn adding_a_new_field_another_manager_owns_the_parent_of_is_fine() {
        let v1 = apply_cm(None, &cm(json!({"a": "1"})), "one").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"b": "1"})), "two").unwrap();
        assert!(v2["data"]["b"] == "1");
    }

    // ----- apply: lists -------------------------------------------------------------------

    #[test]
    fn associative_lists_merge_by_key() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"] = json!([
            {"name": "a", "image": "a:1", "args": ["x"]},
            {"name": "b", "image": "b:1"},
        ]);
        let v1 = apply_deploy(None, &d, "one", false).unwrap();
        let sidecar = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx-deployment"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "c:1"},
                {"name": "a", "env": [{"name": "E", "value": "1"}]},
            ]}}},
        });
        let v2 = apply_deploy(Some(&v1), &sidecar, "two", false).unwrap();
        let cs = &v2["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            cs,
            &json!([
                {"name": "c", "image": "c:1"},
                {"name": "a", "image": "a:1", "args": ["x"], "env": [{"name": "E", "value": "1"}]},
                {"name": "b", "image": "b:1"},
            ])
        );
        let two = paths(&v2, "two", "Apply");
        assert!(two.contains(&".spec.template.spec.containers[name=\"c\"]".to_string()));
        assert!(two.contains(
            &".spec.template.spec.containers[name=\"a\"].env[name=\"E\"].value".to_string()
        ));
        // The container's key field is shared, the rest is still the first applier's.
        let one = paths(&v2, "one", "Apply");
        assert!(one.contains(&".spec.template.spec.containers[name=\"a\"].image".to_string()));
    }

    #[test]
    fn dropping_a_list_element_removes_it() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]);
        let v1 = apply_deploy(None, &d, "m", false).unwrap();
        let v2 = apply_deploy(Some(&v1), &nginx(1, "nginx"), "m", false).unwrap();
        assert_eq!(
            v2["spec"]["template"]["spec"]["containers"],
            json!([{"name": "nginx", "image": "nginx"}])
        );
    }

    #[test]
    fn dropping_a_field_of_a_kept_element_removes_the_field() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["sh"]);
        let v1 = apply_deploy(None, &d, "m", false).unwrap();
        let v2 = apply_deploy(Some(&v1), &nginx(1, "nginx"), "m", false).unwrap();
        assert_eq!(
            v2["spec"]["template"]["spec"]["containers"],
            json!([{"name": "nginx", "image": "nginx"}])
        );
    }

    #[test]
    fn atomic_lists_are_replaced_and_owned_whole() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["a", "b"]);
        let v1 = apply_deploy(None, &d, "m", false).unwrap();
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["c"]);
        let v2 = apply_deploy(Some(&v1), &d, "m", false).unwrap();
        assert_eq!(
            v2["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["c"])
        );
        let f = fields(&v2, "m", "Apply");
        assert_eq!(
            f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]["f:args"],
            json!({})
        );
    }

    #[test]
    fn sets_merge_by_value() {
        let mut c = cm(json!({"a": "1"}));
        c["metadata"]["finalizers"] = json!(["x"]);
        let v1 = apply_cm(None, &c, "one").unwrap();
        let mut c2 = cm(json!({}));
        c2["metadata"]["finalizers"] = json!(["y"]);
        let v2 = apply_cm(Some(&v1), &c2, "two").unwrap();
        assert_eq!(v2["metadata"]["finalizers"], json!(["x", "y"]));
        assert_eq!(
            fields(&v2, "two", "Apply")["f:metadata"].to_string(),
            r#"{"f:finalizers":{"v:\"y\"":{}}}"#
        );
    }

    #[test]
    fn service_ports_merge_by_port_and_protocol() {
        let svc = |ports: Value| {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                   "spec": {"ports": ports}})
        };
        let v1 = apply(
            "",
            "Service",
            "v1",
            None,
            &svc(json!([{"port": 80, "name": "http"}])),
            "one",
            false,
            T0,
        )
        .unwrap();
        let v2 = apply(
            "",
            "Service",
            "v1",
            Some(&v1),
            &svc(json!([{"port": 80, "protocol": "UDP", "name": "dns"}])),
            "two",
            false,
            T1,
        )
        .unwrap();
        assert_eq!(
            v2["spec"]["ports"],
            json!([{"port": 80, "name": "http"}, {"port": 80, "protocol": "UDP", "name": "dns"}])
        );
        assert!(paths(&v2, "two", "Apply")
            .contains(&".spec.ports[port=80,protocol=\"UDP\"].name".to_string()));
    }

    #[test]
    fn custom_resources_replace_lists() {
        let cr = |items: Value| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                   "spec": {"items": items, "size": 1}})
        };
        let v1 = apply(
            "example.com",
            "Widget",
            "example.com/v1",
            None,
            &cr(json!([{"name": "a"}])),
            "m",
            false,
            T0,
        )
        .unwrap();
        let v2 = apply(
            "example.com",
            "Widget",
            "example.com/v1",
            Some(&v1),
            &cr(json!([{"name": "b"}])),
            "m",
            false,
            T1,
        )
        .unwrap();
        assert_eq!(v2["spec"]["items"], json!([{"name": "b"}]));
        assert_eq!(
            fields(&v2, "m", "Apply").to_string(),
            r#"{"f:spec":{"f:items":{},"f:size":{}}}"#
        );
    }

    #[test]
    fn null_in_the_config_removes_the_field_and_keeps_ownership() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "2"})), "m").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"a": "1", "b": null})), "m").unwrap();
        assert_eq!(v2["data"], json!({"a": "1"}));
        assert_eq!(paths(&v2, "m", "Apply"), vec![".data.a", ".data.b"]);
    }

    // ----- update -------------------------------------------------------------------------

    #[test]
    fn update_create_owns_everything_written() {
        let mut c = cm(json!({"key": "v"}));
        c["metadata"]["labels"] = json!({"x": "y"});
        let out = update("", "ConfigMap", "v1", None, &c, "kubectl-create", None, T0);
        assert_eq!(
            entry(&out, "kubectl-create", "Update").unwrap().to_string(),
            json!({
                "manager": "kubectl-create",
                "operation": "Update",
                "apiVersion": "v1",
                "time": T0,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:data": {".": {}, "f:key": {}},
                    "f:metadata": {"f:labels": {".": {}, "f:x": {}}},
                },
            })
            .to_string()
        );
    }

    #[test]
    fn update_create_of_a_defaulted_deployment_matches_client_side_apply() {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "nginx", "namespace": "default", "uid": "u", "generation": 1,
                "annotations": {LAST_APPLIED_ANNOTATION: "{}"},
            },
            "spec": {
                "progressDeadlineSeconds": 600, "replicas": 1, "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "nginx"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {
                        "containers": [{
                            "image": "nginx", "imagePullPolicy": "Always", "name": "nginx",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "resources": {}, "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                        }],
                        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                        "schedulerName": "default-scheduler", "securityContext": {},
                        "terminationGracePeriodSeconds": 30,
                    },
                },
            },
        });
        let out = update(
            "apps",
            "Deployment",
            "apps/v1",
            None,
            &d,
            "kubectl-client-side-apply",
            None,
            T0,
        );
        let expected = json!({
            "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
            "f:spec": {
                "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {},
                "f:selector": {},
                "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:containers": {"k:{\"name\":\"nginx\"}": {
                            ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                            "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}, "f:protocol": {}}},
                            "f:resources": {}, "f:terminationMessagePath": {},
                            "f:terminationMessagePolicy": {},
                        }},
                        "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                        "f:securityContext": {}, "f:terminationGracePeriodSeconds": {},
                    },
                },
            },
        });
        assert_eq!(
            fields(&out, "kubectl-client-side-apply", "Update").to_string(),
            expected.to_string()
        );
    }

    #[test]
    fn update_after_apply_takes_changed_fields() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "1"})), "applier").unwrap();
        let mut edited = v1.clone();
        edited["data"]["a"] = json!("2");
        let v2 = update(
            "",
            "ConfigMap",
            "v1",
            Some(&v1),
            &edited,
            "kubectl-edit",
            None,
            T2,
        );
        assert_eq!(v2["data"]["a"], "2");
        assert_eq!(paths(&v2, "applier", "Apply"), vec![".data.b"]);
        assert_eq!(paths(&v2, "kubectl-edit", "Update"), vec![".data.a"]);
        assert_eq!(entry(&v2, "kubectl-edit", "Update").unwrap()["time"], T2);
        // The applier now conflicts with the editor on that field.
        let c = conflicts(apply_cm(
            Some(&v2),
            &cm(json!({"a": "1", "b": "1"})),
            "applier",
        ));
        assert_eq!(c[0].manager, "kubectl-edit");
    }

    #[test]
    fn update_removing_a_field_drops_it_from_every_manager() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "1"})), "applier").unwrap();
        let v2 = update(
            "",
            "ConfigMap",
            "v1",
            Some(&v1),
            &cm(json!({"a": "1"})),
            "editor",
            None,
            T2,
        );
        assert_eq!(paths(&v2, "applier", "Apply"), vec![".data.a"]);
        assert!(entry(&v2, "editor", "Update").is_none());
        // The request did not carry managedFields: they come from the old object.
        assert_eq!(entries(&v2).len(), 1);
    }

    #[test]
    fn update_without_changes_records_nothing() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "one",
            None,
            T0,
        );
        let v2 = update("", "ConfigMap", "v1", Some(&v1), &v1, "two", None, T2);
        assert_eq!(v2, v1);
    }

    #[test]
    fn updates_by_one_manager_accumulate() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "m",
            None,
            T0,
        );
        let mut n = v1.clone();
        n["data"]["b"] = json!("2");
        let v2 = update("", "ConfigMap", "v1", Some(&v1), &n, "m", None, T2);
        assert_eq!(entries(&v2).len(), 1);
        assert_eq!(
            paths(&v2, "m", "Update"),
            vec![".data", ".data.a", ".data.b"]
        );
        assert_eq!(entry(&v2, "m", "Update").unwrap()["time"], T2);
    }

    #[test]
    fn update_by_an_appliers_name_takes_from_its_apply_entry() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "1"})), "m").unwrap();
        let mut n = v1.clone();
        n["data"]["a"] = json!("2");
        let v2 = update("", "ConfigMap", "v1", Some(&v1), &n, "m", None, T2);
        let mf = entries(&v2);
        assert_eq!(mf.len(), 2);
        assert_eq!(mf[0]["operation"], "Apply");
        assert_eq!(mf[1]["operation"], "Update");
        assert_eq!(paths(&v2, "m", "Apply"), vec![".data.b"]);
        assert_eq!(paths(&v2, "m", "Update"), vec![".data.a"]);
    }

    #[test]
    fn untracked_objects_stay_untracked_on_update() {
        let old = cm(json!({"a": "1"}));
        let out = update(
            "",
            "ConfigMap",
            "v1",
            Some(&old),
            &cm(json!({"a": "2"})),
            "m",
            None,
            T0,
        );
        assert!(out["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn resetting_managed_fields_clears_them() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "m",
            None,
            T0,
        );
        let mut n = v1.clone();
        n["metadata"]["managedFields"] = json!([{}]);
        let out = update("", "ConfigMap", "v1", Some(&v1), &n, "m", None, T2);
        assert!(out["metadata"].get("managedFields").is_none(), "{out}");
    }

    #[test]
    fn request_managed_fields_replace_the_stored_ones() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "m",
            None,
            T0,
        );
        let mut n = v1.clone();
        n["metadata"]["managedFields"][0]["manager"] = json!("renamed");
        let out = update("", "ConfigMap", "v1", Some(&v1), &n, "m", None, T2);
        assert_eq!(paths(&out, "renamed", "Update"), vec![".data", ".data.a"]);
        assert!(entry(&out, "m", "Update").is_none());
    }

    #[test]
    fn status_updates_record_the_subresource() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]},
        });
        let v1 = update("", "Pod", "v1", None, &pod, "kubectl", None, T0);
        assert!(fields(&v1, "kubectl", "Update").get("f:status").is_none());
        let mut n = v1.clone();
        n["status"]["phase"] = json!("Running");
        n["status"]["conditions"] = json!([
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "True"},
        ]);
        n["status"]["podIPs"] = json!([{"ip": "10.0.0.1"}]);
        let v2 = update(
            "",
            "Pod",
            "v1",
            Some(&v1),
            &n,
            "kubelet",
            Some("status"),
            T1,
        );
        let e = entry(&v2, "kubelet", "Update").unwrap();
        assert_eq!(e["subresource"], "status");
        assert_eq!(
            e["fieldsV1"].to_string(),
            json!({"f:status": {
                "f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}, "f:type": {}}},
                "f:phase": {},
                "f:podIPs": {".": {}, "k:{\"ip\":\"10.0.0.1\"}": {".": {}, "f:ip": {}}},
            }})
            .to_string()
        );
    }

    #[test]
    fn owner_references_are_owned_per_element() {
        let v1 = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"a": "1"})),
            "m",
            None,
            T0,
        );
        let mut n = v1.clone();
        n["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u1"}]);
        let v2 = update("", "ConfigMap", "v1", Some(&v1), &n, "gc", None, T1);
        assert_eq!(
            fields(&v2, "gc", "Update").to_string(),
            r#"{"f:metadata":{"f:ownerReferences":{".":{},"k:{\"uid\":\"u1\"}":{}}}}"#
        );
    }

    #[test]
    fn many_updaters_are_folded_into_ancient_changes() {
        let mut obj = update(
            "",
            "ConfigMap",
            "v1",
            None,
            &cm(json!({"k0": "v"})),
            "m0",
            None,
            T0,
        );
        for i in 1..=MAX_UPDATE_MANAGERS {
            let mut n = obj.clone();
            n["data"][format!("k{i}")] = json!("v");
            let time = format!("2024-01-01T00:{i:02}:00Z");
            obj = update(
                "",
                "ConfigMap",
                "v1",
                Some(&obj),
                &n,
                &format!("m{i}"),
                None,
                &time,
            );
        }
        let mf = entries(&obj);
        assert_eq!(mf.len(), MAX_UPDATE_MANAGERS);
        let ancient = entry(&obj, ANCIENT_CHANGES, "Update").unwrap();
        assert_eq!(ancient["time"], "2024-01-01T00:01:00Z");
        assert_eq!(
            paths(&obj, ANCIENT_CHANGES, "Update"),
            vec![".data", ".data.k0", ".data.k1"]
        );
        assert!(entry(&obj, "m0", "Update").is_none() && entry(&obj, "m1", "Update").is_none());
    }

    // ----- before-first-apply and client-side apply ---------------------------------------

    #[test]
    fn first_apply_to_an_untracked_object_conflicts_with_before_first_apply() {
        let old = cm(json!({"a": "1"}));
        let c = conflicts(apply_cm(Some(&old), &cm(json!({"a": "2"})), "m"));
        assert_eq!(c[0].manager, BEFORE_FIRST_APPLY);
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.a"
        );
        let out = apply(
            "",
            "ConfigMap",
            "v1",
            Some(&old),
            &cm(json!({"a": "2"})),
            "m",
            true,
            T1,
        )
        .unwrap();
        assert_eq!(paths(&out, "m", "Apply"), vec![".data.a"]);
        assert_eq!(paths(&out, BEFORE_FIRST_APPLY, "Update"), vec![".data"]);
    }

    fn client_side_applied(replicas: i64, live_replicas: i64) -> Value {
        let config = nginx(replicas, "nginx:1");
        let mut live = config.clone();
        live["metadata"]["annotations"] =
            json!({LAST_APPLIED_ANNOTATION: sorted(&config).to_string() + "\n"});
        let v1 = update(
            "apps",
            "Deployment",
            "apps/v1",
            None,
            &live,
            CLIENT_SIDE_APPLY_MANAGER,
            None,
            T0,
        );
        if live_replicas == replicas {
            return v1;
        }
        let mut scaled = v1.clone();
        scaled["spec"]["replicas"] = json!(live_replicas);
        update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &scaled,
            "kubectl-scale",
            None,
            T1,
        )
    }

    #[test]
    fn kubectl_upgrades_from_client_side_apply_without_conflicts() {
        let live = client_side_applied(3, 3);
        let out = apply_deploy(Some(&live), &nginx(3, "nginx:2"), "kubectl", false).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
        let csa = paths(&out, CLIENT_SIDE_APPLY_MANAGER, "Update");
        assert!(!csa.iter().any(|p| p.ends_with(".image")), "{csa:?}");
        // The annotation follows the applied configuration.
        let last: Value = serde_json::from_str(
            out["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(last, nginx(3, "nginx:2"));
    }

    #[test]
    fn fields_changed_since_client_side_apply_still_conflict() {
        let live = client_side_applied(3, 5);
        let c = conflicts(apply_deploy(
            Some(&live),
            &nginx(3, "nginx:2"),
            "kubectl",
            false,
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].manager, "kubectl-scale");
        assert_eq!(c[0].field_path, ".spec.replicas");
    }

    #[test]
    fn other_managers_do_not_get_the_upgrade() {
        let live = client_side_applied(3, 3);
        let c = conflicts(apply_deploy(
            Some(&live),
            &nginx(3, "nginx:2"),
            "my-manager",
            false,
        ));
        assert_eq!(c[0].manager, CLIENT_SIDE_APPLY_MANAGER);
    }

    // ----- fieldsV1 -------------------------------------------------------------------------

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

    #[test]
    fn pod_create_does_not_mark_always_present_structs() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "generateName": "p-"},
            "spec": {"containers": [{"name": "c", "image": "i"}], "nodeSelector": {"a": "b"}},
        });
        let out = update("", "Pod", "v1", None, &pod, "kubectl-run", None, T0);
        assert_eq!(
            fields(&out, "kubectl-run", "Update").to_string(),
            json!({
                "f:metadata": {"f:generateName": {}},
                "f:spec": {
                    "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}},
                    "f:nodeSelector": {},
                },
            })
            .to_string()
        );
    }

    #[test]
    fn dropping_nested_maps_removes_the_emptied_parents() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"limits": {"cpu": "1"}});
        let v1 = apply_deploy(None, &d, "m", false).unwrap();
        // Another writer adds a request the applier never owned.
        let mut edited = v1.clone();
        edited["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] =
            json!({"memory": "1Gi"});
        let v2 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &edited,
            "editor",
            None,
            T1,
        );
        let v3 = apply_deploy(Some(&v2), &nginx(1, "nginx"), "m", false).unwrap();
        assert_eq!(
            v3["spec"]["template"]["spec"]["containers"][0]["resources"],
            json!({"requests": {"memory": "1Gi"}})
        );
        // Without the other writer the whole `resources` map goes.
        let v5 = apply_deploy(Some(&v1), &nginx(1, "nginx"), "m", false).unwrap();
        assert!(v5["spec"]["template"]["spec"]["containers"][0]
            .get("resources")
            .is_none());
    }

    #[test]
    fn applying_to_the_status_subresource_tracks_only_status() {
        let d = apply_deploy(None, &nginx(1, "nginx"), "kubectl", false).unwrap();
        let mut st = nginx(1, "other");
        st["status"] = json!({"replicas": 1});
        let out = apply_subresource(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&d),
            &st,
            "ctrl",
            Some("status"),
            false,
            T1,
        )
        .unwrap();
        let e = entry(&out, "ctrl", "Apply").unwrap();
        assert_eq!(e["subresource"], "status");
        assert_eq!(
            e["fieldsV1"].to_string(),
            r#"{"f:status":{"f:replicas":{}}}"#
        );
    }

    #[test]
    fn custom_resource_maps_are_granular() {
        let cr = |spec: Value| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                   "spec": spec})
        };
        let v1 = apply(
            "example.com",
            "Widget",
            "example.com/v1",
            None,
            &cr(json!({"selector": {"a": "1"}})),
            "one",
            false,
            T0,
        )
        .unwrap();
        let v2 = apply(
            "example.com",
            "Widget",
            "example.com/v1",
            Some(&v1),
            &cr(json!({"selector": {"b": "2"}})),
            "two",
            false,
            T1,
        )
        .unwrap();
        assert_eq!(v2["spec"]["selector"], json!({"a": "1", "b": "2"}));
    }

    #[test]
    fn label_selectors_are_atomic() {
        let v1 = apply_deploy(None, &nginx(1, "nginx"), "one", false).unwrap();
        let mut d = nginx(1, "nginx");
        d["spec"]["selector"] = json!({"matchLabels": {"app": "nginx", "tier": "web"}});
        let c = conflicts(apply_deploy(Some(&v1), &d, "two", false));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field_path, ".spec.selector");
    }

    #[test]
    fn a_no_op_apply_by_a_new_manager_is_not_stamped() {
        let v1 = apply_cm(None, &cm(json!({"a": "1"})), "one").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"a": "1"})), "two").unwrap();
        let e = entry(&v2, "two", "Apply").unwrap();
        assert!(e.get("time").is_none(), "{e}");
        assert_eq!(paths(&v2, "two", "Apply"), vec![".data.a"]);
    }

    #[test]
    fn last_applied_of_another_version_does_not_upgrade() {
        let mut live = client_side_applied(3, 3);
        let mut config = nginx(3, "nginx:1");
        config["apiVersion"] = json!("apps/v1beta2");
        live["metadata"]["annotations"][LAST_APPLIED_ANNOTATION] = json!(config.to_string());
        let c = conflicts(apply_deploy(
            Some(&live),
            &nginx(3, "nginx:2"),
            "kubectl",
            false,
        ));
        assert_eq!(c[0].manager, CLIENT_SIDE_APPLY_MANAGER);
    }

    #[test]
    fn empty_maps_and_keyed_lists_in_the_config_own_nothing() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["securityContext"] = json!({});
        d["spec"]["template"]["spec"]["volumes"] = json!([]);
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!([]);
        let out = apply_deploy(None, &d, "m", false).unwrap();
        let f = &fields(&out, "m", "Apply")["f:spec"]["f:template"]["f:spec"];
        assert!(f.get("f:securityContext").is_none() && f.get("f:volumes").is_none());
        assert_eq!(
            f["f:containers"]["k:{\"name\":\"nginx\"}"]["f:args"],
            json!({})
        );
    }

    #[test]
    fn apply_rejects_another_version() {
        let mut d = nginx(1, "nginx");
        d["apiVersion"] = json!("apps/v1beta1");
        assert_eq!(
            apply_deploy(None, &d, "m", false).unwrap_err().to_string(),
            "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, \
             expected: apps/v1"
        );
    }

    #[test]
    fn an_element_another_manager_changed_survives_the_applier_dropping_it() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "nginx", "image": "nginx"}, {"name": "side", "image": "s:1"}]);
        let v1 = apply_deploy(None, &d, "m", false).unwrap();
        let mut edited = v1.clone();
        edited["spec"]["template"]["spec"]["containers"][1]["image"] = json!("s:2");
        let v2 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &edited,
            "editor",
            None,
            T1,
        );
        let v3 = apply_deploy(Some(&v2), &nginx(1, "nginx"), "m", false).unwrap();
        // The sidecar stays with what the editor owns, its key included.
        assert_eq!(
            v3["spec"]["template"]["spec"]["containers"],
            json!([{"name": "nginx", "image": "nginx"}, {"name": "side", "image": "s:2"}])
        );
        assert_eq!(
            paths(&v3, "editor", "Update"),
            vec![".spec.template.spec.containers[name=\"side\"].image"]
        );
    }

    #[test]
    fn update_removing_an_element_drops_it_from_every_manager() {
        let mut d = nginx(1, "nginx");
        d["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "nginx", "image": "nginx"}, {"name": "side", "image": "s:1"}]);
        let v1 = apply_deploy(None, &d, "m", false).unwrap();
        let v2 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &without_managed_fields(&apply_deploy(None, &nginx(1, "nginx"), "x", false).unwrap()),
            "editor",
            None,
            T1,
        );
        let m = paths(&v2, "m", "Apply");
        assert!(!m.iter().any(|p| p.contains("side")), "{m:?}");
        assert!(entry(&v2, "editor", "Update").is_none());
    }

    #[test]
    fn dropping_a_set_element_removes_it() {
        let mut c = cm(json!({"a": "1"}));
        c["metadata"]["finalizers"] = json!(["x", "y"]);
        let v1 = apply_cm(None, &c, "m").unwrap();
        c["metadata"]["finalizers"] = json!(["y"]);
        let v2 = apply_cm(Some(&v1), &c, "m").unwrap();
        assert_eq!(v2["metadata"]["finalizers"], json!(["y"]));
        c["metadata"].as_object_mut().unwrap().remove("finalizers");
        let v3 = apply_cm(Some(&v2), &c, "m").unwrap();
        assert!(v3["metadata"].get("finalizers").is_none(), "{v3}");
    }

    #[test]
    fn a_deployments_life() {
        // kubectl apply --server-side creates it.
        let v1 = apply_deploy(None, &nginx(3, "nginx:1"), "kubectl", false).unwrap();
        // The controller writes status through the subresource.
        let mut st = v1.clone();
        st["status"] =
            json!({"replicas": 3, "conditions": [{"type": "Available", "status": "True"}]});
        let v2 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v1),
            &st,
            "kube-controller-manager",
            Some("status"),
            T1,
        );
        assert_eq!(
            paths(&v2, "kube-controller-manager", "Update"),
            vec![
                ".status.conditions",
                ".status.replicas",
                ".status.conditions[type=\"Available\"]",
                ".status.conditions[type=\"Available\"].status",
                ".status.conditions[type=\"Available\"].type",
            ]
        );
        // A new image applies without conflict, status untouched.
        let v3 = apply_deploy(Some(&v2), &nginx(3, "nginx:2"), "kubectl", false).unwrap();
        assert_eq!(v3["status"]["replicas"], 3);
        // An autoscaler scales; the next apply of replicas conflicts with it.
        let mut scaled = v3.clone();
        scaled["spec"]["replicas"] = json!(7);
        let v4 = update(
            "apps",
            "Deployment",
            "apps/v1",
            Some(&v3),
            &scaled,
            "hpa",
            Some("scale"),
            T2,
        );
        let c = conflicts(apply_deploy(
            Some(&v4),
            &nginx(3, "nginx:2"),
            "kubectl",
            false,
        ));
        assert_eq!(
            conflict_message("", &c),
            "Apply failed with 1 conflict: conflict with \"hpa\" with subresource \"scale\" using apps/v1: .spec.replicas"
        );
        // Dropping replicas from the manifest leaves the autoscaler's value.
        let mut no_replicas = nginx(3, "nginx:2");
        no_replicas["spec"]
            .as_object_mut()
            .unwrap()
            .remove("replicas");
        let v5 = apply_deploy(Some(&v4), &no_replicas, "kubectl", false).unwrap();
        assert_eq!(v5["spec"]["replicas"], 7);
        assert_eq!(entries(&v5).len(), 3);
    }
}
