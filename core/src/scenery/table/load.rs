//! Chunk loads: planning a committed viewport, restoring rows from persisted
//! positions, running `on_load_chunk`, and landing or rolling back a chunk.
//!
//! A stale row shown inside a load in flight reads [`RowStatus::Loading`]:
//! its old value, with a new one on the way. It turns `Fresh` when the chunk
//! delivers it, and back to `Stale` when the load ends without it (failed,
//! short, or no longer wanted).

use alloc::collections::BTreeSet;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::Ordering;

use super::super::planner::{PlanInput, plan};
use super::super::{EnrichedRecord, RowStatus};
use super::state::{Load, Loads, PlannerView, Staged, TableState};
use crate::cache::CacheBatch;
use crate::dio::stamps::{Changed, ReadStamp};
use crate::dio::{ChunkSink, ChunkTarget, DioEvent};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeExt;
use crate::value::Record;
use crate::vista::Id;

/// The most rows a load reserves room for up front (a chunk of the default
/// page sizes fits; a longer one grows as usual).
const STAGED_RESERVE: usize = 4096;

/// When a load that turns shown rows [`Loading`](RowStatus::Loading) repaints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repaint {
    /// At once, so the UI shows the rows being refetched.
    Now,
    /// Only when the chunk lands: a refetch after a wholesale invalidation
    /// repaints once, not every row twice.
    OnLand,
}

impl TableState {
    /// Plan the load for `visible`, first serving what the cache already
    /// holds at persisted positions, and start it. Returns the range loaded.
    pub(crate) fn load_for(
        self: &Arc<Self>,
        visible: Range<usize>,
        forward: bool,
        force: bool,
        repaint: Repaint,
    ) -> Option<Range<usize>> {
        if !self.paged {
            return None;
        }
        // Rows the cache holds at persisted positions are served first and
        // not fetched again: only what is still missing (or stale) is.
        let planned = (!force)
            .then(|| self.plan(&self.loads.lock(), &visible, forward, false))
            .flatten();
        let restored = planned.is_some_and(|planned| self.restore(planned) > 0);
        let (loading, marked) = self.start_load(&visible, forward, force);
        if restored || (marked && repaint == Repaint::Now) {
            self.bump();
        }
        loading
    }

    /// The planner's range for `visible` given the loads in flight (the
    /// caller holds the `loads` lock).
    fn plan(
        &self,
        loads: &Loads,
        visible: &Range<usize>,
        forward: bool,
        force: bool,
    ) -> Option<Range<usize>> {
        let view = self.view.read();
        let input = PlanInput {
            visible: view.extent.reachable(visible.clone(), self.page_size),
            forward,
            page_size: self.page_size,
            end: view.extent.load_limit(),
            force,
        };
        plan(
            &input,
            &PlannerView {
                loads,
                view: &view,
                epoch: self.current_epoch(),
            },
        )
    }

    /// Place rows of `range` found at persisted positions of the current
    /// query (reading O(range) meta entries and rows). Loaded rows are kept.
    /// Returns how many rows were placed.
    pub(crate) fn restore(&self, range: Range<usize>) -> usize {
        let Some(dio) = self.dio() else { return 0 };
        let keys = self.query.lock().keys.clone();
        let cache = dio.cache();
        let Ok(positions) = keys.read(&**cache, range) else {
            return 0;
        };
        let ids: Vec<&str> = positions.iter().map(|(_, id)| id.as_str()).collect();
        let Ok(cached) = cache.get_many(&ids) else {
            return 0;
        };
        let rows: Vec<(usize, Arc<_>)> = positions
            .iter()
            .zip(cached)
            .filter_map(|((index, id), row)| {
                Some((*index, self.build_row(Some(&dio), id, Some(row?), None)?))
            })
            .collect();
        let mut view = self.view.write();
        let mut placed = 0;
        for (index, row) in rows {
            if view.rows.get(index).is_none() && view.rows.index_of(&row.id).is_none() {
                view.rows.set(index, row);
                placed += 1;
            }
        }
        self.counters
            .cache_hits
            .fetch_add(placed as u64, Ordering::Relaxed);
        placed
    }

