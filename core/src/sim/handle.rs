//! The simulator seen as a [`Runtime`]: what tasks and the Lens hold.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use super::inner::Inner;
use super::sleep::Sleep;
use crate::runtime::{BoxFuture, Instant, Runtime, Timestamp};

/// A handle that runs tasks on the simulator without keeping it alive: when
/// the last [`SimRuntime`](super::SimRuntime) goes, the simulation shuts down
/// even if tasks still hold this handle (otherwise a task holding its own
/// runtime would keep itself alive forever).
pub(super) struct SimHandle {
    pub(super) inner: Arc<Inner>,
}

impl Runtime for SimHandle {
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>) {
        self.inner.spawn(name, future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(Sleep::new(self.inner.clone(), duration))
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn wall_clock(&self) -> Timestamp {
        self.inner.wall_clock()
    }
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("seed", &self.inner.seed)
            .field("now", &self.inner.now())
            .finish()
    }
}
