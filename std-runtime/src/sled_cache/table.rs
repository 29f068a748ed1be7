//! [`SledTable`]: one cache table stored in one sled tree.

use std::fmt;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use diorama_core::cache::{CacheBatch, CacheTable, CachedRow};
use diorama_core::error::{Error, Result};
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::Id;

use super::codec::{self, COUNT_KEY, ROWS_END};
use super::presence;
use super::sled_error;

/// A [`CacheTable`] of [`SledBackend`](crate::SledBackend): rows, meta and a
/// row counter in one sled tree (layout in the `codec` module docs).
///
/// - [`apply`](CacheTable::apply) writes one `sled::Batch`: after a crash
///   either the whole batch or none of it is on disk (up to the last flush).
/// - [`count`](CacheTable::count) is O(1): the counter is kept in memory and
///   stored in the same batch as the rows it counts. It counts stored rows,
///   including any that can no longer be decoded. Keeping it exact costs one
///   sorted walk over the batch's keys, not a lookup per row (`presence`).
/// - A row that cannot be decoded is logged (`warn`, with table and id) and
///   read as absent; [`scan`](CacheTable::scan) skips it.
///
/// # Thread safety
///
/// `Send + Sync`. Writers take the table's lock exclusively (so the counter
/// stays exact and a batch is never half-visible); reads that touch several
/// keys (`get_many`, `scan`, `meta_range`) take it shared, so they see a
/// batch entirely or not at all. The lock is never held across an await.
pub struct SledTable {
    name: String,
    state: RwLock<State>,
}

struct State {
    /// `None` once the table was dropped: its sled tree is gone, so the
    /// handle reads as empty and refuses writes.
    tree: Option<sled::Tree>,
    count: u64,
}

