//! The controllers, and `--controllers` as upstream reads it: `*` for every controller on by
//! default, `name` to turn one on, `-name` to turn one off.

pub mod common;
pub mod deployment;
pub mod endpointslice;
pub mod replicaset;
pub mod serviceaccount;

use std::future::Future;

use client::WorkQueue;

/// What the manager needs of a controller: its queue, the informer handlers that fill it,
/// and one reconcile of a key.
pub trait Controller: Clone + Send + Sync + 'static {
    fn queue(&self) -> &WorkQueue<String>;
    fn watch(&self) -> Vec<tokio::task::JoinHandle<()>>;
    fn reconcile(&self, key: String) -> impl Future<Output = anyhow::Result<()>> + Send;
}

macro_rules! controller {
    ($t:ty) => {
        impl Controller for $t {
            fn queue(&self) -> &WorkQueue<String> {
                &self.queue
            }
            fn watch(&self) -> Vec<tokio::task::JoinHandle<()>> {
                <$t>::watch(self)
            }
            fn reconcile(&self, key: String) -> impl Future<Output = anyhow::Result<()>> + Send {
                <$t>::sync(self, key)
            }
        }
    };
}

controller!(deployment::DeploymentController);
controller!(endpointslice::EndpointSliceController);
controller!(replicaset::ReplicaSetController);
controller!(serviceaccount::ServiceAccountController);
controller!(serviceaccount::RootCaPublisher);

/// Every controller built so far, by upstream's name.
pub const KNOWN: &[&str] = &[
    "deployment",
    "endpointslice",
    "replicaset",
    "serviceaccount",
    "root-ca-cert-publisher",
];

/// Which controllers `--controllers` turns on; an unknown name is an error naming it.
pub fn enabled(flag: &[String]) -> Result<Vec<&'static str>, String> {
    let mut all = false;
    let mut on: Vec<&str> = Vec::new();
    let mut off: Vec<&str> = Vec::new();
    for item in flag
        .iter()
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if item == "*" {
            all = true;
            continue;
        }
        let (neg, name) = match item.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, item),
        };
        let Some(known) = KNOWN.iter().find(|k| **k == name) else {
            return Err(format!(
                "\"{name}\" is not in the list of known controllers"
            ));
        };
        if neg {
            off.push(known);
        } else {
            on.push(known);
        }
    }
    Ok(KNOWN
        .iter()
        .copied()
        .filter(|k| (all || on.contains(k)) && !off.contains(k))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controllers_flag_as_upstream() {
        let v = |s: &str| vec![s.to_string()];
        assert_eq!(enabled(&v("*")).unwrap(), KNOWN.to_vec());
        assert_eq!(
            enabled(&v("*,-deployment")).unwrap(),
            vec![
                "endpointslice",
                "replicaset",
                "serviceaccount",
                "root-ca-cert-publisher"
            ]
        );
        assert_eq!(enabled(&v("replicaset")).unwrap(), vec!["replicaset"]);
        assert!(enabled(&v("nope")).unwrap_err().contains("\"nope\""));
    }
}