    /// Plan the load for `visible` and register it in one hold of the
    /// `loads` lock — two committers (a viewport change and a chunk
    /// landing) never both see a window free and both load it — then mark
    /// the stale rows it covers `Loading` and spawn it. Returns the range
    /// and whether rows were marked.
    fn start_load(
        self: &Arc<Self>,
        visible: &Range<usize>,
        forward: bool,
        force: bool,
    ) -> (Option<Range<usize>>, bool) {
        let Some(dio) = self.dio() else {
            return (None, false);
        };
        if dio.policy().on_load_chunk().is_none() {
            return (None, false);
        }
        let epoch = self.current_epoch();
        let (id, range, marked) = {
            let mut loads = self.loads.lock();
            let Some(range) = self.plan(&loads, visible, forward, force) else {
                return (None, false);
            };
            loads.next_id += 1;
            let id = loads.next_id;
            loads.active.push(Load {
                id,
                epoch,
                range: range.clone(),
                // Room for the whole chunk: no regrowth while rows arrive.
                staged: Vec::with_capacity(range.len().min(STAGED_RESERVE)),
                stated_total: None,
            });
            let marked = self.mark_loading(&range);
            (id, range, marked)
        };
        let query = self.query.lock().query.clone();
        let target: Weak<dyn ChunkTarget> = Arc::downgrade(&(self.clone() as Arc<dyn ChunkTarget>));
        let sink = ChunkSink::new(target, id, range.clone());
        let state = Arc::downgrade(self);
        let task_range = range.clone();
        let task = self.runtime.spawn("diorama.table.load_chunk", async move {
            // Changes of rows reaching the Dio from now on are newer than
            // what the callback reads.
            let stamp = dio.begin_read();
            let outcome = match dio.policy().on_load_chunk() {
                Some(on_load_chunk) => on_load_chunk(&dio, task_range, query, sink).await,
                None => Ok(()),
            };
            drop(dio);
            if let Some(state) = state.upgrade() {
                state.finish(id, outcome, &stamp).await;
            }
        });
        let mut tasks = self.load_tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(task.abort_on_drop());
        (Some(range), marked)
    }

    /// Show the stale rows of `range` as `Loading` (the caller holds the
    /// `loads` lock and has registered the load). Rows of a replaced query
    /// waiting for the new one to land are left as they are.
    fn mark_loading(&self, range: &Range<usize>) -> bool {
        let mut view = self.view.write();
        if view.replace_on_land {
            return false;
        }
        let marked: Vec<(usize, Arc<EnrichedRecord>)> = view
            .rows
            .range(range.clone())
            .filter(|(_, row)| row.status == RowStatus::Stale)
            .map(|(i, row)| (i, with_status(row, RowStatus::Loading)))
            .collect();
        for (i, row) in &marked {
            view.rows.set(*i, row.clone());
        }
        !marked.is_empty()
    }

    /// Rows of `range` still `Loading` that no load of the current query
    /// covers any more go back to `Stale`: their refetch ended without a
    /// new value. Returns whether any did.
    fn unmark_loading(&self, range: &Range<usize>) -> bool {
        let loads = self.loads.lock();
        let epoch = self.current_epoch();
        let mut view = self.view.write();
        let covered = |index: &usize| {
            loads
                .active
                .iter()
                .any(|load| load.epoch == epoch && load.range.contains(index))
        };
        let unmarked: Vec<(usize, Arc<EnrichedRecord>)> = view
            .rows
            .range(range.clone())
            .filter(|(i, row)| row.status == RowStatus::Loading && !covered(i))
            .map(|(i, row)| (i, with_status(row, RowStatus::Stale)))
            .collect();
        for (i, row) in &unmarked {
            view.rows.set(*i, row.clone());
        }
        !unmarked.is_empty()
    }

