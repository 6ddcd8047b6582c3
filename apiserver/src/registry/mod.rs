//! The generic registry: one registration per kind (`kinds`), the per-kind strategies
//! (`strategy`), the subresources' strategies (`subresource`), and the one store that serves
//! every kind through them (`store`, with `update`, `apply`, `delete` and `list`).

pub mod apply;
pub mod delete;
pub mod input;
pub mod kinds;
pub mod list;
pub mod store;
pub mod strategy;
pub mod subresource;
pub mod update;
