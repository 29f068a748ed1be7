//! The deterministic simulator: a single-threaded executor on a virtual clock whose schedule is chosen by a seed.
//!
//! [`SimRuntime`] implements [`Runtime`], so everything in Diorama runs on it
//! unchanged. A test drives it explicitly:
//!
//! - [`run_until_idle`](SimRuntime::run_until_idle) polls ready tasks until
//!   none is ready; the clock stands still.
//! - [`advance`](SimRuntime::advance) moves the clock, firing every timer on
//!   the way at its own deadline and running the tasks it wakes.
//! - [`run_for`](SimRuntime::run_for) is `advance` that also counts polls.
//! - [`block_on`](SimRuntime::block_on) drives everything until one future
//!   completes, jumping the clock to the next timer whenever nothing is ready.
//!
//! Whenever several tasks are ready, the next one is drawn from a
//! pseudo-random generator seeded with the simulator's seed. So one seed
//! always replays one interleaving ([`trace`](SimRuntime::trace) proves it),
//! and other seeds explore others. Sleeping never takes wall time.
//!
//! ```
//! use core::time::Duration;
//! use diorama_core::sim::SimRuntime;
//! use diorama_core::RuntimeExt;
//!
//! let sim = SimRuntime::new(7);
//! let rt = sim.runtime();
//! let ticker = rt.spawn("ticker", {
//!     let rt = rt.clone();
//!     async move {
//!         for _ in 0..3 {
//!             rt.sleep(Duration::from_secs(60)).await;
//!         }
//!         rt.now()
//!     }
//! });
//! // Three virtual minutes, no wall time.
//! let finished_at = sim.block_on(ticker).unwrap();
//! assert_eq!(finished_at.since_origin(), Duration::from_secs(180));
//! ```

mod drive;
pub mod faulty_cache;
mod handle;
mod inner;
mod sleep;
mod stall;
mod trace;

pub use faulty_cache::{FaultStats, FaultyBackend, FaultyDisk, FaultyTable};
pub use stall::Stalled;
pub use trace::TraceEntry;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use crate::runtime::{BoxFuture, Instant, Runtime, Timestamp};
use handle::SimHandle;
use inner::Inner;
use sleep::Sleep;

/// The wall clock at virtual time zero unless configured otherwise:
/// 2026-01-01T00:00:00Z.
pub const DEFAULT_WALL_EPOCH: Timestamp = Timestamp::from_millis(1_767_225_600_000);

/// A deterministic, single-threaded executor on virtual time.
///
/// A cheap-to-clone handle: clones drive and observe the same simulation.
/// Hand [`runtime`](Self::runtime) to the code under test (the Lens); keep
/// the `SimRuntime` in the test to drive it.
///
/// # Determinism
/// The schedule depends only on the seed and on what the tasks do: the same
/// seed and program give the same [`trace`](Self::trace). Wakes from other
/// threads are safe but make the schedule depend on thread timing.
///
/// # Time
/// [`now`](Self::now) starts at zero and moves only in
/// [`advance`](Self::advance), [`run_for`](Self::run_for) and
/// [`block_on`](Self::block_on); the wall clock is the configured epoch
/// ([`DEFAULT_WALL_EPOCH`] by default) plus virtual time. A sleep of zero
/// completes at once.
///
/// # Shutdown
/// Dropping the last `SimRuntime` clone (or calling
/// [`shutdown`](Self::shutdown)) drops every task's future, so their
/// `JoinHandle`s report [`JoinError::Lost`](crate::runtime::JoinError::Lost)
/// and their resources are released, even when tasks hold the handle
/// from [`runtime`](Self::runtime). Afterwards spawned tasks are dropped at
/// once and sleeps never complete.
///
/// # Panics in tasks
/// The core is `no_std` and cannot catch panics: a task that panics while
/// polled unwinds out of the driving method. The task is dropped (its
/// `JoinHandle` reports `Lost`) and the simulator stays usable.
///
/// # Thread safety
/// `Send` and `Sync`. Tasks may be woken, spawned and aborted from any
/// thread, but only one thread drives the simulation at a time, and never
/// from inside one of its own tasks (that panics).
#[derive(Clone)]
pub struct SimRuntime {
    owner: Arc<Owner>,
}

/// Shuts the simulation down when the last `SimRuntime` clone goes.
struct Owner {
    inner: Arc<Inner>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

impl SimRuntime {
    /// A simulator at virtual time zero whose schedule is drawn from `seed`,
    /// with the wall clock starting at [`DEFAULT_WALL_EPOCH`].
    pub fn new(seed: u64) -> SimRuntime {
        Self::with_wall_epoch(seed, DEFAULT_WALL_EPOCH)
    }

    /// Like [`new`](Self::new), with the wall clock starting at `epoch`.
    pub fn with_wall_epoch(seed: u64, epoch: Timestamp) -> SimRuntime {
        SimRuntime {
            owner: Arc::new(Owner {
                inner: Inner::new(seed, epoch),
            }),
        }
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.owner.inner
    }

