//! The Dio: one Vista seen through a Lens.
//!
//! A [`Dio`] owns a cache table, a serial write queue with its worker, an
//! event bus and (with `refresh_every`) a refresh task. Its facade
//! [`Dio::vista`] reads from the cache and writes through the queue.
//!
//! # Lifetime
//! `Dio` is a cheap, counted handle. When the last handle (including facade
//! Vistas) drops, the queue closes: writes already queued still reach the
//! master (drain, never drop), then the worker flushes the cache and ends;
//! the refresh task stops. [`Dio::shutdown`] does the same and waits for it.

mod defaults;
mod detail;
mod events;
mod feed;
mod intent;
mod latch;
mod lens_events;
mod live;
mod mirror;
mod open;
mod outbox;
mod pending;
pub(crate) mod policy;
mod queries;
mod refresh;
mod shell;
mod sink;
pub(crate) mod spans;
pub(crate) mod stamps;
mod tap;
mod views;
mod worker;
mod write;
mod write_op;

pub use crate::vista::{WriteKey, WriteOp};
pub use defaults::LensDefaults;
pub use detail::DEFAULT_DETAIL_CONCURRENCY;
pub use events::{ChangeEvent, DioEvent};
pub use lens_events::{LensEvent, LensEvents};
pub use pending::PendingWrite;
pub use sink::ChunkSink;
pub use tap::{ChangeTap, LocalChange};
pub use write_op::WriteTicket;

pub(crate) use detail::list_row;
pub(crate) use open::open;
pub(crate) use policy::Policy;
pub(crate) use sink::ChunkTarget;
pub(crate) use views::ViewHook;

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use portable_atomic::AtomicU64;

use crate::cache::{CacheBatch, CacheTable, meta};
use crate::error::Result;
use crate::runtime::{AbortOnDrop, Runtime, Timestamp};
use crate::sync::Mutex;
use crate::sync::broadcast::{BroadcastReceiver, BroadcastSender};
use crate::sync::queue::QueueSender;
use crate::vista::Vista;

use latch::Latch;
use pending::PendingWrites;
use queries::AnsweredQueries;
use write_op::QueuedWrite;

/// One Vista seen through a Lens: cache table, write queue, event bus, refresh.
///
/// Cloning is cheap and every clone is a handle that keeps the write queue
/// open; see [`dio`](crate::dio) for what happens when the last drops.
pub struct Dio {
    inner: Arc<DioInner>,
}

pub(crate) struct DioInner {
    policy: Arc<Policy>,
    master: Vista,
    cache: Arc<dyn CacheTable>,
    table_name: String,
    /// The table name again, shared by the events of the Lens-wide bus.
    name: Arc<str>,
    queue: QueueSender<QueuedWrite>,
    events: BroadcastSender<DioEvent>,
    handles: AtomicUsize,
    shutting_down: AtomicBool,
    worker_done: Latch,
    refresh_task: Mutex<Option<AbortOnDrop>>,
    start: Mutex<Option<Result<()>>>,
    started: Latch,
    queries: AnsweredQueries,
    pending: PendingWrites,
    /// Write intents not yet confirmed (see `outbox.rs`).
    outbox: Arc<outbox::Outbox>,
    next_scenery_id: AtomicU64,
    /// Wall-clock millis of the last wholesale invalidation (0: never);
    /// rows fetched before it read as stale. Persisted in the cache meta.
    invalidated_at: AtomicU64,
    /// Held while a scenery merges and writes position blocks.
    positions_lock: async_lock::Mutex<()>,
    /// The tasks following change feeds (stopped at shutdown).
    followers: feed::Followers,
    /// Hook (issue 14, replica bridges): told of every change applied
    /// outside the write queue; see `tap.rs`.
    tap: spin::Once<alloc::sync::Arc<dyn ChangeTap>>,
    /// Issue 11: the sceneries told synchronously of pending writes and of
    /// a finished `on_start`; see `views.rs`.
    views: views::Views,
    /// Issue 15: the `on_load_detail` calls, queued and in flight.
    details: Mutex<detail::DetailQueue>,
    /// Which rows changed while reads of the master were on their way
    /// (see `stamps.rs`).
    stamps: Arc<stamps::ChangeStamps>,
}

