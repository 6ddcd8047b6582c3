//! What a sync of one pod must do, decided from its spec and its runtime state alone (no I/O,
//! so every rule is unit tested): create the sandbox, start which init or app containers,
//! stop which, and which wait out their restart back-off (upstream's `computePodActions`).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container as SpecContainer, Pod};

use super::backoff::Backoff;
use super::runtime::{PodRuntime, State};

/// A container waiting, and why (`CrashLoopBackOff`, `ErrImagePull`...).
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub reason: String,
    pub message: String,
}

/// Which container of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Init(usize),
    App(usize),
}

/// The decision for one sync.
#[derive(Debug, Default, PartialEq)]
pub struct Actions {
    /// Stop every container and sandbox and start over in a new sandbox.
    pub create_sandbox: bool,
    /// Containers to stop: (container ID, name, why).
    pub kill: Vec<(String, String, String)>,
    /// Containers to start, in order.
    pub start: Vec<Which>,
    /// Containers in back-off, by name.
    pub backoff: BTreeMap<String, Waiting>,
    /// When to look again because a back-off ends.
    pub resync_after: Option<Duration>,
    /// The pod has finished for good: stop the sandbox, start nothing.
    pub finished: bool,
}

/// The pod's restart policy (`Always` by default).
pub fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

/// Whether an init container is a sidecar (a restartable init container).
pub fn is_sidecar(c: &SpecContainer) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

