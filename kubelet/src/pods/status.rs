//! The pod status the kubelet reports, computed from the spec and the runtime state (no I/O):
//! phase, conditions, IPs and container statuses with upstream's reasons, and the comparison
//! that keeps unchanged statuses from being written again.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container as SpecContainer, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::actions::{is_sidecar, restart_policy, Waiting};
use super::runtime::{Container, PodRuntime, State};

/// What the status needs beyond spec and runtime state.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// `containerd` in `containerd://<id>`.
    pub runtime_name: &'a str,
    pub host_ip: Option<&'a str>,
    /// Why containers wait (back-off, image pull or config errors), by name.
    pub waiting: &'a BTreeMap<String, Waiting>,
    /// Running containers whose readiness probe does not pass.
    pub unready: &'a HashSet<String>,
    /// Running containers whose startup probe has not passed yet.
    pub not_started: &'a HashSet<String>,
    /// The pod has finished for good (see `Actions::finished`).
    pub finished: bool,
}

fn ts(nanos: i64) -> Option<Time> {
    (nanos > 0)
        .then(|| Timestamp::from_nanosecond(nanos as i128).ok())
        .flatten()
        .map(Time)
}

fn terminated(c: &Container, runtime: &str) -> ContainerStateTerminated {
    let reason = if !c.reason.is_empty() {
        c.reason.clone()
    } else if c.exit_code == 0 {
        "Completed".into()
    } else {
        "Error".into()
    };
    ContainerStateTerminated {
        exit_code: c.exit_code,
        reason: Some(reason),
        message: (!c.message.is_empty()).then(|| c.message.clone()),
        started_at: ts(c.started_at),
        finished_at: ts(c.finished_at),
        container_id: Some(format!("{runtime}://{}", c.id)),
        signal: None,
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message,
        }),
        ..Default::default()
    }
}

fn container_status(
    spec: &SpecContainer,
    rt: &PodRuntime,
    inp: &Inputs,
    default_reason: &str,
) -> ContainerStatus {
    let latest = rt.latest(&spec.name);
    let mut last_state = rt
        .previous(&spec.name)
        .filter(|p| p.state == State::Exited)
        .map(|p| ContainerState {
            terminated: Some(terminated(p, inp.runtime_name)),
            ..Default::default()
        });
    let state = match (latest, inp.waiting.get(&spec.name)) {
        (Some(l), Some(w)) if l.state == State::Exited => {
            last_state = Some(ContainerState {
                terminated: Some(terminated(l, inp.runtime_name)),
                ..Default::default()
            });
            waiting(&w.reason, Some(w.message.clone()))
        }
        (Some(l), _) => match l.state {
            State::Running => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: ts(l.started_at),
                }),
                ..Default::default()
            },
            State::Exited => ContainerState {
                terminated: Some(terminated(l, inp.runtime_name)),
                ..Default::default()
            },
            State::Created | State::Unknown => waiting("ContainerCreating", None),
        },
        (None, Some(w)) => waiting(&w.reason, Some(w.message.clone())),
        (None, None) => waiting(default_reason, None),
    };
    let running = latest.is_some_and(|l| l.state == State::Running);
    let started = running && !inp.not_started.contains(&spec.name);
    ContainerStatus {
        name: spec.name.clone(),
        image: spec.image.clone().unwrap_or_default(),
        image_id: latest.map(|l| l.image_ref.clone()).unwrap_or_default(),
        container_id: latest.map(|l| format!("{}://{}", inp.runtime_name, l.id)),
        ready: started && !inp.unready.contains(&spec.name),
        started: Some(started),
        restart_count: latest.map(|l| l.attempt as i32).unwrap_or(0),
        state: Some(state),
        last_state: Some(last_state.unwrap_or_default()),
        ..Default::default()
    }
}

fn is_terminated(s: &ContainerStatus) -> Option<i32> {
    s.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code)
}

