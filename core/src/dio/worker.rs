//! The write worker: one per Dio, strictly serial, in enqueue order.
//!
//! It first replays the intents found in the outbox at open (writes queued
//! before a crash whose answer was never recorded), then takes the queue.
//! Before a write leaves for the master its intent is made durable (the
//! flush is shared with every ticket waiting at the time); a write whose
//! intent cannot be made durable, even at a second try, is not sent. With `on_write`
//! registered every op goes to it; otherwise the default is write-through:
//! master first (under the write's idempotency key), then the cache, with
//! the intent deleted in the same batch, then the matching data event.
//! Either way each op ends in exactly one outcome event, `WriteCompleted` or
//! `WriteFailed`, and the worker goes on.
//!
//! A write the master applied is applied even when the cache cannot record
//! it (a full disk): the row is then dropped from the cache (views refetch
//! it) and `CacheWriteFailed` is published before `WriteCompleted`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use tracing::Instrument;

use super::mirror::{self, Mirrored};
use super::outbox::{Durability, Outbox};
use super::write_op::QueuedWrite;
use super::{Dio, DioEvent, DioInner, WriteOp};
use crate::cache::CacheBatch;
use crate::error::{Error, Result};
use crate::sync::queue::QueueReceiver;
use crate::vista::Id;
use crate::vista::WriteKey;

/// Replay `replay`, then drain the queue until it is closed and empty,
/// then flush the cache.
pub(super) async fn run(
    inner: Arc<DioInner>,
    queue: QueueReceiver<QueuedWrite>,
    replay: Vec<QueuedWrite>,
) {
    for item in replay {
        handle(&inner, item).await;
    }
    while let Ok(item) = queue.recv().await {
        // One more writer for the slot just freed: `notify(1)` would only
        // see that one writer is notified, so when the worker frees several
        // slots before the first woken writer runs (a group of writes made
        // durable by one flush), the others would stay asleep until a
        // later slot.
        inner.outbox.room.notify_additional(1);
        handle(&inner, item).await;
    }
    // Durability is best effort here; `shutdown` flushes again and reports.
    let _ = inner.cache.flush().await;
    inner.worker_done.set();
}

/// Drop the rows held as unrecorded, now that the cache may take writes
/// again; each one dropped is refetched by the views that show it.
fn repair(dio: &Dio) {
    for (id, intents) in dio.inner.pending.unrecorded() {
        let mut batch = CacheBatch::new();
        batch.delete(id.clone());
        for intent in intents {
            batch.meta_delete(intent);
        }
        if dio.cache().apply(batch).is_ok() {
            dio.inner.pending.release_unrecorded(&id);
            dio.publish(DioEvent::RecordChanged { id });
        }
    }
}

async fn handle(inner: &Arc<DioInner>, item: QueuedWrite) {
    let QueuedWrite {
        op,
        key,
        durability,
        reply,
    } = item;
    let dio = Dio::from_inner(inner.clone());
    repair(&dio);
    let named = op.id().map(String::from);
    // The intent reaches the disk before the write reaches the master, so
    // a write the master may have applied is always replayed after a
    // crash. A write whose intent cannot be made durable (after one more
    // try) is not sent: were it applied and the process then killed, the
    // cache would come back without a trace of it and show the row's old
    // value as fresh.
    let span = super::spans::write(dio.table_name(), &op);
    let outcome = match durable_or_refused(inner, &durability, &key, &op).await {
        Err(error) => {
            inner.outbox.refuse(&key).await;
            Err(error)
        }
        Ok(()) => {
            send(inner, &dio, &key, op, &named)
                .instrument(span.clone())
                .await
        }
    };
    super::spans::outcome(&span, &outcome);
    inner.pending.finish(named.as_deref());
    match &outcome {
        Ok(id) => dio.publish(DioEvent::WriteCompleted { id: id.clone() }),
        Err(error) => dio.publish(DioEvent::WriteFailed {
            id: named,
            error: error.clone(),
        }),
    }
    // The writer may have stopped listening; the outcome was published anyway.
    let _ = reply.try_send(outcome);
}

/// `Ok` once the write may leave for the master: its intent is durable,
/// or the Lens keeps none.
async fn durable_or_refused(
    inner: &DioInner,
    durability: &Durability,
    key: &WriteKey,
    op: &WriteOp,
) -> Result<()> {
    if durability.is_off() || inner.outbox.make_durable(durability).await.is_ok() {
        return Ok(());
    }
    inner
        .outbox
        .retry(durability, key, op)
        .await
        .map_err(|error| {
            Error::new(
                error.kind(),
                alloc::format!(
                    "the write was not sent to the master: the cache could not make it durable \
                 ({}); a crash could have left the cache without a trace of it",
                    error.message()
                ),
            )
        })
}

