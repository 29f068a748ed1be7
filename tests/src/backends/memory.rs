//! [`memory`]: the core's in-memory backend.

use std::sync::Arc;

use diorama_core::MemoryBackend;

use super::BackendFactory;

/// Fresh [`MemoryBackend`]s.
pub fn memory() -> BackendFactory {
    Arc::new(|| Arc::new(MemoryBackend::new()))
}
