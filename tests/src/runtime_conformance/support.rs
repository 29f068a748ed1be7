//! Small tools shared by the runtime checks.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Wake;
use std::time::Duration;

use crate::harness::Harness;

/// Sets its flag when dropped: proves a task's future was dropped.
pub(crate) struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A guard to move into a future, and the flag its drop sets.
pub(crate) fn drop_flag() -> (DropFlag, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(false));
    (DropFlag(flag.clone()), flag)
}

/// A waker that only counts its wakes.
#[derive(Default)]
pub(crate) struct WakeCount(AtomicUsize);

impl WakeCount {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// A number no other call in this process returns: keeps log lines of
/// checks running in parallel in one binary apart.
pub(crate) fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A timer covered `span` and more (it never fires early); on a virtual
/// clock, exactly `span`.
pub(crate) fn assert_span<H: Harness>(h: &H, elapsed: Duration, span: Duration, what: &str) {
    assert!(
        elapsed >= span,
        "{what}: {elapsed:?} is earlier than {span:?}"
    );
    if h.virtual_clock() {
        assert_eq!(
            elapsed, span,
            "{what}: a virtual clock lands on the deadline"
        );
    }
}

/// After settling, `h.live_tasks()` is empty, where the harness can tell.
/// (A task's output can reach its handle on another thread a moment
/// before its executor is done with it: settling waits for that.)
pub(crate) fn assert_no_live_tasks<H: Harness>(h: &H, what: &str) {
    h.settle();
    if let Some(live) = h.live_tasks() {
        assert!(live.is_empty(), "{what}: tasks still alive: {live:?}");
    }
}

/// After settling, `h.timers_awaited()` is `expected`, where the harness
/// can tell.
pub(crate) fn assert_timers_awaited<H: Harness>(h: &H, expected: usize, what: &str) {
    h.settle();
    if let Some(awaited) = h.timers_awaited() {
        assert_eq!(awaited, expected, "{what}: timers awaited");
    }
}
