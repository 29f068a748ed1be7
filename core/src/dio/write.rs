//! Queuing writes: backpressure, `try_` forms and the pending overlay.
//!
//! Every write has two forms: one that waits for room in the queue
//! (`write`, `insert`, `replace`, `patch`, `delete`, `delete_all`) and one
//! that refuses at once when the queue is full (`try_write`, `try_insert`,
//! …). Both return a [`WriteTicket`] once the write is queued; the write
//! reaches the master through the worker whether or not the ticket is kept.
//! Changes the master already has (learned from a live source) go into the
//! cache with [`Dio::patched`] and [`Dio::removed`] instead, which write
//! nothing to the master.

use alloc::string::String;
use core::sync::atomic::Ordering;

use super::write_op::QueuedWrite;
use super::{Dio, DioEvent, PendingWrite, WriteOp, WriteTicket};
use crate::error::{Error, ErrorKind, Result};
use crate::sync::queue::TrySendError;
use crate::value::Record;
use crate::vista::Id;

impl Dio {
    /// Queue `op`, waiting while the queue is full (backpressure). Returns a
    /// ticket for its outcome once the op is queued; views show the row as
    /// pending from the moment this is called.
    ///
    /// # Errors
    /// [`ShuttingDown`](ErrorKind::ShuttingDown) after
    /// [`shutdown`](Dio::shutdown) or once the last handle dropped (also
    /// while waiting for room). The write's own outcome comes through the
    /// ticket and the event bus, never from here.
    ///
    /// # Cancel safety
    /// If the future is dropped while waiting for room, the op is not queued:
    /// its pending mark is removed and its `WriteQueued` is closed by a
    /// `WriteFailed` with [`Cancelled`](ErrorKind::Cancelled). Once the
    /// future returned, the write is queued and goes on.
    pub async fn write(&self, op: WriteOp) -> Result<WriteTicket> {
        self.ensure_open()?;
        self.announce(&op);
        let guard = PendingGuard::new(self, op.id());
        let mut op = op;
        loop {
            // Listen before trying, so room made in between is not missed.
            let room = self.inner.outbox.room.listen();
            match self.admit(op) {
                Ok(ticket) => {
                    guard.disarm();
                    return Ok(ticket);
                }
                Err(Refused::Full(back)) => {
                    op = back;
                    room.await;
                }
                Err(Refused::Closed) => return Err(guard.refuse(shutting_down())),
            }
        }
    }

    /// Queue `op` without waiting.
    ///
    /// # Errors
    /// [`WriteQueueFull`](ErrorKind::WriteQueueFull) at once when the queue
    /// is full, [`ShuttingDown`](ErrorKind::ShuttingDown) after shutdown.
    ///
    /// A write refused because the queue is full is normally not announced
    /// at all (no `WriteQueued`, no pending mark). Only when another writer
    /// takes the last slot between the check and the send is it announced
    /// and then closed with a `WriteFailed` carrying the same
    /// `WriteQueueFull` error.
    pub fn try_write(&self, op: WriteOp) -> Result<WriteTicket> {
        self.ensure_open()?;
        // Checked before announcing: a caller that gets the error at once
        // must not also see the row flash as pending, then failed.
        if self.inner.queue.is_full() {
            return Err(queue_full());
        }
        self.announce(&op);
        let guard = PendingGuard::new(self, op.id());
        match self.admit(op) {
            Ok(ticket) => {
                guard.disarm();
                Ok(ticket)
            }
            Err(Refused::Full(_)) => Err(guard.refuse(queue_full())),
            Err(Refused::Closed) => Err(guard.refuse(shutting_down())),
        }
    }

    /// `write(Insert)`: insert `record` under `id` (the master chooses an id
    /// when `None`; the ticket's outcome reports it), waiting for room.
    ///
    /// # Errors
    /// As [`write`](Dio::write).
    ///
    /// # Cancel safety
    /// As [`write`](Dio::write).
    pub async fn insert(&self, id: Option<Id>, record: Record) -> Result<WriteTicket> {
        self.write(WriteOp::Insert { id, record }).await
    }

    /// `write(Replace)`: replace the whole row `id`, waiting for room.
    ///
    /// # Errors
    /// As [`write`](Dio::write).
    ///
    /// # Cancel safety
    /// As [`write`](Dio::write).
    pub async fn replace(&self, id: impl Into<Id>, record: Record) -> Result<WriteTicket> {
        let id = id.into();
        self.write(WriteOp::Replace { id, record }).await
    }

    /// `write(Patch)`: overwrite `fields` of row `id` at the master, then in
    /// the cache, waiting for room. Unlike [`patched`](Dio::patched), which
    /// only records a change the master already has.
    ///
    /// # Errors
    /// As [`write`](Dio::write).
    ///
    /// # Cancel safety
    /// As [`write`](Dio::write).
    pub async fn patch(&self, id: impl Into<Id>, fields: Record) -> Result<WriteTicket> {
        let id = id.into();
        self.write(WriteOp::Patch { id, fields }).await
    }

    /// `write(Delete)`: delete row `id` at the master, then in the cache,
    /// waiting for room. Unlike [`removed`](Dio::removed), which only
    /// records a removal the master already made.
    ///
    /// # Errors
    /// As [`write`](Dio::write).
    ///
    /// # Cancel safety
    /// As [`write`](Dio::write).
    pub async fn delete(&self, id: impl Into<Id>) -> Result<WriteTicket> {
        let id = id.into();
        self.write(WriteOp::Delete { id }).await
    }

