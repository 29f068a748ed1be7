//! `make_dio`: the Dio lifecycle of the seed.

use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicUsize};

use portable_atomic::AtomicU64;

use alloc::vec::Vec;

use super::latch::Latch;
use super::outbox::{Durability, Outbox};
use super::write_op::QueuedWrite;
use super::{Dio, DioEvent, DioInner, Policy, WriteOp, feed, intent, refresh, worker};
use crate::cache::{CacheBatch, CacheTable, meta};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeExt;
use crate::sync::{Mutex, broadcast, queue};
use crate::vista::Vista;

/// Open the cache table, spawn the worker and refresh task, run `on_start`.
pub(crate) async fn open(policy: Arc<Policy>, master: Vista, table_name: &str) -> Result<Dio> {
    let cache = policy.cache_backend().open_table(table_name)?;
    let invalidated_at = cache
        .meta_get(meta::INVALIDATED_AT)?
        .and_then(|bytes| meta::decode_millis(&bytes))
        .unwrap_or(0);
    let runtime = policy.runtime().clone();
    let defaults = policy.defaults().clone();
    let name: Arc<str> = Arc::from(table_name);
    let (outbox, replay) = open_outbox(&cache, &name, defaults.durable_writes)?;
    let (queue_tx, queue_rx) = queue::channel(defaults.write_queue_capacity);
    let (events, _) = broadcast::channel(defaults.event_bus_capacity);
    let inner = Arc::new(DioInner {
        policy,
        master,
        cache,
        table_name: String::from(table_name),
        name,
        queue: queue_tx,
        events,
        handles: AtomicUsize::new(0),
        shutting_down: AtomicBool::new(false),
        worker_done: Latch::new(),
        refresh_task: Mutex::new(None),
        start: Mutex::new(None),
        started: Latch::new(),
        queries: Default::default(),
        pending: Default::default(),
        outbox,
        next_scenery_id: AtomicU64::new(1),
        invalidated_at: AtomicU64::new(invalidated_at),
        positions_lock: async_lock::Mutex::new(()),
        followers: Default::default(),
        tap: spin::Once::new(),
        views: Default::default(),
        details: Mutex::new(super::detail::DetailQueue::new(defaults.detail_concurrency)),
        stamps: Default::default(),
    });
    let dio = Dio::from_inner(inner.clone());
    // Replayed writes read as pending (with their optimistic value) from
    // the start, across the restart.
    let replay: Vec<QueuedWrite> = replay
        .into_iter()
        .map(|stored| {
            let base = match &stored.op {
                WriteOp::Patch { id, .. } => inner.cache.get(id).ok().flatten().map(|r| r.record),
                _ => None,
            };
            inner.pending.add(&stored.op, base);
            let key = inner.outbox.readmit(stored.run, stored.seq, &stored.op);
            // Nobody waits on a replayed write's ticket; its outcome is
            // published on the bus.
            let (reply, _) = async_channel::bounded(1);
            QueuedWrite {
                op: stored.op,
                key,
                durability: Durability::durable(),
                reply,
            }
        })
        .collect();

    // The worker holds the Dio's state strongly (it must drain) but not a
    // handle, so dropping the last handle closes its queue.
    let worker = runtime.spawn(
        "diorama.write_worker",
        worker::run(inner.clone(), queue_rx, replay),
    );
    // The worker runs until the queue closes, so a handle finished already
    // means the runtime refused the task (a full task pool): without it no
    // write would ever reach the master, so the Dio must not open.
    if worker.is_finished() {
        dio.inner.begin_shutdown();
        return Err(Error::new(
            ErrorKind::Failed,
            "the runtime refused to start the Dio's write worker (is its task pool full?)",
        ));
    }
    drop(worker);
    if let Some(interval) = defaults.refresh_interval {
        let task = runtime.spawn(
            "diorama.refresh",
            refresh::run_loop(dio.downgrade(), interval),
        );
        *inner.refresh_task.lock() = Some(task.abort_on_drop());
    }
    // Before on_start, so nothing it copies can miss a change (see Dio::follow).
    feed::follow_master(&dio)?;

    if inner.policy.on_start().is_none() {
        finish_start(&dio, Ok(()));
    } else if defaults.on_start_blocking {
        let outcome = run_on_start(&dio).await;
        finish_start(&dio, outcome.clone());
        if let Err(error) = outcome {
            // Tear down what was spawned; the caller gets the error.
            dio.inner.begin_shutdown();
            return Err(error.context("on_start"));
        }
    } else {
        let background = dio.clone();
        drop(runtime.spawn("diorama.on_start", async move {
            let outcome = run_on_start(&background).await;
            if let Err(error) = &outcome {
                background.publish(DioEvent::StartFailed {
                    error: error.clone(),
                });
            }
            finish_start(&background, outcome);
            // Views opened meanwhile read a cache on_start was still filling.
            background.tell_views_started();
        }));
    }
    Ok(dio)
}

/// Read the outbox left by earlier runs: the outbox of this run, and the
/// intents to replay (damaged entries are deleted and logged as corrupt
/// reads by the backend).
fn open_outbox(
    cache: &Arc<dyn CacheTable>,
    name: &Arc<str>,
    enabled: bool,
) -> Result<(Arc<Outbox>, Vec<intent::Stored>)> {
    let entries = cache.meta_range(meta::OUTBOX, &meta::outbox_end(), usize::MAX)?;
    let found = intent::read_outbox(entries);
    let stored_run = cache
        .meta_get(meta::WRITE_RUN)?
        .and_then(|bytes| meta::decode_millis(&bytes));
    let integrity = cache.integrity();
    let run = intent::next_run(stored_run, &found, integrity.resumed_from_flush);
    // A rollback is reported for as long as its store stays open; only the
    // first opening under it discards the outbox.
    let seen = cache
        .meta_get(meta::ROLLBACK_SEEN)?
        .and_then(|bytes| meta::decode_millis(&bytes));
    let rolled_back = integrity.rollback.is_some() && seen != Some(integrity.resumed_from_flush);
    let mut batch = CacheBatch::new();
    for key in &found.damaged {
        batch.meta_delete(key.clone());
    }
    if rolled_back {
        // The outbox is an older one: each intent in it may have been
        // applied and superseded since, or refused (its deletion was rolled
        // back). Replaying one could put an old value back at the master
        // over a newer one, so none is; the rows read stale (the backend
        // demotes them) and are refetched. What was durable only since the
        // flush the store went back to is lost with the rollback.
        batch.meta_delete_prefix(meta::OUTBOX);
        batch.meta_put(
            meta::ROLLBACK_SEEN,
            meta::encode_millis(integrity.resumed_from_flush),
        );
    }
    if !batch.is_empty() {
        // Unreadable or not to be replayed either way; a failed delete only
        // means they are skipped again next time.
        let _ = cache.apply(batch);
    }
    let replay = if rolled_back {
        Vec::new()
    } else {
        found.replay
    };
    let outbox = Outbox::new(cache.clone(), name.clone(), enabled, run);
    Ok((Arc::new(outbox), replay))
}

async fn run_on_start(dio: &Dio) -> Result<()> {
    match dio.policy().on_start() {
        Some(on_start) => {
            dio.inner.followers.master_anchored().await;
            on_start(dio).await
        }
        None => Ok(()),
    }
}

fn finish_start(dio: &Dio, outcome: Result<()>) {
    *dio.inner.start.lock() = Some(outcome);
    dio.inner.started.set();
}
