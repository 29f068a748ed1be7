//! [`TokioRuntime`]: Diorama on a tokio runtime's scheduler and timers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::error::{Error, Result};
use diorama_core::runtime::{BoxFuture, Instant, Runtime, Timestamp};
use diorama_std::support::{catch_panics, system_wall_clock};
use tokio::runtime::Handle;

/// A [`Runtime`] on tokio: tasks spawned through a [`Handle`], timers from
/// `tokio::time`. Works on the current-thread and multi-thread schedulers.
///
/// - [`now`](Runtime::now) reads `tokio::time::Instant`, so a paused clock
///   (`tokio::time::pause`, `#[tokio::test(start_paused = true)]`) drives it
///   and virtual sleeps show up in it. The origin is the moment the runtime
///   was built.
/// - [`wall_clock`](Runtime::wall_clock) is the system clock read when the
///   runtime was built, moved on by tokio's clock since: it follows a paused
///   clock too (`tokio::time::pause` / `advance`), so TTLs age in tests, and
///   it does not jump when the system clock is set.
/// - A spawned task that panics is logged at error level with its name and
///   dropped (its `JoinHandle` yields `JoinError::Lost`); the scheduler keeps
///   running.
///
/// Every method enters the handle's context first, so the runtime may be
/// used from threads outside tokio. The tokio runtime must have its time
/// driver enabled (`enable_time()` / `enable_all()`; `#[tokio::main]` and
/// `#[tokio::test]` do this), otherwise tokio panics on the first sleep.
///
/// Cloning is cheap and clones share the handle and the clock origin.
#[derive(Clone)]
pub struct TokioRuntime {
    handle: Handle,
    origin: tokio::time::Instant,
    wall_origin: Timestamp,
}

impl TokioRuntime {
    /// The runtime the calling code runs in.
    ///
    /// # Panics
    /// When called outside a tokio runtime; use
    /// [`try_current`](TokioRuntime::try_current) to get an error instead.
    pub fn current() -> Self {
        match Self::try_current() {
            Ok(runtime) => runtime,
            Err(error) => panic!("TokioRuntime::current: {error}"),
        }
    }

    /// The runtime the calling code runs in, or an error of kind
    /// [`Failed`](diorama_core::ErrorKind::Failed) when called outside any
    /// tokio runtime.
    pub fn try_current() -> Result<Self> {
        Handle::try_current().map(Self::from_handle).map_err(|e| {
            Error::failed(format!(
                "no tokio runtime here ({e}); call from inside a tokio runtime or use TokioRuntime::from_handle"
            ))
        })
    }

    /// A runtime spawning on `handle`'s scheduler and using its clock.
    pub fn from_handle(handle: Handle) -> Self {
        // Contended core locks yield the thread instead of spinning on.
        diorama_core::sync::wait_when_contended(std::thread::yield_now);
        let origin = {
            let _context = handle.enter();
            tokio::time::Instant::now()
        };
        TokioRuntime {
            handle,
            origin,
            wall_origin: system_wall_clock(),
        }
    }

    /// The tokio handle tasks are spawned on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// This runtime shared as `Arc<dyn Runtime>`, for code that holds runtimes
    /// that way. A Lens takes it by value: `.runtime(TokioRuntime::current())`.
    pub fn arc(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl fmt::Debug for TokioRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioRuntime")
            .field("flavor", &self.handle.runtime_flavor())
            .finish_non_exhaustive()
    }
}

impl Runtime for TokioRuntime {
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>) {
        // Tokio would catch the panic itself, but silently into a JoinHandle
        // nobody holds; the wrapper logs it with the task's name.
        drop(self.handle.spawn(catch_panics(name, future)));
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        // `tokio::time::sleep` binds to the time driver of the current
        // context when created, so create it inside this runtime's context.
        let _context = self.handle.enter();
        Box::pin(tokio::time::sleep(duration))
    }

    fn now(&self) -> Instant {
        // The paused test clock belongs to the runtime's context.
        let _context = self.handle.enter();
        Instant::from_origin(tokio::time::Instant::now().saturating_duration_since(self.origin))
    }

    fn wall_clock(&self) -> Timestamp {
        self.wall_origin + self.now().since_origin()
    }
}
