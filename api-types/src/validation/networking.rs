//! Services and Endpoints (core/v1), EndpointSlices (discovery.k8s.io), Ingresses, IngressClasses
//! and NetworkPolicies (networking.k8s.io).

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::Value;

use super::common::*;
use super::errors::FieldError;
use super::names::*;
use super::pods::PROTOCOLS;

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

pub(super) fn validate_service(spec: &Value, errs: &mut Errs) {
    let svc_type = opt_str(spec, "type").unwrap_or("ClusterIP");
    let cluster_ip = str_of(spec, "clusterIP");
    let headless = cluster_ip == "None";
    let ports = arr(spec, "ports");

    if !SERVICE_TYPES.contains(&svc_type) {
        errs.push(FieldError::not_supported(
            "spec.type",
            svc_type,
            SERVICE_TYPES,
        ));
    }
    if svc_type == "ExternalName" {
        let external = str_of(spec, "externalName");
        if external.is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        } else {
            let trimmed = external.strip_suffix('.').unwrap_or(external);
            push_msgs(
                errs,
                "spec.externalName",
                external,
                is_dns1123_subdomain(trimmed),
            );
        }
        if !cluster_ip.is_empty() {
            errs.push(FieldError::forbidden(
                "spec.clusterIPs",
                "may not be set for ExternalName services",
            ));
        }
    } else if ports.is_empty() && !headless {
        errs.push(FieldError::required("spec.ports", ""));
    }

    if !cluster_ip.is_empty() && !headless {
        push_msgs(errs, "spec.clusterIP", cluster_ip, is_valid_ip(cluster_ip));
    }
    let cluster_ips = arr(spec, "clusterIPs");
    for (i, ip) in cluster_ips.iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        if i == 0 && ip == "None" {
            if cluster_ips.len() > 1 {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs",
                    Value::Array(cluster_ips.to_vec()),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        push_msgs(errs, &index("spec.clusterIPs", i), ip, is_valid_ip(ip));
    }
    if let (Some(first), false) = (
        cluster_ips.first().and_then(Value::as_str),
        cluster_ip.is_empty(),
    ) {
        if first != cluster_ip {
            errs.push(FieldError::invalid(
                "spec.clusterIPs",
                Value::Array(cluster_ips.to_vec()),
                "first value must match `clusterIP`",
            ));
        }
    }

    let require_name = ports.len() > 1;
    let mut names = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index("spec.ports", i);
        let name = str_of(port, "name");
        if name.is_empty() {
            if require_name {
                errs.push(FieldError::required(child(&p, "name"), ""));
            }
        } else {
            push_msgs(errs, &child(&p, "name"), name, is_dns1123_label(name));
            if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), name));
            }
        }
        let number = int_of(port, "port").unwrap_or(0);
        for msg in is_valid_port_num(number) {
            errs.push(FieldError::invalid(child(&p, "port"), number, msg));
        }
        check_enum(port, "protocol", &p, PROTOCOLS, errs);
        let protocol = opt_str(port, "protocol").unwrap_or("TCP");
        if !seen.insert((number, protocol.to_string())) {
            errs.push(FieldError::duplicate(
                p.clone(),
                serde_json::json!({"port": number, "protocol": protocol}),
            ));
        }
        validate_port_num_or_name(port.get("targetPort"), &child(&p, "targetPort"), errs);
        if let Some(node_port) = int_of(port, "nodePort").filter(|n| *n != 0) {
            if svc_type == "ClusterIP" {
                errs.push(FieldError::forbidden(
                    child(&p, "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else {
                for msg in is_valid_port_num(node_port) {
                    errs.push(FieldError::invalid(child(&p, "nodePort"), node_port, msg));
                }
            }
        }
    }

    check_enum(spec, "sessionAffinity", "spec", &["ClientIP", "None"], errs);
    check_enum(
        spec,
        "externalTrafficPolicy",
        "spec",
        &["Cluster", "Local"],
        errs,
    );
    check_enum(
        spec,
        "internalTrafficPolicy",
        "spec",
        &["Cluster", "Local"],
        errs,
    );
    check_enum(
        spec,
        "ipFamilyPolicy",
        "spec",
        &["PreferDualStack", "RequireDualStack", "SingleStack"],
        errs,
    );
    errs.extend(validate_labels(sub(spec, "selector"), "spec.selector"));
}

/// A port given as a number (1-65535) or a port name.
fn validate_port_num_or_name(v: Option<&Value>, path: &str, errs: &mut Errs) {
    match v {
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(path, n, msg));
            }
        }
        Some(Value::String(s)) => push_msgs(errs, path, s, is_valid_port_name(s)),
        _ => {}
    }
}

