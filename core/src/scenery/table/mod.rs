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

mod load;
mod local;
mod reactor;
mod state;
mod viewport;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, Ordering};

use portable_atomic::AtomicU64;

use super::EnrichedRecord;
use super::positions::PositionKeys;
use crate::dio::Dio;
use crate::error::{Error, Result};
use crate::runtime::{AbortOnDrop, RuntimeExt};
use crate::sync::watch::{Generation, GenerationReceiver, generation};
use crate::sync::{Mutex, RwLock};
use crate::value::Value;
use crate::vista::{CmpOp, Condition, Query, Sort, SortDir, VistaCapabilities};

use state::{Counters, QueryState, TableState, View, ViewportRequest};
use viewport::RequestSlot;

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
/// Cheap to clone; clones share one view. Dropping the last clone stops the
/// scenery's tasks. A scenery holds its Dio weakly: it never keeps it alive.
#[derive(Clone)]
pub struct TableScenery {
    handle: Arc<Handle>,
}

struct Handle {
    state: Arc<TableState>,
    _tasks: Vec<AbortOnDrop>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.state.closed.store(true, Ordering::Release);
        self.state.load_tasks.lock().clear();
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
    fn state(&self) -> &Arc<TableState> {
        &self.handle.state
    }

    /// This scenery's id, as carried by its viewport events.
    pub fn id(&self) -> u64 {
        self.state().scenery_id
    }

    /// Rows in the set: the total when known, else the rows known to exist.
    pub fn row_count(&self) -> usize {
        self.state().view.read().extent.row_count()
    }

    /// True while the end of the set is unknown (more rows may follow).
    pub fn has_more(&self) -> bool {
        self.state().view.read().extent.has_more()
    }

    /// The total number of rows, `None` while unknown.
    pub fn estimated_total(&self) -> Option<usize> {
        self.state().view.read().extent.limit()
    }

    /// The row at `index`, if loaded. Never fetches.
    #[inline]
    pub fn row(&self, index: usize) -> Option<Arc<EnrichedRecord>> {
        self.state().view.read().rows.get(index).cloned()
    }

    /// The rows of `range` as one consistent snapshot (`None` where not loaded).
    pub fn rows(&self, range: Range<usize>) -> Vec<Option<Arc<EnrichedRecord>>> {
        let view = self.state().view.read();
        range.map(|i| view.rows.get(i).cloned()).collect()
    }

