//! Executor-agnostic synchronisation: the channels the state machines talk over.
//!
//! Everything here is built on wakers only (no thread parking, no executor
//! hooks), so it works on any executor and under the simulator.
//!
//! | primitive | shape | when full / behind | closing |
//! |---|---|---|---|
//! | [`queue`] | bounded FIFO, each item to one receiver | sender waits (backpressure) | items already queued are still delivered |
//! | [`broadcast`] | bounded ring, each event to every receiver | oldest events are overwritten; a slow receiver sees `Lagged(n)` | retained events are still delivered |
//! | [`watch`] | one monotonic [`Generation`](watch::Generation) counter | intermediate values are skipped, never queued | receivers see `Closed` once caught up |
//!
//! [`Mutex`] and [`RwLock`] guard the core's short, synchronous critical
//! sections; which lock they are follows the rule below.
//!
//! # Locks: the rule
//!
//! A lock must be safe against every context that can preempt its holder
//! on the same core.
//!
//! - **With threads** (every `target_os` but `none`): a thread that finds
//!   the lock taken spins only until the holder, rescheduled by the OS,
//!   lets go. These are spin locks (`spin`): uncontended, one atomic swap in
//!   and one store out, the fast path `TableScenery::row` is benched on.
//!   Contended, a waiter spins a few rounds and then calls the wait
//!   installed with [`wait_when_contended`] — the std runtimes install the
//!   OS's thread yield — so a waiter whose lock holder was preempted gives
//!   its time slice away instead of burning it: with more runnable threads
//!   than cores (a service with its client threads and other processes on
//!   two cores) a preempted holder otherwise left every contender spinning
//!   for a whole time slice, about a fifth of the `serve` app's CPU time
//!   under load. Without an installed wait (bare `no_std` on a hosted
//!   target) it spins on.
//! - **Without threads** (`target_os = "none"`: bare metal, embassy): the
//!   preempting context is an interrupt, for example an interrupt-priority
//!   executor. Spinning there never lets the preempted holder run: a
//!   deadlock. Here they are held inside a `critical-section` (interrupts
//!   masked on a single core), so the holder cannot be preempted and the
//!   lock is never contended; see `critical.rs` for how guards share one
//!   section. The binary links a critical-section implementation (for
//!   Cortex-M, `cortex-m`'s `critical-section-single-core`), as embassy
//!   needs anyway.
//! - Feature **`critical-section`** picks the second kind on any target: for
//!   a single-core RTOS with strict priorities, where a spinning
//!   high-priority thread starves the holder just like an interrupt does.
//!
//! [`LOCK_KIND`] says which kind this build uses. The same rule applies to
//! 64-bit atomics on 32-bit chips (`portable-atomic`'s fallback uses global
//! spin locks by default): a single-core binary enables portable-atomic's
//! `unsafe-assume-single-core` (or `critical-section`), as its docs
//! recommend for binaries.
//!
//! # Why not more of embassy-sync or heapless here
//!
//! embassy-sync's channels and heapless' queues fix their capacity at
//! compile time (`Channel<M, T, N>`, `PubSubChannel<M, T, CAP, SUBS, PUBS>`);
//! the write queue's capacity is a Lens setting and the event bus serves any
//! number of sceneries, so [`queue`] and [`broadcast`] are sized at run
//! time. [`watch`] is one counter, not a channel. The locks themselves are
//! guard-shaped, which embassy-sync's closure-shaped blocking mutex is not
//! (see `critical.rs`).

pub mod broadcast;
#[cfg(any(target_os = "none", feature = "critical-section"))]
mod critical;
pub mod queue;
pub mod watch;

/// Which lock [`Mutex`] and [`RwLock`] are in this build (see the rule in
/// the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    /// Spin locks: targets with threads.
    Spin,
    /// Held inside a `critical-section`: targets without threads, or
    /// feature `critical-section`.
    CriticalSection,
}

/// The kind of lock this build's [`Mutex`] and [`RwLock`] are.
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
pub const LOCK_KIND: LockKind = LockKind::Spin;
/// The kind of lock this build's [`Mutex`] and [`RwLock`] are.
#[cfg(any(target_os = "none", feature = "critical-section"))]
pub const LOCK_KIND: LockKind = LockKind::CriticalSection;

/// The wait of contended spin locks, once installed.
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
static CONTENDED_WAIT: spin::Once<fn()> = spin::Once::new();

/// Spin rounds a contended lock waits before calling the installed wait:
/// most holds are a few field copies, over before the rounds are.
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
const SPINS_BEFORE_WAIT: u32 = 16;

/// Make threads that find a [`Mutex`] or [`RwLock`] taken call `wait`
/// after a few spin rounds, each time they find it still taken (see the
/// lock rule above). For a thread yield: `std::thread::yield_now`, which
/// `diorama-std`'s and `diorama-tokio`'s runtimes install when built.
///
/// The first wait installed stays; later calls change nothing. A no-op
/// with critical-section locks, which are never contended.
pub fn wait_when_contended(wait: fn()) {
    #[cfg(not(any(target_os = "none", feature = "critical-section")))]
    CONTENDED_WAIT.call_once(|| wait);
    #[cfg(any(target_os = "none", feature = "critical-section"))]
    let _ = wait;
}

/// How the spin locks wait when contended: a few spin rounds, then the
/// installed wait (see [`wait_when_contended`]).
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
#[derive(Debug)]
pub struct Relax;

#[cfg(not(any(target_os = "none", feature = "critical-section")))]
impl spin::RelaxStrategy for Relax {
    #[inline]
    fn relax() {
        for _ in 0..SPINS_BEFORE_WAIT {
            core::hint::spin_loop();
        }
        if let Some(wait) = CONTENDED_WAIT.get() {
            wait();
        }
    }
}

/// A mutual-exclusion lock for short, synchronous critical sections: a
/// spin lock on targets with threads.
///
/// Hold it only for short, non-async critical sections (copy a field, push
/// onto a queue): never across an `.await`, never while calling user code
/// such as callbacks, destructors of user values or wakers, since another
/// thread would wait for as long as it is held.
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
pub type Mutex<T> = spin::mutex::Mutex<T, Relax>;

/// A reader-writer lock for short, synchronous critical sections: a spin
/// lock on targets with threads.
///
/// Same rules as [`Mutex`]. Prefer it over [`Mutex`] only when reads
/// clearly dominate.
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
pub type RwLock<T> = spin::rwlock::RwLock<T, Relax>;

/// The guards of [`Mutex`] and [`RwLock`].
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
pub use spin::{MutexGuard, RwLockReadGuard};

/// The write guard of [`RwLock`].
#[cfg(not(any(target_os = "none", feature = "critical-section")))]
pub type RwLockWriteGuard<'a, T> = spin::rwlock::RwLockWriteGuard<'a, T, Relax>;

/// A mutual-exclusion lock held inside a critical section: targets without
/// threads. Same rules as on threads, and more so: interrupts wait while it
/// is held. A guard must not outlive a critical section the caller opened
/// around taking it.
#[cfg(any(target_os = "none", feature = "critical-section"))]
pub use critical::Mutex;

/// A reader-writer lock held inside a critical section: targets without
/// threads. Same rules as [`Mutex`].
#[cfg(any(target_os = "none", feature = "critical-section"))]
pub use critical::RwLock;

/// The guards of [`Mutex`] and [`RwLock`].
#[cfg(any(target_os = "none", feature = "critical-section"))]
pub use critical::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};
