//! Pods and pod templates (core/v1): pod specs, containers, volumes, resources, tolerations,
//! and what a pod update may change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::common::*;
use super::errors::FieldError;
use super::names::*;
use crate::quantity::Quantity;

pub(super) const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
pub(super) const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
pub(super) const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// The message upstream gives when a pod update touches an immutable field.
pub const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// A pod template: its labels and annotations, then its pod spec at `<path>.spec`.
pub(super) fn validate_pod_template(tpl: &Value, path: &str, errs: &mut Errs) {
    let meta = sub(tpl, "metadata");
    errs.extend(validate_labels(
        sub(meta, "labels"),
        &child(path, "metadata.labels"),
    ));
    errs.extend(validate_annotations(
        sub(meta, "annotations"),
        &child(path, "metadata.annotations"),
    ));
    validate_pod_spec(sub(tpl, "spec"), &child(path, "spec"), false, errs);
}

/// A pod spec at `path`; `is_pod` adds the checks upstream makes only for real pods.
pub(super) fn validate_pod_spec(spec: &Value, path: &str, is_pod: bool, errs: &mut Errs) {
    let volumes = validate_volumes(arr(spec, "volumes"), &child(path, "volumes"), errs);

    let containers = arr(spec, "containers");
    let mut names = BTreeSet::new();
    if containers.is_empty() {
        errs.push(FieldError::required(child(path, "containers"), ""));
    }
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let ctx = ContainerContext {
        volumes: &volumes,
        is_pod,
        host_network,
    };
    // Init containers are checked first, as upstream does, so duplicate names are reported
    // on the regular container.
    for (i, c) in arr(spec, "initContainers").iter().enumerate() {
        validate_container(
            c,
            &index(&child(path, "initContainers"), i),
            true,
            &ctx,
            &mut names,
            errs,
        );
    }
    for (i, c) in containers.iter().enumerate() {
        validate_container(
            c,
            &index(&child(path, "containers"), i),
            false,
            &ctx,
            &mut names,
            errs,
        );
    }

    if let Some(policy) = opt_str(spec, "restartPolicy") {
        if policy.is_empty() {
            errs.push(FieldError::required(child(path, "restartPolicy"), ""));
        } else if !RESTART_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                child(path, "restartPolicy"),
                policy,
                RESTART_POLICIES,
            ));
        }
    }
    check_enum(spec, "dnsPolicy", path, DNS_POLICIES, errs);
    if let Some(secs) = int_of(spec, "activeDeadlineSeconds") {
        if !(1..=i64::from(i32::MAX)).contains(&secs) {
            errs.push(FieldError::invalid(
                child(path, "activeDeadlineSeconds"),
                secs,
                inclusive_range_error(1, i64::from(i32::MAX)),
            ));
        }
    }
    for (key, check) in [
        ("nodeName", is_dns1123_subdomain as fn(&str) -> Vec<String>),
        ("serviceAccountName", is_dns1123_subdomain),
        ("hostname", is_dns1123_label),
        ("subdomain", is_dns1123_label),
        ("priorityClassName", is_dns1123_subdomain),
    ] {
        if let Some(v) = opt_str(spec, key).filter(|v| !v.is_empty()) {
            push_msgs(errs, &child(path, key), v, check(v));
        }
    }
    errs.extend(validate_labels(
        sub(spec, "nodeSelector"),
        &child(path, "nodeSelector"),
    ));
    validate_tolerations(arr(spec, "tolerations"), &child(path, "tolerations"), errs);
    for (i, g) in arr(spec, "imagePullSecrets").iter().enumerate() {
        if str_of(g, "name").is_empty() {
            errs.push(FieldError::required(
                child(&index(&child(path, "imagePullSecrets"), i), "name"),
                "",
            ));
        }
    }
}

/// Checks the volume list and returns the set of volume names.
fn validate_volumes(volumes: &[Value], path: &str, errs: &mut Errs) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, vol) in volumes.iter().enumerate() {
        let p = index(path, i);
        let name = str_of(vol, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else {
            let msgs = is_dns1123_label(name);
            if !msgs.is_empty() {
                push_msgs(errs, &child(&p, "name"), name, msgs);
            } else if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), name));
            }
        }
        // Every other key is a volume source; exactly one is allowed.
        let sources: Vec<&String> = vol
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| k.as_str() != "name" && !v.is_null())
            .map(|(k, _)| k)
            .collect();
        match sources.as_slice() {
            [] => errs.push(FieldError::required(p, "must specify a volume type")),
            [_] => {}
            [_, second, ..] => errs.push(FieldError::forbidden(
                child(&p, second),
                "may not specify more than 1 volume type",
            )),
        }
    }
    names
}