    /// The index of row `id`, if loaded.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.state().view.read().rows.index_of(id)
    }

    /// Whether the set is loading, partly or completely loaded.
    pub fn load_state(&self) -> LoadState {
        let view = self.state().view.read();
        if view.rows.len() == 0 && view.initial_pending {
            return LoadState::Loading;
        }
        match view.extent.limit() {
            Some(limit) if view.rows.len() >= limit && view.rows.end() <= limit => {
                LoadState::Complete
            }
            _ => LoadState::Partial,
        }
    }

    /// Show `range`: after the debounce the last requested range is
    /// committed (`ViewportChanged`) and whatever it needs is loaded.
    pub fn set_viewport(&self, range: Range<usize>) {
        self.state().requests.put(ViewportRequest {
            range,
            force: false,
        });
    }

    /// The last committed viewport.
    pub fn viewport(&self) -> Option<Range<usize>> {
        self.state().committed.lock().clone()
    }

    /// Load the next `page_size` rows after the highest loaded index (for
    /// cursor-like masters and "load more" buttons).
    pub fn request_load_more(&self) {
        let start = self.state().view.read().rows.end();
        let range = start..start + self.state().page_size;
        self.state()
            .requests
            .put(ViewportRequest { range, force: true });
    }

    /// Refetch the committed viewport (paged) or re-read the cache (local).
    pub fn request_refresh(&self) {
        let state = self.state().clone();
        if state.paged {
            let range = state.committed.lock().clone().unwrap_or(0..state.page_size);
            state.requests.put(ViewportRequest { range, force: true });
        } else {
            state.spawn_reseed();
        }
    }

    /// Filter by a search string (`None` clears it). Local views apply it at
    /// once; paged views need a master that can search (else an
    /// `Unsupported` error and nothing changes) and refetch the viewport.
    pub fn set_search(&self, search: Option<String>) -> Result<()> {
        if search.is_some() && self.state().paged && !self.state().capabilities.can_search {
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
        if column.is_some() && self.state().paged && !self.state().capabilities.can_order {
            return Err(Error::unsupported(
                "sorting a paged view needs a master that can order; a local sort would show a sorted sample",
            ));
        }
        self.change_query(|query| query.sort = column.map(|field| Sort { field, dir }))
    }

    fn change_query(&self, change: impl FnOnce(&mut Query)) -> Result<()> {
        let state = self.state().clone();
        {
            let mut current = state.query.lock();
            let mut query = current.query.clone();
            change(&mut query);
            if query == current.query {
                return Ok(());
            }
            current.keys = PositionKeys::new(&query.key());
            current.query = query;
            state.epoch.fetch_add(1, Ordering::AcqRel);
        }
        if state.paged {
            state.requery();
        } else {
            state.spawn_reseed();
        }
        Ok(())
    }

    /// The current query (conditions, sort, search).
    pub fn query(&self) -> Query {
        self.state().query.lock().query.clone()
    }

    /// A receiver of this view's generation: it changes on every visible change.
    pub fn subscribe(&self) -> GenerationReceiver {
        self.state().generation.subscribe()
    }

    /// The current generation.
    pub fn generation(&self) -> Generation {
        self.state().generation.get()
    }

    /// The capabilities of the master behind the Dio.
    pub fn master_capabilities(&self) -> &VistaCapabilities {
        &self.state().capabilities
    }

    /// Activity counters.
    pub fn stats(&self) -> TableStats {
        let state = self.state();
        let c = &state.counters;
        TableStats {
            chunk_loads: c.chunk_loads.load(Ordering::Relaxed),
            chunk_failures: c.chunk_failures.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            rows_loaded: c.rows_loaded.load(Ordering::Relaxed),
            rows_held: state.view.read().rows.len(),
            loads_in_flight: state.loads.lock().active.len(),
        }
    }
}

impl TableState {
    /// Re-evaluate a local view in the background (one repaint if it changed).
    fn spawn_reseed(self: &Arc<Self>) {
        let state = self.clone();
        let task = self.runtime.spawn("diorama.table.reseed", async move {
            if let Some(dio) = state.dio()
                && state.reseed_local(&dio).await
            {
                state.bump();
            }
        });
        self.load_tasks.lock().push(task.abort_on_drop());
    }

    /// The query of a paged view changed: serve what positions of the new
    /// query the cache has, else keep the old rows until the new ones land,
    /// and refetch the viewport with the new query.
    fn requery(self: &Arc<Self>) {
        let stored = self.dio().and_then(|dio| {
            let keys = self.query.lock().keys.clone();
            keys.read_extent(&**dio.cache()).ok().flatten()
        });
        {
            let mut view = self.view.write();
            view.extent = stored.unwrap_or_default();
            view.replace_on_land = true;
        }
        // The range the UI asked for last (it may not be committed yet). The
        // new query starts afresh: no scroll direction carries over.
        let committed = self.committed.lock().take();
        let visible = self
            .requests
            .requested()
            .or(committed)
            .unwrap_or(0..self.page_size);
        if self.restore_replacing(visible.clone()) {
            self.bump();
        }
        self.spawn_total();
        // Through the debounce: a viewport change right after this one wins.
        self.requests.put(ViewportRequest {
            range: visible,
            force: true,
        });
    }

