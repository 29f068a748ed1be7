//! List/detail hydration (`LensBuilder::on_load_detail`): rows a list
//! window delivered are `Incomplete` until their detail loads.
//!
//! The decisions — which ids to call for, single-flight per id across every
//! scenery of the Dio, the concurrency bound, withdrawing a dropped
//! scenery's queued ids, remembering failures until a viewport reaches the
//! row again, and merging detail over list — live in [`DetailQueue`] and
//! [`merge_detail`], with no await. [`Dio::request_details`] is the thin
//! driver: it spawns one task per started id on the Dio's runtime.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use super::stamps::ReadStamp;
use super::{Dio, DioInner};
use crate::cache::{CacheBatch, CachedRow, RowState};
use crate::error::{Error, Result};
use crate::runtime::RuntimeExt;
use crate::value::Record;
use crate::vista::Id;

/// The default of `LensBuilder::detail_concurrency`: enough to hide one
/// request's latency behind others, few enough not to flood a per-row API.
pub const DEFAULT_DETAIL_CONCURRENCY: usize = 4;

/// The detail calls of one Dio: queued (with the sceneries wanting each),
/// in flight, and the last failure per id.
#[derive(Debug)]
pub(crate) struct DetailQueue {
    limit: usize,
    /// Ids waiting for a free slot, oldest request first.
    queued: VecDeque<Id>,
    /// The sceneries that want each queued id (an id nobody wants any more
    /// leaves the queue).
    wanted_by: BTreeMap<Id, BTreeSet<u64>>,
    in_flight: BTreeSet<Id>,
    /// Why the last detail call of an id failed; kept until it is retried.
    failed: BTreeMap<Id, Error>,
}

impl DetailQueue {
    /// A queue running at most `limit` calls at once (`limit` ≥ 1, checked
    /// by the builder; 0 is read as 1 so the queue never stalls).
    pub(crate) fn new(limit: usize) -> Self {
        DetailQueue {
            limit: limit.max(1),
            queued: VecDeque::new(),
            wanted_by: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            failed: BTreeMap::new(),
        }
    }

    /// Scenery `scenery` reached `ids`; returns the ids to call for now.
    /// An id in flight is not queued again (single flight); one already
    /// queued gains a wanter; a failed one is queued again (the retry).
    pub(crate) fn request(&mut self, scenery: u64, ids: impl IntoIterator<Item = Id>) -> Vec<Id> {
        for id in ids {
            if self.in_flight.contains(&id) {
                continue;
            }
            let wanters = self.wanted_by.entry(id.clone()).or_default();
            if wanters.is_empty() {
                self.queued.push_back(id);
            }
            wanters.insert(scenery);
        }
        self.take_startable()
    }

    /// Scenery `scenery` was dropped: its queued ids nobody else wants are
    /// never called for (calls in flight finish).
    pub(crate) fn withdraw(&mut self, scenery: u64) {
        self.wanted_by.retain(|_, wanters| {
            wanters.remove(&scenery);
            !wanters.is_empty()
        });
        let wanted_by = &self.wanted_by;
        self.queued.retain(|id| wanted_by.contains_key(id));
    }

    /// The call for `id` ended (`Some(error)`: it failed); returns the ids
    /// to call for next.
    pub(crate) fn finished(&mut self, id: &str, failure: Option<Error>) -> Vec<Id> {
        self.in_flight.remove(id);
        match failure {
            Some(error) => {
                self.failed.insert(Id::from(id), error);
            }
            None => {
                self.failed.remove(id);
            }
        }
        self.take_startable()
    }

    /// Why the last detail call of `id` failed, until it is retried.
    pub(crate) fn failure(&self, id: &str) -> Option<Error> {
        self.failed.get(id).cloned()
    }

    /// Calls running now.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn take_startable(&mut self) -> Vec<Id> {
        let mut start = Vec::new();
        while self.in_flight.len() < self.limit {
            let Some(id) = self.queued.pop_front() else {
                break;
            };
            self.wanted_by.remove(&id);
            // A retry starts: the row reads incomplete again, not failed.
            self.failed.remove(&id);
            self.in_flight.insert(id.clone());
            start.push(id);
        }
        start
    }
}

