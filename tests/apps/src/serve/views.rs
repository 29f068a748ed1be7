//! `GET /products` through the chunk path: one paged table scenery per
//! (sort, search) query, kept in a small LRU, whose viewport is moved to
//! the page asked for.
//!
//! A page is answered once the scenery shows every row of it: rows the
//! cache holds at persisted positions are placed without a master call,
//! the rest (and stale rows) arrive through `on_load_chunk`. Requests on
//! one query take turns, since a scenery has one viewport.

use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diorama_core::dio::DioEvent;
use diorama_core::scenery::{EnrichedRecord, TableStats};
use diorama_core::sync::broadcast::RecvError;
use diorama_core::vista::SortDir;
use diorama_core::{Dio, TableScenery};

use super::error::ApiError;
use super::params::ListParams;

/// Which query a scenery shows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ViewKey {
    sort: Option<(String, SortDir)>,
    q: Option<String>,
}

/// One query's scenery and the turn its requests take.
#[derive(Debug)]
struct View {
    scenery: TableScenery,
    turn: tokio::sync::Mutex<()>,
}

/// The rows of one page and the total of its query.
#[derive(Debug)]
pub(crate) struct PageRows {
    /// The query's row count, when known.
    pub(crate) total: Option<usize>,
    /// The rows of the page that exist (fewer than asked at the end).
    pub(crate) rows: Vec<Arc<EnrichedRecord>>,
}

/// The sceneries of recent queries, least recently used first.
///
/// A hand-written LRU: a few dozen entries scanned linearly cost less than
/// a dependency, and eviction only drops a scenery (its rows and positions
/// stay in the cache).
#[derive(Debug)]
pub(crate) struct Views {
    capacity: usize,
    entries: Mutex<Vec<(ViewKey, Arc<View>)>>,
}

/// Totals of the sceneries' counters, for `GET /stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ViewTotals {
    pub(crate) views: usize,
    pub(crate) chunk_loads: u64,
    pub(crate) chunk_failures: u64,
    pub(crate) cache_hits: u64,
    pub(crate) rows_loaded: u64,
    pub(crate) loads_in_flight: usize,
}

impl Views {
    pub(crate) fn new(capacity: usize) -> Self {
        Views {
            capacity: capacity.max(1),
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The rows `offset..offset + limit` of the query of `params`, waiting
    /// at most `timeout` for them to load, and whether they were all there
    /// at once (served from the cache).
    ///
    /// A request that gives up (its timeout, or the client gone) while the
    /// scenery still loads takes the scenery out of the kept ones: once no
    /// other request uses it, it drops, and with it the chunk load and the
    /// master call in flight (SQLite's read is interrupted).
    ///
    /// Errors: the chunk load's error (502 for a master failure), 504 when
    /// the rows did not arrive in time, the scenery's refusal (a sort or
    /// search the master cannot do).
    pub(crate) async fn page(
        &self,
        dio: &Dio,
        params: &ListParams,
        page_size: usize,
        timeout: Duration,
    ) -> Result<(PageRows, bool), ApiError> {
        let key = ViewKey {
            sort: params.sort.clone(),
            q: params.q.clone(),
        };
        let range = params.offset..params.offset.saturating_add(params.limit);
        let view = self
            .view(dio, key.clone(), range.clone(), page_size)
            .await?;
        let _turn = view.turn.lock().await;
        let mut abandon = AbandonOnDrop {
            views: self,
            key: &key,
            view: &view,
            armed: true,
        };
        let result = wait_for_rows(dio, &view.scenery, range, timeout).await;
        let timed_out =
            matches!(&result, Err(e) if e.status == axum::http::StatusCode::GATEWAY_TIMEOUT);
        abandon.armed = timed_out;
        result
    }

    /// Kept sceneries.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Stop keeping `view` (the scenery of `key`) if it is still kept and
    /// loading.
    fn abandon(&self, key: &ViewKey, view: &Arc<View>) {
        if view.scenery.stats().loads_in_flight == 0 {
            return;
        }
        let mut entries = self.lock();
        if let Some(at) = entries
            .iter()
            .position(|(k, v)| k == key && Arc::ptr_eq(v, view))
        {
            entries.remove(at);
        }
    }

    /// The scenery of `key`, opened on a miss (evicting the least recently
    /// used one beyond capacity).
    async fn view(
        &self,
        dio: &Dio,
        key: ViewKey,
        initial: Range<usize>,
        page_size: usize,
    ) -> Result<Arc<View>, ApiError> {
        if let Some(view) = self.touch(&key) {
            return Ok(view);
        }
        let mut builder = dio
            .table_scenery()
            .page_size(page_size)
            .initial_range(initial);
        if let Some((column, dir)) = &key.sort {
            builder = builder.sort(column.clone(), *dir);
        }
        if let Some(q) = &key.q {
            builder = builder.search(q.clone());
        }
        let opened = Arc::new(View {
            scenery: builder.open().await?,
            turn: tokio::sync::Mutex::new(()),
        });
        let mut entries = self.lock();
        // Another request may have opened the same query meanwhile: keep one.
        if let Some(at) = entries.iter().position(|(k, _)| *k == key) {
            let entry = entries.remove(at);
            let view = entry.1.clone();
            entries.push(entry);
            return Ok(view);
        }
        entries.push((key, opened.clone()));
        if entries.len() > self.capacity {
            entries.remove(0);
        }
        Ok(opened)
    }

    /// The view of `key`, marked most recently used.
    fn touch(&self, key: &ViewKey) -> Option<Arc<View>> {
        let mut entries = self.lock();
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at);
        let view = entry.1.clone();
        entries.push(entry);
        Some(view)
    }

    /// The sceneries' counters added up.
    pub(crate) fn totals(&self) -> ViewTotals {
        let entries = self.lock();
        let mut totals = ViewTotals {
            views: entries.len(),
            ..ViewTotals::default()
        };
        for (_, view) in entries.iter() {
            let stats = view.scenery.stats();
            totals.chunk_loads += stats.chunk_loads;
            totals.chunk_failures += stats.chunk_failures;
            totals.cache_hits += stats.cache_hits;
            totals.rows_loaded += stats.rows_loaded;
            totals.loads_in_flight += stats.loads_in_flight;
        }
        totals
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(ViewKey, Arc<View>)>> {
        // The list stays consistent even if a holder panicked: every
        // mutation is a single push or remove.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Abandons a request's view when dropped armed: the request timed out or
/// its future was dropped (the client went away) before the rows came.
struct AbandonOnDrop<'a> {
    views: &'a Views,
    key: &'a ViewKey,
    view: &'a Arc<View>,
    armed: bool,
}

impl Drop for AbandonOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.views.abandon(self.key, self.view);
        }
    }
}