pub(super) fn validate_endpoints(obj: &Value, errs: &mut Errs) {
    for (i, subset) in arr(obj, "subsets").iter().enumerate() {
        let sp = index("subsets", i);
        for which in ["addresses", "notReadyAddresses"] {
            for (j, addr) in arr(subset, which).iter().enumerate() {
                let ip = str_of(addr, "ip");
                push_msgs(
                    errs,
                    &child(&index(&child(&sp, which), j), "ip"),
                    ip,
                    is_valid_ip(ip),
                );
            }
        }
        let ports = arr(subset, "ports");
        for (j, port) in ports.iter().enumerate() {
            let p = index(&child(&sp, "ports"), j);
            let name = str_of(port, "name");
            if name.is_empty() && ports.len() > 1 {
                errs.push(FieldError::required(child(&p, "name"), ""));
            } else if !name.is_empty() {
                push_msgs(errs, &child(&p, "name"), name, is_dns1123_label(name));
            }
            let n = int_of(port, "port").unwrap_or(0);
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&p, "port"), n, msg));
            }
            check_enum(port, "protocol", &p, PROTOCOLS, errs);
        }
    }
}

const ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];

pub(super) fn validate_endpoint_slice(obj: &Value, errs: &mut Errs) {
    let address_type = str_of(obj, "addressType");
    if address_type.is_empty() {
        errs.push(FieldError::required("addressType", ""));
    } else if !ADDRESS_TYPES.contains(&address_type) {
        errs.push(FieldError::not_supported(
            "addressType",
            address_type,
            ADDRESS_TYPES,
        ));
    }
    let endpoints = arr(obj, "endpoints");
    if endpoints.len() > 1000 {
        errs.push(FieldError::too_many("endpoints", endpoints.len(), 1000));
    }
    for (i, ep) in endpoints.iter().enumerate() {
        let p = index("endpoints", i);
        let ap = child(&p, "addresses");
        let addresses = arr(ep, "addresses");
        if addresses.is_empty() {
            errs.push(FieldError::required(
                ap.clone(),
                "must contain at least 1 address",
            ));
        } else if addresses.len() > 100 {
            errs.push(FieldError::too_many(ap.clone(), addresses.len(), 100));
        }
        for (j, a) in addresses.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            let msgs = match address_type {
                "IPv4" => is_valid_ipv4_address(a),
                "IPv6" => is_valid_ipv6_address(a),
                "FQDN" => is_dns1123_subdomain(a),
                _ => Vec::new(),
            };
            push_msgs(errs, &index(&ap, j), a, msgs);
        }
        if let Some(node) = opt_str(ep, "nodeName").filter(|n| !n.is_empty()) {
            push_msgs(
                errs,
                &child(&p, "nodeName"),
                node,
                is_dns1123_subdomain(node),
            );
        }
        if let Some(host) = opt_str(ep, "hostname").filter(|n| !n.is_empty()) {
            push_msgs(errs, &child(&p, "hostname"), host, is_dns1123_label(host));
        }
    }
    let ports = arr(obj, "ports");
    if ports.len() > 20000 {
        errs.push(FieldError::too_many("ports", ports.len(), 20000));
    }
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index("ports", i);
        let name = str_of(port, "name");
        if !name.is_empty() {
            push_msgs(errs, &child(&p, "name"), name, is_dns1123_label(name));
        }
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(&p, "name"), name));
        }
        check_enum(port, "protocol", &p, PROTOCOLS, errs);
        if let Some(n) = int_of(port, "port") {
            for msg in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&p, "port"), n, msg));
            }
        }
    }
}

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];

