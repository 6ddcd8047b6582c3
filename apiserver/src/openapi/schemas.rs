//! The schemas of the OpenAPI documents: every registered kind's from k8s-openapi (through
//! its registration in `registry::kinds`), the list kinds, and upstream's patch strategies.

#[allow(unused_imports)]
use super::*;

/// Registers the schema of a kind with the generator (from its registration); returns its
/// definition name.
pub(super) fn register_kind(
    gen: &mut SchemaGenerator,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<String> {
    crate::registry::kinds::lookup(group, version, kind).map(|k| (k.schema)(gen))
}

/// A group/version/kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Gvk {
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) kind: &'static str,
}

impl Gvk {
    pub(super) fn of(r: &ResourceInfo) -> Gvk {
        Gvk {
            group: r.group,
            version: r.version,
            kind: r.kind,
        }
    }

    pub(super) fn json(self) -> Value {
        json!({"group": self.group, "kind": self.kind, "version": self.version})
    }
}

/// Every definition, refs as `#/definitions/<name>`, and the names each kind is defined under.
pub(super) struct Schemas {
    pub(super) definitions: BTreeMap<String, Value>,
    /// Definition names of kinds (the served kinds and the subresource kinds).
    pub(super) kinds: BTreeMap<Gvk, String>,
    /// Definition names of the served kinds' lists.
    pub(super) lists: BTreeMap<Gvk, String>,
}

impl Schemas {
    pub(super) fn kind(&self, gvk: Gvk) -> &str {
        &self.kinds[&gvk]
    }

    pub(super) fn list(&self, gvk: Gvk) -> &str {
        &self.lists[&gvk]
    }
}

/// The kinds documented: every resource's, and those of their subresources (not the proxied
/// ones, whose options kinds are query parameters rather than bodies).
pub(super) fn all_kinds() -> BTreeSet<Gvk> {
    let mut out = BTreeSet::new();
    for r in RESOURCES {
        out.insert(Gvk::of(r));
        for s in r.subresources.iter().filter(|s| !s.is_proxied()) {
            out.insert(sub_gvk(r, s));
        }
    }
    out
}

/// The kind a subresource reads and writes.
pub(super) fn sub_gvk(r: &ResourceInfo, s: &Subresource) -> Gvk {
    if s.kind.is_empty() {
        Gvk::of(r)
    } else {
        Gvk {
            group: s.group,
            version: s.version,
            kind: s.kind,
        }
    }
}

/// Every group-version served, in table order.
pub(super) fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

pub(super) fn build_schemas() -> Schemas {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
    let mut gen = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.meta_schema = None;
        })
        .into_generator();
    gen.subschema_for::<metav1::DeleteOptions>();
    gen.subschema_for::<metav1::Status>();
    gen.subschema_for::<metav1::Patch>();
    gen.subschema_for::<metav1::ListMeta>();
    gen.subschema_for::<metav1::APIResourceList>();
    gen.subschema_for::<metav1::WatchEvent<k8s_openapi::apimachinery::pkg::runtime::RawExtension>>(
    );

    let mut kinds = BTreeMap::new();
    let mut untyped = Vec::new();
    for gvk in all_kinds() {
        match register_kind(&mut gen, gvk.group, gvk.version, gvk.kind) {
            Some(name) => {
                kinds.insert(gvk, name);
            }
            None => untyped.push(gvk),
        }
    }
    let mut definitions: BTreeMap<String, Value> = gen.take_definitions(true).into_iter().collect();
    for gvk in untyped {
        let name = fallback_definition_name(gvk.group, gvk.version, gvk.kind);
        definitions.insert(
            name.clone(),
            json!({
                "description": format!("{} objects ({}).", gvk.kind, gv_display(gvk.group, gvk.version)),
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
            }),
        );
        kinds.insert(gvk, name);
    }

    let mut lists = BTreeMap::new();
    for r in RESOURCES {
        let gvk = Gvk::of(r);
        let item = &kinds[&gvk];
        let name = format!("{item}List");
        definitions.insert(name.clone(), list_schema(r, item));
        lists.insert(gvk, name);
    }

    for def in definitions.values_mut() {
        fix_schema(def);
    }
    for (name, def) in definitions.iter_mut() {
        upstream_adjustments(name, def);
    }
    for (name, field, strategy, key) in patch_strategies() {
        let Some(prop) = definitions
            .get_mut(name)
            .and_then(|d| d.pointer_mut(&format!("/properties/{field}")))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        prop.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
        if let Some(key) = key {
            prop.insert("x-kubernetes-patch-merge-key".into(), json!(key));
        }
    }

    // The kinds carry the group-version-kinds they are served as.
    let mut gvks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (gvk, name) in &kinds {
        gvks.entry(name.clone()).or_default().push(gvk.json());
    }
    for (gvk, name) in &lists {
        let list_kind = format!("{}List", gvk.kind);
        gvks.entry(name.clone())
            .or_default()
            .push(json!({"group": gvk.group, "kind": list_kind, "version": gvk.version}));
    }
    gvks.entry(meta("Status"))
        .or_default()
        .push(json!({"group": "", "kind": "Status", "version": "v1"}));
    for (group, version) in group_versions() {
        for kind in ["DeleteOptions", "WatchEvent"] {
            gvks.entry(meta(kind))
                .or_default()
                .push(json!({"group": group, "kind": kind, "version": version}));
        }
    }
    for (name, list) in gvks {
        if let Some(Value::Object(def)) = definitions.get_mut(&name) {
            def.insert("x-kubernetes-group-version-kind".into(), Value::Array(list));
        }
    }

    Schemas {
        definitions,
        kinds,
        lists,
    }
}

