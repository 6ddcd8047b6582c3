//! The table of every built-in resource the apiserver serves: group, version, kind, names,
//! scope, verbs, subresources, selectable fields and the storage resource that holds it.

use serde_json::Value;

/// The verbs of an ordinary CRUD resource, in the order discovery lists them.
pub const STANDARD_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Verbs of a subresource that can be read and replaced (`status`, `scale`).
pub const GET_UPDATE_PATCH: &[&str] = &["get", "patch", "update"];
/// Verbs of a create-only subresource (`binding`, `eviction`).
pub const CREATE_ONLY: &[&str] = &["create"];

/// A subresource served under `<resource>/<name>/<subresource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    pub name: &'static str,
    /// The kind the subresource reads and writes (`Pod` for `pods/status`, `Binding` for
    /// `pods/binding`, `Scale` in `autoscaling/v1` for `*/scale`).
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub verbs: &'static [&'static str],
}

/// One resource at one group/version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group; empty for the core (legacy) group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    pub verbs: &'static [&'static str],
    pub subresources: &'static [Subresource],
    pub categories: &'static [&'static str],
    /// Fields, besides `metadata.name` and `metadata.namespace`, that field selectors accept.
    pub selectable_fields: &'static [&'static str],
    /// The resource whose storage holds this one's objects (`events` for
    /// `events.k8s.io/v1` events, which share storage with core/v1 events). Objects are
    /// stored at the storage resource's `(storage_group, storage_version)`.
    pub storage_group: &'static str,
    pub storage_version: &'static str,
    pub storage_plural: &'static str,
}

impl Subresource {
    /// Whether the apiserver serves this subresource by proxying to a kubelet, pod or service
    /// endpoint (upstream's `connect` subresources) rather than from storage.
    pub fn is_proxied(&self) -> bool {
        matches!(
            self.name,
            "log" | "exec" | "attach" | "portforward" | "proxy"
        )
    }
}

impl ResourceInfo {
    /// `apiVersion` as written in objects: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The kind of this resource's lists, e.g. `PodList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// `pods` or `deployments.apps`, as upstream names a resource in messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    pub fn has_status(&self) -> bool {
        self.subresource("status").is_some()
    }

    pub fn supports_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Whether this entry is the storage version of its resource (objects are stored as it).
    pub fn is_storage_version(&self) -> bool {
        self.group == self.storage_group
            && self.version == self.storage_version
            && self.plural == self.storage_plural
    }

    /// Whether `field` may be used in a field selector on this resource.
    pub fn field_is_selectable(&self, field: &str) -> bool {
        field == "metadata.name"
            || (field == "metadata.namespace" && self.namespaced)
            || self.selectable_fields.contains(&field)
    }

    /// The value a field selector compares for `field`: the JSON value at the dotted path,
    /// rendered as upstream renders it (booleans as `true`/`false`, missing as empty).
    pub fn field_value(&self, obj: &Value, field: &str) -> String {
        field_value(obj, field)
    }
}

