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
//! [`Mutex`] and [`RwLock`] are re-exported spin locks for short,
//! synchronous critical sections.

pub mod broadcast;
pub mod queue;
pub mod watch;

/// A mutual-exclusion lock that spins instead of parking the thread.
///
/// The core is `no_std`, so it cannot park threads; a spin lock is the
/// portable choice. Hold it only for short, non-async critical sections
/// (copy a field, push onto a queue): never across an `.await`, never while
/// calling user code such as callbacks, destructors of user values or
/// wakers, since another thread would spin for as long as it is held.
pub use spin::Mutex;

/// A reader-writer lock that spins instead of parking the thread.
///
/// Same rules as [`Mutex`]: `no_std` forces spinning, so keep every critical
/// section short and synchronous. Prefer it over [`Mutex`] only when reads
/// clearly dominate.
pub use spin::RwLock;