pub(super) fn validate_ingress(spec: &Value, errs: &mut Errs) {
    let rules = arr(spec, "rules");
    if let Some(backend) = spec.get("defaultBackend").filter(|b| !b.is_null()) {
        validate_ingress_backend(backend, "spec.defaultBackend", errs);
    } else if rules.is_empty() {
        errs.push(FieldError::invalid_rendered(
            "spec",
            normalized(spec).to_string(),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    for (i, rule) in rules.iter().enumerate() {
        let p = index("spec.rules", i);
        let host = str_of(rule, "host");
        if !host.is_empty() {
            if host.parse::<IpAddr>().is_ok() {
                errs.push(FieldError::invalid(
                    child(&p, "host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            } else if host.contains('*') {
                push_msgs(
                    errs,
                    &child(&p, "host"),
                    host,
                    is_wildcard_dns1123_subdomain(host),
                );
            } else {
                push_msgs(errs, &child(&p, "host"), host, is_dns1123_subdomain(host));
            }
        }
        let http = sub(rule, "http");
        if http.is_null() {
            continue;
        }
        let paths = arr(http, "paths");
        if paths.is_empty() {
            errs.push(FieldError::required(child(&p, "http.paths"), ""));
        }
        for (j, path) in paths.iter().enumerate() {
            let pp = index(&child(&p, "http.paths"), j);
            let path_type = str_of(path, "pathType");
            let text = str_of(path, "path");
            if path_type.is_empty() {
                errs.push(FieldError::required(
                    child(&pp, "pathType"),
                    "pathType must be specified",
                ));
            } else if !PATH_TYPES.contains(&path_type) {
                errs.push(FieldError::not_supported(
                    child(&pp, "pathType"),
                    path_type,
                    PATH_TYPES,
                ));
            } else if path_type != "ImplementationSpecific" && !text.starts_with('/') {
                errs.push(FieldError::invalid(
                    child(&pp, "path"),
                    text,
                    "must be an absolute path",
                ));
            }
            validate_ingress_backend(sub(path, "backend"), &child(&pp, "backend"), errs);
        }
    }
    for (i, tls) in arr(spec, "tls").iter().enumerate() {
        for (j, host) in arr(tls, "hosts").iter().enumerate() {
            let host = host.as_str().unwrap_or("");
            let p = index(&child(&index("spec.tls", i), "hosts"), j);
            let msgs = if host.contains('*') {
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            push_msgs(errs, &p, host, msgs);
        }
    }
}

fn validate_ingress_backend(backend: &Value, path: &str, errs: &mut Errs) {
    let service = sub(backend, "service");
    let resource = sub(backend, "resource");
    match (service.is_null(), resource.is_null()) {
        (false, false) => errs.push(FieldError::invalid_rendered(
            path,
            normalized(backend).to_string(),
            "cannot set both resource and service backends",
        )),
        (true, true) => errs.push(FieldError::invalid_rendered(
            path,
            normalized(backend).to_string(),
            "resource or service backend is required",
        )),
        (false, true) => {
            let sp = child(path, "service");
            let name = str_of(service, "name");
            if name.is_empty() {
                errs.push(FieldError::required(child(&sp, "name"), ""));
            } else {
                push_msgs(errs, &child(&sp, "name"), name, is_dns1035_label(name));
            }
            let port = sub(service, "port");
            let pp = child(&sp, "port");
            let port_name = str_of(port, "name");
            match (port_name.is_empty(), int_of(port, "number")) {
                (false, Some(_)) => errs.push(FieldError::invalid_rendered(
                    pp,
                    normalized(port).to_string(),
                    "cannot set both port name & port number",
                )),
                (false, None) => push_msgs(
                    errs,
                    &child(&pp, "name"),
                    port_name,
                    is_valid_port_name(port_name),
                ),
                (true, Some(n)) => {
                    for msg in is_valid_port_num(n) {
                        errs.push(FieldError::invalid(child(&pp, "number"), n, msg));
                    }
                }
                (true, None) => errs.push(FieldError::invalid_rendered(
                    pp,
                    normalized(port).to_string(),
                    "port name or number is required",
                )),
            }
        }
        (true, false) => {
            let rp = child(path, "resource");
            for key in ["kind", "name"] {
                if str_of(resource, key).is_empty() {
                    errs.push(FieldError::required(child(&rp, key), ""));
                }
            }
        }
    }
}

pub(super) fn validate_network_policy(spec: &Value, errs: &mut Errs) {
    errs.extend(validate_label_selector(
        sub(spec, "podSelector"),
        "spec.podSelector",
    ));
    for (i, t) in arr(spec, "policyTypes").iter().enumerate() {
        let t = t.as_str().unwrap_or("");
        if t != "Ingress" && t != "Egress" {
            errs.push(FieldError::not_supported(
                index("spec.policyTypes", i),
                t,
                &["Ingress", "Egress"],
            ));
        }
    }
    for (dir, peers_key) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = index(&child("spec", dir), i);
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                let pp = index(&child(&rp, "ports"), j);
                check_enum(port, "protocol", &pp, PROTOCOLS, errs);
                validate_port_num_or_name(port.get("port"), &child(&pp, "port"), errs);
            }
            for (j, peer) in arr(rule, peers_key).iter().enumerate() {
                let pp = index(&child(&rp, peers_key), j);
                for sel in ["podSelector", "namespaceSelector"] {
                    if let Some(s) = peer.get(sel).filter(|s| !s.is_null()) {
                        errs.extend(validate_label_selector(s, &child(&pp, sel)));
                    }
                }
                if let Some(cidr) = opt_str(sub(peer, "ipBlock"), "cidr") {
                    push_msgs(errs, &child(&pp, "ipBlock.cidr"), cidr, is_valid_cidr(cidr));
                }
            }
        }
    }
}

pub(super) fn validate_service_update(old: &Value, new: &Value, errs: &mut Errs) {
    // ExternalName services have no cluster IP, so switching to or from them may change it.
    let is_external = |s: &Value| str_of(s, "type") == "ExternalName";
    if is_external(old) || is_external(new) {
        return;
    }
    let (old_ip, new_ip) = (str_of(old, "clusterIP"), str_of(new, "clusterIP"));
    if !old_ip.is_empty() && old_ip != new_ip {
        errs.push(FieldError::invalid(
            "spec.clusterIP",
            new_ip,
            "field is immutable",
        ));
    }
}

/// An EndpointSlice's address type is fixed at creation.
pub(super) fn validate_endpoint_slice_update(old: &Value, new: &Value, errs: &mut Errs) {
    if str_of(old, "addressType") != str_of(new, "addressType") {
        errs.push(FieldError::invalid(
            "addressType",
            str_of(new, "addressType"),
            "field is immutable",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::testing::*;
    use serde_json::json;

    fn check_service(spec: Value) -> Vec<String> {
        check(
            "",
            "services",
            true,
            json!({"metadata": {"name": "web"}, "spec": spec}),
        )
    }

    #[test]
    fn service_ports() {
        assert!(check_service(
            json!({"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "web"}})
        )
        .is_empty());
        assert_eq!(check_service(json!({})), ["spec.ports: Required value"]);
        assert!(check_service(json!({"clusterIP": "None"})).is_empty());
        assert!(
            check_service(json!({"type": "ExternalName", "externalName": "db.example.com"}))
                .is_empty()
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 80}, {"port": 81}]})),
            [
                "spec.ports[0].name: Required value",
                "spec.ports[1].name: Required value"
            ]
        );
        assert_eq!(
            check_service(json!({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]})),
            ["spec.ports[1].name: Duplicate value: \"a\""]
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 0}]})),
            ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 80, "targetPort": "HTTP"}]})),
            [
                "spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain at least one letter (a-z)"
            ]
        );
        assert_eq!(
            check_service(json!({"ports": [{"port": 80, "nodePort": 30080}]})),
            ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
        );
        assert!(check_service(
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})
        )
        .is_empty());
    }

    #[test]
    fn service_type_and_cluster_ip() {
        assert_eq!(
            check_service(json!({"type": "Magic", "ports": [{"port": 80}]})),
            ["spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""]
        );
        assert_eq!(
            check_service(json!({"clusterIP": "10.0.0", "ports": [{"port": 80}]})),
            ["spec.clusterIP: Invalid value: \"10.0.0\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
        );
        assert!(check_service(json!({"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": [{"port": 53}]})).is_empty());
        assert_eq!(
            check_service(json!({"type": "ExternalName"})),
            ["spec.externalName: Required value"]
        );
    }

    #[test]
    fn leases_and_endpoint_slices() {
        assert_eq!(
            check(
                "coordination.k8s.io",
                "leases",
                true,
                json!({"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}})
            ),
            ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
        );
        let slice = |obj: Value| check("discovery.k8s.io", "endpointslices", true, obj);
        assert_eq!(
            slice(json!({"metadata": {"name": "s"}})),
            ["addressType: Required value"]
        );
        assert_eq!(
            slice(json!({"metadata": {"name": "s"}, "addressType": "IPv5"})),
            ["addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""]
        );
        assert_eq!(
            slice(
                json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["::1"]}, {"addresses": []}]})
            ),
            [
                "endpoints[0].addresses[0]: Invalid value: \"::1\": must be a valid IPv4 address",
                "endpoints[1].addresses: Required value: must contain at least 1 address"
            ]
        );
        assert!(slice(json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})).is_empty());
    }

    #[test]
    fn ingresses() {
        let ing = |spec: Value| {
            check(
                "networking.k8s.io",
                "ingresses",
                true,
                json!({"metadata": {"name": "i"}, "spec": spec}),
            )
        };
        let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
        assert!(ing(json!({"rules": [{"host": "*.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]})).is_empty());
        assert_eq!(
            ing(json!({"rules": [{"host": "1.2.3.4", "http": {"paths": [{"path": "api", "pathType": "Exact", "backend": backend}]}}]})),
            [
                "spec.rules[0].host: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address",
                "spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path"
            ]
        );
        assert_eq!(
            ing(json!({"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]})),
            ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]
        );
        assert_eq!(
            ing(json!({})),
            ["spec: Invalid value: {}: either `defaultBackend` or `rules` must be specified"]
        );
        assert_eq!(
            ing(json!({"defaultBackend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}}})),
            ["spec.defaultBackend.service.port: Invalid value: {\"name\":\"http\",\"number\":80}: cannot set both port name & port number"]
        );
    }

    #[test]
    fn service_cluster_ip_is_immutable() {
        let svc = |ip: &str| json!({"metadata": {"name": "web"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}});
        assert_eq!(
            update("", "services", svc("10.0.0.1"), svc("10.0.0.2")),
            ["spec.clusterIP: Invalid value: \"10.0.0.2\": field is immutable"]
        );
        assert!(update("", "services", svc(""), svc("10.0.0.2")).is_empty());
        assert!(update("", "services", svc("10.0.0.1"), svc("10.0.0.1")).is_empty());
    }
}
