//! Services and Endpoints (core/v1), EndpointSlices (discovery.k8s.io), Ingresses,
//! IngressClasses and NetworkPolicies (networking.k8s.io).

use jiff::Timestamp;
use serde_json::{json, Value};

use super::cells::*;
use super::{age_cell, age_col, col, doc, name_cell, name_col, wide, Column, Printer};

fn service_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let cluster_ip = list(obj, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .or_else(|| obj.pointer("/spec/clusterIP").and_then(Value::as_str))
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    vec![
        name_cell(obj),
        json!(service_type(obj)),
        json!(cluster_ip),
        json!(service_external_ip(obj)),
        json!(none_if_empty(service_ports(obj))),
        age_cell(obj, now),
        json!(format_labels(obj.pointer("/spec/selector"))),
    ]
}

#[rustfmt::skip]
fn service_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Type", "string", doc::SVC_TYPE),
        col("Cluster-IP", "string", doc::SVC_CLUSTER_IP),
        col("External-IP", "string", doc::SVC_EXTERNAL_IPS),
        col("Port(s)", "string", doc::SVC_PORTS),
        age_col(),
        wide("Selector", "string", doc::SVC_SELECTOR),
    ]
}

pub(super) const SERVICE: Printer = Printer {
    columns: service_columns,
    row: service_row,
};

fn endpoints_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(format_endpoints(obj)),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn endpoints_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Endpoints", "string", doc::EP_SUBSETS),
        age_col(),
    ]
}

pub(super) const ENDPOINTS: Printer = Printer {
    columns: endpoints_columns,
    row: endpoints_row,
};

fn endpoint_slice_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(s(obj, "/addressType")),
        json!(discovery_ports(list(obj, "/ports"))),
        json!(discovery_endpoints(list(obj, "/endpoints"))),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn endpoint_slice_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("AddressType", "string", doc::EPS_ADDRESS_TYPE),
        col("Ports", "string", doc::EPS_PORTS),
        col("Endpoints", "string", doc::EPS_ENDPOINTS),
        age_col(),
    ]
}

pub(super) const ENDPOINT_SLICE: Printer = Printer {
    columns: endpoint_slice_columns,
    row: endpoint_slice_row,
};

fn ingress_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let class = obj
        .pointer("/spec/ingressClassName")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let ports = if list(obj, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name_cell(obj),
        json!(class),
        json!(ingress_hosts(list(obj, "/spec/rules"))),
        json!(load_balancer_addresses(list(
            obj,
            "/status/loadBalancer/ingress"
        ))),
        json!(ports),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn ingress_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
        col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
        col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
        col("Ports", "string", "Ports of TLS configurations that open"),
        age_col(),
    ]
}

pub(super) const INGRESS: Printer = Printer {
    columns: ingress_columns,
    row: ingress_row,
};

fn ingress_class_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let params = match obj.pointer("/spec/parameters").filter(|p| p.is_object()) {
        Some(p) => {
            let mut out = s(p, "/kind").to_string();
            if let Some(g) = p.get("apiGroup").and_then(Value::as_str) {
                out = format!("{out}.{g}");
            }
            format!("{out}/{}", s(p, "/name"))
        }
        None => "<none>".to_string(),
    };
    vec![
        name_cell(obj),
        json!(s(obj, "/spec/controller")),
        json!(params),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn ingress_class_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Controller", "string", "Controller that is responsible for handling this class"),
        col("Parameters", "string", "A reference to a resource with additional parameters"),
        age_col(),
    ]
}

pub(super) const INGRESS_CLASS: Printer = Printer {
    columns: ingress_class_columns,
    row: ingress_class_row,
};

fn network_policy_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(obj),
        json!(format_label_selector(Some(
            obj.pointer("/spec/podSelector").unwrap_or(&json!({}))
        ))),
        age_cell(obj, now),
    ]
}

#[rustfmt::skip]
fn network_policy_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Pod-Selector", "string", doc::NP_POD_SELECTOR),
        age_col(),
    ]
}

