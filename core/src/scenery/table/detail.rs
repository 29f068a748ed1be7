//! List/detail hydration in a table view (`LensBuilder::on_load_detail`):
//! rows a chunk delivers read `Incomplete` until their detail loads (the
//! model asks the Dio's detail queue for the incomplete rows a committed
//! viewport covers, and a settled detail re-presents its row).

use alloc::sync::Arc;

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

    /// A freshly fetched row (from a chunk), honouring pending writes.
    fn fetched_row(&self, id: Id, record: Record, now: Timestamp) -> Arc<EnrichedRecord> {
        let pending = self.dio.upgrade().and_then(|dio| dio.pending_write(&id));
        Arc::new(match pending {
            Some(pending) => EnrichedRecord::pending(
                id,
                pending.record.unwrap_or(record),
                pending.dirty_fields,
                Some(now),
            ),
            None => EnrichedRecord::fresh(id, record, Some(now)),
        })
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

    /// The view closed: its queued detail ids are withdrawn.
    pub(crate) fn withdraw_details(&self) {
        if let Some(dio) = self.dio.upgrade() {
            dio.withdraw_details(self.scenery_id);
        }
    }
}
