//! A container's environment as upstream builds it: `envFrom` sources first, then `env` in
//! order (plain values with `$(VAR)` expansion, `valueFrom` ConfigMap/Secret keys, fieldRef
//! and resourceFieldRef), from ConfigMaps and Secrets the caller has fetched.

use std::collections::{BTreeMap, HashMap};

use api_types::quantity::Quantity;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};

/// Errors that keep a container from being created (`CreateContainerConfigError`).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("configmap {0:?} not found")]
    ConfigMapNotFound(String),
    #[error("secret {0:?} not found")]
    SecretNotFound(String),
    #[error("couldn't find key {key} in ConfigMap {namespace}/{name}")]
    ConfigMapKey {
        key: String,
        namespace: String,
        name: String,
    },
    #[error("couldn't find key {key} in Secret {namespace}/{name}")]
    SecretKey {
        key: String,
        namespace: String,
        name: String,
    },
    #[error("unsupported fieldRef {0:?}")]
    FieldPath(String),
    #[error("unsupported resourceFieldRef {0:?}")]
    Resource(String),
}

/// The ConfigMaps and Secrets of the pod's namespace the environment refers to (absent ones
/// are simply missing).
#[derive(Debug, Default)]
pub struct Sources {
    pub config_maps: HashMap<String, ConfigMap>,
    pub secrets: HashMap<String, Secret>,
}

/// The names of ConfigMaps and Secrets `c`'s environment refers to.
pub fn references(c: &Container) -> (Vec<String>, Vec<String>) {
    let (mut cms, mut secrets) = (Vec::new(), Vec::new());
    for from in c.env_from.iter().flatten() {
        if let Some(r) = &from.config_map_ref {
            cms.push(r.name.clone());
        }
        if let Some(r) = &from.secret_ref {
            secrets.push(r.name.clone());
        }
    }
    for e in c.env.iter().flatten() {
        if let Some(v) = &e.value_from {
            if let Some(r) = &v.config_map_key_ref {
                cms.push(r.name.clone());
            }
            if let Some(r) = &v.secret_key_ref {
                secrets.push(r.name.clone());
            }
        }
    }
    cms.sort();
    cms.dedup();
    secrets.sort();
    secrets.dedup();
    (cms, secrets)
}

/// What fieldRefs and resourceFieldRefs read besides the pod itself.
#[derive(Debug, Default, Clone)]
pub struct PodContext {
    pub host_ip: String,
    pub pod_ips: Vec<String>,
    /// The node's allocatable cpu and memory, the default for limits the container lacks.
    pub node_allocatable: BTreeMap<String, Quantity>,
}

/// The value of a downward API field path (shared with downwardAPI volumes).
pub fn field_value(pod: &Pod, path: &str, ctx: &PodContext) -> Result<String, Error> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let map_key = |prefix: &str| -> Option<String> {
        path.strip_prefix(prefix)?
            .strip_prefix("['")?
            .strip_suffix("']")
            .map(str::to_string)
    };
    Ok(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" => ctx.host_ip.clone(),
        "status.hostIPs" => ctx.host_ip.clone(),
        "status.podIP" => ctx.pod_ips.first().cloned().unwrap_or_default(),
        "status.podIPs" => ctx.pod_ips.join(","),
        _ => {
            if let Some(k) = map_key("metadata.labels") {
                meta.labels
                    .as_ref()
                    .and_then(|l| l.get(&k).cloned())
                    .unwrap_or_default()
            } else if let Some(k) = map_key("metadata.annotations") {
                meta.annotations
                    .as_ref()
                    .and_then(|l| l.get(&k).cloned())
                    .unwrap_or_default()
            } else {
                return Err(Error::FieldPath(path.to_string()));
            }
        }
    })
}

