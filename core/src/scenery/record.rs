//! `RecordScenery`: one row, kept current.
//!
//! Reads the cache first; a miss (or an incomplete, stale or expired row)
//! is fetched from the master by id in the background. Events for its id,
//! and wholesale invalidations, reload it. The generation bumps only when
//! what a UI shows (record or status) changed.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use super::presenting::{RowFacts, is_expired, present};
use super::{EnrichedRecord, RowStatus};
use crate::cache::{CacheBatch, CachedRow};
use crate::dio::{Dio, DioEvent, DioInner, spans};
use crate::error::{Error, Result};
use crate::runtime::{AbortOnDrop, Runtime, RuntimeExt};
use crate::sync::broadcast::{BroadcastReceiver, RecvError};
use crate::sync::watch::{Generation, GenerationReceiver, GenerationSender, generation};
use crate::sync::{Mutex, RwLock};
use crate::value::Record;
use crate::vista::{Id, QueryDescriptor};

/// The state of a record view.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordStatus {
    /// Nothing to show yet: the row is being fetched.
    Loading,
    /// Shown as the master had it.
    Fresh,
    /// Shown, but older than the TTL or invalidated; being refetched.
    Stale,
    /// A write to the row is queued or running; the optimistic value is shown.
    PendingWrite,
    /// The last write failed; the previous value is shown.
    WriteFailed {
        /// Why.
        error: Error,
    },
    /// The row does not exist.
    NotFound,
    /// Fetching the row failed; the last value (if any) is still shown.
    Failed {
        /// Why.
        error: Error,
    },
}

/// Configures and opens a [`RecordScenery`]; from [`Dio::record_scenery`].
#[derive(Debug)]
pub struct RecordSceneryBuilder {
    dio: Dio,
    id: Id,
    start: Option<Record>,
}

impl RecordSceneryBuilder {
    pub(crate) fn new(dio: Dio, id: Id) -> Self {
        RecordSceneryBuilder {
            dio,
            id,
            start: None,
        }
    }

    /// Start from `record` as the row's value (say, one just read
    /// elsewhere): shown `Fresh` at once, with no initial fetch. Events for
    /// the row still reload it.
    pub fn with_record(mut self, record: Record) -> Self {
        self.start = Some(record);
        self
    }

    /// Open the view. Without a start record it shows what the cache holds
    /// for the row; on a miss it first asks `on_query` for the row (when
    /// the Lens has one, as the facade's `get` does), and what is still
    /// missing, incomplete or stale is fetched from the master in the
    /// background (`Loading` until then).
    ///
    /// # Errors
    /// None today: a failing `on_query` leaves the row to the master fetch,
    /// whose failure is the view's [`RecordStatus::Failed`]. The `Result`
    /// gives every scenery one opener shape (see
    /// [`TableSceneryBuilder::open`](super::TableSceneryBuilder::open)).
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while `on_query` runs, no view is opened; the
    /// `on_query` call itself finishes in its own task and its rows are kept.
    pub async fn open(self) -> Result<RecordScenery> {
        let RecordSceneryBuilder { dio, id, start } = self;
        if start.is_none() {
            // A failing on_query leaves the row to the master fetch.
            let _ = dio
                .queries()
                .ensure(&dio, QueryDescriptor::for_id(&id), false)
                .await;
        }
        Ok(RecordScenery::open(&dio, id, start))
    }
}

/// A reactive view of one row.
///
/// Reads the cache first; a miss (or an incomplete, stale or expired row)
/// is fetched from the master by id in the background. Events for its id,
/// and wholesale invalidations, reload it. The generation bumps only when
/// what a UI shows (record or status) changed.
///
/// Cheap to clone; dropping the last clone stops its tasks. Holds its Dio weakly.
#[derive(Clone)]
pub struct RecordScenery {
    handle: Arc<RecordHandle>,
}

struct RecordHandle {
    state: Arc<RecordState>,
    from_cache: bool,
    _tasks: Vec<AbortOnDrop>,
}

impl Drop for RecordHandle {
    fn drop(&mut self) {
        self.state.closed.store(true, Ordering::Release);
        self.state.fetches.lock().clear();
    }
}

struct RecordState {
    id: Id,
    dio: Weak<DioInner>,
    runtime: Arc<dyn Runtime>,
    shown: RwLock<(Option<Arc<EnrichedRecord>>, RecordStatus)>,
    generation: GenerationSender,
    closed: AtomicBool,
    fetches: Mutex<Vec<AbortOnDrop>>,
}

