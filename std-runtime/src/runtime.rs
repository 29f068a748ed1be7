//! [`SmolRuntime`]: Diorama on smol's executors and async-io timers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use diorama_core::runtime::{BoxFuture, Instant, Runtime, Timestamp};

use crate::support::{catch_panics, system_wall_clock};

/// Where spawned tasks go.
enum Target {
    /// `smol::spawn`: smol's global executor, driven by its own threads.
    Global,
    /// An executor owned by the application, driven by whoever runs it.
    Executor(Arc<Executor<'static>>),
}

/// A [`Runtime`] on smol: tasks on smol's global executor or on an
/// [`async_executor::Executor`] you drive, timers from `async-io`.
///
/// - [`now`](Runtime::now) is `std::time::Instant` measured from the moment
///   the runtime was built.
/// - [`wall_clock`](Runtime::wall_clock) is the system clock.
/// - A spawned task that panics is logged at error level with its name and
///   dropped (its `JoinHandle` yields `JoinError::Lost`); the executor keeps
///   running.
///
/// Cloning is cheap and clones share the executor and the clock origin.
#[derive(Clone)]
pub struct SmolRuntime {
    target: Arc<Target>,
    origin: std::time::Instant,
}

impl SmolRuntime {
    /// A runtime spawning on smol's global executor (`smol::spawn`), which
    /// runs on its own threads (see `SMOL_THREADS`); nothing else to drive.
    pub fn global() -> Self {
        Self::with_target(Target::Global)
    }

    /// A runtime spawning on `executor`. Tasks only make progress while some
    /// thread runs the executor (`executor.run(..)` or `tick`), so the caller
    /// must drive it, for example with `block_on(executor.run(main))`.
    pub fn with_executor(executor: Arc<Executor<'static>>) -> Self {
        Self::with_target(Target::Executor(executor))
    }

    fn with_target(target: Target) -> Self {
        // Contended core locks yield the thread instead of spinning on.
        diorama_core::sync::wait_when_contended(std::thread::yield_now);
        SmolRuntime {
            target: Arc::new(target),
            origin: std::time::Instant::now(),
        }
    }

    /// This runtime shared as `Arc<dyn Runtime>`, for code that holds runtimes
    /// that way. A Lens takes it by value: `.runtime(SmolRuntime::global())`.
    pub fn arc(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Default for SmolRuntime {
    /// The same as [`SmolRuntime::global`].
    fn default() -> Self {
        Self::global()
    }
}

impl fmt::Debug for SmolRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let executor = match *self.target {
            Target::Global => "global",
            Target::Executor(_) => "owned",
        };
        f.debug_struct("SmolRuntime")
            .field("executor", &executor)
            .finish_non_exhaustive()
    }
}

impl Runtime for SmolRuntime {
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>) {
        let task = catch_panics(name, future);
        match &*self.target {
            Target::Global => smol::spawn(task).detach(),
            Target::Executor(executor) => executor.spawn(task).detach(),
        }
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        // Timer::after turns an overflowing deadline into a timer that never
        // fires, which is what "sleep for Duration::MAX" means.
        let timer = async_io::Timer::after(duration);
        Box::pin(async move {
            timer.await;
        })
    }

    fn now(&self) -> Instant {
        Instant::from_origin(self.origin.elapsed())
    }

    fn wall_clock(&self) -> Timestamp {
        system_wall_clock()
    }
}
