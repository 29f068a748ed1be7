//! Local views: without `on_load_chunk` the set is the whole cache, filtered,
//! searched and sorted in memory with the shared evaluation helpers.
//!
//! Without a sort the order is by id (a defined order, never the cache's
//! iteration order by accident). Sort and search changes are instant.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;

use super::super::EnrichedRecord;
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
        let mut view = self.view.write();
        let changed = view.rows.len() != rows.len()
            || rows
                .iter()
                .enumerate()
                .any(|(i, row)| view.rows.get(i).is_none_or(|shown| shown != row));
        view.rows.replace_all(rows.iter().cloned());
        view.extent.state_total(rows.len());
        view.initial_pending = false;
        changed
    }

    fn evaluate_local(&self, dio: &Dio, query: &Query) -> Result<Vec<Arc<EnrichedRecord>>> {
        let cache = dio.cache();
        let mut rows: Vec<(Id, CachedRow)> = Vec::new();
        loop {
            let after = rows.last().map(|(id, _)| id.clone());
            let step = cache.scan(after.as_deref(), SCAN_STEP)?;
            let done = step.len() < SCAN_STEP;
            rows.extend(
                step.into_iter()
                    .filter(|(_, row)| matches(query, &row.record)),
            );
            if done {
                break;
            }
        }
        let mut shown: Vec<Arc<EnrichedRecord>> = rows
            .into_iter()
            .filter_map(|(id, row)| self.build_row(Some(dio), &id, Some(row), None))
            .collect();
        shown.sort_by(|a, b| order(query, a, b));
        Ok(shown)
    }

    /// Re-place row `id` after a single-row event: update in place when its
    /// position under the sort is unchanged, else move it (rows between
    /// shift by one); remove it when it no longer matches or is gone.
    pub(crate) fn replace_local(&self, dio: Option<&Dio>, id: &str) -> bool {
        let query = self.query.lock().query.clone();
        let cached = dio.and_then(|dio| dio.cache().get(id).ok().flatten());
        let row = cached
            .filter(|row| matches(&query, &row.record))
            .and_then(|row| self.build_row(dio, id, Some(row), None));
        let mut view = self.view.write();
        let current = view.rows.index_of(id);
        if let (Some(index), Some(row)) = (current, &row) {
            let before = index.checked_sub(1).and_then(|i| view.rows.get(i));
            let after = view.rows.get(index + 1);
            let in_order = before.is_none_or(|b| order(&query, b, row) != Ordering::Greater)
                && after.is_none_or(|a| order(&query, row, a) != Ordering::Greater);
            if in_order {
                let unchanged = view.rows.get(index).is_some_and(|shown| shown == row);
                view.rows.set(index, row.clone());
                return !unchanged;
            }
        }
        if current.is_none() && row.is_none() {
            return false;
        }
        let mut ordered: Vec<Arc<EnrichedRecord>> = view
            .rows
            .iter()
            .filter(|(_, shown)| shown.id != id)
            .map(|(_, shown)| shown.clone())
            .collect();
        if let Some(row) = row {
            let at = ordered.partition_point(|shown| order(&query, shown, &row) == Ordering::Less);
            ordered.insert(at, row);
        }
        let total = ordered.len();
        view.rows.replace_all(ordered);
        view.extent.state_total(total);
        true
    }
}

fn matches(query: &Query, record: &crate::value::Record) -> bool {
    query
        .conditions
        .iter()
        .all(|c| eval::matches_condition(record, c))
        && query
            .search
            .as_deref()
            .is_none_or(|needle| eval::matches_search(record, needle))
}

/// The view's order: the query's sort (nulls last, ties by id), else by id.
fn order(query: &Query, a: &EnrichedRecord, b: &EnrichedRecord) -> Ordering {
    match &query.sort {
        Some(sort) => eval::compare_rows(&a.id, &a.record, &b.id, &b.record, sort),
        None => a.id.cmp(&b.id),
    }
}