/// The row a loaded detail makes: the detail's fields over the list row's
/// (a field only the list has is kept).
pub(crate) fn merge_detail(list: Option<Record>, detail: &Record) -> Record {
    let mut merged = list.unwrap_or_default();
    merged.merge(detail);
    merged
}

/// How a list row delivered by a chunk is stored when details are loaded
/// separately: over a complete, unexpired cached row its fields merge in
/// and the row stays complete (no new detail call); otherwise it is the
/// list row, incomplete until its detail loads.
pub(crate) fn list_row(
    cached: Option<CachedRow>,
    expired: bool,
    list: Record,
) -> (Record, RowState) {
    match cached {
        Some(row) if row.state == RowState::Complete && !expired => {
            let mut merged = row.record;
            merged.merge(&list);
            (merged, RowState::Complete)
        }
        _ => (list, RowState::Incomplete),
    }
}

impl Dio {
    /// Whether rows of list windows wait for `on_load_detail`.
    pub(crate) fn loads_details(&self) -> bool {
        self.policy().on_load_detail().is_some()
    }

    /// Why the last detail call of `id` failed, until a viewport retries it.
    pub(crate) fn detail_failure(&self, id: &str) -> Option<Error> {
        if !self.loads_details() {
            return None;
        }
        self.inner.details.lock().failure(id)
    }

    /// Scenery `scenery` reached the incomplete rows `ids`: call for the
    /// details the queue lets start now.
    pub(crate) fn request_details(&self, scenery: u64, ids: Vec<Id>) {
        if ids.is_empty() || !self.loads_details() {
            return;
        }
        // The cache decides, not what a view shows: a row whose detail has
        // just been stored (the views are told right after the call's
        // slot is freed) is told again instead of called for, and a row
        // pushed by a chunk not yet stored waits for that chunk to land
        // (its detail would find no list row to complete; the landing
        // asks again).
        let mut wanted = Vec::with_capacity(ids.len());
        for id in ids {
            match self.cache().get(&id) {
                Ok(Some(row)) if row.state == RowState::Complete => self.tell_views_detail(&id),
                Ok(Some(_)) => wanted.push(id),
                Ok(None) | Err(_) => {}
            }
        }
        let ids = wanted;
        if ids.is_empty() {
            return;
        }
        let retried: Vec<Id> = {
            let details = self.inner.details.lock();
            ids.iter()
                .filter(|id| details.failure(id).is_some())
                .cloned()
                .collect()
        };
        let start = self.inner.details.lock().request(scenery, ids);
        for id in retried.iter().filter(|id| start.contains(id)) {
            // The failure shown is gone: the row reads incomplete again.
            self.tell_views_detail(id);
        }
        for id in start {
            self.spawn_detail(id);
        }
    }

    fn spawn_detail(&self, id: Id) {
        let dio = self.clone();
        // Detached: the call is bounded by the user's callback, and the
        // queue must hear its end to free the slot.
        drop(self.runtime().spawn("diorama.dio.load_detail", async move {
            let stamp = dio.begin_read();
            let outcome = match dio.policy().on_load_detail() {
                Some(load) => load(&dio, id.clone()).await,
                None => return,
            };
            let outcome = outcome.and_then(|detail| dio.store_detail(&stamp, &id, &detail));
            let next = dio.inner.details.lock().finished(&id, outcome.err());
            dio.tell_views_detail(&id);
            for id in next {
                dio.spawn_detail(id);
            }
        }));
    }

    /// Merge `detail` (read since `stamp`) over the cached list row and
    /// store it complete. A row removed while its detail was on the way
    /// stays removed; a row changed meanwhile keeps its change (the detail
    /// predates it) and stays incomplete, so a view asks again.
    fn store_detail(&self, stamp: &ReadStamp, id: &str, detail: &Record) -> Result<()> {
        let Some(list) = self.cache().get(id)? else {
            return Ok(());
        };
        let merged = merge_detail(Some(list.record), detail);
        let now = self.runtime().wall_clock();
        let rows = alloc::vec![(Id::from(id), CachedRow::complete(merged, Some(now)))];
        self.store_read(stamp, rows, CacheBatch::new()).map(drop)
    }

