//! `TableSceneryBuilder`: configuring and opening a table view.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::AtomicBool;

use event_listener::Event;

use super::super::positions::PositionKeys;
use super::model::{Action, ModelConfig, TableModel, ViewportRequest};
use super::state::TableState;
use super::{SharedView, TableScenery, reactor, viewport};
use crate::dio::Dio;
use crate::error::{Error, Result};
use crate::runtime::{AbortOnDrop, RuntimeExt};
use crate::sync::watch::generation;
use crate::sync::{Mutex, RwLock};
use crate::value::Value;
use crate::vista::{CmpOp, Condition, Query, Sort, SortDir};

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

    /// Rows per load and read-ahead (default 100; at least 1, at most
    /// [`MAX_VIEWPORT_ROWS`](super::MAX_VIEWPORT_ROWS)).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.clamp(1, super::MAX_VIEWPORT_ROWS);
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
    /// A local view (no `on_load_chunk`) first lets `on_query` warm its
    /// query, then shows every matching cached row; when a local scenery of
    /// the same query is open on the Dio, the new one attaches to its view
    /// instead (no scan, no new task).
    ///
    /// # Errors
    /// [`Unsupported`](crate::ErrorKind::Unsupported) when a paged view's
    /// query sorts or searches and its master cannot; a cache that cannot
    /// be read (the persisted extent) reports its error. A failing
    /// `total_provider` or `on_query` is not an error: the total is then
    /// found by loading, the rows are what the cache holds.
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while `total_provider` or `on_query` runs, no
    /// view is opened and no task of it is left; a running `on_query`
    /// finishes in its own task and its answer is kept.
    pub async fn open(self) -> Result<TableScenery> {
        let TableSceneryBuilder {
            dio,
            query,
            page_size,
            initial_range,
            retain_rows,
        } = self;
        let policy = dio.policy();
        let defaults = policy.defaults();
        let paged = policy.on_load_chunk().is_some();
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
        if !paged {
            return open_local(&dio, query, page_size, retain_rows).await;
        }
        let keys = PositionKeys::new(&query.key());
        let state = new_state(&dio, query.clone(), page_size, retain_rows, true);
        // Subscribe before reading anything, so no change slips between.
        let events = dio.subscribe_events();
        register_hook(&dio, &state);
        let initial = super::clamp_viewport(initial_range.unwrap_or(0..page_size));

        let mut total_later = false;
        let mut extent = keys.read_extent(&**dio.cache())?.unwrap_or_default();
        match policy.total_provider() {
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
        state.model.write().set_extent(extent);
        state.execute(alloc::vec![Action::Restore {
            epoch: 0,
            range: initial.clone(),
            keys,
            then: None,
        }]);
        state
            .model
            .write()
            .set_initial_pending(defaults.refresh_on_open);

        let tasks = spawn_tasks(&dio, &state, events);
        if total_later {
            state.execute(alloc::vec![Action::AskTotal {
                epoch: 0,
                query: query.clone(),
            }]);
        }
        if defaults.refresh_on_open {
            state.drive(|model| {
                model.handle_commit(ViewportRequest {
                    range: initial.clone(),
                    force: true,
                });
                model.trim(&initial);
            });
        }
        let id = state.scenery_id;
        Ok(TableScenery::attach(
            Arc::new(SharedView { state, tasks }),
            id,
        ))
    }
}

/// A local scenery of `query`: attached to the open view of that query
/// when there is one (no scan, no task: about a handle's cost), else to a
/// new one that `on_query` warmed and the cache filled.
async fn open_local(
    dio: &Dio,
    query: Query,
    page_size: usize,
    retain_rows: Option<usize>,
) -> Result<TableScenery> {
    let key = query.key();
    if let Some(view) = dio.shared_view::<SharedView>(&key) {
        return Ok(TableScenery::attach(view, dio.next_scenery_id()));
    }
    let state = new_state(dio, query, page_size, retain_rows, false);
    let events = dio.subscribe_events();
    register_hook(dio, &state);
    state.reseed_local(dio).await;
    // Another open of the same query may have finished meanwhile: one view.
    if let Some(view) = dio.shared_view::<SharedView>(&key) {
        return Ok(TableScenery::attach(view, dio.next_scenery_id()));
    }
    let tasks = spawn_tasks(dio, &state, events);
    let id = state.scenery_id;
    let view = Arc::new(SharedView { state, tasks });
    dio.share_view(key, &view);
    Ok(TableScenery::attach(view, id))
}

