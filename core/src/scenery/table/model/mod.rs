//! `TableModel`: every decision of one table view, with no I/O, no lock,
//! no clock and no task (the quinn-proto shape, DESIGN.md §6).
//!
//! The model owns the view (rows, extent, shown query), the loads in
//! flight, the query and its position keys, the committed viewport and the
//! request held in the debounce, and uses the pure pieces of
//! `scenery` (planner, extent, sparse and sorted rows, moves, debounce,
//! presenting). It is told what happened through `handle_*` methods, with
//! `now` and whatever was read from the cache passed in, and hands back
//! what to do through [`poll_action`](TableModel::poll_action) (start this
//! load, read these persisted positions, forget the stored order, publish
//! this event, bump the generation, ask for these details or the total) and
//! [`poll_timeout`](TableModel::poll_timeout) (when the held viewport is
//! due). The driver in `table/state.rs` and its tasks only execute those
//! actions and feed the answers back; the model's tests drive it directly.
//!
//! A handler's actions are taken by the caller that made the call (under
//! the same hold of the driver's lock), so each caller executes its own in
//! the order they were asked for.

mod changes;
mod loads;
mod query;
#[cfg(test)]
mod tests;
mod view;

pub(crate) use changes::{Cause, Changed};
pub(crate) use loads::Landing;
pub(crate) use view::View;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use super::super::debounce::{self, Next};
use super::super::positions::PositionKeys;
use super::super::{EnrichedRecord, RowStatus};
use crate::dio::DioEvent;
use crate::runtime::Instant;
use crate::vista::{Id, Query};
use loads::Loads;

/// A viewport change or load request: the range, and whether loaded rows
/// are fetched again too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ViewportRequest {
    pub(crate) range: Range<usize>,
    /// Refetch loaded rows too.
    pub(crate) force: bool,
}

/// When a load that turns shown rows [`Loading`](RowStatus::Loading) repaints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repaint {
    /// At once, so the UI shows the rows being refetched.
    Now,
    /// Only when the chunk lands: a refetch after a wholesale invalidation
    /// repaints once, not every row twice.
    OnLand,
}

/// A load to plan for a visible range, once the rows the cache holds at
/// persisted positions are placed (they are not fetched again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoadPlan {
    pub(crate) visible: Range<usize>,
    /// The viewport moved towards higher indices (or stayed).
    pub(crate) forward: bool,
    pub(crate) force: bool,
    pub(crate) repaint: Repaint,
    /// A viewport commit: with no load, a replaced query's old rows go,
    /// and the visible rows' details are asked for.
    pub(crate) commit: bool,
}

/// What the model asks its driver to do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Read the rows the cache holds at persisted positions of `range` (of
    /// the query of `epoch`) and answer with
    /// [`handle_restored`](TableModel::handle_restored), passing `then` back.
    Restore {
        epoch: u64,
        range: Range<usize>,
        keys: PositionKeys,
        then: Option<LoadPlan>,
    },
    /// Like `Restore`, but only when the cache holds every row of `range`:
    /// answer with [`handle_restored_replacing`](TableModel::handle_restored_replacing).
    RestoreReplacing {
        epoch: u64,
        range: Range<usize>,
        keys: PositionKeys,
    },
    /// Run the chunk callback for load `id` over `range` of `query`; its
    /// rows go to [`handle_chunk_row`](TableModel::handle_chunk_row), its
    /// end to [`handle_chunk_returned`](TableModel::handle_chunk_returned).
    Load {
        id: u64,
        range: Range<usize>,
        query: Query,
    },
    /// The stored positions of the query are an old order now: delete them.
    ForgetPositions { keys: PositionKeys },
    /// Ask the total provider for `query`'s total; answer with
    /// [`handle_total`](TableModel::handle_total).
    AskTotal { epoch: u64, query: Query },
    /// Ask the Dio for the details of these incomplete rows.
    RequestDetails { ids: Vec<Id> },
    /// Publish this event on the Dio's bus.
    Publish(DioEvent),
    /// Something visible changed: bump the generation.
    Bump,
}

