//! A task the runtime refuses inside `spawn_boxed` is reported as
//! `JoinError::Rejected`; one it takes and drops later is `Lost`.

use std::sync::Mutex;
use std::time::Duration;

use diorama_core::runtime::{BoxFuture, JoinError, Runtime, RuntimeExt};
use diorama_core::{Instant, Timestamp};

/// Keeps up to `slots` tasks without running them; refuses the rest.
struct Slots {
    slots: usize,
    held: Mutex<Vec<BoxFuture<'static, ()>>>,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots").field("slots", &self.slots).finish()
    }
}

impl Runtime for Slots {
    fn spawn_boxed(&self, _name: &'static str, future: BoxFuture<'static, ()>) {
        let mut held = self.held.lock().unwrap();
        if held.len() < self.slots {
            held.push(future);
        }
    }
    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(std::future::pending())
    }
    fn now(&self) -> Instant {
        Instant::default()
    }
    fn wall_clock(&self) -> Timestamp {
        Timestamp::default()
    }
}

#[test]
fn a_refused_task_is_rejected_and_a_dropped_one_is_lost() {
    let rt = Slots {
        slots: 1,
        held: Mutex::new(Vec::new()),
    };
    let kept = rt.spawn("kept", async { 1 });
    let refused = rt.spawn("refused", async { 2 });
    assert!(refused.is_finished());
    assert!(!kept.is_finished());
    assert_eq!(
        futures_lite::future::block_on(refused),
        Err(JoinError::Rejected)
    );

    rt.held.lock().unwrap().clear();
    assert_eq!(futures_lite::future::block_on(kept), Err(JoinError::Lost));
    assert!(JoinError::Rejected.to_string().contains("pool full"));
}

/// A Dio whose write worker the runtime refuses does not open: writes could
/// never reach the master. The error says why.
#[test]
fn a_dio_whose_write_worker_is_refused_does_not_open() {
    use diorama_core::{ErrorKind, Lens, MemoryBackend, MemoryVista, Vista};

    let lens = Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(Slots {
            slots: 0,
            held: Mutex::new(Vec::new()),
        })
        .build()
        .unwrap();
    let error = futures_lite::future::block_on(lens.make_dio(Vista::new(MemoryVista::new("t"))))
        .expect_err("no write worker, no Dio");
    assert_eq!(error.kind(), ErrorKind::Failed);
    assert!(error.message().contains("write worker"), "{error}");
}
