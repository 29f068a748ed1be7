//! The run loops: run until idle, advance the clock, block on a future.

use alloc::sync::Arc;
use alloc::task::Wake;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use super::inner::{Inner, Pick};
use super::stall::Stalled;
use crate::runtime::Instant;

/// Marks the simulator as driven for as long as it lives, even through a
/// panic of a task.
pub(super) struct Driving<'a>(&'a AtomicBool);

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The waker of the `block_on` future: only raises a flag the run loop reads.
struct MainWake(AtomicBool);

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

impl Inner {
    /// Claim the right to drive the simulation.
    ///
    /// # Panics
    /// When the simulation is already being driven: from inside one of its
    /// own tasks (re-entrant driving) or from two threads at once. Both are
    /// caller bugs that would otherwise corrupt the schedule.
    pub(super) fn enter(&self) -> Driving<'_> {
        assert!(
            !self.driving.swap(true, Ordering::AcqRel),
            "SimRuntime is already being driven: run_until_idle, advance, run_for and \
             block_on must not be called from inside a simulated task or from two threads"
        );
        Driving(&self.driving)
    }

    /// Run ready tasks until none is ready; returns the polls made.
    pub(super) fn run_ready(&self, _driving: &Driving<'_>) -> usize {
        let mut polls = 0;
        while let Pick::Task(runnable) = self.pick(None) {
            runnable.run();
            polls += 1;
        }
        polls
    }

    /// Move the clock forward by `duration`, firing timers on the way, each
    /// at its own deadline; returns the polls made.
    pub(super) fn advance(&self, driving: &Driving<'_>, duration: Duration) -> usize {
        let target = self.state.lock().now.saturating_add(duration);
        let mut polls = self.run_ready(driving);
        while self.fire_next(Some(target)) {
            polls += self.run_ready(driving);
        }
        let mut state = self.state.lock();
        state.now = state.now.max(target);
        polls
    }

    pub(super) fn block_on<F: Future>(
        &self,
        _driving: &Driving<'_>,
        future: F,
    ) -> Result<F::Output, Stalled> {
        let woken = Arc::new(MainWake(AtomicBool::new(true)));
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            match self.pick(Some(&woken.0)) {
                Pick::Main => {
                    if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                        return Ok(output);
                    }
                }
                Pick::Task(runnable) => {
                    runnable.run();
                }
                Pick::Idle => {
                    if !self.fire_next(None) {
                        return Err(Stalled {
                            seed: self.seed,
                            now: self.now(),
                            live_tasks: self.live_tasks(),
                        });
                    }
                }
            }
        }
    }

    /// The deadline of the earliest pending timer.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let state = self.state.lock();
        state
            .timers
            .keys()
            .next()
            .map(|&(deadline, _)| Instant::from_origin(deadline))
    }
}
