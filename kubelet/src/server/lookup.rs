//! Finding a pod's sandboxes and containers in the runtime by the labels the kubelet puts on
//! them (`kubelet::cri`'s constants), as the logs, exec, attach and port-forward handlers need.

use std::collections::HashMap;

use k8s_cri::v1::{
    Container, ContainerFilter, ContainerState, ContainerStatusRequest, ListContainersRequest,
    ListPodSandboxRequest, PodSandbox, PodSandboxFilter, PodSandboxState, PodSandboxStateValue,
};

use crate::cri::{
    Cri, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
};

/// The pod's labels as a CRI label selector (the UID too when known, so an older pod of the
/// same name is never picked).
fn pod_selector(namespace: &str, name: &str, uid: Option<&str>) -> HashMap<String, String> {
    let mut labels = HashMap::from([
        (LABEL_POD_NAMESPACE.to_string(), namespace.to_string()),
        (LABEL_POD_NAME.to_string(), name.to_string()),
    ]);
    if let Some(uid) = uid.filter(|u| !u.is_empty()) {
        labels.insert(LABEL_POD_UID.to_string(), uid.to_string());
    }
    labels
}

/// A container's restart count: the annotation the kubelet writes, else its metadata attempt.
pub fn restart_count(c: &Container) -> u32 {
    c.annotations
        .get(ANNOTATION_RESTART_COUNT)
        .and_then(|v| v.parse().ok())
        .or_else(|| c.metadata.as_ref().map(|m| m.attempt))
        .unwrap_or_default()
}

/// Every instance of container `container` of the pod, newest (highest restart count) first.
pub async fn containers(
    cri: &Cri,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
    container: &str,
) -> Result<Vec<Container>, tonic::Status> {
    let mut labels = pod_selector(namespace, name, uid);
    labels.insert(LABEL_CONTAINER_NAME.to_string(), container.to_string());
    let mut list = cri
        .runtime
        .clone()
        .list_containers(ListContainersRequest {
            filter: Some(ContainerFilter {
                label_selector: labels,
                ..Default::default()
            }),
        })
        .await?
        .into_inner()
        .containers;
    list.sort_by(|a, b| {
        restart_count(b)
            .cmp(&restart_count(a))
            .then(b.created_at.cmp(&a.created_at))
    });
    Ok(list)
}

/// The running instance of the container, as exec and attach need.
pub async fn running_container(
    cri: &Cri,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
    container: &str,
) -> Result<Option<Container>, tonic::Status> {
    Ok(containers(cri, namespace, name, uid, container)
        .await?
        .into_iter()
        .find(|c| c.state == ContainerState::ContainerRunning as i32))
}

/// The pod's ready sandbox (the newest when several are), as port-forward needs.
pub async fn ready_sandbox(
    cri: &Cri,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
) -> Result<Option<PodSandbox>, tonic::Status> {
    let list = cri
        .runtime
        .clone()
        .list_pod_sandbox(ListPodSandboxRequest {
            filter: Some(PodSandboxFilter {
                state: Some(PodSandboxStateValue {
                    state: PodSandboxState::SandboxReady as i32,
                }),
                label_selector: pod_selector(namespace, name, uid),
                ..Default::default()
            }),
        })
        .await?
        .into_inner()
        .items;
    Ok(list.into_iter().max_by_key(|s| s.created_at))
}

/// A container's log file (absolute: the runtime joins the sandbox's log directory and the
/// container's log path) and whether it is still running.
pub async fn log_file(cri: &Cri, id: &str) -> Result<(String, bool), tonic::Status> {
    let status = cri
        .runtime
        .clone()
        .container_status(ContainerStatusRequest {
            container_id: id.to_string(),
            verbose: false,
        })
        .await?
        .into_inner()
        .status
        .unwrap_or_default();
    Ok((
        status.log_path,
        status.state == ContainerState::ContainerRunning as i32,
    ))
}

/// Whether container `id` is still running (a missing container is not).
pub async fn is_running(cri: &Cri, id: &str) -> bool {
    matches!(log_file(cri, id).await, Ok((_, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_count_from_the_annotation_else_the_attempt() {
        let mut c = Container {
            metadata: Some(k8s_cri::v1::ContainerMetadata {
                name: "c".into(),
                attempt: 4,
            }),
            ..Default::default()
        };
        assert_eq!(restart_count(&c), 4);
        c.annotations
            .insert(ANNOTATION_RESTART_COUNT.to_string(), "7".to_string());
        assert_eq!(restart_count(&c), 7);
        c.annotations
            .insert(ANNOTATION_RESTART_COUNT.to_string(), "x".to_string());
        assert_eq!(restart_count(&c), 4);
    }
}
