//! Service address allocation, upstream's service REST storage's job, run as the first
//! mutating step of a Service write: a ClusterIP from `--service-cluster-ip-range` for every
//! Service that is not headless or ExternalName, and a NodePort from
//! `--service-node-port-range` for every port of a NodePort or LoadBalancer Service that has
//! none. Asked-for addresses are checked (inside the range, not taken) with upstream's field
//! errors.
//!
//! What is taken comes from the watch cache's Services, plus this apiserver's own
//! allocations not yet seen there (kept 30 s). Two apiservers allocating at the same moment
//! could pick the same address; upstream closes that with an etcd-held bitmap, which is left
//! for later (see ARCHITECTURE.md).

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use api_types::validation::FieldError;
use rand::Rng as _;
use serde_json::{json, Value};

use super::{Attributes, Context, Mutating, Operation};
use crate::error::{ApiError, ApiResult};

/// How long an allocation is remembered while the watch cache catches up.
const PENDING: Duration = Duration::from_secs(30);

/// The ranges and the allocations in flight.
#[derive(Debug)]
pub struct ServiceAllocator {
    /// The IPv4 service range: first address and size.
    net: Option<(u32, u32, String)>,
    node_ports: (i64, i64),
    pending_ips: Mutex<HashMap<String, Instant>>,
    pending_ports: Mutex<HashMap<i64, Instant>>,
}

/// `a.b.c.d/n` to (first address, size).
fn parse_cidr(cidr: &str) -> Result<(u32, u32), String> {
    let (ip, bits) = cidr
        .split_once('/')
        .ok_or_else(|| format!("{cidr:?} is not a CIDR"))?;
    let ip: Ipv4Addr = ip.parse().map_err(|e| format!("{cidr:?}: {e}"))?;
    let bits: u32 = bits
        .parse()
        .map_err(|_| format!("{cidr:?}: bad prefix length"))?;
    if bits > 30 {
        return Err(format!("{cidr:?}: the range is too small"));
    }
    let size = 1u32 << (32 - bits);
    Ok((u32::from(ip) & !(size - 1), size))
}

/// `30000-32767` to (30000, 32767).
pub fn parse_port_range(s: &str) -> Result<(i64, i64), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("invalid port range {s:?}"))?;
    let (a, b): (i64, i64) = (
        a.trim()
            .parse()
            .map_err(|_| format!("invalid port range {s:?}"))?,
        b.trim()
            .parse()
            .map_err(|_| format!("invalid port range {s:?}"))?,
    );
    if !(1..=65535).contains(&a) || !(1..=65535).contains(&b) || a > b {
        return Err(format!("invalid port range {s:?}"));
    }
    Ok((a, b))
}

impl ServiceAllocator {
    /// From `--service-cluster-ip-range` (its IPv4 range, if any) and
    /// `--service-node-port-range`.
    pub fn new(cluster_ip_range: &str, node_port_range: &str) -> Result<Self, String> {
        let net = cluster_ip_range
            .split(',')
            .map(str::trim)
            .find(|r| !r.contains(':'))
            .map(|r| parse_cidr(r).map(|(a, n)| (a, n, r.to_string())))
            .transpose()?;
        Ok(ServiceAllocator {
            net,
            node_ports: parse_port_range(node_port_range)?,
            pending_ips: Mutex::new(HashMap::new()),
            pending_ports: Mutex::new(HashMap::new()),
        })
    }

    fn taken(&self, ctx: &Context, skip: Option<(&str, &str)>) -> (HashSet<String>, HashSet<i64>) {
        let mut ips = HashSet::new();
        let mut ports = HashSet::new();
        if let Some(services) = ctx.cache.resource("services") {
            for o in services.list(None) {
                if skip == Some((o.namespace.as_str(), o.name.as_str())) {
                    continue;
                }
                // Only the addresses are decoded; the rest of the object is skipped.
                let Ok(svc) = serde_json::from_slice::<Addresses>(&o.json) else {
                    continue;
                };
                ips.extend(svc.spec.cluster_ips);
                ips.extend(svc.spec.cluster_ip);
                ports.extend(svc.spec.ports.iter().filter_map(|p| p.node_port));
            }
        }
        let now = Instant::now();
        let mut pi = self.pending_ips.lock().unwrap_or_else(|e| e.into_inner());
        pi.retain(|_, t| now.duration_since(*t) < PENDING);
        ips.extend(pi.keys().cloned());
        let mut pp = self.pending_ports.lock().unwrap_or_else(|e| e.into_inner());
        pp.retain(|_, t| now.duration_since(*t) < PENDING);
        ports.extend(pp.keys().copied());
        (ips, ports)
    }

    fn allocate_ip(&self, taken: &HashSet<String>, dry_run: bool) -> Option<String> {
        let (base, size, _) = self.net.as_ref()?;
        // Neither the network nor the broadcast address is handed out, as upstream's IPv4
        // allocator; start somewhere random, as upstream.
        let usable = size - 2;
        let start = rand::rng().random_range(0..usable);
        for i in 0..usable {
            let ip = Ipv4Addr::from(base + 1 + (start + i) % usable).to_string();
            if !taken.contains(&ip) {
                if !dry_run {
                    self.pending_ips
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(ip.clone(), Instant::now());
                }
                return Some(ip);
            }
        }
        None
    }

