//! What the cache stores per row, and atomic batches of changes.

use alloc::vec::Vec;

use crate::runtime::Timestamp;
use crate::value::Record;
use crate::vista::Id;

/// Whether a cached row holds the whole record or only part of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RowState {
    /// The whole record as the master had it.
    #[default]
    Complete,
    /// Only some fields (for example after a patch applied to a row never
    /// fetched whole); a reader wanting the full record must refetch it.
    Incomplete,
    /// The whole record, but marked out of date (`invalidate_record`): shown
    /// as stale and refetched when a reader reaches it.
    Stale,
}

/// A row as stored in the cache: the record, its state and when it was fetched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CachedRow {
    /// The record.
    pub record: Record,
    /// Complete or incomplete.
    pub state: RowState,
    /// When the row was fetched from (or confirmed by) the master.
    pub fetched_at: Option<Timestamp>,
}

impl CachedRow {
    /// A complete row fetched at `fetched_at`.
    pub fn complete(record: Record, fetched_at: Option<Timestamp>) -> Self {
        CachedRow {
            record,
            state: RowState::Complete,
            fetched_at,
        }
    }
}

/// A set of changes applied atomically by [`CacheTable::apply`](super::CacheTable::apply):
/// either all are visible afterwards or none.
///
/// Order of application inside a batch: row deletes, row puts, meta deletes
/// (exact keys, then prefixes), meta puts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheBatch {
    /// Rows to write (insert or overwrite).
    pub puts: Vec<(Id, CachedRow)>,
    /// Rows to delete.
    pub deletes: Vec<Id>,
    /// Meta entries to write.
    pub meta_puts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Meta keys to delete.
    pub meta_deletes: Vec<Vec<u8>>,
    /// Meta key prefixes whose every entry is deleted.
    pub meta_delete_prefixes: Vec<Vec<u8>>,
}

impl CacheBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when applying the batch would change nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
            && self.deletes.is_empty()
            && self.meta_puts.is_empty()
            && self.meta_deletes.is_empty()
            && self.meta_delete_prefixes.is_empty()
    }

    /// Add a row write.
    pub fn put(&mut self, id: impl Into<Id>, row: CachedRow) -> &mut Self {
        self.puts.push((id.into(), row));
        self
    }

    /// Add a row delete.
    pub fn delete(&mut self, id: impl Into<Id>) -> &mut Self {
        self.deletes.push(id.into());
        self
    }

    /// Add a meta write.
    pub fn meta_put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.meta_puts.push((key.into(), value.into()));
        self
    }

    /// Add a meta delete.
    pub fn meta_delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.meta_deletes.push(key.into());
        self
    }

    /// Delete every meta entry whose key starts with `prefix`.
    pub fn meta_delete_prefix(&mut self, prefix: impl Into<Vec<u8>>) -> &mut Self {
        self.meta_delete_prefixes.push(prefix.into());
        self
    }
}
