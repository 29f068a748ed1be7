//! `TokioRuntime` as tokio users meet it: `current`/`try_current`, a
//! handle used from threads outside tokio, `Send`/`Sync` and object
//! safety, the wall clock under `tokio::time::advance`. Its behaviour as a
//! `Runtime` (spawn, abort, panics, timers, clocks), on the current-thread
//! scheduler with a paused clock and on the multi-thread one, is the
//! runtime conformance suite's: `tests/tests/runtime_tokio_current.rs` and
//! `runtime_tokio_multi.rs` in diorama-tests.

use std::sync::Arc;
use std::time::Duration;

use diorama_core::ErrorKind;
use diorama_core::runtime::{Runtime, RuntimeExt};
use diorama_tokio::TokioRuntime;
use futures_lite::future;

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
