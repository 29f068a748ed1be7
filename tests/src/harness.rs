//! The one seam between the acceptance scenarios and what they run on.
//!
//! A scenario is written once as `fn(&H)` for any [`Harness`] `H`; each test
//! file instantiates the suites for one runtime and cache backend. A harness
//! gives the scenario:
//!
//! - [`runtime`](Harness::runtime) for the Lens, and
//!   [`backend`](Harness::backend), a fresh, empty cache backend per call
//!   (a scenario that "restarts" keeps its `Arc` and reuses it);
//! - [`block_on`](Harness::block_on) to run the test's own async code;
//! - two ways to move background tasks along **between** `block_on` calls
//!   (never from inside one): [`settle`](Harness::settle) lets every task run
//!   until it waits, the clock standing still, and
//!   [`advance`](Harness::advance) moves the clock, firing each timer at its
//!   own deadline.
//!
//! Time is virtual wherever the runtime allows it (the simulator here; real
//! runtimes will implement `advance` with paused clocks), so scenarios
//! assert on events, counts and contents, never on wall time.
//!
//! [`run_seeds`] runs a scenario once per seed of [`SEEDS`], each on a fresh
//! harness: on the simulator each seed is another interleaving of the ready
//! tasks, so racy scenarios are explored several ways.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::cache::CacheBackend;
use diorama_core::sim::SimRuntime;
use diorama_core::{MemoryBackend, Runtime};

/// What a scenario runs on: a runtime, cache backends, and ways to drive them.
pub trait Harness: Debug {
    /// The runtime handed to the Lens.
    fn runtime(&self) -> Arc<dyn Runtime>;

    /// A fresh, empty cache backend.
    fn backend(&self) -> Arc<dyn CacheBackend>;

    /// Drive the runtime until `future` completes; its output.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Let every spawned task run until none can make progress without time
    /// passing or an outside event. The clock stands still.
    fn settle(&self);

    /// Move the clock forward by `duration`, running each timer due on the
    /// way at its own deadline and the tasks it wakes; ends settled.
    fn advance(&self, duration: Duration);
}

/// The seeds [`run_seeds`] runs every scenario with.
pub const SEEDS: &[u64] = &[1, 7, 42, 1_234, 0xDEAD_BEEF];

/// Run `scenario` once per seed of [`SEEDS`], each on a fresh harness from
/// `make`. A failure names the seed, so it can be replayed.
pub fn run_seeds<H: Harness>(make: impl Fn(u64) -> H, scenario: fn(&H)) {
    for &seed in SEEDS {
        let _report = SeedReport(seed);
        scenario(&make(seed));
    }
}

/// Names the seed when a scenario panics (printed while unwinding).
struct SeedReport(u64);

impl Drop for SeedReport {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("scenario failed with seed {}", self.0);
        }
    }
}

/// Makes a fresh cache backend.
pub type BackendFactory = Arc<dyn Fn() -> Arc<dyn CacheBackend> + Send + Sync>;

/// The deterministic simulator over a cache backend (by default
/// [`MemoryBackend`]).
pub struct SimHarness {
    sim: SimRuntime,
    backends: BackendFactory,
}

impl SimHarness {
    /// A simulator scheduled by `seed`, with in-memory cache backends.
    pub fn new(seed: u64) -> Self {
        Self::with_backend(seed, Arc::new(|| Arc::new(MemoryBackend::new())))
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
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
}
