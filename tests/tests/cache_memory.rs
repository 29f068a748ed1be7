//! The cache backend conformance suite over [`MemoryBackend`].

use std::sync::Arc;

use diorama_core::MemoryBackend;

diorama_tests::cache_conformance!(memory, || Arc::new(MemoryBackend::new()));

/// `run_all` runs the same checks in one go.
#[test]
fn run_all_passes() {
    diorama_tests::conformance::run_all(&|| Arc::new(MemoryBackend::new()));
}
