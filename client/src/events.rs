//! An Events recorder for components: a thin layer over kube-runtime's `events.k8s.io/v1`
//! recorder (which folds repeats into an event series) with upstream's
//! `recorder.Eventf(obj, type, reason, ...)` shape and a fire-and-forget variant.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, Recorder, Reporter};
use kube::{Client, Resource};

pub use kube::runtime::events::EventType;

/// Errors publishing events.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("publishing {reason} event for {object}: {source}")]
    Publish {
        reason: String,
        object: String,
        #[source]
        source: kube::Error,
    },
}

/// Records events as one component (and optionally one instance of it, e.g. a node name).
#[derive(Clone)]
pub struct EventRecorder {
    recorder: Recorder,
}

impl EventRecorder {
    /// `component` is the reporting controller, e.g. `kube-scheduler` or `deployment-controller`;
    /// `instance` tells replicas apart (defaults to the component).
    pub fn new(client: Client, component: &str, instance: Option<&str>) -> Self {
        let reporter = Reporter {
            controller: component.to_string(),
            instance: instance.map(str::to_string),
        };
        Self {
            recorder: Recorder::new(client, reporter),
        }
    }

    /// Publishes an event about `regarding`. `reason` is a short CamelCase cause
    /// (`FailedScheduling`), `action` what was done or failed (`Scheduling`), `note` the
    /// human-readable message. Events of cluster-scoped objects go to the `default` namespace.
    pub async fn event(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: Option<&str>,
    ) -> Result<(), Error> {
        self.event_related(regarding, None, type_, reason, action, note)
            .await
    }

    /// Like [`event`](Self::event), naming a second object involved (the node a pod was
    /// bound to, the ReplicaSet a Deployment scaled).
    pub async fn event_related(
        &self,
        regarding: &ObjectReference,
        related: Option<&ObjectReference>,
        type_: EventType,
        reason: &str,
        action: &str,
        note: Option<&str>,
    ) -> Result<(), Error> {
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: note.map(|n| truncate_note(n).to_string()),
            action: action.to_string(),
            secondary: related.cloned(),
        };
        self.recorder
            .publish(&event, regarding)
            .await
            .map_err(|source| Error::Publish {
                reason: reason.to_string(),
                object: describe(regarding),
                source,
            })
    }

    /// Publishes in the background and only logs a failure, as upstream's recorder never
    /// blocks or fails its caller. Needs a tokio runtime.
    pub fn emit(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: Option<&str>,
    ) {
        let this = self.clone();
        let regarding = regarding.clone();
        let (reason, action) = (reason.to_string(), action.to_string());
        let note = note.map(str::to_string);
        tokio::spawn(async move {
            if let Err(e) = this
                .event(&regarding, type_, &reason, &action, note.as_deref())
                .await
            {
                tracing::warn!(error = %e, "dropping event");
            }
        });
    }
}

/// The reference to `obj` that events point at (apiVersion, kind, namespace, name, uid,
/// resourceVersion).
pub fn object_reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    obj.object_ref(&())
}

fn describe(r: &ObjectReference) -> String {
    let kind = r.kind.as_deref().unwrap_or("object");
    let name = r.name.as_deref().unwrap_or("");
    match r.namespace.as_deref() {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The apiserver rejects notes over 1 KiB; upstream's recorder truncates them the same way.
fn truncate_note(note: &str) -> &str {
    const MAX: usize = 1024;
    if note.len() <= MAX {
        return note;
    }
    let mut end = MAX;
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    &note[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::ObjectMeta;

    #[test]
    fn references_and_notes() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                uid: Some("u-1".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = object_reference(&pod);
        assert_eq!(r.kind.as_deref(), Some("Pod"));
        assert_eq!(r.api_version.as_deref(), Some("v1"));
        assert_eq!(r.uid.as_deref(), Some("u-1"));
        assert_eq!(describe(&r), "Pod ns/p");
        assert_eq!(truncate_note("short"), "short");
        let long = "é".repeat(600);
        let t = truncate_note(&long);
        assert!(t.len() <= 1024 && t.len() >= 1022);
    }
}
