//! Kubernetes API types and the pure logic around them: which resources exist, how objects
//! are selected, validated, converted and printed. Architecture invariant: this crate does no
//! I/O (no tokio, no HTTP, no etcd), so every rule in it is unit-testable in isolation.

pub mod convert;
pub mod defaults;
pub mod duration;
pub mod fields;
pub mod labels;
pub mod managed;
pub mod printers;
pub mod protobuf;
pub mod quantity;
pub mod resources;
pub mod strategic;
pub mod validation;

pub use k8s_openapi;
