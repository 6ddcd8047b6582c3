//! The apiserver identity leases, as upstream's `start-kube-apiserver-identity-lease-controller`
//! and `start-kube-apiserver-identity-lease-garbage-collector` keep them: each apiserver
//! renews a Lease `kube-system/apiserver-<hash of its hostname>` every 10 s (lasting an
//! hour), labelled `apiserver.kubernetes.io/identity=kube-apiserver`, so clients can count
//! the apiservers; expired ones are deleted every hour.

use std::time::Duration;

use serde_json::{json, Value};

use super::loopback::Loopback;

/// Labels an identity lease (upstream's `IdentityLeaseComponentLabelKey`).
pub const IDENTITY_LABEL: &str = "apiserver.kubernetes.io/identity";
const IDENTITY: &str = "kube-apiserver";
const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
/// Upstream's `IdentityLeaseDurationSeconds`, `IdentityLeaseRenewIntervalPeriod` and
/// `IdentityLeaseGCPeriod`.
const LEASE_DURATION_SECONDS: i64 = 3600;
pub const RENEW_INTERVAL: Duration = Duration::from_secs(10);
pub const GC_INTERVAL: Duration = Duration::from_secs(3600);

/// The machine's host name, as Go's `os.Hostname` reads it.
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Upstream's apiserver ID: `apiserver-` and the lower-case, unpadded base32 of the first 16
/// bytes of SHA-256 over the host name and `kube-apiserver`, each prefixed with its length
/// as two big-endian bytes.
pub fn apiserver_id(hostname: &str) -> String {
    let mut data = Vec::new();
    for part in [hostname, IDENTITY] {
        let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
        data.extend_from_slice(&len.to_be_bytes());
        data.extend_from_slice(&part.as_bytes()[..usize::from(len)]);
    }
    let hash = openssl::sha::sha256(&data);
    format!("apiserver-{}", base32_lower(&hash[..16]))
}

/// RFC 4648 base32 without padding, in lower case.
fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// `renewTime` as a MicroTime.
fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub struct IdentityLease {
    client: Loopback,
    name: String,
    holder: String,
    hostname: String,
}

impl IdentityLease {
    pub fn new(client: Loopback) -> Self {
        let hostname = hostname();
        let name = apiserver_id(&hostname);
        IdentityLease {
            holder: format!("{name}_{}", uuid::Uuid::new_v4()),
            client,
            name,
            hostname,
        }
    }

    fn labels(&self) -> Value {
        json!({IDENTITY_LABEL: IDENTITY, HOSTNAME_LABEL: self.hostname})
    }

    /// One heartbeat: creates the lease, or renews it (conflicts are retried).
    pub async fn renew(&self) -> Result<(), String> {
        let path = format!("{LEASES}/{}", self.name);
        for _ in 0..5 {
            let current = self.client.get(&path).await?;
            let resp = if current.code == 404 {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": "kube-system", "labels": self.labels()},
                    "spec": {
                        "holderIdentity": self.holder,
                        "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                        "renewTime": now_micro(),
                    },
                });
                self.client.post(LEASES, &lease).await?
            } else if current.ok() {
                let mut lease = current.body;
                lease["spec"]["leaseDurationSeconds"] = json!(LEASE_DURATION_SECONDS);
                lease["spec"]["renewTime"] = json!(now_micro());
                if let Some(labels) = lease["metadata"]["labels"].as_object_mut() {
                    labels.insert(IDENTITY_LABEL.into(), json!(IDENTITY));
                    labels.insert(HOSTNAME_LABEL.into(), json!(self.hostname));
                } else {
                    lease["metadata"]["labels"] = self.labels();
                }
                self.client.put(&path, &lease).await?
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
}

/// Whether a lease has run out (one without a renew time or duration counts as expired).
fn expired(lease: &Value, now: jiff::Timestamp) -> bool {
    let renew = lease["spec"]["renewTime"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let secs = lease["spec"]["leaseDurationSeconds"].as_i64();
    match (renew, secs) {
        (Some(renew), Some(secs)) => renew
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .map_or(true, |end| end < now),
        _ => true,
    }
}

/// One pass of the garbage collector: deletes the expired identity leases.
pub async fn collect_expired(client: &Loopback) -> Result<(), String> {
    let path = format!("{LEASES}?labelSelector={IDENTITY_LABEL}%3D{IDENTITY}");
    let list = client.get(&path).await?;
    if !list.ok() {
        return Err(list.describe("GET", &path));
    }
    let now = jiff::Timestamp::now();
    for lease in list.body["items"].as_array().into_iter().flatten() {
        if !expired(lease, now) {
            continue;
        }
        let Some(name) = lease["metadata"]["name"].as_str() else {
            continue;
        };
        // Only the version that was seen expired is deleted: a renewal in between wins.
        let body =
            json!({"preconditions": {"resourceVersion": lease["metadata"]["resourceVersion"]}});
        let item = format!("{LEASES}/{name}");
        let r = client.send("DELETE", &item, Some(&body)).await?;
        if r.ok() {
            tracing::info!(lease = name, "deleted an expired apiserver identity lease");
        } else if r.code != 404 && r.code != 409 {
            return Err(r.describe("DELETE", &item));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_is_rfc4648_lower_case_without_padding() {
        assert_eq!(base32_lower(b""), "");
        assert_eq!(base32_lower(b"f"), "my");
        assert_eq!(base32_lower(b"fo"), "mzxq");
        assert_eq!(base32_lower(b"foo"), "mzxw6");
        assert_eq!(base32_lower(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn the_identity_depends_on_the_host_only() {
        let id = apiserver_id("node-1");
        assert!(id.starts_with("apiserver-"), "{id}");
        // 16 bytes are 26 base32 characters.
        assert_eq!(id.len(), "apiserver-".len() + 26);
        assert_eq!(id, apiserver_id("node-1"));
        assert_ne!(id, apiserver_id("node-2"));
    }

    #[test]
    fn leases_expire_after_their_duration_and_incomplete_ones_count_as_expired() {
        let now: jiff::Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let lease = |renew: &str, secs: i64| json!({"spec": {"renewTime": renew, "leaseDurationSeconds": secs}});
        assert!(!expired(&lease("2026-01-01T00:30:00.000000Z", 3600), now));
        assert!(expired(&lease("2026-01-01T00:30:00.000000Z", 60), now));
        assert!(expired(&json!({"spec": {"leaseDurationSeconds": 10}}), now));
        assert!(expired(&json!({}), now));
    }
}
