//! [`SledTable`]: one cache table stored in one sled tree.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use diorama_core::cache::{CacheBatch, CacheTable, CachedRow, IntegrityReport, RowState};
use diorama_core::error::{Error, Result};
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::Id;

use super::block;
use super::codec::{self, COUNT_KEY};
use super::combine::Combiner;
use super::durability::Durability;
use super::rows::{self, Op};
use super::sled_error;

/// A [`CacheTable`] of [`SledBackend`](crate::SledBackend): rows (in blocks
/// of up to 64 under one key each), meta and a row counter in one sled tree
/// (layout in the `codec` module docs).
///
/// - [`apply`](CacheTable::apply) writes one `sled::Batch`: after a crash
///   either the whole batch or none of it is on disk (up to the last flush).
///   It rewrites the blocks holding the batch's rows; a by-id read decodes
///   only its own row. A batch that changes a single key (a meta entry
///   alone, such as a write intent) is one plain sled insert or remove,
///   atomic by itself and much cheaper than a `sled::Batch`. Batches
///   applied concurrently are written together, in the order they were
///   queued, as one `sled::Batch` (see `combine`): each is still whole or
///   absent after a crash, and each call returns its own batch's outcome
///   (when the joint write fails, every batch is tried alone).
/// - [`count`](CacheTable::count) is O(1): the counter is kept in memory and
///   stored in the same batch as the rows it counts. It counts stored rows,
///   including any that can no longer be decoded (a damaged block a write
///   replaces is dropped, and the counter recounted from the readable
///   blocks).
/// - Every stored value carries a checksum of its key and bytes. A block of
///   rows or a meta entry that fails it or cannot be decoded is logged
///   (`warn`, with table and key), counted
///   ([`corrupt_reads`](CacheTable::corrupt_reads)) and read as absent (all
///   the rows of a damaged block); [`scan`](CacheTable::scan) and
///   [`meta_range`](CacheTable::meta_range) skip it (their limits count
///   readable entries).
/// - After a rollback (see [`SledBackend`](crate::SledBackend)), a complete
///   row stored before it reads as [`Stale`](RowState::Stale) until it is
///   written again; [`integrity`](CacheTable::integrity) reports the
///   rollback.
/// - [`flush`](CacheTable::flush) flushes the whole database (sled has one
///   log) and updates the flush marker; concurrent flushes share a round.
///
/// # Thread safety
///
/// `Send + Sync`. Writers take turns (so the counter stays exact and no
/// write is worked out from a tree another is changing); each works out
/// its sled write under the table's lock shared and applies it with the
/// lock exclusive, so a batch is never half-visible. Reads that touch
/// several keys (`get_many`, `scan`, `meta_range`) take the lock shared,
/// so they see a batch entirely or not at all. No lock is held across an
/// await.
pub struct SledTable {
    name: String,
    // Before `durability`: the tree closes before the last flush of the
    // database runs in `Durability`'s drop.
    state: RwLock<State>,
    durability: Arc<Durability>,
    corrupt_reads: AtomicU64,
    /// Concurrent `apply` calls, written together.
    writers: Combiner<CacheBatch>,
}

/// A write worked out by [`SledTable::stage`], not yet applied.
struct Staged {
    write: Write,
    /// The counter after the write.
    count: u64,
    /// Bytes written (for the snapshot policy).
    bytes: u64,
}

