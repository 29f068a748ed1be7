//! Task pools: the fixed set of task slots Diorama's tasks run in on an
//! embassy executor.
//!
//! embassy never allocates a task: every task lives in a slot of a
//! `static` pool whose size is chosen at compile time. Diorama spawns boxed
//! futures, so every slot holds the same type, [`PooledTask`], and one pool
//! of the size the user picks serves every task of every Dio and scenery.

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use diorama_core::runtime::BoxFuture;
use embassy_executor::SendSpawner;
use portable_atomic::{AtomicUsize, Ordering};

/// `N` task slots for Diorama's tasks, to be put in a `static`:
///
/// ```
/// static POOL: diorama_embassy::TaskPool<16> = diorama_embassy::TaskPool::new();
/// ```
///
/// Each slot costs a task header plus one boxed future (a few dozen bytes);
/// the futures themselves are on the heap. See the crate docs for how many
/// slots a Lens, a Dio and its sceneries need.
pub type TaskPool<const N: usize> = embassy_executor::raw::TaskPool<PooledTask, N>;

/// The future every pool slot holds: one task of Diorama's, boxed, plus the
/// bookkeeping behind [`PoolStats`]. Made only by
/// [`EmbassyRuntime`](crate::EmbassyRuntime).
pub struct PooledTask {
    future: Option<BoxFuture<'static, ()>>,
    counters: Arc<Counters>,
}

impl PooledTask {
    fn new(future: BoxFuture<'static, ()>, counters: Arc<Counters>) -> Self {
        PooledTask {
            future: Some(future),
            counters,
        }
    }
}

impl Future for PooledTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(());
        };
        match poll_caught(future, cx) {
            Some(Poll::Pending) => Poll::Pending,
            Some(Poll::Ready(())) => {
                self.future = None;
                Poll::Ready(())
            }
            None => {
                // It panicked: drop it, which its JoinHandle reports as lost.
                self.future = None;
                self.counters.panicked.fetch_add(1, Ordering::Relaxed);
                Poll::Ready(())
            }
        }
    }
}

/// Poll once; `None` when the future panicked (caught only with `std`).
#[cfg(feature = "std")]
fn poll_caught(future: &mut BoxFuture<'static, ()>, cx: &mut Context<'_>) -> Option<Poll<()>> {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    // The future is dropped right after a panic and never polled again, so
    // no broken invariant of it is observed: asserting unwind safety holds.
    catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))).ok()
}

/// Poll once. Without std a panic is the panic handler's (halt or reset).
#[cfg(not(feature = "std"))]
fn poll_caught(future: &mut BoxFuture<'static, ()>, cx: &mut Context<'_>) -> Option<Poll<()>> {
    Some(future.as_mut().poll(cx))
}

impl Drop for PooledTask {
    fn drop(&mut self) {
        // embassy drops a slot's future in place when it completes: the slot
        // is free again.
        self.counters.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl fmt::Debug for PooledTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledTask")
            .field("finished", &self.future.is_none())
            .finish()
    }
}

/// A [`TaskPool`] of any size, as the runtime holds it.
///
/// Implemented for every `TaskPool<N>` and sealed: the slots must hold
/// [`PooledTask`]s.
pub trait Pool: Sync + sealed::Sealed + 'static {
    /// Number of slots, `N`.
    fn capacity(&self) -> usize;

    /// Claim a free slot for `task` and hand it to `spawner`'s executor;
    /// false (and `task` dropped unrun) when every slot is taken.
    #[doc(hidden)]
    fn spawn_task(&'static self, spawner: SendSpawner, task: PooledTask) -> bool;
}

impl<const N: usize> Pool for TaskPool<N> {
    fn capacity(&self) -> usize {
        N
    }

    fn spawn_task(&'static self, spawner: SendSpawner, task: PooledTask) -> bool {
        match self.spawn(move || task) {
            Ok(token) => {
                spawner.spawn(token);
                true
            }
            Err(_busy) => false,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl<const N: usize> Sealed for super::TaskPool<N> {}
}

/// What a runtime's pool is doing: enough to size `N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Slots in the pool.
    pub capacity: usize,
    /// Tasks of this runtime holding a slot now.
    pub running: usize,
    /// The most tasks of this runtime that held a slot at once: size `N` above it.
    pub peak: usize,
    /// Spawns refused because every slot was taken (each one's `JoinHandle`
    /// yielded `JoinError::Rejected`).
    pub rejected: usize,
    /// Tasks that panicked and were dropped (only caught with feature `std`).
    pub panicked: usize,
}

/// Counters shared by a runtime and the tasks it spawned.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    running: AtomicUsize,
    peak: AtomicUsize,
    rejected: AtomicUsize,
    panicked: AtomicUsize,
}

impl Counters {
    /// Put `future` in a slot of `pool`; false when the pool is full.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        pool: &'static dyn Pool,
        spawner: SendSpawner,
        future: BoxFuture<'static, ()>,
    ) -> bool {
        // Counted before the spawn: the task may finish (and count itself
        // out) on another thread before `spawn_task` returns.
        let running = self.running.fetch_add(1, Ordering::AcqRel) + 1;
        let task = PooledTask::new(future, self.clone());
        if pool.spawn_task(spawner, task) {
            self.peak.fetch_max(running, Ordering::AcqRel);
            true
        } else {
            // The refused task was dropped, which counted it out again.
            self.rejected.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    pub(crate) fn stats(&self, capacity: usize) -> PoolStats {
        PoolStats {
            capacity,
            running: self.running.load(Ordering::Acquire),
            peak: self.peak.load(Ordering::Acquire),
            rejected: self.rejected.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
        }
    }
}