/// Move `scenery`'s viewport to `range` and wait until it shows every row
/// of `range` that exists, and say whether it did at once.
///
/// Woken by the scenery's generation (rows landed) and by the Dio's events
/// (the viewport was committed; a load failed). A failed load of rows in
/// `range` ends the wait with its error: the scenery does not retry it
/// until its viewport moves again.
async fn wait_for_rows(
    dio: &Dio,
    scenery: &TableScenery,
    range: Range<usize>,
    timeout: Duration,
) -> Result<(PageRows, bool), ApiError> {
    let deadline = tokio::time::Instant::now() + timeout;
    // Both subscribed before the viewport moves, so nothing slips between.
    let mut events = dio.subscribe_events();
    let mut generation = scenery.subscribe();
    // Loads of this scenery are this request's: requests on one query
    // take turns. None means the cache held the page.
    let loads = |stats: TableStats| stats.chunk_loads + stats.chunk_failures;
    let loads_before = loads(scenery.stats());
    scenery.set_viewport(range.clone());
    let mut loaded = false;
    loop {
        generation.mark_seen();
        if let Some(page) = ready(scenery, &range) {
            let from_cache = !loaded && loads(scenery.stats()) == loads_before;
            return Ok((page, from_cache));
        }
        loaded |= scenery.stats().loads_in_flight > 0;
        tokio::select! {
            changed = generation.changed() => {
                if changed.is_err() {
                    return Err(gone());
                }
            }
            event = events.recv() => match event {
                Ok(DioEvent::LoadFailed { scenery: id, range: failed, error })
                    if id == scenery.id() && overlaps(&failed, &range) =>
                {
                    return Err(ApiError::from(error));
                }
                Err(RecvError::Closed) => return Err(gone()),
                // Anything else (a commit, a write, a missed event) is a
                // reason to look again.
                _ => {}
            },
            () = tokio::time::sleep_until(deadline) => {
                return Err(ApiError::timeout(format!(
                    "rows {}..{} did not load within {} ms",
                    range.start,
                    range.end,
                    timeout.as_millis()
                )));
            }
        }
    }
}

/// The page, when the viewport `range` is committed, no load is in flight
/// and every row of `range` inside the set is shown.
fn ready(scenery: &TableScenery, range: &Range<usize>) -> Option<PageRows> {
    if scenery.viewport().as_ref() != Some(range) || scenery.stats().loads_in_flight > 0 {
        return None;
    }
    let end = if scenery.has_more() {
        range.end
    } else {
        range.end.min(scenery.row_count())
    };
    let start = range.start.min(end);
    let rows = scenery
        .rows(start..end)
        .into_iter()
        .collect::<Option<Vec<_>>>()?;
    Some(PageRows {
        total: scenery.estimated_total(),
        rows,
    })
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

fn gone() -> ApiError {
    ApiError::from_diorama(&diorama_core::Error::new(
        diorama_core::ErrorKind::ShuttingDown,
        "the service is shutting down",
    ))
}
