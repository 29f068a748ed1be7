//! The hold gate of `MemoryVista`: while held, every operation waits.
//!
//! Hand-written because it is a few lines over `event_listener` (as the
//! crate's docs suggest for a flag): no no_std crate offers a re-closable,
//! awaitable gate.

use core::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// Open or held; waiters wake when it opens.
#[derive(Debug, Default)]
pub(super) struct Gate {
    held: AtomicBool,
    opened: Event,
}

impl Gate {
    pub(super) fn hold(&self) {
        self.held.store(true, Ordering::Release);
    }

    pub(super) fn release(&self) {
        self.held.store(false, Ordering::Release);
        self.opened.notify(usize::MAX);
    }

    pub(super) fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// Wait until the gate is open. Cancel safe.
    pub(super) async fn pass(&self) {
        loop {
            if !self.is_held() {
                return;
            }
            // Listen before re-checking, so a release in between is not missed.
            let listener = self.opened.listen();
            if !self.is_held() {
                return;
            }
            listener.await;
        }
    }
}