fn should_restart(policy: &str, exit_code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

/// Decides the sync. `unhealthy` names running containers a liveness (or startup) probe
/// failed.
pub fn compute(
    pod: &Pod,
    rt: &PodRuntime,
    backoff: &Backoff,
    unhealthy: &[String],
    now: Timestamp,
) -> Actions {
    let mut a = Actions::default();
    let Some(spec) = pod.spec.as_ref() else {
        return a;
    };
    let policy = restart_policy(pod);
    let inits = spec.init_containers.as_deref().unwrap_or(&[]);
    let apps = &spec.containers;

    let sandbox_ready = rt.sandbox().is_some_and(|s| s.ready);
    if !sandbox_ready {
        // A pod whose containers all finished and will not restart keeps its dead sandbox.
        if rt.sandbox().is_some() && policy != "Always" && all_done(apps, rt, policy) {
            a.finished = true;
            return a;
        }
        a.create_sandbox = true;
        for c in rt.running() {
            a.kill.push((
                c.id.clone(),
                c.name.clone(),
                "the pod sandbox changed".into(),
            ));
        }
        a.start = if inits.is_empty() {
            (0..apps.len()).map(Which::App).collect()
        } else {
            vec![Which::Init(0)]
        };
        return a;
    }

    // Init containers, in order; sidecars keep running once started.
    for (i, c) in inits.iter().enumerate() {
        let latest = rt.latest(&c.name);
        if is_sidecar(c) {
            match latest {
                None => {
                    a.start.push(Which::Init(i));
                    return a;
                }
                Some(l) if l.state == State::Exited => {
                    restart_or_wait(&mut a, c, l, backoff, now, Which::Init(i));
                }
                Some(l) if unhealthy.contains(&c.name) => kill_unhealthy(&mut a, l),
                Some(_) => {}
            }
            continue;
        }
        match latest {
            None => {
                a.start.push(Which::Init(i));
                return a;
            }
            Some(l) => match l.state {
                State::Exited if l.exit_code == 0 => {}
                State::Exited => {
                    if policy == "Never" {
                        a.finished = true;
                        for c in rt.running() {
                            a.kill.push((
                                c.id.clone(),
                                c.name.clone(),
                                "init container failed".into(),
                            ));
                        }
                    } else {
                        restart_or_wait(&mut a, c, l, backoff, now, Which::Init(i));
                    }
                    return a;
                }
                // Running (or being created): wait for it.
                _ => return a,
            },
        }
    }

    if policy != "Always" && all_done(apps, rt, policy) {
        a.finished = true;
        for c in rt.running() {
            a.kill
                .push((c.id.clone(), c.name.clone(), "the pod has finished".into()));
        }
        return a;
    }

    for (i, c) in apps.iter().enumerate() {
        match rt.latest(&c.name) {
            None => a.start.push(Which::App(i)),
            Some(l) => match l.state {
                State::Running if unhealthy.contains(&c.name) => kill_unhealthy(&mut a, l),
                State::Running => {}
                State::Created | State::Unknown => {
                    // Created but never started (a kubelet stopped in between): start over.
                    a.kill.push((
                        l.id.clone(),
                        c.name.clone(),
                        "container was not started".into(),
                    ));
                    a.start.push(Which::App(i));
                }
                State::Exited => {
                    if should_restart(policy, l.exit_code) {
                        restart_or_wait(&mut a, c, l, backoff, now, Which::App(i));
                    }
                }
            },
        }
    }
    a
}

fn kill_unhealthy(a: &mut Actions, l: &super::runtime::Container) {
    a.kill.push((
        l.id.clone(),
        l.name.clone(),
        "failed liveness probe, will be restarted".into(),
    ));
}

/// Starts `c` again unless it is in back-off, in which case it waits with
/// `CrashLoopBackOff` and the sync comes back when the back-off ends.
fn restart_or_wait(
    a: &mut Actions,
    c: &SpecContainer,
    last: &super::runtime::Container,
    backoff: &Backoff,
    now: Timestamp,
    which: Which,
) {
    let key = Backoff::key(&c.name, c.image.as_deref().unwrap_or(""));
    match backoff.remaining(&key, last.finished(), now) {
        Some(left) => {
            let delay = backoff.delay(&key).unwrap_or(left);
            a.backoff.insert(
                c.name.clone(),
                Waiting {
                    reason: "CrashLoopBackOff".into(),
                    message: format!(
                        "back-off {} restarting failed container={}",
                        go_duration(delay),
                        c.name
                    ),
                },
            );
            a.resync_after = Some(a.resync_after.map_or(left, |r| r.min(left)));
        }
        None => a.start.push(which),
    }
}

/// Whether every app container ran and will not run again under `policy`.
fn all_done(apps: &[SpecContainer], rt: &PodRuntime, policy: &str) -> bool {
    !apps.is_empty()
        && apps.iter().all(|c| {
            rt.containers
                .iter()
                .find(|x| x.name == c.name)
                .is_some_and(|l| l.state == State::Exited && !should_restart(policy, l.exit_code))
        })
}

/// A duration as Go prints it (`10s`, `1m20s`, `5m0s`).
pub fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::super::runtime::{Container, Sandbox};
    use super::*;

    fn pod(policy: &str, inits: &[&str], apps: &[&str]) -> Pod {
        let c = |n: &&str| serde_json::json!({"name": n, "image": "busybox"});
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
            "spec": {
                "restartPolicy": policy,
                "initContainers": inits.iter().map(c).collect::<Vec<_>>(),
                "containers": apps.iter().map(c).collect::<Vec<_>>(),
            }
        }))
        .unwrap()
    }

    fn sandbox(ready: bool) -> Sandbox {
        Sandbox {
            id: "s1".into(),
            attempt: 0,
            ready,
            created_at: 1,
            ips: vec!["10.0.0.2".into()],
        }
    }

    fn container(name: &str, attempt: u32, state: State, exit: i32, finished: i64) -> Container {
        Container {
            id: format!("{name}-{attempt}"),
            sandbox_id: "s1".into(),
            name: name.into(),
            attempt,
            state,
            image: "busybox".into(),
            image_ref: "sha256:x".into(),
            created_at: attempt as i64,
            started_at: 0,
            finished_at: finished * 1_000_000_000,
            exit_code: exit,
            reason: String::new(),
            message: String::new(),
        }
    }

    fn now(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn a_new_pod_gets_a_sandbox_and_its_first_init_container() {
        let rt = PodRuntime::default();
        let a = compute(
            &pod("Always", &["i1", "i2"], &["a"]),
            &rt,
            &Backoff::default(),
            &[],
            now(0),
        );
        assert!(a.create_sandbox);
        assert_eq!(a.start, [Which::Init(0)]);
        let a = compute(
            &pod("Always", &[], &["a", "b"]),
            &rt,
            &Backoff::default(),
            &[],
            now(0),
        );
        assert_eq!(a.start, [Which::App(0), Which::App(1)]);
    }

    #[test]
    fn init_containers_run_one_at_a_time_in_order() {
        let p = pod("Always", &["i1", "i2"], &["a"]);
        let mut rt = PodRuntime {
            sandboxes: vec![sandbox(true)],
            containers: vec![container("i1", 0, State::Running, 0, 0)],
        };
        let b = Backoff::default();
        assert_eq!(compute(&p, &rt, &b, &[], now(0)).start, []);
        rt.containers[0].state = State::Exited;
        assert_eq!(compute(&p, &rt, &b, &[], now(0)).start, [Which::Init(1)]);
        rt.containers.push(container("i2", 0, State::Exited, 0, 0));
        assert_eq!(compute(&p, &rt, &b, &[], now(0)).start, [Which::App(0)]);
    }

    #[test]
    fn sidecars_start_first_and_keep_running() {
        let mut p = pod("Always", &["side"], &["a"]);
        p.spec.as_mut().unwrap().init_containers.as_mut().unwrap()[0].restart_policy =
            Some("Always".into());
        let b = Backoff::default();
        let mut rt = PodRuntime {
            sandboxes: vec![sandbox(true)],
            containers: vec![],
        };
        assert_eq!(compute(&p, &rt, &b, &[], now(0)).start, [Which::Init(0)]);
        rt.containers
            .push(container("side", 0, State::Running, 0, 0));
        assert_eq!(compute(&p, &rt, &b, &[], now(0)).start, [Which::App(0)]);
        // A sidecar that exits is restarted beside the running app container.
        rt.containers[0].state = State::Exited;
        rt.containers.push(container("a", 0, State::Running, 0, 0));
        assert_eq!(compute(&p, &rt, &b, &[], now(5)).start, [Which::Init(0)]);
    }

    #[test]
    fn a_failed_init_container_fails_a_never_pod() {
        let p = pod("Never", &["i1"], &["a"]);
        let rt = PodRuntime {
            sandboxes: vec![sandbox(true)],
            containers: vec![container("i1", 0, State::Exited, 1, 0)],
        };
        let a = compute(&p, &rt, &Backoff::default(), &[], now(0));
        assert!(a.finished);
        assert!(a.start.is_empty());
    }

    #[test]
    fn a_crashing_container_restarts_then_backs_off() {
        let p = pod("Always", &[], &["a"]);
        let rt = PodRuntime {
            sandboxes: vec![sandbox(true)],
            containers: vec![container("a", 1, State::Exited, 1, 100)],
        };
        let mut b = Backoff::default();
        assert_eq!(compute(&p, &rt, &b, &[], now(101)).start, [Which::App(0)]);
        b.next(&Backoff::key("a", "busybox"), now(100));
        let a = compute(&p, &rt, &b, &[], now(103));
        assert!(a.start.is_empty());
        assert_eq!(a.backoff["a"].reason, "CrashLoopBackOff");
        assert_eq!(
            a.backoff["a"].message,
            "back-off 10s restarting failed container=a"
        );
        assert_eq!(a.resync_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn restart_policy_decides_what_restarts() {
        let rt = |exit| PodRuntime {
            sandboxes: vec![sandbox(true)],
            containers: vec![container("a", 0, State::Exited, exit, 1)],
        };
        let b = Backoff::default();
        let on_failure = pod("OnFailure", &[], &["a"]);
        assert!(compute(&on_failure, &rt(0), &b, &[], now(5)).finished);
        assert_eq!(
            compute(&on_failure, &rt(2), &b, &[], now(5)).start,
            [Which::App(0)]
        );
        let never = pod("Never", &[], &["a"]);
        assert!(compute(&never, &rt(2), &b, &[], now(5)).finished);
        // A finished pod's sandbox is not recreated once it stopped.
        let mut stopped = rt(0);
        stopped.sandboxes[0].ready = false;
        let a = compute(&never, &stopped, &b, &[], now(5));
        assert!(a.finished && !a.create_sandbox);
    }

    #[test]
    fn liveness_failures_kill_the_container() {
        let p = pod("Always", &[], &["a"]);
        let rt = PodRuntime {
            sandboxes: vec![sandbox(true)],
            containers: vec![container("a", 0, State::Running, 0, 0)],
        };
        let a = compute(&p, &rt, &Backoff::default(), &["a".into()], now(0));
        assert_eq!(a.kill.len(), 1);
        assert_eq!(a.kill[0].0, "a-0");
    }

    #[test]
    fn a_dead_sandbox_is_replaced_and_its_containers_stopped() {
        let p = pod("Always", &[], &["a"]);
        let rt = PodRuntime {
            sandboxes: vec![sandbox(false)],
            containers: vec![container("a", 0, State::Running, 0, 0)],
        };
        let a = compute(&p, &rt, &Backoff::default(), &[], now(0));
        assert!(a.create_sandbox);
        assert_eq!(a.kill.len(), 1);
        assert_eq!(a.start, [Which::App(0)]);
    }
}
