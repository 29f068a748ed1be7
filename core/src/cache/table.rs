//! The table trait: id-keyed rows plus an ordered meta key space.

use alloc::vec::Vec;
use core::fmt::Debug;

use super::{CacheBatch, CachedRow, IntegrityReport};
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::vista::Id;

/// One named cache table: rows keyed by id (ordered by the id's bytes) and a
/// meta key-value space (ordered by key bytes).
///
/// Every method is synchronous and short except [`flush`](CacheTable::flush),
/// which may wait for disk and is therefore async. Reads during a concurrent
/// [`apply`](CacheTable::apply) see the whole batch or none of it.
///
/// A row that cannot be decoded is reported by the backend and read as
/// absent, so it is refetched; it never makes a read fail or panic. A
/// backend that can detect damage counts such reads
/// ([`corrupt_reads`](CacheTable::corrupt_reads)) and reports a store that
/// reopened behind its last flush ([`integrity`](CacheTable::integrity)).
pub trait CacheTable: Send + Sync + Debug {
    /// The table's name.
    fn name(&self) -> &str;

    /// The row `id`, if cached.
    fn get(&self, id: &str) -> Result<Option<CachedRow>>;

    /// The rows for `ids`, in the same order (`None` where absent).
    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<CachedRow>>>;

    /// Apply `batch` atomically, as one write.
    fn apply(&self, batch: CacheBatch) -> Result<()>;

    /// Write `rows` as one atomic batch.
    fn insert_batch(&self, rows: Vec<(Id, CachedRow)>) -> Result<()> {
        self.apply(CacheBatch {
            puts: rows,
            ..CacheBatch::default()
        })
    }

    /// Delete row `id`; returns whether it existed.
    fn delete(&self, id: &str) -> Result<bool>;

    /// Delete every row and every meta entry.
    fn clear(&self) -> Result<()>;

    /// Number of rows.
    fn count(&self) -> Result<usize>;

    /// Up to `limit` rows with ids strictly after `after` (from the first
    /// when `None`), in ascending id order. Costs O(limit), not O(table).
    fn scan(&self, after: Option<&str>, limit: usize) -> Result<Vec<(Id, CachedRow)>>;

    /// The meta value at `key`.
    fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Up to `limit` meta entries with `start <= key < end`, in ascending key
    /// order. Costs O(returned entries), so positions `a..b` of one query
    /// (keyed `prefix ‖ index as big-endian`) read in O(b − a).
    fn meta_range(&self, start: &[u8], end: &[u8], limit: usize)
    -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Make everything applied so far durable. A no-op for memory tables.
    fn flush(&self) -> BoxFuture<'_, Result<()>>;

    /// How many reads since this table was opened found a damaged row or
    /// meta entry (a checksum or decoding failure) and treated it as absent.
    /// A read of the same damaged entry counts each time until the entry is
    /// written again. Backends that cannot detect damage report 0 (the
    /// default).
    fn corrupt_reads(&self) -> u64 {
        0
    }

    /// Whether this table's stored data can be trusted: a rollback found
    /// when the store was opened, the damaged reads so far, the flush
    /// sequence the store resumed from. The default (for backends that
    /// cannot lose what they acknowledged) reports no rollback and
    /// [`corrupt_reads`](CacheTable::corrupt_reads).
    fn integrity(&self) -> IntegrityReport {
        IntegrityReport::new(self.corrupt_reads())
    }
}
