//! The kubelet's connection to the container runtime: CRI v1 gRPC (the `k8s-cri` bindings)
//! over the runtime's unix socket, and the labels by which the kubelet finds its own
//! sandboxes and containers again (upstream's names, so `crictl` shows the same thing).

use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

/// The sandbox label holding the pod's name.
pub const LABEL_POD_NAME: &str = "io.kubernetes.pod.name";
/// The sandbox label holding the pod's namespace.
pub const LABEL_POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// The sandbox and container label holding the pod's UID.
pub const LABEL_POD_UID: &str = "io.kubernetes.pod.uid";
/// The container label holding the container's name in the pod spec.
pub const LABEL_CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// The container annotation holding its restart count (`kubectl logs --previous` reads the
/// container with the count before the current one).
pub const ANNOTATION_RESTART_COUNT: &str = "io.kubernetes.container.restartCount";

/// How long connecting to the runtime's socket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected CRI client: the runtime and image services share one HTTP/2 channel.
/// Cloning is cheap (the channel is reference counted), so every task takes its own clone.
#[derive(Clone, Debug)]
pub struct Cri {
    pub runtime: RuntimeServiceClient<Channel>,
    pub images: ImageServiceClient<Channel>,
    socket: PathBuf,
}

impl Cri {
    /// Connects to `endpoint`, upstream's `--container-runtime-endpoint` form:
    /// `unix:///run/containerd/containerd.sock` or a bare socket path.
    pub async fn connect(endpoint: &str) -> anyhow::Result<Self> {
        let socket = socket_path(endpoint)?;
        let path = socket.clone();
        // The URI is required by tonic but unused: the connector dials the socket.
        let channel = Endpoint::try_from("http://[::]:50051")?
            .connect_timeout(CONNECT_TIMEOUT)
            .connect_with_connector(service_fn(move |_: Uri| {
                let path = path.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(path).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }
            }))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot connect to the container runtime at {}: {e}",
                    socket.display()
                )
            })?;
        Ok(Cri {
            runtime: RuntimeServiceClient::new(channel.clone()),
            images: ImageServiceClient::new(channel),
            socket,
        })
    }

    /// The runtime's socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The runtime's name and version (`containerd`, `1.6.20`), as `nodeInfo.containerRuntimeVersion`
    /// shows them: `containerd://1.6.20`.
    pub async fn runtime_version(&self) -> anyhow::Result<String> {
        let v = self
            .runtime
            .clone()
            .version(k8s_cri::v1::VersionRequest::default())
            .await?
            .into_inner();
        Ok(format!("{}://{}", v.runtime_name, v.runtime_version))
    }
}

/// The socket path of a `--container-runtime-endpoint` value. Only unix sockets exist here.
pub fn socket_path(endpoint: &str) -> anyhow::Result<PathBuf> {
    let path = match endpoint.split_once("://") {
        Some(("unix", path)) => path,
        Some((scheme, _)) => anyhow::bail!(
            "invalid --container-runtime-endpoint {endpoint:?}: protocol {scheme:?} not supported, use unix://"
        ),
        None => endpoint,
    };
    if path.is_empty() || !path.starts_with('/') {
        anyhow::bail!("invalid --container-runtime-endpoint {endpoint:?}: an absolute socket path is required");
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_in_upstream_forms() {
        assert_eq!(
            socket_path("unix:///run/containerd/containerd.sock").unwrap(),
            PathBuf::from("/run/containerd/containerd.sock")
        );
        assert_eq!(
            socket_path("/tmp/c.sock").unwrap(),
            PathBuf::from("/tmp/c.sock")
        );
        let err = socket_path("tcp://127.0.0.1:1").unwrap_err().to_string();
        assert!(err.contains("not supported"), "{err}");
        assert!(socket_path("unix://relative").is_err());
    }

    #[tokio::test]
    async fn a_missing_socket_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("none.sock");
        let err = Cri::connect(sock.to_str().unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot connect to the container runtime"),
            "{err}"
        );
    }
}
