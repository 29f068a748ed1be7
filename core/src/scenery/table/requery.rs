//! Query changes of a table view: what is shown and loaded when the
//! conditions, sort or search change, and totals stated in the background.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use super::super::RowStatus;
use super::state::{TableState, ViewportRequest};
use crate::runtime::RuntimeExt;

impl TableState {
    /// Re-evaluate a local view in the background (one repaint if it changed).
    pub(crate) fn spawn_reseed(self: &Arc<Self>) {
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
    pub(crate) fn requery(self: &Arc<Self>) {
        let stored = self.dio().and_then(|dio| {
            let keys = self.query.lock().keys.clone();
            keys.read_extent(&**dio.cache()).ok().flatten()
        });
        {
            let mut view = self.view.write();
            view.extent = stored.unwrap_or_default();
            view.replace_on_land = true;
            // The old order stays on screen until the new lands, marked
            // as on its way out: never old rows as `Fresh` under the new query.
            mark_replaced(&mut view);
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
    pub(crate) fn spawn_total(self: &Arc<Self>) {
        let Some(dio) = self.dio() else { return };
        if dio.policy().total_provider().is_none() {
            return;
        }
        let epoch = self.current_epoch();
        let query = self.query.lock().query.clone();
        let state = Arc::downgrade(self);
        let task = self.runtime.spawn("diorama.table.total", async move {
            let total = match dio.policy().total_provider() {
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
    pub(crate) fn state_total(&self, total: usize) -> bool {
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
    pub(crate) fn restore_replacing(&self, visible: Range<usize>) -> bool {
        let Some(dio) = self.dio() else { return false };
        let (keys, query) = {
            let current = self.query.lock();
            (current.keys.clone(), current.query.clone())
        };
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
        view.shown_query = query;
        for ((index, id), row) in positions.iter().zip(cached) {
            if let Some(row) = self.build_row(Some(&dio), id, row, None) {
                view.rows.set(*index, row);
            }
        }
        true
    }
}

/// Mark every row of the previous order `Loading` (its old value, a new one
/// on the way) unless it shows a write of the user's.
fn mark_replaced(view: &mut super::state::View) {
    view.departed.clear();
    let marked: Vec<(usize, Arc<super::super::EnrichedRecord>)> = view
        .rows
        .iter()
        .filter(|(_, row)| matches!(row.status, RowStatus::Fresh | RowStatus::Stale))
        .map(|(i, row)| {
            (
                i,
                Arc::new(super::super::EnrichedRecord {
                    status: RowStatus::Loading,
                    ..(**row).clone()
                }),
            )
        })
        .collect();
    for (i, row) in marked {
        view.rows.set(i, row);
    }
}
