//! [`EmbassyHarness`]: `EmbassyRuntime` on embassy's std executor, running
//! on a thread of its own with embassy-time's std driver (the real clock).

use std::fmt::{self, Debug};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diorama_core::Runtime;
use diorama_core::cache::CacheBackend;
use diorama_embassy::TaskPool;
use diorama_embassy::host::HostExecutor;

use super::watchdog::bounded;
use super::{
    BackendFactory, DUE_GRACE, HANG_BOUND, Harness, QUIET_ROUNDS, SETTLE_POLL, TaskPanics,
    TrackedRuntime, inline_flushing,
};

/// Task slots of each harness's pool: the conformance suite's thousand
/// tasks, or a scenario's Dios, sceneries and chunk loads, with room to
/// spare (a full pool refuses spawns, which the runtime's own tests cover).
const POOL_SLOTS: usize = 2048;

/// [`EmbassyRuntime`](diorama_embassy::EmbassyRuntime) on a
/// [`HostExecutor`]: embassy's thread-mode executor (`platform-std`) on a
/// thread of its own, timers from embassy-time's std driver.
///
/// Tasks run on the executor's thread all the time, in parallel with the
/// test thread, as on a multi-threaded tokio runtime:
/// - `block_on` waits for the future on the test thread (a sleep may be
///   awaited there: the host build uses embassy-time's generic timer queue,
///   which takes any waker), bounded by [`HANG_BOUND`];
/// - `settle` looks until [`QUIET_ROUNDS`] looks in a row find the tracked
///   tasks and timers quiet;
/// - `advance` sleeps for the span, then settles.
///
/// Each harness leaks one task pool (2,048 slots: embassy's pools
/// are `'static`) and one executor thread's keeper: a few kilobytes a test.
pub struct EmbassyHarness {
    runtime: Arc<TrackedRuntime>,
    backends: BackendFactory,
    /// Dropped last (see `Drop`): embassy never drops a spawned task, so the
    /// tasks must end before the executor stops.
    executor: Option<HostExecutor>,
}

impl EmbassyHarness {
    /// A fresh executor thread and pool, with backends from `backends`.
    pub fn new(backends: BackendFactory) -> Self {
        let executor = HostExecutor::start();
        let pool: &'static TaskPool<POOL_SLOTS> = Box::leak(Box::new(TaskPool::new()));
        let runtime = TrackedRuntime::new(Arc::new(executor.runtime(pool)));
        EmbassyHarness {
            runtime,
            backends: inline_flushing(backends),
            executor: Some(executor),
        }
    }
}

impl Debug for EmbassyHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbassyHarness")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl Harness for EmbassyHarness {
    const RUN_SEEDS: &'static [u64] = &[1];

    fn runtime(&self) -> Arc<dyn Runtime> {
        self.runtime.clone()
    }

    fn backend(&self) -> Arc<dyn CacheBackend> {
        (self.backends)()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        futures_lite::future::block_on(bounded("EmbassyHarness::block_on", HANG_BOUND, future))
    }

    fn settle(&self) {
        let start = Instant::now();
        let mut quiet = 0;
        loop {
            if self.runtime.quiet(Some(DUE_GRACE)) {
                quiet += 1;
                if quiet == QUIET_ROUNDS {
                    return;
                }
            } else {
                quiet = 0;
            }
            assert!(
                start.elapsed() < HANG_BOUND,
                "EmbassyHarness::settle: never quiet: {:?}",
                self.runtime
            );
            std::thread::sleep(SETTLE_POLL);
        }
    }

    fn advance(&self, duration: Duration) {
        std::thread::sleep(duration);
        self.settle();
    }

    fn virtual_clock(&self) -> bool {
        false
    }

    fn parallel(&self) -> bool {
        true
    }

    fn live_tasks(&self) -> Option<Vec<&'static str>> {
        Some(self.runtime.live_tasks())
    }

    fn next_timer_in(&self) -> Option<Duration> {
        self.runtime.next_timer_in(DUE_GRACE)
    }

    fn timers_awaited(&self) -> Option<usize> {
        Some(self.runtime.awaited_timers())
    }

    fn task_panics(&self) -> TaskPanics {
        TaskPanics::Caught
    }
}

impl Drop for EmbassyHarness {
    /// Ends the tasks still alive (they hold Dios, which hold the runtime:
    /// a cycle) and waits for the executor thread to poll them to their
    /// end, so caches close, before stopping the executor.
    fn drop(&mut self) {
        self.runtime.close();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) && !self.runtime.live_tasks().is_empty() {
            std::thread::sleep(SETTLE_POLL);
        }
        drop(self.executor.take());
    }
}
