//! The cache backend conformance suite over [`SledBackend`], each backend in
//! a fresh temporary directory on disk.

use std::sync::Arc;

use diorama_core::cache::CacheBackend;
use diorama_std::SledBackend;

/// A fresh, empty sled cache. Checks may drop the backend and keep using a
/// table, so the directory must live as long as the last handle: sled
/// deletes a temporary cache's directory exactly then.
fn fresh_sled() -> Arc<dyn CacheBackend> {
    let dir = tempfile::tempdir()
        .expect("create a temporary directory")
        .keep();
    SledBackend::builder(dir)
        .temporary(true)
        .open()
        .expect("open a fresh sled cache")
        .arc()
}

diorama_tests::cache_conformance!(sled, super::fresh_sled);

/// `run_all` runs the same checks in one go.
#[test]
fn run_all_passes() {
    diorama_tests::conformance::run_all(&fresh_sled);
}
