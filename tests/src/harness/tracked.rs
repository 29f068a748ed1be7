//! [`TrackedRuntime`]: a runtime decorator that lets a real-runtime harness
//! see when its tasks and timers are quiet.
//!
//! A real executor cannot say "every task is waiting", which is what
//! `settle` needs. The decorator watches from outside, without changing
//! what runs where: every spawned future is wrapped so the tracker knows
//! whether it is being polled or has been woken since its last poll, and
//! every sleep is wrapped so it knows which timers are being awaited and
//! their deadlines. Tasks still run on the inner runtime's executor, sleeps
//! are the inner runtime's timers, `now` is its clock.
//!
//! Hand-written: no crate offers task-level quiescence over an arbitrary
//! executor.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use diorama_core::runtime::{BoxFuture, Instant, Runtime, Timestamp};

/// A [`Runtime`] that runs everything on an inner runtime and tracks its
/// spawned tasks and awaited sleeps; see the module docs.
/// Its clocks are the inner runtime's, unchanged.
pub struct TrackedRuntime {
    inner: Arc<dyn Runtime>,
    tracker: Arc<Tracker>,
}

impl TrackedRuntime {
    /// Track `inner`.
    pub fn new(inner: Arc<dyn Runtime>) -> Arc<Self> {
        Arc::new(TrackedRuntime {
            inner,
            tracker: Arc::default(),
        })
    }

    /// True when no tracked task is being polled or waiting to be polled,
    /// and (with `due_grace`) no awaited timer is due: due at or before
    /// `now` and by less than `due_grace` (a timer overdue longer than that
    /// is taken as abandoned, so it cannot stall a settle forever).
    pub fn quiet(&self, due_grace: Option<Duration>) -> bool {
        let now = self.inner.now();
        let state = self.tracker.lock();
        let tasks_quiet = state.tasks.values().all(|t| !t.scheduled && !t.polling);
        let timers_quiet = due_grace.is_none_or(|grace| {
            state
                .timers
                .values()
                .all(|&deadline| deadline > now || now - deadline > grace)
        });
        tasks_quiet && timers_quiet
    }

    /// The earliest deadline after `after` among the awaited timers.
    pub fn next_deadline(&self, after: Instant) -> Option<Instant> {
        let state = self.tracker.lock();
        state.timers.values().filter(|&&d| d > after).min().copied()
    }

    /// How long until the earliest awaited timer (zero when one is due but
    /// has not fired yet); timers overdue by more than `due_grace` are taken
    /// as abandoned and skipped.
    pub fn next_timer_in(&self, due_grace: Duration) -> Option<Duration> {
        let now = self.inner.now();
        let state = self.tracker.lock();
        state
            .timers
            .values()
            .filter(|&&deadline| deadline > now || now - deadline <= due_grace)
            .map(|&deadline| deadline.saturating_duration_since(now))
            .min()
    }

    /// How many sleeps are being awaited: polled at least once, neither
    /// complete nor dropped.
    pub fn awaited_timers(&self) -> usize {
        self.tracker.lock().timers.len()
    }

    /// Names of the tracked tasks still alive, in spawn order.
    pub fn live_tasks(&self) -> Vec<&'static str> {
        self.tracker.lock().tasks.values().map(|t| t.name).collect()
    }

    /// End every tracked task at its next poll (each is woken now) and drop
    /// later spawns: breaks the cycle executor → task → Dio → Lens →
    /// runtime → executor, so an owned executor and what its tasks hold can
    /// be freed.
    pub fn close(&self) {
        let wakers: Vec<Waker> = {
            let mut state = self.tracker.lock();
            state.closed = true;
            state
                .tasks
                .values_mut()
                .filter_map(|t| t.waker.take())
                .collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

impl fmt::Debug for TrackedRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let now = self.inner.now();
        let state = self.tracker.lock();
        let tasks: Vec<(&str, bool, bool)> = state
            .tasks
            .values()
            .map(|t| (t.name, t.scheduled, t.polling))
            .collect();
        // Signed distance of each awaited deadline from now, in µs.
        let timers: Vec<i128> = state
            .timers
            .values()
            .map(|&d| {
                if d >= now {
                    (d - now).as_micros() as i128
                } else {
                    -((now - d).as_micros() as i128)
                }
            })
            .collect();
        f.debug_struct("TrackedRuntime")
            .field("inner", &self.inner)
            .field("tasks (name, scheduled, polling)", &tasks)
            .field("timers (µs from now)", &timers)
            .finish()
    }
}

