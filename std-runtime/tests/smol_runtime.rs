//! `SmolRuntime` as a type: `Send`, `Sync`, object safe, usable from any
//! thread on the global executor. Its behaviour as a `Runtime` (spawn,
//! abort, panics, timers, clocks), on an owned and on the global executor,
//! is the runtime conformance suite's: `tests/tests/runtime_smol.rs` in
//! diorama-tests.

use std::sync::Arc;

use diorama_core::runtime::{Runtime, RuntimeExt};
use diorama_std::SmolRuntime;
use futures_lite::future;

#[test]
fn runtime_is_send_sync_and_object_safe() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SmolRuntime>();
    assert_send_sync::<Arc<dyn Runtime>>();

    let rt: Arc<dyn Runtime> = SmolRuntime::global().arc();
    let from_thread = std::thread::spawn(move || future::block_on(rt.spawn("thread", async { 9 })))
        .join()
        .unwrap();
    assert_eq!(from_thread, Ok(9));
    assert!(format!("{:?}", SmolRuntime::global()).contains("global"));
}
