//! [`HostExecutor`]: an embassy executor on a thread of its own, for tests
//! and Linux tools (feature `host`).
//!
//! # A test harness on it
//!
//! Tasks run on the executor's thread while the test thread waits, as on a
//! multi-threaded tokio runtime, and the clock is embassy-time's std driver
//! (real time). A harness therefore:
//!
//! - keeps a `HostExecutor` and a runtime on a leaked pool
//!   (`Box::leak(Box::new(TaskPool::<64>::new()))`), wrapped in whatever
//!   tracks live tasks and timers;
//! - `block_on`s the test's futures on the test thread with any executor
//!   (a sleep may be awaited there: the `host` feature uses embassy-time's
//!   generic timer queue, which takes any waker);
//! - settles by looking until no tracked task is runnable and no awaited
//!   timer is due, a few looks in a row; advances by sleeping the span and
//!   settling (the clock is real);
//! - on drop, aborts the tasks still alive and waits until they are gone
//!   before dropping the executor (embassy never drops a spawned task).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

use embassy_executor::{Executor, SendSpawner};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;

use diorama_core::runtime::BoxFuture;
use portable_atomic::{AtomicBool, Ordering};

use crate::EmbassyRuntime;
use crate::pool::Pool;
use crate::wall::SystemClock;

/// Tells the executor thread to stop; awaited by its keeper task.
type Stop = Signal<CriticalSectionRawMutex, ()>;

/// The keeper's own pool of one slot.
type KeeperPool = embassy_executor::raw::TaskPool<BoxFuture<'static, ()>, 1>;

/// embassy's std executor (`platform-std`) running on its own thread, with
/// embassy-time's std driver: what a test harness or a Linux tool runs
/// Diorama on.
///
/// Tasks run on that thread, concurrently with the caller; drive the test's
/// own futures with any `block_on` (the generic timer queue lets a sleep be
/// awaited there too). Dropping the executor stops its thread after the
/// current poll; tasks still alive then are left unrun (embassy never drops
/// a spawned task), and so is anything spawned on it afterwards (its
/// handle never resolves): end them first (abort, or drop what they serve).
pub struct HostExecutor {
    spawner: SendSpawner,
    stop: &'static Stop,
    thread: Option<JoinHandle<()>>,
}

impl HostExecutor {
    /// Start an executor thread.
    pub fn start() -> Self {
        // One keeper task in a pool of its own, so stopping never needs a
        // slot of the user's pool. Leaked: embassy's executor and pools must
        // be 'static; a few hundred bytes per executor.
        let keeper_pool: &'static KeeperPool = Box::leak(Box::new(KeeperPool::new()));
        let stop: &'static Stop = Box::leak(Box::new(Signal::new()));
        let (ready, spawner) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("embassy-executor".into())
            .spawn(move || {
                let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
                let stopped = Arc::new(AtomicBool::new(false));
                let done = stopped.clone();
                executor.run_until(
                    |spawner| {
                        let spawner = spawner.make_send();
                        let keeper = keeper_pool.spawn(|| {
                            Box::pin(async move {
                                stop.wait().await;
                                stopped.store(true, Ordering::Release);
                            })
                        });
                        match keeper {
                            Ok(token) => spawner.spawn(token),
                            Err(_) => unreachable!("a fresh pool of one has a free slot"),
                        }
                        let _ = ready.send(spawner);
                    },
                    move || done.load(Ordering::Acquire),
                );
            })
            .expect("spawn the embassy executor thread");
        let spawner = spawner.recv().expect("the executor thread started");
        HostExecutor {
            spawner,
            stop,
            thread: Some(thread),
        }
    }

    /// A spawner for this executor.
    pub fn spawner(&self) -> SendSpawner {
        self.spawner
    }

    /// A runtime on this executor through `pool`, with the host's clock as
    /// its wall clock.
    pub fn runtime(&self, pool: &'static dyn Pool) -> EmbassyRuntime {
        EmbassyRuntime::new(self.spawner, pool).with_wall_clock(SystemClock)
    }
}

impl Drop for HostExecutor {
    fn drop(&mut self) {
        self.stop.signal(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for HostExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostExecutor")
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}
