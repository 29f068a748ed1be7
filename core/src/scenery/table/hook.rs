//! What a table view does when its Dio tells it synchronously (see the
//! Dio's `views.rs`): a pending write shows before `try_patch` returns; a
//! non-blocking `on_start` that finished re-reads a local view.

use alloc::sync::Arc;

use super::state::TableState;
use crate::dio::{Dio, ViewHook};

impl ViewHook for TableState {
    fn write_pending(self: Arc<Self>, dio: &Dio, id: &str) {
        if self.is_closed() {
            return;
        }
        let changed = if self.paged {
            self.changed_paged(Some(dio), id, false, None)
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