    /// `write(DeleteAll)`: delete every row, waiting for room.
    ///
    /// # Errors
    /// As [`write`](Dio::write).
    ///
    /// # Cancel safety
    /// As [`write`](Dio::write).
    pub async fn delete_all(&self) -> Result<WriteTicket> {
        self.write(WriteOp::DeleteAll).await
    }

    /// `try_write(Insert)`.
    pub fn try_insert(&self, id: Option<Id>, record: Record) -> Result<WriteTicket> {
        self.try_write(WriteOp::Insert { id, record })
    }

    /// `try_write(Replace)`.
    pub fn try_replace(&self, id: impl Into<Id>, record: Record) -> Result<WriteTicket> {
        self.try_write(WriteOp::Replace {
            id: id.into(),
            record,
        })
    }

    /// `try_write(Patch)`.
    pub fn try_patch(&self, id: impl Into<Id>, fields: Record) -> Result<WriteTicket> {
        self.try_write(WriteOp::Patch {
            id: id.into(),
            fields,
        })
    }

    /// `try_write(Delete)`.
    pub fn try_delete(&self, id: impl Into<Id>) -> Result<WriteTicket> {
        self.try_write(WriteOp::Delete { id: id.into() })
    }

    /// `try_write(DeleteAll)`.
    pub fn try_delete_all(&self) -> Result<WriteTicket> {
        self.try_write(WriteOp::DeleteAll)
    }

    /// The optimistic state of row `id` while writes to it are queued or
    /// running: what the row will be if they succeed (`None` inside when a
    /// delete is pending). `None` when nothing is pending for `id`.
    pub fn pending_write(&self, id: &str) -> Option<PendingWrite> {
        self.inner.pending_write(id)
    }

    /// Whether the write to `id` being announced is the only one pending
    /// on it (see `PendingWrites::is_sole`).
    pub(crate) fn sole_pending_write(&self, id: &str) -> bool {
        self.inner.pending.is_sole(id)
    }

    /// Number of writes queued or running.
    pub fn pending_writes(&self) -> usize {
        self.inner.pending.total()
    }

    fn ensure_open(&self) -> Result<()> {
        if self.inner.shutting_down.load(Ordering::Acquire) {
            Err(shutting_down())
        } else {
            Ok(())
        }
    }

    /// Show `op`'s row as pending and announce `WriteQueued`.
    fn announce(&self, op: &WriteOp) {
        let base = match op {
            WriteOp::Patch { id, .. } => self
                .inner
                .cache
                .get(id)
                .ok()
                .flatten()
                .map(|row| row.record),
            _ => None,
        };
        self.inner.pending.add(op, base);
        if let Some(id) = op.id() {
            self.tell_views_pending(id);
        }
        self.publish(DioEvent::WriteQueued {
            id: op.id().map(String::from),
        });
    }

    /// Take a key and queue `op` as one step under the outbox's order lock
    /// (sequence order is queue order), then store its intent. A full
    /// queue hands `op` back untouched.
    fn admit(&self, op: WriteOp) -> core::result::Result<WriteTicket, Refused> {
        let outbox = &self.inner.outbox;
        let admitted = {
            let _order = outbox.order.lock();
            let queue = &self.inner.queue;
            if queue.is_closed() {
                return Err(Refused::Closed);
            }
            if queue.is_full() {
                return Err(Refused::Full(op));
            }
            let admitted = outbox.admit(&op);
            let (reply, outcome) = async_channel::bounded(1);
            let ticket = WriteTicket {
                key: admitted.key.clone(),
                durability: admitted.durability.clone(),
                outbox: outbox.clone(),
                outcome,
            };
            let item = QueuedWrite {
                op,
                key: admitted.key.clone(),
                durability: admitted.durability.clone(),
                reply,
            };
            match queue.try_send(item) {
                Ok(()) => (admitted, ticket),
                // Every sender takes the order lock, so the queue cannot
                // have filled since the check; only a close can refuse.
                Err(TrySendError::Full(item)) => return Err(Refused::Full(item.op)),
                Err(TrySendError::Closed(_)) => return Err(Refused::Closed),
            }
        };
        // Outside the lock: writers store their intents in parallel (the
        // worker waits for this one's before sending it).
        let (admitted, ticket) = admitted;
        outbox.store(admitted);
        Ok(ticket)
    }
}

/// Why [`Dio::admit`] did not queue a write.
enum Refused {
    /// The queue is full; the op, to try again.
    Full(WriteOp),
    /// The queue is closed.
    Closed,
}

fn shutting_down() -> Error {
    Error::new(
        ErrorKind::ShuttingDown,
        "the Dio is shutting down and accepts no more writes",
    )
}

fn queue_full() -> Error {
    Error::new(ErrorKind::WriteQueueFull, "the write queue is full")
}

/// Removes a write's pending mark if it never made it into the queue.
struct PendingGuard<'a> {
    dio: &'a Dio,
    id: Option<String>,
    armed: bool,
    /// Published as the `WriteFailed` of a write that was not queued.
    error: Option<Error>,
}

impl<'a> PendingGuard<'a> {
    fn new(dio: &'a Dio, id: Option<&str>) -> Self {
        PendingGuard {
            dio,
            id: id.map(String::from),
            armed: true,
            error: None,
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }

    /// The write was refused with `error`: close it with that error.
    fn refuse(mut self, error: Error) -> Error {
        self.error = Some(error.clone());
        error
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.dio.inner.pending.finish(self.id.as_deref());
        // `WriteQueued` was announced; close it with its one outcome.
        let error = self
            .error
            .take()
            .unwrap_or_else(|| Error::new(ErrorKind::Cancelled, "the write was not queued"));
        self.dio.publish(DioEvent::WriteFailed {
            id: self.id.take(),
            error,
        });
    }
}
