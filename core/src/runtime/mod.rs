//! The executor abstraction: everything in the core runs over an
//! object-safe [`Runtime`] held as `Arc<dyn Runtime>`.
//!
//! A runtime offers four things: spawn a detached task, sleep, a monotonic
//! clock ([`Instant`]) and a wall clock ([`Timestamp`], for `fetched_at`
//! stamps that must survive a restart). Join handles, abort and channels are
//! built by the core on top of these, so an implementation is one small file
//! (see `diorama-std`, `diorama-tokio` and the simulator in `sim`).

mod task;
mod time;

pub use task::{AbortHandle, AbortOnDrop, JoinError, JoinHandle};
pub use time::{Instant, Timestamp};

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt::Debug;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;

/// A boxed, `Send` future: the shape every object-safe async method in
/// Diorama returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An executor, a timer and two clocks, object-safe so the public API carries
/// no executor type parameter.
///
/// Implementations must run spawned futures to completion (or until they are
/// dropped at executor shutdown) and must not block the caller of
/// [`spawn_boxed`](Runtime::spawn_boxed). A panic in a spawned future must not
/// bring down the runtime: implementations that can catch it report it and
/// drop the task, which the core observes as a lost task
/// ([`JoinError::Lost`]). A runtime that cannot take a task (a fixed task
/// pool that is full) drops the future inside `spawn_boxed` without polling
/// it: [`RuntimeExt::spawn`] reports that as [`JoinError::Rejected`].
pub trait Runtime: Send + Sync + Debug {
    /// Start `future` as a detached task. `name` is a static label for
    /// diagnostics (the simulator lists live tasks by it).
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>);

    /// A future that completes once `duration` has passed on this runtime's
    /// clock. Dropping it cancels the timer.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;

    /// Monotonic time since a runtime-chosen origin.
    fn now(&self) -> Instant;

    /// Wall-clock time, used for timestamps that are persisted (for example
    /// a cached row's `fetched_at`). Not guaranteed monotonic.
    fn wall_clock(&self) -> Timestamp;
}

/// Typed conveniences over any [`Runtime`], including `dyn Runtime`.
pub trait RuntimeExt: Runtime {
    /// Spawn `future` and return a [`JoinHandle`] that yields its output and
    /// can abort it. Dropping the handle detaches the task; it keeps running.
    ///
    /// A runtime that cannot take the task (a full task pool) drops it inside
    /// [`spawn_boxed`](Runtime::spawn_boxed) without polling it; the handle
    /// then yields [`JoinError::Rejected`] and nothing of the task ran.
    fn spawn<F>(&self, name: &'static str, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, handle) = task::wrap(future);
        self.spawn_boxed(name, Box::pin(task));
        handle.note_spawned();
        handle
    }

    /// Run `future` with a deadline: `Some(output)` if it finished within
    /// `duration`, `None` if the timer fired first (the future is dropped).
    fn timeout<F>(&self, duration: Duration, future: F) -> BoxFuture<'static, Option<F::Output>>
    where
        F: Future + Send + 'static,
    {
        let sleep = self.sleep(duration);
        Box::pin(futures_lite::future::or(
            async move { Some(future.await) },
            async move {
                sleep.await;
                None
            },
        ))
    }
}

impl<R: Runtime + ?Sized> RuntimeExt for R {}

/// Anything that can be held as the shared `Arc<dyn Runtime>` a Lens keeps:
/// a [`Runtime`] by value (`SmolRuntime::global()`, `TokioRuntime::current()`),
/// or one already shared (`Arc<dyn Runtime>`, as `SimRuntime::runtime()`
/// returns, or an `Arc<R>`).
///
/// Taken by [`LensBuilder::runtime`](crate::LensBuilder::runtime) and
/// [`MemoryVista::set_latency`](crate::MemoryVista::set_latency), so callers
/// never wrap a runtime themselves.
pub trait IntoRuntime {
    /// This runtime, shared.
    fn into_runtime(self) -> Arc<dyn Runtime>;
}

impl<R: Runtime + 'static> IntoRuntime for R {
    fn into_runtime(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl IntoRuntime for Arc<dyn Runtime> {
    fn into_runtime(self) -> Arc<dyn Runtime> {
        self
    }
}

impl<R: Runtime + 'static> IntoRuntime for Arc<R> {
    fn into_runtime(self) -> Arc<dyn Runtime> {
        self
    }
}