struct ContainerContext<'a> {
    volumes: &'a BTreeSet<String>,
    is_pod: bool,
    host_network: bool,
}

fn validate_container(
    c: &Value,
    path: &str,
    init: bool,
    ctx: &ContainerContext<'_>,
    names: &mut BTreeSet<String>,
    errs: &mut Errs,
) {
    let name = str_of(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else {
        let msgs = is_dns1123_label(name);
        if !msgs.is_empty() {
            push_msgs(errs, &child(path, "name"), name, msgs);
        } else if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(path, "name"), name));
        }
    }
    let image = str_of(c, "image");
    if image.is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    } else if ctx.is_pod && image.trim() != image {
        errs.push(FieldError::invalid(
            child(path, "image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    check_enum(c, "imagePullPolicy", path, PULL_POLICIES, errs);
    if let Some(policy) = opt_str(c, "restartPolicy") {
        if !init {
            errs.push(FieldError::forbidden(
                child(path, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        } else if policy != "Always" {
            errs.push(FieldError::not_supported(
                child(path, "restartPolicy"),
                policy,
                &["Always"],
            ));
        }
    }

    let mut port_names = BTreeSet::new();
    for (i, port) in arr(c, "ports").iter().enumerate() {
        let p = index(&child(path, "ports"), i);
        if let Some(pn) = opt_str(port, "name").filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(pn);
            if !msgs.is_empty() {
                push_msgs(errs, &child(&p, "name"), pn, msgs);
            } else if !port_names.insert(pn.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), pn));
            }
        }
        let container_port = int_of(port, "containerPort").unwrap_or(0);
        if container_port == 0 {
            errs.push(FieldError::required(child(&p, "containerPort"), ""));
        } else {
            for msg in is_valid_port_num(container_port) {
                errs.push(FieldError::invalid(
                    child(&p, "containerPort"),
                    container_port,
                    msg,
                ));
            }
        }
        if let Some(host_port) = int_of(port, "hostPort").filter(|h| *h != 0) {
            for msg in is_valid_port_num(host_port) {
                errs.push(FieldError::invalid(child(&p, "hostPort"), host_port, msg));
            }
            if ctx.host_network && host_port != container_port {
                errs.push(FieldError::invalid(
                    child(&p, "hostPort"),
                    host_port,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
        check_enum(port, "protocol", &p, PROTOCOLS, errs);
    }

    for (i, env) in arr(c, "env").iter().enumerate() {
        let p = child(&index(&child(path, "env"), i), "name");
        let n = str_of(env, "name");
        if n.is_empty() {
            errs.push(FieldError::required(p, ""));
        } else {
            push_msgs(errs, &p, n, is_env_var_name(n));
        }
    }

    let mut mount_paths = BTreeSet::new();
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let p = index(&child(path, "volumeMounts"), i);
        let n = str_of(m, "name");
        if n.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else if !ctx.volumes.contains(n) {
            errs.push(FieldError::not_found(child(&p, "name"), n));
        }
        let mount_path = str_of(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(child(&p, "mountPath"), ""));
        } else if !mount_paths.insert(mount_path.to_string()) {
            errs.push(FieldError::invalid(
                child(&p, "mountPath"),
                mount_path,
                "must be unique",
            ));
        }
    }

    validate_resources(sub(c, "resources"), &child(path, "resources"), errs);
}

/// Requests and limits: valid, non-negative quantities, and each request at most its limit.
fn validate_resources(res: &Value, path: &str, errs: &mut Errs) {
    let mut parsed: [BTreeMap<String, Quantity>; 2] = Default::default();
    for (slot, which) in ["limits", "requests"].iter().enumerate() {
        let p = child(path, which);
        for (name, v) in obj_of(res, which).into_iter().flatten() {
            let rp = key_path(&p, name);
            push_msgs(errs, &rp, name, resource_name_errors(name));
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match Quantity::parse(text.trim()) {
                Err(e) => errs.push(FieldError::invalid(rp, text, e.to_string())),
                Ok(q) if q.signum() < 0 => errs.push(FieldError::invalid(
                    rp,
                    q.to_string(),
                    "must be greater than or equal to 0",
                )),
                Ok(q) => {
                    parsed[slot].insert(name.clone(), q);
                }
            }
        }
    }
    let [limits, requests] = parsed;
    for (name, req) in &requests {
        if let Some(limit) = limits.get(name) {
            if req > limit {
                errs.push(FieldError::invalid(
                    child(path, "requests"),
                    req.to_string(),
                    format!("must be less than or equal to {name} limit of {limit}"),
                ));
            }
        }
    }
}

/// Resource names are standard names (`cpu`, `memory`...) or qualified extended names.
fn resource_name_errors(name: &str) -> Vec<String> {
    is_qualified_name(name)
}

fn validate_tolerations(tolerations: &[Value], path: &str, errs: &mut Errs) {
    for (i, t) in tolerations.iter().enumerate() {
        let p = index(path, i);
        let key = str_of(t, "key");
        if !key.is_empty() {
            push_msgs(errs, &child(&p, "key"), key, is_qualified_name(key));
        }
        let op = opt_str(t, "operator").unwrap_or("Equal");
        match op {
            "Exists" => {
                if !str_of(t, "value").is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        str_of(t, "value"),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            "Equal" | "" => {
                if key.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        op,
                        "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                    ));
                }
                let value = str_of(t, "value");
                push_msgs(
                    errs,
                    &child(&p, "value"),
                    value,
                    is_valid_label_value(value),
                );
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if let Some(effect) = opt_str(t, "effect").filter(|e| !e.is_empty()) {
            if !TAINT_EFFECTS.contains(&effect) {
                errs.push(FieldError::not_supported(
                    child(&p, "effect"),
                    effect,
                    TAINT_EFFECTS,
                ));
            }
        }
        if has(t, "tolerationSeconds") && opt_str(t, "effect") != Some("NoExecute") {
            errs.push(FieldError::invalid(
                child(&p, "effect"),
                str_of(t, "effect"),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
    }
}

/// The fields an ephemeral container may set (empty values aside, as upstream compares with
/// the zero value): upstream's allow list (probes, ports, resources,
/// lifecycle and the rest are for containers the pod relies on).
const EPHEMERAL_ALLOWED: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "envFrom",
    "env",
    "volumeMounts",
    "volumeDevices",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
    "targetContainerName",
];

/// Upstream's `ValidatePodEphemeralContainersUpdate`, for writes through
/// `pods/ephemeralcontainers` (which change nothing but `spec.ephemeralContainers`): the
/// ephemeral containers are valid, their names unique among all the pod's containers, and
/// those already there are neither changed nor removed.
pub fn validate_ephemeral_containers_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (old_spec, new_spec) = (sub(old, "spec"), sub(new, "spec"));
    let path = "spec.ephemeralContainers";
    let mut names: BTreeSet<String> = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| arr(new_spec, k))
        .map(|c| str_of(c, "name").to_string())
        .collect();
    let targets = names.clone();
    let list = arr(new_spec, "ephemeralContainers");
    for (i, ec) in list.iter().enumerate() {
        let at = index(path, i);
        let name = str_of(ec, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&at, "name"), ""));
        } else {
            let msgs = is_dns1123_label(name);
            if !msgs.is_empty() {
                push_msgs(&mut errs, &child(&at, "name"), name, msgs);
            } else if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&at, "name"), name));
            }
        }
        if str_of(ec, "image").is_empty() {
            errs.push(FieldError::required(child(&at, "image"), ""));
        }
        if let Some(fields) = ec.as_object() {
            for (k, v) in fields {
                if !is_empty_value(v) && !EPHEMERAL_ALLOWED.contains(&k.as_str()) {
                    errs.push(FieldError::forbidden(
                        child(&at, k),
                        "cannot be set for an Ephemeral Container",
                    ));
                }
            }
        }
        if let Some(t) = opt_str(ec, "targetContainerName").filter(|t| !t.is_empty()) {
            if !targets.contains(t) {
                errs.push(FieldError::not_found(child(&at, "targetContainerName"), t));
            }
        }
    }
    for o in arr(old_spec, "ephemeralContainers") {
        let name = str_of(o, "name");
        match list.iter().find(|n| str_of(n, "name") == name) {
            None => errs.push(FieldError::forbidden(
                path,
                format!("existing ephemeral containers {name:?} may not be removed\n"),
            )),
            Some(n) if !same(n, o) => errs.push(FieldError::forbidden(
                key_path(path, name),
                format!("existing ephemeral containers {name:?} may not be changed\n"),
            )),
            Some(_) => {}
        }
    }
    errs
}

