//! The writes a Dio queues for its master, and the idempotency key each is
//! sent under (see [`TableShell::apply_write`](super::TableShell::apply_write)).

use alloc::sync::Arc;
use core::fmt;

use super::Id;
use crate::value::Record;

/// One write travelling through a Dio's queue to its worker.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    /// Insert `record`, under `id` when given (else the master chooses).
    Insert {
        /// The id to use, if chosen by the caller.
        id: Option<Id>,
        /// The record.
        record: Record,
    },
    /// Replace the whole row `id`.
    Replace {
        /// The row.
        id: Id,
        /// The new record.
        record: Record,
    },
    /// Overwrite some fields of row `id`.
    Patch {
        /// The row.
        id: Id,
        /// The fields to overwrite.
        fields: Record,
    },
    /// Delete row `id`.
    Delete {
        /// The row.
        id: Id,
    },
    /// Delete every row.
    DeleteAll,
}

impl WriteOp {
    /// The row this op writes, when it names one.
    pub fn id(&self) -> Option<&str> {
        match self {
            WriteOp::Insert { id, .. } => id.as_deref(),
            WriteOp::Replace { id, .. } | WriteOp::Patch { id, .. } | WriteOp::Delete { id } => {
                Some(id)
            }
            WriteOp::DeleteAll => None,
        }
    }
}

/// The stable idempotency key of one queued write: the Dio's (cache table's)
/// name, the run it was queued in and its sequence number within that run.
///
/// A replayed write (after a crash) carries the key it was first sent with,
/// so a master that remembers the keys it applied (`SqliteVista` does) applies
/// it once. Keys never repeat for one cache: a run number is larger than
/// every run before it on the same cache, a rollback of the cache included
/// (each open takes the next run number, past any the cache recorded).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteKey {
    dio: Arc<str>,
    run: u64,
    seq: u64,
}

impl WriteKey {
    /// The key of write `seq` of run `run` of the Dio named `dio`.
    pub fn new(dio: impl Into<Arc<str>>, run: u64, seq: u64) -> Self {
        WriteKey {
            dio: dio.into(),
            run,
            seq,
        }
    }

    /// The Dio (cache table) name.
    pub fn dio(&self) -> &str {
        &self.dio
    }

    /// The run (one per opening of the Dio's cache table) it was queued in.
    pub fn run(&self) -> u64 {
        self.run
    }

    /// The sequence number within its run, from 1, in queue order.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// `dio/run/seq`, the form masters store (at most 20 + 20 + 2 bytes past
/// the name).
impl fmt::Display for WriteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.dio, self.run, self.seq)
    }
}
