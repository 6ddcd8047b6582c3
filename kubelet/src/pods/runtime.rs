//! A pod as the runtime sees it: its sandboxes and containers from CRI, found by the pod UID
//! label, reduced to the few fields the kubelet decides and reports on.

use jiff::Timestamp;
use k8s_cri::v1::{ContainerState, PodSandboxState};

use crate::cri::{Cri, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME};

/// One sandbox of the pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Sandbox {
    pub id: String,
    pub attempt: u32,
    pub ready: bool,
    pub created_at: i64,
    /// The pod IPs (first is the primary), for a ready sandbox.
    pub ips: Vec<String>,
}

/// A container's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Created,
    Running,
    Exited,
    Unknown,
}

/// One container of the pod (any attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub id: String,
    pub sandbox_id: String,
    pub name: String,
    /// The restart count this container was created with.
    pub attempt: u32,
    pub state: State,
    pub image: String,
    pub image_ref: String,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    pub reason: String,
    pub message: String,
}

impl Container {
    pub fn finished(&self) -> Timestamp {
        Timestamp::from_nanosecond(self.finished_at as i128).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// The pod's runtime state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodRuntime {
    /// Newest first.
    pub sandboxes: Vec<Sandbox>,
    /// Newest first (by attempt, then creation).
    pub containers: Vec<Container>,
}

impl PodRuntime {
    /// The newest sandbox.
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandboxes.first()
    }

    /// The newest container named `name`, in the newest sandbox only (a new sandbox starts
    /// every container over).
    pub fn latest(&self, name: &str) -> Option<&Container> {
        let sandbox = self.sandbox()?;
        self.containers
            .iter()
            .find(|c| c.name == name && c.sandbox_id == sandbox.id)
    }

    /// The container named `name` before the newest one (for `lastState`).
    pub fn previous(&self, name: &str) -> Option<&Container> {
        let latest = self.latest(name);
        self.containers
            .iter()
            .filter(|c| c.name == name && Some(*c) != latest)
            .find(|c| latest.is_none_or(|l| c.attempt < l.attempt || c.sandbox_id != l.sandbox_id))
    }

    /// The attempt the next container named `name` gets (its restart count).
    pub fn next_attempt(&self, name: &str) -> u32 {
        self.containers
            .iter()
            .filter(|c| c.name == name)
            .map(|c| c.attempt + 1)
            .max()
            .unwrap_or(0)
    }

    pub fn running(&self) -> impl Iterator<Item = &Container> {
        self.containers
            .iter()
            .filter(|c| matches!(c.state, State::Running | State::Created | State::Unknown))
    }
}

/// Reads the pod's sandboxes and containers (with their statuses) from the runtime.
pub async fn inspect(cri: &Cri, uid: &str) -> Result<PodRuntime, tonic::Status> {
    let mut rt = cri.runtime.clone();
    let mut sandboxes = Vec::new();
    for s in cri.pod_sandboxes(uid).await? {
        let ready = s.state == PodSandboxState::SandboxReady as i32;
        let mut ips = Vec::new();
        if ready {
            let status = rt
                .pod_sandbox_status(k8s_cri::v1::PodSandboxStatusRequest {
                    pod_sandbox_id: s.id.clone(),
                    verbose: false,
                })
                .await?
                .into_inner();
            if let Some(net) = status.status.and_then(|s| s.network) {
                if !net.ip.is_empty() {
                    ips.push(net.ip);
                }
                ips.extend(net.additional_ips.into_iter().map(|i| i.ip));
            }
        }
        sandboxes.push(Sandbox {
            id: s.id,
            attempt: s.metadata.map(|m| m.attempt).unwrap_or(0),
            ready,
            created_at: s.created_at,
            ips,
        });
    }
    sandboxes.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    let mut containers = Vec::new();
    for c in cri.pod_containers(uid).await? {
        let status = match rt
            .container_status(k8s_cri::v1::ContainerStatusRequest {
                container_id: c.id.clone(),
                verbose: false,
            })
            .await
        {
            Ok(r) => r.into_inner().status.unwrap_or_default(),
            // Removed between the list and now.
            Err(s) if s.code() == tonic::Code::NotFound => continue,
            Err(s) => return Err(s),
        };
        let name = c
            .labels
            .get(LABEL_CONTAINER_NAME)
            .cloned()
            .or_else(|| c.metadata.as_ref().map(|m| m.name.clone()))
            .unwrap_or_default();
        let attempt = c
            .annotations
            .get(ANNOTATION_RESTART_COUNT)
            .and_then(|a| a.parse().ok())
            .or_else(|| c.metadata.as_ref().map(|m| m.attempt))
            .unwrap_or(0);
        let state = match ContainerState::try_from(status.state) {
            Ok(ContainerState::ContainerCreated) => State::Created,
            Ok(ContainerState::ContainerRunning) => State::Running,
            Ok(ContainerState::ContainerExited) => State::Exited,
            _ => State::Unknown,
        };
        containers.push(Container {
            id: c.id,
            sandbox_id: c.pod_sandbox_id,
            name,
            attempt,
            state,
            image: c.image.map(|i| i.image).unwrap_or_default(),
            image_ref: status.image_ref,
            created_at: status.created_at,
            started_at: status.started_at,
            finished_at: status.finished_at,
            exit_code: status.exit_code,
            reason: status.reason,
            message: status.message,
        });
    }
    containers.sort_by(|a, b| {
        b.attempt
            .cmp(&a.attempt)
            .then(b.created_at.cmp(&a.created_at))
    });
    Ok(PodRuntime {
        sandboxes,
        containers,
    })
}
