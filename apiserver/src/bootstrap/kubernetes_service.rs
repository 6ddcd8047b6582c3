//! The `bootstrap-controller` hook: the `default/kubernetes` Service and, through upstream's
//! lease endpoint reconciler, its Endpoints and EndpointSlice naming every live apiserver.
//!
//! Each apiserver keeps a key `<etcd-prefix>/masterleases/<advertise-address>` alive in etcd
//! under an etcd lease of `--endpoint-reconciler-ttl` (15 s, upstream's fixed value), renewed
//! every two thirds of it, and rewrites the endpoints from the keys that exist. A stopped
//! apiserver removes its key; a crashed one's key expires with its lease, and the next
//! reconcile of any survivor drops it. As in upstream's data model, the endpoints are one
//! subset: the apiservers' addresses and one port, the secure port they share.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::loopback::Loopback;
use super::system::create_if_missing;
use crate::storage::{prefix_end, Storage};

pub const SERVICE_NAME: &str = "kubernetes";
const SERVICES: &str = "/api/v1/namespaces/default/services";
const ENDPOINTS: &str = "/api/v1/namespaces/default/endpoints";
const SLICES: &str = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
/// Upstream's label keeping the EndpointSlice mirroring controller off these Endpoints.
const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Conflicts with another apiserver's write are retried this many times per reconcile.
const CONFLICT_RETRIES: usize = 5;

/// How this apiserver appears in the `kubernetes` Service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--advertise-address`.
    pub public_ip: IpAddr,
    /// The secure port, the Service's target port.
    pub public_port: u16,
    /// The first address of `--service-cluster-ip-range`.
    pub service_ip: IpAddr,
    /// How long this apiserver's endpoint lease lives without renewal.
    pub lease_ttl: Duration,
    /// False with `--endpoint-reconciler-type=none`: the Service only.
    pub reconcile_endpoints: bool,
}

pub struct KubernetesService {
    client: Loopback,
    storage: Storage,
    settings: Settings,
    /// Held for a whole reconcile; true once this apiserver has taken itself out for good.
    stopped: Mutex<bool>,
}

impl KubernetesService {
    pub fn new(client: Loopback, storage: Storage, settings: Settings) -> Self {
        KubernetesService {
            client,
            storage,
            settings,
            stopped: Mutex::new(false),
        }
    }

    /// Between two reconciles: two thirds of the lease, so one late renewal is harmless
    /// (upstream: 10 s for its 15 s lease).
    pub fn interval(&self) -> Duration {
        (self.settings.lease_ttl * 2 / 3).max(Duration::from_millis(500))
    }

    fn lease_prefix(&self) -> String {
        self.storage.resource_prefix("masterleases")
    }

    fn lease_key(&self) -> String {
        format!("{}{}", self.lease_prefix(), self.settings.public_ip)
    }

    /// One pass: the Service if missing, then this apiserver's lease and the endpoints.
    pub async fn update_kubernetes_service(&self) -> Result<(), String> {
        create_if_missing(&self.client, SERVICES, &self.service()).await?;
        if !self.settings.reconcile_endpoints {
            return Ok(());
        }
        let stopped = self.stopped.lock().await;
        if *stopped {
            return Ok(());
        }
        self.update_lease().await?;
        self.reconcile().await
    }

    /// Takes this apiserver out of the endpoints and stops reconciling (at shutdown).
    pub async fn remove_endpoints(&self) -> Result<(), String> {
        if !self.settings.reconcile_endpoints {
            return Ok(());
        }
        let mut stopped = self.stopped.lock().await;
        *stopped = true;
        self.storage
            .remove(&self.lease_key(), "masterleases")
            .await
            .map_err(|e| e.to_string())?;
        self.reconcile().await
    }

