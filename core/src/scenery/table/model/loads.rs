//! Chunk loads in the model: planning a viewport (rows the cache holds at
//! persisted positions first), registering a load, taking its rows,
//! landing or rolling it back.
//!
//! A stale row shown inside a load in flight reads [`RowStatus::Loading`]:
//! its old value, with a new one on the way. It turns `Fresh` when the chunk
//! delivers it, and back to `Stale` when the load ends without it (failed,
//! short, or no longer wanted).

use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use super::super::super::extent::Extent;
use super::super::super::planner::{PlanInput, RowsState, plan};
use super::super::super::positions::PositionKeys;
use super::super::super::{EnrichedRecord, RowStatus};
use super::view::{View, with_status};
use super::{Action, LoadPlan, PlacedRows, Repaint, TableModel};
use crate::dio::DioEvent;
use crate::error::{Error, ErrorKind, Result};
use crate::vista::{Id, Query};

/// The most rows a load reserves room for up front (a chunk of the default
/// page sizes fits; a longer one grows as usual).
const STAGED_RESERVE: usize = 4096;

/// One row delivered by a chunk, with what it replaced (for rollback).
#[derive(Debug)]
pub(crate) struct Staged {
    pub(crate) index: usize,
    pub(crate) row: Arc<EnrichedRecord>,
    /// `Some(previous)` when the row was placed at once; `None` when it waits
    /// for the chunk to land (query change).
    placed: Option<Option<Arc<EnrichedRecord>>>,
}

/// A chunk load in flight (registered), or returned and on its way to the
/// cache (taken by [`TableModel::handle_chunk_returned`]).
#[derive(Debug)]
pub(crate) struct Load {
    pub(crate) id: u64,
    epoch: u64,
    pub(crate) range: Range<usize>,
    pub(crate) staged: Vec<Staged>,
    stated_total: Option<usize>,
    /// The model's `count_changes` when the load started.
    count_changes: u64,
}

impl Load {
    /// Highest index delivered plus one.
    fn served_end(&self) -> Option<usize> {
        self.staged.iter().map(|staged| staged.index + 1).max()
    }
}

/// The loads registered: their ranges count as in flight for the planner
/// until they have landed.
#[derive(Debug, Default)]
pub(crate) struct Loads {
    next_id: u64,
    pub(crate) active: Vec<Load>,
}

/// A returned chunk for the driver to store: its rows, at their indices,
/// and the extent with the chunk counted, under the query's position keys.
#[derive(Debug)]
pub(crate) struct Landing {
    pub(crate) load: Load,
    pub(crate) keys: PositionKeys,
    pub(crate) query: Query,
    pub(crate) extent: Extent,
}

/// Rows state seen by the planner: loads of the current epoch and the view.
struct PlannerView<'a> {
    loads: &'a Loads,
    view: &'a View,
    epoch: u64,
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

impl TableModel {
    /// Load what `plan.visible` needs: first the rows the cache holds at
    /// persisted positions (an [`Action::Restore`] whose answer continues
    /// here), then a chunk for what is still missing or stale.
    pub(super) fn load_for(&mut self, plan: LoadPlan) {
        if !self.config.paged {
            return;
        }
        let planned = (!plan.force)
            .then(|| self.plan(&plan.visible, plan.forward, false))
            .flatten();
        match planned {
            Some(range) => self.push(Action::Restore {
                epoch: self.epoch,
                range,
                keys: self.keys.clone(),
                then: Some(plan),
            }),
            None => self.continue_load(plan, false),
        }
    }

    /// The rows the cache held at persisted positions of the query of
    /// `epoch` (read for an [`Action::Restore`]); loaded rows are kept.
    /// Continues the load `then` was planning.
    pub(crate) fn handle_restored(&mut self, epoch: u64, rows: PlacedRows, then: Option<LoadPlan>) {
        let mut placed = 0;
        if epoch == self.epoch {
            for (index, row) in rows {
                if self.view.rows.get(index).is_none() && self.view.rows.index_of(&row.id).is_none()
                {
                    self.view.rows.set(index, row);
                    placed += 1;
                }
            }
            self.count_hits(placed);
        }
        match then {
            Some(plan) => self.continue_load(plan, placed > 0),
            None if placed > 0 => self.bump(),
            None => {}
        }
    }

    fn continue_load(&mut self, plan: LoadPlan, restored: bool) {
        let (loading, marked) = self.start_load(&plan.visible, plan.forward, plan.force);
        if restored || (marked && plan.repaint == Repaint::Now) {
            self.bump();
        }
        if plan.commit {
            if loading.is_none() {
                self.drop_replaced_rows();
            }
            self.hydrate_visible(true);
        }
    }

    /// The planner's range for `visible` given the loads in flight.
    fn plan(&self, visible: &Range<usize>, forward: bool, force: bool) -> Option<Range<usize>> {
        let input = PlanInput {
            visible: self
                .view
                .extent
                .reachable(visible.clone(), self.config.page_size),
            forward,
            page_size: self.config.page_size,
            end: self.view.extent.load_limit(),
            force,
        };
        plan(
            &input,
            &PlannerView {
                loads: &self.loads,
                view: &self.view,
                epoch: self.epoch,
            },
        )
    }

