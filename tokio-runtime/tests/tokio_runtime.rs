//! `TokioRuntime` behaves as the `Runtime` contract promises, on both
//! schedulers, with tokio's paused clock driving `now()`.

// The log-capturing helpers of diorama-std's tests, shared rather than copied.
#[path = "../../std-runtime/tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::ErrorKind;
use diorama_core::runtime::{JoinError, Runtime, RuntimeExt};
use diorama_tokio::TokioRuntime;
use futures_lite::future;

use common::{DropFlag, capture_logs, logged};

#[tokio::test]
async fn spawn_returns_output_on_current_thread() {
    let rt = TokioRuntime::current().arc();
    assert_eq!(rt.spawn("answer", async { 6 * 7 }).await, Ok(42));
    let inner = rt.clone();
    let nested = rt.spawn("nested", async move {
        inner.spawn("child", async { "child" }).await
    });
    assert_eq!(nested.await, Ok(Ok("child")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_returns_output_on_multi_thread() {
    let rt = TokioRuntime::current().arc();
    let handles: Vec<_> = (0..32u32)
        .map(|i| rt.spawn("square", async move { i * i }))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    assert_eq!(sum, (0..32u32).map(|i| i * i).sum::<u32>());
}

#[tokio::test(start_paused = true)]
async fn abort_drops_the_future_and_reports_aborted() {
    let rt = TokioRuntime::current().arc();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropFlag(dropped.clone());
    let (started_tx, started_rx) = async_channel::bounded::<()>(1);
    let handle = rt.spawn("forever", async move {
        let _guard = guard;
        started_tx.send(()).await.unwrap();
        future::pending::<()>().await;
    });
    started_rx.recv().await.unwrap();
    assert!(!dropped.load(Ordering::SeqCst));
    handle.abort();
    assert_eq!(handle.await, Err(JoinError::Aborted));
    assert!(
        dropped.load(Ordering::SeqCst),
        "aborted future must be dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn abort_on_drop_guard_stops_the_task() {
    let rt = TokioRuntime::current().arc();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropFlag(dropped.clone());
    let handle = rt.spawn("guarded", async move {
        let _guard = guard;
        future::pending::<()>().await;
    });
    let watcher = handle.abort_handle();
    drop(handle.abort_on_drop());
    while !watcher.is_finished() {
        rt.sleep(Duration::from_millis(1)).await;
    }
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn paused_clock_drives_now() {
    let rt = TokioRuntime::current().arc();
    let before = rt.now();
    // Virtual: an hour passes at once on the paused clock.
    rt.sleep(Duration::from_secs(3600)).await;
    let slept = rt.now() - before;
    assert!(
        slept >= Duration::from_secs(3600),
        "now() ignored the paused clock: {slept:?}"
    );
    assert!(
        slept < Duration::from_secs(3601),
        "paused clock overshot: {slept:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn sleepers_wake_in_deadline_order() {
    let rt = TokioRuntime::current().arc();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for secs in [30u64, 10, 20, 0] {
        let order = order.clone();
        let sleep = rt.sleep(Duration::from_secs(secs));
        handles.push(rt.spawn("sleeper", async move {
            sleep.await;
            order.lock().unwrap().push(secs);
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 10, 20, 30]);
}

#[tokio::test(start_paused = true)]
async fn timeout_yields_output_or_none() {
    let rt = TokioRuntime::current().arc();
    let fast = rt.sleep(Duration::from_secs(10));
    assert_eq!(rt.timeout(Duration::from_secs(20), fast).await, Some(()));
    let slow = rt.sleep(Duration::from_secs(20));
    assert_eq!(rt.timeout(Duration::from_secs(10), slow).await, None);
    let never = future::pending::<()>();
    assert_eq!(rt.timeout(Duration::from_secs(1), never).await, None);
}

async fn panic_then_keep_working(rt: Arc<dyn Runtime>, task_name: &'static str) {
    let boom = rt.spawn(task_name, async {
        if true {
            panic!("deliberate test panic");
        }
        1
    });
    assert_eq!(boom.await, Err(JoinError::Lost));
    assert_eq!(rt.spawn("after-panic", async { 2 }).await, Ok(2));
    rt.sleep(Duration::from_millis(1)).await;
}

#[tokio::test]
async fn panicking_task_is_lost_and_logged_on_current_thread() {
    capture_logs();
    panic_then_keep_working(TokioRuntime::current().arc(), "tokio-boom-current").await;
    let lines = logged(&["ERROR", "tokio-boom-current", "deliberate test panic"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_task_is_lost_and_logged_on_multi_thread() {
    capture_logs();
    panic_then_keep_working(TokioRuntime::current().arc(), "tokio-boom-multi").await;
    let lines = logged(&["ERROR", "tokio-boom-multi", "deliberate test panic"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[test]
fn try_current_outside_a_runtime_is_an_error() {
    let error = TokioRuntime::try_current().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed);
    assert!(error.message().contains("no tokio runtime"), "{error}");
}

#[test]
fn from_handle_works_from_threads_outside_tokio() {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    let rt = TokioRuntime::from_handle(tokio_rt.handle().clone()).arc();
    // Plain OS thread, no tokio context: spawn, sleep and now must still work.
    let worker = std::thread::spawn(move || {
        future::block_on(async {
            let before = rt.now();
            rt.sleep(Duration::from_millis(2)).await;
            assert!(rt.now() > before);
            rt.spawn("outside", async { 5 }).await
        })
    });
    assert_eq!(worker.join().unwrap(), Ok(5));
}

#[test]
fn runtime_is_send_sync_and_object_safe() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<TokioRuntime>();
    assert_send_sync::<Arc<dyn Runtime>>();
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let rt = TokioRuntime::from_handle(tokio_rt.handle().clone());
    assert!(format!("{rt:?}").contains("CurrentThread"));
    let rt: Arc<dyn Runtime> = rt.arc();
    let out = tokio_rt.block_on(async move { rt.spawn("boxed", async { 3 }).await });
    assert_eq!(out, Ok(3));
}

#[tokio::test(start_paused = true)]
async fn the_wall_clock_follows_a_paused_clock() {
    let rt = TokioRuntime::current();
    let before = rt.wall_clock();
    tokio::time::advance(Duration::from_secs(3600)).await;
    let after = rt.wall_clock();
    assert_eq!(
        after.saturating_duration_since(before),
        Duration::from_secs(3600)
    );
}
