//! The serviceaccount controller (a `default` ServiceAccount in every active namespace, put
//! back if deleted) and the root-ca-cert-publisher (a `kube-root-ca.crt` ConfigMap holding
//! `--root-ca-file` in every active namespace, kept equal to it).

use std::collections::BTreeMap;

use client::{Informer, WorkQueue};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::Client;

/// The ConfigMap the publisher keeps in every namespace.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

fn active(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_none()
        && ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating")
}

#[derive(Clone)]
pub struct ServiceAccountController {
    pub client: Client,
    pub namespaces: Informer<Namespace>,
    pub serviceaccounts: Informer<ServiceAccount>,
    pub queue: WorkQueue<String>,
}

impl ServiceAccountController {
    pub fn watch(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let ns_task = self.namespaces.enqueue_keys(self.queue.clone());
        let queue = self.queue.clone();
        let sa_task = self.serviceaccounts.add_event_handler(move |n| {
            if let client::Notification::Deleted(sa) = n {
                if sa.metadata.name.as_deref() == Some("default") {
                    queue.add(sa.metadata.namespace.clone().unwrap_or_default());
                }
            }
        });
        vec![ns_task, sa_task]
    }

    pub async fn sync(&self, namespace: String) -> anyhow::Result<()> {
        let Some(ns) = self.namespaces.get(&namespace) else {
            return Ok(());
        };
        if !active(&ns)
            || self
                .serviceaccounts
                .get(&format!("{namespace}/default"))
                .is_some()
        {
            return Ok(());
        }
        let sa: ServiceAccount = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "default", "namespace": namespace}
        }))?;
        match Api::<ServiceAccount>::namespaced(self.client.clone(), &namespace)
            .create(&PostParams::default(), &sa)
            .await
        {
            Ok(_) => Ok(()),
            // Exists already (the informer lags) or the namespace is going away.
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 || e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[derive(Clone)]
pub struct RootCaPublisher {
    pub client: Client,
    pub namespaces: Informer<Namespace>,
    pub configmaps: Informer<ConfigMap>,
    pub queue: WorkQueue<String>,
    pub ca: String,
}

impl RootCaPublisher {
    pub fn watch(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let ns_task = self.namespaces.enqueue_keys(self.queue.clone());
        let queue = self.queue.clone();
        let cm_task = self.configmaps.add_event_handler(move |n| {
            let cm = n.object();
            if cm.metadata.name.as_deref() == Some(ROOT_CA_CONFIGMAP) {
                queue.add(cm.metadata.namespace.clone().unwrap_or_default());
            }
        });
        vec![ns_task, cm_task]
    }

    pub async fn sync(&self, namespace: String) -> anyhow::Result<()> {
        let Some(ns) = self.namespaces.get(&namespace) else {
            return Ok(());
        };
        if !active(&ns) {
            return Ok(());
        }
        let want: BTreeMap<String, String> = [("ca.crt".to_string(), self.ca.clone())].into();
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &namespace);
        let result = match self
            .configmaps
            .get(&format!("{namespace}/{ROOT_CA_CONFIGMAP}"))
        {
            Some(cm) if cm.data.as_ref() == Some(&want) => return Ok(()),
            Some(cm) => {
                let mut cm = (*cm).clone();
                cm.data = Some(want);
                api.replace(ROOT_CA_CONFIGMAP, &PostParams::default(), &cm)
                    .await
                    .map(|_| ())
            }
            None => {
                let cm: ConfigMap = serde_json::from_value(serde_json::json!({
                    "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                        "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
                    "data": want,
                }))?;
                api.create(&PostParams::default(), &cm).await.map(|_| ())
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 || e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