/// Route the write (`on_write`) or write it through.
async fn send(
    inner: &DioInner,
    dio: &Dio,
    key: &WriteKey,
    op: WriteOp,
    named: &Option<String>,
) -> Result<Option<Id>> {
    match inner.policy.on_write() {
        Some(on_write) => {
            let outcome = on_write(dio, (key.clone(), op))
                .await
                .map(|()| named.clone());
            inner.outbox.confirm(key);
            outcome
        }
        None => write_through(dio, key, op).await,
    }
}

/// Master first; on success mirror the op into the cache, deleting its
/// intent in the same batch, and publish the data event. A master failure
/// leaves the cache untouched (the intent is deleted: the write is over).
///
/// When another change of the row reached the Dio while the master worked
/// on the write (a change feed, a replica, `patched`), or while the write
/// was being recorded, the order of the two at the master is unknown: the
/// row is dropped instead of recorded, so it is refetched. (A chunk load
/// storing the row meanwhile is no such change: the mirror is computed
/// from the cache as it is after the master answered.)
async fn write_through(dio: &Dio, key: &WriteKey, op: WriteOp) -> Result<Option<Id>> {
    let outbox = &dio.inner.outbox;
    let stamp = dio.begin_read();
    let span = super::spans::master_write(dio.table_name(), &op);
    let apply = dio.master().apply_write(key, op.clone());
    let written = match super::spans::master_call(span, apply).await {
        Ok(written) => written,
        Err(error) => {
            outbox.confirm(key);
            return Err(error);
        }
    };
    let cache = dio.cache();
    let now = Some(dio.runtime().wall_clock());
    if matches!(op, WriteOp::DeleteAll) {
        // Clearing drops the answered keys too: no running on_query may
        // mark its key answered again. It wipes the meta space, so the
        // intents of the writes still queued are stored again.
        dio.touch_all();
        dio.queries().invalidate();
        outbox.forget(key);
        if let Err(error) = outbox.clear_table() {
            // Rows still cached were fetched before now: they read stale.
            // Its intent may still be cached: replayed, it is applied once.
            dio.mark_invalidated();
            cache_write_failed(dio, None, None, error);
        }
        dio.publish(DioEvent::Invalidated);
        return Ok(None);
    }
    let cached = match op.id().or(written.as_deref()) {
        Some(id) if matches!(op, WriteOp::Patch { .. }) => cache.get(id).ok().flatten(),
        _ => None,
    };
    let row = op.id().map(String::from).or_else(|| written.clone());
    let raced = op.id().is_some_and(|id| stamp.changed().contains(id));
    drop(stamp);
    let mirrored = if raced {
        mirror::forget(written.clone())
    } else {
        mirror::mirror(op, written.clone(), cached, now)
    };
    let Some(Mirrored { mut batch, event }) = mirrored else {
        outbox.confirm(key);
        return Ok(written);
    };
    outbox.confirm_in(&mut batch, key);
    // Reads in flight must not store their older answer over this write;
    // a change arriving from now on races it (checked after the store).
    let recording = row.as_deref().map(|id| {
        dio.touch_row(id);
        dio.begin_read()
    });
    match cache.apply(batch.clone()) {
        Ok(()) => {
            dio.publish(event);
            if let (Some(id), Some(recording)) = (row.as_deref(), recording)
                && !raced
                && recording.changed().contains(id)
            {
                let mut forget = CacheBatch::new();
                forget.delete(String::from(id));
                // Failing, the row keeps whichever value landed last.
                let _ = cache.apply(forget);
                dio.publish(DioEvent::RecordChanged {
                    id: String::from(id),
                });
                dio.refetch_dropped(String::from(id));
            }
            if raced && let Some(id) = row {
                dio.refetch_dropped(id);
            }
        }
        Err(error) => {
            outbox.confirm_failed(&batch, key);
            let intent = Outbox::intent_key(key);
            cache_write_failed(dio, written.as_deref(), Some(intent), error);
        }
    }
    Ok(written)
}

/// The master applied a write the cache could not record: drop the row
/// (a cached old value must not read as fresh; views refetch it) together
/// with the write's `intent` (until the row is gone, a crash must still
/// replay the write), and say so.
fn cache_write_failed(dio: &Dio, id: Option<&str>, intent: Option<Vec<u8>>, error: Error) {
    if let Some(id) = id {
        let mut batch = CacheBatch::new();
        batch.delete(String::from(id));
        if let Some(intent) = &intent {
            batch.meta_delete(intent.clone());
        }
        if dio.cache().apply(batch).is_err() {
            // The disk refused the drop too: the old value is still cached.
            // Until it can be dropped the row reads as pending with the
            // value the master now has (after a restart the intent, still
            // on disk, makes it read pending until replayed).
            let now = dio.inner.pending.get(id).and_then(|pending| pending.record);
            dio.inner
                .pending
                .hold_unrecorded(id, now, intent.unwrap_or_default());
        }
    }
    dio.publish(DioEvent::CacheWriteFailed {
        id: id.map(String::from),
        error: error.context("the master applied the write; the cache could not record it"),
    });
}
