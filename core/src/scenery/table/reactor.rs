//! The reactor: feeds the Dio's events to the model, and the TTL sweep.
//!
//! For each single-row event it reads what decides how the row is shown
//! and tells the model, which re-places the row; wholesale events refetch
//! around the viewport (paged) or re-read the cache (local). The
//! scenery's own viewport events are ignored.

use alloc::sync::{Arc, Weak};
use core::time::Duration;

use super::model::{Cause, Changed};
use super::state::TableState;
use crate::cache::RowState;
use crate::dio::{Dio, DioEvent};
use crate::error::Error;
use crate::scenery::EnrichedRecord;
use crate::scenery::presenting::RowFacts;
use crate::sync::broadcast::{BroadcastReceiver, RecvError};

pub(crate) async fn run(state: Weak<TableState>, mut events: BroadcastReceiver<DioEvent>) {
    loop {
        let event = events.recv().await;
        let Some(state) = state.upgrade() else { return };
        match event {
            Ok(event) => state.react(event).await,
            // Missed events: re-read everything we show.
            Err(RecvError::Lagged(_)) => state.react(DioEvent::Invalidated).await,
            Err(RecvError::Closed) => return,
        }
    }
}

impl TableState {
    pub(crate) async fn react(self: &Arc<Self>, event: DioEvent) {
        if event.is_viewport_event() {
            return;
        }
        let Some(dio) = self.dio() else { return };
        let paged = self.paged();
        match event {
            DioEvent::RecordChanged { id } => self.cached_row_changed(&dio, &id, Cause::Other),
            DioEvent::WriteCompleted { id: Some(id) } => {
                self.cached_row_changed(&dio, &id, Cause::Landed)
            }
            DioEvent::RecordInserted { id } => self.row_changed(&dio, &id, Cause::Inserted, None),
            DioEvent::RecordRemoved { id } if paged => {
                self.drive(|model| model.handle_row_removed(&id));
            }
            DioEvent::RecordRemoved { id } => self.row_changed(&dio, &id, Cause::Other, None),
            DioEvent::WriteQueued { id: Some(id) } if paged => {
                self.row_changed(&dio, &id, Cause::Queued, None)
            }
            DioEvent::WriteFailed {
                id: Some(id),
                error,
            } if paged => self.row_changed(&dio, &id, Cause::Landed, Some(error)),
            DioEvent::WriteFailed {
                id: Some(id),
                error,
            } => {
                let facts = self.facts(&dio, &id, Some(error));
                self.drive(|model| model.handle_write_failed(&id, facts));
            }
            DioEvent::Invalidated if paged => self.drive(|model| model.handle_invalidated()),
            DioEvent::Invalidated => {
                self.reseed_local(&dio).await;
            }
            _ => {}
        }
    }

    /// Row `id` changed in the cache by `cause`. A paged view whose cache
    /// dropped the row (it could not record a write the master applied)
    /// forgets it, and the viewport refetches.
    fn cached_row_changed(self: &Arc<Self>, dio: &Dio, id: &str, cause: Cause) {
        if self.paged() && matches!(dio.cache().get(id), Ok(None)) {
            self.drive(|model| model.handle_row_dropped(id));
        } else {
            self.row_changed(dio, id, cause, None);
        }
    }

    /// Row `id` changed by `cause` (`failure`: its last write failed):
    /// read what decides how it shows and tell the model.
    pub(crate) fn row_changed(
        self: &Arc<Self>,
        dio: &Dio,
        id: &str,
        cause: Cause,
        failure: Option<Error>,
    ) {
        let facts = self.facts(dio, id, failure);
        self.tell_changed(id, facts, cause, None);
    }

    /// A write to row `id` is being announced, before it is queued: as
    /// [`row_changed`](Self::row_changed), and when it is the row's only
    /// pending write, its cached row (complete and unexpired) is what the
    /// master has, so it says where the master's order has the row until
    /// the write lands (a paged view's question only: a local one holds
    /// every row).
    pub(crate) fn write_announced(self: &Arc<Self>, dio: &Dio, id: &str) {
        let facts = self.facts(dio, id, None);
        let confirmed = facts
            .cached
            .as_ref()
            .filter(|row| row.state == RowState::Complete && !facts.expired)
            .filter(|_| self.paged())
            .filter(|_| dio.sole_pending_write(id))
            .map(|row| {
                Arc::new(EnrichedRecord::fresh(
                    id.into(),
                    row.record.clone(),
                    row.fetched_at,
                ))
            });
        self.tell_changed(id, facts, Cause::Announced, confirmed);
    }

    fn tell_changed(
        self: &Arc<Self>,
        id: &str,
        facts: RowFacts<'static>,
        cause: Cause,
        confirmed: Option<Arc<EnrichedRecord>>,
    ) {
        let settled = facts.pending.is_none();
        self.drive(|model| {
            model.handle_row_changed(
                id,
                Changed {
                    facts,
                    cause,
                    settled,
                    confirmed,
                },
            )
        });
    }
}

/// Mark rows older than the TTL as stale, sleeping until the next one ages.
pub(crate) async fn run_ttl(state: Weak<TableState>, ttl: Duration) {
    let Some(runtime) = state.upgrade().map(|s| s.runtime.clone()) else {
        return;
    };
    loop {
        let wait = {
            let Some(state) = state.upgrade() else { return };
            let now = state.now();
            state.drive(|model| model.handle_ttl(now, ttl))
        };
        runtime.sleep(wait).await;
    }
}