/// Reads the value at a dotted path (`spec.nodeName`) as the string field selectors compare.
pub fn field_value(obj: &Value, path: &str) -> String {
    let mut cur = obj;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const fn status() -> Subresource {
    sub("status")
}

const fn sub(name: &'static str) -> Subresource {
    Subresource {
        name,
        kind: "",
        group: "",
        version: "",
        verbs: GET_UPDATE_PATCH,
    }
}

const fn scale() -> Subresource {
    Subresource {
        name: "scale",
        kind: "Scale",
        group: "autoscaling",
        version: "v1",
        verbs: GET_UPDATE_PATCH,
    }
}

/// Verbs of the streaming subresources a client upgrades (`pods/exec`, `pods/attach`,
/// `pods/portforward`): upstream's `connect` verbs, GET and POST.
pub const CONNECT: &[&str] = &["create", "get"];
/// Verbs of the proxy subresources, which pass any method through.
pub const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

/// A subresource served by proxying to a node or pod rather than from storage; its kind is the
/// options kind upstream names in discovery (`PodExecOptions`), empty version and group.
const fn connect(
    name: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    Subresource {
        name,
        kind,
        group: "",
        version: "",
        verbs,
    }
}

// Alphabetical, as upstream's discovery lists them.
const POD_SUBRESOURCES: &[Subresource] = &[
    connect("attach", "PodAttachOptions", CONNECT),
    Subresource {
        name: "binding",
        kind: "Binding",
        group: "",
        version: "v1",
        verbs: CREATE_ONLY,
    },
    sub("ephemeralcontainers"),
    connect("exec", "PodExecOptions", CONNECT),
    // The log is plain text read from the kubelet; discovery names the pod's kind.
    connect("log", "", &["get"]),
    connect("portforward", "PodPortForwardOptions", CONNECT),
    connect("proxy", "PodProxyOptions", PROXY),
    status(),
];
const NODE_SUBRESOURCES: &[Subresource] = &[connect("proxy", "NodeProxyOptions", PROXY), status()];
const SERVICE_SUBRESOURCES: &[Subresource] =
    &[connect("proxy", "ServiceProxyOptions", PROXY), status()];
const STATUS_ONLY: &[Subresource] = &[status()];
const STATUS_SCALE: &[Subresource] = &[scale(), status()];
const NAMESPACE_SUBRESOURCES: &[Subresource] = &[
    Subresource {
        name: "finalize",
        kind: "",
        group: "",
        version: "",
        verbs: &["update"],
    },
    status(),
];
const CSR_SUBRESOURCES: &[Subresource] = &[
    Subresource {
        name: "approval",
        kind: "",
        group: "",
        version: "",
        verbs: GET_UPDATE_PATCH,
    },
    status(),
];
const NONE: &[Subresource] = &[];
const ALL: &[&str] = &["all"];
const NO_CATEGORIES: &[&str] = &[];

/// Builds an entry whose storage is itself; `with_storage` redirects it.
#[allow(clippy::too_many_arguments)]
const fn r(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    short_names: &'static [&'static str],
    namespaced: bool,
    subresources: &'static [Subresource],
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        kind,
        plural,
        singular,
        short_names,
        namespaced,
        verbs: STANDARD_VERBS,
        subresources,
        categories: NO_CATEGORIES,
        selectable_fields: &[],
        storage_group: group,
        storage_version: version,
        storage_plural: plural,
    }
}

impl ResourceInfo {
    const fn categories(mut self, c: &'static [&'static str]) -> Self {
        self.categories = c;
        self
    }
    const fn verbs(mut self, v: &'static [&'static str]) -> Self {
        self.verbs = v;
        self
    }
    const fn fields(mut self, f: &'static [&'static str]) -> Self {
        self.selectable_fields = f;
        self
    }
    const fn stored_as(
        mut self,
        group: &'static str,
        version: &'static str,
        plural: &'static str,
    ) -> Self {
        self.storage_group = group;
        self.storage_version = version;
        self.storage_plural = plural;
        self
    }
}

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

const EVENTS_V1_FIELDS: &[&str] = &[
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "type",
];

