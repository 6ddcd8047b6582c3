//! What the structure of a kind says about its fields: which lists are associative (and by
//! which keys), sets or atomic, which maps are atomic, and what is never owned.

use serde_json::Value;

use super::fieldset::{path_string, Pe, Set, Trail};
use crate::resources;
use crate::strategic::{field_strategy, Strategy};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ListKind {
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
pub(super) struct Schema<'a> {
    group: &'a str,
    kind: &'a str,
    pub(super) api_version: &'a str,
    /// Whether the kind is in the resource table (custom resources are not).
    builtin: bool,
    /// Top-level fields not tracked through this endpoint.
    ignored: &'static [&'static str],
}

impl<'a> Schema<'a> {
    pub(super) fn new(
        group: &'a str,
        kind: &'a str,
        api_version: &'a str,
        sub: Option<&str>,
    ) -> Self {
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
    pub(super) fn gvk(&self) -> String {
        let version = resources::split_api_version(self.api_version).1;
        format!("{}/{version}, Kind={}", self.group, self.kind)
    }

    /// The set without the fields nobody owns: identity and server-populated metadata,
    /// and the top-level fields this endpoint ignores.
    pub(super) fn owned(&self, mut set: Set) -> Set {
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

    pub(super) fn list_kind(&self, t: &Trail) -> ListKind {
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
    pub(super) fn map_atomic(&self, t: &Trail) -> bool {
        self.builtin && t.at_field() && ATOMIC_MAPS.contains(&t.last_field())
    }

    /// Whether the elements of the associative list at `t` are owned whole.
    pub(super) fn elem_atomic(&self, t: &Trail) -> bool {
        match t.last_field() {
            "ownerReferences" => true,
            "imagePullSecrets" => self.builtin,
            _ => false,
        }
    }

    /// Whether the node at `t` always exists in upstream's typed objects (a struct that is
    /// not a pointer, a list without `omitempty`), so that it is never "added" itself.
    pub(super) fn implicit(&self, t: &Trail) -> bool {
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
    pub(super) fn list_pes(
        &self,
        kind: &ListKind,
        items: &[Value],
    ) -> Result<Option<Vec<Pe>>, String> {
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
    pub(super) fn config_set(&self, v: &Value, t: &mut Trail) -> Result<Set, String> {
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
}
pub(super) fn is_empty_container(v: &Value) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::testing::*;
    use crate::managed::*;
    use serde_json::json;

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
}