impl Dio {
    /// A new counted handle onto `inner`.
    pub(crate) fn from_inner(inner: Arc<DioInner>) -> Dio {
        inner.handles.fetch_add(1, Ordering::AcqRel);
        Dio { inner }
    }

    /// A counted handle from a weak reference, if the Dio still exists.
    pub(crate) fn upgrade(weak: &Weak<DioInner>) -> Option<Dio> {
        weak.upgrade().map(Dio::from_inner)
    }

    /// A weak reference that does not keep the Dio alive (for sceneries and tasks).
    pub(crate) fn downgrade(&self) -> Weak<DioInner> {
        Arc::downgrade(&self.inner)
    }

    /// The policy of the Lens this Dio was made by.
    pub(crate) fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Which queries `on_query` has answered; single-flight warming.
    pub(crate) fn queries(&self) -> &AnsweredQueries {
        &self.inner.queries
    }

    /// Held while a scenery merges and writes the position blocks of a
    /// query, so concurrent chunk loads never lose each other's entries.
    pub(crate) fn positions_lock(&self) -> &async_lock::Mutex<()> {
        &self.inner.positions_lock
    }

    /// The facade: a [`Vista`] whose reads come from the cache (narrowing is
    /// evaluated locally over cached rows, `on_query` warms cold queries) and
    /// whose writes go through the queue. It counts as a Dio handle.
    pub fn vista(&self) -> Vista {
        Vista::new(shell::DioShell::new(self.clone()))
    }

    /// The master Vista this Dio wraps.
    pub fn master(&self) -> &Vista {
        &self.inner.master
    }

    /// The cache table of this Dio.
    pub fn cache(&self) -> &Arc<dyn CacheTable> {
        &self.inner.cache
    }

    /// The cache table's name (the vista's name unless `make_dio_as` chose one).
    pub fn table_name(&self) -> &str {
        &self.inner.table_name
    }

