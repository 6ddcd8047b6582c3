//! The generic registry: one registration per kind (`kinds`), the per-kind strategies
//! (`strategy`), and the one store that serves every kind through them.

pub mod kinds;
pub mod strategy;