    /// Ask `total_provider` (if any) for the current query's total in the
    /// background; a stated total that changes the view repaints it.
    fn spawn_total(self: &Arc<Self>) {
        let Some(dio) = self.dio() else { return };
        if dio.lens().inner.callbacks.total_provider.is_none() {
            return;
        }
        let epoch = self.current_epoch();
        let query = self.query.lock().query.clone();
        let state = Arc::downgrade(self);
        let task = self.runtime.spawn("diorama.table.total", async move {
            let total = match &dio.lens().inner.callbacks.total_provider {
                Some(total_provider) => total_provider(&dio, query).await,
                None => return,
            };
            drop(dio);
            // A failing provider leaves the total to be found by loading.
            let (Ok(total), Some(state)) = (total, state.upgrade()) else {
                return;
            };
            if state.current_epoch() == epoch && state.state_total(total) {
                state.bump();
            }
        });
        let mut tasks = self.load_tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(task.abort_on_drop());
    }

    /// Record a stated total; drops rows past it. Returns whether the view changed.
    fn state_total(&self, total: usize) -> bool {
        let mut view = self.view.write();
        let before = (view.extent.limit(), view.extent.has_more());
        view.extent.state_total(total);
        let beyond: Vec<usize> = view
            .rows
            .range(total..view.rows.end())
            .map(|(i, _)| i)
            .collect();
        for index in &beyond {
            view.rows.take(*index);
        }
        before != (view.extent.limit(), view.extent.has_more()) || !beyond.is_empty()
    }

    /// Replace the view with the rows at persisted positions of `visible`
    /// when they cover all of it; returns whether it did.
    fn restore_replacing(&self, visible: Range<usize>) -> bool {
        let Some(dio) = self.dio() else { return false };
        let keys = self.query.lock().keys.clone();
        let Ok(positions) = keys.read(&**dio.cache(), visible.clone()) else {
            return false;
        };
        if positions.len() < visible.len() {
            return false;
        }
        let ids: Vec<&str> = positions.iter().map(|(_, id)| id.as_str()).collect();
        let Ok(cached) = dio.cache().get_many(&ids) else {
            return false;
        };
        if cached.iter().any(Option::is_none) {
            return false;
        }
        let mut view = self.view.write();
        view.rows.clear();
        view.replace_on_land = false;
        for ((index, id), row) in positions.iter().zip(cached) {
            if let Some(row) = self.build_row(Some(&dio), id, row, None) {
                view.rows.set(*index, row);
            }
        }
        true
    }
}

/// Configures and opens a [`TableScenery`]; from [`Dio::table_scenery`].
#[derive(Debug)]
pub struct TableSceneryBuilder {
    dio: Dio,
    query: Query,
    page_size: usize,
    initial_range: Option<Range<usize>>,
    retain_rows: Option<usize>,
}

impl TableSceneryBuilder {
    pub(crate) fn new(dio: Dio) -> Self {
        TableSceneryBuilder {
            dio,
            query: Query::default(),
            page_size: 100,
            initial_range: None,
            retain_rows: None,
        }
    }

    /// Keep rows whose `field` equals `value`.
    pub fn where_eq(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.query
            .conditions
            .push(Condition::new(field, CmpOp::Eq, value));
        self
    }

    /// Keep rows satisfying `field op value`.
    pub fn where_op(
        mut self,
        field: impl Into<String>,
        op: CmpOp,
        value: impl Into<Value>,
    ) -> Self {
        self.query.conditions.push(Condition::new(field, op, value));
        self
    }

    /// Sort by `field` in `dir`.
    pub fn sort(mut self, field: impl Into<String>, dir: SortDir) -> Self {
        self.query.sort = Some(Sort {
            field: field.into(),
            dir,
        });
        self
    }

