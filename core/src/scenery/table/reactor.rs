//! The reactor: applies the Dio's events to the view, and the TTL sweep.
//!
//! Single-row events update that row where it is shown (paged views) or
//! re-place it where the sort puts it (local views); rows of other ids never
//! move. Wholesale events refetch around the viewport. The scenery's own
//! viewport events are ignored.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::time::Duration;

use super::super::{EnrichedRecord, RowStatus};
use super::load::Repaint;
use super::state::TableState;
use crate::dio::{Dio, DioEvent};
use crate::error::Error;
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
        let dio = self.dio();
        let changed = match event {
            DioEvent::RecordChanged { id } | DioEvent::WriteCompleted { id: Some(id) } => {
                if self.paged {
                    // The cache dropped the row (it could not record a write
                    // the master applied): forget it, the viewport refetches.
                    let dropped = dio
                        .as_ref()
                        .is_some_and(|dio| matches!(dio.cache().get(&id), Ok(None)));
                    if dropped {
                        self.forget(&id)
                    } else {
                        self.changed_paged(dio.as_ref(), &id, false, None)
                    }
                } else {
                    self.replace_local(dio.as_ref(), &id)
                }
            }
            DioEvent::RecordInserted { id } => {
                if self.paged {
                    self.changed_paged(dio.as_ref(), &id, true, None)
                } else {
                    self.replace_local(dio.as_ref(), &id)
                }
            }
            DioEvent::RecordRemoved { id } if self.paged => self.update_in_place(&id, |shown| {
                Some(Arc::new(EnrichedRecord {
                    status: RowStatus::NotFound,
                    dirty_fields: None,
                    ..(**shown).clone()
                }))
            }),
            DioEvent::RecordRemoved { id } => self.replace_local(dio.as_ref(), &id),
            DioEvent::WriteQueued { id: Some(id) } if self.paged => {
                self.changed_paged(dio.as_ref(), &id, false, None)
            }
            DioEvent::WriteFailed {
                id: Some(id),
                error,
            } if self.paged => self.changed_paged(dio.as_ref(), &id, false, Some(error)),
            DioEvent::WriteFailed {
                id: Some(id),
                error,
            } => self.show_failure(dio.as_ref(), &id, error),
            DioEvent::Invalidated => {
                self.invalidate(dio.as_ref()).await;
                false
            }
            _ => false,
        };
        if changed {
            self.bump();
        }
    }

    /// Drop the row `id` from the view and load the viewport again, so it
    /// is refetched from the master. Returns whether it was shown.
    fn forget(self: &Arc<Self>, id: &str) -> bool {
        let taken = {
            let mut view = self.view.write();
            match view.rows.index_of(id) {
                Some(index) => view.rows.take(index).is_some(),
                None => false,
            }
        };
        if taken && let Some(visible) = self.committed.lock().clone() {
            self.load_for(visible, true, false, Repaint::Now);
        }
        taken
    }

    /// The previous value of `id` with the write's error (or still pending
    /// when more writes to it are queued).
    fn show_failure(&self, dio: Option<&Dio>, id: &str, error: Error) -> bool {
        let cached = dio.and_then(|dio| dio.cache().get(id).ok().flatten());
        self.update_in_place(id, |shown| {
            self.present_row(dio, id, cached, Some(shown), Some(error))
        })
    }

    /// A wholesale change: refetch around the viewport (rows stay visible,
    /// one repaint when the chunk lands), or re-evaluate a local view.
    async fn invalidate(self: &Arc<Self>, dio: Option<&Dio>) {
        if !self.paged {
            if let Some(dio) = dio
                && self.reseed_local(dio).await
            {
                self.bump();
            }
            return;
        }
        let marked = self.mark_all_stale();
        let committed = self.committed.lock().clone();
        let loading =
            committed.and_then(|visible| self.load_for(visible, true, true, Repaint::OnLand));
        if loading.is_none() && marked {
            self.bump();
        }
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
            state.sweep_expired(ttl)
        };
        runtime.sleep(wait).await;
    }
}

impl TableState {
    /// Mark expired rows stale (one repaint if any); the time until the next
    /// row expires (or one TTL when none is fresh).
    fn sweep_expired(&self, ttl: Duration) -> Duration {
        let now = self.now();
        let mut next = ttl;
        let expired: Vec<(usize, Arc<EnrichedRecord>, Arc<EnrichedRecord>)> = {
            let view = self.view.read();
            let mut expire = |(i, row): (usize, &Arc<EnrichedRecord>)| {
                if row.status != RowStatus::Fresh {
                    return None;
                }
                let age = now.saturating_duration_since(row.fetched_at?);
                if age >= ttl {
                    let stale = Arc::new(EnrichedRecord {
                        status: RowStatus::Stale,
                        ..(**row).clone()
                    });
                    Some((i, row.clone(), stale))
                } else {
                    next = next.min(ttl - age);
                    None
                }
            };
            match &view.sorted {
                Some(sorted) => sorted
                    .rows()
                    .iter()
                    .enumerate()
                    .filter_map(&mut expire)
                    .collect(),
                None => view.rows.iter().filter_map(&mut expire).collect(),
            }
        };
        if !expired.is_empty() {
            let mut view = self.view.write();
            for (i, seen, stale) in expired {
                // Skip rows replaced since the read.
                if !view.row(i).is_some_and(|row| Arc::ptr_eq(row, &seen)) {
                    continue;
                }
                match view.sorted.as_mut() {
                    Some(sorted) => sorted.restate(i, stale),
                    None => {
                        view.rows.set(i, stale);
                    }
                }
            }
            drop(view);
            self.bump();
        }
        next.max(Duration::from_millis(1))
    }
}
