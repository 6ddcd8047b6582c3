//! Defaulting: the values upstream fills in when a client leaves fields unset.
//!
//! [`apply`] runs on every create and update of a stored object (not on subresource writes),
//! on the object in its storage version. It mirrors upstream's `SetDefaults_*` functions and
//! declarative `+default` markers for the built-in API groups, plus the few create-strategy
//! steps whose results upstream clients always see in the stored form (a Job's generated
//! selector, a Service's IP family fields). Rules:
//!
//! - a field counts as unset when it is absent or `null`; string enums also when `""`
//!   (upstream's zero value), pointers (`replicas`, `suspend`, ...) only when absent or null;
//! - a value the client set is never overwritten (the one upstream exception, the
//!   `kubernetes.io/metadata.name` namespace label, always equals the name);
//! - applying twice is the same as applying once.
//!
//! Not covered: admission plugins (service account, priority, default tolerations, limit
//! ranges), IP allocation, and upstream's rounding of resource quantities to milli-units.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{json, Map, Value};

type Obj = Map<String, Value>;

/// Fills unset fields of `obj` (a `group`/`plural` object in its storage version).
pub fn apply(group: &str, plural: &str, obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    match (group, plural) {
        ("", "pods") => pod(o),
        ("", "podtemplates") => {
            if let Some(t) = object(o, "template") {
                pod_template(t);
            }
        }
        ("", "replicationcontrollers") => replication_controller(o),
        ("", "services") => service(o),
        ("", "namespaces") => namespace(o),
        ("", "secrets") => default_str(o, "type", "Opaque"),
        ("", "persistentvolumeclaims") => persistent_volume_claim(o),
        ("", "persistentvolumes") => persistent_volume(o),
        ("", "nodes") => node(o),
        ("", "endpoints") => endpoints(o),
        ("", "limitranges") => limit_range(o),
        ("apps", "deployments") => deployment(o),
        ("apps", "replicasets") => replica_set(o),
        ("apps", "statefulsets") => stateful_set(o),
        ("apps", "daemonsets") => daemon_set(o),
        ("batch", "jobs") => job(o),
        ("batch", "cronjobs") => cron_job(o),
        ("autoscaling", "horizontalpodautoscalers") => horizontal_pod_autoscaler(o),
        ("networking.k8s.io", "networkpolicies") => network_policy(o),
        ("networking.k8s.io", "ingressclasses") => ingress_class(o),
        ("discovery.k8s.io", "endpointslices") => endpoint_slice(o),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => role_binding(o),
        ("scheduling.k8s.io", "priorityclasses") => {
            default_str(o, "preemptionPolicy", "PreemptLowerPriority")
        }
        ("storage.k8s.io", "storageclasses") => {
            default_str(o, "reclaimPolicy", "Delete");
            default_str(o, "volumeBindingMode", "Immediate");
        }
        ("storage.k8s.io", "csidrivers") => csi_driver(o),
        ("certificates.k8s.io", "certificatesigningrequests") => {
            if let Some(status) = object(o, "status") {
                for_each(status, "conditions", |c| default_str(c, "status", "True"));
            }
        }
        _ => {}
    }
}

// ----- small helpers -------------------------------------------------------------------------

fn unset(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn unset_str(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// Sets `key` to `value` when it is absent or null.
fn default_value(o: &mut Obj, key: &str, value: Value) {
    if unset(o.get(key)) {
        o.insert(key.to_string(), value);
    }
}

/// Sets a string field when it is absent, null or empty (a Go string's zero value).
fn default_str(o: &mut Obj, key: &str, value: &str) {
    if unset_str(o.get(key)) {
        o.insert(key.to_string(), Value::String(value.to_string()));
    }
}

/// The object under `key`, if there is one.
fn object<'a>(o: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    o.get_mut(key).and_then(Value::as_object_mut)
}

/// The object under `key`, created empty when unset (upstream's non-pointer structs always
/// exist). `None` only when the field holds something else, which validation rejects.
fn ensure_object<'a>(o: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    if unset(o.get(key)) {
        o.insert(key.to_string(), Value::Object(Obj::new()));
    }
    object(o, key)
}

/// Runs `f` on each object in the list under `key`.
fn for_each(o: &mut Obj, key: &str, mut f: impl FnMut(&mut Obj)) {
    if let Some(items) = o.get_mut(key).and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            f(item);
        }
    }
}

fn str_of<'a>(o: &'a Obj, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

fn non_empty_object(v: Option<&Value>) -> bool {
    v.and_then(Value::as_object).is_some_and(|m| !m.is_empty())
}

fn non_empty_array(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

/// Copies each key of the map at `from` missing in the map at `to` (creating `to` when
/// there is something to copy). Used for requests-from-limits and limit range defaults.
fn copy_missing_keys(o: &mut Obj, from: &str, to: &str) {
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

// ----- pods and pod templates ----------------------------------------------------------------

fn pod(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        pod_spec(spec);
        // Pod-only defaults (upstream's SetDefaults_Pod): not applied to templates.
        for key in ["containers", "initContainers"] {
            for_each(spec, key, |c| {
                if let Some(resources) = object(c, "resources") {
                    copy_missing_keys(resources, "limits", "requests");
                }
            });
        }
        default_value(spec, "enableServiceLinks", Value::Bool(true));
        if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
            for key in ["containers", "initContainers"] {
                for_each(spec, key, |c| {
                    for_each(c, "ports", |p| {
                        let host_port = p.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
                        if host_port == 0 {
                            if let Some(port) = p.get("containerPort").cloned() {
                                p.insert("hostPort".into(), port);
                            }
                        }
                    });
                });
            }
        }
    }
}

/// A `PodTemplateSpec`: only its pod spec has defaults.
fn pod_template(t: &mut Obj) {
    if let Some(spec) = object(t, "spec") {
        pod_spec(spec);
    }
}

/// Defaults of every `PodSpec`, in pods and in templates alike.
fn pod_spec(spec: &mut Obj) {
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_value(spec, "securityContext", json!({}));
    default_value(spec, "terminationGracePeriodSeconds", json!(30));
    default_str(spec, "schedulerName", "default-scheduler");
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        for_each(spec, key, container);
    }
    for_each(spec, "volumes", volume);
}

