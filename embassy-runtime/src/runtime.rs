//! [`EmbassyRuntime`]: Diorama's `Runtime` on an embassy executor, a task
//! pool and embassy-time.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use diorama_core::runtime::BoxFuture;
use diorama_core::{Instant, Runtime, Timestamp};
use embassy_executor::SendSpawner;

use crate::pool::{Counters, Pool, PoolStats};
#[cfg(feature = "host")]
use crate::sleep::Sleep;
use crate::wall::{Uptime, WallClock};

/// Spawns into an embassy executor through a [`TaskPool`](crate::TaskPool),
/// sleeps and reads the monotonic clock with embassy-time, and takes wall
/// time from a [`WallClock`] ([`Uptime`] unless given one).
///
/// - **Spawn** claims a free slot of the pool. With every slot taken the
///   task is dropped unrun and its `JoinHandle` yields
///   `JoinError::Rejected` (counted in [`stats`](EmbassyRuntime::stats));
///   nothing panics. Spawning works from any thread or interrupt priority
///   (a `SendSpawner`).
/// - **Sleep** is an embassy-time `Timer` at `now + duration`, rounded up to
///   the next tick so it never fires early; a span too long for the tick
///   counter sleeps forever. On the host (feature `host`, embassy-time's
///   generic queue) a dropped sleep never wakes its waker: embassy keeps a
///   timer's waker until its deadline, so the sleep hands it a relay that
///   the drop empties. On a firmware's integrated queue the waker must be
///   the task's own, so a sleep dropped early may wake its task once at
///   its deadline (a spurious wake every future tolerates). With
///   embassy-time's default (integrated) timer
///   queue a sleep must be awaited inside an embassy task; enable one of its
///   `generic-queue-*` features to await it elsewhere too.
/// - **Now** is embassy-time's `Instant` since boot, to the tick.
/// - **Panics**: with feature `std` a panicking task is dropped and its
///   handle yields `JoinError::Lost`; the executor goes on. Without std the
///   panic handler decides (halt or reset).
pub struct EmbassyRuntime {
    spawner: SendSpawner,
    pool: &'static dyn Pool,
    clock: Arc<dyn WallClock>,
    counters: Arc<Counters>,
}

impl EmbassyRuntime {
    /// A runtime spawning into `spawner`'s executor (from
    /// `Spawner::make_send`) through `pool`, with [`Uptime`] as its wall
    /// clock.
    pub fn new(spawner: SendSpawner, pool: &'static dyn Pool) -> Self {
        EmbassyRuntime {
            spawner,
            pool,
            clock: Arc::new(Uptime),
            counters: Arc::default(),
        }
    }

    /// The same runtime with `clock` as its wall clock (an RTC, a
    /// [`SettableClock`](crate::SettableClock)).
    pub fn with_wall_clock(mut self, clock: impl WallClock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Wrap in the `Arc<dyn Runtime>` a `LensBuilder` takes.
    pub fn arc(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }

    /// Slots in use, their peak and refused spawns, to size the pool.
    pub fn stats(&self) -> PoolStats {
        self.counters.stats(self.pool.capacity())
    }
}

impl Runtime for EmbassyRuntime {
    fn spawn_boxed(&self, _name: &'static str, future: BoxFuture<'static, ()>) {
        // A refused future is dropped unpolled inside this call, which the
        // core's JoinHandle reports as `JoinError::Rejected`.
        let _accepted = self.counters.spawn(self.pool, self.spawner, future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let deadline = deadline_after(duration);
        #[cfg(feature = "host")]
        return Box::pin(Sleep::until(deadline));
        #[cfg(not(feature = "host"))]
        return Box::pin(embassy_time::Timer::at(deadline));
    }

    fn now(&self) -> Instant {
        Instant::from_origin(Duration::from_micros(
            embassy_time::Instant::now().as_micros(),
        ))
    }

    fn wall_clock(&self) -> Timestamp {
        self.clock.now()
    }
}

/// `now + duration` on embassy-time's clock, rounded up to a whole tick;
/// `Instant::MAX` (never) when it does not fit.
fn deadline_after(duration: Duration) -> embassy_time::Instant {
    u64::try_from(duration.as_nanos().div_ceil(1_000))
        .ok()
        .and_then(embassy_time::Duration::try_from_micros)
        .and_then(|span| embassy_time::Instant::now().checked_add(span))
        .unwrap_or(embassy_time::Instant::MAX)
}

impl fmt::Debug for EmbassyRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbassyRuntime")
            .field("pool", &self.stats())
            .finish_non_exhaustive()
    }
}