impl fmt::Debug for RecordScenery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordScenery")
            .field("id", &self.handle.state.id)
            .field("status", &self.status())
            .finish()
    }
}

impl RecordScenery {
    /// The row shown, if any.
    pub fn record(&self) -> Option<Arc<EnrichedRecord>> {
        self.handle.state.shown.read().0.clone()
    }

    /// The view's state.
    pub fn status(&self) -> RecordStatus {
        self.handle.state.shown.read().1.clone()
    }

    /// Whether opening showed the row from the cache (fresh, or with a
    /// pending write) without waiting for the master: what a service counts
    /// as a cache hit. Decided when the view opened, so a fetch finishing
    /// right after cannot change it.
    pub fn opened_from_cache(&self) -> bool {
        self.handle.from_cache
    }

    /// The id of the row.
    pub fn id(&self) -> &str {
        &self.handle.state.id
    }

    /// Fetch the row from the master again.
    pub fn request_refresh(&self) {
        self.handle.state.clone().fetch();
    }

    /// A receiver of the generation; it changes when record or status do.
    pub fn subscribe(&self) -> GenerationReceiver {
        self.handle.state.generation.subscribe()
    }

    /// The current generation.
    pub fn generation(&self) -> Generation {
        self.handle.state.generation.get()
    }

    fn open(dio: &Dio, id: Id, start: Option<Record>) -> RecordScenery {
        let (generation_tx, _) = generation();
        let state = Arc::new(RecordState {
            id,
            dio: dio.downgrade(),
            runtime: dio.runtime().clone(),
            shown: RwLock::new((None, RecordStatus::Loading)),
            generation: generation_tx,
            closed: AtomicBool::new(false),
            fetches: Mutex::new(Vec::new()),
        });
        let events = dio.subscribe_events();
        let hook: Weak<dyn crate::dio::ViewHook> = Arc::downgrade(&state) as _;
        dio.register_view(hook);
        let from_cache = match start {
            Some(record) => {
                let now = dio.runtime().wall_clock();
                state.show(
                    Some(EnrichedRecord::fresh(state.id.clone(), record, Some(now))),
                    RecordStatus::Fresh,
                );
                true
            }
            None => state.clone().reload(dio),
        };
        let task = dio.runtime().spawn(
            "diorama.record.reactor",
            run(Arc::downgrade(&state), events),
        );
        RecordScenery {
            handle: Arc::new(RecordHandle {
                state,
                from_cache,
                _tasks: alloc::vec![task.abort_on_drop()],
            }),
        }
    }
}

