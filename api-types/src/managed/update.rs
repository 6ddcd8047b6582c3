//! Ordinary writes (create, update, non-apply patch): what changed between the old and the new
//! object, and how that moves field ownership to the writer's `Update` entry.

use serde_json::Value;

use super::entries::{
    cap_update_entries, decode_entries, is_reset, set_managed_fields, without_managed_fields, Entry,
};
use super::fieldset::{Set, Trail};
use super::schema::{ListKind, Schema};
use super::{Obj, UPDATE};

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

impl Schema<'_> {
    /// Records what changed from `old` to `new` at `t`.
    pub(super) fn compare(
        &self,
        old: Option<&Value>,
        new: Option<&Value>,
        t: &mut Trail,
        c: &mut Comparison,
    ) {
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
}
#[derive(Debug, Default)]
pub(super) struct Comparison {
    pub(super) added: Set,
    pub(super) modified: Set,
    pub(super) removed: Set,
}

impl Comparison {
    pub(super) fn changed(&self) -> Set {
        let mut s = self.added.clone();
        s.union_with(&self.modified);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::testing::*;
    use crate::managed::*;
    use serde_json::json;

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
}
