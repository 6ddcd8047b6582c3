//! The list-watch client every component shares. STUB: filled in by the client work.