/// Upstream's `getPhase`.
fn phase(
    pod: &Pod,
    inits: &[ContainerStatus],
    init_specs: &[SpecContainer],
    apps: &[ContainerStatus],
) -> &'static str {
    let policy = restart_policy(pod);
    let mut pending_init = false;
    for (s, spec) in inits.iter().zip(init_specs) {
        if is_sidecar(spec) {
            if !s.started.unwrap_or(false) {
                pending_init = true;
            }
            continue;
        }
        match is_terminated(s) {
            Some(0) => {}
            Some(_) if policy == "Never" => return "Failed",
            _ => pending_init = true,
        }
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in apps {
        let state = s.state.clone().unwrap_or_default();
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if s
            .last_state
            .as_ref()
            .is_some_and(|l| l.terminated.is_some())
        {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if pending_init && running == 0 && stopped == 0 {
        return "Pending";
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        if policy == "Always" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if policy == "Never" {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

fn condition(
    type_: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    previous: Option<&PodStatus>,
    now: &Time,
) -> PodCondition {
    let status = if ok { "True" } else { "False" }.to_string();
    let since = previous
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_ && c.status == status))
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    PodCondition {
        type_: type_.into(),
        status,
        reason: reason.map(Into::into),
        message,
        last_transition_time: Some(since),
        last_probe_time: None,
        observed_generation: None,
    }
}

/// The status to report for `pod`.
pub fn compute(pod: &Pod, rt: &PodRuntime, inp: &Inputs, now: Timestamp) -> PodStatus {
    let now = Time(now);
    let previous = pod.status.as_ref();
    let spec = pod.spec.clone().unwrap_or_default();
    let init_specs = spec.init_containers.clone().unwrap_or_default();
    let init_statuses: Vec<ContainerStatus> = init_specs
        .iter()
        .map(|c| container_status(c, rt, inp, "PodInitializing"))
        .collect();
    let initialized = init_specs.iter().zip(&init_statuses).all(|(c, s)| {
        if is_sidecar(c) {
            s.started.unwrap_or(false)
        } else {
            is_terminated(s) == Some(0)
        }
    });
    let default_reason = if initialized {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let statuses: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| container_status(c, rt, inp, default_reason))
        .collect();
    let mut phase = phase(pod, &init_statuses, &init_specs, &statuses);
    if !inp.finished
        && (phase == "Succeeded" || phase == "Failed")
        && restart_policy(pod) == "Always"
    {
        phase = "Running";
    }
    let sandbox = rt.sandbox().filter(|s| s.ready);
    let ips: Vec<String> = sandbox.map(|s| s.ips.clone()).unwrap_or_default();
    let terminal = phase == "Succeeded" || phase == "Failed";

    let unready: Vec<&str> = statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let uninitialized: Vec<&str> = init_specs
        .iter()
        .zip(&init_statuses)
        .filter(|(c, s)| {
            if is_sidecar(c) {
                !s.ready
            } else {
                is_terminated(s) != Some(0)
            }
        })
        .map(|(c, _)| c.name.as_str())
        .collect();
    let ready = unready.is_empty() && !terminal;
    let (ready_reason, ready_message) = if terminal {
        (Some("PodCompleted"), None)
    } else if ready {
        (None, None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let scheduled = previous
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
        .cloned()
        .unwrap_or_else(|| condition("PodScheduled", true, None, None, None, &now));
    let conditions = vec![
        condition(
            "PodReadyToStartContainers",
            sandbox.is_some(),
            None,
            None,
            previous,
            &now,
        ),
        if initialized {
            condition(
                "Initialized",
                true,
                terminal
                    .then_some("PodCompleted")
                    .filter(|_| !init_specs.is_empty()),
                None,
                previous,
                &now,
            )
        } else {
            condition(
                "Initialized",
                false,
                Some("ContainersNotInitialized"),
                Some(format!(
                    "containers with incomplete status: [{}]",
                    uninitialized.join(" ")
                )),
                previous,
                &now,
            )
        },
        condition(
            "Ready",
            ready,
            ready_reason,
            ready_message.clone(),
            previous,
            &now,
        ),
        condition(
            "ContainersReady",
            ready,
            ready_reason,
            ready_message,
            previous,
            &now,
        ),
        scheduled,
    ];
    let start_time = previous
        .and_then(|s| s.start_time.clone())
        .unwrap_or_else(|| now.clone());
    PodStatus {
        phase: Some(phase.into()),
        conditions: Some(conditions),
        host_ip: inp.host_ip.map(Into::into),
        host_ips: inp.host_ip.map(|ip| vec![HostIP { ip: ip.into() }]),
        pod_ip: ips.first().cloned(),
        pod_ips: (!ips.is_empty()).then(|| ips.iter().map(|ip| PodIP { ip: ip.clone() }).collect()),
        start_time: Some(start_time),
        container_statuses: Some(statuses),
        init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
        qos_class: previous.and_then(|s| s.qos_class.clone()),
        ..Default::default()
    }
}

/// Whether two statuses differ in anything but heartbeat-like times.
pub fn same(a: &PodStatus, b: &PodStatus) -> bool {
    let strip = |s: &PodStatus| {
        let mut s = s.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_probe_time = None;
        }
        s
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::super::runtime::Sandbox;
    use super::*;

    fn pod(policy: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
            "spec": {
                "restartPolicy": policy,
                "containers": [{"name": "a", "image": "busybox"}],
            },
            "status": {"phase": "Pending", "qosClass": "BestEffort",
                       "conditions": [{"type": "PodScheduled", "status": "True"}]},
        }))
        .unwrap()
    }

    fn rt(state: State, exit: i32, attempt: u32) -> PodRuntime {
        let c = Container {
            id: "c1".into(),
            sandbox_id: "s1".into(),
            name: "a".into(),
            attempt,
            state,
            image: "busybox".into(),
            image_ref: "sha256:abc".into(),
            created_at: 1,
            started_at: 1_000_000_000_000,
            finished_at: if state == State::Exited {
                2_000_000_000_000
            } else {
                0
            },
            exit_code: exit,
            reason: String::new(),
            message: String::new(),
        };
        PodRuntime {
            sandboxes: vec![Sandbox {
                id: "s1".into(),
                attempt: 0,
                ready: true,
                created_at: 1,
                ips: vec!["10.244.1.5".into()],
            }],
            containers: vec![c],
        }
    }

    fn inputs<'a>(
        w: &'a BTreeMap<String, Waiting>,
        e: &'a HashSet<String>,
        finished: bool,
    ) -> Inputs<'a> {
        Inputs {
            runtime_name: "containerd",
            host_ip: Some("192.168.0.2"),
            waiting: w,
            unready: e,
            not_started: e,
            finished,
        }
    }

    fn cond<'a>(s: &'a PodStatus, t: &str) -> &'a PodCondition {
        s.conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == t)
            .unwrap()
    }

    #[test]
    fn a_running_container_makes_a_ready_running_pod() {
        let (w, e) = (BTreeMap::new(), HashSet::new());
        let s = compute(
            &pod("Always"),
            &rt(State::Running, 0, 0),
            &inputs(&w, &e, false),
            Timestamp::now(),
        );
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.1.5"));
        assert_eq!(s.host_ip.as_deref(), Some("192.168.0.2"));
        assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
        assert_eq!(cond(&s, "Ready").status, "True");
        assert_eq!(cond(&s, "ContainersReady").status, "True");
        assert_eq!(cond(&s, "Initialized").status, "True");
        assert_eq!(cond(&s, "PodReadyToStartContainers").status, "True");
        let cs = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.container_id.as_deref(), Some("containerd://c1"));
        assert_eq!(cs.image_id, "sha256:abc");
        assert!(cs.ready);
        assert!(cs.state.as_ref().unwrap().running.is_some());
    }

    #[test]
    fn crash_loop_shows_waiting_with_last_state() {
        let mut w = BTreeMap::new();
        w.insert(
            "a".to_string(),
            Waiting {
                reason: "CrashLoopBackOff".into(),
                message: "back-off 10s restarting failed container=a".into(),
            },
        );
        let e = HashSet::new();
        let s = compute(
            &pod("Always"),
            &rt(State::Exited, 1, 3),
            &inputs(&w, &e, false),
            Timestamp::now(),
        );
        assert_eq!(s.phase.as_deref(), Some("Running"));
        let cs = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.restart_count, 3);
        let waiting = cs.state.as_ref().unwrap().waiting.as_ref().unwrap();
        assert_eq!(waiting.reason.as_deref(), Some("CrashLoopBackOff"));
        let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(last.exit_code, 1);
        assert_eq!(last.reason.as_deref(), Some("Error"));
        assert_eq!(cond(&s, "Ready").status, "False");
        assert_eq!(
            cond(&s, "Ready").message.as_deref(),
            Some("containers with unready status: [a]")
        );
    }

    #[test]
    fn finished_pods_succeed_or_fail_by_exit_code() {
        let (w, e) = (BTreeMap::new(), HashSet::new());
        let ok = compute(
            &pod("Never"),
            &rt(State::Exited, 0, 0),
            &inputs(&w, &e, true),
            Timestamp::now(),
        );
        assert_eq!(ok.phase.as_deref(), Some("Succeeded"));
        assert_eq!(cond(&ok, "Ready").reason.as_deref(), Some("PodCompleted"));
        let failed = compute(
            &pod("Never"),
            &rt(State::Exited, 2, 0),
            &inputs(&w, &e, true),
            Timestamp::now(),
        );
        assert_eq!(failed.phase.as_deref(), Some("Failed"));
        let t = &failed.container_statuses.unwrap()[0];
        assert_eq!(
            t.state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .exit_code,
            2
        );
    }

    #[test]
    fn no_container_yet_is_pending_creating() {
        let (w, e) = (BTreeMap::new(), HashSet::new());
        let mut r = rt(State::Running, 0, 0);
        r.containers.clear();
        let s = compute(&pod("Always"), &r, &inputs(&w, &e, false), Timestamp::now());
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        let cs = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(
            cs.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("ContainerCreating")
        );
        assert_eq!(cs.restart_count, 0);
    }

    #[test]
    fn transition_times_survive_unchanged_conditions() {
        let (w, e) = (BTreeMap::new(), HashSet::new());
        let mut p = pod("Always");
        let t0 = Timestamp::from_second(1000).unwrap();
        let first = compute(&p, &rt(State::Running, 0, 0), &inputs(&w, &e, false), t0);
        p.status = Some(first.clone());
        let second = compute(
            &p,
            &rt(State::Running, 0, 0),
            &inputs(&w, &e, false),
            Timestamp::now(),
        );
        assert!(same(&first, &second));
    }
}