pub(super) const NETWORK_POLICY: Printer = Printer {
    columns: network_policy_columns,
    row: network_policy_row,
};

fn service_type(svc: &Value) -> &str {
    str_or(svc, "/spec/type", "ClusterIP")
}

fn service_ports(svc: &Value) -> String {
    list(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let port = n(p, "/port").unwrap_or(0);
            let proto = str_or(p, "/protocol", "TCP");
            match n(p, "/nodePort").unwrap_or(0) {
                np if np > 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Load-balancer ingress points (IP, else hostname), sorted and de-duplicated.
fn load_balancer_addresses(ingress: &[Value]) -> String {
    let mut out: Vec<&str> = ingress
        .iter()
        .filter_map(|i| match (s(i, "/ip"), s(i, "/hostname")) {
            ("", "") => None,
            ("", host) => Some(host),
            (ip, _) => Some(ip),
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out.join(",")
}

fn service_external_ip(svc: &Value) -> String {
    let external: Vec<&str> = list(svc, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match service_type(svc) {
        "ClusterIP" | "NodePort" => none_if_empty(external.join(",")),
        "LoadBalancer" => {
            let lb = load_balancer_addresses(list(svc, "/status/loadBalancer/ingress"));
            if !external.is_empty() {
                let mut all: Vec<&str> = Vec::new();
                if !lb.is_empty() {
                    all.extend(lb.split(','));
                }
                all.extend(external);
                return all.join(",");
            }
            if lb.is_empty() {
                "<pending>".into()
            } else {
                lb
            }
        }
        "ExternalName" => s(svc, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    }
}

fn ingress_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = s(rule, "/host");
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".into();
    }
    let joined = hosts.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

/// Up to three entries, then ` + N more...`.
fn with_more(items: Vec<String>, empty: &str) -> String {
    const MAX: usize = 3;
    let count = items.len();
    let shown = items.into_iter().take(MAX).collect::<Vec<_>>().join(",");
    if count > MAX {
        format!("{shown} + {} more...", count - MAX)
    } else if shown.is_empty() {
        empty.to_string()
    } else {
        shown
    }
}

fn format_endpoints(ep: &Value) -> String {
    let subsets = list(ep, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut items: Vec<String> = Vec::new();
    for ss in subsets {
        let addresses = list(ss, "/addresses");
        let ports = list(ss, "/ports");
        if ports.is_empty() {
            items.extend(addresses.iter().map(|a| s(a, "/ip").to_string()));
            continue;
        }
        for port in ports {
            let p = n(port, "/port").unwrap_or(0);
            for a in addresses {
                items.push(join_host_port(s(a, "/ip"), p));
            }
        }
    }
    with_more(items, "")
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn discovery_ports(ports: &[Value]) -> String {
    let items = ports
        .iter()
        .map(
            |p| match (n(p, "/port"), p.get("name").and_then(Value::as_str)) {
                (Some(port), _) => port.to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => "*".to_string(),
            },
        )
        .collect();
    with_more(items, "<unset>")
}

fn discovery_endpoints(endpoints: &[Value]) -> String {
    let items = endpoints
        .iter()
        .flat_map(|e| list(e, "/addresses"))
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    with_more(items, "<unset>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::row;
    use crate::printers::testing::*;

    #[test]
    fn cluster_ip_service() {
        let svc = json!({
            "metadata": {"name": "kubernetes", "creationTimestamp": ago(86400 * 3)},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        });
        assert_eq!(
            row("", "services", &svc, now()),
            vec![
                json!("kubernetes"),
                json!("ClusterIP"),
                json!("10.96.0.1"),
                json!("<none>"),
                json!("443/TCP"),
                json!("3d"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn node_port_and_headless_services() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.1.2",
            "selector": {"app": "web"}, "externalIPs": ["1.2.3.4"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
        let r = row("", "services", &svc, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("NodePort"),
                json!("10.96.1.2"),
                json!("1.2.3.4"),
                json!("80:30080/TCP,53/UDP")
            ]
        );
        assert_eq!(r[6], "app=web");
        let headless = json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None"}});
        let r = row("", "services", &headless, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("ClusterIP"),
                json!("None"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn load_balancer_and_external_name_services() {
        let lb = |status: Value, external: Value| {
            json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "externalIPs": external,
                "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]}, "status": status})
        };
        assert_eq!(
            cell("", "services", &lb(json!({}), json!([])), "External-IP"),
            "<pending>"
        );
        let with_ingress = lb(
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}}),
            json!([]),
        );
        assert_eq!(
            cell("", "services", &with_ingress, "External-IP"),
            "203.0.113.9,lb.example.com"
        );
        let both = lb(
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}),
            json!(["1.1.1.1"]),
        );
        assert_eq!(
            cell("", "services", &both, "External-IP"),
            "203.0.113.9,1.1.1.1"
        );
        let ext = json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        let r = row("", "services", &ext, now());
        assert_eq!(
            &r[2..5],
            &[json!("<none>"), json!("db.example.com"), json!("<none>")]
        );
    }

    #[test]
    fn endpoints_rows() {
        let ep = json!({"metadata": {"name": "web"}, "subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "fd00::4"}],
            "ports": [{"port": 8080}]}]});
        assert_eq!(
            cell("", "endpoints", &ep, "Endpoints"),
            "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more..."
        );
        let two = json!({"metadata": {"name": "x"}, "subsets": [{"addresses": [{"ip": "fd00::4"}], "ports": [{"port": 80}]},
            {"addresses": [{"ip": "10.0.0.5"}]}]});
        assert_eq!(
            cell("", "endpoints", &two, "Endpoints"),
            "[fd00::4]:80,10.0.0.5"
        );
        let empty = json!({"metadata": {"name": "x"}});
        assert_eq!(cell("", "endpoints", &empty, "Endpoints"), "<none>");
    }

    #[test]
    fn endpoint_slice_row() {
        let eps = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "ports": [{"port": 80}, {"name": "metrics"}, {}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3"]}, {"addresses": ["10.0.0.4"]}]});
        let r = row("discovery.k8s.io", "endpointslices", &eps, now());
        assert_eq!(
            &r[1..4],
            &[
                json!("IPv4"),
                json!("80,metrics,*"),
                json!("10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...")
            ]
        );
        let empty = json!({"metadata": {"name": "x"}, "addressType": "IPv4"});
        let r = row("discovery.k8s.io", "endpointslices", &empty, now());
        assert_eq!(&r[2..4], &[json!("<unset>"), json!("<unset>")]);
    }

    #[test]
    fn ingress_rows() {
        let ing = json!({"metadata": {"name": "main"}, "spec": {"ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}, {}, {"host": "c.example.com"}, {"host": "d.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}});
        let r = row("networking.k8s.io", "ingresses", &ing, now());
        assert_eq!(
            &r[1..5],
            &[
                json!("nginx"),
                json!("a.example.com,b.example.com,c.example.com + 2 more..."),
                json!("192.0.2.10"),
                json!("80, 443")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"defaultBackend": {}}});
        let r = row("networking.k8s.io", "ingresses", &bare, now());
        assert_eq!(
            &r[1..5],
            &[json!("<none>"), json!("*"), json!(""), json!("80")]
        );
    }

    #[test]
    fn ingress_class_and_network_policy_rows() {
        let ic = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
        let r = row("networking.k8s.io", "ingressclasses", &ic, now());
        assert_eq!(
            &r[1..3],
            &[
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/external-lb")
            ]
        );
        let np = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        assert_eq!(
            cell("networking.k8s.io", "networkpolicies", &np, "Pod-Selector"),
            "<none>"
        );
        let np = json!({"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}});
        assert_eq!(
            cell("networking.k8s.io", "networkpolicies", &np, "Pod-Selector"),
            "app=web"
        );
    }
}
