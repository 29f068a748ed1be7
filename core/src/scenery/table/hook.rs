//! What a table view does when its Dio tells it synchronously (see the
//! Dio's `views.rs`): a pending write shows before `try_patch` returns; a
//! non-blocking `on_start` that finished re-reads the view.

use alloc::sync::Arc;

use super::model::Cause;
use super::state::TableState;
use crate::dio::{Dio, ViewHook};

impl ViewHook for TableState {
    fn write_pending(self: Arc<Self>, dio: &Dio, id: &str) {
        if !self.is_closed() {
            self.write_announced(dio, id);
        }
    }

    fn detail_settled(self: Arc<Self>, dio: &Dio, id: &str) {
        if !self.is_closed() && self.paged() {
            self.row_changed(dio, id, Cause::Other, None);
        }
    }

    fn started(self: Arc<Self>, _dio: &Dio) {
        if self.is_closed() {
            return;
        }
        if self.paged() {
            self.drive(|model| model.handle_started());
        } else {
            self.spawn_reseed();
        }
    }
}