    /// A runtime handle for the code under test. It does not keep the
    /// simulation alive (see "Shutdown").
    pub fn runtime(&self) -> Arc<dyn Runtime> {
        Arc::new(SimHandle {
            inner: self.inner().clone(),
        })
    }

    /// The seed the schedule is drawn from.
    pub fn seed(&self) -> u64 {
        self.inner().seed
    }

    /// Virtual time since the simulation started.
    pub fn now(&self) -> Instant {
        self.inner().now()
    }

    /// Poll ready tasks, choosing each next one pseudo-randomly from the
    /// seed, until none is ready. Tasks woken or spawned meanwhile run too.
    /// The clock does not move, so sleeping tasks stay asleep. Returns the
    /// number of polls made.
    ///
    /// Never returns if tasks keep waking each other without waiting for time.
    ///
    /// # Panics
    /// When called while the simulation is already being driven (from one of
    /// its tasks, or from two threads at once).
    pub fn run_until_idle(&self) -> usize {
        let driving = self.inner().enter();
        self.inner().run_ready(&driving)
    }

    /// Move the clock forward by `duration`.
    ///
    /// First runs until idle; then, while a timer is due at or before
    /// `now + duration`, sets the clock to the earliest deadline, fires every
    /// timer due then and runs until idle again, so each timer fires at its
    /// own deadline and timers set meanwhile fire too, in deadline order.
    /// Ends with the clock at exactly `now + duration` and no task ready.
    ///
    /// # Panics
    /// As [`run_until_idle`](Self::run_until_idle).
    pub fn advance(&self, duration: Duration) {
        let driving = self.inner().enter();
        self.inner().advance(&driving, duration);
    }

    /// Exactly [`advance`](Self::advance), returning the number of polls it
    /// made (0 means nothing ran during that span).
    ///
    /// # Panics
    /// As [`run_until_idle`](Self::run_until_idle).
    pub fn run_for(&self, duration: Duration) -> usize {
        let driving = self.inner().enter();
        self.inner().advance(&driving, duration)
    }

    /// Drive the simulation until `future` completes, and return its output.
    ///
    /// `future` need not be `Send` or `'static`; it is polled on this thread,
    /// scheduled like a task (its polls appear in the trace as task 0,
    /// `"main"`). Whenever nothing is ready, the clock jumps to the next
    /// timer.
    ///
    /// # Panics
    /// With a "simulation stalled" message naming the seed and the live tasks
    /// when `future` is pending, no task is ready and no timer is pending
    /// (see [`try_block_on`](Self::try_block_on)); and as
    /// [`run_until_idle`](Self::run_until_idle).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.try_block_on(future) {
            Ok(output) => output,
            Err(stalled) => panic!("{stalled}"),
        }
    }

    /// Like [`block_on`](Self::block_on), but a stall returns [`Stalled`]
    /// (dropping `future`) instead of panicking.
    ///
    /// # Panics
    /// As [`run_until_idle`](Self::run_until_idle).
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, Stalled> {
        let driving = self.inner().enter();
        self.inner().block_on(&driving, future)
    }

    /// Names of the tasks spawned and not yet finished or dropped, in spawn
    /// order.
    pub fn live_tasks(&self) -> Vec<&'static str> {
        self.inner().live_tasks()
    }

    /// Every poll recorded so far, in order (recording is on by default).
    pub fn trace(&self) -> Vec<TraceEntry> {
        self.inner().state.lock().trace.clone()
    }

    /// Return the recorded polls and start a fresh record.
    pub fn take_trace(&self) -> Vec<TraceEntry> {
        core::mem::take(&mut self.inner().state.lock().trace)
    }

    /// Turn recording of polls on or off (on by default; a long simulation
    /// that never reads its trace can save the memory).
    pub fn set_tracing(&self, on: bool) {
        self.inner().state.lock().tracing = on;
    }

    /// Number of sleeps currently waiting for the clock.
    pub fn pending_timers(&self) -> usize {
        self.inner().state.lock().timers.len()
    }

    /// The deadline of the earliest pending sleep.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.inner().next_deadline()
    }

    /// Drop every task's future and timer now (see "Shutdown"). Dropping the
    /// last clone does the same.
    pub fn shutdown(&self) {
        self.inner().shutdown();
    }
}

impl Runtime for SimRuntime {
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>) {
        self.inner().spawn(name, future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(Sleep::new(self.inner().clone(), duration))
    }

    fn now(&self) -> Instant {
        self.inner().now()
    }

    fn wall_clock(&self) -> Timestamp {
        self.inner().wall_clock()
    }
}

impl fmt::Debug for SimRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRuntime")
            .field("seed", &self.seed())
            .field("now", &self.now())
            .field("live_tasks", &self.live_tasks().len())
            .field("ready", &self.inner().ready_count())
            .field("pending_timers", &self.pending_timers())
            .finish()
    }
}