/// The view of `query` for a local scenery leaving the view of `from`:
/// the open one when there is one, else a new view showing `from`'s rows
/// (marked as the old query's) until its re-evaluation in the background.
pub(super) fn local_view_from(dio: &Dio, from: &TableState, query: Query) -> Arc<SharedView> {
    let key = query.key();
    if let Some(view) = dio.shared_view::<SharedView>(&key) {
        return view;
    }
    let config = *from.model.read().config();
    let state = new_state(
        dio,
        query,
        config.page_size,
        Some(config.retain_rows),
        false,
    );
    let events = dio.subscribe_events();
    register_hook(dio, &state);
    // In the old order (a sorted set keeps its own sort) until the
    // re-evaluation replaces it.
    state.model.write().show_until_reseeded(&from.model.read());
    let tasks = spawn_tasks(dio, &state, events);
    state.spawn_reseed();
    let view = Arc::new(SharedView { state, tasks });
    dio.share_view(key, &view);
    view
}

fn new_state(
    dio: &Dio,
    query: Query,
    page_size: usize,
    retain_rows: Option<usize>,
    paged: bool,
) -> Arc<TableState> {
    let (generation_tx, _) = generation();
    let policy = dio.policy();
    let defaults = policy.defaults();
    let config = ModelConfig {
        scenery_id: dio.next_scenery_id(),
        page_size,
        retain_rows: retain_rows.unwrap_or(page_size.saturating_mul(10)),
        paged,
        debounce: defaults.viewport_debounce,
        details: dio.loads_details(),
        total_provider: policy.total_provider().is_some(),
    };
    Arc::new(TableState {
        scenery_id: config.scenery_id,
        dio: dio.downgrade(),
        runtime: dio.runtime().clone(),
        capabilities: dio.master().capabilities(),
        ttl: defaults.cache_ttl,
        model: RwLock::new(TableModel::new(config, query)),
        generation: generation_tx,
        watchers: Mutex::new(Vec::new()),
        wake: Event::new(),
        closed: AtomicBool::new(false),
        load_tasks: Mutex::new(Vec::new()),
    })
}

/// Pending writes and a finished `on_start` reach the view synchronously.
fn register_hook(dio: &Dio, state: &Arc<TableState>) {
    let hook: alloc::sync::Weak<dyn crate::dio::ViewHook> = Arc::downgrade(state) as _;
    dio.register_view(hook);
}

/// The reactor, the viewport loop (paged views: a local one loads nothing)
/// and the TTL sweep of `state`.
fn spawn_tasks(
    dio: &Dio,
    state: &Arc<TableState>,
    events: crate::sync::broadcast::BroadcastReceiver<crate::dio::DioEvent>,
) -> Vec<AbortOnDrop> {
    let runtime = dio.runtime().clone();
    let defaults = dio.policy().defaults();
    let weak = Arc::downgrade(state);
    let mut tasks = Vec::new();
    tasks.push(
        runtime
            .spawn("diorama.table.reactor", reactor::run(weak.clone(), events))
            .abort_on_drop(),
    );
    if state.paged() {
        tasks.push(
            runtime
                .spawn("diorama.table.viewport", viewport::run(weak.clone()))
                .abort_on_drop(),
        );
    }
    if let Some(ttl) = defaults.cache_ttl {
        tasks.push(
            runtime
                .spawn("diorama.table.ttl", reactor::run_ttl(weak, ttl))
                .abort_on_drop(),
        );
    }
    tasks
}
