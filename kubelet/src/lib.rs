//! The kubelet as a library: `main.rs` parses flags and calls in here; tests start it in
//! process.

pub mod cri;
pub mod server;
