//! Changed rows in the model: a row re-placed where its key puts it (by
//! the pure rule of `scenery::moves` in a paged view, by binary search in
//! a local one), wholesale invalidation, the TTL sweep.
//!
//! The driver reads what decides how the row is shown (its cached value,
//! pending writes, the last failure, freshness) and passes it in; the model
//! adds what it shows now and asks the one rule of `scenery::presenting`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::super::super::moves::{Before, Replaced, re_place};
use super::super::super::presenting::{RowFacts, present};
use super::super::super::{EnrichedRecord, RowStatus};
use super::super::local::matches;
use super::view::{Place, View, with_status};
use super::{Action, Repaint, TableModel};

use crate::dio::PendingWrite;
use crate::runtime::Timestamp;
use crate::vista::Query;

/// Places of rows not loaded remembered per view (beyond, all are
/// forgotten).
const MAX_PLACES: usize = 256;

/// What changed a row, as far as its place in the master's order goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A write to it is being announced, before it is sent.
    Announced,
    /// An announced write to it was queued (the master has not applied it
    /// yet).
    Queued,
    /// An announced write to it landed or failed: the master's order
    /// changed only as that write says.
    Landed,
    /// It is new to the set (an insert).
    Inserted,
    /// Anything else: a change event, a refetch, a settled detail.
    Other,
}

/// What the driver read of a changed row: everything [`present`] needs
/// except what is shown (the model has that).
#[derive(Debug)]
pub(crate) struct Changed {
    pub(crate) facts: RowFacts<'static>,
    /// What changed it.
    pub(crate) cause: Cause,
    /// No write to it is pending: the master's order already has its new
    /// value, so holes it leaves can be loaded at once.
    pub(crate) settled: bool,
    /// The row as the master has it now, when known: read as the row's
    /// only write is announced, before it is sent. Where a row not loaded
    /// sat (or that it was not in the set) follows from it, so its change
    /// moves the loaded rows exactly instead of revalidating them.
    pub(crate) confirmed: Option<Arc<EnrichedRecord>>,
}

/// Whether `pending` (every write a patch) changes no field `query`
/// orders or filters by. A search reads every field, so no write keeps a
/// row's place in it for sure.
pub(super) fn keeps_place(query: &Query, pending: &PendingWrite) -> bool {
    let Some(fields) = &pending.dirty_fields else {
        return false;
    };
    if query.search.is_some() {
        return false;
    }
    let mut read = query
        .conditions
        .iter()
        .map(|condition| condition.field.as_str())
        .chain(query.sort.as_ref().map(|sort| sort.field.as_str()));
    read.all(|path| !fields.iter().any(|field| overlaps(field, path)))
}

/// Whether writing top-level `field` may change the value at `path` (a
/// field name or dotted path).
fn overlaps(field: &str, path: &str) -> bool {
    path == field
        || path
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with('.'))
        || field
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('.'))
}

impl TableModel {
    fn presented(&self, id: &str, facts: RowFacts<'static>) -> Option<Arc<EnrichedRecord>> {
        let shown = self.view.shown(id).cloned();
        present(
            id,
            RowFacts {
                shown: shown.as_deref(),
                ..facts
            },
        )
        .map(Arc::new)
    }

    /// Row `id` changed (a write queued, applied or failed, a change event,
    /// a settled detail). A local view re-places it exactly; a paged view
    /// among its loaded rows. A row never shows twice and loaded rows stay
    /// in order. Returns whether the view changed (it repaints then).
    pub(crate) fn handle_row_changed(&mut self, id: &str, changed: Changed) -> bool {
        let changed = if self.config.paged {
            self.changed_paged(id, changed)
        } else {
            self.changed_local(id, changed.facts)
        };
        if changed {
            self.bump();
        }
        changed
    }

    /// Re-place row `id` in a local view: found by binary search on the key
    /// it was shown with, placed by binary search on its new one (rows
    /// between shift by one); it leaves when it no longer matches (its
    /// pending value, if any, decides) or is gone, and enters when it
    /// starts matching.
    fn changed_local(&mut self, id: &str, facts: RowFacts<'static>) -> bool {
        let row = present(
            id,
            RowFacts {
                shown: None,
                ..facts
            },
        )
        .map(Arc::new)
        .filter(|row| matches(&self.query, &row.record));
        let Some(sorted) = self.view.sorted.as_mut() else {
            return false;
        };
        if !sorted.upsert(id, row) {
            return false;
        }
        let total = sorted.len();
        self.view.extent.state_total(total);
        true
    }

