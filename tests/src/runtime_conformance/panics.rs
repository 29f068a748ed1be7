//! A panicking task is lost, and nothing else is.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::Duration;

use diorama_core::RuntimeExt;
use diorama_core::runtime::JoinError;
use diorama_core::sync::queue;

use super::support::{assert_no_live_tasks, drop_flag, panic_message, unique};
use crate::harness::{Harness, TaskPanics};
use crate::logs;

/// The name of the task that panics, as its log line names it.
const PANICKING_TASK: &str = "conformance-panicking-task";

/// A task that panics is dropped and its handle reports `Lost`; a task
/// waiting alongside, new tasks and timers carry on. The panic reaches the
/// test as the harness says ([`TaskPanics`]): logged once at error level
/// with the task's name and the message, or unwinding out of the driving
/// call with its message.
pub fn a_panicking_task_is_lost_and_the_runtime_keeps_running<H: Harness>(h: &H) {
    let logged = h.task_panics() == TaskPanics::Logged;
    if logged {
        logs::capture();
    }
    let rt = h.runtime();
    let (input, inbox) = queue::channel::<u32>(1);
    let bystander = rt.spawn("bystander", async move {
        inbox.recv().await.map(|n| n * 2).ok()
    });
    h.settle();

    let message = format!("deliberate conformance panic #{}", unique());
    let (guard, dropped) = drop_flag();
    let panic_text = message.clone();
    let boom = rt.spawn(PANICKING_TASK, async move {
        let _guard = guard;
        if !panic_text.is_empty() {
            panic!("{panic_text}");
        }
        1u32
    });
    let driven = catch_unwind(AssertUnwindSafe(|| h.settle()));
    match h.task_panics() {
        TaskPanics::Unwinds => {
            let payload = driven.expect_err("the panic unwinds out of the driving call");
            assert_eq!(panic_message(payload.as_ref()), message);
        }
        TaskPanics::Logged | TaskPanics::Caught => {
            assert!(driven.is_ok(), "a caught panic does not unwind")
        }
    }
    h.settle_until("the panicked task's future is dropped", || {
        dropped.load(Ordering::SeqCst)
    });
    assert_eq!(h.block_on(boom), Err(JoinError::Lost));
    h.settle();
    if let Some(live) = h.live_tasks() {
        assert_eq!(live, ["bystander"], "only the panicking task is gone");
    }

    input.try_send(21).expect("room for one");
    assert_eq!(h.block_on(bystander), Ok(Some(42)), "the bystander ran on");
    assert_eq!(h.block_on(rt.spawn("after-panic", async { 5 })), Ok(5));
    h.block_on(rt.sleep(h.scaled(Duration::from_secs(1))));
    assert_no_live_tasks(h, "after the bystander and the new task ended");

    if logged {
        let lines = logs::logged(&[PANICKING_TASK, &message]);
        assert_eq!(lines.len(), 1, "logged once: {lines:?}");
        assert!(lines[0].starts_with("ERROR"), "at error level: {lines:?}");
    }
}
