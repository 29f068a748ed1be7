//! `EmbassyRuntime` on the host: embassy's std executor (`platform-std`) on
//! a thread of its own, embassy-time's std driver. The runtime checks the
//! conformance suite will make (spawn and join, abort, a panicking task
//! lost, sleep order and cancellation, timeouts, wall clock), the full pool,
//! and one Lens + Dio + table scenery round trip.
//!
//! The clock is real: tests assert orders, counts and lower bounds, never
//! durations; waits are bounded by [`BOUND`] only to fail instead of hang.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diorama_core::runtime::{JoinError, Runtime, RuntimeExt};
use diorama_core::scenery::RowStatus;
use diorama_core::{Lens, MemoryBackend, MemoryVista, Timestamp, Vista, record};
use diorama_embassy::host::HostExecutor;
use diorama_embassy::{EmbassyRuntime, PoolStats, SettableClock, TaskPool, WallClock};
use futures_lite::future::{self, block_on};

/// Waits that should end at once give up after this (a hang, not a timing).
const BOUND: Duration = Duration::from_secs(20);

/// A fresh pool: embassy needs it 'static, so each test leaks its own.
fn pool<const N: usize>() -> &'static TaskPool<N> {
    Box::leak(Box::new(TaskPool::new()))
}

fn runtime<const N: usize>(executor: &HostExecutor) -> Arc<EmbassyRuntime> {
    Arc::new(executor.runtime(pool::<N>()))
}

/// Run `future` on the test thread, failing after [`BOUND`].
fn run<F: Future>(rt: &EmbassyRuntime, future: F) -> F::Output {
    block_on(async {
        future::or(async { Some(future.await) }, async {
            rt.sleep(BOUND).await;
            None
        })
        .await
        .expect("hung")
    })
}

/// Sleep in small steps until `condition` holds (bounded).
async fn until(rt: &EmbassyRuntime, what: &str, mut condition: impl FnMut() -> bool) {
    let start = rt.now();
    while !condition() {
        assert!(rt.now() - start < BOUND, "never true: {what}");
        rt.sleep(Duration::from_millis(1)).await;
    }
}

/// Sets its flag when dropped: shows a task's future was released.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn drop_flag() -> (DropFlag, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(false));
    (DropFlag(flag.clone()), flag)
}

#[test]
fn the_runtime_is_send_and_sync() {
    fn pinned<T: Send + Sync + 'static>() {}
    pinned::<EmbassyRuntime>();
    pinned::<Arc<dyn Runtime>>();
    pinned::<SettableClock>();
}

#[test]
fn spawned_tasks_run_and_yield_their_output() {
    let executor = HostExecutor::start();
    let rt = runtime::<4>(&executor);
    let inner = rt.clone();
    let outer = rt.spawn("outer", async move {
        // A task spawning a task: the nested spawn comes from the executor thread.
        let nested = inner.spawn("nested", async { 20 });
        nested.await.map(|n| n + 1)
    });
    assert_eq!(run(&rt, outer), Ok(Ok(21)));
    run(&rt, until(&rt, "slots freed", || rt.stats().running == 0));
    assert_eq!(rt.stats().peak, 2);
}

#[test]
fn a_task_can_be_spawned_from_another_thread() {
    let executor = HostExecutor::start();
    let rt = runtime::<2>(&executor);
    let remote = rt.clone();
    let handle = std::thread::spawn(move || remote.spawn("from a thread", async { 7 }))
        .join()
        .unwrap();
    assert_eq!(run(&rt, handle), Ok(7));
}

#[test]
fn abort_drops_the_future_and_the_handle_says_aborted() {
    let executor = HostExecutor::start();
    let rt = runtime::<2>(&executor);
    let (guard, dropped) = drop_flag();
    let sleeper = rt.clone();
    let handle = rt.spawn("sleeper", async move {
        let _guard = guard;
        sleeper.sleep(Duration::from_secs(3_600)).await;
    });
    // Let it start and park on its timer first.
    run(&rt, rt.sleep(Duration::from_millis(5)));
    assert!(!handle.is_finished());
    handle.abort();
    assert_eq!(run(&rt, handle), Err(JoinError::Aborted));
    assert!(dropped.load(Ordering::SeqCst));
    run(&rt, until(&rt, "slot freed", || rt.stats().running == 0));
}

