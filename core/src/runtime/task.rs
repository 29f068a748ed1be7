//! Join handles with abort, built over a runtime's detached `spawn_boxed`.
//!
//! The core wraps every spawned future in a [`TaskFuture`] sharing a small
//! state with its [`JoinHandle`]. That keeps abort and join identical on every
//! executor, so a runtime only has to run a boxed future.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::sync::Mutex;

/// Why a task produced no output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The task was aborted through its handle.
    Aborted,
    /// The task was dropped before it finished: it panicked, or its executor
    /// shut down.
    Lost,
    /// The runtime refused the task: it dropped the future while it was being
    /// spawned, without running it once (a full task pool on a runtime with a
    /// fixed number of task slots, such as embassy's; a runtime already shut
    /// down). Nothing of the task ran.
    Rejected,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Aborted => f.write_str("task aborted"),
            JoinError::Lost => f.write_str("task lost (panicked or executor shut down)"),
            JoinError::Rejected => f.write_str(
                "task rejected by the runtime before it ran (task pool full or runtime shut down)",
            ),
        }
    }
}

impl core::error::Error for JoinError {}

struct State<T> {
    output: Option<Result<T, JoinError>>,
    finished: bool,
    /// Set at the first poll: tells a rejected task from a lost one.
    started: bool,
    aborted: bool,
    task_waker: Option<Waker>,
    join_waker: Option<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

impl<T> Shared<T> {
    /// Record the outcome once; later outcomes (a drop after completion) are ignored.
    fn finish(&self, outcome: Result<T, JoinError>) {
        let waker = {
            let mut state = self.state.lock();
            if state.finished {
                return;
            }
            state.finished = true;
            state.output = Some(outcome);
            state.join_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn abort(&self) {
        let waker = {
            let mut state = self.state.lock();
            if state.finished {
                return;
            }
            state.aborted = true;
            state.task_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Type-erased abort, so [`AbortHandle`] needs no output type.
trait Abort: Send + Sync {
    fn abort(&self);
    fn is_finished(&self) -> bool;
}

impl<T: Send> Abort for Shared<T> {
    fn abort(&self) {
        Shared::abort(self);
    }
    fn is_finished(&self) -> bool {
        self.state.lock().finished
    }
}

pub(super) fn wrap<F>(future: F) -> (TaskFuture<F>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            output: None,
            finished: false,
            started: false,
            aborted: false,
            task_waker: None,
            join_waker: None,
        }),
    });
    (
        TaskFuture {
            future: Some(Box::pin(future)),
            shared: shared.clone(),
        },
        JoinHandle { shared },
    )
}

/// The future a runtime actually runs: the user's future plus abort and
/// completion bookkeeping. The user's future is boxed so this wrapper is
/// `Unpin` and can drop it in place on abort.
pub(super) struct TaskFuture<F: Future> {
    future: Option<Pin<Box<F>>>,
    shared: Arc<Shared<F::Output>>,
}

impl<F: Future> Future for TaskFuture<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let aborted = {
            let mut state = self.shared.state.lock();
            state.started = true;
            if !state.aborted {
                match &state.task_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => state.task_waker = Some(cx.waker().clone()),
                }
            }
            state.aborted
        };
        if aborted {
            // Drop the user's future now, outside the lock, so aborting
            // releases what it holds without waiting for the executor.
            self.future = None;
            self.shared.finish(Err(JoinError::Aborted));
            return Poll::Ready(());
        }
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(());
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(output) => {
                self.future = None;
                self.shared.finish(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> Drop for TaskFuture<F> {
    fn drop(&mut self) {
        // Reached without an outcome only when the executor dropped the task
        // (panic while polling, or shutdown).
        self.future = None;
        self.shared.finish(Err(JoinError::Lost));
    }
}

/// Owned permission to await a spawned task's output and to abort it.
///
/// Dropping the handle detaches the task (it keeps running); use
/// [`abort_on_drop`](JoinHandle::abort_on_drop) to tie the task's life to a
/// guard instead.
///
/// # Cancel safety
/// Awaiting is cancel safe: dropping the `await` leaves the output in place
/// for a later poll.
pub struct JoinHandle<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> JoinHandle<T> {
    /// Ask the task to stop. Its future is dropped the next time the executor
    /// polls it (at once for the simulator); awaiting the handle then yields
    /// [`JoinError::Aborted`]. No effect on a finished task.
    pub fn abort(&self) {
        self.shared.abort();
    }

    /// True once the task has an outcome (output, aborted or lost).
    pub fn is_finished(&self) -> bool {
        self.shared.state.lock().finished
    }

    /// Called right after the runtime's `spawn_boxed` returned: a task that
    /// already ended as lost without ever being polled was dropped by the
    /// runtime during the spawn itself, so it was refused, not lost.
    pub(super) fn note_spawned(&self) {
        let mut state = self.shared.state.lock();
        if state.finished && !state.started && matches!(state.output, Some(Err(JoinError::Lost))) {
            state.output = Some(Err(JoinError::Rejected));
        }
    }

    /// A cloneable handle that can abort the task without awaiting it.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            target: self.shared.clone(),
        }
    }

    /// A guard that aborts the task when dropped.
    pub fn abort_on_drop(self) -> AbortOnDrop {
        AbortOnDrop(self.abort_handle())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.state.lock();
        if let Some(output) = state.output.take() {
            return Poll::Ready(output);
        }
        if state.finished {
            // The output was already taken by an earlier poll.
            return Poll::Ready(Err(JoinError::Lost));
        }
        state.join_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// Aborts a task without owning its output. Cheap to clone.
#[derive(Clone)]
pub struct AbortHandle {
    target: Arc<dyn Abort>,
}

impl AbortHandle {
    /// Ask the task to stop (see [`JoinHandle::abort`]).
    pub fn abort(&self) {
        self.target.abort();
    }

    /// True once the task has an outcome.
    pub fn is_finished(&self) -> bool {
        self.target.is_finished()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts its task when dropped: how sceneries tie their tasks to their own life.
#[derive(Debug)]
pub struct AbortOnDrop(AbortHandle);

impl AbortOnDrop {
    /// True once the task has an outcome.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