    /// Land (or roll back) load `id` once its callback returned.
    pub(crate) async fn finish(self: &Arc<Self>, id: u64, outcome: Result<()>, stamp: &ReadStamp) {
        // Take the chunk's rows, leaving the load registered (its range
        // stays in flight for the planner) until it has landed.
        let Some(load) = ({
            let mut loads = self.loads.lock();
            loads
                .active
                .iter_mut()
                .find(|load| load.id == id)
                .map(|load| Load {
                    staged: core::mem::take(&mut load.staged),
                    range: load.range.clone(),
                    ..*load
                })
        }) else {
            return;
        };
        let outcome = match outcome {
            _ if load.epoch != self.current_epoch() => {
                // The query changed meanwhile: this chunk belongs to no view.
                self.loads.lock().active.retain(|load| load.id != id);
                if self.unmark_loading(&load.range) {
                    self.bump();
                }
                return;
            }
            // A chunk the cache cannot record is still what the master
            // said: it is shown (and refetched next time), never held back.
            Ok(()) => match self.persist(&load, stamp).await {
                Err(error) if error.kind() != ErrorKind::Closed => {
                    self.publish(DioEvent::CacheWriteFailed {
                        id: None,
                        error: error.context("a loaded chunk could not be cached"),
                    });
                    Ok(BTreeSet::new())
                }
                persisted => persisted,
            },
            Err(error) => Err(error),
        };
        self.loads.lock().active.retain(|load| load.id != id);
        match outcome {
            Ok(raced) => {
                let missed = self.missed_entries(stamp, &load);
                self.land(load, raced);
                if missed {
                    // The window and its total predate a row entering the
                    // query: read what the view shows again.
                    self.revalidate();
                }
            }
            Err(error) => self.roll_back(load, error),
        }
    }

    /// Whether a row the load did not bring changed while it was out and
    /// matches the query's conditions or search now (it may belong in the
    /// window, and the chunk's total may not count it).
    fn missed_entries(&self, stamp: &ReadStamp, load: &Load) -> bool {
        let Some(dio) = self.dio() else { return false };
        let rows = match stamp.changed() {
            Changed::Everything => return true,
            Changed::Rows(rows) => rows,
        };
        if rows.is_empty() {
            return false;
        }
        let query = self.query.lock().query.clone();
        if query.conditions.is_empty() && query.search.is_none() {
            // Every row is in the set: a change moves rows (re-placed by
            // its event), it does not bring one in.
            return false;
        }
        let brought: BTreeSet<&str> = load.staged.iter().map(|s| s.row.id.as_str()).collect();
        rows.iter()
            .filter(|id| !brought.contains(id.as_str()))
            .any(|id| match dio.cache().get(id) {
                Ok(Some(row)) => super::local::matches(&query, &row.record),
                Ok(None) => false,
                Err(_) => true,
            })
    }

