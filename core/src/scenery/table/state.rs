//! The shared state of one table scenery and the synchronous operations on it.
//!
//! Lock order, always: `query` → `loads` → `view`. Locks are spin locks held
//! for short, non-async sections only.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, Ordering};

use core::time::Duration;
use portable_atomic::AtomicU64;

use super::super::extent::Extent;
use super::super::planner::RowsState;
use super::super::positions::PositionKeys;
use super::super::presenting::{RowFacts, is_expired, present};
use super::super::sorted::SortedRows;
use super::super::sparse::SparseRows;
use super::super::{EnrichedRecord, RowStatus};
use super::viewport::RequestSlot;
use crate::cache::CachedRow;
use crate::dio::{Dio, DioEvent, DioInner};
use crate::runtime::{AbortOnDrop, Runtime, Timestamp};
use crate::sync::watch::GenerationSender;
use crate::sync::{Mutex, RwLock};
use crate::value::Record;
use crate::vista::{Id, Query, VistaCapabilities};

/// A viewport change or load request travelling to the viewport loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ViewportRequest {
    pub(crate) range: Range<usize>,
    /// Refetch loaded rows too.
    pub(crate) force: bool,
}

/// What readers of the view see.
#[derive(Debug, Default)]
pub(crate) struct View {
    /// A paged view's rows, at their positions in the master's order.
    pub(crate) rows: SparseRows,
    /// A local view's rows: the whole set in order (`None` for paged views).
    pub(crate) sorted: Option<SortedRows>,
    pub(crate) extent: Extent,
    /// The first load has not finished yet.
    pub(crate) initial_pending: bool,
    /// The query changed: the next landing chunk replaces every row.
    pub(crate) replace_on_land: bool,
    /// The query whose order the rows shown follow: the previous one after
    /// a query change, until the new order's first window lands.
    pub(crate) shown_query: Query,
    /// Rows of the set moved out of the loaded rows (their key fell in a
    /// hole or past them), as they were then: where a later change of
    /// theirs moves the loaded rows from (see `scenery::moves`). Bounded.
    pub(crate) departed: BTreeMap<Id, Arc<EnrichedRecord>>,
}

impl View {
    /// The row at `index`, if loaded.
    #[inline]
    pub(crate) fn row(&self, index: usize) -> Option<&Arc<EnrichedRecord>> {
        match &self.sorted {
            Some(sorted) => sorted.get(index),
            None => self.rows.get(index),
        }
    }

    /// The index of row `id`, if loaded.
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        match &self.sorted {
            Some(sorted) => sorted.index_of(id),
            None => self.rows.index_of(id),
        }
    }

    /// Rows held.
    pub(crate) fn held(&self) -> usize {
        match &self.sorted {
            Some(sorted) => sorted.len(),
            None => self.rows.len(),
        }
    }

    /// Highest index held plus one.
    pub(crate) fn end(&self) -> usize {
        match &self.sorted {
            Some(sorted) => sorted.len(),
            None => self.rows.end(),
        }
    }
}

/// The current query and the keys of its persisted positions.
#[derive(Debug)]
pub(crate) struct QueryState {
    pub(crate) query: Query,
    pub(crate) keys: PositionKeys,
}

/// One row delivered by a chunk, with what it replaced (for rollback).
#[derive(Debug)]
pub(crate) struct Staged {
    pub(crate) index: usize,
    pub(crate) row: Arc<EnrichedRecord>,
    /// `Some(previous)` when the row was placed at once; `None` when it waits
    /// for the chunk to land (query change).
    pub(crate) placed: Option<Option<Arc<EnrichedRecord>>>,
}

/// A chunk load in flight.
#[derive(Debug)]
pub(crate) struct Load {
    pub(crate) id: u64,
    pub(crate) epoch: u64,
    pub(crate) range: Range<usize>,
    pub(crate) staged: Vec<Staged>,
    pub(crate) stated_total: Option<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct Loads {
    pub(crate) next_id: u64,
    pub(crate) active: Vec<Load>,
}

/// Counters a UI or test can read.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) chunk_loads: AtomicU64,
    pub(crate) chunk_failures: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) rows_loaded: AtomicU64,
}

/// Everything a table scenery's handle and tasks share.
pub(crate) struct TableState {
    pub(crate) scenery_id: u64,
    pub(crate) dio: Weak<DioInner>,
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) capabilities: VistaCapabilities,
    pub(crate) page_size: usize,
    pub(crate) retain_rows: usize,
    pub(crate) paged: bool,
    pub(crate) ttl: Option<Duration>,
    pub(crate) view: RwLock<View>,
    pub(crate) query: Mutex<QueryState>,
    /// Bumped when the query changes; loads of older epochs are void.
    pub(crate) epoch: AtomicU64,
    pub(crate) loads: Mutex<Loads>,
    pub(crate) committed: Mutex<Option<Range<usize>>>,
    pub(crate) generation: GenerationSender,
    /// The generations of the sceneries attached to this view: each bumps
    /// with it (weak: a dropped scenery is pruned at the next bump).
    pub(crate) watchers: Mutex<Vec<Weak<GenerationSender>>>,
    pub(crate) requests: Arc<RequestSlot>,
    pub(crate) closed: AtomicBool,
    pub(crate) counters: Counters,
    pub(crate) load_tasks: Mutex<Vec<AbortOnDrop>>,
}

