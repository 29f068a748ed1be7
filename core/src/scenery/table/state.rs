//! The driver of one table view: its [`TableModel`] behind one lock, and
//! what executes the model's actions (reads of the cache, the chunk and
//! total tasks, the Dio's bus, the generation).
//!
//! Every change goes through [`TableState::drive`]: the model is told under
//! the lock, the actions it asked for are taken in the same hold and
//! executed after it, in order, by the caller. The lock is never held
//! across a cache read, a callback or an await.

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use event_listener::Event;

use super::super::EnrichedRecord;
use super::super::positions::PositionKeys;
use super::super::presenting::{RowFacts, is_expired, present};
use super::model::{Action, PlacedRows, TableModel};
use crate::cache::{CacheBatch, CachedRow};
use crate::dio::{Dio, DioEvent, DioInner};
use crate::error::Error;
use crate::runtime::{AbortOnDrop, Runtime, RuntimeExt, Timestamp};
use crate::sync::watch::GenerationSender;
use crate::sync::{Mutex, RwLock};
use crate::vista::{Id, Query, VistaCapabilities};

/// Everything a table scenery's handle and tasks share.
pub(crate) struct TableState {
    pub(crate) scenery_id: u64,
    pub(crate) dio: Weak<DioInner>,
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) capabilities: VistaCapabilities,
    pub(crate) ttl: Option<Duration>,
    pub(crate) model: RwLock<TableModel>,
    pub(crate) generation: GenerationSender,
    /// The generations of the sceneries attached to this view: each bumps
    /// with it (weak: a dropped scenery is pruned at the next bump).
    pub(crate) watchers: Mutex<Vec<Weak<GenerationSender>>>,
    /// Woken when a viewport is held for the viewport loop.
    pub(crate) wake: Event,
    pub(crate) closed: AtomicBool,
    pub(crate) load_tasks: Mutex<Vec<AbortOnDrop>>,
}

impl core::fmt::Debug for TableState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TableState")
            .field("scenery_id", &self.scenery_id)
            .finish_non_exhaustive()
    }
}

