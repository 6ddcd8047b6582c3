//! Server-side apply: merging an applied configuration into the live object, removing what
//! the applier dropped, detecting conflicts and recording the applier's `Apply` entry.

use serde_json::Value;

use super::conflicts::{ApplyError, Conflict};
use super::entries::{
    cap_update_entries, decode_entries, set_managed_fields, strip_config_nulls,
    update_last_applied, without_managed_fields, Entry,
};
use super::fieldset::{path_string, Pe, Set, Trail};
use super::schema::{is_empty_container, ListKind, Schema};
use super::update::Comparison;
use super::{Obj, APPLY, BEFORE_FIRST_APPLY, KUBECTL, LAST_APPLIED_ANNOTATION, UPDATE};

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

impl Schema<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::testing::*;
    use crate::managed::*;
    use serde_json::json;

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

    #[test]
    fn null_in_the_config_removes_the_field_and_keeps_ownership() {
        let v1 = apply_cm(None, &cm(json!({"a": "1", "b": "2"})), "m").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"a": "1", "b": null})), "m").unwrap();
        assert_eq!(v2["data"], json!({"a": "1"}));
        assert_eq!(paths(&v2, "m", "Apply"), vec![".data.a", ".data.b"]);
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
    fn a_no_op_apply_by_a_new_manager_is_not_stamped() {
        let v1 = apply_cm(None, &cm(json!({"a": "1"})), "one").unwrap();
        let v2 = apply_cm(Some(&v1), &cm(json!({"a": "1"})), "two").unwrap();
        let e = entry(&v2, "two", "Apply").unwrap();
        assert!(e.get("time").is_none(), "{e}");
        assert_eq!(paths(&v2, "two", "Apply"), vec![".data.a"]);
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
}
