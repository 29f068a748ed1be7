//! What a scenery hands to UI code: a record with its id and status.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::runtime::Timestamp;
use crate::value::Record;
use crate::vista::Id;

/// The state of one row as a view shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum RowStatus {
    /// As the master had it, within the cache TTL.
    Fresh,
    /// Older than the cache TTL or invalidated: still shown, refetched when
    /// a viewport reaches it.
    Stale,
    /// Stale and being refetched: the record is the old value, and a chunk
    /// load that covers the row is in flight. Turns `Fresh` when the chunk
    /// delivers the row, `Stale` again when the load ends without it. (Rows
    /// not loaded at all are absent from a table view, not `Loading`.)
    Loading,
    /// A write to this row is queued or running; the record shows the
    /// optimistic result.
    PendingWrite,
    /// The last write to this row failed; the record is the previous value.
    WriteFailed {
        /// Why the write failed.
        error: Error,
    },
    /// The row does not exist (any more).
    NotFound,
    /// A list window's summary row whose detail has not loaded yet
    /// (`LensBuilder::on_load_detail`): a viewport reaching it loads it,
    /// then it reads `Fresh`.
    Incomplete,
    /// A summary row whose detail call failed; the record is the summary.
    /// Retried when a viewport reaches the row again.
    DetailFailed {
        /// Why the detail call failed.
        error: Error,
    },
}

/// A record as a scenery shows it: id, data and metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct EnrichedRecord {
    /// The row's id.
    pub id: Id,
    /// The data shown (optimistic while a write is pending).
    pub record: Record,
    /// The row's state.
    pub status: RowStatus,
    /// On a [`PendingWrite`](RowStatus::PendingWrite) row whose pending
    /// writes are all patches: the fields they change, in the order first
    /// written (a form can mark them). `None` on every other row, and while
    /// a whole-row write (insert, replace, delete) to it is pending.
    pub dirty_fields: Option<Vec<String>>,
    /// When the row was fetched from the master.
    pub fetched_at: Option<Timestamp>,
}

impl EnrichedRecord {
    /// A row with writes queued or running: `record` is the optimistic
    /// result, `dirty_fields` what the pending patches change.
    pub(crate) fn pending(
        id: Id,
        record: Record,
        dirty_fields: Option<Vec<String>>,
        fetched_at: Option<Timestamp>,
    ) -> Self {
        EnrichedRecord {
            id,
            record,
            status: RowStatus::PendingWrite,
            dirty_fields,
            fetched_at,
        }
    }

    /// A fresh row.
    pub fn fresh(id: Id, record: Record, fetched_at: Option<Timestamp>) -> Self {
        EnrichedRecord {
            id,
            record,
            status: RowStatus::Fresh,
            dirty_fields: None,
            fetched_at,
        }
    }
}
