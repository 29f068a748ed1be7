//! Local views: without `on_load_chunk` the set is the whole cache, filtered,
//! searched and sorted in memory with the shared evaluation helpers.
//!
//! Without a sort the order is by id (a defined order, never the cache's
//! iteration order by accident). Sort and search changes are instant.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::super::EnrichedRecord;
use super::super::sorted::SortedRows;
use super::state::TableState;
use crate::cache::CachedRow;
use crate::dio::Dio;
use crate::error::Result;
use crate::vista::{Id, Query, QueryDescriptor, eval};

/// Rows read per cache scan step.
const SCAN_STEP: usize = 1024;

impl TableState {
    /// Re-evaluate the whole set from the cache (warming the query through
    /// `on_query` first). Returns whether the view changed.
    pub(crate) async fn reseed_local(&self, dio: &Dio) -> bool {
        let query = self.query.lock().query.clone();
        let descriptor = QueryDescriptor {
            query: query.clone(),
            ..QueryDescriptor::default()
        };
        // A failing on_query leaves what the cache has; the view still shows it.
        let _ = dio.queries().ensure(dio, descriptor, true).await;
        let Ok(rows) = self.evaluate_local(dio, &query) else {
            return false;
        };
        let sorted = SortedRows::new(query.sort.clone(), rows);
        let mut view = self.view.write();
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
        changed
    }

    fn evaluate_local(&self, dio: &Dio, query: &Query) -> Result<Vec<Arc<EnrichedRecord>>> {
        let cache = dio.cache();
        let mut rows: Vec<(Id, CachedRow)> = Vec::new();
        // The last id scanned, matching or not: scanning on from the last
        // match would read the same unmatched rows for ever.
        let mut after: Option<Id> = None;
        loop {
            let step = cache.scan(after.as_deref(), SCAN_STEP)?;
            let done = step.len() < SCAN_STEP;
            after = step.last().map(|(id, _)| id.clone());
            rows.extend(
                step.into_iter()
                    .filter(|(_, row)| matches(query, &row.record)),
            );
            if done {
                break;
            }
        }
        Ok(rows
            .into_iter()
            .filter_map(|(id, row)| self.build_row(Some(dio), &id, Some(row), None))
            .collect())
    }

    /// Re-place row `id` after a single-row event or a pending write:
    /// found by binary search on the key it was shown with, placed by
    /// binary search on its new one (rows between shift by one); it leaves
    /// when it no longer matches (its pending value, if any, decides) or
    /// is gone, and enters when it starts matching.
    pub(crate) fn replace_local(&self, dio: Option<&Dio>, id: &str) -> bool {
        let query = self.query.lock().query.clone();
        let cached = dio.and_then(|dio| dio.cache().get(id).ok().flatten());
        let row = self
            .build_row(dio, id, cached, None)
            .filter(|row| matches(&query, &row.record));
        let mut view = self.view.write();
        let Some(sorted) = view.sorted.as_mut() else {
            return false;
        };
        if !sorted.upsert(id, row) {
            return false;
        }
        let total = sorted.len();
        view.extent.state_total(total);
        true
    }
}

pub(crate) fn matches(query: &Query, record: &crate::value::Record) -> bool {
    query
        .conditions
        .iter()
        .all(|c| eval::matches_condition(record, c))
        && query
            .search
            .as_deref()
            .is_none_or(|needle| eval::matches_search(record, needle))
}
