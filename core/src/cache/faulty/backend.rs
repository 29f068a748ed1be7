//! [`FaultyBackend`]: the cache backend one simulated process sees of a
//! [`FaultyDisk`](super::FaultyDisk).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::state::DiskState;
use super::table::FaultyTable;
use crate::cache::{CacheBackend, CacheTable};
use crate::error::Result;
use crate::sync::Mutex;

/// One process lifetime's view of a [`FaultyDisk`](super::FaultyDisk): a
/// [`CacheBackend`] whose tables read and write the simulated disk.
///
/// From [`FaultyDisk::backend`](super::FaultyDisk::backend) or
/// [`FaultyDisk::reopen`](super::FaultyDisk::reopen). After
/// [`FaultyDisk::crash`](super::FaultyDisk::crash) every call on it (and on
/// its tables) fails with [`Closed`](crate::ErrorKind::Closed): a crashed
/// process has no handles left. Opening a name twice yields the same table.
///
/// # Thread safety
///
/// `Send + Sync`.
pub struct FaultyBackend {
    generation: u64,
    disk: Arc<Mutex<DiskState>>,
    tables: Mutex<BTreeMap<String, Arc<FaultyTable>>>,
}

impl FaultyBackend {
    pub(super) fn new(generation: u64, disk: Arc<Mutex<DiskState>>) -> Self {
        FaultyBackend {
            generation,
            disk,
            tables: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the simulated process this view belongs to is still alive
    /// (no crash since it was opened).
    pub fn is_alive(&self) -> bool {
        self.disk.lock().generation == self.generation
    }
}

impl fmt::Debug for FaultyBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyBackend")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl CacheBackend for FaultyBackend {
    fn open_table(&self, name: &str) -> Result<Arc<dyn CacheTable>> {
        let incarnation = {
            let mut disk = self.disk.lock();
            disk.check_alive(self.generation)?;
            disk.open_table(name)
        };
        let mut tables = self.tables.lock();
        if let Some(table) = tables.get(name)
            && table.incarnation() == incarnation
        {
            return Ok(table.clone());
        }
        let table = Arc::new(FaultyTable::new(
            name,
            incarnation,
            self.generation,
            self.disk.clone(),
        ));
        tables.insert(String::from(name), table.clone());
        Ok(table)
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        let disk = self.disk.lock();
        disk.check_alive(self.generation)?;
        Ok(disk.live.keys().cloned().collect())
    }

    fn drop_table(&self, name: &str) -> Result<()> {
        let mut disk = self.disk.lock();
        disk.check_alive(self.generation)?;
        disk.live.remove(name);
        drop(disk);
        self.tables.lock().remove(name);
        Ok(())
    }
}
