//! The one registration of every kind: its k8s-openapi type (which decodes bodies and gives
//! the OpenAPI schema) and its strategy. Names, scope, verbs and subresources stay in
//! `api_types::resources`'s table, which this is keyed to by group, version and kind. A kind
//! that is not registered here is not served; one cannot be registered without a strategy.

use api_types::resources::{storage_of, ResourceInfo};
use k8s_openapi::api::{
    apps, autoscaling, batch, certificates, coordination, core, discovery, events, networking,
    policy, rbac, scheduling, storage,
};
use k8s_openapi::schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

use super::strategy::{self, Strategy};
use crate::typed::{roundtrip, DecodeError, Decoded};

/// One registered kind.
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Decodes a body as the kind's type, naming the first wrongly typed field and the fields
    /// the type does not know.
    pub decode: fn(Value) -> Result<Decoded, DecodeError>,
    /// Registers the kind's schema with the OpenAPI generator; returns its definition name.
    pub schema: fn(&mut SchemaGenerator) -> String,
    /// How objects of the kind are written; `None` only for the bodies of subresources that are
    /// not stored as themselves (`Scale`, `Eviction`).
    pub strategy: Option<&'static Strategy>,
}

fn schema_of<T: JsonSchema>(gen: &mut SchemaGenerator) -> String {
    gen.subschema_for::<T>();
    T::schema_name().into_owned()
}

macro_rules! kinds {
    (
        served { $( ($g:literal, $v:literal, $k:literal) => $t:ty, $strategy:expr; )* }
        bodies { $( ($bg:literal, $bv:literal, $bk:literal) => $bt:ty; )* }
    ) => {
        /// Every registered kind: the served ones, then subresource bodies.
        pub static KINDS: &[Kind] = &[
            $( Kind {
                group: $g,
                version: $v,
                kind: $k,
                decode: roundtrip::<$t>,
                schema: schema_of::<$t>,
                strategy: Some(&$strategy),
            }, )*
            $( Kind {
                group: $bg,
                version: $bv,
                kind: $bk,
                decode: roundtrip::<$bt>,
                schema: schema_of::<$bt>,
                strategy: None,
            }, )*
        ];
    };
}

kinds! {
    served {
        ("", "v1", "Binding") => core::v1::Binding, strategy::BINDING;
        ("", "v1", "ConfigMap") => core::v1::ConfigMap, strategy::PLAIN;
        ("", "v1", "Endpoints") => core::v1::Endpoints, strategy::CREATE_ON_UPDATE;
        ("", "v1", "Event") => core::v1::Event, strategy::CREATE_ON_UPDATE;
        ("", "v1", "LimitRange") => core::v1::LimitRange, strategy::PLAIN;
        ("", "v1", "Namespace") => core::v1::Namespace, strategy::NAMESPACE;
        ("", "v1", "Node") => core::v1::Node, strategy::NODE;
        ("", "v1", "PersistentVolumeClaim") => core::v1::PersistentVolumeClaim, strategy::STATUS;
        ("", "v1", "PersistentVolume") => core::v1::PersistentVolume, strategy::STATUS;
        ("", "v1", "Pod") => core::v1::Pod, strategy::POD;
        ("", "v1", "PodTemplate") => core::v1::PodTemplate, strategy::PLAIN;
        ("", "v1", "ReplicationController") => core::v1::ReplicationController, strategy::WORKLOAD;
        ("", "v1", "ResourceQuota") => core::v1::ResourceQuota, strategy::STATUS;
        ("", "v1", "Secret") => core::v1::Secret, strategy::PLAIN;
        ("", "v1", "ServiceAccount") => core::v1::ServiceAccount, strategy::PLAIN;
        ("", "v1", "Service") => core::v1::Service, strategy::SERVICE;
        ("apps", "v1", "ControllerRevision") => apps::v1::ControllerRevision, strategy::PLAIN;
        ("apps", "v1", "DaemonSet") => apps::v1::DaemonSet, strategy::WORKLOAD;
        ("apps", "v1", "Deployment") => apps::v1::Deployment, strategy::WORKLOAD;
        ("apps", "v1", "ReplicaSet") => apps::v1::ReplicaSet, strategy::WORKLOAD;
        ("apps", "v1", "StatefulSet") => apps::v1::StatefulSet, strategy::WORKLOAD;
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => autoscaling::v1::HorizontalPodAutoscaler, strategy::WORKLOAD;
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => autoscaling::v2::HorizontalPodAutoscaler, strategy::WORKLOAD;
        ("batch", "v1", "CronJob") => batch::v1::CronJob, strategy::WORKLOAD;
        ("batch", "v1", "Job") => batch::v1::Job, strategy::WORKLOAD;
        ("certificates.k8s.io", "v1", "CertificateSigningRequest") => certificates::v1::CertificateSigningRequest, strategy::STATUS;
        ("coordination.k8s.io", "v1", "Lease") => coordination::v1::Lease, strategy::CREATE_ON_UPDATE;
        ("discovery.k8s.io", "v1", "EndpointSlice") => discovery::v1::EndpointSlice, strategy::PLAIN;
        ("events.k8s.io", "v1", "Event") => events::v1::Event, strategy::CREATE_ON_UPDATE;
        ("networking.k8s.io", "v1", "IngressClass") => networking::v1::IngressClass, strategy::PLAIN;
        ("networking.k8s.io", "v1", "Ingress") => networking::v1::Ingress, strategy::WORKLOAD;
        ("networking.k8s.io", "v1", "NetworkPolicy") => networking::v1::NetworkPolicy, strategy::PLAIN_GENERATION;
        ("policy", "v1", "PodDisruptionBudget") => policy::v1::PodDisruptionBudget, strategy::WORKLOAD;
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => rbac::v1::ClusterRoleBinding, strategy::CREATE_ON_UPDATE;
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => rbac::v1::ClusterRole, strategy::CREATE_ON_UPDATE;
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => rbac::v1::RoleBinding, strategy::CREATE_ON_UPDATE;
        ("rbac.authorization.k8s.io", "v1", "Role") => rbac::v1::Role, strategy::CREATE_ON_UPDATE;
        ("scheduling.k8s.io", "v1", "PriorityClass") => scheduling::v1::PriorityClass, strategy::PLAIN;
        ("storage.k8s.io", "v1", "CSIDriver") => storage::v1::CSIDriver, strategy::PLAIN;
        ("storage.k8s.io", "v1", "CSINode") => storage::v1::CSINode, strategy::PLAIN;
        ("storage.k8s.io", "v1", "CSIStorageCapacity") => storage::v1::CSIStorageCapacity, strategy::PLAIN;
        ("storage.k8s.io", "v1", "StorageClass") => storage::v1::StorageClass, strategy::PLAIN;
        ("storage.k8s.io", "v1", "VolumeAttachment") => storage::v1::VolumeAttachment, strategy::STATUS;
    }
    bodies {
        ("autoscaling", "v1", "Scale") => autoscaling::v1::Scale;
        ("policy", "v1", "Eviction") => policy::v1::Eviction;
    }
}

