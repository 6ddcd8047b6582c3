//! The list-watch client every component shares, built on kube-rs: client configuration,
//! typed and dynamic API access, shared informers, rate-limited work queues, leader election
//! over Leases, an Events recorder, and the daemons' serving certificates.

pub mod api;
pub mod config;
pub mod daemon;
pub mod events;
pub mod expectations;
pub mod informer;
pub mod leaderelection;
pub mod serving;
pub mod workqueue;

pub use k8s_openapi;
pub use kube;
pub use kube::api::{ApiResource, DynamicObject, ObjectMeta};
pub use kube::runtime::watcher;
pub use kube::{Api, Client, Resource, ResourceExt};

pub use api::{key_of, split_key};
pub use config::{client_from_kubeconfig, client_from_parts, Credentials};
pub use events::{EventRecorder, EventType};
pub use expectations::Expectations;
pub use informer::{Informer, Notification, SharedInformerFactory, Subscription};
pub use leaderelection::{LeaderElectionConfig, LeaderElector, LeaseLock};
pub use workqueue::WorkQueue;