fn container(c: &mut Obj) {
    if unset_str(c.get("imagePullPolicy")) {
        let policy = pull_policy(str_of(c, "image"));
        c.insert("imagePullPolicy".into(), Value::String(policy.into()));
    }
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    // Upstream always serializes the (non-pointer) resources struct.
    default_value(c, "resources", json!({}));
    for_each(c, "ports", |p| default_str(p, "protocol", "TCP"));
    for_each(c, "env", |e| {
        if let Some(field_ref) = object(e, "valueFrom").and_then(|vf| object(vf, "fieldRef")) {
            default_str(field_ref, "apiVersion", "v1");
        }
    });
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = object(c, key) {
            default_probe(probe);
        }
    }
    if let Some(lifecycle) = object(c, "lifecycle") {
        for key in ["postStart", "preStop"] {
            if let Some(handler) = object(lifecycle, key) {
                default_handler(handler);
            }
        }
    }
}

fn default_probe(p: &mut Obj) {
    for (key, value) in [
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        if p.get(key).and_then(Value::as_i64).unwrap_or(0) == 0 {
            p.insert(key.into(), json!(value));
        }
    }
    default_handler(p);
}

/// The action part of a probe or lifecycle hook.
fn default_handler(h: &mut Obj) {
    if let Some(get) = object(h, "httpGet") {
        default_str(get, "path", "/");
        default_str(get, "scheme", "HTTP");
    }
    if let Some(grpc) = object(h, "grpc") {
        default_value(grpc, "service", json!(""));
    }
}

/// `Always` for `:latest` or untagged images, `IfNotPresent` otherwise (also for digests and
/// for references upstream cannot parse).
pub fn pull_policy(image: &str) -> &'static str {
    match image_tag(image) {
        Some(tag) if tag == "latest" => "Always",
        _ => "IfNotPresent",
    }
}

/// The tag a container image reference pulls: its explicit tag, `latest` when it has neither
/// tag nor digest, empty when pinned by digest alone, `None` when it is not a valid reference.
pub fn image_tag(image: &str) -> Option<String> {
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        let domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        let domain = format!(
            r"(?:{domain_component}(?:\.{domain_component})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
        );
        let path_component = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*";
        let tag = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
        let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
        Regex::new(&format!(
            r"^((?:{domain}/)?{path_component}(?:/{path_component})*)(?::({tag}))?(?:@({digest}))?$"
        ))
        .expect("the image reference grammar compiles")
    });
    static IDENTIFIER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("^[a-f0-9]{64}$").expect("the identifier pattern compiles"));
    if IDENTIFIER.is_match(image) {
        return None;
    }
    let caps = REFERENCE.captures(image)?;
    if caps.get(1).map_or(0, |m| m.len()) > 255 {
        return None;
    }
    match (caps.get(2), caps.get(3)) {
        (Some(tag), _) => Some(tag.as_str().to_string()),
        (None, Some(_)) => Some(String::new()),
        (None, None) => Some("latest".to_string()),
    }
}

fn volume(v: &mut Obj) {
    let has_source = v.iter().any(|(k, val)| k != "name" && !val.is_null());
    if !has_source {
        v.insert("emptyDir".into(), json!({}));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(source) = object(v, key) {
            default_value(source, "defaultMode", json!(420));
        }
    }
    if let Some(downward) = object(v, "downwardAPI") {
        downward_api_items(downward);
    }
    if let Some(projected) = object(v, "projected") {
        for_each(projected, "sources", |s| {
            if let Some(token) = object(s, "serviceAccountToken") {
                default_value(token, "expirationSeconds", json!(3600));
            }
            if let Some(downward) = object(s, "downwardAPI") {
                downward_api_items(downward);
            }
        });
    }
    if let Some(spec) = object(v, "ephemeral")
        .and_then(|e| object(e, "volumeClaimTemplate"))
        .and_then(|t| object(t, "spec"))
    {
        default_str(spec, "volumeMode", "Filesystem");
    }
    volume_source(v);
}

fn downward_api_items(d: &mut Obj) {
    for_each(d, "items", |item| {
        if let Some(field_ref) = object(item, "fieldRef") {
            default_str(field_ref, "apiVersion", "v1");
        }
    });
}