    /// The runtime this Dio runs on.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        self.inner.policy.runtime()
    }

    /// Subscribe to this Dio's events (only events published from now on).
    pub fn subscribe_events(&self) -> BroadcastReceiver<DioEvent> {
        self.inner.events.subscribe()
    }

    /// Publish `event` to every subscriber; the cost does not depend on
    /// their number. Crate-private: events are the Dio's and its sceneries'
    /// account of what happened, so user code cannot forge them; callbacks
    /// announce changes through [`patched`](Dio::patched),
    /// [`removed`](Dio::removed), [`invalidate_record`](Dio::invalidate_record)
    /// and [`invalidate_all`](Dio::invalidate_all).
    pub(crate) fn publish(&self, event: DioEvent) {
        self.inner.publish(event);
    }

    /// Wait until `on_start` has finished; its result (`Ok` when there is no
    /// `on_start`). Useful with `on_start_blocking(false)`.
    ///
    /// # Errors
    /// The error `on_start` returned (as also published in
    /// `StartFailed`), every time this is called.
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits; `on_start` runs on regardless.
    pub async fn started(&self) -> Result<()> {
        self.inner.started.wait().await;
        self.inner.start.lock().clone().unwrap_or(Ok(()))
    }

    /// Run `on_refresh` (when registered), publishing `Refreshing` first and
    /// then `Invalidated` on success or `RefreshFailed` on error (returned).
    /// A successful refresh makes every answered query cold again and rows
    /// fetched before it read as stale.
    ///
    /// # Errors
    /// The error of `on_refresh`, also published as `RefreshFailed`; the
    /// cache is then as `on_refresh` left it and nothing is invalidated.
    ///
    /// # Cancel safety
    /// Every `Refreshing` gets its outcome: dropped while `on_refresh` runs,
    /// the refresh publishes `RefreshFailed` with
    /// [`Cancelled`](crate::ErrorKind::Cancelled) and invalidates nothing.
    /// What `on_refresh` wrote to the cache before it was dropped stays.
    pub async fn refresh(&self) -> Result<()> {
        refresh::run(self).await
    }

    /// Stop accepting writes, let the queued ones reach the master, wait for
    /// the worker, stop the refresh task and flush the cache. Later writes
    /// fail with `ShuttingDown`. Calling it again waits for the same end.
    ///
    /// # Errors
    /// The cache's error when the final flush fails (the queued writes have
    /// reached the master all the same; their outcomes were published).
    ///
    /// # Cancel safety
    /// Cancel safe: the shutdown continues in the background; call again to wait.
    pub async fn shutdown(&self) -> Result<()> {
        self.inner.begin_shutdown();
        self.inner.worker_done.wait().await;
        self.inner.cache.flush().await
    }

    /// True once `shutdown` was called or the last handle dropped.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    /// When this Dio's cache was last invalidated wholesale (a successful
    /// refresh or `invalidate_all`); rows fetched before read as stale.
    pub fn invalidated_at(&self) -> Timestamp {
        Timestamp::from_millis(self.inner.invalidated_at.load(Ordering::Acquire))
    }

    /// Record a wholesale invalidation now: answered queries turn cold and
    /// rows fetched before now read as stale.
    pub(crate) fn mark_invalidated(&self) {
        self.touch_all();
        self.inner.queries.invalidate();
        let now = self.runtime().wall_clock();
        self.inner
            .invalidated_at
            .fetch_max(now.as_millis(), Ordering::AcqRel);
        let mut batch = CacheBatch::new();
        batch.meta_delete_prefix(meta::ANSWERED);
        batch.meta_put(meta::INVALIDATED_AT, meta::encode_millis(now.as_millis()));
        // A failed meta write only means on_query may be skipped once more
        // and rows may read fresh a little longer after a restart.
        let _ = self.inner.cache.apply(batch);
    }

    /// Register a scenery's hook (see `views.rs`): told synchronously of
    /// pending writes and of a finished non-blocking `on_start`.
    pub(crate) fn register_view(&self, hook: Weak<dyn ViewHook>) {
        self.inner.views.register(hook);
    }

    /// The open view of sceneries of one query, shared under `key` (see `views.rs`).
    pub(crate) fn shared_view<T: core::any::Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        self.inner.views.shared(key)
    }

    /// Share `view` under `key` for the sceneries of its query opened next.
    pub(crate) fn share_view<T: core::any::Any + Send + Sync>(&self, key: String, view: &Arc<T>) {
        self.inner.views.share(key, view);
    }

    /// Tell every open scenery, before returning, that a write to `id` was queued.
    pub(crate) fn tell_views_pending(&self, id: &str) {
        self.inner.views.each(|view| view.write_pending(self, id));
    }

    /// Tell every open scenery that `on_start` finished.
    pub(crate) fn tell_views_started(&self) {
        self.inner.views.each(|view| view.started(self));
    }

    /// A fresh id for a scenery of this Dio (tags its viewport events).
    pub(crate) fn next_scenery_id(&self) -> u64 {
        self.inner.next_scenery_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl DioInner {
    /// Publish `event` on the bus, from a weak holder that does not take a
    /// counted handle (a scenery's tasks).
    pub(crate) fn publish(&self, event: DioEvent) {
        // The Lens-wide copy only while someone listens there: a Dio's own
        // bus is the hot path, and most apps never subscribe Lens-wide.
        let lens = self.policy.lens_events();
        if lens.receiver_count() > 0 {
            lens.send(LensEvent {
                dio: self.name.clone(),
                event: event.clone(),
            });
        }
        self.events.send(event);
    }

    /// See [`Dio::pending_write`]; cheap when nothing is pending.
    pub(crate) fn pending_write(&self, id: &str) -> Option<PendingWrite> {
        if !self.pending.any() {
            return None;
        }
        self.pending.get(id)
    }

    /// Close the queue (the worker drains what is in it) and stop refreshing.
    fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        self.queue.close();
        // Writers waiting for room see the queue closed.
        self.outbox.room.notify(usize::MAX);
        drop(self.refresh_task.lock().take());
        self.followers.stop();
    }
}

impl Clone for Dio {
    fn clone(&self) -> Self {
        Dio::from_inner(self.inner.clone())
    }
}

impl Drop for Dio {
    fn drop(&mut self) {
        if self.inner.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.begin_shutdown();
        }
    }
}

impl fmt::Debug for Dio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dio")
            .field("table", &self.inner.table_name)
            .field("master", &self.inner.master.name())
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}