/// The registration of a group/version/kind (served kinds and subresource bodies).
pub fn lookup(group: &str, version: &str, kind: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.kind == kind)
}

/// The registration of a served resource, if its kind is registered with a strategy.
pub fn of(info: &ResourceInfo) -> Option<&'static Kind> {
    lookup(info.group, info.version, info.kind).filter(|k| k.strategy.is_some())
}

/// The strategy that writes `info`'s objects: its storage version's.
pub fn strategy_of(info: &ResourceInfo) -> &'static Strategy {
    let s = storage_of(info);
    of(s)
        .and_then(|k| k.strategy)
        .expect("routing serves only registered resources")
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::RESOURCES;

    #[test]
    fn every_resource_in_the_table_is_registered_with_a_strategy() {
        for r in RESOURCES {
            assert!(
                of(r).is_some(),
                "{}/{} {} is not registered",
                r.group,
                r.version,
                r.kind
            );
            let _ = strategy_of(r);
        }
    }

    #[test]
    fn unregistered_kinds_are_not_found() {
        assert!(lookup("example.com", "v1", "Widget").is_none());
        let widget = ResourceInfo {
            group: "example.com",
            kind: "Widget",
            plural: "widgets",
            singular: "widget",
            storage_group: "example.com",
            storage_plural: "widgets",
            ..*api_types::resources::find("", "v1", "configmaps").unwrap()
        };
        assert!(of(&widget).is_none());
        // Subresource bodies are decodable but are not served resources.
        assert!(lookup("autoscaling", "v1", "Scale").is_some());
        let scale = ResourceInfo {
            group: "autoscaling",
            kind: "Scale",
            ..widget
        };
        assert!(of(&scale).is_none());
    }

    #[test]
    fn each_kind_is_registered_once() {
        for (i, k) in KINDS.iter().enumerate() {
            assert!(
                KINDS[..i]
                    .iter()
                    .all(|o| (o.group, o.version, o.kind) != (k.group, k.version, k.kind)),
                "{} registered twice",
                k.kind
            );
        }
    }

    /// A strategy's status handling agrees with the table: kinds with a `/status` subresource
    /// do not take status from a create (nodes, which register with theirs, excepted).
    #[test]
    fn status_handling_matches_the_status_subresource() {
        for r in RESOURCES {
            let s = strategy_of(r);
            let expect = r.has_status() && !(r.group.is_empty() && r.plural == "nodes");
            assert_eq!(
                s.status_is_subresource(),
                expect,
                "{} {}",
                r.api_version(),
                r.kind
            );
        }
    }

    /// Every served kind validates its objects: an object without a name is refused.
    #[test]
    fn every_kind_validates() {
        for r in RESOURCES {
            let s = strategy_of(r);
            let sinfo = storage_of(r);
            let obj = serde_json::json!({"apiVersion": sinfo.api_version(), "kind": sinfo.kind,
                "metadata": {"namespace": "default"}});
            assert!(
                !(s.validate)(sinfo, &obj).is_empty(),
                "{} {} accepts an object without a name",
                r.api_version(),
                r.kind
            );
        }
    }
}