pub(super) fn validate_pod_update(old: &Value, new: &Value, errs: &mut Errs) {
    // activeDeadlineSeconds may be added or lowered, never raised or removed.
    match (
        int_of(old, "activeDeadlineSeconds"),
        int_of(new, "activeDeadlineSeconds"),
    ) {
        (Some(o), Some(n)) if n > o => {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                n,
                "must be less than or equal to previous value",
            ));
            return;
        }
        (Some(_), None) => {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                Value::Null,
                "must not update from a positive integer to nil value",
            ));
            return;
        }
        _ => {}
    }
    // Existing tolerations must all remain (only their tolerationSeconds may change).
    let without_seconds = |t: &Value| {
        let mut t = normalized(t);
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    let new_tolerations: Vec<Value> = arr(new, "tolerations")
        .iter()
        .map(without_seconds)
        .collect();
    for t in arr(old, "tolerations") {
        if !new_tolerations.contains(&without_seconds(t)) {
            errs.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            return;
        }
    }

    // Copy the mutable fields from the new spec onto the old one; anything else that differs
    // is a forbidden change.
    let mut patched = old.clone();
    let Some(p) = patched.as_object_mut() else {
        return;
    };
    for key in ["containers", "initContainers"] {
        let new_list = arr(new, key);
        if let Some(Value::Array(list)) = p.get_mut(key) {
            if list.len() == new_list.len() {
                for (c, n) in list.iter_mut().zip(new_list) {
                    if let (Some(c), Some(image)) = (c.as_object_mut(), n.get("image")) {
                        c.insert("image".into(), image.clone());
                    }
                }
            }
        }
    }
    for key in ["activeDeadlineSeconds", "tolerations"] {
        match new.get(key) {
            Some(v) => p.insert(key.into(), v.clone()),
            None => p.remove(key),
        };
    }
    // A negative grace period (old clients) may be corrected to 1.
    if int_of(old, "terminationGracePeriodSeconds").is_some_and(|s| s < 0)
        && int_of(new, "terminationGracePeriodSeconds") == Some(1)
    {
        p.insert("terminationGracePeriodSeconds".into(), Value::from(1));
    }
    if !same(&patched, new) {
        errs.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    #[test]
    fn valid_pod_passes() {
        let spec = json!({
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "env": [{"name": "MODE", "value": "prod"}]
            }],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "restartPolicy": "Always",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
        });
        assert_eq!(check_pod(spec), Vec::<String>::new());
    }

    #[test]
    fn pod_needs_containers() {
        assert_eq!(check_pod(json!({})), ["spec.containers: Required value"]);
        assert_eq!(
            check_pod(json!({"containers": []})),
            ["spec.containers: Required value"]
        );
        assert_eq!(
            check("", "pods", true, json!({"metadata": {"name": "p"}})),
            ["spec.containers: Required value"]
        );
    }

    #[test]
    fn container_name_and_image() {
        assert_eq!(
            check_pod(json!({"containers": [{"image": "nginx"}]})),
            ["spec.containers[0].name: Required value"]
        );
        assert_eq!(
            check_pod(json!({"containers": [{"name": "app"}]})),
            ["spec.containers[0].image: Required value"]
        );
        assert_eq!(
            check_pod(json!({"containers": [{"name": "App", "image": "nginx"}]})),
            [format!(
                "spec.containers[0].name: Invalid value: \"App\": {LABEL_MSG}"
            )]
        );
        assert_eq!(
            check_pod(json!({"containers": [container(), container()]})),
            ["spec.containers[1].name: Duplicate value: \"app\""]
        );
        assert_eq!(
            check_pod(json!({"initContainers": [container()], "containers": [container()]})),
            ["spec.containers[0].name: Duplicate value: \"app\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [{"name": "app", "image": " nginx"}]})),
            ["spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace"]
        );
    }

    #[test]
    fn container_ports() {
        let with_ports = |ports: Value| {
            check_pod(json!({"containers": [{"name": "app", "image": "nginx", "ports": ports}]}))
        };
        assert_eq!(
            with_ports(json!([{"containerPort": 70000}])),
            ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            with_ports(json!([{}])),
            ["spec.containers[0].ports[0].containerPort: Required value"]
        );
        assert_eq!(
            with_ports(json!([{"containerPort": 80, "protocol": "HTTP"}])),
            ["spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""]
        );
        assert_eq!(
            with_ports(json!([{"containerPort": 80, "hostPort": 0}, {"containerPort": 81, "hostPort": 99999}])),
            ["spec.containers[0].ports[1].hostPort: Invalid value: 99999: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            with_ports(
                json!([{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}])
            ),
            ["spec.containers[0].ports[1].name: Duplicate value: \"web\""]
        );
        let host_net = check_pod(
            json!({"hostNetwork": true, "containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
        );
        assert_eq!(host_net, ["spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"]);
    }

    #[test]
    fn restart_policy_and_dns_policy() {
        assert_eq!(
            check_pod(json!({"containers": [container()], "restartPolicy": "Sometimes"})),
            ["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "dnsPolicy": "Google"})),
            ["spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "activeDeadlineSeconds": 0})),
            ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"]
        );
    }

    #[test]
    fn volumes_and_mounts() {
        assert_eq!(
            check_pod(
                json!({"containers": [container()], "volumes": [{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}]})
            ),
            ["spec.volumes[1].name: Duplicate value: \"a\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "volumes": [{"name": "a"}]})),
            ["spec.volumes[0]: Required value: must specify a volume type"]
        );
        assert_eq!(
            check_pod(
                json!({"containers": [container()], "volumes": [{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}}]})
            ),
            ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"]
        );
        assert_eq!(
            check_pod(
                json!({"containers": [{"name": "app", "image": "x", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}]})
            ),
            ["spec.containers[0].volumeMounts[0].name: Not found: \"nope\""]
        );
        assert_eq!(
            check_pod(json!({
                "volumes": [{"name": "a", "emptyDir": {}}],
                "containers": [{"name": "app", "image": "x", "volumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/x"}]}]
            })),
            ["spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/x\": must be unique"]
        );
    }

    #[test]
    fn requests_may_not_exceed_limits() {
        let with_resources = |r: Value| {
            check_pod(json!({"containers": [{"name": "app", "image": "x", "resources": r}]}))
        };
        assert_eq!(
            with_resources(json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "10m"}})),
            ["spec.containers[0].resources.requests: Invalid value: \"100m\": must be less than or equal to cpu limit of 10m"]
        );
        assert_eq!(
            with_resources(json!({"requests": {"memory": "1Gi"}, "limits": {"memory": "1G"}})),
            ["spec.containers[0].resources.requests: Invalid value: \"1Gi\": must be less than or equal to memory limit of 1G"]
        );
        assert!(
            with_resources(json!({"requests": {"cpu": "1000m"}, "limits": {"cpu": "1"}}))
                .is_empty()
        );
        assert_eq!(
            with_resources(json!({"limits": {"cpu": "lots"}})),
            ["spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]
        );
        assert_eq!(
            with_resources(json!({"requests": {"cpu": "-1"}})),
            ["spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"]
        );
    }

    #[test]
    fn env_and_tolerations() {
        assert_eq!(
            check_pod(
                json!({"containers": [{"name": "app", "image": "x", "env": [{"value": "v"}]}]})
            ),
            ["spec.containers[0].env[0].name: Required value"]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "tolerations": [{"key": "k", "operator": "Maybe"}]})),
            ["spec.tolerations[0].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\""]
        );
        assert_eq!(
            check_pod(json!({"containers": [container()], "tolerations": [{"key": "k", "effect": "NoRun"}]})),
            ["spec.tolerations[0].effect: Unsupported value: \"NoRun\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""]
        );
    }

    #[test]
    fn sidecar_restart_policy() {
        assert!(check_pod(json!({"initContainers": [{"name": "side", "image": "x", "restartPolicy": "Always"}], "containers": [container()]})).is_empty());
        assert_eq!(
            check_pod(json!({"containers": [{"name": "app", "image": "x", "restartPolicy": "Always"}]})),
            ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"]
        );
    }

    #[test]
    fn pod_image_and_deadline_may_change() {
        let old = pod(json!({"containers": [container()], "activeDeadlineSeconds": 100}));
        let new = pod(
            json!({"containers": [{"name": "app", "image": "nginx:2"}], "activeDeadlineSeconds": 50}),
        );
        assert!(update("", "pods", old, new).is_empty());
    }

    #[test]
    fn pod_other_spec_changes_are_forbidden() {
        let old = pod(json!({"containers": [container()]}));
        let new = pod(
            json!({"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}),
        );
        assert_eq!(
            update("", "pods", old, new),
            [format!("spec: Forbidden: {POD_UPDATE_FORBIDDEN}")]
        );
        assert!(POD_UPDATE_FORBIDDEN.starts_with(
            "pod updates may not change fields other than `spec.containers[*].image`"
        ));
    }

    #[test]
    fn pod_updates_ignore_empty_versus_missing() {
        let old = pod(json!({"containers": [container()], "volumes": [], "nodeSelector": {}}));
        let new = pod(json!({"containers": [container()]}));
        assert!(update("", "pods", old, new).is_empty());
    }

    #[test]
    fn pod_tolerations_may_only_be_added() {
        let t1 = json!({"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30});
        let t2 = json!({"key": "b", "operator": "Exists"});
        let old = pod(json!({"containers": [container()], "tolerations": [t1.clone()]}));
        let mut t1_shorter = t1.clone();
        t1_shorter["tolerationSeconds"] = json!(10);
        let added =
            pod(json!({"containers": [container()], "tolerations": [t1_shorter, t2.clone()]}));
        assert!(update("", "pods", old.clone(), added).is_empty());
        let removed = pod(json!({"containers": [container()], "tolerations": [t2]}));
        assert_eq!(
            update("", "pods", old, removed),
            ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
        );
    }

    #[test]
    fn pod_active_deadline_may_not_grow_or_vanish() {
        let old = pod(json!({"containers": [container()], "activeDeadlineSeconds": 100}));
        assert_eq!(
            update("", "pods", old.clone(), pod(json!({"containers": [container()], "activeDeadlineSeconds": 200}))),
            ["spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"]
        );
        assert_eq!(
            update("", "pods", old, pod(json!({"containers": [container()]}))),
            ["spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"]
        );
    }

    #[test]
    fn pod_grace_period_may_be_fixed_from_negative() {
        let old = pod(json!({"containers": [container()], "terminationGracePeriodSeconds": -1}));
        let fixed = pod(json!({"containers": [container()], "terminationGracePeriodSeconds": 1}));
        assert!(update("", "pods", old, fixed).is_empty());
        let old = pod(json!({"containers": [container()], "terminationGracePeriodSeconds": 30}));
        let changed =
            pod(json!({"containers": [container()], "terminationGracePeriodSeconds": 10}));
        assert_eq!(update("", "pods", old, changed).len(), 1);
    }

    #[test]
    fn ephemeral_containers_may_only_be_added() {
        let spec = |ecs: Value| json!({"spec": {"containers": [{"name": "app", "image": "i"}], "ephemeralContainers": ecs}});
        let dbg = json!({"name": "dbg", "image": "busybox", "targetContainerName": "app", "resources": {}});
        let none = spec(json!([]));
        let one = spec(json!([dbg.clone()]));
        assert!(validate_ephemeral_containers_update(&none, &one).is_empty());
        assert!(validate_ephemeral_containers_update(&one, &one).is_empty());
        let msgs =
            |errs: Vec<FieldError>| -> Vec<String> { errs.iter().map(|e| e.message()).collect() };
        assert_eq!(
            msgs(validate_ephemeral_containers_update(&one, &none)),
            ["spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may not be removed\n"]
        );
        let mut changed = dbg.clone();
        changed["image"] = json!("other");
        assert_eq!(
            msgs(validate_ephemeral_containers_update(&one, &spec(json!([changed])))),
            ["spec.ephemeralContainers[dbg]: Forbidden: existing ephemeral containers \"dbg\" may not be changed\n"]
        );
        let bad = spec(
            json!([{"name": "app", "livenessProbe": {"tcpSocket": {"port": 1}}, "targetContainerName": "x"}]),
        );
        assert_eq!(
            msgs(validate_ephemeral_containers_update(&none, &bad)),
            [
                "spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
                "spec.ephemeralContainers[0].image: Required value",
                "spec.ephemeralContainers[0].livenessProbe: Forbidden: cannot be set for an Ephemeral Container",
                "spec.ephemeralContainers[0].targetContainerName: Not found: \"x\"",
            ]
        );
    }
}