/// How the view is configured (fixed for its life).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModelConfig {
    pub(crate) scenery_id: u64,
    pub(crate) page_size: usize,
    pub(crate) retain_rows: usize,
    /// Paged (an `on_load_chunk`) or local.
    pub(crate) paged: bool,
    pub(crate) debounce: Duration,
    /// The Dio loads details (`on_load_detail`).
    pub(crate) details: bool,
    /// The Dio has a total provider.
    pub(crate) total_provider: bool,
}

/// Counters of the view's activity.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) chunk_loads: u64,
    pub(crate) chunk_failures: u64,
    pub(crate) cache_hits: u64,
    pub(crate) rows_loaded: u64,
}

/// The request held in the debounce, and when the last one of its burst came.
#[derive(Clone, Debug)]
struct Held {
    request: ViewportRequest,
    since: Instant,
}

/// Every decision of one table view (see the module docs).
#[derive(Debug)]
pub(crate) struct TableModel {
    config: ModelConfig,
    view: View,
    query: Query,
    keys: PositionKeys,
    /// Bumped when the query changes; loads of older epochs are void.
    epoch: u64,
    loads: Loads,
    committed: Option<Range<usize>>,
    /// The range of the last viewport asked for, committed or not: what
    /// the UI wants to see now, even while the debounce holds it.
    requested: Option<Range<usize>>,
    held: Option<Held>,
    /// Bumped each time a row event changes what is known of the set's
    /// size (a row entered or left): a chunk out meanwhile counted the set
    /// before that change.
    count_changes: u64,
    counters: Counters,
    actions: VecDeque<Action>,
}

impl TableModel {
    /// A model of `query`, nothing loaded yet.
    pub(crate) fn new(config: ModelConfig, query: Query) -> Self {
        TableModel {
            config,
            view: View {
                initial_pending: true,
                shown_query: query.clone(),
                ..View::default()
            },
            keys: PositionKeys::new(&query.key()),
            query,
            epoch: 0,
            loads: Loads::default(),
            committed: None,
            requested: None,
            held: None,
            count_changes: 0,
            counters: Counters::default(),
            actions: VecDeque::new(),
        }
    }

    /// The next thing to do, in the order the handlers asked for them.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Every action asked for so far.
    pub(crate) fn take_actions(&mut self) -> Vec<Action> {
        core::iter::from_fn(|| self.poll_action()).collect()
    }

