//! Services and Endpoints (core/v1), EndpointSlices (discovery.k8s.io), NetworkPolicies and
//! IngressClasses (networking.k8s.io).

use serde_json::{json, Value};

use super::common::*;

pub(super) fn service(o: &mut Obj) {
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

pub(super) fn endpoints(o: &mut Obj) {
    for_each(o, "subsets", |subset| {
        for_each(subset, "ports", |p| default_str(p, "protocol", "TCP"));
    });
}

pub(super) fn network_policy(o: &mut Obj) {
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

pub(super) fn ingress_class(o: &mut Obj) {
    if let Some(params) = object(o, "spec").and_then(|s| object(s, "parameters")) {
        default_value(params, "scope", json!("Cluster"));
    }
}

pub(super) fn endpoint_slice(o: &mut Obj) {
    for_each(o, "ports", |p| {
        default_value(p, "name", json!(""));
        default_value(p, "protocol", json!("TCP"));
    });
}

#[cfg(test)]
mod tests {

    use crate::defaults::testing::*;
    use serde_json::json;

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
}
