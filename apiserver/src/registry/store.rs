//! The one generic store: every kind is created, read, updated and deleted here through its
//! strategy, and every read-modify-write goes through `guaranteed_update`. Keys come from
//! `storage.rs`; this module never builds one.

use api_types::managed;
use api_types::resources::{storage_of, ResourceInfo};
use serde_json::{json, Map, Value};

use super::kinds::strategy_of;
use super::strategy::{CreateStatus, Strategy};
use super::subresource::{self, SubresourceStrategy};
use crate::admission::{self, Attributes, Operation, UserInfo};
use crate::error::{ApiError, ApiResult};
use crate::object::{meta_str, metadata_mut, now_rfc3339, set_resource_version};
use crate::storage::{StoredKv, WriteOutcome};
use crate::AppState;

/// The store of one resource, seen from one request (its version and namespace).
pub struct Store<'a> {
    pub st: &'a AppState,
    /// The resource as requested (its version may differ from the stored one).
    pub info: &'static ResourceInfo,
    /// The resource whose storage holds the objects.
    pub sinfo: &'static ResourceInfo,
    pub strategy: &'static Strategy,
    /// The request's namespace, for namespaced resources.
    pub namespace: Option<&'a str>,
}

/// What a write carries besides the object.
#[derive(Default, Clone, Copy)]
pub struct WriteOptions<'a> {
    pub dry_run: bool,
    /// The manager whose ownership this write records; `None` when the caller recorded it
    /// (server-side apply).
    pub manager: Option<&'a str>,
    pub subresource: Option<&'a str>,
    /// Who writes; filled once authentication exists.
    pub user: Option<&'a UserInfo>,
}

/// What a `guaranteed_update` closure decided for the object it was shown.
pub enum Decision {
    /// Store this version (its resourceVersion set to the one read). An object being deleted
    /// whose finalizers are all gone is removed instead.
    Write(Value),
    /// Nothing to write; answer with this.
    Unchanged(Value),
    /// Remove the object; answer with this.
    Remove(Value),
    /// The object is missing: create this (prepared with `prepare_create`).
    Create(Value),
}

/// The outcome of a write: the HTTP code (200 or 201) and the object as stored.
pub type Written = (u16, Value);

impl<'a> Store<'a> {
    pub fn new(st: &'a AppState, info: &'static ResourceInfo, namespace: Option<&'a str>) -> Self {
        let sinfo = storage_of(info);
        Store {
            st,
            info,
            sinfo,
            strategy: strategy_of(info),
            namespace: if sinfo.namespaced { namespace } else { None },
        }
    }

    /// The etcd key of `name`, as storage lays keys out.
    pub fn key(&self, name: &str) -> String {
        self.st
            .storage
            .object_key(self.sinfo.plural, self.namespace, name)
    }

