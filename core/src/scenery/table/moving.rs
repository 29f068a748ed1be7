//! A changed row in a paged view: re-placed among the loaded rows by the
//! pure rule of `scenery::moves`, then the consequences — holes in the
//! viewport loaded, stale stored positions forgotten, and, when where the
//! row was is unknown, what is loaded revalidated from the master.

use alloc::sync::Arc;

use super::super::moves::{Before, Replaced, re_place};
use super::super::{EnrichedRecord, RowStatus};
use super::load::Repaint;
use super::local::matches;
use super::state::{TableState, View};
use crate::cache::CacheBatch;
use crate::dio::Dio;

/// Departed rows remembered per view (beyond, all are forgotten).
const MAX_DEPARTED: usize = 256;

impl TableState {
    /// Show the change of row `id` in a paged view. `failed` turns the
    /// row's status into that write failure (unless writes are still
    /// pending); `inserted` says the row is new to the set. Returns
    /// whether the view changed (the caller repaints).
    pub(crate) fn changed_paged(
        self: &Arc<Self>,
        dio: Option<&Dio>,
        id: &str,
        inserted: bool,
        failed: Option<crate::error::Error>,
    ) -> bool {
        let query = self.query.lock().query.clone();
        let cached = dio.and_then(|dio| dio.cache().get(id).ok().flatten());
        let decide = |shown: Option<&EnrichedRecord>| {
            self.present_row(dio, id, cached.clone(), shown, failed.clone())
        };
        let reorders =
            query.sort.is_some() || !query.conditions.is_empty() || query.search.is_some();
        if !reorders || self.view.read().replace_on_land {
            // The master's order over every row: a change never moves one.
            // (After a query change the old rows go when the new land.)
            return self.update_in_place(id, |shown| decide(Some(shown)));
        }
        let outcome = {
            let mut view = self.view.write();
            let shown = view
                .rows
                .index_of(id)
                .and_then(|at| view.rows.get(at).cloned());
            // Not cached and not shown: nothing to place.
            let row = decide(shown.as_deref())
                .filter(|row| row.status == RowStatus::NotFound || matches(&query, &row.record));
            if shown.is_none() && row.is_none() {
                // Not loaded and not in the set now: assumed it was not
                // before either (no old value to tell); nothing loaded moves.
                return false;
            }
            let before = match view.departed.remove(id) {
                Some(departed) => Before::Departed(departed),
                None if inserted => Before::Absent,
                None => Before::Unknown,
            };
            let View { rows, extent, .. } = &mut *view;
            let outcome = re_place(rows, extent, query.sort.as_ref(), id, row.clone(), before);
            match (outcome, row) {
                (Replaced::Departed, Some(row)) => {
                    if view.departed.len() >= MAX_DEPARTED {
                        // Forgetting makes their next change revalidate.
                        view.departed.clear();
                    }
                    view.departed.insert(row.id.clone(), row);
                }
                (Replaced::Unknown, _) => view.departed.clear(),
                _ => {}
            }
            outcome
        };
        // The master does not have a pending value yet: its order is the
        // old one, so holes are filled once the write has landed.
        let settled = dio.is_none_or(|dio| dio.pending_write(id).is_none());
        match outcome {
            Replaced::Unchanged => false,
            Replaced::InPlace => true,
            Replaced::Moved | Replaced::Departed => {
                self.forget_positions(dio);
                if settled {
                    self.fill_viewport();
                }
                true
            }
            Replaced::Unknown => {
                self.forget_positions(dio);
                self.revalidate();
                true
            }
        }
    }

    /// The stored positions of the query are the old order now: forget
    /// them, so a reopen or a scroll back loads the master's order.
    fn forget_positions(&self, dio: Option<&Dio>) {
        let Some(dio) = dio else { return };
        let keys = self.query.lock().keys.clone();
        let mut batch = CacheBatch::new();
        keys.stage_forget(&mut batch);
        // A failed delete only means a reopen shows the old order until
        // its rows are refetched (they read stale then).
        let _ = dio.cache().apply(batch);
    }

    /// Load what the committed viewport lacks now (rows closed up or
    /// opened up around a moved row leave holes).
    fn fill_viewport(self: &Arc<Self>) {
        let committed = self.committed.lock().clone();
        if let Some(visible) = committed {
            self.load_for(visible, true, false, Repaint::Now);
        }
    }

    /// Which loaded rows moved is unknown: every loaded row reads stale
    /// (its index may be off), and the viewport is refetched.
    pub(super) fn revalidate(self: &Arc<Self>) {
        self.mark_all_stale();
        let committed = self.committed.lock().clone();
        if let Some(visible) = committed {
            self.load_for(visible, true, false, Repaint::OnLand);
        }
    }
}