    fn changed_paged(&mut self, id: &str, changed: Changed) -> bool {
        let Changed {
            facts,
            cause,
            settled,
            confirmed,
        } = changed;
        let query = &self.query;
        let reorders =
            query.sort.is_some() || !query.conditions.is_empty() || query.search.is_some();
        if !reorders || self.view.replace_on_land {
            // The master's order over every row: a change never moves one.
            // (After a query change the old rows go when the new land.)
            return self.show_in_place(id, facts);
        }
        let shown = self.view.shown(id).cloned();
        let place = self.view.places.remove(id);
        // A landing is still to come for this change (a queued write's
        // echo may be read only after the write landed).
        let landing_due = !settled || matches!(cause, Cause::Announced | Cause::Queued);
        let unmoved = match cause {
            Cause::Announced => facts
                .pending
                .as_ref()
                .is_some_and(|pending| keeps_place(&self.query, pending)),
            Cause::Queued | Cause::Landed => matches!(place, Some(Place::Unmoved)),
            Cause::Inserted | Cause::Other => false,
        };
        if shown.is_none() && unmoved {
            // Wherever it is (a hole, past the loaded rows, out of the
            // set), it stays there: nothing loaded moves.
            match place {
                Some(departed @ Place::Departed(_)) => self.keep_place(id, departed),
                _ if landing_due => self.keep_place(id, Place::Unmoved),
                _ => {}
            }
            return false;
        }
        // `None`: not cached and not shown, nothing to place.
        let presented = self.presented(id, facts);
        let known = presented.is_some();
        let row = presented
            .filter(|row| row.status == RowStatus::NotFound || matches(&self.query, &row.record));
        let before = match place {
            Some(Place::Departed(departed)) => Before::Departed(departed),
            Some(Place::Absent) => Before::Absent,
            _ if cause == Cause::Inserted => Before::Absent,
            _ => match confirmed {
                Some(old) if matches(&self.query, &old.record) => Before::Departed(old),
                Some(_) => Before::Absent,
                None => Before::Unknown,
            },
        };
        if shown.is_none() {
            let nothing_moves = match (&before, &row) {
                // Nothing is known of it, then or now.
                (_, None) if !known => true,
                // Out of the set, then and now.
                (Before::Absent, None) => {
                    if landing_due {
                        self.keep_place(id, Place::Absent);
                    }
                    true
                }
                // The master has not applied the write yet: the loaded
                // rows are its order still. Its landing places the row.
                (Before::Unknown, _) => matches!(cause, Cause::Announced | Cause::Queued),
                _ => false,
            };
            if nothing_moves {
                return false;
            }
        }
        let view = &mut self.view;
        let View { rows, extent, .. } = &mut *view;
        let extent_before = *extent;
        let outcome = re_place(
            rows,
            extent,
            self.query.sort.as_ref(),
            id,
            row.clone(),
            before,
        );
        let counted = *extent != extent_before;
        match (outcome, row) {
            (Replaced::Departed | Replaced::Hidden, Some(row)) => {
                self.keep_place(id, Place::Departed(row));
            }
            // Taken out of the set before the master has it so.
            (Replaced::Moved, None) if landing_due => self.keep_place(id, Place::Absent),
            (Replaced::Unknown, _) => self.view.places.clear(),
            _ => {}
        }
        if counted {
            self.count_changes += 1;
        }
        match outcome {
            Replaced::Unchanged => false,
            Replaced::Hidden => {
                // An earlier move of this row, made while its write was
                // pending, may have left holes the master can fill now.
                if settled {
                    self.reload_viewport(Repaint::Now);
                }
                false
            }
            Replaced::InPlace => true,
            Replaced::Moved | Replaced::Departed => {
                self.forget_positions();
                // The master does not have a pending value yet: its order
                // is the old one, so holes are filled once it has landed.
                // (Rows closed up or opened up around it leave holes.)
                if settled {
                    self.reload_viewport(Repaint::Now);
                }
                true
            }
            Replaced::Unknown => {
                self.forget_positions();
                self.revalidate();
                true
            }
        }
    }

    /// Remember `place` for row `id` (not loaded).
    fn keep_place(&mut self, id: &str, place: Place) {
        let places = &mut self.view.places;
        if places.len() >= MAX_PLACES {
            // Forgetting makes their next change revalidate.
            places.clear();
        }
        places.insert(id.into(), place);
    }

    /// Show row `id` anew where it is shown, without moving it (its last
    /// write failed, or the order cannot change). Whether it changed.
    fn show_in_place(&mut self, id: &str, facts: RowFacts<'static>) -> bool {
        let Some(row) = self.presented(id, facts) else {
            return false;
        };
        self.replace_shown(id, row)
    }

    fn replace_shown(&mut self, id: &str, row: Arc<EnrichedRecord>) -> bool {
        if let Some(sorted) = self.view.sorted.as_mut() {
            return sorted.shown(id).is_some() && sorted.upsert(id, Some(row));
        }
        let Some(index) = self.view.rows.index_of(id) else {
            return false;
        };
        match self.view.rows.get(index) {
            Some(shown) if **shown != *row => {
                self.view.rows.set(index, row);
                true
            }
            _ => false,
        }
    }