    fn context(&self) -> admission::Context<'_> {
        admission::Context {
            cache: &self.st.cache,
            services: &self.st.service_allocator,
        }
    }

    fn attributes<'b>(
        &'b self,
        operation: Operation,
        name: &'b str,
        old: Option<&'b Value>,
        opts: &'b WriteOptions,
    ) -> Attributes<'b> {
        Attributes {
            operation,
            resource: self.info,
            subresource: opts.subresource,
            namespace: self.namespace,
            name,
            old,
            dry_run: opts.dry_run,
            user: opts.user,
        }
    }

    /// Reads one object (storage version, resourceVersion set).
    pub async fn get(&self, name: &str) -> ApiResult<Value> {
        match self
            .st
            .storage
            .get(&self.key(name), self.sinfo.plural)
            .await?
        {
            Some(kv) => decode_stored(&kv),
            None => Err(ApiError::not_found(self.info, name)),
        }
    }

    /// Reads one object from the watch cache (a read at `resourceVersion=0`: any version will
    /// do).
    pub fn get_cached(&self, name: &str) -> ApiResult<Value> {
        let rc = self
            .st
            .cache
            .resource(self.sinfo.plural)
            .expect("every storage resource is cached");
        let rel = match self.namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        };
        match rc.get(&rel) {
            Some(o) => Ok(o.value()),
            None => Err(ApiError::not_found(self.info, name)),
        }
    }

    /// Records `manager`'s ownership of what this write changed in `new`'s managedFields.
    pub fn track(
        &self,
        old: Option<&Value>,
        new: &Value,
        manager: &str,
        subresource: Option<&str>,
    ) -> Value {
        managed::update(
            self.sinfo.group,
            self.sinfo.kind,
            &self.sinfo.api_version(),
            old,
            new,
            manager,
            subresource,
            &now_rfc3339(),
        )
    }

    // ----- create ----------------------------------------------------------------------------

    /// Sets what the server owns in a new object's metadata and status (upstream's
    /// `BeforeCreate` with the kind's `PrepareForCreate`).
    fn prepare_metadata(&self, obj: &mut Value) -> ApiResult<()> {
        let meta = metadata_mut(obj).expect("typed objects are JSON objects");
        match (self.namespace, meta.get("namespace").and_then(Value::as_str)) {
            (Some(ns), Some(body_ns)) if !body_ns.is_empty() && body_ns != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            (Some(ns), _) => {
                meta.insert("namespace".into(), Value::String(ns.to_string()));
            }
            (None, _) => {}
        }
        let has_name = meta
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if !has_name {
            if let Some(base) = meta.get("generateName").and_then(Value::as_str) {
                if !base.is_empty() {
                    let name = generated_name(base);
                    meta.insert("name".into(), Value::String(name));
                }
            }
        }
        meta.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        meta.insert("creationTimestamp".into(), Value::String(now_rfc3339()));
        for k in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta.remove(k);
        }
        if self.strategy.tracks_generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        let map = obj.as_object_mut().expect("typed objects are JSON objects");
        match self.strategy.create_status {
            CreateStatus::Keep => {}
            CreateStatus::Reset => {
                map.remove("status");
            }
            CreateStatus::Initial(status) => {
                let s = status(map);
                map.insert("status".into(), s);
            }
        }
        (self.strategy.prepare_for_create)(map);
        Ok(())
    }

    /// Everything a create does before the write, in upstream's order: server-owned metadata,
    /// defaults, managedFields, mutating admission, the kind's validation, validating
    /// admission.
    pub fn prepare_create(&self, mut obj: Value, opts: &WriteOptions) -> ApiResult<Value> {
        self.prepare_metadata(&mut obj)?;
        (self.strategy.defaults)(self.sinfo, &mut obj);
        if let Some(m) = opts.manager {
            obj = self.track(None, &obj, m, opts.subresource);
        }
        let name = meta_str(&obj, "name").unwrap_or("").to_string();
        let ctx = self.context();
        let attrs = self.attributes(Operation::Create, &name, None, opts);
        admission::mutate(&ctx, &attrs, Some(&mut obj))?;
        let errs = (self.strategy.validate)(self.sinfo, &obj);
        if !errs.is_empty() {
            return Err(ApiError::invalid(self.info, &name, &errs));
        }
        admission::validate(&ctx, &attrs, Some(&obj))?;
        Ok(obj)
    }

    /// Creates an object (storage version). A generated name that is taken is generated
    /// again, twice at most, as upstream does.
    pub async fn create(&self, obj: Value, opts: &WriteOptions<'_>) -> ApiResult<Value> {
        let mut obj = self.prepare_create(obj, opts)?;
        if opts.dry_run {
            return Ok(obj);
        }
        let generated = meta_str(&obj, "generateName").is_some_and(|g| !g.is_empty());
        for attempt in 0..3 {
            let name = meta_str(&obj, "name").unwrap_or("").to_string();
            match self
                .st
                .storage
                .create(&self.key(&name), stored_bytes(&obj), self.sinfo.plural)
                .await?
            {
                WriteOutcome::Written(rev) => {
                    set_resource_version(&mut obj, rev);
                    return Ok(obj);
                }
                WriteOutcome::Conflict(_) if generated && attempt < 2 => {
                    let base = meta_str(&obj, "generateName").unwrap_or("").to_string();
                    metadata_mut(&mut obj)
                        .expect("objects have metadata")
                        .insert("name".into(), Value::String(generated_name(&base)));
                }
                WriteOutcome::Conflict(_) => {
                    return Err(ApiError::already_exists(self.info, &name))
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    // ----- the one read-modify-write path ----------------------------------------------------

    /// Reads the object, asks `decide` what to do with it (the current object, or `None` when
    /// it is missing), and writes the result on condition that the object has not changed
    /// since it was read; on a conflict, reads and decides again, unless the caller gave a
    /// resourceVersion precondition, which then fails with `409 Conflict`. Update, patch,
    /// apply, scale, status, binding, deletion and finalizer removal all come through here.
    pub async fn guaranteed_update<F>(
        &self,
        name: &str,
        precondition: Option<i64>,
        opts: &WriteOptions<'_>,
        mut decide: F,
    ) -> ApiResult<Written>
    where
        F: FnMut(Option<&Value>) -> ApiResult<Decision>,
    {
        let key = self.key(name);
        // The first guess is the watch cache's copy, as upstream's GuaranteedUpdate does: it
        // saves an etcd read per write, and the write's mod-revision compare catches a stale
        // guess, whose failed transaction returns what etcd holds for the next try. A guess
        // that would fail a precondition, find nothing, change nothing or serve a dry run is
        // checked against etcd first, since only etcd may decide those.
        let mut known: Option<(Option<StoredKv>, bool)> = if opts.dry_run {
            None
        } else {
            self.cached_kv(&key, name).map(|kv| (Some(kv), true))
        };
        loop {
            let (current, guessed) = match known.take() {
                Some(k) => k,
                None => (self.st.storage.get(&key, self.sinfo.plural).await?, false),
            };
            let old = current.as_ref().map(decode_stored).transpose()?;
            if let (Some(want), Some(kv)) = (precondition, &current) {
                if want != kv.mod_revision {
                    if guessed {
                        continue;
                    }
                    return Err(ApiError::modified(self.info, name));
                }
            }
            let decision = match decide(old.as_ref()) {
                // Refusals (a uid precondition, validation against the old object) and
                // no-ops are only final on etcd's copy.
                Err(_) | Ok(Decision::Unchanged(_)) if guessed => continue,
                d => d?,
            };
            let outcome = match (decision, &current) {
                (Decision::Unchanged(obj), _) => return Ok((200, obj)),
                (Decision::Create(obj), None) => {
                    if opts.dry_run {
                        return Ok((201, obj));
                    }
                    let mut obj = obj;
                    match self
                        .st
                        .storage
                        .create(&key, stored_bytes(&obj), self.sinfo.plural)
                        .await?
                    {
                        WriteOutcome::Written(rev) => {
                            set_resource_version(&mut obj, rev);
                            return Ok((201, obj));
                        }
                        // Created meanwhile: decide again on what is there now.
                        WriteOutcome::Conflict(now) => {
                            known = Some((now, false));
                            continue;
                        }
                    }
                }
                (Decision::Create(_), Some(_)) | (_, None) => {
                    return Err(ApiError::not_found(self.info, name))
                }
                (Decision::Write(new), Some(kv)) if ready_to_delete(self.strategy, &new) => {
                    self.write(kv, new, true, opts.dry_run).await?
                }
                (Decision::Write(new), Some(kv)) => {
                    self.write(kv, new, false, opts.dry_run).await?
                }
                (Decision::Remove(obj), Some(kv)) => {
                    self.write(kv, obj, true, opts.dry_run).await?
                }
            };
            match outcome {
                Ok(obj) => return Ok((200, obj)),
                // A stale guess, not the caller's precondition: try again on etcd's copy.
                Err(now) if guessed => known = Some((now, false)),
                Err(_) if precondition.is_some() => {
                    return Err(ApiError::modified(self.info, name))
                }
                Err(now) => known = Some((now, false)),
            }
        }
    }

    /// The watch cache's copy of `name` as etcd would return it (its bytes carry the
    /// resourceVersion, which decoding overwrites with the same value).
    fn cached_kv(&self, key: &str, name: &str) -> Option<StoredKv> {
        let rc = self.st.cache.resource(self.sinfo.plural)?;
        let rel = match self.namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        };
        let o = rc.get(&rel)?;
        Some(StoredKv {
            key: key.as_bytes().to_vec(),
            value: o.json.to_vec(),
            mod_revision: o.rv,
        })
    }

    /// Writes (or removes) over `current` on its mod revision. `Err`: someone else wrote
    /// first, and this is what etcd holds now (`None`: nothing).
    async fn write(
        &self,
        current: &StoredKv,
        mut obj: Value,
        remove: bool,
        dry_run: bool,
    ) -> ApiResult<Result<Value, Option<StoredKv>>> {
        if dry_run {
            return Ok(Ok(obj));
        }
        let key = String::from_utf8_lossy(&current.key).into_owned();
        let outcome = if remove {
            self.st
                .storage
                .delete(&key, current.mod_revision, self.sinfo.plural)
                .await?
        } else {
            self.st
                .storage
                .update(
                    &key,
                    current.mod_revision,
                    stored_bytes(&obj),
                    self.sinfo.plural,
                )
                .await?
        };
        match outcome {
            WriteOutcome::Written(rev) if !remove => {
                set_resource_version(&mut obj, rev);
                Ok(Ok(obj))
            }
            WriteOutcome::Written(_) => Ok(Ok(obj)),
            WriteOutcome::Conflict(now) => Ok(Err(now)),
        }
    }

    /// The decision for an update of `old` to `new` through a subresource (or the main
    /// resource): the strategy's merge and defaults, the writer's managedFields, mutating
    /// admission, the kind's update validation, validating admission.
    pub fn update_decision(
        &self,
        sub: &SubresourceStrategy,
        old: &Value,
        new: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Decision> {
        let mut new = subresource::prepare_for_update(self.strategy, sub, self.sinfo, old, new);
        if let (Some(m), true) = (opts.manager, sub.managed_fields) {
            new = self.track(Some(old), &new, m, opts.subresource);
        }
        let name = meta_str(old, "name").unwrap_or("").to_string();
        let ctx = self.context();
        let attrs = self.attributes(Operation::Update, &name, Some(old), opts);
        admission::mutate(&ctx, &attrs, Some(&mut new))?;
        if sub.validate_update {
            let errs = (self.strategy.validate_update)(self.sinfo, old, &new);
            if !errs.is_empty() {
                return Err(ApiError::invalid(self.info, &name, &errs));
            }
        }
        if let Some(validate) = sub.validate {
            let errs = validate(old, &new);
            if !errs.is_empty() {
                return Err(ApiError::invalid(self.info, &name, &errs));
            }
        }
        admission::validate(&ctx, &attrs, Some(&new))?;
        if let Some(rv) = meta_str(old, "resourceVersion").and_then(|r| r.parse().ok()) {
            set_resource_version(&mut new, rv);
        }
        // Nothing changed: upstream skips the write and returns the object as it is.
        Ok(if &new == old {
            Decision::Unchanged(new)
        } else {
            Decision::Write(new)
        })
    }

    /// Runs delete admission for `name` (NamespaceLifecycle refuses the system namespaces).
    pub fn admit_delete(&self, name: &str, old: &Value, opts: &WriteOptions) -> ApiResult<()> {
        let ctx = self.context();
        let attrs = self.attributes(Operation::Delete, name, Some(old), opts);
        admission::mutate(&ctx, &attrs, None)?;
        admission::validate(&ctx, &attrs, None)
    }
}

/// Whether an object being deleted has nothing left holding it (finalizers, and for pods
/// the grace period the kubelet has).
pub fn ready_to_delete(strategy: &Strategy, obj: &Value) -> bool {
    let deleting = meta_str(obj, "deletionTimestamp").is_some();
    let held = |path: &str| {
        obj.pointer(path)
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
    };
    let grace = obj
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    deleting
        && !held("/metadata/finalizers")
        && !(strategy.spec_finalizers && held("/spec/finalizers"))
        && grace == 0
}

// ----- names and bytes ---------------------------------------------------------------------------

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generated_name(base: &str) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    // Upstream caps the base so the result stays within 63 characters.
    let base: String = base.chars().take(58).collect();
    let suffix: String = (0..5)
        .map(|_| NAME_CHARS[rng.random_range(0..NAME_CHARS.len())] as char)
        .collect();
    format!("{base}{suffix}")
}

/// A stored value with its resourceVersion (the key's mod revision) set.
pub fn decode_stored(kv: &StoredKv) -> ApiResult<Value> {
    let mut v: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object is not valid JSON: {e}")))?;
    set_resource_version(&mut v, kv.mod_revision);
    Ok(v)
}

/// The bytes stored in etcd: the object without `metadata.resourceVersion` (that is the etcd
/// revision, set on the way out), serialized without copying the object first.
pub fn stored_bytes(obj: &Value) -> Vec<u8> {
    use serde::ser::{Serialize, SerializeMap, Serializer};
    struct Skipping<'a>(&'a Map<String, Value>, Option<&'static str>);
    impl Serialize for Skipping<'_> {
        fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            let mut map = ser.serialize_map(None)?;
            for (k, v) in self.0 {
                match (self.1, v) {
                    // At the top level, descend into metadata to drop resourceVersion.
                    (None, Value::Object(meta)) if k == "metadata" => {
                        map.serialize_entry(k, &Skipping(meta, Some("resourceVersion")))?
                    }
                    (Some(skip), _) if k == skip => {}
                    _ => map.serialize_entry(k, v)?,
                }
            }
            map.end()
        }
    }
    match obj {
        Value::Object(top) => serde_json::to_vec(&Skipping(top, None)),
        other => serde_json::to_vec(other),
    }
    .expect("JSON values serialize")
}

/// Converts an object of `info`'s version into its storage version.
pub fn to_storage(info: &ResourceInfo, obj: Value) -> ApiResult<Value> {
    if info.is_storage_version() {
        return Ok(obj);
    }
    let s = storage_of(info);
    api_types::convert::convert(obj, &info.api_version(), &s.api_version())
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Converts a stored object into `info`'s version.
pub fn from_storage(info: &ResourceInfo, obj: Value) -> ApiResult<Value> {
    if info.is_storage_version() {
        return Ok(obj);
    }
    let s = storage_of(info);
    api_types::convert::convert(obj, &s.api_version(), &info.api_version())
        .map_err(|e| ApiError::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bytes_drop_only_the_resource_version() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "7", "labels": {"resourceVersion": "keep"}},
            "data": {"resourceVersion": "keep"}});
        let stored: Value = serde_json::from_slice(&stored_bytes(&obj)).unwrap();
        let mut want = obj.clone();
        want["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        assert_eq!(stored, want);
        // Key order is kept, so unchanged objects store byte-identical values.
        assert_eq!(
            String::from_utf8(stored_bytes(&obj)).unwrap(),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"resourceVersion":"keep"}},"data":{"resourceVersion":"keep"}}"#
        );
    }
}
