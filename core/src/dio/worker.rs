//! The write worker: one per Dio, strictly serial, in enqueue order.
//!
//! With `on_write` registered every op goes to it; otherwise the default is
//! write-through: master first, then (on success) the cache, then the
//! matching data event. Either way each op ends in exactly one outcome event,
//! `WriteCompleted` or `WriteFailed`, and the worker goes on.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;

use tracing::Instrument;

use super::write_op::QueuedWrite;
use super::{Dio, DioEvent, DioInner, WriteOp};
use crate::cache::{CacheBatch, CachedRow, RowState};
use crate::error::Result;
use crate::sync::queue::QueueReceiver;
use crate::vista::Id;

/// Drain the queue until it is closed and empty, then flush the cache.
pub(super) async fn run(inner: Arc<DioInner>, queue: QueueReceiver<QueuedWrite>) {
    while let Ok(QueuedWrite { op, reply }) = queue.recv().await {
        let dio = Dio::from_inner(inner.clone());
        let named = op.id().map(String::from);
        let span = super::spans::write(dio.table_name(), &op);
        let outcome = match inner.policy.on_write() {
            Some(on_write) => on_write(&dio, op)
                .instrument(span.clone())
                .await
                .map(|()| named.clone()),
            None => write_through(&dio, op).instrument(span.clone()).await,
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
    // Durability is best effort here; `shutdown` flushes again and reports.
    let _ = inner.cache.flush().await;
    inner.worker_done.set();
}

/// Master first; on success mirror the op into the cache and publish the
/// data event. A master failure leaves the cache untouched.
async fn write_through(dio: &Dio, op: WriteOp) -> Result<Option<Id>> {
    let master = dio.master();
    let now = Some(dio.runtime().wall_clock());
    let cache = dio.cache();
    match op {
        WriteOp::Insert { id, record } => {
            let id = master.insert(id, record.clone()).await?;
            cache.insert_batch(vec![(id.clone(), CachedRow::complete(record, now))])?;
            dio.publish(DioEvent::RecordInserted { id: id.clone() });
            Ok(Some(id))
        }
        WriteOp::Replace { id, record } => {
            master.replace(&id, record.clone()).await?;
            cache.insert_batch(vec![(id.clone(), CachedRow::complete(record, now))])?;
            dio.publish(DioEvent::RecordChanged { id: id.clone() });
            Ok(Some(id))
        }
        WriteOp::Patch { id, fields } => {
            master.patch(&id, fields.clone()).await?;
            let row = match cache.get(&id)? {
                Some(mut row) => {
                    row.record.merge(&fields);
                    row.fetched_at = now;
                    row
                }
                // Only the patched fields are known: an incomplete row.
                None => CachedRow {
                    record: fields,
                    state: RowState::Incomplete,
                    fetched_at: now,
                },
            };
            cache.insert_batch(vec![(id.clone(), row)])?;
            dio.publish(DioEvent::RecordChanged { id: id.clone() });
            Ok(Some(id))
        }
        WriteOp::Delete { id } => {
            master.delete(&id).await?;
            let mut batch = CacheBatch::new();
            batch.delete(id.clone());
            cache.apply(batch)?;
            dio.publish(DioEvent::RecordRemoved { id: id.clone() });
            Ok(Some(id))
        }
        WriteOp::DeleteAll => {
            master.delete_all().await?;
            // Clearing drops the answered keys too: no running on_query may
            // mark its key answered again.
            dio.queries().invalidate();
            cache.clear()?;
            dio.publish(DioEvent::Invalidated);
            Ok(None)
        }
    }
}
