//! Queued writes and the tickets that report their outcome.

use alloc::sync::Arc;

use super::outbox::{Durability, Outbox};
use crate::error::{Error, ErrorKind, Result};
use crate::vista::{Id, WriteKey, WriteOp};

pub(crate) type Reply = async_channel::Sender<Result<Option<Id>>>;

/// A write as queued: the op, its idempotency key, its durability and where
/// to report its outcome.
#[derive(Debug)]
pub(crate) struct QueuedWrite {
    pub(crate) op: WriteOp,
    pub(crate) key: WriteKey,
    pub(crate) durability: Arc<Durability>,
    pub(crate) reply: Reply,
}

/// Reports the two steps of one queued write: *durable* (its intent is in
/// the cache and flushed, so it reaches the master even after a crash) and
/// its *outcome* (applied or failed).
///
/// Dropping the ticket does not cancel the write.
#[derive(Debug)]
pub struct WriteTicket {
    pub(crate) key: WriteKey,
    pub(crate) durability: Arc<Durability>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) outcome: async_channel::Receiver<Result<Option<Id>>>,
}

impl WriteTicket {
    /// The write's idempotency key, as the master receives it.
    pub fn key(&self) -> &WriteKey {
        &self.key
    }

    /// Wait until the write is *durable*: its intent is stored in the cache
    /// table and the cache flushed (one flush shared by every write waiting
    /// at the time), so after a crash the Dio replays it on open. Resolves
    /// at once once durable; calling it again is cheap. On a backend that
    /// keeps nothing on disk (the memory backend) the intent is kept in
    /// memory: durable there means as long as the backend lives.
    ///
    /// # Errors
    /// Why the write is not durable (yet): the cache could not store or
    /// flush its intent (a full or failing disk). The worker tries once
    /// more before it would send the write; if that fails too the write is
    /// not sent and its outcome is a `WriteFailed` saying so, and if it
    /// succeeds a later call returns `Ok`. Or the Lens was built with
    /// `durable_writes(false)` ([`Unsupported`](ErrorKind::Unsupported)).
    ///
    /// # Cancel safety
    /// Cancel safe: the flush goes on for the other waiters; call again.
    pub async fn durable(&self) -> Result<()> {
        self.outbox.make_durable(&self.durability).await
    }

    /// Wait for the write to finish: `Ok(id)` with the row written (the id
    /// the master chose for an insert without one; `None` for `DeleteAll`),
    /// or the error that was also published as `WriteFailed`. A write the
    /// master applied is `Ok` even when the cache could not record it (a
    /// `CacheWriteFailed` event says so, and the row is refetched).
    ///
    /// # Errors
    /// The write's error (the master's or `on_write`'s), and
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
