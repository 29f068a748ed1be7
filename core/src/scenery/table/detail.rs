//! List/detail hydration in a table view (`LensBuilder::on_load_detail`):
//! rows a chunk delivers read `Incomplete` until their detail loads; a
//! committed viewport asks the Dio's detail queue for the incomplete rows
//! it covers, and a settled detail re-presents its row.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::super::presenting::{Hydration, is_expired};
use super::super::{EnrichedRecord, RowStatus};
use super::state::TableState;
use crate::cache::CachedRow;
use crate::dio::{self, Dio};
use crate::runtime::Timestamp;
use crate::value::Record;
use crate::vista::Id;

impl TableState {
    /// Whether row `id` waits for a detail, and its last failure.
    pub(crate) fn hydration(&self, dio: Option<&Dio>, id: &str) -> Hydration {
        match dio {
            Some(dio) if dio.loads_details() => match dio.detail_failure(id) {
                Some(error) => Hydration::Failed(error),
                None => Hydration::Awaited,
            },
            _ => Hydration::Off,
        }
    }

    fn expired(&self, dio: &Dio, row: &CachedRow) -> bool {
        is_expired(row.fetched_at, dio.invalidated_at(), self.ttl, self.now())
    }

    /// A list row delivered by a chunk as the view shows it: fresh without a
    /// detail loader; with one, merged over a hydrated cached row (still
    /// fresh) or `Incomplete`.
    pub(crate) fn listed_row(&self, id: Id, record: Record, now: Timestamp) -> Arc<EnrichedRecord> {
        let Some(dio) = self.dio().filter(Dio::loads_details) else {
            return self.fetched_row(id, record, now);
        };
        let cached = dio.cache().get(&id).ok().flatten();
        let expired = cached.as_ref().is_some_and(|row| self.expired(&dio, row));
        let (record, state) = dio::list_row(cached, expired, record);
        let row = self.fetched_row(id, record, now);
        if state == crate::cache::RowState::Complete || row.status != RowStatus::Fresh {
            return row;
        }
        let status = match self.hydration(Some(&dio), &row.id) {
            Hydration::Failed(error) => RowStatus::DetailFailed { error },
            _ => RowStatus::Incomplete,
        };
        Arc::new(EnrichedRecord {
            status,
            ..(*row).clone()
        })
    }

    /// How a chunk's row is written to the cache: complete without a detail
    /// loader; with one, as [`list_row`](dio::list_row) decides.
    pub(crate) fn stored_row(
        &self,
        dio: &Dio,
        record: &Record,
        now: Timestamp,
        id: &str,
    ) -> CachedRow {
        if !dio.loads_details() {
            return CachedRow::complete(record.clone(), Some(now));
        }
        let cached = dio.cache().get(id).ok().flatten();
        let expired = cached.as_ref().is_some_and(|row| self.expired(dio, row));
        let (record, state) = dio::list_row(cached, expired, record.clone());
        CachedRow {
            record,
            state,
            fetched_at: Some(now),
        }
    }

    /// Ask for the details of the incomplete rows of the committed
    /// viewport; failed ones too when `retry_failed` (a viewport reached
    /// them again, as opposed to a chunk landing).
    pub(crate) fn hydrate_visible(&self, retry_failed: bool) {
        let Some(dio) = self.dio().filter(Dio::loads_details) else {
            return;
        };
        let Some(range) = self.committed.lock().clone() else {
            return;
        };
        let ids: Vec<Id> = {
            let view = self.view.read();
            view.rows
                .range(range)
                .filter(|(_, row)| match row.status {
                    RowStatus::Incomplete => true,
                    RowStatus::DetailFailed { .. } => retry_failed,
                    _ => false,
                })
                .map(|(_, row)| row.id.clone())
                .collect()
        };
        dio.request_details(self.scenery_id, ids);
    }

    /// Row `id`'s detail settled (or a retry started): show it anew.
    pub(crate) fn show_detail(self: Arc<Self>, dio: &Dio, id: &str) {
        if self.is_closed() || !self.paged {
            return;
        }
        if self.changed_paged(Some(dio), id, false, None) {
            self.bump();
        }
    }

    /// The view closed: its queued detail ids are withdrawn.
    pub(crate) fn withdraw_details(&self) {
        if let Some(dio) = self.dio.upgrade() {
            dio.withdraw_details(self.scenery_id);
        }
    }
}
