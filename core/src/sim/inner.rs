//! The simulator's shared state: ready queue, timers, live tasks, clock and trace.
//!
//! One rule keeps it re-entrancy safe: the state lock is held only to move
//! data in or out. Nothing that can run user code (polling, waking, dropping
//! a `Runnable`, `Waker`, `Task` or future) happens while it is held, because
//! any of those may call back into the simulator (spawn, sleep, schedule).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Waker;
use core::time::Duration;

use crate::sync::Mutex;
use async_task::{Runnable, Task};
use fastrand::Rng;

use super::trace::TraceEntry;
use crate::runtime::{BoxFuture, Instant, Timestamp};

/// What each task carries for the scheduler and the trace.
#[derive(Clone, Copy, Debug)]
pub(super) struct TaskMeta {
    pub(super) id: u64,
    pub(super) name: &'static str,
}

/// Id and name of the `block_on` future in the trace.
pub(super) const MAIN: TaskMeta = TaskMeta {
    id: 0,
    name: "main",
};

/// A timer's key: deadline first so the map iterates in firing order, then a
/// sequence number so equal deadlines keep registration order.
pub(super) type TimerKey = (Duration, u64);

pub(super) struct Inner {
    pub(super) seed: u64,
    pub(super) epoch: Timestamp,
    pub(super) state: Mutex<State>,
    /// Set while a thread drives the simulation, to catch re-entrant driving.
    pub(super) driving: AtomicBool,
}

pub(super) struct State {
    pub(super) now: Duration,
    rng: Rng,
    ready: Vec<Runnable<TaskMeta>>,
    pub(super) timers: BTreeMap<TimerKey, Waker>,
    next_timer: u64,
    /// Spawned tasks whose future is not dropped yet. Keeping the `Task`
    /// handles (instead of detaching) lets shutdown cancel tasks that only
    /// someone outside the simulator could wake.
    tasks: BTreeMap<u64, LiveTask>,
    next_task: u64,
    pub(super) trace: Vec<TraceEntry>,
    pub(super) tracing: bool,
    pub(super) shut_down: bool,
    /// Tasks woken after shutdown, dropped by `shutdown` rather than in the
    /// wake: a wake can come from inside another primitive's notify, where
    /// dropping a future that notifies that primitive again would deadlock.
    rejected: Vec<Runnable<TaskMeta>>,
}

struct LiveTask {
    name: &'static str,
    // Only held, never read: dropping it cancels the task (see `shutdown`).
    _task: Task<(), TaskMeta>,
}

/// What the driver runs next.
pub(super) enum Pick {
    Task(Runnable<TaskMeta>),
    Main,
    Idle,
}

impl Inner {
    pub(super) fn new(seed: u64, epoch: Timestamp) -> Arc<Inner> {
        Arc::new(Inner {
            seed,
            epoch,
            state: Mutex::new(State {
                now: Duration::ZERO,
                rng: Rng::with_seed(seed),
                ready: Vec::new(),
                timers: BTreeMap::new(),
                next_timer: 0,
                tasks: BTreeMap::new(),
                next_task: 0,
                trace: Vec::new(),
                tracing: true,
                shut_down: false,
                rejected: Vec::new(),
            }),
            driving: AtomicBool::new(false),
        })
    }

    pub(super) fn now(&self) -> Instant {
        Instant::from_origin(self.state.lock().now)
    }

    pub(super) fn wall_clock(&self) -> Timestamp {
        self.epoch + self.state.lock().now
    }

    pub(super) fn spawn(self: &Arc<Self>, name: &'static str, future: BoxFuture<'static, ()>) {
        let id = {
            let mut state = self.state.lock();
            if state.shut_down {
                None
            } else {
                state.next_task += 1;
                Some(state.next_task)
            }
        };
        let Some(id) = id else {
            // A shut-down simulator runs nothing: the task is lost.
            drop(future);
            return;
        };
        let guard = LiveGuard {
            id,
            inner: Arc::downgrade(self),
        };
        let weak = Arc::downgrade(self);
        let (runnable, task) = async_task::Builder::new()
            .metadata(TaskMeta { id, name })
            .spawn(
                move |_| async move {
                    let _guard = guard;
                    future.await;
                },
                move |runnable| schedule(&weak, runnable),
            );
        let rejected = {
            let mut state = self.state.lock();
            if state.shut_down {
                Some((runnable, task))
            } else {
                state.tasks.insert(id, LiveTask { name, _task: task });
                state.ready.push(runnable);
                None
            }
        };
        drop(rejected);
    }