/// Defaults of the volume sources shared by pod volumes and persistent volumes.
fn volume_source(v: &mut Obj) {
    if let Some(host_path) = object(v, "hostPath") {
        default_value(host_path, "type", json!(""));
    }
    if let Some(iscsi) = object(v, "iscsi") {
        default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = object(v, "rbd") {
        default_str(rbd, "pool", "rbd");
        default_str(rbd, "user", "admin");
        default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(azure) = object(v, "azureDisk") {
        default_value(azure, "cachingMode", json!("ReadWrite"));
        default_value(azure, "fsType", json!("ext4"));
        default_value(azure, "readOnly", json!(false));
        default_value(azure, "kind", json!("Shared"));
    }
    if let Some(scale_io) = object(v, "scaleIO") {
        default_str(scale_io, "storageMode", "ThinProvisioned");
        default_str(scale_io, "fsType", "xfs");
    }
}

// ----- core workloads and services -----------------------------------------------------------

fn replication_controller(o: &mut Obj) {
    let template_labels = o
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned();
    if let Some(labels) = template_labels {
        if let Some(spec) = ensure_object(o, "spec") {
            if !non_empty_object(spec.get("selector")) {
                spec.insert("selector".into(), Value::Object(labels.clone()));
            }
        }
        if let Some(meta) = ensure_object(o, "metadata") {
            if !non_empty_object(meta.get("labels")) {
                meta.insert("labels".into(), Value::Object(labels));
            }
        }
    }
    if let Some(spec) = ensure_object(o, "spec") {
        default_value(spec, "replicas", json!(1));
        if let Some(t) = object(spec, "template") {
            pod_template(t);
        }
    }
}

fn service(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_str(spec, "sessionAffinity", "None");
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.shift_remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": 10800}}),
                );
            }
        }
        _ => {}
    }
    default_str(spec, "type", "ClusterIP");
    for_each(spec, "ports", |p| {
        default_str(p, "protocol", "TCP");
        let target_unset = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if target_unset {
            if let Some(port) = p.get("port").cloned() {
                p.insert("targetPort".into(), port);
            }
        }
    });
    let service_type = str_of(spec, "type").to_string();
    let externally_accessible = service_type == "LoadBalancer"
        || service_type == "NodePort"
        || (service_type == "ClusterIP" && non_empty_array(spec.get("externalIPs")));
    if externally_accessible {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(
        service_type.as_str(),
        "ClusterIP" | "NodePort" | "LoadBalancer"
    ) {
        default_value(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        default_value(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if service_type != "ExternalName" {
        service_ip_families(spec);
    }
    if service_type == "LoadBalancer" {
        if let Some(lb) = object(o, "status").and_then(|s| object(s, "loadBalancer")) {
            for_each(lb, "ingress", |ing| {
                if !str_of(ing, "ip").is_empty() {
                    default_value(ing, "ipMode", json!("VIP"));
                }
            });
        }
    }
}

/// The IP family fields upstream's service storage fills in on a single-stack IPv4 cluster:
/// `SingleStack`/`[IPv4]`, except headless services without a selector, which upstream
/// makes `RequireDualStack` with both families even on single-stack clusters.
fn service_ip_families(spec: &mut Obj) {
    let headless = str_of(spec, "clusterIP") == "None";
    let selectorless = !non_empty_object(spec.get("selector"));
    if headless && selectorless {
        default_value(spec, "ipFamilyPolicy", json!("RequireDualStack"));
        if !non_empty_array(spec.get("ipFamilies")) {
            let families = if str_of(spec, "ipFamilyPolicy") == "SingleStack" {
                json!(["IPv4"])
            } else {
                json!(["IPv4", "IPv6"])
            };
            spec.insert("ipFamilies".into(), families);
        }
    } else {
        let policy = match spec.get("ipFamilies").and_then(Value::as_array) {
            Some(f) if f.len() == 2 => "RequireDualStack",
            _ => "SingleStack",
        };
        default_value(spec, "ipFamilyPolicy", json!(policy));
        if !non_empty_array(spec.get("ipFamilies")) {
            spec.insert("ipFamilies".into(), json!(["IPv4"]));
        }
    }
    let cluster_ip = str_of(spec, "clusterIP").to_string();
    if !cluster_ip.is_empty() && !non_empty_array(spec.get("clusterIPs")) {
        spec.insert("clusterIPs".into(), json!([cluster_ip]));
    }
}

fn namespace(o: &mut Obj) {
    let name = o
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let terminating = o
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|t| !t.is_null());
    if !name.is_empty() {
        if let Some(labels) = ensure_object(o, "metadata").and_then(|m| ensure_object(m, "labels"))
        {
            labels.insert("kubernetes.io/metadata.name".into(), Value::String(name));
        }
    }
    if !terminating {
        if let Some(spec) = ensure_object(o, "spec") {
            default_value(spec, "finalizers", json!(["kubernetes"]));
        }
    }
    if let Some(status) = ensure_object(o, "status") {
        default_str(status, "phase", "Active");
    }
}

/// Defaults of a `PersistentVolumeClaim`, also used for claim templates.
fn persistent_volume_claim(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        default_str(spec, "volumeMode", "Filesystem");
    }
    if let Some(status) = ensure_object(o, "status") {
        default_str(status, "phase", "Pending");
    }
}

fn persistent_volume(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        default_str(spec, "volumeMode", "Filesystem");
        volume_source(spec);
    }
    if let Some(status) = ensure_object(o, "status") {
        default_str(status, "phase", "Pending");
    }
}

fn node(o: &mut Obj) {
    if let Some(status) = object(o, "status") {
        if unset(status.get("allocatable")) {
            if let Some(capacity) = status.get("capacity").filter(|c| c.is_object()).cloned() {
                status.insert("allocatable".into(), capacity);
            }
        }
    }
}

fn endpoints(o: &mut Obj) {
    for_each(o, "subsets", |subset| {
        for_each(subset, "ports", |p| default_str(p, "protocol", "TCP"));
    });
}

fn limit_range(o: &mut Obj) {
    if let Some(spec) = object(o, "spec") {
        for_each(spec, "limits", |item| {
            if str_of(item, "type") == "Container" {
                copy_missing_keys(item, "max", "default");
                copy_missing_keys(item, "default", "defaultRequest");
                copy_missing_keys(item, "min", "defaultRequest");
            }
        });
    }
}

// ----- apps ----------------------------------------------------------------------------------

/// The pod template under `spec.template`, when there is one.
fn spec_template(spec: &mut Obj) {
    if let Some(t) = object(spec, "template") {
        pod_template(t);
    }
}

fn deployment(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_value(spec, "replicas", json!(1));
    if let Some(strategy) = ensure_object(spec, "strategy") {
        default_str(strategy, "type", "RollingUpdate");
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(rolling) = ensure_object(strategy, "rollingUpdate") {
                default_value(rolling, "maxUnavailable", json!("25%"));
                default_value(rolling, "maxSurge", json!("25%"));
            }
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    default_value(spec, "progressDeadlineSeconds", json!(600));
    spec_template(spec);
}

fn replica_set(o: &mut Obj) {
    if let Some(spec) = ensure_object(o, "spec") {
        default_value(spec, "replicas", json!(1));
        spec_template(spec);
    }
}

fn stateful_set(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = ensure_object(spec, "updateStrategy") {
        if unset_str(strategy.get("type")) {
            strategy.insert("type".into(), json!("RollingUpdate"));
            default_value(strategy, "rollingUpdate", json!({}));
        }
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(rolling) = object(strategy, "rollingUpdate") {
                default_value(rolling, "partition", json!(0));
            }
        }
    }
    if let Some(policy) = ensure_object(spec, "persistentVolumeClaimRetentionPolicy") {
        default_str(policy, "whenDeleted", "Retain");
        default_str(policy, "whenScaled", "Retain");
    }
    default_value(spec, "replicas", json!(1));
    default_value(spec, "revisionHistoryLimit", json!(10));
    spec_template(spec);
    for_each(spec, "volumeClaimTemplates", persistent_volume_claim);
}

