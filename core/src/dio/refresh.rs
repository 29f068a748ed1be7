//! Manual and scheduled refresh: one path, `Refreshing` then `Invalidated`
//! or `RefreshFailed` — also when the refresh is dropped half-way.

use alloc::sync::Weak;
use core::time::Duration;

use super::{Dio, DioEvent, DioInner};
use crate::error::{Error, ErrorKind, Result};
use tracing::Instrument;

/// Closes a `Refreshing` with `RefreshFailed { Cancelled }` when the refresh
/// is dropped before its outcome (a caller gave up, the loop was aborted).
struct Unfinished<'a> {
    dio: &'a Dio,
    armed: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.dio.publish(DioEvent::RefreshFailed {
                error: Error::new(
                    ErrorKind::Cancelled,
                    "the refresh was dropped before it finished",
                ),
            });
        }
    }
}

/// The one refresh path shared by `Dio::refresh` and the loop.
pub(super) async fn run(dio: &Dio) -> Result<()> {
    dio.publish(DioEvent::Refreshing);
    let mut unfinished = Unfinished { dio, armed: true };
    let span = super::spans::refresh(dio.table_name());
    let outcome = match dio.policy().on_refresh() {
        Some(on_refresh) => on_refresh(dio).instrument(span.clone()).await,
        None => Ok(()),
    };
    super::spans::outcome(&span, &outcome);
    // No await from here on: the outcome below is published in full.
    unfinished.armed = false;
    match outcome {
        Ok(()) => {
            // Cold again: the next read of each query asks on_query anew.
            dio.mark_invalidated();
            dio.publish(DioEvent::Invalidated);
            Ok(())
        }
        Err(error) => {
            dio.publish(DioEvent::RefreshFailed {
                error: error.clone(),
            });
            Err(error)
        }
    }
}

/// Refresh every `interval`, first after one interval (never at t=0), on a
/// fixed schedule (a slow refresh does not shift later ticks; missed ticks
/// are skipped). Holds the Dio weakly; ends when it is gone or aborted.
pub(super) async fn run_loop(dio: Weak<DioInner>, interval: Duration) {
    let Some(runtime) = dio.upgrade().map(|inner| inner.policy.runtime().clone()) else {
        return;
    };
    let mut next = runtime.now() + interval;
    loop {
        let now = runtime.now();
        if next > now {
            runtime.sleep(next - now).await;
        }
        let Some(handle) = Dio::upgrade(&dio) else {
            return;
        };
        if handle.is_shutting_down() {
            return;
        }
        // Errors are published as RefreshFailed; the loop goes on.
        let _ = run(&handle).await;
        drop(handle);
        let now = runtime.now();
        next = next + interval;
        while next <= now {
            next = next + interval;
        }
    }
}
