//! A wall-clock hang bound for `block_on` on real runtimes.
//!
//! The bound must hold on a paused tokio clock too, so it cannot be a timer
//! of the runtime: a plain thread waits for the bound (or for the call to
//! finish, which hangs up its channel) and then wakes the waiting future.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// `future`, failing the scenario with a panic naming `what` when it has
/// not completed after `bound` of wall time.
pub(crate) async fn bounded<F: Future>(
    what: &'static str,
    bound: Duration,
    future: F,
) -> F::Output {
    let alarm = Alarm::start(bound);
    futures_lite::future::or(future, async move {
        alarm.await;
        panic!("{what} did not complete within {bound:?}: the scenario hung");
    })
    .await
}

#[derive(Default)]
struct Shared {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// Completes when the bound has passed; dropping it ends its thread.
struct Alarm {
    shared: Arc<Shared>,
    _hang_up: mpsc::Sender<()>,
}

impl Alarm {
    fn start(bound: Duration) -> Self {
        let shared = Arc::new(Shared::default());
        let (hang_up, wait) = mpsc::channel::<()>();
        let on_thread = shared.clone();
        std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(bound) {
                on_thread.fired.store(true, Ordering::Release);
                let waker = on_thread
                    .waker
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        });
        Alarm {
            shared,
            _hang_up: hang_up,
        }
    }
}

impl Future for Alarm {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shared.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        *self
            .shared
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        // Re-check: the thread may have fired between the load and the store.
        if self.shared.fired.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
