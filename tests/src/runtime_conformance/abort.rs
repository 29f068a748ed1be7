//! Abort: through the `JoinHandle`, an `AbortHandle` (from any thread) or
//! an `AbortOnDrop` guard; the task's future is dropped, a sleeping task's
//! timer goes with it, a finished task keeps its output.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_lite::future;

use diorama_core::RuntimeExt;
use diorama_core::runtime::JoinError;

use super::support::{assert_no_live_tasks, assert_timers_awaited, drop_flag};
use crate::harness::Harness;

/// Aborting a sleeping task drops its future and its timer, without any
/// time passing on a virtual clock; its handle reports `Aborted`.
pub fn abort_drops_the_future_and_frees_its_timer<H: Harness>(h: &H) {
    let rt = h.runtime();
    let (guard, dropped) = drop_flag();
    let sleeper_rt = rt.clone();
    let handle = rt.spawn("sleeper", async move {
        let _guard = guard;
        sleeper_rt.sleep(Duration::from_secs(3_600)).await;
        1u32
    });
    h.settle();
    let start = rt.now();
    assert!(!handle.is_finished());
    assert!(!dropped.load(Ordering::SeqCst));
    assert_timers_awaited(h, 1, "the sleeper awaits its timer");

    handle.abort();
    h.settle_until("the aborted task's future is dropped", || {
        dropped.load(Ordering::SeqCst)
    });
    assert!(handle.is_finished());
    assert_timers_awaited(h, 0, "the aborted task's sleep went with it");
    assert_no_live_tasks(h, "after the abort");
    if h.virtual_clock() {
        assert_eq!(rt.now(), start, "an abort takes no virtual time");
    }
    assert_eq!(h.block_on(handle), Err(JoinError::Aborted));
}

/// An `AbortHandle` (cloned, used from another thread) aborts like the
/// `JoinHandle`; aborting a task that already finished changes nothing.
pub fn abort_handles_abort_and_a_finished_task_keeps_its_output<H: Harness>(h: &H) {
    let rt = h.runtime();
    let pending = rt.spawn("pending", future::pending::<u8>());
    let watcher = pending.abort_handle();
    let remote = watcher.clone();
    h.settle();
    assert!(!watcher.is_finished());
    std::thread::spawn(move || remote.abort())
        .join()
        .expect("aborting from another thread does not panic");
    h.settle_until("the remotely aborted task ends", || watcher.is_finished());
    assert_eq!(h.block_on(pending), Err(JoinError::Aborted));

    let finished = rt.spawn("finished", async { 7 });
    h.settle_until("a ready task finishes", || finished.is_finished());
    finished.abort();
    finished.abort_handle().abort();
    assert_eq!(
        h.block_on(finished),
        Ok(7),
        "abort after the end is a no-op"
    );
    assert_no_live_tasks(h, "after both tasks");
}

/// Dropping the guard of `abort_on_drop` aborts the task; until then it
/// runs.
pub fn abort_on_drop_stops_the_task<H: Harness>(h: &H) {
    let rt = h.runtime();
    let (guard, dropped) = drop_flag();
    let handle = rt.spawn("guarded", async move {
        let _guard = guard;
        future::pending::<()>().await;
    });
    let watcher = handle.abort_handle();
    let task_guard = handle.abort_on_drop();
    h.settle();
    assert!(
        !task_guard.is_finished(),
        "the guard keeps the task running"
    );
    assert!(!dropped.load(Ordering::SeqCst));

    drop(task_guard);
    h.settle_until("the guarded task's future is dropped", || {
        dropped.load(Ordering::SeqCst)
    });
    assert!(watcher.is_finished());
    assert_no_live_tasks(h, "after the guard dropped");
}
