//! The harnesses themselves: `settle` runs chains of wakes to the end and
//! (on virtual clocks) leaves the clock where it was; `advance` fires each
//! timer at its own deadline, never early; `live_tasks` follows tasks to
//! their end.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::sync::queue::{self, QueueReceiver, QueueSender};
use diorama_core::{Instant, RuntimeExt};
use diorama_tests::backends::memory;
use diorama_tests::harness::{Harness, SimHarness, SmolHarness, TokioHarness};

fn check<H: Harness>(h: &H) {
    let rt = h.runtime();
    let start = rt.now();

    // A chain of three tasks, each woken by the one before.
    let (tx1, rx1) = async_channel_pair();
    let (tx2, rx2) = async_channel_pair();
    let done = Arc::new(Mutex::new(false));
    rt.spawn("second", {
        let done = done.clone();
        async move {
            rx2.recv().await.ok().unwrap();
            *done.lock().unwrap() = true;
        }
    });
    rt.spawn("first", async move {
        rx1.recv().await.ok().unwrap();
        tx2.send(()).await.ok().unwrap();
    });
    tx1.try_send(()).ok().unwrap();
    h.settle();
    assert!(*done.lock().unwrap(), "settle ran the whole chain");
    assert_eq!(h.live_tasks(), Some(vec![]), "both tasks ended");
    if h.virtual_clock() {
        assert_eq!(rt.now(), start, "settle does not move a virtual clock");
    }

    // Timers: each fires at its deadline (exactly on a virtual clock),
    // never before it.
    let fired: Arc<Mutex<Vec<(u32, Instant)>>> = Arc::default();
    let base = rt.now();
    let step = h.scaled(Duration::from_secs(60));
    for k in [3, 1, 2] {
        let fired = fired.clone();
        let rt2 = rt.clone();
        rt.spawn("sleeper", async move {
            rt2.sleep(k * step).await;
            fired.lock().unwrap().push((k, rt2.now()));
        });
    }
    h.settle();
    assert_eq!(h.live_tasks().map(|l| l.len()), Some(3));
    h.advance(step / 2);
    assert!(fired.lock().unwrap().is_empty(), "no timer fires early");
    h.advance(3 * step);
    let fired = fired.lock().unwrap().clone();
    let order: Vec<u32> = fired.iter().map(|(k, _)| *k).collect();
    assert_eq!(order, [1, 2, 3], "timers fire in deadline order");
    for (k, at) in &fired {
        let offset = *at - base;
        assert!(offset >= *k * step, "timer {k} fired early: {offset:?}");
        if h.virtual_clock() {
            assert_eq!(offset, *k * step, "each timer at its own deadline");
        }
    }
    assert_eq!(h.live_tasks(), Some(vec![]));
}

/// A one-slot channel of the core's own, waker-based on every executor.
fn async_channel_pair() -> (QueueSender<()>, QueueReceiver<()>) {
    queue::channel(1)
}

#[test]
fn sim() {
    check(&SimHarness::new(1, memory()));
}

#[test]
fn smol() {
    check(&SmolHarness::new(memory()));
}

#[test]
fn tokio_current_thread_paused() {
    check(&TokioHarness::current_thread_paused(memory()));
}

#[test]
fn tokio_multi_thread() {
    check(&TokioHarness::multi_thread(memory()));
}