    /// Choose what runs next, pseudo-randomly among the ready tasks and (when
    /// `main` is set and woken) the main future, and record the choice.
    pub(super) fn pick(&self, main: Option<&AtomicBool>) -> Pick {
        let mut state = self.state.lock();
        let tasks = state.ready.len();
        let main_ready = main.is_some_and(|woken| woken.load(Ordering::Acquire));
        let candidates = tasks + usize::from(main_ready);
        if candidates == 0 {
            return Pick::Idle;
        }
        let chosen = state.rng.usize(..candidates);
        let (pick, meta) = if chosen == tasks {
            if let Some(woken) = main {
                // Cleared before the poll, so a wake during it is kept.
                woken.store(false, Ordering::Release);
            }
            (Pick::Main, MAIN)
        } else {
            let runnable = state.ready.swap_remove(chosen);
            let meta = *runnable.metadata();
            (Pick::Task(runnable), meta)
        };
        if state.tracing {
            let at = Instant::from_origin(state.now);
            state.trace.push(TraceEntry {
                task: meta.id,
                name: meta.name,
                at,
            });
        }
        pick
    }

    /// Fire every timer with the earliest deadline if that deadline is at
    /// most `limit`, moving the clock to it. Returns false when no timer was
    /// due.
    pub(super) fn fire_next(&self, limit: Option<Duration>) -> bool {
        let fired = {
            let mut state = self.state.lock();
            let Some(&(deadline, _)) = state.timers.keys().next() else {
                return false;
            };
            if limit.is_some_and(|limit| deadline > limit) {
                return false;
            }
            state.now = state.now.max(deadline);
            let mut fired = Vec::new();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().0 != deadline {
                    break;
                }
                fired.push(entry.remove());
            }
            fired
        };
        for waker in fired {
            waker.wake();
        }
        true
    }

    /// Register or refresh a timer; returns the key and the waker it
    /// replaced (to be dropped by the caller, outside the lock).
    pub(super) fn register_timer(
        state: &mut State,
        key: Option<TimerKey>,
        deadline: Duration,
        waker: &Waker,
    ) -> (TimerKey, Option<Waker>) {
        if let Some(key) = key
            && let Some(stored) = state.timers.get_mut(&key)
        {
            if stored.will_wake(waker) {
                return (key, None);
            }
            return (key, Some(core::mem::replace(stored, waker.clone())));
        }
        state.next_timer += 1;
        let key = (deadline, state.next_timer);
        state.timers.insert(key, waker.clone());
        (key, None)
    }

    pub(super) fn live_tasks(&self) -> Vec<&'static str> {
        self.state.lock().tasks.values().map(|t| t.name).collect()
    }

    pub(super) fn ready_count(&self) -> usize {
        self.state.lock().ready.len()
    }

    /// Cancel every task and timer; from now on spawned tasks are dropped at
    /// once and sleeps never complete.
    pub(super) fn shutdown(&self) {
        let (ready, timers, tasks) = {
            let mut state = self.state.lock();
            state.shut_down = true;
            (
                core::mem::take(&mut state.ready),
                core::mem::take(&mut state.timers),
                core::mem::take(&mut state.tasks),
            )
        };
        // Dropping a scheduled `Runnable` drops its future; dropping a `Task`
        // handle reschedules an idle task once, which `schedule` turns into
        // dropping its future since the simulator is shut down.
        drop(ready);
        drop(timers);
        drop(tasks);
        // Dropping futures may wake (and so reject) others: until none is left.
        loop {
            let rejected = core::mem::take(&mut self.state.lock().rejected);
            if rejected.is_empty() {
                break;
            }
            drop(rejected);
        }
    }
}

/// The schedule function of every task: push the woken task onto the ready
/// queue. May be called from any thread.
fn schedule(inner: &Weak<Inner>, runnable: Runnable<TaskMeta>) {
    // With the simulator gone, dropping the runnable drops the future.
    let Some(inner) = inner.upgrade() else {
        return;
    };
    let mut state = inner.state.lock();
    if state.shut_down {
        state.rejected.push(runnable);
    } else {
        state.ready.push(runnable);
    }
}

/// Lives inside a task's future; its drop (completion, abort, cancellation
/// or panic) removes the task from the live list.
struct LiveGuard {
    id: u64,
    inner: Weak<Inner>,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            let removed = inner.state.lock().tasks.remove(&self.id);
            drop(removed);
        }
    }
}
