//! [`sled`]: diorama-std's sled backend, each in a fresh temporary directory.

use std::sync::Arc;

use diorama_core::cache::CacheBackend;
use diorama_std::SledBackend;

use super::BackendFactory;

/// Fresh [`SledBackend`]s, each in a new temporary directory.
///
/// Sled deletes the directory when the last handle (backend or table)
/// closes: a background task may outlive the scenario with a table handle,
/// and sled 0.34 can hang flushing into a vanished directory, so the
/// directory lives exactly as long as its handles.
pub fn sled() -> BackendFactory {
    Arc::new(fresh_sled)
}

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
