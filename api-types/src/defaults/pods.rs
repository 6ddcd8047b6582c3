//! Pods and pod templates (core/v1): pod specs, containers, probes, image pull policies and
//! volumes.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{json, Value};

use super::common::*;

pub(super) fn pod(o: &mut Obj) {
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
pub(super) fn pod_template(t: &mut Obj) {
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
pub(super) fn volume_source(v: &mut Obj) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testing::*;
    use serde_json::json;

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
    fn pod_template_defaults() {
        let t = defaulted(
            "",
            "podtemplates",
            json!({"template": {"spec": {"containers": [{"name": "c", "image": "a:1"}]}}}),
        );
        assert_eq!(t["template"]["spec"]["terminationGracePeriodSeconds"], 30);
    }
}
