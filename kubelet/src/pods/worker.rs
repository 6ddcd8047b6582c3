//! One pod's worker: a tokio task (no thread) that syncs the pod whenever its spec changes,
//! the PLEG sees its containers change, or a back-off or resync timer fires: it applies the
//! decided actions through CRI, prepares volumes, writes the status through `pods/status`,
//! and on deletion stops everything with the grace period and removes the pod object.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodStatus, Secret};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::Api;
use tokio::sync::{watch, Notify};

use super::actions::{self, Waiting, Which};
use super::backoff::Backoff;
use super::env::{self, PodContext};
use super::runtime::{self, PodRuntime, State};
use super::spec;
use super::status;
use super::volumes;
use super::Context;

/// What the worker is told about its pod.
#[derive(Debug, Clone)]
pub struct Update {
    pub pod: Arc<Pod>,
    /// The pod is gone from its source (deleted from the apiserver, or its static file
    /// removed): stop it without deleting anything in the apiserver.
    pub removed: bool,
}

/// The manager's handle on a worker.
pub struct Handle {
    pub updates: watch::Sender<Update>,
    pub wake: Arc<Notify>,
}

/// How often pods with ConfigMap or Secret volumes re-read them.
const VOLUME_REFRESH: Duration = Duration::from_secs(5);

/// How long to wait before retrying a failed runtime call.
const RETRY: Duration = Duration::from_secs(2);

struct Worker {
    ctx: Arc<Context>,
    uid: String,
    backoff: Backoff,
    /// Why containers could not start (image pull, config), by name.
    errors: BTreeMap<String, Waiting>,
    last_status: Option<PodStatus>,
    /// When pulling each image last failed (image pull back-off counts from there).
    pull_failures: HashMap<String, Timestamp>,
    /// The probes of the pod's running containers.
    probes: super::probes::Probes,
    /// Wakes this worker (probe results use it).
    wake: Arc<Notify>,
    /// The mirror pod's name in the apiserver, for a static pod whose mirror exists.
    mirror_uid: Option<String>,
}

/// Runs the worker until its pod is stopped and removed; then tells the manager through
/// `done`.
pub async fn run(
    ctx: Arc<Context>,
    mut updates: watch::Receiver<Update>,
    wake: Arc<Notify>,
    done: tokio::sync::mpsc::UnboundedSender<String>,
) {
    let uid = spec::uid(&updates.borrow().pod).to_string();
    let mut w = Worker {
        ctx,
        uid: uid.clone(),
        backoff: Backoff::default(),
        errors: BTreeMap::new(),
        last_status: None,
        pull_failures: HashMap::new(),
        probes: Default::default(),
        wake: wake.clone(),
        mirror_uid: None,
    };
    loop {
        let update = updates.borrow_and_update().clone();
        let terminating = update.removed || update.pod.metadata.deletion_timestamp.is_some();
        if terminating {
            match w.terminate(&update).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(pod = %key(&update.pod), "stopping pod: {e}");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        let next = match w.sync(&update.pod).await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(pod = %key(&update.pod), "syncing pod: {e}");
                RETRY
            }
        };
        tokio::select! {
            changed = updates.changed() => if changed.is_err() { break },
            _ = wake.notified() => {}
            _ = tokio::time::sleep(next) => {}
        }
    }
    w.ctx
        .pods
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&uid);
    let _ = done.send(uid);
}

fn key(pod: &Pod) -> String {
    format!("{}/{}", spec::namespace(pod), spec::name(pod))
}

