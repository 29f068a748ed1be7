//! A sleep that forgets its waker when dropped (feature `host`, where
//! embassy-time's generic queue takes any waker).
//!
//! embassy-time's timer queues keep a timer's waker until its deadline, even
//! after the `Timer` was dropped, and then wake it. The `Runtime` contract
//! says a dropped sleep never wakes anything (a task that stopped waiting
//! must not be polled for it, a waker that was handed out must not fire),
//! so the waker embassy holds is a relay that forwards to the caller's
//! current waker, and dropping the sleep empties the relay.

use alloc::sync::Arc;
use alloc::task::Wake;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use diorama_core::sync::Mutex;
use embassy_time::Timer;

/// Sleeps until an embassy-time deadline; see the module docs.
pub(crate) struct Sleep {
    timer: Timer,
    relay: Arc<Relay>,
}

impl Sleep {
    pub(crate) fn until(deadline: embassy_time::Instant) -> Self {
        Sleep {
            timer: Timer::at(deadline),
            relay: Arc::new(Relay::default()),
        }
    }
}

/// The waker embassy's queue holds: wakes whoever polled the sleep last,
/// nobody once the sleep is gone.
#[derive(Default)]
struct Relay {
    waker: Mutex<Option<Waker>>,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Taken out before waking: a waker may poll (and lock) at once.
        let waker = self.waker.lock().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        {
            let mut waker = self.relay.waker.lock();
            match waker.as_mut() {
                Some(current) if current.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        let relay = Waker::from(self.relay.clone());
        let outcome = Pin::new(&mut self.timer).poll(&mut Context::from_waker(&relay));
        if outcome.is_ready() {
            self.relay.waker.lock().take();
        }
        outcome
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.relay.waker.lock().take();
    }
}
