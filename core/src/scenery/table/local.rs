//! Local views: without `on_load_chunk` the set is the whole cache, filtered,
//! searched and sorted in memory with the shared evaluation helpers (the
//! model keeps it in order; this reads it from the cache).
//!
//! Without a sort the order is by id (a defined order, never the cache's
//! iteration order by accident). Sort and search changes are instant.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::super::EnrichedRecord;
use super::state::TableState;
use crate::cache::CachedRow;
use crate::dio::Dio;
use crate::error::Result;
use crate::runtime::RuntimeExt;
use crate::vista::{Id, Query, QueryDescriptor, eval};

/// Rows read per cache scan step.
const SCAN_STEP: usize = 1024;

impl TableState {
    /// Re-evaluate the whole set from the cache (warming the query through
    /// `on_query` first). Returns whether the view changed (it repaints).
    pub(crate) async fn reseed_local(self: &Arc<Self>, dio: &Dio) -> bool {
        let query = self.model.read().query().clone();
        let descriptor = QueryDescriptor {
            query: query.clone(),
            ..QueryDescriptor::default()
        };
        // A failing on_query leaves what the cache has; the view still shows it.
        let _ = dio.queries().ensure(dio, descriptor, true).await;
        let Ok(rows) = self.evaluate_local(dio, &query) else {
            return false;
        };
        self.drive(|model| model.handle_reseeded(query, rows))
    }

    /// Re-evaluate a local view in the background (one repaint if it changed).
    pub(crate) fn spawn_reseed(self: &Arc<Self>) {
        let state = self.clone();
        let task = self.runtime.spawn("diorama.table.reseed", async move {
            if let Some(dio) = state.dio() {
                state.reseed_local(&dio).await;
            }
        });
        self.keep(task.abort_on_drop());
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
            .filter_map(|(id, row)| self.build_row(dio, id, Some(row)))
            .collect())
    }
}

/// Whether `record` is in the set of `query` (its conditions and search).
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
