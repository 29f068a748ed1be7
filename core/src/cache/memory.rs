//! In-memory backend. (Being completed: see the foundation issue.)

/// A [`CacheBackend`](super::CacheBackend) keeping every table in memory.
#[derive(Debug, Default)]
pub struct MemoryBackend {}
