//! Tasks on the simulator: abort's single wake, tasks lost at shutdown, live list, stalls,
//! cross-thread wakes. What every runtime promises (join, abort, abort on drop, a panicking
//! task lost) is the runtime conformance suite's, run on the simulator in diorama-tests
//! (`tests/tests/runtime_sim.rs`).
#![cfg(feature = "sim")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use diorama_core::runtime::JoinError;
use diorama_core::sim::{SimRuntime, Stalled};
use diorama_core::sync::queue;
use diorama_core::{Runtime, RuntimeExt};

/// Sets its flag when dropped: proves a task's future was dropped.
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

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn aborting_a_task_drops_its_future_on_the_next_poll() {
    let sim = SimRuntime::new(2);
    let rt = sim.runtime();
    let (guard, dropped) = drop_flag();
    let rt2 = rt.clone();
    let handle = rt.spawn("sleeper", async move {
        let _guard = guard;
        rt2.sleep(Duration::from_secs(3_600)).await;
        1
    });
    sim.run_until_idle();
    assert_eq!(sim.live_tasks(), vec!["sleeper"]);
    assert_eq!(sim.pending_timers(), 1);
    assert!(!dropped.load(Ordering::SeqCst));

    handle.abort();
    assert_eq!(sim.run_until_idle(), 1, "abort wakes the task once");
    assert!(
        dropped.load(Ordering::SeqCst),
        "future dropped without any time passing"
    );
    assert_eq!(sim.now().since_origin(), Duration::ZERO);
    assert_eq!(sim.pending_timers(), 0, "its sleep went with it");
    assert!(sim.live_tasks().is_empty());
    assert!(handle.is_finished());
    assert_eq!(sim.block_on(handle), Err(JoinError::Aborted));
}

#[test]
fn dropping_the_simulator_loses_pending_tasks() {
    let sim = SimRuntime::new(3);
    let rt = sim.runtime();
    let (sleep_guard, sleeper_dropped) = drop_flag();
    let (wait_guard, waiter_dropped) = drop_flag();
    let rt2 = rt.clone();
    // Holds the runtime handle itself: must not keep the simulation alive.
    let sleeper = rt.spawn("sleeper", async move {
        let _guard = sleep_guard;
        rt2.sleep(Duration::from_secs(10)).await;
    });
    // Waits on a queue whose sender lives outside the simulation.
    let (tx, rx) = queue::channel::<u8>(1);
    let waiter = rt.spawn("waiter", async move {
        let _guard = wait_guard;
        rx.recv().await.ok()
    });
    sim.run_until_idle();
    assert_eq!(sim.live_tasks(), vec!["sleeper", "waiter"]);

    assert!(Arc::strong_count(&rt) > 1, "the sleeper holds a clone");
    drop(sim);
    assert_eq!(
        Arc::strong_count(&rt),
        1,
        "the tasks released their handles"
    );
    assert!(sleeper_dropped.load(Ordering::SeqCst));
    assert!(waiter_dropped.load(Ordering::SeqCst));
    assert_eq!(
        futures_lite::future::block_on(sleeper),
        Err(JoinError::Lost)
    );
    assert_eq!(futures_lite::future::block_on(waiter), Err(JoinError::Lost));
    assert!(tx.is_closed(), "the waiter's receiver was released");

    // The handle outlives the simulation harmlessly: a spawn on it is
    // refused (dropped unrun inside the spawn), which its handle says.
    let late = rt.spawn("late", async { 1 });
    assert_eq!(
        futures_lite::future::block_on(late),
        Err(JoinError::Rejected)
    );
}

#[test]
fn tasks_spawned_by_tasks_run_in_the_same_pass() {
    let sim = SimRuntime::new(5);
    let rt = sim.runtime();
    let done = Arc::new(AtomicUsize::new(0));
    let (rt2, done2) = (rt.clone(), done.clone());
    rt.spawn_boxed(
        "parent",
        Box::pin(async move {
            for _ in 0..3 {
                let (rt3, done3) = (rt2.clone(), done2.clone());
                rt2.spawn_boxed(
                    "child",
                    Box::pin(async move {
                        rt3.sleep(Duration::ZERO).await;
                        done3.fetch_add(1, Ordering::SeqCst);
                    }),
                );
            }
        }),
    );
    assert_eq!(sim.run_until_idle(), 4);
    assert_eq!(done.load(Ordering::SeqCst), 3);
    assert!(sim.live_tasks().is_empty());
}

#[test]
fn a_wake_from_another_thread_schedules_the_task() {
    let sim = SimRuntime::new(6);
    let rt = sim.runtime();
    let (tx, rx) = queue::channel::<u32>(1);
    let received = rt.spawn("receiver", async move { rx.recv().await.unwrap() });
    sim.run_until_idle();
    assert!(!received.is_finished());
    std::thread::spawn(move || tx.try_send(99).unwrap())
        .join()
        .unwrap();
    sim.run_until_idle();
    assert!(received.is_finished());
    assert_eq!(sim.block_on(received), Ok(99));
}

#[test]
fn try_block_on_reports_a_stall_with_seed_and_live_tasks() {
    let sim = SimRuntime::new(77);
    let rt = sim.runtime();
    let (tx, rx) = queue::channel::<u32>(1);
    let _stuck = rt.spawn("stuck-waiter", async move { rx.recv().await });
    sim.advance(Duration::from_secs(5));
    let stalled = sim
        .try_block_on(futures_lite::future::pending::<()>())
        .unwrap_err();
    assert_eq!(
        stalled,
        Stalled {
            seed: 77,
            now: sim.now(),
            live_tasks: vec!["stuck-waiter"],
        }
    );
    drop(tx);
}

#[test]
fn block_on_panics_on_a_stall_naming_seed_and_tasks() {
    let sim = SimRuntime::new(1234);
    let rt = sim.runtime();
    let (_tx, rx) = queue::channel::<u32>(1);
    let _stuck = rt.spawn("lonely", async move { rx.recv().await });
    let caught = catch_unwind(AssertUnwindSafe(|| {
        sim.block_on(futures_lite::future::pending::<()>())
    }));
    let message = panic_message(caught.unwrap_err());
    assert!(message.contains("simulation stalled"), "{message}");
    assert!(message.contains("seed 1234"), "{message}");
    assert!(message.contains("lonely"), "{message}");
}

#[test]
fn driving_the_simulator_from_its_own_task_is_refused() {
    let sim = SimRuntime::new(8);
    let inner_sim = sim.clone();
    sim.spawn_boxed(
        "reentrant",
        Box::pin(async move {
            inner_sim.run_until_idle();
        }),
    );
    let caught = catch_unwind(AssertUnwindSafe(|| sim.run_until_idle()));
    assert!(panic_message(caught.unwrap_err()).contains("already being driven"));
    // The guard was released by the unwinding.
    assert_eq!(sim.run_until_idle(), 0);
}

#[test]
fn the_simulator_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SimRuntime>();
}