impl core::fmt::Debug for TableState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TableState")
            .field("scenery_id", &self.scenery_id)
            .field("paged", &self.paged)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

/// Rows state seen by the planner: loads of the current epoch and the view.
pub(crate) struct PlannerView<'a> {
    pub(crate) loads: &'a Loads,
    pub(crate) view: &'a View,
    pub(crate) epoch: u64,
}

impl RowsState for PlannerView<'_> {
    fn is_fresh(&self, index: usize) -> bool {
        self.view.rows.get(index).is_some_and(|row| {
            matches!(
                row.status,
                RowStatus::Fresh
                    | RowStatus::PendingWrite
                    | RowStatus::WriteFailed { .. }
                    // The list row is current; its detail loads apart.
                    | RowStatus::Incomplete
                    | RowStatus::DetailFailed { .. }
            )
        })
    }

    fn is_in_flight(&self, index: usize) -> bool {
        self.loads
            .active
            .iter()
            .any(|load| load.epoch == self.epoch && load.range.contains(&index))
    }
}

impl TableState {
    pub(crate) fn dio(&self) -> Option<Dio> {
        Dio::upgrade(&self.dio)
    }

    pub(crate) fn current_epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
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

    pub(crate) fn now(&self) -> Timestamp {
        self.runtime.wall_clock()
    }

    /// The row to show for `id` given its cached state (`None`: not cached)
    /// and the record shown so far, honouring pending writes (the one rule
    /// of `scenery::presenting`).
    pub(crate) fn build_row(
        &self,
        dio: Option<&Dio>,
        id: &str,
        cached: Option<CachedRow>,
        shown: Option<&EnrichedRecord>,
    ) -> Option<Arc<EnrichedRecord>> {
        self.present_row(dio, id, cached, shown, None)
    }

    /// [`build_row`](Self::build_row), with the last write's `failure`.
    pub(crate) fn present_row(
        &self,
        dio: Option<&Dio>,
        id: &str,
        cached: Option<CachedRow>,
        shown: Option<&EnrichedRecord>,
        failure: Option<crate::error::Error>,
    ) -> Option<Arc<EnrichedRecord>> {
        let expired = cached.as_ref().is_some_and(|row| {
            is_expired(
                row.fetched_at,
                dio.map_or(Timestamp::from_millis(0), Dio::invalidated_at),
                self.ttl,
                self.now(),
            )
        });
        let facts = RowFacts {
            cached,
            pending: dio.and_then(|dio| dio.pending_write(id)),
            failure,
            expired,
            shown,
            hydration: self.hydration(dio, id),
        };
        present(id, facts).map(Arc::new)
    }

    /// A freshly fetched row (from a chunk), honouring pending writes.
    pub(crate) fn fetched_row(
        &self,
        id: Id,
        record: Record,
        now: Timestamp,
    ) -> Arc<EnrichedRecord> {
        let pending = self.dio.upgrade().and_then(|dio| dio.pending_write(&id));
        Arc::new(match pending {
            Some(pending) => EnrichedRecord::pending(
                id,
                pending.record.unwrap_or(record),
                pending.dirty_fields,
                Some(now),
            ),
            None => EnrichedRecord::fresh(id, record, Some(now)),
        })
    }

    /// Replace the row shown for `id` (if shown) with `make(shown)`: in
    /// place in a paged view, where its key puts it in a local one.
    /// Returns whether anything changed.
    pub(crate) fn update_in_place(
        &self,
        id: &str,
        make: impl FnOnce(&Arc<EnrichedRecord>) -> Option<Arc<EnrichedRecord>>,
    ) -> bool {
        let mut view = self.view.write();
        if let Some(sorted) = view.sorted.as_mut() {
            let Some(shown) = sorted.shown(id).cloned() else {
                return false;
            };
            return match make(&shown) {
                Some(row) => sorted.upsert(id, Some(row)),
                None => false,
            };
        }
        let Some(index) = view.rows.index_of(id) else {
            return false;
        };
        let Some(shown) = view.rows.get(index).cloned() else {
            return false;
        };
        match make(&shown) {
            Some(row) if *row != *shown => {
                view.rows.set(index, row);
                true
            }
            _ => false,
        }
    }

    /// Mark every row shown as stale (a wholesale invalidation), without a
    /// repaint: the refetch that follows repaints once.
    pub(crate) fn mark_all_stale(&self) -> bool {
        let mut view = self.view.write();
        // Rows may be at other indices after the refetch: where departed
        // rows sat is not known any more.
        view.departed.clear();
        let stale: Vec<(usize, Arc<EnrichedRecord>)> = view
            .rows
            .iter()
            .filter(|(_, row)| row.status == RowStatus::Fresh)
            .map(|(i, row)| {
                (
                    i,
                    Arc::new(EnrichedRecord {
                        status: RowStatus::Stale,
                        ..(**row).clone()
                    }),
                )
            })
            .collect();
        let changed = !stale.is_empty();
        for (i, row) in stale {
            view.rows.set(i, row);
        }
        changed
    }
}