    fn tell_views_detail(&self, id: &str) {
        self.inner.views.each(|view| view.detail_settled(self, id));
    }
}

impl DioInner {
    /// Scenery `scenery` was dropped: forget its queued ids. On the inner
    /// Dio so a closing view takes no counted handle.
    pub(crate) fn withdraw_details(&self, scenery: u64) {
        if self.policy.on_load_detail().is_some() {
            self.details.lock().withdraw(scenery);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record;
    use alloc::string::String;

    fn ids(names: &[&str]) -> Vec<Id> {
        names.iter().map(|n| String::from(*n)).collect()
    }

    #[test]
    fn requests_start_up_to_the_limit_and_the_rest_wait_in_order() {
        let mut queue = DetailQueue::new(2);
        assert_eq!(
            queue.request(1, ids(&["a", "b", "c", "d"])),
            ids(&["a", "b"])
        );
        assert_eq!(queue.in_flight(), 2);
        assert_eq!(queue.finished("a", None), ids(&["c"]));
        assert_eq!(queue.finished("b", None), ids(&["d"]));
        assert!(queue.finished("c", None).is_empty());
    }

    #[test]
    fn an_id_is_called_for_once_however_many_sceneries_want_it() {
        let mut queue = DetailQueue::new(1);
        assert_eq!(queue.request(1, ids(&["a", "b"])), ids(&["a"]));
        assert!(
            queue.request(2, ids(&["a", "b"])).is_empty(),
            "a in flight, b queued"
        );
        // Scenery 1 goes; scenery 2 still wants b.
        queue.withdraw(1);
        assert_eq!(queue.finished("a", None), ids(&["b"]));
    }

    #[test]
    fn a_dropped_scenery_withdraws_the_ids_only_it_wanted() {
        let mut queue = DetailQueue::new(1);
        queue.request(1, ids(&["a", "b", "c"]));
        queue.request(2, ids(&["c"]));
        queue.withdraw(1);
        assert_eq!(queue.finished("a", None), ids(&["c"]), "b withdrawn");
        assert!(queue.finished("c", None).is_empty());
    }

    #[test]
    fn a_failure_is_kept_until_the_id_is_requested_again() {
        let mut queue = DetailQueue::new(1);
        queue.request(1, ids(&["a"]));
        queue.finished("a", Some(Error::failed("503")));
        assert_eq!(queue.failure("a"), Some(Error::failed("503")));
        assert_eq!(queue.request(1, ids(&["a"])), ids(&["a"]));
        assert_eq!(queue.failure("a"), None, "retrying");
        queue.finished("a", None);
        assert_eq!(queue.failure("a"), None);
    }

    #[test]
    fn a_zero_limit_still_makes_progress() {
        let mut queue = DetailQueue::new(0);
        assert_eq!(queue.request(1, ids(&["a"])), ids(&["a"]));
    }

    #[test]
    fn detail_fields_merge_over_the_list_row() {
        let list = record! { "name" => "Lamp", "price" => 1 };
        let detail = record! { "price" => 2, "description" => "Brass" };
        assert_eq!(
            merge_detail(Some(list), &detail),
            record! { "name" => "Lamp", "price" => 2, "description" => "Brass" }
        );
        assert_eq!(merge_detail(None, &detail), detail);
    }

    #[test]
    fn a_list_row_over_a_hydrated_row_keeps_it_complete_unless_expired() {
        let hydrated =
            CachedRow::complete(record! { "name" => "Old", "description" => "Brass" }, None);
        let list = record! { "name" => "Lamp" };
        assert_eq!(
            list_row(Some(hydrated.clone()), false, list.clone()),
            (
                record! { "name" => "Lamp", "description" => "Brass" },
                RowState::Complete
            )
        );
        assert_eq!(
            list_row(Some(hydrated), true, list.clone()),
            (list.clone(), RowState::Incomplete)
        );
        assert_eq!(
            list_row(None, false, list.clone()),
            (list, RowState::Incomplete)
        );
    }
}
