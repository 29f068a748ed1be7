//! `TableScenery`: a sparse, viewport-driven view of a Dio's rows.
//!
//! Two modes, chosen by the Lens:
//! - **Paged** (an `on_load_chunk` callback is registered): rows arrive chunk
//!   by chunk as viewports need them; positions and the total persist per
//!   query in the cache meta, so a reopen shows rows where they were before
//!   any fetch, reading only the viewport.
//! - **Local** (no `on_load_chunk`): the set is the whole cache, filtered,
//!   searched and sorted in memory (complete sets; sort and search are
//!   instant).
//!
//! Reads (`row`, `row_count`, …) are synchronous and never fetch. Every
//! visible change bumps the generation returned by
//! [`subscribe`](TableScenery::subscribe).

mod builder;
mod detail;
mod hook;
mod load;
mod local;
mod model;
mod reactor;
mod state;
mod viewport;

pub use builder::TableSceneryBuilder;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use core::sync::atomic::Ordering;

use super::EnrichedRecord;
use super::positions::PositionKeys;
use crate::dio::DioEvent;
use crate::error::{Error, Result};
use crate::runtime::AbortOnDrop;
use crate::sync::watch::{Generation, GenerationReceiver};
use crate::sync::watch::{GenerationSender, generation};
use crate::sync::{Mutex, RwLock};
use crate::vista::{Query, Sort, SortDir, VistaCapabilities};

use state::TableState;

/// The longest viewport a table view takes (see
/// [`TableScenery::set_viewport`]); longer ones are clamped.
pub const MAX_VIEWPORT_ROWS: usize = 1 << 16;

fn clamp_viewport(range: Range<usize>) -> Range<usize> {
    let end = range
        .end
        .max(range.start)
        .min(range.start.saturating_add(MAX_VIEWPORT_ROWS));
    range.start..end
}

/// Whether a view has its rows yet, so a UI never paints "no rows" while
/// the first load is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadState {
    /// The first load is running and nothing is shown yet.
    Loading,
    /// Some rows are shown; others are not loaded (or the end is unknown).
    Partial,
    /// Every row of the set is loaded.
    Complete,
}

/// Counters of a table scenery's activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Chunk loads that landed.
    pub chunk_loads: u64,
    /// Chunk loads that failed.
    pub chunk_failures: u64,
    /// Rows served from the cache at persisted positions (no master call).
    pub cache_hits: u64,
    /// Rows delivered by chunk loads.
    pub rows_loaded: u64,
    /// Rows held in memory.
    pub rows_held: usize,
    /// Chunk loads in flight.
    pub loads_in_flight: usize,
}

/// A sparse, viewport-driven table view.
///
/// Two modes, chosen by the Lens:
/// - **Paged** (an `on_load_chunk` callback is registered): rows arrive chunk
///   by chunk as viewports need them; positions and the total persist per
///   query in the cache meta, so a reopen shows rows where they were before
///   any fetch, reading only the viewport.
/// - **Local** (no `on_load_chunk`): the set is the whole cache, filtered,
///   searched and sorted in memory (complete sets; sort and search are
///   instant).
///
/// Reads (`row`, `row_count`, …) are synchronous and never fetch. Every
/// visible change bumps the generation returned by
/// [`subscribe`](TableScenery::subscribe).
///
/// Cheap to clone; clones share one view. Local sceneries opened on the
/// same query of one Dio share one view too (its rows, its reactor), each
/// with its own id and generation; the last one dropped stops the view's
/// tasks, and a query change gives a scenery a view of the new query (the
/// others keep theirs). A scenery holds its Dio weakly: it never keeps it alive.
#[derive(Clone)]
pub struct TableScenery {
    handle: Arc<Handle>,
}

/// One opened scenery: its id and generation, attached to a view.
struct Handle {
    id: u64,
    view: RwLock<Arc<SharedView>>,
    generation: Arc<GenerationSender>,
    /// A local scenery's viewport (it loads nothing: committed at once).
    committed: Mutex<Option<Range<usize>>>,
}

/// A view and its tasks, held by every scenery attached to it; the last
/// one dropped stops them.
pub(crate) struct SharedView {
    pub(crate) state: Arc<TableState>,
    pub(crate) tasks: Vec<AbortOnDrop>,
}

impl Drop for SharedView {
    fn drop(&mut self) {
        self.state.closed.store(true, Ordering::Release);
        self.state.withdraw_details();
        self.state.load_tasks.lock().clear();
        self.tasks.clear();
    }
}