/// Errors of one sync; they are retried.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("runtime: {0}")]
    Runtime(#[from] tonic::Status),
    #[error("apiserver: {0}")]
    Api(#[from] kube::Error),
    #[error("{0}")]
    Volume(#[from] volumes::Error),
}

impl Worker {
    fn cri(&self) -> cri::runtime_service_client::RuntimeServiceClient<tonic::transport::Channel> {
        self.ctx.cri.runtime.clone()
    }

    async fn sync(&mut self, pod: &Arc<Pod>) -> Result<Duration, Error> {
        let now = Timestamp::now();
        let mut rt = runtime::inspect(&self.ctx.cri, &self.uid).await?;
        let probed = probed_containers(pod);
        let unhealthy = self.probes.unhealthy(&probed);
        let decided = actions::compute(pod, &rt, &self.backoff, &unhealthy, now);
        let grace = grace_period(pod, None);
        for (id, name, why) in &decided.kill {
            tracing::info!(pod = %key(pod), container = %name, "killing container: {why}");
            self.event(
                pod,
                Some(name),
                false,
                "Killing",
                format!("Stopping container {name}"),
            );
            self.stop_container(id, grace).await?;
        }
        let mut changed = !decided.kill.is_empty();
        // ConfigMaps and Secrets the pod refers to, fetched once per sync.
        let sources = self.fetch_sources(pod).await;
        let mut resync = self.ctx.config.sync_frequency;
        if decided.create_sandbox {
            for s in &rt.sandboxes {
                self.remove_sandbox(&s.id).await?;
            }
            let volumes = self.setup_volumes(pod, &sources, &rt)?;
            drop(volumes);
            let attempt = rt
                .sandboxes
                .iter()
                .map(|s| s.attempt + 1)
                .max()
                .unwrap_or(0);
            let config = spec::sandbox_config(&self.ctx.config, pod, attempt);
            if let Err(e) = std::fs::create_dir_all(&config.log_directory) {
                tracing::warn!("creating {}: {e}", config.log_directory);
            }
            tracing::info!(pod = %key(pod), "creating pod sandbox");
            self.cri()
                .run_pod_sandbox(cri::RunPodSandboxRequest {
                    config: Some(config),
                    runtime_handler: String::new(),
                })
                .await?;
            rt = runtime::inspect(&self.ctx.cri, &self.uid).await?;
            changed = true;
        }
        if decided.finished {
            for s in rt.sandboxes.iter().filter(|s| s.ready) {
                self.cri()
                    .stop_pod_sandbox(cri::StopPodSandboxRequest {
                        pod_sandbox_id: s.id.clone(),
                    })
                    .await?;
                changed = true;
            }
        }
        self.errors.retain(|name, _| {
            decided
                .start
                .iter()
                .any(|w| container_of(pod, *w).is_some_and(|c| &c.name == name))
        });
        if !decided.start.is_empty() || (!decided.finished && rt.sandbox().is_some_and(|s| s.ready))
        {
            let volumes = match self.setup_volumes(pod, &sources, &rt) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(pod = %key(pod), "{e}");
                    resync = RETRY * 5;
                    None
                }
            };
            if let (Some(volumes), Some(sandbox)) =
                (volumes, rt.sandbox().filter(|s| s.ready).cloned())
            {
                for which in &decided.start {
                    let Some(c) = container_of(pod, *which) else {
                        continue;
                    };
                    let attempt = rt.next_attempt(&c.name);
                    match self
                        .start_container(pod, c, attempt, &sandbox, &volumes, &sources)
                        .await
                    {
                        Ok(()) => {
                            self.errors.remove(&c.name);
                            if attempt > 0 {
                                self.backoff.next(
                                    &Backoff::key(&c.name, c.image.as_deref().unwrap_or("")),
                                    now,
                                );
                            }
                        }
                        Err(w) => {
                            tracing::warn!(pod = %key(pod), container = %c.name, "{}: {}", w.reason, w.message);
                            self.errors.insert(c.name.clone(), w);
                            resync = resync.min(RETRY * 5);
                        }
                    }
                    changed = true;
                }
            }
        }
        // Mounted ConfigMaps and Secrets are re-read this often, so updates reach the files
        // within seconds (upstream's default watch-based detection is as quick).
        let (cms, secrets) = volumes::references(pod);
        if !cms.is_empty() || !secrets.is_empty() {
            resync = resync.min(VOLUME_REFRESH);
        }
        if let Some(after) = decided.resync_after {
            resync = resync.min(after + Duration::from_millis(100));
        }
        if changed {
            rt = runtime::inspect(&self.ctx.cri, &self.uid).await?;
            self.collect_garbage(&rt).await;
        }
        let running: HashMap<String, super::probes::Target> = probed
            .iter()
            .filter_map(|c| {
                let l = rt.latest(&c.name).filter(|l| l.state == State::Running)?;
                let target = super::probes::Target {
                    container_id: l.id.clone(),
                    pod_ip: rt
                        .sandbox()
                        .and_then(|s| s.ips.first().cloned())
                        .unwrap_or_default(),
                };
                Some((c.name.clone(), target))
            })
            .collect();
        self.probes
            .update(&self.ctx.cri, &probed, &running, &self.wake);
        let mut waiting = self.errors.clone();
        waiting.extend(decided.backoff.clone());
        self.write_status(pod, &rt, &waiting, decided.finished, now)
            .await?;
        Ok(resync)
    }

    async fn fetch_sources(&self, pod: &Pod) -> env::Sources {
        let mut src = env::Sources::default();
        let Some(client) = &self.ctx.client else {
            return src;
        };
        let spec = pod.spec.clone().unwrap_or_default();
        let (mut cms, mut secrets) = volumes::references(pod);
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            let (a, b) = env::references(c);
            cms.extend(a);
            secrets.extend(b);
        }
        secrets.extend(
            spec.image_pull_secrets
                .iter()
                .flatten()
                .map(|s| s.name.clone()),
        );
        cms.sort();
        cms.dedup();
        secrets.sort();
        secrets.dedup();
        let ns = spec::namespace(pod);
        let cm_api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        let secret_api: Api<Secret> = Api::namespaced(client.clone(), ns);
        for name in cms {
            if let Ok(Some(cm)) = cm_api.get_opt(&name).await {
                src.config_maps.insert(name, cm);
            }
        }
        for name in secrets {
            if let Ok(Some(s)) = secret_api.get_opt(&name).await {
                src.secrets.insert(name, s);
            }
        }
        src
    }

    fn pod_context(&self, rt: &PodRuntime) -> PodContext {
        PodContext {
            host_ip: self.ctx.host_ip.clone().unwrap_or_default(),
            pod_ips: rt.sandbox().map(|s| s.ips.clone()).unwrap_or_default(),
            node_allocatable: self.ctx.allocatable.clone(),
        }
    }

    fn setup_volumes(
        &self,
        pod: &Pod,
        src: &env::Sources,
        rt: &PodRuntime,
    ) -> Result<HashMap<String, std::path::PathBuf>, Error> {
        Ok(volumes::setup(
            pod,
            &self.ctx.config.root_dir,
            &src.config_maps,
            &src.secrets,
            &self.pod_context(rt),
        )?)
    }

    /// Pulls (as the policy says), creates and starts one container. Failures come back as
    /// the waiting reason the status shows.
    async fn start_container(
        &mut self,
        pod: &Pod,
        c: &Container,
        attempt: u32,
        sandbox: &runtime::Sandbox,
        volumes: &HashMap<String, std::path::PathBuf>,
        src: &env::Sources,
    ) -> Result<(), Waiting> {
        let image = self.ensure_image(pod, c, src).await?;
        let config_error = |message: String| Waiting {
            reason: "CreateContainerConfigError".into(),
            message,
        };
        let env = env::resolve(pod, c, src, &self.pod_context_for(sandbox))
            .map_err(|e| config_error(e.to_string()))?;
        let mounts = spec::mounts(pod, c, volumes).map_err(config_error)?;
        let config = spec::container_config(pod, c, attempt, &env, mounts, image);
        let sandbox_config = spec::sandbox_config(&self.ctx.config, pod, sandbox.attempt);
        let created = self
            .cri()
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox.id.clone(),
                config: Some(config),
                sandbox_config: Some(sandbox_config),
            })
            .await
            .map_err(|e| Waiting {
                reason: "CreateContainerError".into(),
                message: e.message().to_string(),
            })?
            .into_inner();
        self.cri()
            .start_container(cri::StartContainerRequest {
                container_id: created.container_id.clone(),
            })
            .await
            .map_err(|e| Waiting {
                reason: "RunContainerError".into(),
                message: e.message().to_string(),
            })?;
        tracing::info!(pod = %key(pod), container = %c.name, attempt, "started container");
        self.event(
            pod,
            Some(&c.name),
            false,
            "Created",
            format!("Created container: {}", c.name),
        );
        self.event(
            pod,
            Some(&c.name),
            false,
            "Started",
            format!("Started container {}", c.name),
        );
        Ok(())
    }

    fn pod_context_for(&self, sandbox: &runtime::Sandbox) -> PodContext {
        PodContext {
            host_ip: self.ctx.host_ip.clone().unwrap_or_default(),
            pod_ips: sandbox.ips.clone(),
            node_allocatable: self.ctx.allocatable.clone(),
        }
    }

    /// Makes sure the image is there, honouring `imagePullPolicy`; the image reference to
    /// create the container with comes back.
    async fn ensure_image(
        &mut self,
        pod: &Pod,
        c: &Container,
        src: &env::Sources,
    ) -> Result<String, Waiting> {
        let image = c.image.clone().unwrap_or_default();
        if image.is_empty() {
            return Err(Waiting {
                reason: "InvalidImageName".into(),
                message: "the container has no image".into(),
            });
        }
        let policy = c
            .image_pull_policy
            .clone()
            .unwrap_or_else(|| default_pull_policy(&image).into());
        let spec_image = cri::ImageSpec {
            image: image.clone(),
            ..Default::default()
        };
        let present = self
            .ctx
            .cri
            .images
            .clone()
            .image_status(cri::ImageStatusRequest {
                image: Some(spec_image.clone()),
                verbose: false,
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().image)
            .map(|i| i.id);
        match (policy.as_str(), &present) {
            ("Never", None) => {
                return Err(Waiting {
                    reason: "ErrImageNeverPull".into(),
                    message: format!(
                        "Container image \"{image}\" is not present with pull policy of Never"
                    ),
                })
            }
            ("Never", Some(id)) | ("IfNotPresent", Some(id)) => {
                self.event(
                    pod,
                    Some(&c.name),
                    false,
                    "Pulled",
                    format!("Container image \"{image}\" already present on machine"),
                );
                return Ok(id.clone());
            }
            _ => {}
        }
        let pull_key = format!("pull/{image}");
        let now = Timestamp::now();
        if let (Some(last), Some(failed)) =
            (self.errors.get(&c.name), self.pull_failures.get(&image))
        {
            if self.backoff.remaining(&pull_key, *failed, now).is_some() {
                return Err(Waiting {
                    reason: "ImagePullBackOff".into(),
                    message: format!("Back-off pulling image \"{image}\": {}", last.message),
                });
            }
        }
        let auth = pull_auth(pod, &image, src);
        tracing::info!(image = %image, "pulling image");
        self.event(
            pod,
            Some(&c.name),
            false,
            "Pulling",
            format!("Pulling image \"{image}\""),
        );
        let pull_started = std::time::Instant::now();
        match self
            .ctx
            .cri
            .images
            .clone()
            .pull_image(cri::PullImageRequest {
                image: Some(spec_image),
                auth,
                sandbox_config: None,
            })
            .await
        {
            Ok(r) => {
                self.pull_failures.remove(&image);
                self.event(
                    pod,
                    Some(&c.name),
                    false,
                    "Pulled",
                    format!(
                        "Successfully pulled image \"{image}\" in {:?}",
                        pull_started.elapsed()
                    ),
                );
                Ok(r.into_inner().image_ref)
            }
            Err(e) => {
                self.backoff.next(&pull_key, now);
                self.pull_failures.insert(image.clone(), now);
                let message = format!("failed to pull image \"{image}\": {}", e.message());
                self.event(pod, Some(&c.name), true, "Failed", message.clone());
                Err(Waiting {
                    reason: "ErrImagePull".into(),
                    message,
                })
            }
        }
    }

    /// Records an event about the pod (or one of its containers) without waiting for it.
    fn event(&self, pod: &Pod, container: Option<&str>, warning: bool, reason: &str, note: String) {
        let Some(events) = &self.ctx.events else {
            return;
        };
        let mut regarding = kube::Resource::object_ref(pod, &());
        regarding.field_path = container.map(|c| format!("spec.containers{{{c}}}"));
        let type_ = if warning {
            client::EventType::Warning
        } else {
            client::EventType::Normal
        };
        events.emit(&regarding, type_, reason, reason, Some(&note));
    }

    async fn stop_container(&self, id: &str, grace: i64) -> Result<(), Error> {
        match self
            .cri()
            .stop_container(cri::StopContainerRequest {
                container_id: id.to_string(),
                timeout: grace,
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(()),
            Err(s) => Err(s.into()),
        }
    }

    async fn remove_sandbox(&self, id: &str) -> Result<(), Error> {
        for r in [
            self.cri()
                .stop_pod_sandbox(cri::StopPodSandboxRequest {
                    pod_sandbox_id: id.to_string(),
                })
                .await
                .map(|_| ()),
            self.cri()
                .remove_pod_sandbox(cri::RemovePodSandboxRequest {
                    pod_sandbox_id: id.to_string(),
                })
                .await
                .map(|_| ()),
        ] {
            match r {
                Ok(()) => {}
                Err(s) if s.code() == tonic::Code::NotFound => {}
                Err(s) => return Err(s.into()),
            }
        }
        Ok(())
    }

    /// Keeps the newest and the one before of each container name (for `logs --previous`),
    /// and only the newest sandbox.
    async fn collect_garbage(&self, rt: &PodRuntime) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for c in &rt.containers {
            let n = seen.entry(c.name.as_str()).or_default();
            *n += 1;
            if *n > 2 && c.state == State::Exited {
                let _ = self
                    .cri()
                    .remove_container(cri::RemoveContainerRequest {
                        container_id: c.id.clone(),
                    })
                    .await;
            }
        }
        for s in rt.sandboxes.iter().skip(1).filter(|s| !s.ready) {
            if rt.containers.iter().all(|c| c.sandbox_id != s.id) {
                let _ = self.remove_sandbox(&s.id).await;
            }
        }
    }

    async fn write_status(
        &mut self,
        pod: &Arc<Pod>,
        rt: &PodRuntime,
        waiting: &BTreeMap<String, Waiting>,
        finished: bool,
        now: Timestamp,
    ) -> Result<(), Error> {
        let probed = probed_containers(pod);
        let unready: HashSet<String> = self.probes.unready(&probed);
        let not_started: HashSet<String> = self.probes.not_started(&probed);
        let inputs = status::Inputs {
            runtime_name: &self.ctx.runtime_name,
            host_ip: self.ctx.host_ip.as_deref(),
            waiting,
            unready: &unready,
            not_started: &not_started,
            finished,
        };
        let mut base = (**pod).clone();
        if let Some(last) = &self.last_status {
            base.status = Some(last.clone());
        }
        let new = status::compute(&base, rt, &inputs, now);
        if self
            .last_status
            .as_ref()
            .is_some_and(|old| status::same(old, &new))
            && pod.status.as_ref().is_some_and(|s| s.phase == new.phase)
        {
            return Ok(());
        }
        let mut shown = (**pod).clone();
        shown.status = Some(new.clone());
        self.ctx
            .pods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.uid.clone(), Arc::new(shown));
        if let Some(client) = self.ctx.client.clone() {
            let (target, uid) = if super::is_static(pod) {
                match self.ensure_mirror(pod).await {
                    Some(uid) => (super::mirror_name(pod), uid),
                    None => {
                        self.last_status = Some(new);
                        return Ok(());
                    }
                }
            } else {
                (spec::name(pod).to_string(), self.uid.clone())
            };
            let api: Api<Pod> = Api::namespaced(client, spec::namespace(pod));
            let patch = serde_json::json!({
                "metadata": {"uid": uid},
                "status": new,
            });
            match api
                .patch_status(&target, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {}
                // The pod went away (or was replaced): the informer will say so.
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                    self.mirror_uid = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.last_status = Some(new);
        Ok(())
    }

    /// Creates the mirror pod of a static pod when missing; its UID when it exists.
    async fn ensure_mirror(&mut self, pod: &Pod) -> Option<String> {
        if let Some(uid) = &self.mirror_uid {
            return Some(uid.clone());
        }
        let client = self.ctx.client.clone()?;
        let api: Api<Pod> = Api::namespaced(client, spec::namespace(pod));
        let name = super::mirror_name(pod);
        let hash = self.uid.clone();
        let existing = api.get_opt(&name).await.ok()?;
        let current = match existing {
            Some(m) if super::mirror_hash(&m) == Some(hash.as_str()) => m,
            Some(stale) => {
                let dp = DeleteParams {
                    grace_period_seconds: Some(0),
                    preconditions: stale.metadata.uid.clone().map(|uid| Preconditions {
                        uid: Some(uid),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                let _ = api.delete(&name, &dp).await;
                api.create(
                    &Default::default(),
                    &super::mirror_pod(pod, &self.ctx.config.node_name),
                )
                .await
                .ok()?
            }
            None => api
                .create(
                    &Default::default(),
                    &super::mirror_pod(pod, &self.ctx.config.node_name),
                )
                .await
                .ok()?,
        };
        self.mirror_uid = current.metadata.uid.clone();
        self.mirror_uid.clone()
    }

    /// Runs the container's preStop hook (exec, httpGet, tcpSocket or sleep) within the grace
    /// period; returns the grace left for stopping it (at least 2 s, as upstream).
    async fn pre_stop(&self, pod: &Pod, c: &Container, id: &str, pod_ip: &str, grace: i64) -> i64 {
        let Some(hook) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) else {
            return grace;
        };
        let started = tokio::time::Instant::now();
        let budget = Duration::from_secs(grace.max(0) as u64);
        tracing::info!(pod = %key(pod), container = %c.name, "running preStop hook");
        let run = async {
            if let Some(sleep) = &hook.sleep {
                tokio::time::sleep(Duration::from_secs(sleep.seconds.max(0) as u64)).await;
                return true;
            }
            let probe = k8s_openapi::api::core::v1::Probe {
                exec: hook.exec.clone(),
                http_get: hook.http_get.clone(),
                tcp_socket: hook.tcp_socket.clone(),
                ..Default::default()
            };
            super::probes::probe_once(
                &self.ctx.cri,
                c,
                &probe,
                id,
                pod_ip,
                budget.max(Duration::from_secs(1)),
            )
            .await
        };
        match tokio::time::timeout(budget, run).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(pod = %key(pod), container = %c.name, "preStop hook failed")
            }
            Err(_) => {
                tracing::warn!(pod = %key(pod), container = %c.name, "preStop hook did not finish within the grace period")
            }
        }
        (grace - started.elapsed().as_secs() as i64).max(2)
    }

    /// Deletes the mirror pod of a static pod that stopped (its manifest was removed).
    async fn delete_mirror(&mut self, pod: &Pod) {
        let Some(client) = self.ctx.client.clone() else {
            return;
        };
        let api: Api<Pod> = Api::namespaced(client, spec::namespace(pod));
        let name = super::mirror_name(pod);
        let Ok(Some(mirror)) = api.get_opt(&name).await else {
            return;
        };
        if super::mirror_hash(&mirror) != Some(self.uid.as_str()) {
            return;
        }
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: mirror.metadata.uid.clone().map(|uid| Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..Default::default()
        };
        if let Err(e) = api.delete(&name, &dp).await {
            tracing::warn!(pod = %key(pod), "deleting mirror pod: {e}");
        }
        self.mirror_uid = None;
    }

    /// Stops every container with the grace period, removes the sandboxes, volumes and logs,
    /// then removes the pod object (grace period 0, UID precondition) unless it is already
    /// gone.
    async fn terminate(&mut self, update: &Update) -> Result<(), Error> {
        let pod = &update.pod;
        let rt = runtime::inspect(&self.ctx.cri, &self.uid).await?;
        let grace = grace_period(pod, pod.metadata.deletion_grace_period_seconds);
        tracing::info!(pod = %key(pod), grace, "stopping pod");
        let pod_ip = rt
            .sandbox()
            .and_then(|s| s.ips.first().cloned())
            .unwrap_or_default();
        let this = &*self;
        let stops = rt
            .running()
            .map(|c| {
                let spec = probed_containers(pod)
                    .into_iter()
                    .chain(
                        pod.spec
                            .iter()
                            .flat_map(|s| s.init_containers.clone().unwrap_or_default()),
                    )
                    .find(|s| s.name == c.name);
                let pod_ip = pod_ip.clone();
                async move {
                    let mut left = grace;
                    if let Some(spec) = spec.filter(|_| c.state == State::Running) {
                        left = this.pre_stop(pod, &spec, &c.id, &pod_ip, grace).await;
                    }
                    this.stop_container(&c.id, left).await
                }
            })
            .collect::<Vec<_>>();
        for r in futures::future::join_all(stops).await {
            r?;
        }
        for s in &rt.sandboxes {
            self.remove_sandbox(&s.id).await?;
        }
        if let Err(e) = volumes::teardown(&self.ctx.config.root_dir, &self.uid) {
            tracing::warn!(pod = %key(pod), "removing pod directory: {e}");
        }
        let _ = std::fs::remove_dir_all(spec::log_directory(&self.ctx.config, pod));
        remove_pod_cgroups(&spec::cgroup_parent(&self.ctx.config, pod));
        if super::is_static(pod) {
            self.delete_mirror(pod).await;
            return Ok(());
        }
        if update.removed {
            return Ok(());
        }
        if let Some(client) = &self.ctx.client {
            if super::is_static(pod) {
                return Ok(());
            }
            let api: Api<Pod> = Api::namespaced(client.clone(), spec::namespace(pod));
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: Some(self.uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match api.delete(spec::name(pod), &dp).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// The containers that may have probes: app containers and sidecars.
fn probed_containers(pod: &Pod) -> Vec<Container> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .chain(
            spec.init_containers
                .iter()
                .flatten()
                .filter(|c| actions::is_sidecar(c)),
        )
        .cloned()
        .collect()
}

/// The grace period: the deletion's, else the spec's (30 s by default).
fn grace_period(pod: &Pod, deletion: Option<i64>) -> i64 {
    deletion
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .unwrap_or(30)
        .max(0)
}

fn container_of(pod: &Pod, which: Which) -> Option<&Container> {
    let spec = pod.spec.as_ref()?;
    match which {
        Which::Init(i) => spec.init_containers.as_ref()?.get(i),
        Which::App(i) => spec.containers.get(i),
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent` (the apiserver's default).
pub fn default_pull_policy(image: &str) -> &'static str {
    let name = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') {
        return "IfNotPresent";
    }
    match name.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// The registry host of an image reference (`docker.io` when none is named).
pub fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
        }
        _ => "docker.io",
    }
}

/// Credentials for the image's registry from the pod's imagePullSecrets
/// (`kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg`).
fn pull_auth(pod: &Pod, image: &str, src: &env::Sources) -> Option<cri::AuthConfig> {
    let registry = registry_of(image);
    let spec = pod.spec.as_ref()?;
    for r in spec.image_pull_secrets.iter().flatten() {
        let Some(secret) = src.secrets.get(&r.name) else {
            continue;
        };
        let data = secret.data.clone().unwrap_or_default();
        let json = data
            .get(".dockerconfigjson")
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b.0).ok())
            .and_then(|v| v.get("auths").cloned())
            .or_else(|| {
                data.get(".dockercfg")
                    .and_then(|b| serde_json::from_slice(&b.0).ok())
            });
        let Some(serde_json::Value::Object(auths)) = json else {
            continue;
        };
        for (host, entry) in auths {
            let host = host
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            let host = host.split('/').next().unwrap_or(host);
            if host != registry && !(registry == "docker.io" && host == "index.docker.io") {
                continue;
            }
            let s = |k: &str| {
                entry
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            return Some(cri::AuthConfig {
                username: s("username"),
                password: s("password"),
                auth: s("auth"),
                server_address: host.to_string(),
                ..Default::default()
            });
        }
    }
    None
}

/// Removes the pod's (now empty) cgroup directories that runc left behind under every
/// cgroup v1 hierarchy and the unified one.
fn remove_pod_cgroups(parent: &str) {
    if !parent.starts_with('/') {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for e in entries.flatten() {
        let dir = e.path().join(parent.trim_start_matches('/'));
        if dir.is_dir() {
            // Only empty cgroups can be removed; a busy one stays for the next attempt.
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_defaults_as_the_apiserver() {
        assert_eq!(default_pull_policy("busybox"), "Always");
        assert_eq!(default_pull_policy("busybox:latest"), "Always");
        assert_eq!(default_pull_policy("localhost:5000/busybox"), "Always");
        assert_eq!(
            default_pull_policy("localhost:5000/busybox:1.36"),
            "IfNotPresent"
        );
        assert_eq!(default_pull_policy("busybox@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn registries_of_images() {
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox"), "docker.io");
        assert_eq!(registry_of("localhost:5000/x"), "localhost:5000");
        assert_eq!(registry_of("registry.k8s.io/pause:3.9"), "registry.k8s.io");
    }

    #[test]
    fn pull_secrets_match_the_registry() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [], "imagePullSecrets": [{"name": "reg"}]}
        }))
        .unwrap();
        let cfg = r#"{"auths":{"10.0.0.1:5000":{"username":"u","password":"p","auth":"dTpw"}}}"#;
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "reg"},
            "data": {".dockerconfigjson": base64_encode(cfg)}
        }))
        .unwrap();
        let src = env::Sources {
            secrets: [("reg".to_string(), secret)].into(),
            ..Default::default()
        };
        let auth = pull_auth(&pod, "10.0.0.1:5000/busybox", &src).unwrap();
        assert_eq!(auth.username, "u");
        assert_eq!(auth.server_address, "10.0.0.1:5000");
        assert!(pull_auth(&pod, "other:5000/busybox", &src).is_none());
    }

    fn base64_encode(s: &str) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = (chunk[0] as u32) << 16
                | (*chunk.get(1).unwrap_or(&0) as u32) << 8
                | *chunk.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
