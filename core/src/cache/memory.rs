//! In-memory backend: every table lives in ordered maps behind a lock.

mod table;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use self::table::MemoryTable;
use super::{CacheBackend, CacheTable};
use crate::error::Result;
use crate::sync::RwLock;

/// A [`CacheBackend`] keeping every table in memory, for tests, examples,
/// the simulator and caches that need not survive a restart.
///
/// Opening a name twice returns handles onto one shared table. Reads see a
/// batch applied by [`CacheTable::apply`] entirely or not at all. Nothing is
/// persisted, so [`CacheTable::flush`] completes at once.
///
/// Share one backend between Lenses as `Arc<MemoryBackend>` (usable as
/// `Arc<dyn CacheBackend>`); cloning the `Arc` is the only cost.
///
/// # Thread safety
///
/// `Send + Sync`; each table has its own reader-writer lock, held only for
/// the duration of one call (never across an await).
pub struct MemoryBackend {
    tables: RwLock<BTreeMap<String, Arc<MemoryTable>>>,
}

impl MemoryBackend {
    /// An empty backend with no tables.
    pub const fn new() -> Self {
        MemoryBackend {
            tables: RwLock::new(BTreeMap::new()),
        }
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_read`: formatting must never wait on (or deadlock with) a writer.
        match self.tables.try_read() {
            Some(tables) => f
                .debug_struct("MemoryBackend")
                .field("tables", &tables.keys().collect::<Vec<_>>())
                .finish(),
            None => f
                .debug_struct("MemoryBackend")
                .field("tables", &"<locked>")
                .finish(),
        }
    }
}

impl CacheBackend for MemoryBackend {
    fn open_table(&self, name: &str) -> Result<Arc<dyn CacheTable>> {
        if let Some(table) = self.tables.read().get(name) {
            return Ok(table.clone());
        }
        let mut tables = self.tables.write();
        // Another thread may have created it between the two locks.
        let table = tables
            .entry(String::from(name))
            .or_insert_with(|| Arc::new(MemoryTable::new(name)));
        Ok(table.clone())
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(self.tables.read().keys().cloned().collect())
    }

    fn drop_table(&self, name: &str) -> Result<()> {
        let removed = self.tables.write().remove(name);
        // Handles opened before the drop still point at the removed table;
        // emptying it frees its memory now and shows them what a dropped
        // table holds: nothing. A later open creates a fresh table.
        if let Some(table) = removed {
            table.clear_all();
        }
        Ok(())
    }
}
