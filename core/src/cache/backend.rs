//! The backend trait: a namespace of cache tables.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Debug;

use super::CacheTable;
use crate::error::Result;

/// Anything that can be held as the shared `Arc<dyn CacheBackend>` a Lens
/// keeps: a [`CacheBackend`] by value (`MemoryBackend::new()`,
/// `SledBackend::open(dir)?`), or one already shared (`Arc<dyn CacheBackend>`
/// or an `Arc<B>`, to keep a handle of your own).
///
/// Taken by [`LensBuilder::cache_source`](crate::LensBuilder::cache_source).
pub trait IntoCacheBackend {
    /// This backend, shared.
    fn into_cache_backend(self) -> Arc<dyn CacheBackend>;
}

impl<B: CacheBackend + 'static> IntoCacheBackend for B {
    fn into_cache_backend(self) -> Arc<dyn CacheBackend> {
        Arc::new(self)
    }
}

impl IntoCacheBackend for Arc<dyn CacheBackend> {
    fn into_cache_backend(self) -> Arc<dyn CacheBackend> {
        self
    }
}

impl<B: CacheBackend + 'static> IntoCacheBackend for Arc<B> {
    fn into_cache_backend(self) -> Arc<dyn CacheBackend> {
        self
    }
}

/// A store of named [`CacheTable`]s, shared by every Dio under one Lens.
pub trait CacheBackend: Send + Sync + Debug {
    /// Open (creating if needed) the table `name`. Opening the same name twice
    /// yields handles onto the same data.
    fn open_table(&self, name: &str) -> Result<Arc<dyn CacheTable>>;

    /// Names of the tables that exist, in ascending order.
    fn list_tables(&self) -> Result<Vec<String>>;

    /// Remove table `name` and everything in it. Absent is not an error.
    fn drop_table(&self, name: &str) -> Result<()>;
}
