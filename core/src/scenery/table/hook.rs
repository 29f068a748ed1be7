//! What a table view does when its Dio tells it synchronously (see the
//! Dio's `views.rs`): a pending write shows before `try_patch` returns; a
//! non-blocking `on_start` that finished re-reads a local view.

use alloc::sync::Arc;

use super::super::EnrichedRecord;
use super::state::TableState;
use crate::dio::{Dio, ViewHook};

impl ViewHook for TableState {
    fn write_pending(self: Arc<Self>, dio: &Dio, id: &str) {
        if self.is_closed() {
            return;
        }
        let changed = if self.paged {
            self.show_pending(dio, id)
        } else {
            self.replace_local(Some(dio), id)
        };
        if changed {
            self.bump();
        }
    }

    fn started(self: Arc<Self>, _dio: &Dio) {
        if self.is_closed() {
            return;
        }
        if self.paged {
            let visible = self.committed.lock().clone();
            let visible = visible.unwrap_or(0..self.page_size);
            if self.restore(visible) > 0 {
                self.bump();
            }
        } else {
            self.spawn_reseed();
        }
    }
}

impl TableState {
    /// Show row `id` (where loaded) with its pending overlay. Returns
    /// whether anything changed.
    pub(crate) fn show_pending(&self, dio: &Dio, id: &str) -> bool {
        let pending = dio.pending_write(id);
        self.update_in_place(id, |shown| {
            let pending = pending?;
            Some(Arc::new(EnrichedRecord::pending(
                shown.id.clone(),
                pending.record.unwrap_or_else(|| shown.record.clone()),
                pending.dirty_fields,
                shown.fetched_at,
            )))
        })
    }
}
