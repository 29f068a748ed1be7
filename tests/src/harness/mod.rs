//! The one seam between the acceptance scenarios and what they run on.
//!
//! A scenario is written once as `fn(&H)` for any [`Harness`] `H`; each test
//! file instantiates the suites for one runtime and cache backend. A harness
//! gives the scenario:
//!
//! - [`runtime`](Harness::runtime) for the Lens, and
//!   [`backend`](Harness::backend), a fresh, empty cache backend per call
//!   from the [`BackendFactory`] the harness was built with (a scenario
//!   that "restarts" keeps its `Arc` and reuses it);
//! - [`block_on`](Harness::block_on) to run the test's own async code;
//! - two ways to move background tasks along **between** `block_on` calls
//!   (never from inside one): [`settle`](Harness::settle) lets every task run
//!   until it waits, the clock standing still, and
//!   [`advance`](Harness::advance) moves the clock, firing each timer at its
//!   own deadline;
//! - [`settle_until`](Harness::settle_until), for a condition that work on
//!   other threads (a sled flush) may still have to make true.
//!
//! # Clocks
//!
//! On [`SimHarness`] and [`TokioHarness::current_thread_paused`] the clock is
//! virtual: `advance` costs no wall time and lands on exact instants. On
//! [`SmolHarness`] and [`TokioHarness::multi_thread`] it is the real clock:
//! `advance` sleeps. Scenarios shrink their long spans (a refresh every ten
//! minutes, a one-hour TTL) with [`Harness::scaled`], and assert exact
//! instants only where [`Harness::virtual_clock`] holds; elsewhere they
//! assert orders, counts and lower bounds (a timer never fires early), never
//! wall-clock durations.
//!
//! # Hang bounds
//!
//! On real runtimes nothing reports a stall the way the simulator does, so
//! `block_on` gives up after [`HANG_BOUND`] of wall time and `settle` after
//! the same span without quiet, each with a panic naming what hung.
//!
//! [`run_seeds`] runs a scenario once per seed of the harness's
//! [`RUN_SEEDS`](Harness::RUN_SEEDS), each on a fresh harness: on the
//! simulator each seed is another interleaving of the ready tasks, so racy
//! scenarios are explored several ways; real runtimes run once.

mod embassy;
mod inline_flush;
mod sim;
mod smol;
mod tokio;
mod tracked;
mod watchdog;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::Runtime;
use diorama_core::cache::CacheBackend;

pub use embassy::EmbassyHarness;
pub use inline_flush::inline_flush;
pub use sim::SimHarness;
pub use smol::SmolHarness;
pub use tokio::TokioHarness;
pub use tracked::TrackedRuntime;

/// How long a real-time harness waits for a `block_on` to finish, or for
/// `settle` / `settle_until` to see quiet, before failing the scenario.
pub const HANG_BOUND: Duration = Duration::from_secs(60);

/// How long a real-time `settle` sleeps between looks.
pub const SETTLE_POLL: Duration = Duration::from_micros(200);

/// Consecutive quiet looks a real-time `settle` needs: a wake from another
/// thread (a timer thread, the blocking pool) lands between looks.
pub const QUIET_ROUNDS: u32 = 3;

/// A timer overdue by longer than this no longer holds a settle up (taken
/// as abandoned: a sleep polled once and then kept without being awaited).
pub const DUE_GRACE: Duration = Duration::from_secs(2);

/// By how much real-time harnesses shrink the long virtual spans of the
/// scenarios (see [`Harness::scaled`]): ten virtual minutes are 100 ms.
pub const REAL_TIME_SCALE: u32 = 6_000;

/// What a scenario runs on: a runtime, cache backends, and ways to drive them.
pub trait Harness: Debug {
    /// The seeds [`run_seeds`] runs each scenario with on this harness.
    const RUN_SEEDS: &'static [u64] = SEEDS;

    /// The runtime handed to the Lens.
    fn runtime(&self) -> Arc<dyn Runtime>;

    /// A fresh, empty cache backend.
    fn backend(&self) -> Arc<dyn CacheBackend>;

    /// Drive the runtime until `future` completes; its output.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Let every spawned task run until none can make progress without time
    /// passing or an outside event. The clock stands still (on a real clock:
    /// as still as it can; timers already due fire).
    fn settle(&self);