fn daemon_set(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    if let Some(strategy) = ensure_object(spec, "updateStrategy") {
        default_str(strategy, "type", "RollingUpdate");
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(rolling) = ensure_object(strategy, "rollingUpdate") {
                default_value(rolling, "maxUnavailable", json!(1));
                default_value(rolling, "maxSurge", json!(0));
            }
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    spec_template(spec);
}

// ----- batch ---------------------------------------------------------------------------------

/// Label keys upstream's Job create strategy puts on the pod template (and selects on).
const JOB_CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_JOB_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

fn job(o: &mut Obj) {
    let (name, uid) = {
        let meta = o.get("metadata");
        let get = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (get("name"), get("uid"))
    };
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    // Upstream's create strategy generates the selector unless the client asked to manage
    // it; the object is stored with it, so it is filled in here once the uid exists.
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual && !uid.is_empty() && !name.is_empty() {
        generate_job_selector(spec, &name, &uid);
    }
    if unset(spec.get("completions")) && unset(spec.get("parallelism")) {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default_value(spec, "parallelism", json!(1));
    if unset(spec.get("backoffLimit")) {
        let limit = if unset(spec.get("backoffLimitPerIndex")) {
            6
        } else {
            i64::from(i32::MAX)
        };
        spec.insert("backoffLimit".into(), json!(limit));
    }
    default_value(spec, "completionMode", json!("NonIndexed"));
    default_value(spec, "suspend", json!(false));
    let has_failure_policy = !unset(spec.get("podFailurePolicy"));
    if let Some(policy) = object(spec, "podFailurePolicy") {
        for_each(policy, "rules", |rule| {
            for_each(rule, "onPodConditions", |p| {
                default_str(p, "status", "True")
            });
        });
    }
    let replacement = if has_failure_policy {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    default_value(spec, "podReplacementPolicy", json!(replacement));
    default_value(spec, "manualSelector", json!(false));
    spec_template(spec);
    let template_labels = spec
        .get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned();
    if let Some(labels) = template_labels {
        if let Some(meta) = ensure_object(o, "metadata") {
            if !non_empty_object(meta.get("labels")) {
                meta.insert("labels".into(), Value::Object(labels));
            }
        }
    }
}

fn generate_job_selector(spec: &mut Obj, name: &str, uid: &str) {
    if let Some(labels) = ensure_object(spec, "template")
        .and_then(|t| ensure_object(t, "metadata"))
        .and_then(|m| ensure_object(m, "labels"))
    {
        for (key, value) in [
            (JOB_CONTROLLER_UID, uid),
            (JOB_NAME, name),
            (LEGACY_JOB_CONTROLLER_UID, uid),
            (LEGACY_JOB_NAME, name),
        ] {
            if !labels.contains_key(key) {
                labels.insert(key.into(), Value::String(value.into()));
            }
        }
    }
    if let Some(match_labels) =
        ensure_object(spec, "selector").and_then(|s| ensure_object(s, "matchLabels"))
    {
        if !match_labels.contains_key(JOB_CONTROLLER_UID) {
            match_labels.insert(JOB_CONTROLLER_UID.into(), Value::String(uid.into()));
        }
    }
}

fn cron_job(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_str(spec, "concurrencyPolicy", "Allow");
    default_value(spec, "suspend", json!(false));
    default_value(spec, "successfulJobsHistoryLimit", json!(3));
    default_value(spec, "failedJobsHistoryLimit", json!(1));
    // The job template gets pod template defaults only, not the Job's own.
    if let Some(job_spec) = object(spec, "jobTemplate").and_then(|t| object(t, "spec")) {
        spec_template(job_spec);
    }
}

// ----- other groups --------------------------------------------------------------------------

fn horizontal_pod_autoscaler(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_value(spec, "minReplicas", json!(1));
    if !non_empty_array(spec.get("metrics")) {
        spec.insert(
            "metrics".into(),
            json!([{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80}
                }
            }]),
        );
    }
    if let Some(behavior) = object(spec, "behavior") {
        let scale_up = json!({
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}
            ]
        });
        let scale_down = json!({
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        });
        for (key, defaults) in [("scaleUp", scale_up), ("scaleDown", scale_down)] {
            let Some(rules) = ensure_object(behavior, key) else {
                continue;
            };
            if let Value::Object(defaults) = defaults {
                for (k, v) in defaults {
                    default_value(rules, &k, v);
                }
            }
        }
    }
}