#[test]
fn a_panicking_task_is_lost_and_the_executor_goes_on() {
    let executor = HostExecutor::start();
    let rt = runtime::<2>(&executor);
    let (guard, dropped) = drop_flag();
    let boom = rt.spawn("boom", async move {
        let _guard = guard;
        if true {
            panic!("task exploded (expected by this test)");
        }
    });
    assert_eq!(run(&rt, boom), Err(JoinError::Lost));
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(run(&rt, rt.spawn("after", async { 5 })), Ok(5));
    let stats = rt.stats();
    assert_eq!((stats.panicked, stats.rejected), (1, 0));
}

#[test]
fn a_full_pool_rejects_the_spawn_with_an_error_and_recovers() {
    let executor = HostExecutor::start();
    let rt = runtime::<2>(&executor);
    let hold = |name| {
        let (release, gate) = diorama_core::sync::queue::channel::<()>(1);
        let task = rt.spawn(name, async move { gate.recv().await.is_ok() });
        (release, task)
    };
    let (release_first, first) = hold("first");
    let (release_second, second) = hold("second");
    let (guard, dropped) = drop_flag();
    let third = rt.spawn("third", async move {
        let _guard = guard;
        1
    });
    // Refused at once, without running and without a panic.
    assert!(third.is_finished());
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(run(&rt, third), Err(JoinError::Rejected));
    assert_eq!(
        rt.stats(),
        PoolStats {
            capacity: 2,
            running: 2,
            peak: 2,
            rejected: 1,
            panicked: 0
        }
    );

    // Once a slot is free again, spawning works again.
    release_first.try_send(()).unwrap();
    assert_eq!(run(&rt, first), Ok(true));
    run(&rt, until(&rt, "a slot freed", || rt.stats().running == 1));
    assert_eq!(run(&rt, rt.spawn("fourth", async { 4 })), Ok(4));
    release_second.try_send(()).unwrap();
    assert_eq!(run(&rt, second), Ok(true));
}

#[test]
fn sleeps_end_in_deadline_order_and_never_early() {
    let executor = HostExecutor::start();
    let rt = runtime::<4>(&executor);
    let (tx, rx) = diorama_core::sync::queue::channel::<u64>(3);
    let start = rt.now();
    // Deadlines from one common start (a task first polled late still
    // sleeps until its own deadline), spaced widely enough that a loaded
    // machine's scheduling hiccups do not reorder them.
    for millis in [120, 40, 80] {
        let (rt2, tx) = (rt.clone(), tx.clone());
        drop(rt.spawn("sleeper", async move {
            let deadline = Duration::from_millis(millis);
            rt2.sleep(deadline.saturating_sub(rt2.now() - start)).await;
            let slept = rt2.now() - start;
            assert!(
                slept >= Duration::from_millis(millis),
                "woke early: {slept:?}"
            );
            tx.send(millis).await.unwrap();
        }));
    }
    let order = run(&rt, async {
        let mut order = Vec::new();
        for _ in 0..3 {
            order.push(rx.recv().await.unwrap());
        }
        order
    });
    assert_eq!(order, vec![40, 80, 120]);
}

#[test]
fn a_dropped_sleep_is_cancelled_and_holds_nothing() {
    let executor = HostExecutor::start();
    let rt = runtime::<2>(&executor);
    let (guard, dropped) = drop_flag();
    let rt2 = rt.clone();
    let handle = rt.spawn("races a long sleep", async move {
        let _guard = guard;
        // The short branch wins; the hour-long sleep is dropped with it.
        future::or(
            async {
                rt2.sleep(Duration::from_secs(3_600)).await;
                "slept"
            },
            async {
                rt2.sleep(Duration::from_millis(2)).await;
                "short"
            },
        )
        .await
    });
    assert_eq!(run(&rt, handle), Ok("short"));
    assert!(dropped.load(Ordering::SeqCst));
    run(&rt, until(&rt, "slot freed", || rt.stats().running == 0));
    // Zero and unrepresentably long spans: no panic, no overflow.
    run(&rt, rt.sleep(Duration::ZERO));
    let forever = run(
        &rt,
        rt.timeout(Duration::from_millis(2), rt.sleep(Duration::MAX)),
    );
    assert_eq!(forever, None);
}