    /// The Service as upstream's controller creates it.
    fn service(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": SERVICE_NAME,
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "ports": [{
                    "name": "https",
                    "protocol": "TCP",
                    "port": 443,
                    "targetPort": self.settings.public_port,
                }],
                "clusterIP": self.settings.service_ip.to_string(),
                "ipFamilyPolicy": "SingleStack",
                "sessionAffinity": "None",
                "type": "ClusterIP",
            },
        })
    }

    fn ports(&self) -> Value {
        json!([{"name": "https", "port": self.settings.public_port, "protocol": "TCP"}])
    }

    /// Refreshes this apiserver's key and its lease (upstream's `UpdateLease`); the value is
    /// an Endpoints naming the address, as upstream stores it.
    async fn update_lease(&self) -> Result<(), String> {
        let ip = self.settings.public_ip.to_string();
        let value = json!({
            "kind": "Endpoints",
            "apiVersion": "v1",
            "metadata": {"name": ip},
            "subsets": [{"addresses": [{"ip": ip}]}],
        });
        let ttl = self.settings.lease_ttl.as_secs().max(1) as i64;
        self.storage
            .put_with_ttl(
                &self.lease_key(),
                value.to_string().into_bytes(),
                ttl,
                "masterleases",
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("refreshing the endpoint lease: {e}"))
    }

    /// The addresses of every unexpired lease, of the Service's address family, sorted.
    async fn live_ips(&self) -> Result<Vec<String>, String> {
        let prefix = self.lease_prefix();
        let page = self
            .storage
            .range(&prefix, &prefix_end(&prefix), 0, 0, "masterleases")
            .await
            .map_err(|e| format!("listing the endpoint leases: {e}"))?;
        let v4 = self.settings.service_ip.is_ipv4();
        let mut ips: Vec<String> = page
            .kvs
            .iter()
            .filter_map(|kv| serde_json::from_slice::<Value>(&kv.value).ok())
            .filter_map(|v| {
                v["subsets"][0]["addresses"][0]["ip"]
                    .as_str()
                    .map(str::to_string)
            })
            .filter(|ip| ip.parse::<IpAddr>().is_ok_and(|a| a.is_ipv4() == v4))
            .collect();
        ips.sort();
        ips.dedup();
        Ok(ips)
    }

    async fn reconcile(&self) -> Result<(), String> {
        let ips = self.live_ips().await?;
        // Our own key was just refreshed (or we are the one leaving): none at all means
        // something is wrong with the listing, and erasing every endpoint would cut clients off.
        if ips.is_empty() {
            return Err(
                "no master IPs were listed in storage, refusing to erase all endpoints for the kubernetes service"
                    .to_string(),
            );
        }
        self.sync_endpoints(&ips).await?;
        self.sync_endpoint_slice(&ips).await
    }

    async fn sync_endpoints(&self, ips: &[String]) -> Result<(), String> {
        let path = format!("{ENDPOINTS}/{SERVICE_NAME}");
        for _ in 0..CONFLICT_RETRIES {
            let current = self.client.get(&path).await?;
            let addresses: Vec<Value> = ips.iter().map(|ip| json!({"ip": ip})).collect();
            let labels = json!({SKIP_MIRROR: "true"});
            let resp = if current.code == 404 {
                let ep = json!({
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {"name": SERVICE_NAME, "namespace": "default", "labels": labels},
                    "subsets": [{"addresses": addresses, "ports": self.ports()}],
                });
                self.client.post(ENDPOINTS, &ep).await?
            } else if current.ok() {
                let mut ep = current.body;
                let subsets = ep["subsets"].as_array().cloned().unwrap_or_default();
                // Ports are kept as they are unless missing, as upstream's reconciler does
                // (every apiserver of a cluster serves on the same port).
                let ports = match subsets.as_slice() {
                    [one] if one["ports"].as_array().is_some_and(|p| !p.is_empty()) => {
                        one["ports"].clone()
                    }
                    _ => self.ports(),
                };
                let current_ips: Vec<&str> = match subsets.as_slice() {
                    [one] => one["addresses"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x["ip"].as_str()).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let format_ok = subsets.len() == 1 && subsets[0]["notReadyAddresses"].is_null();
                if format_ok && current_ips == ips && ep["metadata"]["labels"] == labels {
                    return Ok(());
                }
                tracing::info!(?ips, "resetting endpoints for the kubernetes service");
                ep["metadata"]["labels"] = labels;
                ep["subsets"] = json!([{"addresses": addresses, "ports": ports}]);
                self.client.put(&path, &ep).await?
            } else {
                return Err(current.describe("GET", &path));
            };
            match resp {
                r if r.ok() => return Ok(()),
                r if matches!(r.reason(), "Conflict" | "AlreadyExists") => continue,
                r => return Err(r.describe("write", &path)),
            }
        }
        Err(format!("{path}: conflicting writes; retrying later"))
    }

    async fn sync_endpoint_slice(&self, ips: &[String]) -> Result<(), String> {
        let address_type = if self.settings.service_ip.is_ipv4() {
            "IPv4"
        } else {
            "IPv6"
        };
        let list_path = format!("{SLICES}?labelSelector={SERVICE_NAME_LABEL}%3D{SERVICE_NAME}");
        let labels = json!({SERVICE_NAME_LABEL: SERVICE_NAME});
        let endpoints: Vec<Value> = ips
            .iter()
            .map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}}))
            .collect();
        for _ in 0..CONFLICT_RETRIES {
            let list = self.client.get(&list_path).await?;
            if !list.ok() {
                return Err(list.describe("GET", &list_path));
            }
            let items = list.body["items"].as_array().cloned().unwrap_or_default();
            let mut ours = None;
            for slice in items {
                if slice["metadata"]["name"] == SERVICE_NAME && slice["addressType"] == address_type
                {
                    ours = Some(slice);
                } else if let Some(name) = slice["metadata"]["name"].as_str() {
                    // A slice of another family or name is stale (e.g. left by a dual-stack
                    // apiserver): as far as this apiserver knows it should not exist.
                    let path = format!("{SLICES}/{name}");
                    let r = self.client.send("DELETE", &path, None).await?;
                    if !r.ok() && r.code != 404 {
                        return Err(r.describe("DELETE", &path));
                    }
                }
            }
            let resp = match ours {
                None => {
                    let slice = json!({
                        "apiVersion": "discovery.k8s.io/v1",
                        "kind": "EndpointSlice",
                        "metadata": {"name": SERVICE_NAME, "namespace": "default", "labels": labels},
                        "addressType": address_type,
                        "endpoints": endpoints,
                        "ports": self.ports(),
                    });
                    self.client.post(SLICES, &slice).await?
                }
                Some(mut slice) => {
                    let current: Vec<(Option<&str>, bool)> = slice["endpoints"]
                        .as_array()
                        .map(|eps| {
                            eps.iter()
                                .map(|e| {
                                    let ready = e["conditions"]["ready"].as_bool() == Some(true);
                                    (e["addresses"][0].as_str(), ready)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let wanted: Vec<(Option<&str>, bool)> =
                        ips.iter().map(|ip| (Some(ip.as_str()), true)).collect();
                    let has_ports = slice["ports"].as_array().is_some_and(|p| !p.is_empty());
                    if current == wanted && has_ports && slice["metadata"]["labels"] == labels {
                        return Ok(());
                    }
                    slice["metadata"]["labels"] = labels.clone();
                    slice["endpoints"] = json!(endpoints);
                    if !has_ports {
                        slice["ports"] = self.ports();
                    }
                    let path = format!("{SLICES}/{SERVICE_NAME}");
                    self.client.put(&path, &slice).await?
                }
            };
            match resp {
                r if r.ok() => return Ok(()),
                r if matches!(r.reason(), "Conflict" | "AlreadyExists") => continue,
                r => return Err(r.describe("write", SLICES)),
            }
        }
        Err(format!("{SLICES}: conflicting writes; retrying later"))
    }
}