    /// Filter by a case-insensitive search string.
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.query.search = Some(search.into());
        self
    }

    /// Rows per load and read-ahead (default 100; at least 1).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The range shown and loaded at open (default `0..page_size`).
    pub fn initial_range(mut self, range: Range<usize>) -> Self {
        self.initial_range = Some(range);
        self
    }

    /// Rows kept in memory on each side of the viewport (default 10 pages).
    /// Rows further away are dropped from memory (not from the cache).
    pub fn retain_rows(mut self, rows: usize) -> Self {
        self.retain_rows = Some(rows);
        self
    }

    /// Open the view: state the total (`total_provider`, once), show what
    /// the cache holds for the initial range, start the reactor and the
    /// viewport loop, and (with `refresh_on_open`) load the initial range.
    ///
    /// Errors: a paged view whose query sorts or searches needs a master
    /// that can (`Unsupported`).
    pub async fn open(self) -> Result<TableScenery> {
        let TableSceneryBuilder {
            dio,
            query,
            page_size,
            initial_range,
            retain_rows,
        } = self;
        let lens = dio.lens().clone();
        let callbacks = &lens.inner.callbacks;
        let defaults = &lens.inner.defaults;
        let paged = callbacks.on_load_chunk.is_some();
        let capabilities = dio.master().capabilities();
        if paged && query.sort.is_some() && !capabilities.can_order {
            return Err(Error::unsupported(
                "sorting a paged view needs a master that can order",
            ));
        }
        if paged && query.search.is_some() && !capabilities.can_search {
            return Err(Error::unsupported(
                "search on a paged view needs a master that can search",
            ));
        }
        let keys = PositionKeys::new(&query.key());
        let (generation_tx, _) = generation();
        let state = Arc::new(TableState {
            scenery_id: dio.next_scenery_id(),
            dio: dio.downgrade(),
            runtime: dio.runtime().clone(),
            capabilities,
            page_size,
            retain_rows: retain_rows.unwrap_or(page_size * 10),
            paged,
            ttl: defaults.cache_ttl,
            view: RwLock::new(View {
                initial_pending: true,
                ..View::default()
            }),
            query: Mutex::new(QueryState {
                query: query.clone(),
                keys: keys.clone(),
            }),
            epoch: AtomicU64::new(0),
            loads: Mutex::new(Default::default()),
            committed: Mutex::new(None),
            generation: generation_tx,
            requests: Arc::new(RequestSlot::default()),
            closed: AtomicBool::new(false),
            counters: Counters::default(),
            load_tasks: Mutex::new(Vec::new()),
        });
        // Subscribe before reading anything, so no change slips between.
        let events = dio.subscribe_events();
        let initial = initial_range.unwrap_or(0..page_size);

        let mut total_later = false;
        if paged {
            let mut extent = keys.read_extent(&**dio.cache())?.unwrap_or_default();
            match &callbacks.total_provider {
                // A warm cache already knows a total: paint first, ask later.
                Some(_) if extent.stated.is_some() => total_later = true,
                Some(total_provider) => {
                    // A failing provider leaves the total to be found by loading.
                    if let Ok(total) = total_provider(&dio, query.clone()).await {
                        extent.state_total(total);
                    }
                }
                None => {}
            }
            state.view.write().extent = extent;
            state.restore(initial.clone());
            let loads_now = defaults.refresh_on_open;
            state.view.write().initial_pending = loads_now;
        } else {
            state.reseed_local(&dio).await;
        }

        let runtime = dio.runtime().clone();
        let weak = Arc::downgrade(&state);
        let mut tasks = Vec::new();
        tasks.push(
            runtime
                .spawn("diorama.table.reactor", reactor::run(weak.clone(), events))
                .abort_on_drop(),
        );
        tasks.push(
            runtime
                .spawn(
                    "diorama.table.viewport",
                    viewport::run(weak.clone(), defaults.viewport_debounce),
                )
                .abort_on_drop(),
        );
        if let Some(ttl) = defaults.cache_ttl {
            tasks.push(
                runtime
                    .spawn("diorama.table.ttl", reactor::run_ttl(weak, ttl))
                    .abort_on_drop(),
            );
        }
        if total_later {
            state.spawn_total();
        }
        if paged && defaults.refresh_on_open {
            state.commit(ViewportRequest {
                range: initial,
                force: true,
            });
        }
        Ok(TableScenery {
            handle: Arc::new(Handle {
                state,
                _tasks: tasks,
            }),
        })
    }
}