    /// Move the clock forward by `duration`, running each timer due on the
    /// way at its own deadline and the tasks it wakes; ends settled.
    fn advance(&self, duration: Duration);

    /// True when the clock is virtual: `advance` takes no wall time and
    /// timers fire at their exact deadlines.
    fn virtual_clock(&self) -> bool;

    /// True when tasks may run on several threads at once (a multi-thread
    /// executor): two tasks woken close together may then finish in
    /// either order. Where it is false, tasks run one at a time and a
    /// virtual clock or a FIFO executor keeps them in wake order.
    fn parallel(&self) -> bool;

    /// 1 on a virtual clock; on a real one, by how much scenarios shrink
    /// their long spans ([`REAL_TIME_SCALE`]).
    fn time_scale(&self) -> u32 {
        if self.virtual_clock() {
            1
        } else {
            REAL_TIME_SCALE
        }
    }

    /// `duration` shrunk by [`time_scale`](Harness::time_scale): the span a
    /// scenario uses for what is, in virtual time, `duration`.
    fn scaled(&self, duration: Duration) -> Duration {
        duration / self.time_scale()
    }

    /// Names of the spawned tasks still alive, in spawn order, where the
    /// harness can tell (every harness here can).
    fn live_tasks(&self) -> Option<Vec<&'static str>> {
        None
    }

    /// How long until the earliest timer a task awaits, where the harness
    /// can tell (`None` also when no timer is awaited). On a real clock, work
    /// done inside an `advance` can arm a timer late, past the span's end; a
    /// scenario that needs such a timer to have fired advances again.
    fn next_timer_in(&self) -> Option<Duration> {
        None
    }

    /// How many timers tasks are awaiting (sleeps polled and neither done
    /// nor dropped), where the harness can tell (every harness here can):
    /// how a check sees that an aborted task's or a lost timeout's timer
    /// went with it.
    fn timers_awaited(&self) -> Option<usize> {
        None
    }

    /// How a panic inside a spawned task reaches the test on this harness.
    fn task_panics(&self) -> TaskPanics;

    /// True when [`settle`](Harness::settle) is exact: no other thread can
    /// wake a task afterwards (the simulator).
    fn exact_settle(&self) -> bool {
        false
    }

    /// Settle until `condition` holds. Where settling is not exact (a sled
    /// flush on another thread, a real clock), keep settling for up to
    /// [`HANG_BOUND`]; panics naming `what` when it never holds.
    fn settle_until(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let start = std::time::Instant::now();
        loop {
            self.settle();
            if condition() {
                return;
            }
            if self.exact_settle() || start.elapsed() > HANG_BOUND {
                panic!("settled, but still not true: {what}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// How a panic inside a spawned task reaches the outside. Either way the
/// task is dropped and its `JoinHandle` reports
/// [`JoinError::Lost`](diorama_core::runtime::JoinError::Lost).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskPanics {
    /// The runtime catches it and logs it through `log` at error level,
    /// naming the task (diorama-std's `catch_panics`, which `SmolRuntime`
    /// and `TokioRuntime` use); nothing unwinds into the test.
    Logged,
    /// It unwinds out of the harness call that was driving the task (the
    /// simulator: the `no_std` core cannot catch panics).
    Unwinds,
    /// The runtime catches it and drops the task without logging (a `no_std`
    /// runtime has no logger: `diorama-embassy` counts it in its stats);
    /// nothing unwinds into the test.
    Caught,
}

/// The seeds the simulator runs every scenario with.
pub const SEEDS: &[u64] = &[1, 7, 42, 1_234, 0xDEAD_BEEF];

/// Run `scenario` once per seed of `H::RUN_SEEDS`, each on a fresh harness
/// from `make`. A failure names the seed, so it can be replayed.
pub fn run_seeds<H: Harness>(make: impl Fn(u64) -> H, scenario: fn(&H)) {
    for &seed in H::RUN_SEEDS {
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

/// Makes a fresh, empty cache backend on every call: what every harness is
/// built from (see [`backends`](crate::backends) for the shipped ones).
pub type BackendFactory = Arc<dyn Fn() -> Arc<dyn CacheBackend> + Send + Sync>;

/// `backends` with each backend wrapped in [`inline_flush`]: the factory a
/// virtual-clock harness uses.
pub fn inline_flushing(backends: BackendFactory) -> BackendFactory {
    Arc::new(move || inline_flush(backends()))
}