async fn run(state: Weak<RecordState>, mut events: BroadcastReceiver<DioEvent>) {
    loop {
        let event = events.recv().await;
        let Some(state) = state.upgrade() else { return };
        let Some(dio) = Dio::upgrade(&state.dio) else {
            return;
        };
        match event {
            Ok(DioEvent::Invalidated) | Err(RecvError::Lagged(_)) => {
                state.clone().reload(&dio);
            }
            Ok(DioEvent::WriteFailed {
                id: Some(id),
                error,
            }) if id == state.id => state.write_failed(&dio, error),
            Ok(event) if event.record_id() == Some(state.id.as_str()) => {
                if matches!(event, DioEvent::RecordRemoved { .. }) {
                    let shown = state.shown.read().0.clone();
                    state.show(shown.map(|row| (*row).clone()), RecordStatus::NotFound);
                } else {
                    state.clone().reload(&dio);
                }
            }
            Ok(_) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

impl crate::dio::ViewHook for RecordState {
    fn write_pending(self: Arc<Self>, dio: &Dio, id: &str) {
        if id == self.id.as_str() && !self.closed.load(Ordering::Acquire) {
            self.reload(dio);
        }
    }

    fn started(self: Arc<Self>, dio: &Dio) {
        // A row still loading may be in the cache now (on_start copied it).
        let missing = self.shown.read().0.is_none();
        if !self.closed.load(Ordering::Acquire)
            && missing
            && matches!(dio.cache().get(&self.id), Ok(Some(_)))
        {
            self.reload(dio);
        }
    }
}

impl RecordState {
    /// Show `record` with `status`; bump only when something visible changed.
    fn show(&self, record: Option<EnrichedRecord>, status: RecordStatus) {
        let mut shown = self.shown.write();
        let same_record = match (&shown.0, &record) {
            (Some(a), Some(b)) => **a == *b,
            (None, None) => true,
            _ => false,
        };
        if same_record && shown.1 == status {
            return;
        }
        *shown = (record.map(Arc::new), status);
        drop(shown);
        self.generation.bump();
    }

    /// Show what the cache (and pending writes) say, by the one rule of
    /// `scenery::presenting`; fetch from the master when the cache cannot
    /// answer for sure (missing, incomplete, stale or expired). Returns
    /// whether the row was shown without asking the master.
    fn reload(self: Arc<Self>, dio: &Dio) -> bool {
        let cached = dio.cache().get(&self.id).ok().flatten();
        let shown = self.shown.read().0.clone();
        let expired = cached.as_ref().is_some_and(|row| {
            is_expired(
                row.fetched_at,
                dio.invalidated_at(),
                dio.policy().defaults().cache_ttl,
                dio.runtime().wall_clock(),
            )
        });
        let was_cached = cached.is_some();
        let facts = RowFacts {
            hydration: Default::default(),
            cached,
            pending: dio.pending_write(&self.id),
            failure: None,
            expired,
            shown: shown.as_deref(),
        };
        match present(&self.id, facts) {
            Some(row) if row.status == RowStatus::PendingWrite => {
                self.show(Some(row), RecordStatus::PendingWrite);
                true
            }
            Some(row) if row.status == RowStatus::Fresh => {
                self.show(Some(row), RecordStatus::Fresh);
                true
            }
            Some(row) if was_cached => {
                self.show(Some(row), RecordStatus::Stale);
                self.fetch();
                false
            }
            // Not cached: keep what is shown while the master is asked.
            _ => {
                if shown.is_none() {
                    self.show(None, RecordStatus::Loading);
                }
                self.fetch();
                false
            }
        }
    }

    /// Fetch the row from the master in the background and cache it.
    fn fetch(self: Arc<Self>) {
        let weak = Arc::downgrade(&self);
        let task = self.runtime.spawn("diorama.record.fetch", async move {
            let Some(state) = weak.upgrade() else { return };
            let Some(dio) = Dio::upgrade(&state.dio) else {
                return;
            };
            let stamp = dio.begin_read();
            let span = spans::master_get(dio.table_name(), &state.id);
            match spans::master_call(span, dio.master().get(&state.id)).await {
                Ok(Some(record)) => {
                    // A write queued, or a change recorded, while the fetch
                    // ran is newer than what the fetch read: neither the
                    // cache nor the view may go back to the fetched value.
                    if dio.pending_write(&state.id).is_some() {
                        state.clone().reload(&dio);
                        return;
                    }
                    let now = dio.runtime().wall_clock();
                    let row = CachedRow::complete(record.clone(), Some(now));
                    let rows = alloc::vec![(state.id.clone(), row)];
                    match dio.store_read(&stamp, rows, CacheBatch::new()) {
                        Ok(raced) if !raced.is_empty() => {
                            state.clone().reload(&dio);
                            return;
                        }
                        // A failed cache write still shows what the master said.
                        _ => {}
                    }
                    state.show(
                        Some(EnrichedRecord::fresh(state.id.clone(), record, Some(now))),
                        RecordStatus::Fresh,
                    );
                }
                Ok(None) => {
                    let shown = state.shown.read().0.clone();
                    state.show(shown.map(|row| (*row).clone()), RecordStatus::NotFound);
                }
                Err(error) => {
                    let shown = state.shown.read().0.clone();
                    state.show(
                        shown.map(|row| (*row).clone()),
                        RecordStatus::Failed { error },
                    );
                }
            }
        });
        if !self.closed.load(Ordering::Acquire) {
            let mut fetches = self.fetches.lock();
            fetches.retain(|task| !task.is_finished());
            fetches.push(task.abort_on_drop());
        }
    }

    /// The previous value with the write's error (still pending if more
    /// writes to the row are queued).
    fn write_failed(self: &Arc<Self>, dio: &Dio, error: Error) {
        if dio.pending_write(&self.id).is_some() {
            self.clone().reload(dio);
            return;
        }
        let shown = self.shown.read().0.clone();
        let facts = RowFacts {
            hydration: Default::default(),
            cached: dio.cache().get(&self.id).ok().flatten(),
            pending: None,
            failure: Some(error.clone()),
            expired: false,
            shown: shown.as_deref(),
        };
        let previous = present(&self.id, facts);
        self.show(previous, RecordStatus::WriteFailed { error });
    }
}
