//! What the proxier programs, computed from Services and EndpointSlices without I/O: one
//! entry per Service port (ClusterIP, NodePort, protocol, session affinity) with the ready
//! endpoints of the slices that belong to it (serving-and-not-terminating ones only, as
//! upstream's "ready" filter), sorted so the generated rules are stable.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// One port of one Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    /// `namespace/name:port-name` (upstream's ServicePortName; `namespace/name` when unnamed).
    pub name: String,
    pub cluster_ips: Vec<String>,
    pub port: i32,
    pub protocol: String,
    pub node_port: Option<i32>,
    /// `sessionAffinity: ClientIP` timeout in seconds.
    pub affinity_timeout: Option<i32>,
    pub external_ips: Vec<String>,
    /// Ready endpoints as `ip:port`, sorted.
    pub endpoints: Vec<(String, i32)>,
}

/// The label an EndpointSlice names its Service with.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Ready endpoints by (namespace, service), then by port name.
type EndpointsByService = BTreeMap<(String, String), BTreeMap<String, Vec<(String, i32)>>>;

/// The Service ports to program, sorted by name.
pub fn service_ports(
    services: &[impl AsRef<Service>],
    slices: &[impl AsRef<EndpointSlice>],
) -> Vec<ServicePort> {
    // (namespace, service) -> port name -> endpoints
    let mut eps: EndpointsByService = BTreeMap::new();
    for slice in slices {
        let slice = slice.as_ref();
        if slice.address_type != "IPv4" {
            continue;
        }
        let Some(svc) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
        else {
            continue;
        };
        let ns = slice.metadata.namespace.clone().unwrap_or_default();
        let entry = eps.entry((ns, svc.clone())).or_default();
        for port in slice.ports.iter().flatten() {
            let (Some(number), name) = (port.port, port.name.clone().unwrap_or_default()) else {
                continue;
            };
            let list = entry.entry(name).or_default();
            for ep in &slice.endpoints {
                let cond = ep.conditions.as_ref();
                // Unset `ready` counts as ready, as upstream's API says.
                let ready = cond.and_then(|c| c.ready).unwrap_or(true);
                let terminating = cond.and_then(|c| c.terminating).unwrap_or(false);
                if !ready || terminating {
                    continue;
                }
                if let Some(ip) = ep.addresses.first() {
                    list.push((ip.clone(), number));
                }
            }
        }
    }
    let mut out = Vec::new();
    for svc in services {
        let svc = svc.as_ref();
        let Some(spec) = svc.spec.as_ref() else {
            continue;
        };
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let ips: Vec<String> = spec
            .cluster_ips
            .clone()
            .or_else(|| spec.cluster_ip.clone().map(|ip| vec![ip]))
            .unwrap_or_default()
            .into_iter()
            .filter(|ip| !ip.is_empty() && ip != "None" && !ip.contains(':'))
            .collect();
        if ips.is_empty() || spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let affinity = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .unwrap_or(10800)
        });
        for p in spec.ports.iter().flatten() {
            let port_name = p.name.clone().unwrap_or_default();
            let mut endpoints = eps
                .get(&(ns.clone(), name.clone()))
                .and_then(|m| m.get(&port_name))
                .cloned()
                .unwrap_or_default();
            endpoints.sort();
            endpoints.dedup();
            out.push(ServicePort {
                name: if port_name.is_empty() {
                    format!("{ns}/{name}")
                } else {
                    format!("{ns}/{name}:{port_name}")
                },
                cluster_ips: ips.clone(),
                port: p.port,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                node_port: p.node_port.filter(|n| *n > 0),
                affinity_timeout: affinity,
                external_ips: spec.external_ips.clone().unwrap_or_default(),
                endpoints,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.protocol.cmp(&b.protocol)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ready_endpoints_per_named_port() {
        let svc: Service = serde_json::from_value(
            json!({"metadata": {"name": "web", "namespace": "d"}, "spec": {
            "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]}}),
        )
        .unwrap();
        let slice: EndpointSlice =
            serde_json::from_value(json!({"metadata": {"name": "web-1", "namespace": "d",
            "labels": {"kubernetes.io/service-name": "web"}}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": ["10.1.0.3"], "conditions": {"ready": true}},
                {"addresses": ["10.1.0.2"]},
                {"addresses": ["10.1.0.4"], "conditions": {"ready": false}},
                {"addresses": ["10.1.0.5"], "conditions": {"ready": true, "terminating": true}}
            ]}))
            .unwrap();
        let ports = service_ports(&[Box::new(svc)], &[Box::new(slice)]);
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].name, "d/web:http");
        assert_eq!(ports[0].node_port, Some(30080));
        assert_eq!(
            ports[0].endpoints,
            vec![("10.1.0.2".into(), 8080), ("10.1.0.3".into(), 8080)]
        );
    }
}
