//! Query changes in the model: what is shown and loaded when the
//! conditions, sort or search change, totals stated in the background, and
//! a local view's set evaluated anew.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::super::super::extent::Extent;
use super::super::super::positions::PositionKeys;
use super::super::super::sorted::SortedRows;
use super::super::super::{EnrichedRecord, RowStatus};
use super::view::with_status;
use super::{Action, PlacedRows, TableModel};
use crate::runtime::Instant;
use crate::vista::Query;

impl TableModel {
    /// The query of a paged view changed to `query` (`stored`: the extent
    /// persisted for it, read by the driver). The old order stays on
    /// screen, marked `Loading`, until the new one lands — never old rows
    /// as `Fresh` under the new query; what positions of the new query the
    /// cache has are served; the viewport the UI asked for last is
    /// refetched through the debounce (a viewport change right after this
    /// one wins). Returns false when the query is the current one.
    pub(crate) fn handle_query(
        &mut self,
        query: Query,
        stored: Option<Extent>,
        now: Instant,
    ) -> bool {
        if query == self.query {
            return false;
        }
        self.keys = PositionKeys::new(&query.key());
        self.query = query;
        self.epoch += 1;
        if !self.config.paged {
            return true;
        }
        let view = &mut self.view;
        view.extent = stored.unwrap_or_default();
        view.replace_on_land = true;
        view.places.clear();
        let marked: Vec<(usize, Arc<EnrichedRecord>)> = view
            .rows
            .iter()
            .filter(|(_, row)| matches!(row.status, RowStatus::Fresh | RowStatus::Stale))
            .map(|(i, row)| (i, with_status(row, RowStatus::Loading)))
            .collect();
        for (i, row) in marked {
            view.rows.set(i, row);
        }
        // The new query starts afresh: no scroll direction carries over.
        let committed = self.committed.take();
        let visible = self
            .requested
            .clone()
            .or(committed)
            .unwrap_or(0..self.config.page_size);
        self.push(Action::RestoreReplacing {
            epoch: self.epoch,
            range: visible.clone(),
            keys: self.keys.clone(),
        });
        if self.config.total_provider {
            self.push(Action::AskTotal {
                epoch: self.epoch,
                query: self.query.clone(),
            });
        }
        self.handle_viewport(visible, true, now);
        true
    }

    /// The rows at persisted positions of the query of `epoch` asked for by
    /// [`Action::RestoreReplacing`]: `Some` when the cache held every row of
    /// the range. They replace the view at once (no wait for the master).
    pub(crate) fn handle_restored_replacing(&mut self, epoch: u64, rows: Option<PlacedRows>) {
        let Some(rows) = rows.filter(|_| epoch == self.epoch) else {
            return;
        };
        let view = &mut self.view;
        view.rows.clear();
        view.replace_on_land = false;
        view.shown_query = self.query.clone();
        for (index, row) in rows {
            view.rows.set(index, row);
        }
        self.bump();
    }

    /// The total provider stated `total` for the query of `epoch`; rows
    /// past it go. Returns whether the view changed (it repaints).
    pub(crate) fn handle_total(&mut self, epoch: u64, total: usize) -> bool {
        if epoch != self.epoch {
            return false;
        }
        let view = &mut self.view;
        let before = (view.extent.limit(), view.extent.has_more());
        view.extent.state_total(total);
        let dropped = view.drop_from(total);
        let changed = before != (view.extent.limit(), view.extent.has_more()) || dropped;
        if changed {
            self.bump();
        }
        changed
    }

    /// A local view's set, evaluated anew from the cache for `query` (the
    /// driver scanned it; rows already filtered and presented). Returns
    /// whether the view changed (it repaints).
    pub(crate) fn handle_reseeded(&mut self, query: Query, rows: Vec<Arc<EnrichedRecord>>) -> bool {
        if query != self.query {
            return false;
        }
        let sorted = SortedRows::new(query.sort.clone(), rows);
        let view = &mut self.view;
        let changed = view.sorted.as_ref().is_none_or(|shown| {
            shown.len() != sorted.len()
                || shown
                    .rows()
                    .iter()
                    .zip(sorted.rows())
                    .any(|(shown, row)| shown != row)
        });
        view.extent.state_total(sorted.len());
        view.sorted = Some(sorted);
        view.shown_query = query;
        view.initial_pending = false;
        if changed {
            self.bump();
        }
        changed
    }

    /// A new local view showing `from`'s rows in `from`'s order (marked as
    /// its query's) until its own evaluation lands.
    pub(crate) fn show_until_reseeded(&mut self, from: &TableModel) {
        let (shown, view) = (&from.view, &mut self.view);
        view.sorted = shown.sorted.clone();
        view.extent = shown.extent;
        view.shown_query = shown.shown_query.clone();
        view.initial_pending = false;
    }
}
