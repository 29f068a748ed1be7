//! The harness itself, which every other check relies on: `settle` runs
//! chains of wakes to the end and leaves a virtual clock where it was;
//! `advance` fires each timer at its own deadline, never early;
//! `live_tasks` follows tasks to their end.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diorama_core::RuntimeExt;
use diorama_core::runtime::Instant;
use diorama_core::sync::queue;

use super::support::assert_span;
use crate::harness::Harness;

/// `settle` runs a chain of three wakes (test → first → second) to its
/// end, without moving a virtual clock; both tasks are gone afterwards.
pub fn settle_runs_chains_of_wakes<H: Harness>(h: &H) {
    let rt = h.runtime();
    let start = rt.now();
    let (to_first, first_inbox) = queue::channel::<()>(1);
    let (to_second, second_inbox) = queue::channel::<()>(1);
    let done = Arc::new(Mutex::new(false));
    rt.spawn("second", {
        let done = done.clone();
        async move {
            second_inbox.recv().await.expect("first sends");
            *done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        }
    });
    rt.spawn("first", async move {
        first_inbox.recv().await.expect("the test sends");
        to_second.send(()).await.expect("second listens");
    });
    to_first.try_send(()).expect("room for one");
    h.settle();
    assert!(
        *done.lock().unwrap_or_else(PoisonError::into_inner),
        "settle ran the whole chain"
    );
    assert_eq!(h.live_tasks(), Some(vec![]), "both tasks ended");
    if h.virtual_clock() {
        assert_eq!(rt.now(), start, "settle does not move a virtual clock");
    }
}

/// `advance` fires timers of 1, 2 and 3 steps (in deadline order where
/// tasks run one at a time), none before its deadline (half a step fires nothing, unless a real clock
/// moved on by a step meanwhile), each exactly at it on a virtual clock;
/// `live_tasks` counts the sleepers, then none.
pub fn advance_fires_each_timer_at_its_deadline<H: Harness>(h: &H) {
    let rt = h.runtime();
    let fired: Arc<Mutex<Vec<(u32, Instant)>>> = Arc::default();
    let base = rt.now();
    let step = h.scaled(Duration::from_secs(60));
    for k in [3, 1, 2] {
        // Made here, so its deadline does not depend on when its task is
        // first polled.
        let sleep = rt.sleep(k * step);
        let (fired, rt2) = (fired.clone(), rt.clone());
        rt.spawn("sleeper", async move {
            sleep.await;
            let at = rt2.now();
            fired
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((k, at));
        });
    }
    h.settle();
    // On a real clock, only while less than a step has passed: a busy
    // machine may have let the first timer fire already.
    if rt.now() - base < step {
        assert_eq!(h.live_tasks().map(|l| l.len()), Some(3));
    }
    h.advance(step / 2);
    // On a real clock the harness's own work may have taken a step by now;
    // only then may a timer have fired.
    if rt.now() - base < step {
        assert!(
            fired
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty(),
            "no timer fires early"
        );
    }
    h.advance(3 * step);
    let fired = fired.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut order: Vec<u32> = fired.iter().map(|(k, _)| *k).collect();
    if h.parallel() {
        // Two tasks woken close together may finish in either order; the
        // timers' own order is `timers::timers_fire_in_deadline_order_never_early`'s.
        order.sort_unstable();
    }
    assert_eq!(order, [1, 2, 3], "timers fire in deadline order");
    for (k, at) in &fired {
        assert_span(h, *at - base, *k * step, &format!("timer {k}"));
    }
    assert_eq!(h.live_tasks(), Some(vec![]), "every sleeper ended");
}
