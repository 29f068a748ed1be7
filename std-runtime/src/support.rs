//! Pieces every std runtime needs: panic containment for spawned tasks and
//! the system wall clock. Shared with `diorama-tokio` so both runtimes report
//! panics identically.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{SystemTime, UNIX_EPOCH};

use diorama_core::runtime::{BoxFuture, Timestamp};
use futures_lite::FutureExt;

/// Wrap a task so a panic while polling it is caught and logged instead of
/// unwinding into the executor.
///
/// The panic is logged through the `log` crate at error level, naming the
/// task. The task's future is then dropped, which the core observes as a lost
/// task (`JoinError::Lost` on its `JoinHandle`). The executor thread and every
/// other task keep running.
pub fn catch_panics(
    name: &'static str,
    future: BoxFuture<'static, ()>,
) -> impl Future<Output = ()> + Send + 'static {
    // AssertUnwindSafe: after a panic the future is only dropped, never
    // polled again, so no broken invariant inside it can be observed.
    let guarded = AssertUnwindSafe(future).catch_unwind();
    async move {
        if let Err(payload) = guarded.await {
            log::error!(
                "diorama task `{name}` panicked: {}",
                panic_message(payload.as_ref())
            );
        }
    }
}

/// The text of a panic payload (`panic!` with a literal or a format string),
/// or a placeholder for other payload types.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "<non-string panic payload>"
    }
}

/// The system wall clock as milliseconds since the Unix epoch; a clock set
/// before 1970 reads as the epoch itself rather than failing.
pub fn system_wall_clock() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Timestamp::from_millis(millis)
}