/// The sled operation of a staged write.
enum Write {
    /// No key changes (and so neither does the counter).
    Nothing,
    /// One key alone: a plain insert (`Some`) or remove.
    One(Vec<u8>, Option<Vec<u8>>),
    Batch(sled::Batch),
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
    pub(super) fn open(name: &str, tree: sled::Tree, durability: Arc<Durability>) -> Result<Self> {
        let stored = tree.get(COUNT_KEY).map_err(sled_error)?;
        let count = match stored
            .as_deref()
            .map(|bytes| codec::decode_u64(COUNT_KEY, bytes))
        {
            Some(Ok(count)) => count,
            stored => {
                let count = rows::count_readable(&tree, &|key, error| {
                    log::warn!(
                        "cache table `{name}`: row block {} is unreadable: {error}",
                        String::from_utf8_lossy(key.get(1..).unwrap_or_default())
                    );
                })?;
                if stored.is_some() || count > 0 {
                    log::warn!(
                        "cache table `{name}`: row counter missing or unreadable, recounted {count} rows"
                    );
                }
                tree.insert(COUNT_KEY, codec::encode_u64(COUNT_KEY, count))
                    .map_err(sled_error)?;
                durability.touched();
                count
            }
        };
        Ok(SledTable {
            name: name.to_owned(),
            state: RwLock::new(State {
                tree: Some(tree),
                count,
            }),
            durability,
            corrupt_reads: AtomicU64::new(0),
            writers: Combiner::default(),
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
        let _turn = self.writers.hold();
        let mut state = self.write();
        state.count = 0;
        state.tree.take()
    }

    /// Count, log and hide a damaged entry.
    fn damaged(&self, what: &str, error: &Error) {
        self.corrupt_reads.fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "cache table `{}`: {what} is unreadable and treated as absent: {error}",
            self.name
        );
    }

    /// The damaged block under `key`: counted, logged, read as absent.
    fn damaged_block(&self, key: &[u8], error: &Error) {
        let first = String::from_utf8_lossy(key.get(1..).unwrap_or_default()).into_owned();
        self.damaged(&format!("the row block from `{first}`"), error);
    }

    /// Decode the row payload of `id`, hiding (and counting) an unreadable
    /// one and demoting one from before a rollback.
    fn decode(&self, id: &str, payload: &[u8]) -> Option<CachedRow> {
        match codec::decode_row_payload(payload) {
            Ok(stored) => {
                let mut row = stored.row;
                if stored.epoch < self.durability.floor() && row.state == RowState::Complete {
                    row.state = RowState::Stale;
                }
                Some(row)
            }
            Err(error) => {
                self.damaged(&format!("row `{id}`"), &error);
                None
            }
        }
    }

    fn get_in(&self, tree: &sled::Tree, id: &str) -> Result<Option<CachedRow>> {
        let payload = rows::payload_of(tree, id, &|key, error| self.damaged_block(key, error))?;
        Ok(payload.and_then(|bytes| self.decode(id, &bytes)))
    }

    /// Work out the one sled write that applies `batches`, in order, to
    /// `tree` holding `before` rows. Only reads: the caller holds the
    /// writers' turn, so the tree cannot change before the write is
    /// [committed](Self::commit).
    fn stage(&self, tree: &sled::Tree, before: u64, batches: &[CacheBatch]) -> Result<Staged> {
        let mut writes = sled::Batch::default();
        // Per batch its deletes, then its puts: `rows::write` keeps the
        // last operation on an id, so a later batch wins as if applied
        // after.
        let mut ops =
            Vec::with_capacity(batches.iter().map(|b| b.deletes.len() + b.puts.len()).sum());
        for batch in batches {
            ops.extend(batch.deletes.iter().map(|id| Op { id, row: None }));
            ops.extend(batch.puts.iter().map(|(id, row)| Op { id, row: Some(row) }));
        }
        let damaged = |key: &[u8], error: &Error| self.damaged_block(key, error);
        let written = if ops.is_empty() {
            None
        } else {
            Some(rows::write(
                tree,
                ops,
                self.durability.epoch(),
                &mut writes,
                &damaged,
            )?)
        };
        // Meta changes and the counter, in the order they take effect (a
        // later change of a key wins).
        let mut keyed: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let mut meta_bytes = 0usize;
        for batch in batches {
            for key in &batch.meta_deletes {
                keyed.push((codec::meta_key(key), None));
            }
            for prefix in &batch.meta_delete_prefixes {
                let prefix = codec::meta_key(prefix);
                for entry in tree.scan_prefix(&prefix).keys() {
                    keyed.push((entry.map_err(sled_error)?.to_vec(), None));
                }
                // What an earlier batch of this write puts is not in the
                // tree yet.
                let earlier: Vec<Vec<u8>> = keyed
                    .iter()
                    .filter(|(key, value)| value.is_some() && key.starts_with(&prefix))
                    .map(|(key, _)| key.clone())
                    .collect();
                keyed.extend(earlier.into_iter().map(|key| (key, None)));
            }
            for (key, value) in &batch.meta_puts {
                meta_bytes += key.len() + value.len();
                let key = codec::meta_key(key);
                let value = codec::encode_meta(&key, value);
                keyed.push((key, Some(value)));
            }
        }
        let delta = written.as_ref().map_or(0, |w| w.delta);
        let recount = written.as_ref().is_some_and(|w| w.recount);
        let count = if recount {
            // A damaged block was dropped: count the readable rows (a
            // damaged block counts none, in the delta too) and move on
            // from there.
            let readable = rows::count_readable(tree, &|_, _| {})?;
            u64::try_from(readable as i64 + delta).unwrap_or(0)
        } else {
            u64::try_from(before as i64 + delta).unwrap_or(0)
        };
        // The stored counter always equals the table's (written with every
        // change, by `open` and by `clear`): rewriting an unchanged one
        // would only turn a meta-only batch into a multi-key one.
        if recount || count != before {
            keyed.push((
                COUNT_KEY.to_vec(),
                Some(codec::encode_u64(COUNT_KEY, count)),
            ));
        }
        let write = if written.is_none() && keyed.len() <= 1 {
            // One key alone (an intent stored or deleted): a plain insert
            // or remove. A `sled::Batch` is atomic, but sled pays for that
            // on every one: it rolls its IO buffer before and after
            // reserving the batch's manifest, so each batch writes one or
            // two log buffers to the file at once (a pwrite and a
            // `sync_file_range` each) under sled's global write lock, while
            // one insert only takes room in the current buffer, written at
            // the next flush.
            match keyed.pop() {
                Some((key, value)) => Write::One(key, value),
                None => Write::Nothing,
            }
        } else {
            for (key, value) in keyed {
                match value {
                    Some(value) => writes.insert(key, value),
                    None => writes.remove(key),
                }
            }
            Write::Batch(writes)
        };
        Ok(Staged {
            write,
            count,
            bytes: written.as_ref().map_or(0, |w| w.bytes) + meta_bytes as u64,
        })
    }

    /// Apply a staged write and set the counter; returns rows after −
    /// before.
    fn commit(&self, state: &mut State, staged: Staged) -> Result<i64> {
        let Some(tree) = &state.tree else {
            return Err(self.dropped());
        };
        match staged.write {
            Write::Nothing => {}
            Write::One(key, Some(value)) => drop(tree.insert(key, value).map_err(sled_error)?),
            Write::One(key, None) => drop(tree.remove(key).map_err(sled_error)?),
            Write::Batch(writes) => tree.apply_batch(writes).map_err(sled_error)?,
        }
        self.durability.wrote(staged.bytes);
        let delta = staged.count as i64 - state.count as i64;
        state.count = staged.count;
        Ok(delta)
    }

    /// Stage and commit `batches` under the write lock.
    fn apply_locked(&self, state: &mut State, batches: &[CacheBatch]) -> Result<i64> {
        let Some(tree) = &state.tree else {
            return Err(self.dropped());
        };
        let staged = self.stage(tree, state.count, batches)?;
        self.commit(state, staged)
    }

    /// Apply batches queued together (see `combine`): one sled write for
    /// all, or, when that fails, each alone, so a batch that cannot be
    /// written fails by itself.
    ///
    /// Runs in the writers' turn: the write is worked out under the shared
    /// lock, so readers go on meanwhile, and only sled's write takes the
    /// lock exclusively.
    fn apply_combined(&self, batches: Vec<CacheBatch>) -> Vec<Result<()>> {
        let staged = {
            let state = self.read();
            match &state.tree {
                Some(tree) => self.stage(tree, state.count, &batches),
                None => Err(self.dropped()),
            }
        };
        let all_applied = || batches.iter().map(|_| Ok(())).collect();
        if let Ok(Staged {
            write: Write::Nothing,
            ..
        }) = staged
        {
            // Nothing to change (a prefix with no entries left to delete):
            // readers need not wait for it.
            return all_applied();
        }
        let mut guard = self.write();
        let outcomes = match staged.and_then(|staged| self.commit(&mut guard, staged)) {
            Ok(_) => all_applied(),
            Err(error) if batches.len() == 1 => vec![Err(error)],
            Err(_) => batches
                .iter()
                .map(|batch| {
                    self.apply_locked(&mut guard, std::slice::from_ref(batch))
                        .map(drop)
                })
                .collect(),
        };
        // Readers wait on the lock; freeing the batches' records need not
        // make them wait longer.
        drop(guard);
        drop(batches);
        outcomes
    }

    /// The meta value stored under tree key `key`, `None` (counted) when
    /// damaged.
    fn meta_value(&self, key: &[u8], stored: &[u8]) -> Option<Vec<u8>> {
        match codec::decode_meta(key, stored) {
            Ok(value) => Some(value.to_vec()),
            Err(error) => {
                let meta = String::from_utf8_lossy(codec::meta_of(key).as_slice()).into_owned();
                self.damaged(&format!("meta entry {meta:?}"), &error);
                None
            }
        }
    }
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
        let Some(tree) = &state.tree else {
            return Ok(vec![None; ids.len()]);
        };
        // Ids of one viewport mostly share a few blocks: keep the last one
        // read instead of looking it up (and checking it) once per row.
        let mut held: Option<rows::HeldBlock> = None;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(found) = held.as_ref().and_then(|block| block.lookup(id)) {
                out.push(found.and_then(|payload| self.decode(id, payload)));
                continue;
            }
            match rows::HeldBlock::at(tree, id)? {
                Some(block) => {
                    let found = block.lookup(id).flatten();
                    out.push(found.and_then(|payload| self.decode(id, payload)));
                    held = Some(block);
                }
                // Before every block, or damaged: the plain read reports it.
                None => out.push(self.get_in(tree, id)?),
            }
        }
        Ok(out)
    }

    fn apply(&self, batch: CacheBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.writers
            .run(batch, |batches| self.apply_combined(batches))
    }

    fn delete(&self, id: &str) -> Result<bool> {
        let _turn = self.writers.hold();
        let mut state = self.write();
        let Some(tree) = &state.tree else {
            return Ok(false);
        };
        let damaged = |key: &[u8], error: &Error| self.damaged_block(key, error);
        if rows::payload_of(tree, id, &damaged)?.is_none() {
            return Ok(false);
        }
        let batch = CacheBatch {
            deletes: vec![id.into()],
            ..CacheBatch::default()
        };
        Ok(self.apply_locked(&mut state, std::slice::from_ref(&batch))? < 0)
    }

    fn clear(&self) -> Result<()> {
        let _turn = self.writers.hold();
        let mut state = self.write();
        let state = &mut *state;
        let Some(tree) = &state.tree else {
            return Ok(());
        };
        // Not one batch: a batch of every key would hold the whole table in
        // memory. Removing the counter first means a crash part-way leaves a
        // subset of the old contents (safe for a cache) and no counter, which
        // `open` recounts. Readers never see the middle: they wait on the lock.
        self.durability.touched();
        tree.remove(COUNT_KEY).map_err(sled_error)?;
        state.count = 0;
        tree.clear().map_err(sled_error)?;
        tree.insert(COUNT_KEY, codec::encode_u64(COUNT_KEY, 0))
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
        let mut rows = Vec::with_capacity(limit.min(1024));
        if limit == 0 {
            return Ok(rows);
        }
        let mut blocks = rows::blocks_from(tree, after)?.peekable();
        while let Some(stored) = blocks.next() {
            let (key, value) = stored.map_err(sled_error)?;
            // Rows at or past the next block's key are that block's (a
            // `get` looks them up there): never read them from this one.
            let end = match blocks.peek() {
                Some(Ok((next, _))) => Some(next.clone()),
                _ => None,
            };
            let entries = match block::parse(&key, &value) {
                Ok(entries) => entries,
                Err(error) => {
                    self.damaged_block(&key, &error);
                    continue;
                }
            };
            for (id, payload) in entries {
                if after.is_some_and(|after| id <= after.as_bytes()) {
                    continue;
                }
                if end
                    .as_ref()
                    .is_some_and(|end| end.get(1..).is_some_and(|e| id >= e))
                {
                    break;
                }
                let Ok(id) = std::str::from_utf8(id) else {
                    log::warn!(
                        "cache table `{}`: skipping a row: id is not valid UTF-8",
                        self.name
                    );
                    continue;
                };
                if let Some(row) = self.decode(id, payload) {
                    rows.push((id.to_owned(), row));
                    if rows.len() >= limit {
                        return Ok(rows);
                    }
                }
            }
        }
        Ok(rows)
    }

    fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let state = self.read();
        let Some(tree) = &state.tree else {
            return Ok(None);
        };
        let key = codec::meta_key(key);
        let stored = tree.get(&key).map_err(sled_error)?;
        Ok(stored.and_then(|bytes| self.meta_value(&key, &bytes)))
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
        let mut entries = Vec::with_capacity(limit.min(1024));
        for entry in tree.range(codec::meta_key(start)..codec::meta_key(end)) {
            if entries.len() >= limit {
                break;
            }
            let (key, stored) = entry.map_err(sled_error)?;
            if let Some(value) = self.meta_value(&key, &stored) {
                entries.push((codec::meta_of(&key), value));
            }
        }
        Ok(entries)
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        // sled's flush and the marker's syncs wait on disk; the round runs
        // on the `blocking` pool so no executor thread stalls (works on
        // every executor), and callers flushing meanwhile share the next.
        Box::pin(self.durability.clone().flush_async())
    }

    fn corrupt_reads(&self) -> u64 {
        self.corrupt_reads.load(Ordering::Relaxed)
    }

    fn integrity(&self) -> IntegrityReport {
        let report = IntegrityReport::new(self.corrupt_reads())
            .with_resumed_from_flush(self.durability.resumed_from());
        match self.durability.rollback() {
            Some(rollback) => report.with_rollback(rollback.clone()),
            None => report,
        }
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
