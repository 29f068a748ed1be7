//! The lock rule (`diorama_core::sync`): spin locks where there are
//! threads, locks held inside a critical section where there are none (or
//! with feature `critical-section`, which runs these checks on the host over
//! `critical-section`'s std implementation).

use diorama_core::sync::{LOCK_KIND, LockKind};

#[cfg(not(feature = "critical-section"))]
#[test]
fn a_host_build_keeps_spin_locks() {
    assert_eq!(LOCK_KIND, LockKind::Spin);
}

/// A thread waiting for a held lock calls the installed wait (the std
/// runtimes install a thread yield) rather than only spinning, and gets
/// the lock once it is released.
#[cfg(not(feature = "critical-section"))]
#[test]
fn a_contended_lock_calls_the_installed_wait() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diorama_core::sync::{Mutex, RwLock, wait_when_contended};

    static WAITS: AtomicUsize = AtomicUsize::new(0);
    fn counting_yield() {
        WAITS.fetch_add(1, Ordering::Relaxed);
        std::thread::yield_now();
    }
    wait_when_contended(counting_yield);

    let lock = Arc::new(Mutex::new(0u32));
    let held = lock.lock();
    let contender = {
        let lock = lock.clone();
        std::thread::spawn(move || *lock.lock() += 1)
    };
    while WAITS.load(Ordering::Relaxed) == 0 {
        std::thread::yield_now();
    }
    drop(held);
    contender.join().unwrap();
    assert_eq!(*lock.lock(), 1);

    let rw = Arc::new(RwLock::new(0u32));
    let reading = rw.read();
    let before = WAITS.load(Ordering::Relaxed);
    let writer = {
        let rw = rw.clone();
        std::thread::spawn(move || *rw.write() += 1)
    };
    while WAITS.load(Ordering::Relaxed) == before {
        std::thread::yield_now();
    }
    drop(reading);
    writer.join().unwrap();
    assert_eq!(*rw.read(), 1);
}

#[cfg(feature = "critical-section")]
mod critical {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Arc;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use diorama_core::sync::{Mutex, RwLock};

    /// Take `lock` on another thread; false if that never finishes, which
    /// is what a critical section left open by this thread would cause.
    fn another_thread_can_lock(lock: &Arc<Mutex<u32>>) -> bool {
        let (done, finished) = mpsc::channel();
        let lock = lock.clone();
        std::thread::spawn(move || {
            *lock.lock() += 1;
            let _ = done.send(());
        });
        finished.recv_timeout(Duration::from_secs(10)).is_ok()
    }

    #[test]
    fn the_feature_selects_critical_section_locks() {
        assert_eq!(LOCK_KIND, LockKind::CriticalSection);
    }

    #[test]
    fn guards_dropped_out_of_order_close_the_section_once() {
        let a = Arc::new(Mutex::new(0));
        let b = RwLock::new(1);
        let c = RwLock::new(2);
        let guard_a = a.lock();
        let read_b = b.read();
        let read_b2 = b.read();
        let write_c = c.write();
        // Dropped neither in order nor in reverse order.
        drop(read_b);
        drop(guard_a);
        drop(write_c);
        assert_eq!(*read_b2, 1);
        drop(read_b2);
        assert!(another_thread_can_lock(&a));
        assert_eq!(*a.lock(), 1);
    }

    #[test]
    fn taking_a_held_lock_again_in_the_same_context_panics_instead_of_hanging() {
        let lock = Arc::new(Mutex::new(0));
        let rw = RwLock::new(0);
        {
            let _held = lock.lock();
            assert!(lock.try_lock().is_none());
            let again = catch_unwind(AssertUnwindSafe(|| drop(lock.lock())));
            let message = *again.unwrap_err().downcast::<String>().unwrap();
            assert!(message.contains("re-entrant"), "{message}");
        }
        {
            let _reading = rw.read();
            assert!(rw.try_write().is_none());
            assert!(rw.try_read().is_some(), "readers share within a context");
        }
        {
            let _writing = rw.write();
            assert!(rw.try_read().is_none());
        }
        // Nothing was left open by the panics.
        assert!(another_thread_can_lock(&lock));
    }

    #[test]
    fn contending_threads_wait_for_the_section_and_exclude_each_other() {
        let counter = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        let mut value = counter.lock();
                        let seen = *value;
                        std::hint::spin_loop();
                        *value = seen + 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*counter.lock(), 4_000);
    }
}