    /// Write the chunk's rows, positions and the new extent as one batch.
    /// Position blocks are read, merged and written under the Dio's
    /// positions lock, so concurrent loads never lose each other's entries.
    /// Rows changed since the load began (`stamp`) keep the cache's newer
    /// value; they are returned.
    async fn persist(&self, load: &Load, stamp: &ReadStamp) -> Result<BTreeSet<Id>> {
        let dio = self
            .dio()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "the Dio is gone"))?;
        let keys = self.query.lock().keys.clone();
        let now = self.now();
        let mut batch = CacheBatch::new();
        let rows: Vec<_> = load
            .staged
            .iter()
            .map(|staged| {
                let row = self.stored_row(&dio, &staged.row.record, now, &staged.row.id);
                (staged.row.id.clone(), row)
            })
            .collect();
        let extent = {
            let mut extent = self.view.read().extent;
            if let Some(total) = load.stated_total {
                extent.state_total(total);
            }
            extent.on_chunk(&load.range, served_end(load));
            extent
        };
        keys.stage_extent(&mut batch, &extent);
        let _positions = dio.positions_lock().lock().await;
        let cache = dio.cache();
        keys.stage(
            &**cache,
            &mut batch,
            load.staged
                .iter()
                .map(|staged| (staged.index, staged.row.id.as_str())),
        )?;
        // Room for the chunk's rows: no regrowth while they are staged.
        batch.puts.reserve_exact(rows.len());
        dio.store_read(stamp, rows, batch)
    }

    /// Show the landed chunk. Rows in `raced` changed while it was on the
    /// way: they read `Stale` until the scenery has read them again.
    fn land(self: &Arc<Self>, load: Load, raced: BTreeSet<Id>) {
        let served = load.staged.len();
        let served_end_reached = served_end(&load).is_some_and(|end| end >= load.range.end);
        // Taken before the view (lock order); the load is of this query.
        let query = self.query.lock().query.clone();
        {
            let mut view = self.view.write();
            if let Some(total) = load.stated_total {
                view.extent.state_total(total);
            }
            view.extent.on_chunk(&load.range, served_end(&load));
            if view.replace_on_land {
                view.rows.clear();
                view.departed.clear();
                view.replace_on_land = false;
                view.shown_query = query;
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
            if let Some(limit) = view.extent.limit() {
                let beyond: Vec<usize> = view
                    .rows
                    .range(limit..view.rows.end())
                    .map(|(i, _)| i)
                    .collect();
                for index in beyond {
                    view.rows.take(index);
                }
            }
            view.initial_pending = false;
        }
        // Rows the chunk did not deliver are not being loaded any more.
        self.unmark_loading(&load.range);
        self.counters.chunk_loads.fetch_add(1, Ordering::Relaxed);
        self.counters
            .rows_loaded
            .fetch_add(served as u64, Ordering::Relaxed);
        self.bump();
        self.publish(DioEvent::RangeLoaded {
            scenery: self.scenery_id,
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
        let chain = served_end_reached || {
            let view = self.view.read();
            view.extent.bound.is_some() && view.extent.limit().is_none()
        };
        self.hydrate_visible(false);
        let visible = self.committed.lock().clone().filter(|_| chain);
        if let Some(visible) = visible {
            self.load_for(visible, true, false, Repaint::Now);
        }
    }

    /// A failed chunk changes nothing: rows it placed are put back, and the
    /// stale rows it was refetching read `Stale` again (a repaint only then).
    fn roll_back(&self, load: Load, error: Error) {
        let range = load.range.clone();
        {
            let mut view = self.view.write();
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
        }
        if self.unmark_loading(&range) {
            self.bump();
        }
        self.counters.chunk_failures.fetch_add(1, Ordering::Relaxed);
        self.publish(DioEvent::LoadFailed {
            scenery: self.scenery_id,
            range,
            error,
        });
    }
}

fn with_status(row: &Arc<EnrichedRecord>, status: RowStatus) -> Arc<EnrichedRecord> {
    Arc::new(EnrichedRecord {
        status,
        ..(**row).clone()
    })
}

fn served_end(load: &Load) -> Option<usize> {
    load.staged.iter().map(|staged| staged.index + 1).max()
}

impl ChunkTarget for TableState {
    fn push(&self, load_id: u64, index: usize, id: Id, record: Record) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::Closed, "the scenery was dropped"));
        }
        let row = self.listed_row(id, record, self.now());
        let epoch = self.current_epoch();
        let mut loads = self.loads.lock();
        let load = loads
            .active
            .iter_mut()
            .find(|load| load.id == load_id && load.epoch == epoch)
            .ok_or_else(|| {
                Error::new(ErrorKind::Cancelled, "this chunk load is no longer wanted")
            })?;
        if !load.range.contains(&index) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                alloc::format!(
                    "row index {index} is outside this chunk load's range {:?}",
                    load.range
                ),
            ));
        }
        let mut view = self.view.write();
        view.departed.remove(&row.id);
        // After a query change old rows stay visible until the chunk lands.
        let placed = (!view.replace_on_land).then(|| view.rows.set(index, row.clone()));
        load.staged.push(Staged { index, row, placed });
        Ok(())
    }

    fn set_total(&self, load_id: u64, total: usize) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::Closed, "the scenery was dropped"));
        }
        let mut loads = self.loads.lock();
        let load = loads
            .active
            .iter_mut()
            .find(|load| load.id == load_id)
            .ok_or_else(|| {
                Error::new(ErrorKind::Cancelled, "this chunk load is no longer wanted")
            })?;
        load.stated_total = Some(total);
        Ok(())
    }
}
