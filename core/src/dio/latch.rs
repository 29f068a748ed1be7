//! A one-way flag that tasks can await.
//!
//! Hand-written because it is four lines over `event_listener`: no crate
//! offers exactly a no_std, set-once, awaitable boolean.

use core::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// Set once, awaited by many.
#[derive(Debug, Default)]
pub(crate) struct Latch {
    set: AtomicBool,
    event: Event,
}

impl Latch {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Set the latch and wake every waiter. Idempotent.
    pub(crate) fn set(&self) {
        self.set.store(true, Ordering::Release);
        self.event.notify(usize::MAX);
    }

    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Wait until the latch is set. Cancel safe.
    pub(crate) async fn wait(&self) {
        loop {
            if self.is_set() {
                return;
            }
            let listener = self.event.listen();
            if self.is_set() {
                return;
            }
            listener.await;
        }
    }
}