impl SledTable {
    /// Wrap `tree`, loading (or, after a crash mid-`clear`, rebuilding) its
    /// row counter.
    pub(super) fn open(name: &str, tree: sled::Tree) -> Result<Self> {
        let stored = tree.get(COUNT_KEY).map_err(sled_error)?;
        let count = match stored.as_deref().map(codec::decode_count) {
            Some(Some(count)) => count,
            stored => {
                let count = count_rows(&tree)?;
                if stored.is_some() || count > 0 {
                    log::warn!(
                        "cache table `{name}`: row counter missing or unreadable, recounted {count} rows"
                    );
                }
                tree.insert(COUNT_KEY, &codec::encode_count(count))
                    .map_err(sled_error)?;
                count
            }
        };
        Ok(SledTable {
            name: name.to_owned(),
            state: RwLock::new(State {
                tree: Some(tree),
                count,
            }),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave sled half-written (a
        // batch is applied whole), so a poisoned lock is still usable.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn dropped(&self) -> Error {
        Error::not_found(format!("cache table `{}` was dropped", self.name))
    }

    /// Mark the table dropped and hand back its tree so the backend can
    /// remove it; later calls on this handle see an empty table.
    pub(super) fn detach(&self) -> Option<sled::Tree> {
        let mut state = self.write();
        state.count = 0;
        state.tree.take()
    }

    /// Decode a stored row, reporting and hiding an unreadable one.
    fn decode(&self, id: &str, bytes: &[u8]) -> Option<CachedRow> {
        match codec::decode_row(bytes) {
            Ok(row) => Some(row),
            Err(error) => {
                log::warn!(
                    "cache table `{}`: row `{id}` is unreadable and treated as absent: {error}",
                    self.name
                );
                None
            }
        }
    }

    fn get_in(&self, tree: &sled::Tree, id: &str) -> Result<Option<CachedRow>> {
        let stored = tree.get(codec::row_key(id)).map_err(sled_error)?;
        Ok(stored.and_then(|bytes| self.decode(id, &bytes)))
    }
}

fn count_rows(tree: &sled::Tree) -> Result<u64> {
    let mut count = 0;
    for entry in tree.range(codec::row_key("").as_slice()..ROWS_END) {
        entry.map_err(sled_error)?;
        count += 1;
    }
    Ok(count)
}

impl fmt::Debug for SledTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SledTable");
        s.field("name", &self.name);
        // `try_read`: formatting must never wait on (or deadlock with) a writer.
        match self.state.try_read() {
            Ok(state) => s
                .field("rows", &state.count)
                .field("dropped", &state.tree.is_none()),
            Err(_) => s.field("state", &"<locked>"),
        };
        s.finish()
    }
}

impl CacheTable for SledTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, id: &str) -> Result<Option<CachedRow>> {
        let state = self.read();
        match &state.tree {
            Some(tree) => self.get_in(tree, id),
            None => Ok(None),
        }
    }

    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<CachedRow>>> {
        let state = self.read();
        match &state.tree {
            Some(tree) => ids.iter().map(|id| self.get_in(tree, id)).collect(),
            None => Ok(vec![None; ids.len()]),
        }
    }

    fn apply(&self, batch: CacheBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut guard = self.write();
        let state = &mut *guard;
        let Some(tree) = &state.tree else {
            return Err(self.dropped());
        };
        let mut writes = sled::Batch::default();
        // Every row key the batch touches, and whether it is there after
        // that operation, for the counter (see `presence`).
        let mut touched = Vec::with_capacity(batch.deletes.len() + batch.puts.len());
        for id in &batch.deletes {
            let key = codec::row_ivec(id);
            writes.remove(key.clone());
            touched.push((key, false));
        }
        let mut value = Vec::new();
        for (id, row) in &batch.puts {
            let key = codec::row_ivec(id);
            codec::encode_row_into(&mut value, row);
            writes.insert(key.clone(), value.as_slice());
            touched.push((key, true));
        }
        let count = presence::count_after(tree, state.count, touched)?;
        for key in &batch.meta_deletes {
            writes.remove(codec::meta_key(key));
        }
        for prefix in &batch.meta_delete_prefixes {
            for entry in tree.scan_prefix(codec::meta_key(prefix)).keys() {
                writes.remove(entry.map_err(sled_error)?);
            }
        }
        for (key, value) in &batch.meta_puts {
            writes.insert(codec::meta_key(key), value.as_slice());
        }
        writes.insert(COUNT_KEY, &codec::encode_count(count));
        tree.apply_batch(writes).map_err(sled_error)?;
        state.count = count;
        // Readers wait on the lock; freeing the batch's records need not
        // make them wait longer.
        drop(guard);
        drop(batch);
        Ok(())
    }

    fn delete(&self, id: &str) -> Result<bool> {
        let mut state = self.write();
        let state = &mut *state;
        let Some(tree) = &state.tree else {
            return Ok(false);
        };
        let key = codec::row_key(id);
        if !tree.contains_key(&key).map_err(sled_error)? {
            return Ok(false);
        }
        let mut writes = sled::Batch::default();
        writes.remove(key);
        writes.insert(
            COUNT_KEY,
            &codec::encode_count(state.count.saturating_sub(1)),
        );
        tree.apply_batch(writes).map_err(sled_error)?;
        state.count = state.count.saturating_sub(1);
        Ok(true)
    }

    fn clear(&self) -> Result<()> {
        let mut state = self.write();
        let state = &mut *state;
        let Some(tree) = &state.tree else {
            return Ok(());
        };
        // Not one batch: a batch of every key would hold the whole table in
        // memory. Removing the counter first means a crash part-way leaves a
        // subset of the old contents (safe for a cache) and no counter, which
        // `open` recounts. Readers never see the middle: they wait on the lock.
        tree.remove(COUNT_KEY).map_err(sled_error)?;
        state.count = 0;
        tree.clear().map_err(sled_error)?;
        tree.insert(COUNT_KEY, &codec::encode_count(0))
            .map_err(sled_error)?;
        Ok(())
    }

    fn count(&self) -> Result<usize> {
        Ok(usize::try_from(self.read().count).unwrap_or(usize::MAX))
    }

    fn scan(&self, after: Option<&str>, limit: usize) -> Result<Vec<(Id, CachedRow)>> {
        let state = self.read();
        let Some(tree) = &state.tree else {
            return Ok(Vec::new());
        };
        let start = match after {
            Some(after) => Bound::Excluded(codec::row_key(after)),
            None => Bound::Included(codec::row_key("")),
        };
        let mut rows = Vec::with_capacity(limit.min(1024));
        for entry in tree.range::<Vec<u8>, _>((start, Bound::Excluded(ROWS_END.to_vec()))) {
            if rows.len() >= limit {
                break;
            }
            let (key, value) = entry.map_err(sled_error)?;
            let id = match codec::id_of(&key) {
                Ok(id) => id,
                Err(error) => {
                    log::warn!("cache table `{}`: skipping a row: {error}", self.name);
                    continue;
                }
            };
            if let Some(row) = self.decode(&id, &value) {
                rows.push((id, row));
            }
        }
        Ok(rows)
    }

    fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let state = self.read();
        let Some(tree) = &state.tree else {
            return Ok(None);
        };
        let value = tree.get(codec::meta_key(key)).map_err(sled_error)?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn meta_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let state = self.read();
        let Some(tree) = &state.tree else {
            return Ok(Vec::new());
        };
        tree.range(codec::meta_key(start)..codec::meta_key(end))
            .take(limit)
            .map(|entry| {
                let (key, value) = entry.map_err(sled_error)?;
                Ok((codec::meta_of(&key), value.to_vec()))
            })
            .collect()
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        let tree = self.read().tree.clone();
        Box::pin(async move {
            let Some(tree) = tree else {
                return Ok(());
            };
            // sled's flush waits on disk; run it on the `blocking` pool so no
            // executor thread stalls (works on every executor).
            blocking::unblock(move || tree.flush())
                .await
                .map(drop)
                .map_err(sled_error)
        })
    }
}