impl fmt::Debug for TableScenery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableScenery")
            .field("id", &self.id())
            .field("row_count", &self.row_count())
            .field("load_state", &self.load_state())
            .finish()
    }
}

impl TableScenery {
    /// A scenery attached to `view`, with a generation of its own.
    pub(crate) fn attach(view: Arc<SharedView>, id: u64) -> TableScenery {
        let (generation, _) = generation();
        let generation = Arc::new(generation);
        view.state.watch(&generation);
        TableScenery {
            handle: Arc::new(Handle {
                id,
                view: RwLock::new(view),
                generation,
                committed: Mutex::new(None),
            }),
        }
    }

    fn state(&self) -> Arc<TableState> {
        self.handle.view.read().state.clone()
    }

    /// This scenery's id, as carried by its viewport events.
    pub fn id(&self) -> u64 {
        self.handle.id
    }

    /// Rows in the set: the total when known, else the rows known to exist.
    pub fn row_count(&self) -> usize {
        self.state().model.read().view().extent.row_count()
    }

    /// True while the end of the set is unknown (more rows may follow).
    pub fn has_more(&self) -> bool {
        self.state().model.read().view().extent.has_more()
    }

    /// The total number of rows, `None` while unknown.
    pub fn estimated_total(&self) -> Option<usize> {
        self.state().model.read().view().extent.limit()
    }

    /// The row at `index`, if loaded. Never fetches.
    #[inline]
    pub fn row(&self, index: usize) -> Option<Arc<EnrichedRecord>> {
        self.handle
            .view
            .read()
            .state
            .model
            .read()
            .view()
            .row(index)
            .cloned()
    }

    /// The rows of `range` as one consistent snapshot (`None` where not
    /// loaded). Indices past the end of the set, when it is known, are left
    /// out; while it is unknown at most [`MAX_VIEWPORT_ROWS`] entries past
    /// the rows held are given. So a huge range costs what the set holds,
    /// never `range.len()`.
    pub fn rows(&self, range: Range<usize>) -> Vec<Option<Arc<EnrichedRecord>>> {
        let state = self.state();
        let model = state.model.read();
        let view = model.view();
        let set_end = match view.extent.limit() {
            Some(limit) => limit.max(view.end()),
            None => view
                .end()
                .max(range.start)
                .saturating_add(MAX_VIEWPORT_ROWS),
        };
        let end = range.end.min(set_end);
        (range.start..end.max(range.start))
            .map(|i| view.row(i).cloned())
            .collect()
    }