    /// When the viewport held in the debounce is due (call
    /// [`handle_timeout`](Self::handle_timeout) then); `None` when none is held.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.held
            .as_ref()
            .map(|held| held.since + self.config.debounce)
    }

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn bump(&mut self) {
        if !matches!(self.actions.back(), Some(Action::Bump)) {
            self.push(Action::Bump);
        }
    }

    fn publish(&mut self, event: DioEvent) {
        self.push(Action::Publish(event));
    }

    // Reads.

    pub(crate) fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// What readers see.
    pub(crate) fn view(&self) -> &View {
        &self.view
    }

    /// The current query (the last one set).
    pub(crate) fn query(&self) -> &Query {
        &self.query
    }

    /// The last committed viewport.
    pub(crate) fn committed(&self) -> Option<Range<usize>> {
        self.committed.clone()
    }

    pub(crate) fn counters(&self) -> Counters {
        self.counters
    }

    pub(crate) fn loads_in_flight(&self) -> usize {
        self.loads.active.len()
    }

    // Viewports.

    /// The UI asked to see `range` at `now` (`force`: refetch loaded rows
    /// too). Held until the debounce passes with no newer request; the
    /// newest wins and a forced request keeps the burst forced.
    pub(crate) fn handle_viewport(&mut self, range: Range<usize>, force: bool, now: Instant) {
        self.requested = Some(range.clone());
        let force = force || self.held.as_ref().is_some_and(|held| held.request.force);
        self.held = Some(Held {
            request: ViewportRequest { range, force },
            since: now,
        });
    }

    /// Commit the held viewport if its debounce has passed at `now`;
    /// returns the committed range (the driver trims around it once the
    /// load it started has reached its callback).
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<Range<usize>> {
        let held = self.held.as_ref()?;
        if let Next::Wait(_) = debounce::next(self.config.debounce, held.since, now) {
            return None;
        }
        let request = self.held.take()?.request;
        let range = request.range.clone();
        self.handle_commit(request);
        Some(range)
    }

    /// Commit `request` now (no debounce): announce it and load what it needs.
    pub(crate) fn handle_commit(&mut self, request: ViewportRequest) {
        let ViewportRequest { range, force } = request;
        let forward = self
            .committed
            .as_ref()
            .is_none_or(|previous| range.start >= previous.start);
        self.committed = Some(range.clone());
        self.publish(DioEvent::ViewportChanged {
            scenery: self.config.scenery_id,
            range: range.clone(),
        });
        // A local view loads nothing (`load_for` says so).
        self.load_for(LoadPlan {
            visible: range,
            forward,
            force,
            repaint: Repaint::Now,
            commit: true,
        });
    }

    /// Drop the rows far from the committed `range`, so memory stays
    /// proportional to the viewport.
    pub(crate) fn trim(&mut self, range: &Range<usize>) {
        if self.config.paged {
            let keep = range.start.saturating_sub(self.config.retain_rows)
                ..range.end.saturating_add(self.config.retain_rows);
            self.view.rows.retain_pages(keep);
        }
    }

    /// Load the next page after the highest loaded index.
    pub(crate) fn handle_load_more(&mut self, now: Instant) {
        if !self.config.paged {
            return;
        }
        let start = self.view.end();
        let range = start..start.saturating_add(self.config.page_size);
        self.handle_viewport(range, true, now);
    }

    /// Refetch the committed viewport (or the first page).
    pub(crate) fn handle_refresh(&mut self, now: Instant) {
        let range = self.committed.clone().unwrap_or(0..self.config.page_size);
        self.handle_viewport(range, true, now);
    }

    /// A non-blocking `on_start` finished: the cache may hold rows at
    /// persisted positions of the viewport now.
    pub(crate) fn handle_started(&mut self) {
        let visible = self.committed.clone().unwrap_or(0..self.config.page_size);
        self.push(Action::Restore {
            epoch: self.epoch,
            range: visible,
            keys: self.keys.clone(),
            then: None,
        });
    }

    /// Ask for the details of the incomplete rows of the committed
    /// viewport; failed ones too when `retry_failed` (a viewport reached
    /// them again, as opposed to a chunk landing).
    fn hydrate_visible(&mut self, retry_failed: bool) {
        if !self.config.details {
            return;
        }
        let Some(range) = self.committed.clone() else {
            return;
        };
        let ids: Vec<Id> = self
            .view
            .rows
            .range(range)
            .filter(|(_, row)| match row.status {
                RowStatus::Incomplete => true,
                RowStatus::DetailFailed { .. } => retry_failed,
                _ => false,
            })
            .map(|(_, row)| row.id.clone())
            .collect();
        if !ids.is_empty() {
            self.push(Action::RequestDetails { ids });
        }
    }

    /// Set the extent read from the cache at open.
    pub(crate) fn set_extent(&mut self, extent: super::super::extent::Extent) {
        self.view.extent = extent;
    }

    /// Whether the first load is still to come (a UI shows `Loading`).
    pub(crate) fn set_initial_pending(&mut self, pending: bool) {
        self.view.initial_pending = pending;
    }

    /// Rows placed from what the cache held are counted as cache hits.
    fn count_hits(&mut self, placed: usize) {
        self.counters.cache_hits += placed as u64;
    }
}

/// Rows at their indices, as the view shows them (read by the driver from
/// persisted positions).
pub(crate) type PlacedRows = Vec<(usize, Arc<EnrichedRecord>)>;
