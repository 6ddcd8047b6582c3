//! Resource arithmetic for scheduling: a pod's effective requests as upstream computes them
//! (regular and restartable init containers summed, each classic init container's peak, pod
//! overhead) and the non-zero defaults scoring uses for containers that request nothing.

use std::collections::BTreeMap;

use api_types::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

/// CPU counted for a container without a CPU request when scoring (upstream's 100m).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory counted for a container without a memory request when scoring (upstream's 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of resources: CPU in millicores, everything else in units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Extended and hugepage resources, by name. `pods` is not a resource here.
    pub scalar: BTreeMap<String, i64>,
}

fn parse(q: &Q, milli: bool) -> i64 {
    // Quantities reaching the scheduler passed the apiserver's validation; anything else
    // counts as zero rather than stopping the scheduler.
    match Quantity::parse(&q.0) {
        Ok(q) if milli => i64::try_from(q.milli_value()).unwrap_or(i64::MAX),
        Ok(q) => i64::try_from(q.value()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

impl Resources {
    /// From a ResourceList (requests, allocatable).
    pub fn from_list(list: &BTreeMap<String, Q>) -> Self {
        let mut r = Resources::default();
        for (name, q) in list {
            match name.as_str() {
                "cpu" => r.milli_cpu = parse(q, true),
                "memory" => r.memory = parse(q, false),
                "ephemeral-storage" => r.ephemeral_storage = parse(q, false),
                "pods" => {}
                other => {
                    r.scalar.insert(other.to_string(), parse(q, false));
                }
            }
        }
        r
    }

    pub fn add(&mut self, o: &Resources) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    pub fn sub(&mut self, o: &Resources) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e -= v;
            if *e == 0 {
                self.scalar.remove(k);
            }
        }
    }

    /// Each resource the larger of the two.
    pub fn max(&mut self, o: &Resources) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }
}

fn container_requests(c: &Container) -> Resources {
    c.resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .map(Resources::from_list)
        .unwrap_or_default()
}

fn non_zero(c: &Container) -> Resources {
    let mut r = container_requests(c);
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let has = |name: &str| requests.is_some_and(|l| l.contains_key(name));
    if !has("cpu") {
        r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if !has("memory") {
        r.memory = DEFAULT_MEMORY_REQUEST;
    }
    r
}

fn is_restartable(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// The pod's requests and its requests with non-zero defaults. Upstream's rule: regular
/// containers and restartable (sidecar) init containers add up; a classic init container runs
/// alone beside the sidecars started before it, so the pod needs the larger of the two;
/// overhead comes on top.
pub fn pod_requests(pod: &Pod) -> (Resources, Resources) {
    let Some(spec) = pod.spec.as_ref() else {
        return (Resources::default(), Resources::default());
    };
    let compute = |per: &dyn Fn(&Container) -> Resources| {
        let mut total = Resources::default();
        for c in &spec.containers {
            total.add(&per(c));
        }
        let mut sidecars = Resources::default();
        let mut init_peak = Resources::default();
        for c in spec.init_containers.iter().flatten() {
            let r = per(c);
            if is_restartable(c) {
                sidecars.add(&r);
                let mut with = sidecars.clone();
                with.max(&init_peak);
                init_peak = with;
            } else {
                let mut with = sidecars.clone();
                with.add(&r);
                init_peak.max(&with);
            }
        }
        total.add(&sidecars);
        total.max(&init_peak);
        if let Some(overhead) = spec.overhead.as_ref() {
            total.add(&Resources::from_list(overhead));
        }
        total
    };
    (compute(&container_requests), compute(&non_zero))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn requests_sum_containers_and_take_the_init_peak() {
        let p = pod(serde_json::json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "200m", "memory": "1Gi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "300m", "nvidia.com/gpu": "1"}}}
            ],
            "initContainers": [
                {"name": "i", "resources": {"requests": {"cpu": "2", "memory": "10Mi"}}}
            ],
            "overhead": {"cpu": "10m"}
        }}));
        let (r, nz) = pod_requests(&p);
        assert_eq!(r.milli_cpu, 2010);
        assert_eq!(r.memory, 1 << 30);
        assert_eq!(r.scalar.get("nvidia.com/gpu"), Some(&1));
        // b requests no memory: 200 MiB is counted for it when scoring.
        assert_eq!(nz.memory, (1 << 30) + DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn sidecars_add_to_the_containers() {
        let p = pod(serde_json::json!({"spec": {
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [
                {"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
                {"name": "i", "resources": {"requests": {"cpu": "120m"}}}
            ]
        }}));
        let (r, _) = pod_requests(&p);
        // max(100 + 50, 50 + 120) = 170
        assert_eq!(r.milli_cpu, 170);
    }
}
