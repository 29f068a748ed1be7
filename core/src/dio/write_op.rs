//! Queued writes and the tickets that report their outcome.

use crate::error::{Error, ErrorKind, Result};
use crate::value::Record;
use crate::vista::Id;

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

pub(crate) type Reply = async_channel::Sender<Result<Option<Id>>>;

/// A write as queued: the op and where to report its outcome.
#[derive(Debug)]
pub(crate) struct QueuedWrite {
    pub(crate) op: WriteOp,
    pub(crate) reply: Reply,
}

/// Reports the outcome of one queued write.
///
/// Dropping the ticket does not cancel the write.
#[derive(Debug)]
pub struct WriteTicket {
    pub(crate) outcome: async_channel::Receiver<Result<Option<Id>>>,
}

impl WriteTicket {
    /// Wait for the write to finish: `Ok(id)` with the row written (the id
    /// the master chose for an insert without one; `None` for `DeleteAll`),
    /// or the error that was also published as `WriteFailed`.
    ///
    /// # Errors
    /// The write's error (the master's, `on_write`'s, or the cache's), and
    /// [`Cancelled`](ErrorKind::Cancelled) if the worker ended without
    /// reporting (its runtime shut down).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping this future drops the ticket; the write goes on.
    pub async fn outcome(self) -> Result<Option<Id>> {
        self.outcome.recv().await.unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Cancelled,
                "the write worker ended before reporting",
            ))
        })
    }
}
