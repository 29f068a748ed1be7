//! [`FaultyTable`]: one table of a [`FaultyBackend`](super::FaultyBackend)
//! view, reading and writing the simulated disk.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Bound;

use portable_atomic::{AtomicU64, Ordering};

use super::state::{self, DiskState, TableData};
use crate::cache::{CacheBatch, CacheTable, CachedRow, IntegrityReport};
use crate::error::{Error, Result};
use crate::runtime::BoxFuture;
use crate::sync::Mutex;
use crate::vista::Id;

/// A table on a [`FaultyDisk`](super::FaultyDisk), as seen by one simulated
/// process lifetime.
///
/// Behaves like [`MemoryBackend`](crate::cache::MemoryBackend)'s tables
/// until a fault is injected: writes fail while the disk says so (changing
/// nothing), every call fails with [`Closed`](crate::ErrorKind::Closed)
/// once the process it belongs to crashed, a damaged entry reads as absent
/// and is counted, and after a rollback rows stored before it read as
/// stale. [`flush`](CacheTable::flush) makes every table of the disk durable
/// (a disk has one log) and completes at once unless a fault refuses it.
///
/// # Thread safety
///
/// `Send + Sync`; every call takes the disk's lock once, never across an
/// await.
pub struct FaultyTable {
    name: String,
    incarnation: u64,
    generation: u64,
    disk: Arc<Mutex<DiskState>>,
    corrupt_reads: AtomicU64,
}

impl FaultyTable {
    pub(super) fn new(
        name: &str,
        incarnation: u64,
        generation: u64,
        disk: Arc<Mutex<DiskState>>,
    ) -> Self {
        FaultyTable {
            name: String::from(name),
            incarnation,
            generation,
            disk,
            corrupt_reads: AtomicU64::new(0),
        }
    }

    pub(super) fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// Run `read` on this table's data; a dropped table reads as empty
    /// (`None`).
    fn read<T>(&self, read: impl FnOnce(&DiskState, Option<&TableData>) -> T) -> Result<T> {
        let disk = self.disk.lock();
        disk.check_alive(self.generation)?;
        Ok(read(&disk, disk.table(&self.name, self.incarnation)))
    }

    /// Run `write` on this table's data once the fault plan lets the write
    /// through.
    fn write<T>(&self, write: impl FnOnce(&mut TableData, u64) -> T) -> Result<T> {
        let mut disk = self.disk.lock();
        disk.check_alive(self.generation)?;
        if disk.table(&self.name, self.incarnation).is_none() {
            return Err(self.dropped());
        }
        disk.write_fault()?;
        let epoch = disk.epoch();
        let table = disk
            .table_mut(&self.name, self.incarnation)
            .ok_or_else(|| self.dropped())?;
        Ok(write(table, epoch))
    }

    fn dropped(&self) -> Error {
        Error::not_found(alloc::format!("cache table `{}` was dropped", self.name))
    }

    /// Count a damaged entry met by a read.
    fn damaged(&self, count: u64) {
        if count > 0 {
            self.corrupt_reads.fetch_add(count, Ordering::Relaxed);
            self.disk.lock().stats.corrupt_reads += count;
        }
    }

    fn row(disk: &DiskState, table: Option<&TableData>, id: &str) -> (Option<CachedRow>, u64) {
        match table.and_then(|t| t.rows.get(id)) {
            Some(stored) => {
                let row = disk.visible(stored);
                let damaged = u64::from(row.is_none());
                (row, damaged)
            }
            None => (None, 0),
        }
    }
}

impl fmt::Debug for FaultyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyTable")
            .field("name", &self.name)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl CacheTable for FaultyTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, id: &str) -> Result<Option<CachedRow>> {
        let (row, damaged) = self.read(|disk, table| Self::row(disk, table, id))?;
        self.damaged(damaged);
        Ok(row)
    }

    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<CachedRow>>> {
        let (rows, damaged) = self.read(|disk, table| {
            let mut damaged = 0;
            let rows = ids
                .iter()
                .map(|id| {
                    let (row, bad) = Self::row(disk, table, id);
                    damaged += bad;
                    row
                })
                .collect();
            (rows, damaged)
        })?;
        self.damaged(damaged);
        Ok(rows)
    }

    fn apply(&self, batch: CacheBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(|table, epoch| state::apply_batch(table, batch, epoch))
    }

    fn delete(&self, id: &str) -> Result<bool> {
        let exists = self.read(|_, table| table.is_some_and(|t| t.rows.contains_key(id)))?;
        if !exists {
            return Ok(false);
        }
        self.write(|table, _| table.rows.remove(id).is_some())
    }

    fn clear(&self) -> Result<()> {
        self.write(|table, _| {
            table.rows.clear();
            table.meta.clear();
        })
    }

    fn count(&self) -> Result<usize> {
        self.read(|_, table| table.map_or(0, |t| t.rows.len()))
    }

    fn scan(&self, after: Option<&str>, limit: usize) -> Result<Vec<(Id, CachedRow)>> {
        let (rows, damaged) = self.read(|disk, table| {
            let mut rows = Vec::new();
            let mut damaged = 0;
            let Some(table) = table else {
                return (rows, damaged);
            };
            for (id, stored) in state::rows_after(table, after) {
                if rows.len() >= limit {
                    break;
                }
                match disk.visible(stored) {
                    Some(row) => rows.push((id.clone(), row)),
                    None => damaged += 1,
                }
            }
            (rows, damaged)
        })?;
        self.damaged(damaged);
        Ok(rows)
    }

    fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (value, damaged) = self.read(|_, table| match table.and_then(|t| t.meta.get(key)) {
            Some(meta) if meta.damaged => (None, 1),
            Some(meta) => (Some(meta.value.clone()), 0),
            None => (None, 0),
        })?;
        self.damaged(damaged);
        Ok(value)
    }

    fn meta_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let (entries, damaged) = self.read(|_, table| {
            let mut entries = Vec::new();
            let mut damaged = 0;
            let Some(table) = table else {
                return (entries, damaged);
            };
            let range = (Bound::Included(start), Bound::Excluded(end));
            for (key, meta) in table.meta.range::<[u8], _>(range) {
                if entries.len() >= limit {
                    break;
                }
                if meta.damaged {
                    damaged += 1;
                } else {
                    entries.push((key.clone(), meta.value.clone()));
                }
            }
            (entries, damaged)
        })?;
        self.damaged(damaged);
        Ok(entries)
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        let outcome = {
            let mut disk = self.disk.lock();
            disk.check_alive(self.generation)
                .and_then(|()| disk.flush())
        };
        Box::pin(core::future::ready(outcome))
    }

    fn corrupt_reads(&self) -> u64 {
        self.corrupt_reads.load(Ordering::Relaxed)
    }

    fn integrity(&self) -> IntegrityReport {
        let disk = self.disk.lock();
        let report =
            IntegrityReport::new(self.corrupt_reads()).with_resumed_from_flush(disk.resumed_from);
        match &disk.rollback {
            Some(rollback) if disk.generation == self.generation => {
                report.with_rollback(rollback.clone())
            }
            _ => report,
        }
    }
}