/// `key="value"` lines, sorted by key, as the downward API renders maps.
fn format_map(m: Option<&BTreeMap<String, String>>) -> String {
    m.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of a resourceFieldRef of container `c`, rounded up to `divisor` units.
pub fn resource_value(
    c: &Container,
    resource: &str,
    divisor: Option<&str>,
    ctx: &PodContext,
) -> Result<String, Error> {
    let bad = || Error::Resource(resource.to_string());
    let (kind, name) = resource.split_once('.').ok_or_else(bad)?;
    let res = c.resources.as_ref();
    let from =
        |m: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>| {
            m.and_then(|m| m.get(name))
                .and_then(|q| Quantity::parse(&q.0).ok())
        };
    let value = match kind {
        "limits" => from(res.and_then(|r| r.limits.as_ref())),
        "requests" => from(res.and_then(|r| r.requests.as_ref())),
        _ => return Err(bad()),
    };
    let value = match value {
        Some(v) => v,
        // Unset limits read as the node's allocatable; unset requests as zero (cpu, memory).
        None if kind == "limits" => ctx.node_allocatable.get(name).cloned().unwrap_or_default(),
        None => Quantity::zero(),
    };
    let divisor = match divisor {
        Some(d) if !d.is_empty() => Quantity::parse(d).map_err(|_| bad())?,
        _ => Quantity::parse("1").map_err(|_| bad())?,
    };
    if divisor.is_zero() {
        return Err(bad());
    }
    let (v, d) = if name == "cpu" {
        (value.milli_value(), divisor.milli_value())
    } else {
        (value.value(), divisor.value().max(1))
    };
    let out = (v + d - 1).div_euclid(d);
    // CPU limits never read as zero (upstream rounds a fractional core up to 1).
    Ok(if name == "cpu" { out.max(1) } else { out }.to_string())
}

/// Expands `$(VAR)` from `vars`; `$$` escapes a `$`, unknown references stay as written.
pub fn expand(input: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('(') {
            match body.find(')') {
                Some(end) => {
                    let name = &body[..end];
                    match vars.get(name) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &body[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = body;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn bytes_to_string(b: &k8s_openapi::ByteString) -> String {
    String::from_utf8_lossy(&b.0).into_owned()
}

/// The environment of container `c`, in upstream's order (later entries win on duplicates,
/// which the runtime applies in order).
pub fn resolve(
    pod: &Pod,
    c: &Container,
    src: &Sources,
    ctx: &PodContext,
) -> Result<Vec<(String, String)>, Error> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut set = |out: &mut Vec<(String, String)>, k: String, v: String| {
        vars.insert(k.clone(), v.clone());
        out.push((k, v));
    };
    for from in c.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        if let Some(r) = &from.config_map_ref {
            match src.config_maps.get(&r.name) {
                Some(cm) => {
                    for (k, v) in cm.data.iter().flatten() {
                        set(&mut out, format!("{prefix}{k}"), v.clone());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(Error::ConfigMapNotFound(r.name.clone())),
            }
        }
        if let Some(r) = &from.secret_ref {
            match src.secrets.get(&r.name) {
                Some(s) => {
                    for (k, v) in s.data.iter().flatten() {
                        set(&mut out, format!("{prefix}{k}"), bytes_to_string(v));
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(Error::SecretNotFound(r.name.clone())),
            }
        }
    }
    for e in c.env.iter().flatten() {
        let value = match &e.value_from {
            None => {
                let known: HashMap<String, String> =
                    out.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                expand(e.value.as_deref().unwrap_or(""), &known)
            }
            Some(from) => {
                if let Some(r) = &from.config_map_key_ref {
                    let optional = r.optional == Some(true);
                    match src.config_maps.get(&r.name) {
                        Some(cm) => match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                            Some(v) => v.clone(),
                            None if optional => continue,
                            None => {
                                return Err(Error::ConfigMapKey {
                                    key: r.key.clone(),
                                    namespace,
                                    name: r.name.clone(),
                                })
                            }
                        },
                        None if optional => continue,
                        None => return Err(Error::ConfigMapNotFound(r.name.clone())),
                    }
                } else if let Some(r) = &from.secret_key_ref {
                    let optional = r.optional == Some(true);
                    match src.secrets.get(&r.name) {
                        Some(s) => match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                            Some(v) => bytes_to_string(v),
                            None if optional => continue,
                            None => {
                                return Err(Error::SecretKey {
                                    key: r.key.clone(),
                                    namespace,
                                    name: r.name.clone(),
                                })
                            }
                        },
                        None if optional => continue,
                        None => return Err(Error::SecretNotFound(r.name.clone())),
                    }
                } else if let Some(f) = &from.field_ref {
                    field_value(pod, &f.field_path, ctx)?
                } else if let Some(r) = &from.resource_field_ref {
                    resource_value(
                        c,
                        &r.resource,
                        r.divisor.as_ref().map(|d| d.0.as_str()),
                        ctx,
                    )?
                } else {
                    String::new()
                }
            }
        };
        set(&mut out, e.name.clone(), value);
    }
    Ok(out)
}

/// `command` and `args` with `$(VAR)` expanded from the environment.
pub fn expand_all(list: Option<&Vec<String>>, env: &[(String, String)]) -> Vec<String> {
    let vars: HashMap<String, String> = env.iter().cloned().collect();
    list.into_iter()
        .flatten()
        .map(|s| expand(s, &vars))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns1", "uid": "u-1", "labels": {"app": "x"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}}}]},
        }))
        .unwrap()
    }

    fn container(env: serde_json::Value) -> Container {
        let mut c = pod().spec.unwrap().containers.remove(0);
        let extra: Container = serde_json::from_value(
            json!({"name": "c", "env": env["env"], "envFrom": env["envFrom"]}),
        )
        .unwrap();
        c.env = extra.env;
        c.env_from = extra.env_from;
        c
    }

    fn sources() -> Sources {
        let cm: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": "cfg"}, "data": {"COLOR": "blue", "SIZE": "2"}}),
        )
        .unwrap();
        let s: Secret = serde_json::from_value(
            json!({"metadata": {"name": "sec"}, "data": {"PASS": "aHVudGVyMg=="}}),
        )
        .unwrap();
        Sources {
            config_maps: [("cfg".to_string(), cm)].into(),
            secrets: [("sec".to_string(), s)].into(),
        }
    }

    fn ctx() -> PodContext {
        PodContext {
            host_ip: "192.168.1.2".into(),
            pod_ips: vec!["10.244.1.7".into()],
            node_allocatable: [("memory".to_string(), Quantity::parse("1Gi").unwrap())].into(),
        }
    }

    #[test]
    fn every_source_in_upstream_order() {
        let c = container(json!({
            "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CM_"}],
            "env": [
                {"name": "A", "value": "plain"},
                {"name": "B", "value": "$(A)-$(CM_COLOR)-$$(A)-$(NOPE)"},
                {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "COLOR"}}},
                {"name": "D", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "PASS"}}},
                {"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "G", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                {"name": "H", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "I", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                {"name": "J", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            ]
        }));
        let env = resolve(&pod(), &c, &sources(), &ctx()).unwrap();
        let get = |k: &str| {
            env.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("CM_COLOR"), Some("blue"));
        assert_eq!(get("B"), Some("plain-blue-$(A)-$(NOPE)"));
        assert_eq!(get("C"), Some("blue"));
        assert_eq!(get("D"), Some("hunter2"));
        assert_eq!(get("E"), Some("web"));
        assert_eq!(get("F"), Some("10.244.1.7"));
        assert_eq!(get("G"), Some("x"));
        assert_eq!(get("H"), Some("64"));
        assert_eq!(get("I"), Some("1"));
        assert_eq!(get("J"), Some("n1"));
    }

    #[test]
    fn missing_sources_are_errors_unless_optional() {
        let c = container(
            json!({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "NOPE"}}}]}),
        );
        assert_eq!(
            resolve(&pod(), &c, &sources(), &ctx())
                .unwrap_err()
                .to_string(),
            "couldn't find key NOPE in ConfigMap ns1/cfg"
        );
        let c = container(
            json!({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k", "optional": true}}}]}),
        );
        assert_eq!(resolve(&pod(), &c, &sources(), &ctx()).unwrap(), []);
        let c = container(json!({"envFrom": [{"secretRef": {"name": "other"}}]}));
        assert_eq!(
            resolve(&pod(), &c, &sources(), &ctx()).unwrap_err(),
            Error::SecretNotFound("other".into())
        );
    }

    #[test]
    fn unset_limits_default_to_allocatable() {
        let mut c = container(json!({}));
        c.resources = None;
        assert_eq!(
            resource_value(&c, "limits.memory", None, &ctx()).unwrap(),
            (1u64 << 30).to_string()
        );
        assert!(resource_value(&c, "limits", None, &ctx()).is_err());
    }

    #[test]
    fn expansion_matches_upstream() {
        let vars: HashMap<String, String> = [("X".to_string(), "1".to_string())].into();
        assert_eq!(expand("$(X)$$(X)$X$(", &vars), "1$(X)$X$(");
        assert_eq!(
            expand_all(
                Some(&vec!["echo".into(), "$(X)".into()]),
                &[("X".into(), "y".into())]
            ),
            ["echo", "y"]
        );
    }
}
