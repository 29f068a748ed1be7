//! [`TokioHarness`]: `TokioRuntime` on a current-thread runtime with a
//! paused clock, or on a multi-thread runtime on the real clock.

use std::fmt::{self, Debug};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diorama_core::Runtime;
use diorama_core::cache::CacheBackend;
use diorama_tokio::TokioRuntime;

use super::watchdog::bounded;
use super::{
    BackendFactory, DUE_GRACE, HANG_BOUND, Harness, QUIET_ROUNDS, SETTLE_POLL, TaskPanics,
    TrackedRuntime, inline_flushing,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThreadPaused,
    MultiThread,
}

/// [`TokioRuntime`] on a tokio runtime owned by the harness.
///
/// **Current thread, paused clock** ([`current_thread_paused`](Self::current_thread_paused)):
/// tasks run only inside the harness's calls, on the test thread.
/// - `settle` runs `yield_now` in `block_on` until two yields in a row find
///   no tracked task runnable. It never moves the clock: tokio auto-advances
///   a paused clock only when the runtime *parks* with nothing to do, and a
///   yielding `block_on` future never lets it park (each yield parks with a
///   zero timeout, which processes due timers but advances nothing).
/// - `advance` steps the clock with `tokio::time::advance` from one awaited
///   deadline to the next (as the [`TrackedRuntime`] knows them), settling
///   at each, so every timer fires at its own deadline and `now()` inside it
///   reads that deadline; a single `tokio::time::advance(d)` would fire
///   them all at the end.
/// - Inside `block_on`, tokio's auto-advance jumps to the next timer when
///   the runtime would otherwise park, like the simulator.
/// - `TokioRuntime`'s wall clock follows the paused clock (TTLs compare
///   wall-clock stamps); backends flush inline ([`inline_flush`](super::inline_flush)),
///   since a paused clock would jump while waiting for a flush thread.
///
/// **Multi-thread, real clock** ([`multi_thread`](Self::multi_thread)):
/// two workers run tasks all the time, in parallel with the test thread.
/// - `settle` sleeps briefly until [`QUIET_ROUNDS`] looks in a row find no
///   tracked task polled or runnable and no awaited timer due.
/// - `advance` sleeps for the span, then settles.
///
/// `block_on` is bounded by [`HANG_BOUND`] of wall time on both.
pub struct TokioHarness {
    flavor: Flavor,
    /// `Some` until drop, which shuts it down first.
    tokio: Option<tokio::runtime::Runtime>,
    runtime: Arc<TrackedRuntime>,
    backends: BackendFactory,
}

impl TokioHarness {
    /// A current-thread runtime whose clock starts paused, with backends
    /// from `backends` (flushing inline).
    pub fn current_thread_paused(backends: BackendFactory) -> Self {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("build a current-thread tokio runtime");
        let inner = TokioRuntime::from_handle(tokio.handle().clone()).arc();
        TokioHarness {
            flavor: Flavor::CurrentThreadPaused,
            tokio: Some(tokio),
            runtime: TrackedRuntime::new(inner),
            backends: inline_flushing(backends),
        }
    }

    /// A multi-thread runtime with two workers on the real clock, with
    /// backends from `backends`.
    pub fn multi_thread(backends: BackendFactory) -> Self {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .expect("build a multi-thread tokio runtime");
        let inner = TokioRuntime::from_handle(tokio.handle().clone()).arc();
        TokioHarness {
            flavor: Flavor::MultiThread,
            tokio: Some(tokio),
            runtime: TrackedRuntime::new(inner),
            backends: inline_flushing(backends),
        }
    }

    fn tokio(&self) -> &tokio::runtime::Runtime {
        self.tokio
            .as_ref()
            .expect("the tokio runtime lives until drop")
    }

    /// Move the paused clock to `now + step`, rounded up to tokio's
    /// millisecond tick and capped at `limit`.
    fn step_paused(&self, step: Duration, limit: Duration) {
        let millis = step.as_nanos().div_ceil(1_000_000);
        let step = Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX)).min(limit);
        self.tokio().block_on(tokio::time::advance(step));
        self.settle();
    }
}

impl Debug for TokioHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioHarness")
            .field("flavor", &self.flavor)
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl Harness for TokioHarness {
    const RUN_SEEDS: &'static [u64] = &[1];

    fn runtime(&self) -> Arc<dyn Runtime> {
        self.runtime.clone()
    }

    fn backend(&self) -> Arc<dyn CacheBackend> {
        (self.backends)()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.tokio()
            .block_on(bounded("TokioHarness::block_on", HANG_BOUND, future))
    }

    fn settle(&self) {
        let start = Instant::now();
        let hung = || {
            format!(
                "TokioHarness::settle: never quiet; live tasks {:?}",
                self.runtime.live_tasks()
            )
        };
        match self.flavor {
            Flavor::CurrentThreadPaused => self.tokio().block_on(async {
                let mut quiet = 0;
                while quiet < 2 {
                    tokio::task::yield_now().await;
                    if self.runtime.quiet(None) {
                        quiet += 1;
                    } else {
                        quiet = 0;
                    }
                    assert!(start.elapsed() < HANG_BOUND, "{}", hung());
                }
            }),
            Flavor::MultiThread => {
                let mut quiet = 0;
                while quiet < QUIET_ROUNDS {
                    std::thread::sleep(SETTLE_POLL);
                    if self.runtime.quiet(Some(DUE_GRACE)) {
                        quiet += 1;
                    } else {
                        quiet = 0;
                    }
                    assert!(start.elapsed() < HANG_BOUND, "{}", hung());
                }
            }
        }
    }

    fn advance(&self, duration: Duration) {
        match self.flavor {
            Flavor::CurrentThreadPaused => {
                let target = self.runtime.now() + duration;
                self.settle();
                loop {
                    let now = self.runtime.now();
                    if now >= target {
                        break;
                    }
                    let left = target - now;
                    // Timers due by now fired in the settle before (tokio
                    // fires at the tick a deadline rounds up to, and every
                    // step lands on whole ticks).
                    match self.runtime.next_deadline(now) {
                        Some(deadline) if deadline < target => {
                            self.step_paused(deadline - now, left);
                        }
                        _ => self.step_paused(left, left),
                    }
                }
            }
            Flavor::MultiThread => {
                std::thread::sleep(duration);
                self.settle();
            }
        }
    }

    fn virtual_clock(&self) -> bool {
        self.flavor == Flavor::CurrentThreadPaused
    }

    fn parallel(&self) -> bool {
        self.flavor == Flavor::MultiThread
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

impl Drop for TokioHarness {
    /// Shuts tokio down first: that drops every task, and with them the
    /// cache handles, so sled closes and removes its directories.
    fn drop(&mut self) {
        if let Some(tokio) = self.tokio.take() {
            tokio.shutdown_timeout(Duration::from_secs(5));
        }
    }
}
