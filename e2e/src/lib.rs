//! Test harness. STUB
