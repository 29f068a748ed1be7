//! Virtual time in the simulator: timers, advance, run_for, block_on, wall clock.
//! What every runtime promises (timeouts, deadline order, clocks) is the
//! runtime conformance suite's, run on the simulator in diorama-tests
//! (`tests/tests/runtime_sim.rs`).
#![cfg(feature = "sim")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::sim::{DEFAULT_WALL_EPOCH, SimRuntime};
use diorama_core::{Runtime, RuntimeExt, Timestamp};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn twenty_four_virtual_hours_of_a_one_second_timer_under_advance() {
    let sim = SimRuntime::new(5);
    sim.set_tracing(false);
    let rt = sim.runtime();
    let ticks = Arc::new(AtomicU64::new(0));
    let (rt2, ticks2) = (rt.clone(), ticks.clone());
    let _ticker = rt.spawn("ticker", async move {
        loop {
            rt2.sleep(secs(1)).await;
            ticks2.fetch_add(1, Ordering::SeqCst);
        }
    });
    sim.advance(secs(86_400));
    assert_eq!(ticks.load(Ordering::SeqCst), 86_400);
    assert_eq!(sim.now().since_origin(), secs(86_400));
    assert_eq!(sim.pending_timers(), 1, "the next tick is waiting");
    assert_eq!(sim.next_deadline().unwrap().since_origin(), secs(86_401));
}

#[test]
fn twenty_four_virtual_hours_of_a_one_second_timer_under_block_on() {
    let sim = SimRuntime::new(6);
    let rt = sim.runtime();
    let iterations = sim.block_on(async {
        let mut n = 0u64;
        while rt.now().since_origin() < secs(86_400) {
            rt.sleep(secs(1)).await;
            n += 1;
        }
        n
    });
    assert_eq!(iterations, 86_400);
    assert_eq!(sim.now().since_origin(), secs(86_400));
}

#[test]
fn advance_fires_timers_in_deadline_order_each_at_its_deadline() {
    let sim = SimRuntime::new(11);
    let rt = sim.runtime();
    let log = Arc::new(Mutex::new(Vec::new()));
    for (name, after) in [("three", 3), ("one", 1), ("two", 2)] {
        let (rt2, log) = (rt.clone(), log.clone());
        rt.spawn_boxed(
            name,
            Box::pin(async move {
                rt2.sleep(secs(after)).await;
                log.lock().unwrap().push((name, rt2.now().since_origin()));
                // A timer set while advancing fires within the same advance.
                rt2.sleep(secs(after)).await;
                log.lock().unwrap().push((name, rt2.now().since_origin()));
            }),
        );
    }
    sim.advance(Duration::from_millis(1_500));
    assert_eq!(*log.lock().unwrap(), vec![("one", secs(1))]);
    assert_eq!(sim.now().since_origin(), Duration::from_millis(1_500));
    assert_eq!(sim.pending_timers(), 3);

    sim.advance(secs(10));
    let log = log.lock().unwrap().clone();
    assert!(
        log.windows(2).all(|pair| pair[0].1 <= pair[1].1),
        "timers fire in deadline order: {log:?}"
    );
    // "one" and "two" both wake at 2s; their order is the seed's choice.
    let mut sorted = log.clone();
    sorted.sort_by_key(|&(name, at)| (at, name));
    assert_eq!(
        sorted,
        vec![
            ("one", secs(1)),
            ("one", secs(2)),
            ("two", secs(2)),
            ("three", secs(3)),
            ("two", secs(4)),
            ("three", secs(6)),
        ]
    );
    assert_eq!(sim.now().since_origin(), Duration::from_millis(11_500));
    assert_eq!(sim.pending_timers(), 0);
    assert!(sim.live_tasks().is_empty());
}

#[test]
fn run_until_idle_never_moves_the_clock() {
    let sim = SimRuntime::new(2);
    let rt = sim.runtime();
    let woke = Arc::new(AtomicU64::new(0));
    let (rt2, woke2) = (rt.clone(), woke.clone());
    rt.spawn_boxed(
        "sleeper",
        Box::pin(async move {
            rt2.sleep(secs(1)).await;
            woke2.fetch_add(1, Ordering::SeqCst);
        }),
    );
    assert_eq!(sim.run_until_idle(), 1);
    assert_eq!(sim.run_until_idle(), 0, "nothing ready, nothing polled");
    assert_eq!(sim.now().since_origin(), Duration::ZERO);
    assert_eq!(woke.load(Ordering::SeqCst), 0);
    assert_eq!(sim.pending_timers(), 1);
}

#[test]
fn run_for_advances_and_counts_polls() {
    let sim = SimRuntime::new(2);
    let rt = sim.runtime();
    let rt2 = rt.clone();
    rt.spawn_boxed(
        "three-naps",
        Box::pin(async move {
            for _ in 0..3 {
                rt2.sleep(secs(1)).await;
            }
        }),
    );
    assert_eq!(
        sim.run_for(Duration::from_millis(500)),
        1,
        "first poll only"
    );
    assert_eq!(sim.run_for(secs(2)), 2, "woken at 1s and 2s");
    assert_eq!(sim.now().since_origin(), Duration::from_millis(2_500));
    assert_eq!(sim.run_for(secs(5)), 1, "woken at 3s, then done");
    assert_eq!(sim.run_for(secs(5)), 0);
    assert!(sim.live_tasks().is_empty());
}

#[test]
fn block_on_jumps_the_clock_to_the_next_timer() {
    let sim = SimRuntime::new(3);
    let rt = sim.runtime();
    sim.block_on(rt.sleep(secs(3_600)));
    assert_eq!(sim.now().since_origin(), secs(3_600));
    // A zero sleep completes at once, without a timer.
    sim.block_on(rt.sleep(Duration::ZERO));
    assert_eq!(sim.now().since_origin(), secs(3_600));
    assert_eq!(sim.pending_timers(), 0);
}

#[test]
fn the_wall_clock_is_the_epoch_plus_virtual_time() {
    let sim = SimRuntime::new(1);
    let rt = sim.runtime();
    assert_eq!(
        DEFAULT_WALL_EPOCH,
        Timestamp::from_millis(1_767_225_600_000)
    );
    assert_eq!(rt.wall_clock(), DEFAULT_WALL_EPOCH);
    sim.advance(Duration::from_millis(1_500));
    assert_eq!(rt.wall_clock(), Timestamp::from_millis(1_767_225_601_500));
    assert_eq!(sim.wall_clock(), rt.wall_clock());

    let custom = SimRuntime::with_wall_epoch(1, Timestamp::from_millis(1_000));
    custom.advance(secs(2));
    assert_eq!(custom.wall_clock(), Timestamp::from_millis(3_000));
    assert_eq!(custom.now(), Runtime::now(&custom));
}