    /// Plan the load for `visible` and register it — planning and
    /// registering are one step, so two committers (a viewport change and
    /// a chunk landing) never both see a window free and both load it —
    /// then mark the stale rows it covers `Loading` and ask for it.
    /// Returns the range and whether rows were marked.
    pub(super) fn start_load(
        &mut self,
        visible: &Range<usize>,
        forward: bool,
        force: bool,
    ) -> (Option<Range<usize>>, bool) {
        let Some(range) = self.plan(visible, forward, force) else {
            return (None, false);
        };
        self.loads.next_id += 1;
        let id = self.loads.next_id;
        self.loads.active.push(Load {
            id,
            epoch: self.epoch,
            range: range.clone(),
            // Room for the whole chunk: no regrowth while rows arrive.
            staged: Vec::with_capacity(range.len().min(STAGED_RESERVE)),
            stated_total: None,
            count_changes: self.count_changes,
        });
        let marked = !self.view.replace_on_land
            && self.view.restate_range(
                range.clone(),
                &RowStatus::Stale,
                RowStatus::Loading,
                |_| true,
            );
        self.push(Action::Load {
            id,
            range: range.clone(),
            query: self.query.clone(),
        });
        (Some(range), marked)
    }

    /// After a query change whose viewport needs no load (it lies past the
    /// new end, or the cache covered it), the old query's rows must not stay:
    /// drop them unless a load of the new query is still on its way.
    fn drop_replaced_rows(&mut self) {
        if !self.view.replace_on_land
            || self
                .loads
                .active
                .iter()
                .any(|load| load.epoch == self.epoch)
        {
            return;
        }
        self.view.replace_on_land = false;
        self.view.rows.clear();
        self.view.shown_query = self.query.clone();
        self.bump();
    }

    /// Rows of `range` still `Loading` that no load of the current query
    /// covers any more go back to `Stale`: their refetch ended without a
    /// new value. Returns whether any did.
    fn unmark_loading(&mut self, range: &Range<usize>) -> bool {
        let (loads, epoch) = (&self.loads, self.epoch);
        let covered = |index: usize| {
            loads
                .active
                .iter()
                .any(|load| load.epoch == epoch && load.range.contains(&index))
        };
        self.view
            .restate_range(range.clone(), &RowStatus::Loading, RowStatus::Stale, |i| {
                !covered(i)
            })
    }

