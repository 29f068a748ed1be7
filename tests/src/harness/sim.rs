//! [`SimHarness`]: the deterministic simulator.

use std::fmt::{self, Debug};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::Runtime;
use diorama_core::cache::CacheBackend;
use diorama_core::sim::SimRuntime;

use super::{BackendFactory, BackendKind, Harness};

/// The deterministic simulator over a cache backend (by default
/// `MemoryBackend`). Virtual clock, exact settle.
///
/// With [`BackendKind::Sled`] the backends flush inline
/// ([`inline_flush`](super::inline_flush)): the simulator cannot wait for
/// the thread a sled flush runs on.
pub struct SimHarness {
    sim: SimRuntime,
    backends: BackendFactory,
}

impl SimHarness {
    /// A simulator scheduled by `seed`, with in-memory cache backends.
    pub fn new(seed: u64) -> Self {
        Self::with(seed, BackendKind::Memory)
    }

    /// A simulator scheduled by `seed`, with backends of `kind`.
    pub fn with(seed: u64, kind: BackendKind) -> Self {
        Self::with_backend(seed, kind.factory(true))
    }

    /// A simulator scheduled by `seed`, with backends from `backends`.
    pub fn with_backend(seed: u64, backends: BackendFactory) -> Self {
        SimHarness {
            sim: SimRuntime::new(seed),
            backends,
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

    fn live_tasks(&self) -> Option<Vec<&'static str>> {
        Some(self.sim.live_tasks())
    }

    fn exact_settle(&self) -> bool {
        true
    }
}