impl TableState {
    pub(crate) fn dio(&self) -> Option<Dio> {
        Dio::upgrade(&self.dio)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn paged(&self) -> bool {
        self.model.read().config().paged
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.runtime.wall_clock()
    }

    /// Tell the model something (`f`), then execute what it asked for.
    pub(crate) fn drive<R>(self: &Arc<Self>, f: impl FnOnce(&mut TableModel) -> R) -> R {
        let (result, actions) = {
            let mut model = self.model.write();
            let result = f(&mut model);
            (result, model.take_actions())
        };
        if !actions.is_empty() {
            self.execute(actions);
        }
        result
    }

    /// Execute `actions` in order; an answer's own actions run right after
    /// the action it answers.
    pub(crate) fn execute(self: &Arc<Self>, actions: Vec<Action>) {
        let mut work: VecDeque<Action> = actions.into();
        while let Some(action) = work.pop_front() {
            let more = self.execute_one(action);
            for action in more.into_iter().rev() {
                work.push_front(action);
            }
        }
    }

    fn execute_one(self: &Arc<Self>, action: Action) -> Vec<Action> {
        match action {
            Action::Restore {
                epoch,
                range,
                keys,
                then,
            } => {
                let rows = self.read_positions(&keys, range, false).unwrap_or_default();
                let mut model = self.model.write();
                model.handle_restored(epoch, rows, then);
                model.take_actions()
            }
            Action::RestoreReplacing { epoch, range, keys } => {
                let rows = self.read_positions(&keys, range, true);
                let mut model = self.model.write();
                model.handle_restored_replacing(epoch, rows);
                model.take_actions()
            }
            Action::Load { id, range, query } => self.spawn_load(id, range, query),
            Action::ForgetPositions { keys } => {
                if let Some(dio) = self.dio() {
                    let mut batch = CacheBatch::new();
                    keys.stage_forget(&mut batch);
                    // A failed delete only means a reopen shows the old
                    // order until its rows are refetched (they read stale).
                    let _ = dio.cache().apply(batch);
                }
                Vec::new()
            }
            Action::AskTotal { epoch, query } => {
                self.spawn_total(epoch, query);
                Vec::new()
            }
            Action::RequestDetails { ids } => {
                if let Some(dio) = self.dio() {
                    dio.request_details(self.scenery_id, ids);
                }
                Vec::new()
            }
            Action::Publish(event) => {
                self.publish(event);
                Vec::new()
            }
            Action::Bump => {
                self.bump();
                Vec::new()
            }
        }
    }

    /// The rows at persisted positions of `range` under `keys` (reading
    /// O(range) meta entries and rows), as they are shown. With `all`,
    /// `None` unless the cache holds every row of the range.
    fn read_positions(
        &self,
        keys: &PositionKeys,
        range: Range<usize>,
        all: bool,
    ) -> Option<PlacedRows> {
        let dio = self.dio()?;
        let cache = dio.cache();
        let positions = keys.read(&**cache, range.clone()).ok()?;
        if all && positions.len() < range.len() {
            return None;
        }
        let ids: Vec<&str> = positions.iter().map(|(_, id)| id.as_str()).collect();
        let cached = cache.get_many(&ids).ok()?;
        if all && cached.iter().any(Option::is_none) {
            return None;
        }
        Some(
            positions
                .iter()
                .zip(cached)
                .filter_map(|((index, id), row)| {
                    Some((*index, self.build_row(&dio, id.clone(), Some(row?))?))
                })
                .collect(),
        )
    }

    pub(crate) fn publish(&self, event: DioEvent) {
        if let Some(dio) = self.dio.upgrade() {
            dio.publish(event);
        }
    }

    pub(crate) fn bump(&self) {
        self.generation.bump();
        // Bumped after the lock is released: a bump wakes waiters (a
        // waker may park or unpark a thread), never done under a lock.
        let live: Vec<Arc<GenerationSender>> = {
            let mut watchers = self.watchers.lock();
            let live: Vec<_> = watchers.iter().filter_map(Weak::upgrade).collect();
            if live.len() < watchers.len() {
                watchers.retain(|watcher| watcher.strong_count() > 0);
            }
            live
        };
        for generation in live {
            generation.bump();
        }
    }

    /// Bump `generation` with this view from now on.
    pub(crate) fn watch(&self, generation: &Arc<GenerationSender>) {
        self.watchers.lock().push(Arc::downgrade(generation));
    }

    /// What decides how row `id` is shown, read from the Dio: its cached
    /// value, pending writes, the last write's `failure`, freshness and
    /// hydration (what is shown now is the model's part).
    pub(crate) fn facts(&self, dio: &Dio, id: &str, failure: Option<Error>) -> RowFacts<'static> {
        let cached = dio.cache().get(id).ok().flatten();
        self.facts_of(dio, id, cached, failure)
    }

    fn facts_of(
        &self,
        dio: &Dio,
        id: &str,
        cached: Option<CachedRow>,
        failure: Option<Error>,
    ) -> RowFacts<'static> {
        let expired = cached.as_ref().is_some_and(|row| {
            is_expired(row.fetched_at, dio.invalidated_at(), self.ttl, self.now())
        });
        RowFacts {
            cached,
            pending: dio.pending_write(id),
            failure,
            expired,
            shown: None,
            hydration: self.hydration(Some(dio), id),
        }
    }

    /// Row `id` as shown from its cached state alone (`None`: nothing to
    /// show), honouring pending writes.
    pub(crate) fn build_row(
        &self,
        dio: &Dio,
        id: Id,
        cached: Option<CachedRow>,
    ) -> Option<Arc<EnrichedRecord>> {
        let facts = self.facts_of(dio, &id, cached, None);
        present(id, facts).map(Arc::new)
    }

    /// Ask `total_provider` for the total of `query` (of `epoch`) in the
    /// background; a stated total that changes the view repaints it.
    fn spawn_total(self: &Arc<Self>, epoch: u64, query: Query) {
        let Some(dio) = self.dio() else { return };
        let state = Arc::downgrade(self);
        let task = self.runtime.spawn("diorama.table.total", async move {
            let total = match dio.policy().total_provider() {
                Some(total_provider) => total_provider(&dio, query).await,
                None => return,
            };
            drop(dio);
            // A failing provider leaves the total to be found by loading.
            if let (Ok(total), Some(state)) = (total, state.upgrade()) {
                state.drive(|model| model.handle_total(epoch, total));
            }
        });
        self.keep(task.abort_on_drop());
    }

    /// Keep a task of this view until it ends or the view closes.
    pub(crate) fn keep(&self, task: AbortOnDrop) {
        let mut tasks = self.load_tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(task);
    }
}