    /// Row `id` of load `load_id`, at `index`, as the view shows it. After a
    /// query change old rows stay visible until the chunk lands.
    ///
    /// # Errors
    /// `Cancelled` when the load is no longer wanted (the query changed or
    /// it ended); `InvalidInput` when `index` is outside its range.
    pub(crate) fn handle_chunk_row(
        &mut self,
        load_id: u64,
        index: usize,
        row: Arc<EnrichedRecord>,
    ) -> Result<()> {
        let epoch = self.epoch;
        let load = self
            .loads
            .active
            .iter_mut()
            .find(|load| load.id == load_id && load.epoch == epoch)
            .ok_or_else(no_longer_wanted)?;
        if !load.range.contains(&index) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                alloc::format!(
                    "row index {index} is outside this chunk load's range {:?}",
                    load.range
                ),
            ));
        }
        self.view.places.remove(&row.id);
        let placed = (!self.view.replace_on_land).then(|| self.view.rows.set(index, row.clone()));
        load.staged.push(Staged { index, row, placed });
        Ok(())
    }

    /// Load `load_id` stated the set's total.
    ///
    /// # Errors
    /// `Cancelled` when the load is no longer wanted.
    pub(crate) fn handle_chunk_total(&mut self, load_id: u64, total: usize) -> Result<()> {
        let load = self
            .loads
            .active
            .iter_mut()
            .find(|load| load.id == load_id)
            .ok_or_else(no_longer_wanted)?;
        load.stated_total = Some(total);
        Ok(())
    }

    /// Load `load_id`'s callback returned `outcome`. A chunk of the current
    /// query that loaded is handed back to be stored (its range stays in
    /// flight until [`handle_chunk_stored`](Self::handle_chunk_stored)); a
    /// failed one is rolled back; one of an older query only ends.
    pub(crate) fn handle_chunk_returned(
        &mut self,
        load_id: u64,
        outcome: Result<()>,
    ) -> Option<Landing> {
        let load = self
            .loads
            .active
            .iter_mut()
            .find(|load| load.id == load_id)?;
        let taken = Load {
            staged: core::mem::take(&mut load.staged),
            range: load.range.clone(),
            ..*load
        };
        if taken.epoch != self.epoch {
            // The query changed meanwhile: this chunk belongs to no view.
            self.end_void(taken);
            return None;
        }
        match outcome {
            Ok(()) => {
                let mut extent = self.view.extent;
                if let Some(total) = taken.stated_total {
                    extent.state_total(total);
                }
                extent.on_chunk(&taken.range, taken.served_end());
                Some(Landing {
                    load: taken,
                    keys: self.keys.clone(),
                    query: self.query.clone(),
                    extent,
                })
            }
            Err(error) => {
                self.unregister(load_id);
                self.roll_back(taken, error);
                None
            }
        }
    }

    /// A returned chunk was stored (`Ok`: the rows that changed while it
    /// was on its way, which keep the cache's newer value and read `Stale`
    /// until read again) or not (`Err`: rolled back). `missed`: a row the
    /// chunk did not bring started matching the query meanwhile, so the
    /// window and its total may predate it: what is shown is read again —
    /// as it is when a row event changed the set's size meanwhile (an
    /// insert counted while the chunk counted the set without it).
    pub(crate) fn handle_chunk_stored(
        &mut self,
        load: Load,
        stored: Result<BTreeSet<Id>>,
        missed: bool,
    ) {
        self.unregister(load.id);
        if load.epoch != self.epoch {
            self.end_void(load);
            return;
        }
        match stored {
            Ok(raced) => {
                // A row entered or left the set while the chunk was out:
                // its total (or its short page's end) predates that.
                let counted_before = load.count_changes != self.count_changes;
                self.land(load, raced);
                if missed || counted_before {
                    self.revalidate();
                }
            }
            Err(error) => self.roll_back(load, error),
        }
    }

    fn unregister(&mut self, load_id: u64) {
        self.loads.active.retain(|load| load.id != load_id);
    }

    /// A load of an older query ended: it shows nothing.
    fn end_void(&mut self, load: Load) {
        self.unregister(load.id);
        if self.unmark_loading(&load.range) {
            self.bump();
        }
    }

    /// Show the landed chunk. Rows in `raced` changed while it was on the
    /// way: they read `Stale` until the scenery has read them again.
    fn land(&mut self, load: Load, raced: BTreeSet<Id>) {
        let served = load.staged.len();
        let served_end = load.served_end();
        let served_end_reached = served_end.is_some_and(|end| end >= load.range.end);
        let view = &mut self.view;
        if let Some(total) = load.stated_total {
            view.extent.state_total(total);
        }
        view.extent.on_chunk(&load.range, served_end);
        if view.replace_on_land {
            view.rows.clear();
            view.places.clear();
            view.replace_on_land = false;
            view.shown_query = self.query.clone();
        }
        for staged in load.staged {
            let ours = view
                .rows
                .get(staged.index)
                .is_none_or(|row| Arc::ptr_eq(row, &staged.row));
            if raced.contains(&staged.row.id) {
                if ours {
                    view.rows
                        .set(staged.index, with_status(&staged.row, RowStatus::Stale));
                }
            } else if staged.placed.is_none() || view.rows.get(staged.index).is_none() {
                view.rows.set(staged.index, staged.row);
            }
        }
        view.drop_beyond_limit();
        view.initial_pending = false;
        // Rows the chunk did not deliver are not being loaded any more.
        self.unmark_loading(&load.range);
        self.counters.chunk_loads += 1;
        self.counters.rows_loaded += served as u64;
        self.bump();
        self.publish(DioEvent::RangeLoaded {
            scenery: self.config.scenery_id,
            range: load.range,
        });
        // Read again what changed under the load (the changes' own events
        // may have come before the rows were shown).
        for id in raced {
            self.publish(DioEvent::RecordChanged { id });
        }
        // Rows of the viewport left out because another load was in flight,
        // or the next probe towards the end. Not after a short page: what
        // it left out is not there now, and asking again at once would
        // repeat the same answer.
        let chain = served_end_reached
            || (self.view.extent.bound.is_some() && self.view.extent.limit().is_none());
        self.hydrate_visible(false);
        if chain {
            self.reload_viewport(Repaint::Now);
        }
    }

    /// Load what the committed viewport lacks (rows still fresh stay).
    pub(super) fn reload_viewport(&mut self, repaint: Repaint) {
        if let Some(visible) = self.committed.clone() {
            self.load_for(LoadPlan {
                visible,
                forward: true,
                force: false,
                repaint,
                commit: false,
            });
        }
    }

    /// A failed chunk changes nothing: rows it placed are put back, and the
    /// stale rows it was refetching read `Stale` again (a repaint only then).
    fn roll_back(&mut self, load: Load, error: Error) {
        let range = load.range.clone();
        let view = &mut self.view;
        for staged in load.staged.into_iter().rev() {
            let Some(previous) = staged.placed else {
                continue;
            };
            let ours = view
                .rows
                .get(staged.index)
                .is_some_and(|row| Arc::ptr_eq(row, &staged.row));
            if !ours {
                continue;
            }
            match previous {
                Some(previous) => {
                    view.rows.set(staged.index, previous);
                }
                None => {
                    view.rows.take(staged.index);
                }
            }
        }
        view.initial_pending = false;
        if self.unmark_loading(&range) {
            self.bump();
        }
        self.counters.chunk_failures += 1;
        self.publish(DioEvent::LoadFailed {
            scenery: self.config.scenery_id,
            range,
            error,
        });
    }
}

fn no_longer_wanted() -> Error {
    Error::new(ErrorKind::Cancelled, "this chunk load is no longer wanted")
}
