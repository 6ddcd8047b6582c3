//! Stream scenarios (owned by the `kserver` work): the kubelet's server, logs, exec, attach
//! and port-forward through the apiserver. Add `Scenario`s to `SCENARIOS`.

use crate::Scenario;

pub const SCENARIOS: &[Scenario] = &[];
