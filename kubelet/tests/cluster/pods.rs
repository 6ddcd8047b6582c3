//! Pod scenarios (owned by the `kubelet` work): pods run in containerd on the nodes, report
//! their status, restart as their policy says. Add `Scenario`s to `SCENARIOS`.

use crate::Scenario;

pub const SCENARIOS: &[Scenario] = &[];