/// Every resource served, grouped by group/version in discovery order. The first
/// version listed for a group is its preferred version.
#[rustfmt::skip]
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    r("", "v1", "Binding", "bindings", "binding", &[], true, NONE).verbs(CREATE_ONLY),
    r("", "v1", "ConfigMap", "configmaps", "configmap", &["cm"], true, NONE),
    r("", "v1", "Endpoints", "endpoints", "endpoints", &["ep"], true, NONE),
    r("", "v1", "Event", "events", "event", &["ev"], true, NONE).fields(EVENT_FIELDS),
    r("", "v1", "LimitRange", "limitranges", "limitrange", &["limits"], true, NONE),
    r("", "v1", "Namespace", "namespaces", "namespace", &["ns"], false, NAMESPACE_SUBRESOURCES)
        .fields(&["status.phase"]),
    r("", "v1", "Node", "nodes", "node", &["no"], false, NODE_SUBRESOURCES)
        .fields(&["spec.unschedulable"]),
    r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", &["pvc"], true, STATUS_ONLY),
    r("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", &["pv"], false, STATUS_ONLY),
    r("", "v1", "Pod", "pods", "pod", &["po"], true, POD_SUBRESOURCES)
        .categories(ALL)
        .fields(&[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]),
    r("", "v1", "PodTemplate", "podtemplates", "podtemplate", &[], true, NONE),
    r("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", &["rc"], true, STATUS_SCALE)
        .categories(ALL)
        .fields(&["status.replicas"]),
    r("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", &["quota"], true, STATUS_ONLY),
    r("", "v1", "Secret", "secrets", "secret", &[], true, NONE).fields(&["type"]),
    r("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", &["sa"], true, NONE),
    r("", "v1", "Service", "services", "service", &["svc"], true, SERVICE_SUBRESOURCES).categories(ALL),
    // apps/v1
    r("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", &[], true, NONE),
    r("apps", "v1", "DaemonSet", "daemonsets", "daemonset", &["ds"], true, STATUS_ONLY).categories(ALL),
    r("apps", "v1", "Deployment", "deployments", "deployment", &["deploy"], true, STATUS_SCALE).categories(ALL),
    r("apps", "v1", "ReplicaSet", "replicasets", "replicaset", &["rs"], true, STATUS_SCALE)
        .categories(ALL)
        .fields(&["status.replicas"]),
    r("apps", "v1", "StatefulSet", "statefulsets", "statefulset", &["sts"], true, STATUS_SCALE).categories(ALL),
    // autoscaling: v2 is preferred and is what is stored; v1 is converted on the way in and out.
    r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", &["hpa"], true, STATUS_ONLY)
        .categories(ALL),
    r("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", &["hpa"], true, STATUS_ONLY)
        .categories(ALL)
        .stored_as("autoscaling", "v2", "horizontalpodautoscalers"),
    // batch/v1
    r("batch", "v1", "CronJob", "cronjobs", "cronjob", &["cj"], true, STATUS_ONLY).categories(ALL),
    r("batch", "v1", "Job", "jobs", "job", &[], true, STATUS_ONLY)
        .categories(ALL)
        .fields(&["status.successful"]),
    // certificates.k8s.io/v1
    r("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", "certificatesigningrequest", &["csr"], false, CSR_SUBRESOURCES)
        .fields(&["spec.signerName"]),
    // coordination.k8s.io/v1
    r("coordination.k8s.io", "v1", "Lease", "leases", "lease", &[], true, NONE),
    // discovery.k8s.io/v1
    r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", &[], true, NONE),
    // events.k8s.io/v1 shares storage with core/v1 events.
    r("events.k8s.io", "v1", "Event", "events", "event", &["ev"], true, NONE)
        .fields(EVENTS_V1_FIELDS)
        .stored_as("", "v1", "events"),
    // networking.k8s.io/v1
    r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", &[], false, NONE),
    r("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", &["ing"], true, STATUS_ONLY),
    r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", &["netpol"], true, NONE),
    // policy/v1
    r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", &["pdb"], true, STATUS_ONLY),
    // rbac.authorization.k8s.io/v1
    r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", &[], false, NONE),
    r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", &[], false, NONE),
    r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", &[], true, NONE),
    r("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", &[], true, NONE),
    // scheduling.k8s.io/v1
    r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", &["pc"], false, NONE),
    // storage.k8s.io/v1
    r("storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", &[], false, NONE),
    r("storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", &[], false, NONE),
    r("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", "csistoragecapacity", &[], true, NONE),
    r("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", &["sc"], false, NONE),
    r("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", "volumeattachment", &[], false, STATUS_ONLY),
];

/// Looks up a resource by group, version and plural (the path form).
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Looks up a resource by group, version and kind (the body form).
pub fn find_by_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The storage-version entry that holds `info`'s objects.
pub fn storage_of(info: &ResourceInfo) -> &'static ResourceInfo {
    find(
        info.storage_group,
        info.storage_version,
        info.storage_plural,
    )
    .expect("every resource's storage entry is in the table")
}

/// Every entry stored as itself: one per storage location (etcd key prefix).
pub fn storage_resources() -> impl Iterator<Item = &'static ResourceInfo> {
    RESOURCES.iter().filter(|r| r.is_storage_version())
}

/// For the tests of tables keyed by storage resource (validation rules, defaulting): what is
/// wrong with a table whose keys are `keys`, as `(group, plural)`. Empty when it names every
/// storage resource exactly once and nothing else.
#[cfg(test)]
pub(crate) fn kind_table_problems<'a>(
    keys: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let keys: Vec<(&str, &str)> = keys.into_iter().collect();
    let mut problems = Vec::new();
    for s in storage_resources() {
        match keys.iter().filter(|k| **k == (s.group, s.plural)).count() {
            0 => problems.push(format!("{} has no entry", s.qualified_plural())),
            1 => {}
            n => problems.push(format!("{} has {n} entries", s.qualified_plural())),
        }
    }
    for (group, plural) in &keys {
        if !storage_resources().any(|s| (s.group, s.plural) == (*group, *plural)) {
            problems.push(format!("{group}/{plural} is not a storage resource"));
        }
    }
    problems
}

/// A group with the versions it serves, preferred first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupVersions {
    pub group: &'static str,
    pub versions: Vec<&'static str>,
}

