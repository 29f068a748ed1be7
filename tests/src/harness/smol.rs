//! [`SmolHarness`]: `SmolRuntime` on an executor the test thread drives, or
//! on smol's global executor.

use std::fmt::{self, Debug};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use diorama_core::Runtime;
use diorama_core::cache::CacheBackend;
use diorama_std::SmolRuntime;

use super::watchdog::bounded;
use super::{
    BackendFactory, DUE_GRACE, HANG_BOUND, Harness, QUIET_ROUNDS, SETTLE_POLL, TaskPanics,
    TrackedRuntime, inline_flushing,
};

/// [`SmolRuntime`] with `async-io` timers on the real clock, on one of two
/// executors.
///
/// **Owned** ([`new`](Self::new)): [`SmolRuntime::with_executor`] on an
/// `async_executor::Executor` owned by the harness and driven only from the
/// test thread. Between calls no task runs at all, as on the simulator.
/// - `block_on` runs the executor until the future completes
///   (`async_io::block_on(executor.run(future))`).
/// - `settle` runs every runnable task (`try_tick`) and sleeps briefly,
///   until [`QUIET_ROUNDS`] looks in a row find no task runnable and no
///   awaited timer due (a due timer is fired by async-io's thread and wakes
///   its task soon): "quiet" as a [`TrackedRuntime`] sees it.
/// - `advance` runs the executor for the span, then settles.
///
/// **Global** ([`global`](Self::global)): [`SmolRuntime::global`], whose
/// tasks run on smol's own threads all the time, in parallel with the test
/// thread. `block_on` waits for the future on the test thread, `settle`
/// sleeps briefly until [`QUIET_ROUNDS`] looks in a row find the tracked
/// tasks and timers quiet, `advance` sleeps for the span, then settles.
///
/// `block_on` is bounded by [`HANG_BOUND`] of wall time on both.
pub struct SmolHarness {
    /// `None`: smol's global executor.
    executor: Option<Arc<Executor<'static>>>,
    runtime: Arc<TrackedRuntime>,
    backends: BackendFactory,
}

impl SmolHarness {
    /// A fresh executor driven by the test thread, with backends from
    /// `backends`.
    pub fn new(backends: BackendFactory) -> Self {
        let executor = Arc::new(Executor::new());
        let runtime = TrackedRuntime::new(SmolRuntime::with_executor(executor.clone()).arc());
        SmolHarness {
            executor: Some(executor),
            runtime,
            backends: inline_flushing(backends),
        }
    }

    /// smol's global executor, with backends from `backends`.
    pub fn global(backends: BackendFactory) -> Self {
        SmolHarness {
            executor: None,
            runtime: TrackedRuntime::new(SmolRuntime::global().arc()),
            backends: inline_flushing(backends),
        }
    }

    /// Run every runnable task of an owned executor; true if any ran.
    fn run_ready(&self) -> bool {
        let Some(executor) = &self.executor else {
            return false;
        };
        let mut ran = false;
        while executor.try_tick() {
            ran = true;
        }
        ran
    }
}

impl Debug for SmolHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmolHarness")
            .field("global", &self.executor.is_none())
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl Harness for SmolHarness {
    const RUN_SEEDS: &'static [u64] = &[1];

    fn runtime(&self) -> Arc<dyn Runtime> {
        self.runtime.clone()
    }

    fn backend(&self) -> Arc<dyn CacheBackend> {
        (self.backends)()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let future = bounded("SmolHarness::block_on", HANG_BOUND, future);
        match &self.executor {
            Some(executor) => async_io::block_on(executor.run(future)),
            None => async_io::block_on(future),
        }
    }

    fn settle(&self) {
        let start = Instant::now();
        let mut quiet = 0;
        loop {
            let ran = self.run_ready();
            if !ran && self.runtime.quiet(Some(DUE_GRACE)) {
                quiet += 1;
                if quiet == QUIET_ROUNDS {
                    return;
                }
            } else {
                quiet = 0;
            }
            assert!(
                start.elapsed() < HANG_BOUND,
                "SmolHarness::settle: never quiet: {:?}",
                self.runtime
            );
            std::thread::sleep(SETTLE_POLL);
        }
    }

    fn advance(&self, duration: Duration) {
        let span = async_io::Timer::after(duration);
        match &self.executor {
            Some(executor) => async_io::block_on(executor.run(span)),
            None => async_io::block_on(span),
        };
        self.settle();
    }

    fn virtual_clock(&self) -> bool {
        false
    }

    /// The owned executor runs tasks on the test thread only, in wake
    /// order; the global one on smol's threads.
    fn parallel(&self) -> bool {
        self.executor.is_none()
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
        TaskPanics::Logged
    }
}

impl Drop for SmolHarness {
    /// Ends the tasks still alive (they hold Dios, which hold the runtime,
    /// which holds the executor: a cycle) so caches close and sled removes
    /// their directories. On the global executor its threads poll them to
    /// their end.
    fn drop(&mut self) {
        self.runtime.close();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            self.run_ready();
            if self.runtime.live_tasks().is_empty() {
                break;
            }
            std::thread::sleep(SETTLE_POLL);
        }
    }
}
