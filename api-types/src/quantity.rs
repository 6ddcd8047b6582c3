//! Resource quantities (`100m`, `1Gi`, `1e3`): parsing, comparison, canonical form.
//! STUB: to be replaced by the full implementation.