/// Every named group (not the core group), in table order, with its versions.
pub fn groups() -> Vec<GroupVersions> {
    let mut out: Vec<GroupVersions> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|g| g.group == r.group) {
            Some(g) => {
                if !g.versions.contains(&r.version) {
                    g.versions.push(r.version);
                }
            }
            None => out.push(GroupVersions {
                group: r.group,
                versions: vec![r.version],
            }),
        }
    }
    out
}

/// Every resource served at one group/version.
pub fn resources_in<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// Splits an `apiVersion` into group and version (`v1` is the core group).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issue_resources_are_all_present() {
        for (g, v, p) in [
            ("", "v1", "pods"),
            ("", "v1", "services"),
            ("", "v1", "endpoints"),
            ("", "v1", "nodes"),
            ("", "v1", "namespaces"),
            ("", "v1", "configmaps"),
            ("", "v1", "secrets"),
            ("", "v1", "serviceaccounts"),
            ("", "v1", "events"),
            ("", "v1", "persistentvolumes"),
            ("", "v1", "persistentvolumeclaims"),
            ("", "v1", "limitranges"),
            ("", "v1", "resourcequotas"),
            ("", "v1", "replicationcontrollers"),
            ("", "v1", "podtemplates"),
            ("apps", "v1", "deployments"),
            ("apps", "v1", "replicasets"),
            ("apps", "v1", "daemonsets"),
            ("apps", "v1", "statefulsets"),
            ("apps", "v1", "controllerrevisions"),
            ("batch", "v1", "jobs"),
            ("batch", "v1", "cronjobs"),
            ("coordination.k8s.io", "v1", "leases"),
            ("discovery.k8s.io", "v1", "endpointslices"),
            ("events.k8s.io", "v1", "events"),
            ("rbac.authorization.k8s.io", "v1", "roles"),
            ("networking.k8s.io", "v1", "ingresses"),
            ("policy", "v1", "poddisruptionbudgets"),
            ("storage.k8s.io", "v1", "storageclasses"),
            ("scheduling.k8s.io", "v1", "priorityclasses"),
            ("autoscaling", "v1", "horizontalpodautoscalers"),
            ("autoscaling", "v2", "horizontalpodautoscalers"),
            ("certificates.k8s.io", "v1", "certificatesigningrequests"),
        ] {
            assert!(find(g, v, p).is_some(), "{g}/{v} {p} missing");
        }
    }

    #[test]
    fn every_entry_has_a_storage_entry_and_unique_path() {
        for r in RESOURCES {
            let s = storage_of(r);
            assert!(s.is_storage_version());
            assert_eq!(s.namespaced, r.namespaced, "{}", r.plural);
            let same = RESOURCES
                .iter()
                .filter(|o| o.group == r.group && o.version == r.version && o.plural == r.plural)
                .count();
            assert_eq!(same, 1, "{} listed twice", r.plural);
        }
    }

    #[test]
    fn kinds_resolve_both_ways() {
        let pods = find_by_kind("", "v1", "Pod").unwrap();
        assert_eq!(pods.plural, "pods");
        assert_eq!(pods.list_kind(), "PodList");
        assert_eq!(pods.api_version(), "v1");
        let deploy = find("apps", "v1", "deployments").unwrap();
        assert_eq!(deploy.api_version(), "apps/v1");
        assert_eq!(deploy.qualified_plural(), "deployments.apps");
        assert!(deploy.subresource("scale").is_some());
    }

    #[test]
    fn groups_list_preferred_version_first() {
        let gs = groups();
        let autoscaling = gs.iter().find(|g| g.group == "autoscaling").unwrap();
        assert_eq!(autoscaling.versions, vec!["v2", "v1"]);
        assert!(gs.iter().all(|g| !g.group.is_empty()));
    }

    #[test]
    fn field_values_render_like_upstream() {
        let pod = json!({"spec": {"nodeName": "n1", "hostNetwork": true}, "status": {}});
        let pods = find("", "v1", "pods").unwrap();
        assert_eq!(pods.field_value(&pod, "spec.nodeName"), "n1");
        assert_eq!(pods.field_value(&pod, "spec.hostNetwork"), "true");
        assert_eq!(pods.field_value(&pod, "status.phase"), "");
        assert!(pods.field_is_selectable("spec.nodeName"));
        assert!(pods.field_is_selectable("metadata.namespace"));
        assert!(!pods.field_is_selectable("spec.containers"));
        let ns = find("", "v1", "namespaces").unwrap();
        assert!(!ns.field_is_selectable("metadata.namespace"));
    }

    #[test]
    fn split_api_versions() {
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
    }
}