    fn allocate_port(&self, taken: &HashSet<i64>, dry_run: bool) -> Option<i64> {
        let (lo, hi) = self.node_ports;
        let n = hi - lo + 1;
        let start = rand::rng().random_range(0..n);
        for i in 0..n {
            let p = lo + (start + i) % n;
            if !taken.contains(&p) {
                if !dry_run {
                    self.pending_ports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(p, Instant::now());
                }
                return Some(p);
            }
        }
        None
    }

    fn in_range(&self, ip: &str) -> bool {
        let Some((base, size, _)) = self.net.as_ref() else {
            return true;
        };
        ip.parse::<Ipv4Addr>().is_ok_and(|a| {
            let a = u32::from(a);
            a >= *base && a < base + size
        })
    }
}

/// The parts of a stored Service the allocator reads.
#[derive(serde::Deserialize, Default)]
struct Addresses {
    #[serde(default)]
    spec: AddressSpec,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AddressSpec {
    #[serde(default, rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(default, rename = "clusterIPs")]
    cluster_ips: Vec<String>,
    #[serde(default)]
    ports: Vec<AddressPort>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AddressPort {
    #[serde(default)]
    node_port: Option<i64>,
}

pub struct ServiceAllocation;

fn invalid(attrs: &Attributes, errs: Vec<FieldError>) -> ApiError {
    ApiError::invalid(attrs.resource, attrs.name, &errs)
}

impl Mutating for ServiceAllocation {
    fn name(&self) -> &'static str {
        "ServiceAllocation"
    }

    fn admit(&self, ctx: &Context, attrs: &Attributes, obj: Option<&mut Value>) -> ApiResult<()> {
        let is_services = attrs.resource.group.is_empty() && attrs.resource.plural == "services";
        let Some(obj) = obj else {
            return Ok(());
        };
        if !is_services || attrs.subresource.is_some() || attrs.operation == Operation::Delete {
            return Ok(());
        }
        let alloc = ctx.services;
        let ns = attrs.namespace.unwrap_or_default();
        let (taken_ips, mut taken_ports) = alloc.taken(ctx, Some((ns, attrs.name)));
        let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let type_ = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        if type_ == "ExternalName" {
            return Ok(());
        }
        let mut errs = Vec::new();
        if attrs.operation == Operation::Create {
            let asked = spec
                .get("clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if asked.is_empty() {
                match alloc.allocate_ip(&taken_ips, attrs.dry_run) {
                    Some(ip) => {
                        spec.insert("clusterIP".into(), json!(ip));
                        spec.insert("clusterIPs".into(), json!([ip]));
                    }
                    None if alloc.net.is_some() => {
                        return Err(ApiError::internal(
                            "failed to allocate a serviceIP: range is full".to_string(),
                        ));
                    }
                    None => {}
                }
            } else if asked != "None" && !asked.contains(':') {
                if !alloc.in_range(&asked) {
                    let range = alloc.net.as_ref().map(|n| n.2.clone()).unwrap_or_default();
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs[0]",
                        json!(asked),
                        format!("failed to allocate IP {asked}: the provided IP ({asked}) is not in the valid range. The range of valid IPs is {range}"),
                    ));
                } else if taken_ips.contains(&asked) {
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs[0]",
                        json!(asked),
                        format!("failed to allocate IP {asked}: provided IP is already allocated"),
                    ));
                }
            }
        }
        if type_ == "NodePort" || type_ == "LoadBalancer" {
            let (lo, hi) = alloc.node_ports;
            let old_ports: HashSet<i64> = attrs
                .old
                .and_then(|o| o["spec"]["ports"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|p| p["nodePort"].as_i64())
                .collect();
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for (i, p) in ports.iter_mut().enumerate() {
                    match p.get("nodePort").and_then(Value::as_i64).filter(|n| *n != 0) {
                        None => match alloc.allocate_port(&taken_ports, attrs.dry_run) {
                            Some(np) => {
                                taken_ports.insert(np);
                                p["nodePort"] = json!(np);
                            }
                            None => {
                                return Err(ApiError::internal(
                                    "failed to allocate a nodePort: range is full".to_string(),
                                ))
                            }
                        },
                        Some(np) if old_ports.contains(&np) => {}
                        Some(np) if !(lo..=hi).contains(&np) => errs.push(FieldError::invalid(
                            format!("spec.ports[{i}].nodePort"),
                            json!(np),
                            format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"),
                        )),
                        Some(np) if taken_ports.contains(&np) => errs.push(FieldError::invalid(
                            format!("spec.ports[{i}].nodePort"),
                            json!(np),
                            "provided port is already allocated",
                        )),
                        Some(np) => {
                            taken_ports.insert(np);
                        }
                    }
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(invalid(attrs, errs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_cidr("10.96.0.0/12").unwrap(),
            (u32::from(Ipv4Addr::new(10, 96, 0, 0)), 1 << 20)
        );
        assert!(parse_cidr("10.0.0.0/31").is_err());
        assert_eq!(parse_port_range("30000-32767").unwrap(), (30000, 32767));
        assert!(parse_port_range("3-2").is_err());
        let a = ServiceAllocator::new("fd00::/108,10.0.0.0/24", "30000-30001").unwrap();
        assert!(a.in_range("10.0.0.77") && !a.in_range("10.0.1.1"));
        let taken: HashSet<String> = (1..255)
            .filter(|i| *i != 9)
            .map(|i| format!("10.0.0.{i}"))
            .collect();
        assert_eq!(a.allocate_ip(&taken, true).as_deref(), Some("10.0.0.9"));
        let ports: HashSet<i64> = [30000].into();
        assert_eq!(a.allocate_port(&ports, false), Some(30001));
    }
}