fn network_policy(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    for key in ["ingress", "egress"] {
        for_each(spec, key, |rule| {
            for_each(rule, "ports", |p| {
                default_value(p, "protocol", json!("TCP"))
            });
        });
    }
    if !non_empty_array(spec.get("policyTypes")) {
        let types = if non_empty_array(spec.get("egress")) {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
        spec.insert("policyTypes".into(), types);
    }
}

fn ingress_class(o: &mut Obj) {
    if let Some(params) = object(o, "spec").and_then(|s| object(s, "parameters")) {
        default_value(params, "scope", json!("Cluster"));
    }
}

fn endpoint_slice(o: &mut Obj) {
    for_each(o, "ports", |p| {
        default_value(p, "name", json!(""));
        default_value(p, "protocol", json!("TCP"));
    });
}

fn role_binding(o: &mut Obj) {
    if let Some(role_ref) = object(o, "roleRef") {
        default_str(role_ref, "apiGroup", "rbac.authorization.k8s.io");
    }
    for_each(o, "subjects", |s| {
        if unset_str(s.get("apiGroup")) {
            match str_of(s, "kind") {
                "ServiceAccount" => {
                    s.insert("apiGroup".into(), json!(""));
                }
                "User" | "Group" => {
                    s.insert("apiGroup".into(), json!("rbac.authorization.k8s.io"));
                }
                _ => {}
            }
        }
    });
}

fn csi_driver(o: &mut Obj) {
    let Some(spec) = ensure_object(o, "spec") else {
        return;
    };
    default_value(spec, "attachRequired", json!(true));
    default_value(spec, "podInfoOnMount", json!(false));
    default_value(spec, "storageCapacity", json!(false));
    default_value(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    if !non_empty_array(spec.get("volumeLifecycleModes")) {
        spec.insert("volumeLifecycleModes".into(), json!(["Persistent"]));
    }
    default_value(spec, "requiresRepublish", json!(false));
    default_value(spec, "seLinuxMount", json!(false));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(group: &str, plural: &str, mut obj: Value) -> Value {
        apply(group, plural, &mut obj);
        let mut again = obj.clone();
        apply(group, plural, &mut again);
        assert_eq!(obj, again, "defaulting {group}/{plural} is not idempotent");
        obj
    }

    fn simple_pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}
        })
    }

    #[test]
    fn pod_spec_defaults() {
        let p = defaulted("", "pods", simple_pod());
        let spec = &p["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["securityContext"], json!({}));
        assert_eq!(spec["enableServiceLinks"], true);
        assert!(spec.get("priority").is_none());
        assert!(spec.get("preemptionPolicy").is_none());
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["resources"], json!({}));
    }

    #[test]
    fn user_values_are_kept() {
        let p = defaulted(
            "",
            "pods",
            json!({
                "metadata": {"name": "p"},
                "spec": {
                    "restartPolicy": "Never",
                    "dnsPolicy": "Default",
                    "schedulerName": "mine",
                    "terminationGracePeriodSeconds": 0,
                    "enableServiceLinks": false,
                    "securityContext": {"runAsUser": 1000},
                    "containers": [{
                        "name": "c", "image": "nginx",
                        "imagePullPolicy": "Never",
                        "terminationMessagePath": "/tmp/x",
                        "terminationMessagePolicy": "FallbackToLogsOnError"
                    }]
                }
            }),
        );
        let spec = &p["spec"];
        assert_eq!(spec["restartPolicy"], "Never");
        assert_eq!(spec["dnsPolicy"], "Default");
        assert_eq!(spec["schedulerName"], "mine");
        assert_eq!(spec["terminationGracePeriodSeconds"], 0);
        assert_eq!(spec["enableServiceLinks"], false);
        assert_eq!(spec["securityContext"], json!({"runAsUser": 1000}));
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Never");
        assert_eq!(c["terminationMessagePath"], "/tmp/x");
        assert_eq!(c["terminationMessagePolicy"], "FallbackToLogsOnError");
    }

    #[test]
    fn empty_strings_count_as_unset() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {"restartPolicy": "", "containers": [{"name": "c", "image": "a:1", "imagePullPolicy": ""}]}}),
        );
        assert_eq!(p["spec"]["restartPolicy"], "Always");
        assert_eq!(
            p["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn image_pull_policy_from_reference() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry.k8s.io/pause:3.9", "IfNotPresent"),
            ("localhost:5000/app", "Always"),
            ("localhost:5000/app:v1", "IfNotPresent"),
            ("docker.io/library/busybox:latest", "Always"),
            (
                "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "IfNotPresent",
            ),
            (
                "busybox:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "Always",
            ),
            ("Nginx", "IfNotPresent"),
            ("", "IfNotPresent"),
            ("my registry/app", "IfNotPresent"),
        ] {
            assert_eq!(pull_policy(image), policy, "image {image:?}");
        }
        assert_eq!(image_tag("a/b/c:tag").as_deref(), Some("tag"));
        assert_eq!(image_tag("a/b/c").as_deref(), Some("latest"));
        assert_eq!(image_tag("UPPER/lower:x").as_deref(), Some("x"));
    }

    #[test]
    fn init_and_ephemeral_containers_are_defaulted() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {
                "containers": [{"name": "c", "image": "a:1"}],
                "initContainers": [{"name": "i", "image": "b"}],
                "ephemeralContainers": [{"name": "e", "image": "c:2"}]
            }}),
        );
        assert_eq!(p["spec"]["initContainers"][0]["imagePullPolicy"], "Always");
        assert_eq!(
            p["spec"]["initContainers"][0]["terminationMessagePolicy"],
            "File"
        );
        assert_eq!(
            p["spec"]["ephemeralContainers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn container_ports_env_and_probes() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {"containers": [{
                "name": "c", "image": "a:1",
                "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
                "env": [
                    {"name": "A", "value": "x"},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
                ],
                "livenessProbe": {"httpGet": {"port": 8080}},
                "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
                "startupProbe": {"grpc": {"port": 9000}},
                "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/stop"}}}
            }]}}),
        );
        let c = &p["spec"]["containers"][0];
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["ports"][1]["protocol"], "UDP");
        assert!(c["ports"][0].get("hostPort").is_none());
        assert!(c["env"][0].get("valueFrom").is_none());
        assert_eq!(c["env"][1]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        let live = &c["livenessProbe"];
        assert_eq!(live["timeoutSeconds"], 1);
        assert_eq!(live["periodSeconds"], 10);
        assert_eq!(live["successThreshold"], 1);
        assert_eq!(live["failureThreshold"], 3);
        assert_eq!(live["httpGet"]["scheme"], "HTTP");
        assert_eq!(live["httpGet"]["path"], "/");
        assert_eq!(c["readinessProbe"]["periodSeconds"], 5);
        assert_eq!(c["startupProbe"]["grpc"]["service"], "");
        assert_eq!(c["lifecycle"]["preStop"]["httpGet"]["path"], "/stop");
        assert_eq!(c["lifecycle"]["preStop"]["httpGet"]["scheme"], "HTTP");
    }

    #[test]
    fn pod_requests_default_to_limits() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {
                "containers": [
                    {"name": "a", "image": "x:1", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
                    {"name": "b", "image": "x:1", "resources": {"limits": {"cpu": "2"}, "requests": {"cpu": "500m"}}},
                    {"name": "c", "image": "x:1", "resources": {"limits": {"cpu": "2", "memory": "2Gi"}, "requests": {"cpu": "1"}}}
                ],
                "initContainers": [{"name": "i", "image": "x:1", "resources": {"limits": {"memory": "64Mi"}}}]
            }}),
        );
        let cs = &p["spec"]["containers"];
        assert_eq!(
            cs[0]["resources"]["requests"],
            json!({"cpu": "1", "memory": "1Gi"})
        );
        assert_eq!(cs[1]["resources"]["requests"], json!({"cpu": "500m"}));
        assert_eq!(
            cs[2]["resources"]["requests"],
            json!({"cpu": "1", "memory": "2Gi"})
        );
        assert_eq!(
            p["spec"]["initContainers"][0]["resources"]["requests"],
            json!({"memory": "64Mi"})
        );
    }

    #[test]
    fn templates_do_not_get_pod_only_defaults() {
        let d = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "a", "image": "x:1", "resources": {"limits": {"cpu": "1"}}}
            ]}}}}),
        );
        let spec = &d["spec"]["template"]["spec"];
        assert!(spec.get("enableServiceLinks").is_none());
        assert!(spec["containers"][0]["resources"].get("requests").is_none());
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["containers"][0]["imagePullPolicy"], "IfNotPresent");
    }

    #[test]
    fn host_network_pods_get_host_ports() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x:1",
                "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 81}]}]}}),
        );
        let ports = &p["spec"]["containers"][0]["ports"];
        assert_eq!(ports[0]["hostPort"], 80);
        assert_eq!(ports[1]["hostPort"], 81);
    }

    #[test]
    fn volumes() {
        let p = defaulted(
            "",
            "pods",
            json!({"spec": {"containers": [{"name": "a", "image": "x:1"}], "volumes": [
                {"name": "scratch"},
                {"name": "empty", "emptyDir": {}},
                {"name": "s", "secret": {"secretName": "x"}},
                {"name": "cm", "configMap": {"name": "x", "defaultMode": 256}},
                {"name": "h", "hostPath": {"path": "/var"}},
                {"name": "d", "downwardAPI": {"items": [{"path": "l", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "p", "projected": {"sources": [
                    {"serviceAccountToken": {"path": "token"}},
                    {"downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}
                ]}},
                {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}}
            ]}}),
        );
        let v = &p["spec"]["volumes"];
        assert_eq!(v[0]["emptyDir"], json!({}));
        assert_eq!(v[1]["emptyDir"], json!({}));
        assert_eq!(v[2]["secret"]["defaultMode"], 420);
        assert!(v[2].get("emptyDir").is_none());
        assert_eq!(v[3]["configMap"]["defaultMode"], 256);
        assert_eq!(v[4]["hostPath"]["type"], "");
        assert_eq!(v[5]["downwardAPI"]["defaultMode"], 420);
        assert_eq!(
            v[5]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"],
            "v1"
        );
        assert_eq!(v[6]["projected"]["defaultMode"], 420);
        assert_eq!(
            v[6]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3600
        );
        assert_eq!(
            v[6]["projected"]["sources"][1]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"],
            "v1"
        );
        assert_eq!(
            v[7]["ephemeral"]["volumeClaimTemplate"]["spec"]["volumeMode"],
            "Filesystem"
        );
    }

    #[test]
    fn service_defaults() {
        let s = defaulted(
            "",
            "services",
            json!({"metadata": {"name": "s"}, "spec": {"selector": {"app": "a"},
                "ports": [{"port": 80}, {"port": 443, "targetPort": "https", "protocol": "TCP"}, {"port": 53, "targetPort": 0}]}}),
        );
        let spec = &s["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert!(spec.get("externalTrafficPolicy").is_none());
        assert!(spec.get("allocateLoadBalancerNodePorts").is_none());
        assert_eq!(spec["ports"][0]["protocol"], "TCP");
        assert_eq!(spec["ports"][0]["targetPort"], 80);
        assert_eq!(spec["ports"][1]["targetPort"], "https");
        assert_eq!(spec["ports"][2]["targetPort"], 53);
    }

    #[test]
    fn service_types() {
        let lb = defaulted(
            "",
            "services",
            json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
                   "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "x"}]}}}),
        );
        assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(lb["status"]["loadBalancer"]["ingress"][0]["ipMode"], "VIP");
        assert!(lb["status"]["loadBalancer"]["ingress"][1]
            .get("ipMode")
            .is_none());

        let np = defaulted(
            "",
            "services",
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
        );
        assert_eq!(np["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(np["spec"]["internalTrafficPolicy"], "Cluster");

        let ext = defaulted(
            "",
            "services",
            json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
        );
        assert!(ext["spec"].get("ipFamilyPolicy").is_none());
        assert!(ext["spec"].get("ipFamilies").is_none());
        assert!(ext["spec"].get("internalTrafficPolicy").is_none());
        assert!(ext["spec"].get("externalTrafficPolicy").is_none());

        let external_ips = defaulted(
            "",
            "services",
            json!({"spec": {"externalIPs": ["10.0.0.1"], "ports": [{"port": 80}]}}),
        );
        assert_eq!(external_ips["spec"]["externalTrafficPolicy"], "Cluster");
    }

    #[test]
    fn service_session_affinity_and_families() {
        let s = defaulted(
            "",
            "services",
            json!({"spec": {"sessionAffinity": "ClientIP", "clusterIP": "10.96.0.10", "selector": {"a": "b"}}}),
        );
        assert_eq!(
            s["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        assert_eq!(s["spec"]["clusterIPs"], json!(["10.96.0.10"]));

        let none = defaulted(
            "",
            "services",
            json!({"spec": {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}}),
        );
        assert!(none["spec"].get("sessionAffinityConfig").is_none());

        let headless = defaulted("", "services", json!({"spec": {"clusterIP": "None"}}));
        assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert_eq!(headless["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));

        let headless_selected = defaulted(
            "",
            "services",
            json!({"spec": {"clusterIP": "None", "selector": {"app": "x"}}}),
        );
        assert_eq!(headless_selected["spec"]["ipFamilyPolicy"], "SingleStack");
        assert_eq!(headless_selected["spec"]["ipFamilies"], json!(["IPv4"]));
    }

    #[test]
    fn deployment_defaults() {
        let d = defaulted(
            "apps",
            "deployments",
            json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
        );
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");

        let recreate = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}}),
        );
        assert_eq!(recreate["spec"]["replicas"], 0);
        assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));

        let partial = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 2}}}}),
        );
        assert_eq!(
            partial["spec"]["strategy"]["rollingUpdate"],
            json!({"maxSurge": 2, "maxUnavailable": "25%"})
        );
    }

    #[test]
    fn replica_set_and_replication_controller() {
        let rs = defaulted("apps", "replicasets", json!({"spec": {}}));
        assert_eq!(rs["spec"]["replicas"], 1);

        let rc = defaulted(
            "",
            "replicationcontrollers",
            json!({"metadata": {"name": "rc"}, "spec": {"template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "a:1"}]}}}}),
        );
        assert_eq!(rc["spec"]["replicas"], 1);
        assert_eq!(rc["spec"]["selector"], json!({"app": "x"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "x"}));
        assert_eq!(rc["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");

        let own = defaulted(
            "",
            "replicationcontrollers",
            json!({"metadata": {"name": "rc", "labels": {"mine": "1"}}, "spec": {"selector": {"app": "x"},
                "template": {"metadata": {"labels": {"app": "x", "v": "2"}}}}}),
        );
        assert_eq!(own["spec"]["selector"], json!({"app": "x"}));
        assert_eq!(own["metadata"]["labels"], json!({"mine": "1"}));
    }

    #[test]
    fn stateful_set_defaults() {
        let s = defaulted(
            "apps",
            "statefulsets",
            json!({"spec": {"serviceName": "s", "template": {"spec": {"containers": [{"name": "c", "image": "a:1"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}}),
        );
        let spec = &s["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(
            spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
            "Filesystem"
        );
        assert_eq!(
            spec["volumeClaimTemplates"][0]["status"]["phase"],
            "Pending"
        );
        assert_eq!(
            spec["template"]["spec"]["schedulerName"],
            "default-scheduler"
        );

        // An explicit RollingUpdate without rollingUpdate gets no partition (as upstream).
        let explicit = defaulted(
            "apps",
            "statefulsets",
            json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}}),
        );
        assert_eq!(
            explicit["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate"})
        );
        let on_delete = defaulted(
            "apps",
            "statefulsets",
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn daemon_set_defaults() {
        let d = defaulted("apps", "daemonsets", json!({"spec": {}}));
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let on_delete = defaulted(
            "apps",
            "daemonsets",
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn job_defaults() {
        let j = defaulted(
            "batch",
            "jobs",
            json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "perl:5"}]}}}}),
        );
        let spec = &j["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["manualSelector"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(
            spec["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
        );
        let labels = &spec["template"]["metadata"]["labels"];
        assert_eq!(labels["batch.kubernetes.io/controller-uid"], "u-1");
        assert_eq!(labels["batch.kubernetes.io/job-name"], "pi");
        assert_eq!(labels["controller-uid"], "u-1");
        assert_eq!(labels["job-name"], "pi");
        assert_eq!(j["metadata"]["labels"], *labels);
    }

    #[test]
    fn job_parallelism_completions_and_policies() {
        let parallel = defaulted("batch", "jobs", json!({"spec": {"parallelism": 3}}));
        assert_eq!(parallel["spec"]["parallelism"], 3);
        assert!(parallel["spec"].get("completions").is_none());

        let completions = defaulted("batch", "jobs", json!({"spec": {"completions": 5}}));
        assert_eq!(completions["spec"]["completions"], 5);
        assert_eq!(completions["spec"]["parallelism"], 1);

        let per_index = defaulted(
            "batch",
            "jobs",
            json!({"spec": {"completions": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 1}}),
        );
        assert_eq!(per_index["spec"]["backoffLimit"], 2147483647);
        assert_eq!(per_index["spec"]["completionMode"], "Indexed");

        let failure = defaulted(
            "batch",
            "jobs",
            json!({"spec": {"podFailurePolicy": {"rules": [{"action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
        );
        assert_eq!(failure["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(
            failure["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
            "True"
        );

        let manual = defaulted(
            "batch",
            "jobs",
            json!({"metadata": {"name": "m", "uid": "u"}, "spec": {"manualSelector": true,
                "selector": {"matchLabels": {"x": "y"}}, "template": {"metadata": {"labels": {"x": "y"}}}}}),
        );
        assert_eq!(
            manual["spec"]["selector"],
            json!({"matchLabels": {"x": "y"}})
        );
        assert_eq!(
            manual["spec"]["template"]["metadata"]["labels"],
            json!({"x": "y"})
        );
        assert_eq!(manual["metadata"]["labels"], json!({"x": "y"}));
    }

    #[test]
    fn cron_job_defaults() {
        let c = defaulted(
            "batch",
            "cronjobs",
            json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
        );
        let spec = &c["spec"];
        assert_eq!(spec["concurrencyPolicy"], "Allow");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["successfulJobsHistoryLimit"], 3);
        assert_eq!(spec["failedJobsHistoryLimit"], 1);
        let job_spec = &spec["jobTemplate"]["spec"];
        assert!(job_spec.get("backoffLimit").is_none());
        assert!(job_spec.get("completions").is_none());
        let pod = &job_spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "OnFailure");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
    }

    #[test]
    fn pod_template_defaults() {
        let t = defaulted(
            "",
            "podtemplates",
            json!({"template": {"spec": {"containers": [{"name": "c", "image": "a:1"}]}}}),
        );
        assert_eq!(t["template"]["spec"]["terminationGracePeriodSeconds"], 30);
    }

    #[test]
    fn namespace_defaults() {
        let n = defaulted("", "namespaces", json!({"metadata": {"name": "team-a"}}));
        assert_eq!(
            n["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team-a"
        );
        assert_eq!(n["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(n["status"]["phase"], "Active");

        let forged = defaulted(
            "",
            "namespaces",
            json!({"metadata": {"name": "b", "labels": {"kubernetes.io/metadata.name": "x", "k": "v"}},
                   "spec": {"finalizers": []}}),
        );
        assert_eq!(
            forged["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "b"
        );
        assert_eq!(forged["metadata"]["labels"]["k"], "v");
        assert_eq!(forged["spec"]["finalizers"], json!([]));

        let terminating = defaulted(
            "",
            "namespaces",
            json!({"metadata": {"name": "c", "deletionTimestamp": "2024-01-01T00:00:00Z"}, "spec": {}}),
        );
        assert!(terminating["spec"].get("finalizers").is_none());
    }

    #[test]
    fn secrets_volumes_nodes() {
        let s = defaulted("", "secrets", json!({"metadata": {"name": "s"}}));
        assert_eq!(s["type"], "Opaque");
        let tls = defaulted("", "secrets", json!({"type": "kubernetes.io/tls"}));
        assert_eq!(tls["type"], "kubernetes.io/tls");

        let pvc = defaulted(
            "",
            "persistentvolumeclaims",
            json!({"spec": {"accessModes": ["ReadWriteOnce"]}}),
        );
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pvc["status"]["phase"], "Pending");

        let pv = defaulted(
            "",
            "persistentvolumes",
            json!({"spec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}}),
        );
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pv["spec"]["hostPath"]["type"], "");
        assert_eq!(pv["status"]["phase"], "Pending");

        let node = defaulted(
            "",
            "nodes",
            json!({"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}}),
        );
        assert_eq!(
            node["status"]["allocatable"],
            json!({"cpu": "4", "pods": "110"})
        );
        assert!(node.get("spec").is_none());

        let sa = defaulted("", "serviceaccounts", json!({"metadata": {"name": "sa"}}));
        assert_eq!(sa, json!({"metadata": {"name": "sa"}}));
    }

    #[test]
    fn endpoints_limit_ranges_and_slices() {
        let ep = defaulted(
            "",
            "endpoints",
            json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
        );
        assert_eq!(ep["subsets"][0]["ports"][0]["protocol"], "TCP");

        let slice = defaulted(
            "discovery.k8s.io",
            "endpointslices",
            json!({"addressType": "IPv4", "endpoints": [], "ports": [{"port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}]}),
        );
        assert_eq!(
            slice["ports"][0],
            json!({"port": 80, "name": "", "protocol": "TCP"})
        );
        assert_eq!(slice["ports"][1]["protocol"], "UDP");

        let lr = defaulted(
            "",
            "limitranges",
            json!({"spec": {"limits": [
                {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "16Mi"}},
                {"type": "Pod", "max": {"cpu": "4"}}
            ]}}),
        );
        let item = &lr["spec"]["limits"][0];
        assert_eq!(item["default"], json!({"cpu": "2"}));
        assert_eq!(
            item["defaultRequest"],
            json!({"cpu": "2", "memory": "16Mi"})
        );
        assert!(lr["spec"]["limits"][1].get("default").is_none());
    }

    #[test]
    fn autoscaler_defaults() {
        let h = defaulted(
            "autoscaling",
            "horizontalpodautoscalers",
            json!({"spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "d"}}}),
        );
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert!(h["spec"].get("behavior").is_none());

        let b = defaulted(
            "autoscaling",
            "horizontalpodautoscalers",
            json!({"spec": {"minReplicas": 2, "maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
        );
        let behavior = &b["spec"]["behavior"];
        assert_eq!(b["spec"]["minReplicas"], 2);
        assert_eq!(behavior["scaleUp"]["stabilizationWindowSeconds"], 0);
        assert_eq!(behavior["scaleUp"]["policies"].as_array().unwrap().len(), 2);
        assert_eq!(behavior["scaleDown"]["stabilizationWindowSeconds"], 60);
        assert_eq!(behavior["scaleDown"]["selectPolicy"], "Max");
        assert_eq!(
            behavior["scaleDown"]["policies"],
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}])
        );
    }

    #[test]
    fn networking_rbac_scheduling_storage() {
        let np = defaulted(
            "networking.k8s.io",
            "networkpolicies",
            json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}),
        );
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        let ingress_only = defaulted(
            "networking.k8s.io",
            "networkpolicies",
            json!({"spec": {"podSelector": {}}}),
        );
        assert_eq!(ingress_only["spec"]["policyTypes"], json!(["Ingress"]));

        let class = defaulted(
            "networking.k8s.io",
            "ingressclasses",
            json!({"spec": {"controller": "x", "parameters": {"kind": "K", "name": "n"}}}),
        );
        assert_eq!(class["spec"]["parameters"]["scope"], "Cluster");

        let rb = defaulted(
            "rbac.authorization.k8s.io",
            "rolebindings",
            json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [
                {"kind": "ServiceAccount", "name": "sa", "namespace": "default"},
                {"kind": "User", "name": "alice"},
                {"kind": "Group", "name": "devs", "apiGroup": "example.com"}
            ]}),
        );
        assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][0]["apiGroup"], "");
        assert_eq!(rb["subjects"][1]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][2]["apiGroup"], "example.com");

        let pc = defaulted(
            "scheduling.k8s.io",
            "priorityclasses",
            json!({"value": 1000}),
        );
        assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");

        let sc = defaulted(
            "storage.k8s.io",
            "storageclasses",
            json!({"provisioner": "x"}),
        );
        assert_eq!(sc["reclaimPolicy"], "Delete");
        assert_eq!(sc["volumeBindingMode"], "Immediate");

        let csi = defaulted("storage.k8s.io", "csidrivers", json!({"spec": {}}));
        assert_eq!(csi["spec"]["attachRequired"], true);
        assert_eq!(csi["spec"]["podInfoOnMount"], false);
        assert_eq!(csi["spec"]["volumeLifecycleModes"], json!(["Persistent"]));
        assert_eq!(csi["spec"]["fsGroupPolicy"], "ReadWriteOnceWithFSType");

        let csr = defaulted(
            "certificates.k8s.io",
            "certificatesigningrequests",
            json!({"status": {"conditions": [{"type": "Approved"}]}}),
        );
        assert_eq!(csr["status"]["conditions"][0]["status"], "True");
    }

    #[test]
    fn unknown_resources_and_non_objects_are_left_alone() {
        let mut cm = json!({"data": {"a": "b"}});
        apply("", "configmaps", &mut cm);
        assert_eq!(cm, json!({"data": {"a": "b"}}));
        let mut crd = json!({"spec": {"replicas": null}});
        apply("example.com", "widgets", &mut crd);
        assert_eq!(crd, json!({"spec": {"replicas": null}}));
        let mut not_object = json!("x");
        apply("", "pods", &mut not_object);
        assert_eq!(not_object, json!("x"));
    }

    #[test]
    fn null_counts_as_unset() {
        let d = defaulted(
            "apps",
            "deployments",
            json!({"spec": {"replicas": null, "strategy": null}}),
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    }
}