    /// The index of row `id`, if loaded.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.state().model.read().view().index_of(id)
    }

    /// Whether the set is loading, partly or completely loaded.
    pub fn load_state(&self) -> LoadState {
        let state = self.state();
        let model = state.model.read();
        let view = model.view();
        if view.held() == 0 && view.initial_pending {
            return LoadState::Loading;
        }
        match view.extent.limit() {
            Some(limit) if view.held() >= limit && view.end() <= limit => LoadState::Complete,
            _ => LoadState::Partial,
        }
    }

    /// Show `range`: after the debounce the last requested range is
    /// committed (`ViewportChanged`) and whatever it needs is loaded.
    ///
    /// The debounce is trailing only (see
    /// [`LensBuilder::viewport_debounce`](crate::LensBuilder::viewport_debounce)):
    /// a request is committed once the debounce passed with no newer one,
    /// and with a zero debounce at once, no timer involved.
    ///
    /// A viewport is what a UI shows: one longer than
    /// [`MAX_VIEWPORT_ROWS`] is clamped to that many rows from its start
    /// (and an inverted one is empty), so `0..usize::MAX` costs what a
    /// large screen does.
    ///
    /// A local view loads nothing: its viewport is committed at once.
    pub fn set_viewport(&self, range: Range<usize>) {
        let range = clamp_viewport(range);
        let state = self.state();
        if state.paged() {
            let now = state.runtime.now();
            state.drive(|model| model.handle_viewport(range, false, now));
            state.wake.notify(1);
        } else {
            *self.handle.committed.lock() = Some(range.clone());
            state.publish(DioEvent::ViewportChanged {
                scenery: self.handle.id,
                range,
            });
        }
    }

    /// The last committed viewport.
    pub fn viewport(&self) -> Option<Range<usize>> {
        let state = self.state();
        if state.paged() {
            state.model.read().committed()
        } else {
            self.handle.committed.lock().clone()
        }
    }

    /// Load the next `page_size` rows after the highest loaded index (for
    /// cursor-like masters and "load more" buttons).
    pub fn request_load_more(&self) {
        let state = self.state();
        // A local view has everything loaded already.
        if state.paged() {
            let now = state.runtime.now();
            state.drive(|model| model.handle_load_more(now));
            state.wake.notify(1);
        }
    }

    /// Refetch the committed viewport (paged) or re-read the cache (local).
    pub fn request_refresh(&self) {
        let state = self.state();
        if state.paged() {
            let now = state.runtime.now();
            state.drive(|model| model.handle_refresh(now));
            state.wake.notify(1);
        } else {
            state.spawn_reseed();
        }
    }

    /// Filter by a search string (`None` clears it). Local views apply it at
    /// once; paged views need a master that can search (else an
    /// `Unsupported` error and nothing changes) and refetch the viewport.
    pub fn set_search(&self, search: Option<String>) -> Result<()> {
        if search.is_some() && self.state().paged() && !self.state().capabilities.can_search {
            return Err(Error::unsupported(
                "search on a paged view needs a master that can search; a local search would show a filtered sample",
            ));
        }
        self.change_query(|query| query.search = search)
    }

    /// Sort by `column` (`None` clears the sort). Local views sort at once;
    /// paged views need a master that can order (else an `Unsupported`
    /// error and nothing changes) and refetch the viewport in the new order.
    pub fn set_sort(&self, column: Option<String>, dir: SortDir) -> Result<()> {
        if column.is_some() && self.state().paged() && !self.state().capabilities.can_order {
            return Err(Error::unsupported(
                "sorting a paged view needs a master that can order; a local sort would show a sorted sample",
            ));
        }
        self.change_query(|query| query.sort = column.map(|field| Sort { field, dir }))
    }

    fn change_query(&self, change: impl FnOnce(&mut Query)) -> Result<()> {
        let state = self.state();
        let mut query = state.model.read().query().clone();
        change(&mut query);
        if !state.paged() {
            return self.requery_local(&state, query);
        }
        // What the cache knows of the new query's extent, read before the
        // model is told (no cache read under its lock).
        let stored = state.dio().and_then(|dio| {
            PositionKeys::new(&query.key())
                .read_extent(&**dio.cache())
                .ok()
                .flatten()
        });
        let now = state.runtime.now();
        if state.drive(|model| model.handle_query(query, stored, now)) {
            state.wake.notify(1);
        }
        Ok(())
    }

    /// A local scenery's query changed: attach it to the view of the new
    /// query (shared when one is open, else made from the rows shown, in
    /// the old order until its re-evaluation lands). The sceneries sharing
    /// the old view keep it.
    fn requery_local(&self, state: &Arc<TableState>, query: Query) -> Result<()> {
        if query == *state.model.read().query() {
            return Ok(());
        }
        let Some(dio) = state.dio() else {
            return Err(Error::new(crate::ErrorKind::Closed, "the Dio is gone"));
        };
        let view = builder::local_view_from(&dio, state, query);
        view.state.watch(&self.handle.generation);
        *self.handle.view.write() = view;
        self.handle.generation.bump();
        Ok(())
    }

    /// The current query (conditions, sort, search): the last one set.
    pub fn query(&self) -> Query {
        self.state().model.read().query().clone()
    }

    /// The query whose order the rows shown follow. Right after a sort,
    /// search or filter change it is still the previous query (its rows
    /// read [`Loading`](super::RowStatus::Loading)), until the new order's
    /// first window lands; a header drawn from it never labels rows of the
    /// old order with the new sort.
    pub fn shown_query(&self) -> Query {
        self.state().model.read().view().shown_query.clone()
    }

    /// A receiver of this view's generation: it changes on every visible change.
    pub fn subscribe(&self) -> GenerationReceiver {
        self.handle.generation.subscribe()
    }

    /// The current generation.
    pub fn generation(&self) -> Generation {
        self.handle.generation.get()
    }

    /// The capabilities of the master behind the Dio.
    pub fn master_capabilities(&self) -> VistaCapabilities {
        self.state().capabilities
    }

    /// Activity counters.
    pub fn stats(&self) -> TableStats {
        let state = self.state();
        let model = state.model.read();
        let c = model.counters();
        TableStats {
            chunk_loads: c.chunk_loads,
            chunk_failures: c.chunk_failures,
            cache_hits: c.cache_hits,
            rows_loaded: c.rows_loaded,
            rows_held: model.view().held(),
            loads_in_flight: model.loads_in_flight(),
        }
    }
}
