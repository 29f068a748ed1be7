//! The simulator's sleep future: completes when the virtual clock reaches its deadline.

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use super::inner::{Inner, TimerKey};

/// Completes once the simulator's clock reaches `deadline`. Its timer is
/// registered on the first pending poll and removed when it completes or is
/// dropped, so an abandoned sleep leaves no pending timer behind.
pub(super) struct Sleep {
    inner: Arc<Inner>,
    deadline: Duration,
    key: Option<TimerKey>,
}

impl Sleep {
    pub(super) fn new(inner: Arc<Inner>, duration: Duration) -> Sleep {
        let deadline = inner.state.lock().now.saturating_add(duration);
        Sleep {
            inner,
            deadline,
            key: None,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let (outcome, stale) = {
            let mut state = this.inner.state.lock();
            if state.now >= this.deadline {
                let stale = this.key.take().and_then(|key| state.timers.remove(&key));
                (Poll::Ready(()), stale)
            } else if state.shut_down {
                // Nothing will ever move the clock again.
                (Poll::Pending, None)
            } else {
                let (key, stale) =
                    Inner::register_timer(&mut state, this.key, this.deadline, cx.waker());
                this.key = Some(key);
                (Poll::Pending, stale)
            }
        };
        // A waker's drop may reschedule its task: outside the lock.
        drop(stale);
        outcome
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let stale = self.inner.state.lock().timers.remove(&key);
            drop(stale);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.key.is_some())
            .finish()
    }
}