    /// The last write to row `id` failed: shown where it is, with the
    /// error (or still pending when more writes are queued).
    pub(crate) fn handle_write_failed(&mut self, id: &str, facts: RowFacts<'static>) -> bool {
        let changed = self.show_in_place(id, facts);
        if changed {
            self.bump();
        }
        changed
    }

    /// Row `id` was removed from the master: a paged view shows it
    /// `NotFound` where it is (its index stays until the next load).
    pub(crate) fn handle_row_removed(&mut self, id: &str) -> bool {
        let Some(shown) = self.view.shown(id).cloned() else {
            return false;
        };
        let row = Arc::new(EnrichedRecord {
            status: RowStatus::NotFound,
            dirty_fields: None,
            ..(*shown).clone()
        });
        let changed = self.replace_shown(id, row);
        if changed {
            self.bump();
        }
        changed
    }

    /// The cache holds no row `id` after a change (a delete, a write the
    /// master applied that the cache could not record, an invalidated row
    /// never cached). Whether it left or entered the set, and so where the
    /// loaded rows are now, is not known — also when it was not loaded: a
    /// delete before the loaded rows shifts them all. It is taken out,
    /// every loaded row reads stale and the viewport is read again from the
    /// master (the rule for every change whose old place is unknown).
    /// Returns whether it was shown.
    pub(crate) fn handle_row_dropped(&mut self, id: &str) -> bool {
        let taken = match self.view.rows.index_of(id) {
            Some(index) => self.view.rows.take(index).is_some(),
            None => false,
        };
        self.forget_positions();
        self.revalidate();
        if taken {
            self.bump();
        }
        taken
    }

    /// Everything may have changed (an invalidation, missed events): a
    /// paged view marks its rows stale and refetches around the viewport
    /// (one repaint when the chunk lands). A local view is re-read by the
    /// driver instead.
    pub(crate) fn handle_invalidated(&mut self) {
        if !self.config.paged {
            return;
        }
        let marked = self.mark_all_stale();
        self.view.extent.forget_end();
        // Forced: the rows are stale, nothing is restored from positions.
        let loading = self
            .committed
            .clone()
            .and_then(|visible| self.start_load(&visible, true, true).0);
        if loading.is_none() && marked {
            self.bump();
        }
    }

    /// Mark every row shown as stale, without a repaint: the refetch that
    /// follows repaints once. Returns whether any was fresh.
    fn mark_all_stale(&mut self) -> bool {
        // Rows may be at other indices after the refetch: where rows not
        // loaded sat is not known any more.
        self.view.places.clear();
        let end = self.view.rows.end();
        self.view
            .restate_range(0..end, &RowStatus::Fresh, RowStatus::Stale, |_| true)
    }

    /// The stored positions of the query are the old order now: forget
    /// them, so a reopen or a scroll back loads the master's order.
    fn forget_positions(&mut self) {
        self.push(Action::ForgetPositions {
            keys: self.keys.clone(),
        });
    }

    /// Which loaded rows moved is unknown: every loaded row reads stale
    /// (its index may be off), and the viewport is refetched.
    pub(super) fn revalidate(&mut self) {
        self.mark_all_stale();
        // Rows may have entered the set unseen: its end is found again.
        self.view.extent.forget_end();
        self.reload_viewport(Repaint::OnLand);
    }

    /// Mark rows older than `ttl` at `now` stale (one repaint if any);
    /// returns the time until the next row expires (one TTL when none is
    /// fresh), at least a millisecond.
    pub(crate) fn handle_ttl(&mut self, now: Timestamp, ttl: Duration) -> Duration {
        let mut next = ttl;
        let mut expire = |(i, row): (usize, &Arc<EnrichedRecord>)| {
            if row.status != RowStatus::Fresh {
                return None;
            }
            let age = now.saturating_duration_since(row.fetched_at?);
            if age >= ttl {
                Some((i, with_status(row, RowStatus::Stale)))
            } else {
                next = next.min(ttl - age);
                None
            }
        };
        let expired: Vec<(usize, Arc<EnrichedRecord>)> = match &self.view.sorted {
            Some(sorted) => sorted
                .rows()
                .iter()
                .enumerate()
                .filter_map(&mut expire)
                .collect(),
            None => self.view.rows.iter().filter_map(&mut expire).collect(),
        };
        if !expired.is_empty() {
            for (i, stale) in expired {
                match self.view.sorted.as_mut() {
                    Some(sorted) => sorted.restate(i, stale),
                    None => {
                        self.view.rows.set(i, stale);
                    }
                }
            }
            self.bump();
        }
        next.max(Duration::from_millis(1))
    }
}
