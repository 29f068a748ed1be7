//! Timers: sleeps fire in deadline order and never early, a dropped sleep
//! never wakes anything, `RuntimeExt::timeout` picks the winner.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_lite::future;

use diorama_core::RuntimeExt;
use diorama_core::runtime::{BoxFuture, Instant};

use super::support::{WakeCount, assert_no_live_tasks, assert_span, assert_timers_awaited};
use crate::harness::Harness;

/// Sleeps of 0, 1, 2 and 3 steps, made at once and all polled by one
/// future, become ready in deadline order: each time it looks (latest
/// deadline first) and finds one ready, every earlier one is ready too.
/// None is ready before its deadline; on a virtual clock each exactly at it.
pub fn timers_fire_in_deadline_order_never_early<H: Harness>(h: &H) {
    let rt = h.runtime();
    let step = h.scaled(Duration::from_secs(120));
    let base = rt.now();
    let mut sleeps: Vec<Option<BoxFuture<'static, ()>>> =
        (0..4u32).map(|k| Some(rt.sleep(k * step))).collect();
    let mut ready_at: Vec<Option<Instant>> = vec![None; sleeps.len()];
    h.block_on(future::poll_fn(|cx| {
        // Polled latest first, so a later sleep found ready fired before
        // every look at an earlier one that follows.
        let mut later_ready = None;
        for k in (0..sleeps.len()).rev() {
            if let Some(sleep) = &mut sleeps[k] {
                if sleep.as_mut().poll(cx).is_ready() {
                    sleeps[k] = None;
                    ready_at[k] = Some(rt.now());
                } else if let Some(later) = later_ready {
                    panic!("the sleep of {later} steps fired before the one of {k}");
                }
            }
            if sleeps[k].is_none() && later_ready.is_none() {
                later_ready = Some(k);
            }
        }
        if sleeps.iter().all(Option::is_none) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
    for (k, at) in ready_at.into_iter().enumerate() {
        let at = at.expect("every sleep completed");
        assert_span(
            h,
            at - base,
            k as u32 * step,
            &format!("the sleep of {k} steps"),
        );
    }
    assert_timers_awaited(h, 0, "after every sleep completed");
}

/// Tasks sleeping 0, 1, 2 and 3 steps (spawned out of order, each sleep
/// made before its task) all wake, none before its deadline, on a virtual
/// clock each exactly at it; where tasks run one at a time (not
/// [`parallel`](Harness::parallel)) they finish in deadline order.
pub fn sleeping_tasks_wake_in_deadline_order_never_early<H: Harness>(h: &H) {
    let rt = h.runtime();
    let step = h.scaled(Duration::from_secs(120));
    let woke: Arc<Mutex<Vec<(u32, Instant)>>> = Arc::default();
    let base = rt.now();
    let mut handles = Vec::new();
    for k in [3u32, 1, 0, 2] {
        let sleep = rt.sleep(k * step);
        let (rt2, woke) = (rt.clone(), woke.clone());
        handles.push(rt.spawn("sleeper", async move {
            sleep.await;
            let at = rt2.now();
            woke.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((k, at));
        }));
    }
    h.block_on(async {
        for handle in handles {
            handle.await.expect("a sleeper finishes");
        }
    });
    let mut woke = woke.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let order: Vec<u32> = woke.iter().map(|&(k, _)| k).collect();
    if !h.parallel() {
        assert_eq!(order, [0, 1, 2, 3], "sleepers wake in deadline order");
    }
    woke.sort_unstable_by_key(|&(k, _)| k);
    assert_eq!(
        woke.iter().map(|&(k, _)| k).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    for (k, at) in woke {
        assert_span(h, at - base, k * step, &format!("sleeper {k}"));
    }
    assert_timers_awaited(h, 0, "after every sleeper woke");
    assert_no_live_tasks(h, "after every sleeper woke");
}

/// A sleep polled once and then dropped never calls its waker, even once
/// its deadline has long passed; a twin kept alive is woken at its
/// deadline. Both timers are gone afterwards.
pub fn a_dropped_sleep_never_wakes_anything<H: Harness>(h: &H) {
    let rt = h.runtime();
    let step = h.scaled(Duration::from_secs(60));
    let dropped_wakes = Arc::new(WakeCount::default());
    let kept_wakes = Arc::new(WakeCount::default());
    h.block_on(async {
        let mut dropped = rt.sleep(step);
        let mut kept = rt.sleep(step);
        let dropped_waker = Waker::from(dropped_wakes.clone());
        let kept_waker = Waker::from(kept_wakes.clone());
        assert!(
            dropped
                .as_mut()
                .poll(&mut Context::from_waker(&dropped_waker))
                .is_pending()
        );
        assert!(
            kept.as_mut()
                .poll(&mut Context::from_waker(&kept_waker))
                .is_pending()
        );
        drop(dropped);
        // Past both deadlines: the kept timer fired first, waking its waker.
        rt.sleep(2 * step).await;
        assert!(
            kept_wakes.get() >= 1,
            "the kept sleep is woken at its deadline"
        );
        kept.await;
    });
    h.advance(2 * step);
    assert_eq!(dropped_wakes.get(), 0, "a dropped sleep never wakes");
    assert_timers_awaited(h, 0, "both sleeps are gone");
}

/// `RuntimeExt::timeout` yields `Some(output)` when the future wins and
/// `None` when the timer does, dropping the loser (its timer goes with it)
/// after exactly the span on a virtual clock. A future that never
/// completes and a sleep of `Duration::MAX` both lose.
pub fn timeouts_yield_the_output_or_none<H: Harness>(h: &H) {
    let rt = h.runtime();
    let step = h.scaled(Duration::from_secs(60));
    let long = Duration::from_secs(3_600);

    assert_eq!(h.block_on(rt.timeout(long, async { 5 })), Some(5));

    let start = rt.now();
    assert_eq!(h.block_on(rt.timeout(step, rt.sleep(long))), None);
    assert_span(h, rt.now() - start, step, "a timeout that fires");
    assert_timers_awaited(h, 0, "the losing sleep was dropped");

    let start = rt.now();
    assert_eq!(h.block_on(rt.timeout(2 * step, rt.sleep(step))), Some(()));
    assert_span(h, rt.now() - start, step, "a future that wins");
    assert_timers_awaited(h, 0, "the losing timer was dropped");

    let never = future::pending::<()>();
    assert_eq!(h.block_on(rt.timeout(step, never)), None);
    assert_eq!(
        h.block_on(rt.timeout(step, rt.sleep(Duration::MAX))),
        None,
        "a sleep of Duration::MAX never fires"
    );
    assert_timers_awaited(h, 0, "after every timeout");
    assert_no_live_tasks(h, "after every timeout");
}