impl Runtime for TrackedRuntime {
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>) {
        let id = {
            let mut state = self.tracker.lock();
            if state.closed {
                return;
            }
            let id = state.next_id();
            state.tasks.insert(
                id,
                TaskEntry {
                    name,
                    // Runnable until its first poll.
                    scheduled: true,
                    polling: false,
                    waker: None,
                },
            );
            id
        };
        let task = TrackedTask {
            id,
            tracker: self.tracker.clone(),
            future,
            waker: None,
        };
        self.inner.spawn_boxed(name, Box::pin(task));
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let deadline = self.inner.now() + duration;
        let id = self.tracker.lock().next_id();
        Box::pin(TrackedSleep {
            id,
            deadline,
            registered: false,
            tracker: self.tracker.clone(),
            sleep: self.inner.sleep(duration),
        })
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn wall_clock(&self) -> Timestamp {
        self.inner.wall_clock()
    }
}

/// What the tracker knows; one lock for all of it (a test harness, so
/// simplicity over contention).
#[derive(Default)]
struct Tracker {
    state: Mutex<TrackState>,
}

impl Tracker {
    fn lock(&self) -> MutexGuard<'_, TrackState> {
        // Every update is a single field write: a poisoned lock is consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct TrackState {
    last_id: u64,
    /// Live tasks by spawn order.
    tasks: BTreeMap<u64, TaskEntry>,
    /// Awaited sleeps (polled at least once, not finished) and deadlines.
    timers: BTreeMap<u64, Instant>,
    closed: bool,
}

impl TrackState {
    fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }
}

struct TaskEntry {
    name: &'static str,
    /// Woken since its last poll began.
    scheduled: bool,
    /// Inside a poll now.
    polling: bool,
    /// The executor's waker from the last poll, for `close`.
    waker: Option<Waker>,
}

/// A spawned future as the tracker sees it.
struct TrackedTask {
    id: u64,
    tracker: Arc<Tracker>,
    future: BoxFuture<'static, ()>,
    /// The executor's waker and ours around it, rebuilt when it changes.
    waker: Option<(Waker, Waker)>,
}

impl Future for TrackedTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        {
            let mut state = this.tracker.lock();
            let closed = state.closed;
            let Some(entry) = state.tasks.get_mut(&this.id) else {
                return Poll::Ready(());
            };
            if closed {
                state.tasks.remove(&this.id);
                return Poll::Ready(());
            }
            entry.scheduled = false;
            entry.polling = true;
            entry.waker = Some(cx.waker().clone());
        }
        let ours = match &this.waker {
            Some((theirs, ours)) if theirs.will_wake(cx.waker()) => ours.clone(),
            _ => {
                let ours = Waker::from(Arc::new(TaskWaker {
                    id: this.id,
                    tracker: this.tracker.clone(),
                    inner: cx.waker().clone(),
                }));
                this.waker = Some((cx.waker().clone(), ours.clone()));
                ours
            }
        };
        let outcome = this.future.as_mut().poll(&mut Context::from_waker(&ours));
        let mut state = this.tracker.lock();
        match outcome {
            Poll::Ready(()) => {
                state.tasks.remove(&this.id);
            }
            Poll::Pending => {
                if let Some(entry) = state.tasks.get_mut(&this.id) {
                    entry.polling = false;
                }
            }
        }
        outcome
    }
}

impl Drop for TrackedTask {
    fn drop(&mut self) {
        self.tracker.lock().tasks.remove(&self.id);
    }
}

/// Marks its task scheduled, then wakes it: in that order, so a poll the
/// wake causes always clears the mark.
struct TaskWaker {
    id: u64,
    tracker: Arc<Tracker>,
    inner: Waker,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(entry) = self.tracker.lock().tasks.get_mut(&self.id) {
            entry.scheduled = true;
        }
        self.inner.wake_by_ref();
    }
}

/// A sleep as the tracker sees it: registered while awaited.
struct TrackedSleep {
    id: u64,
    deadline: Instant,
    registered: bool,
    tracker: Arc<Tracker>,
    sleep: BoxFuture<'static, ()>,
}

impl Future for TrackedSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if !this.registered {
            this.registered = true;
            this.tracker.lock().timers.insert(this.id, this.deadline);
        }
        let outcome = this.sleep.as_mut().poll(cx);
        if outcome.is_ready() {
            this.tracker.lock().timers.remove(&this.id);
        }
        outcome
    }
}

impl Drop for TrackedSleep {
    fn drop(&mut self) {
        if self.registered {
            self.tracker.lock().timers.remove(&self.id);
        }
    }
}
