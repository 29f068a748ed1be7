//! Tombstones: how an overlay records that a row of its base is deleted.

use crate::value::{Record, Value};

/// The field that marks an overlay row as a tombstone: `"$deleted"`.
///
/// A row of the overlay part whose `$deleted` field is `true` hides the base
/// row of the same id and is itself shown nowhere (not listed, not counted,
/// `get` answers `None`). The `$` keeps it apart from ordinary column names;
/// a composition refuses writes whose records carry this field, so a user
/// value can never be mistaken for a deletion.
pub const TOMBSTONE_FIELD: &str = "$deleted";

/// The record an overlay stores to delete a row of its base:
/// `{ "$deleted": true }`.
pub fn tombstone() -> Record {
    let mut record = Record::new();
    record.insert(TOMBSTONE_FIELD, true);
    record
}

/// True when `record` is a tombstone (its [`TOMBSTONE_FIELD`] is `true`).
///
/// Use it to tell drafts from deletions when publishing an overlay's
/// contents to its base.
pub fn is_tombstone(record: &Record) -> bool {
    matches!(record.get(TOMBSTONE_FIELD), Some(Value::Bool(true)))
}

/// True when `record` carries the tombstone field at all (any value).
pub(super) fn carries_marker(record: &Record) -> bool {
    record.get(TOMBSTONE_FIELD).is_some()
}
