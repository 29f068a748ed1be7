//! [`SimHarness`]: the deterministic simulator.

use std::fmt::{self, Debug};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::Runtime;
use diorama_core::cache::CacheBackend;
use diorama_core::sim::SimRuntime;

use super::{BackendFactory, Harness, TaskPanics, inline_flushing};

/// The deterministic simulator over the backends of a [`BackendFactory`].
/// Virtual clock, exact settle.
///
/// The backends flush inline ([`inline_flush`](super::inline_flush)): the
/// simulator cannot wait for a thread a flush runs on (sled's).
pub struct SimHarness {
    sim: SimRuntime,
    backends: BackendFactory,
}

impl SimHarness {
    /// A simulator scheduled by `seed`, with backends from `backends`.
    pub fn new(seed: u64, backends: BackendFactory) -> Self {
        SimHarness {
            sim: SimRuntime::new(seed),
            backends: inline_flushing(backends),
        }
    }

    /// The simulator itself, for simulator-only checks.
    pub fn sim(&self) -> &SimRuntime {
        &self.sim
    }
}

impl Debug for SimHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHarness")
            .field("sim", &self.sim)
            .finish_non_exhaustive()
    }
}

impl Drop for SimHarness {
    /// Settles before the simulator shuts down, so no in-flight task holds
    /// the last handle of a Dio when the tasks are dropped: dropping it
    /// there closes the write queue, whose wake reaches the shut-down
    /// simulator's `schedule`, which drops the worker's future inside the
    /// queue's notify and deadlocks on the queue's lock (a simulator bug,
    /// reported; this only keeps the suite clear of it).
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.sim.run_until_idle();
        }
    }
}

impl Harness for SimHarness {
    fn runtime(&self) -> Arc<dyn Runtime> {
        self.sim.runtime()
    }

    fn backend(&self) -> Arc<dyn CacheBackend> {
        (self.backends)()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.sim.block_on(future)
    }

    fn settle(&self) {
        self.sim.run_until_idle();
    }

    fn advance(&self, duration: Duration) {
        self.sim.advance(duration);
    }

    fn virtual_clock(&self) -> bool {
        true
    }

    fn parallel(&self) -> bool {
        false
    }

    fn live_tasks(&self) -> Option<Vec<&'static str>> {
        Some(self.sim.live_tasks())
    }

    fn timers_awaited(&self) -> Option<usize> {
        Some(self.sim.pending_timers())
    }

    fn task_panics(&self) -> TaskPanics {
        TaskPanics::Unwinds
    }

    fn exact_settle(&self) -> bool {
        true
    }
}