#[test]
fn timeouts_yield_the_output_or_none() {
    let executor = HostExecutor::start();
    let rt = runtime::<2>(&executor);
    let on_time = run(&rt, rt.timeout(Duration::from_secs(60), async { 3 }));
    assert_eq!(on_time, Some(3));
    let late = run(
        &rt,
        rt.timeout(Duration::from_millis(2), std::future::pending::<()>()),
    );
    assert_eq!(late, None);
    // Inside a task too (the timer then sits in the executor's queue).
    let rt2 = rt.clone();
    let inside = rt.spawn("timeout in a task", async move {
        rt2.timeout(Duration::from_millis(2), std::future::pending::<()>())
            .await
    });
    assert_eq!(run(&rt, inside), Ok(None));
}

#[test]
fn now_is_monotonic() {
    let executor = HostExecutor::start();
    let rt = runtime::<1>(&executor);
    let a = rt.now();
    run(&rt, rt.sleep(Duration::from_millis(1)));
    let b = rt.now();
    assert!(b - a >= Duration::from_millis(1));
}

#[test]
fn the_wall_clock_comes_from_the_source_given() {
    let executor = HostExecutor::start();
    // The host runtime reads the system clock.
    let rt = runtime::<1>(&executor);
    let system = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let (before, wall, after) = (system(), rt.wall_clock().as_millis(), system());
    assert!((before..=after).contains(&wall));

    // A user-supplied source (an RTC read through a closure).
    let rtc = EmbassyRuntime::new(executor.spawner(), pool::<1>())
        .with_wall_clock(|| Timestamp::from_millis(1_700_000_000_000));
    assert_eq!(rtc.wall_clock(), Timestamp::from_millis(1_700_000_000_000));

    // No RTC: uptime, then a settable clock once the time is known.
    static CLOCK: SettableClock = SettableClock::new();
    let rt = EmbassyRuntime::new(executor.spawner(), pool::<1>()).with_wall_clock(&CLOCK);
    assert!(!CLOCK.is_set());
    let uptime = rt.wall_clock();
    assert!(
        uptime < Timestamp::from_millis(1_000_000_000_000),
        "uptime, not a date"
    );
    CLOCK.set(Timestamp::from_millis(1_800_000_000_000));
    let set = rt.wall_clock();
    assert!(set >= Timestamp::from_millis(1_800_000_000_000));
    run(&rt, rt.sleep(Duration::from_millis(2)));
    let later = CLOCK.now();
    assert!(later.saturating_duration_since(set) >= Duration::from_millis(2));
}

#[test]
fn a_lens_dio_and_table_scenery_run_on_embassy() {
    let executor = HostExecutor::start();
    let rt = runtime::<32>(&executor);
    let master = MemoryVista::generate("products", 300, |i| {
        (
            format!("p{i:03}"),
            record! { "name" => format!("Product {i}"), "price" => 1.0 + i as f64 / 100.0 },
        )
    });
    let lens = Lens::builder()
        .cache_source(Arc::new(MemoryBackend::new()))
        .runtime(rt.clone())
        .page_from_master()
        .build()
        .expect("a valid Lens");
    run(&rt, async {
        let dio = lens
            .make_dio(Vista::new(master.clone()))
            .await
            .expect("dio");
        let view = dio
            .table_scenery()
            .page_size(50)
            .open()
            .await
            .expect("open");
        until(&rt, "first rows", || view.row(0).is_some()).await;
        assert_eq!(view.row_count(), 300);

        view.set_viewport(200..220);
        until(&rt, "row 210", || view.row(210).is_some()).await;
        let row = view.row(210).unwrap();
        assert_eq!(row.id.to_string(), "p210");

        dio.try_patch(row.id.clone(), record! { "price" => 9.99 })
            .expect("queued");
        until(&rt, "the write applied", || {
            view.row(210)
                .is_some_and(|r| r.status == RowStatus::Fresh && r.record != row.record)
        })
        .await;
        let truth = master.get_row("p210").expect("in the master");
        assert_eq!(view.row(210).unwrap().record, truth);
        dio.shutdown().await.expect("shutdown");
    });
    let stats = rt.stats();
    assert_eq!(stats.rejected, 0);
    assert!(stats.peak <= 32, "{stats:?}");
}