pub(super) fn gv_display(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

pub(super) fn list_schema(r: &ResourceInfo, item: &str) -> Value {
    json!({
        "description": format!("{}List is a list of {} objects.", r.kind, r.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {
                "description": "The versioned schema of this representation of an object: group/version, or the version alone for the core group.",
                "type": "string",
            },
            "items": {
                "description": format!("The {} in the list.", r.plural),
                "type": "array",
                "items": {"$ref": format!("{REF_PREFIX}{item}")},
            },
            "kind": {
                "description": "The REST resource this object represents, in CamelCase.",
                "type": "string",
            },
            "metadata": {
                "description": "Standard list metadata: resourceVersion and continue token.",
                "$ref": format!("{REF_PREFIX}{}", meta("ListMeta")),
            },
        },
    })
}

/// Keeps the schema within what OpenAPI v2 (and gnostic) can say: one `type`, no
/// `const`/`oneOf`/`anyOf`/`not`, and no `metadata` in `required` (upstream never requires it).
pub(super) fn fix_schema(v: &mut Value) {
    let Value::Object(m) = v else { return };
    if let Some(Value::Array(types)) = m.get("type") {
        let first = types.iter().find(|t| *t != "null").cloned();
        match first {
            Some(t) => m.insert("type".into(), t),
            None => m.remove("type"),
        };
    }
    if let Some(c) = m.remove("const") {
        m.insert("enum".into(), json!([c]));
    }
    for key in ["oneOf", "anyOf", "not", "$schema", "title"] {
        m.remove(key);
    }
    let requires_meta = m
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|req| req.iter().any(|r| r == "metadata"));
    let meta_is_ref = m
        .get("properties")
        .and_then(|p| p.get("metadata"))
        .and_then(|p| p.get("$ref"))
        .and_then(Value::as_str)
        .is_some_and(|r| r.ends_with(".ObjectMeta") || r.ends_with(".ListMeta"));
    if requires_meta && meta_is_ref {
        if let Some(Value::Array(req)) = m.get_mut("required") {
            req.retain(|r| r != "metadata");
        }
    }
    if m.get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        m.remove("required");
    }
    for (key, child) in m.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" => {
                if let Value::Object(props) = child {
                    for p in props.values_mut() {
                        fix_schema(p);
                    }
                }
            }
            "items" | "additionalProperties" => fix_schema(child),
            "allOf" => {
                if let Value::Array(list) = child {
                    for s in list {
                        fix_schema(s);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Where k8s-openapi's schemas differ from upstream's published ones.
pub(super) fn upstream_adjustments(name: &str, def: &mut Value) {
    let Value::Object(m) = def else { return };
    match name {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => {
            m.remove("x-kubernetes-int-or-string");
            m.insert("type".into(), json!("string"));
            m.insert("format".into(), json!("int-or-string"));
        }
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => {
            m.remove("x-kubernetes-int-or-string");
            m.insert("type".into(), json!("string"));
        }
        _ => {}
    }
}

/// Upstream's `patchStrategy`/`patchMergeKey` tags, published as the
/// `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key` extensions that client-side
/// apply reads (they match the server's table in `api_types::strategic`): one
/// `<definition> <field> <strategy> [<merge key>]` a line.
pub(super) const PATCH_STRATEGIES: &str = "
io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta finalizers merge
io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta ownerReferences merge uid
io.k8s.api.core.v1.PodSpec containers merge name
io.k8s.api.core.v1.PodSpec initContainers merge name
io.k8s.api.core.v1.PodSpec ephemeralContainers merge name
io.k8s.api.core.v1.PodSpec volumes merge,retainKeys name
io.k8s.api.core.v1.PodSpec imagePullSecrets merge name
io.k8s.api.core.v1.PodSpec schedulingGates merge name
io.k8s.api.core.v1.PodSpec resourceClaims merge,retainKeys name
io.k8s.api.core.v1.PodSpec hostAliases merge ip
io.k8s.api.core.v1.PodSpec topologySpreadConstraints merge topologyKey
io.k8s.api.core.v1.Container ports merge containerPort
io.k8s.api.core.v1.Container env merge name
io.k8s.api.core.v1.Container volumeMounts merge mountPath
io.k8s.api.core.v1.Container volumeDevices merge devicePath
io.k8s.api.core.v1.EphemeralContainer ports merge containerPort
io.k8s.api.core.v1.EphemeralContainer env merge name
io.k8s.api.core.v1.EphemeralContainer volumeMounts merge mountPath
io.k8s.api.core.v1.EphemeralContainer volumeDevices merge devicePath
io.k8s.api.core.v1.PodStatus conditions merge type
io.k8s.api.core.v1.PodStatus podIPs merge ip
io.k8s.api.core.v1.PodStatus hostIPs merge ip
io.k8s.api.core.v1.PodStatus resourceClaimStatuses merge,retainKeys name
io.k8s.api.core.v1.ServiceSpec ports merge port
io.k8s.api.core.v1.ServiceStatus conditions merge type
io.k8s.api.core.v1.ServiceAccount secrets merge name
io.k8s.api.core.v1.NodeSpec podCIDRs merge
io.k8s.api.core.v1.NodeStatus conditions merge type
io.k8s.api.core.v1.NodeStatus addresses merge type
io.k8s.api.core.v1.NamespaceStatus conditions merge type
io.k8s.api.core.v1.PersistentVolumeClaimStatus conditions merge type
io.k8s.api.core.v1.ReplicationControllerStatus conditions merge type
io.k8s.api.apps.v1.DeploymentSpec strategy retainKeys
io.k8s.api.apps.v1.DeploymentStatus conditions merge type
io.k8s.api.apps.v1.ReplicaSetStatus conditions merge type
io.k8s.api.apps.v1.StatefulSetStatus conditions merge type
io.k8s.api.apps.v1.DaemonSetStatus conditions merge type
io.k8s.api.batch.v1.JobStatus conditions merge type
io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus conditions merge type
io.k8s.api.policy.v1.PodDisruptionBudgetSpec selector replace
io.k8s.api.policy.v1.PodDisruptionBudgetStatus conditions merge type
io.k8s.api.storage.v1.CSINodeSpec drivers merge name
";

/// The entries of [`PATCH_STRATEGIES`]: definition, field, strategy, merge key.
pub(super) fn patch_strategies() -> impl Iterator<
    Item = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ),
> {
    PATCH_STRATEGIES.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        Some((words.next()?, words.next()?, words.next()?, words.next()))
    })
}

/// The definitions `roots` reference, directly or not, roots included.
pub(super) fn closure<'a>(
    defs: &BTreeMap<String, Value>,
    roots: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().map(str::to_string).collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            collect_refs(def, &mut todo);
        }
    }
    seen
}

pub(super) fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "$ref" {
                    if let Some(name) = child.as_str().and_then(|r| r.strip_prefix(REF_PREFIX)) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}
