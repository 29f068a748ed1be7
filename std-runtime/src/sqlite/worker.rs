//! The thread that owns the writer's connection and runs every write on it
//! (and every read too, where there is no pool of readers).
//!
//! SQLite calls block (disk I/O, locks, a full scan for a search), so they
//! must not run on an executor thread. A dedicated thread rather than a
//! blocking pool (`blocking::unblock`, `spawn_blocking`, which the readers
//! use) because:
//!
//! - the one connection keeps its prepared-statement cache and the count
//!   cache, and `rusqlite::Connection` is `Send` but not `Sync`;
//! - jobs run one at a time in submission order, so writes apply in the
//!   order they were issued;
//! - it needs nothing from the executor: each job answers through an
//!   `async-channel` of capacity one, which wakes the waiting task from
//!   this thread. That works the same on smol and tokio (the simulator
//!   accepts the wake too, but stalls if it has nothing else to run while
//!   waiting; see the module docs).
//!
//! The thread stops once the last handle is dropped, after finishing the
//! jobs already sent (the drop waits for that, so the file is closed when
//! it returns).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use diorama_core::{Error, ErrorKind, Result};

use super::cancel::{AbandonOnDrop, Cancel};
use super::state::State;

type Job = Box<dyn FnOnce(&mut State) + Send>;

/// A handle on the connection's thread.
#[derive(Debug)]
pub(crate) struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the thread, moving `state` (and its connection) onto it.
    pub(crate) fn spawn(table: &str, mut state: State) -> Result<Worker> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name(format!("diorama-sqlite-{table}"))
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    // A panicking job drops its reply sender, so its caller
                    // gets an error; the thread serves the next job.
                    if catch_unwind(AssertUnwindSafe(|| job(&mut state))).is_err() {
                        log::error!("a SQLite job panicked");
                    }
                }
            })
            .map_err(|e| Error::failed(format!("cannot start the SQLite thread: {e}")))?;
        Ok(Worker {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Run the read `job` on the connection's thread: as
    /// [`run`](Worker::run), except that once the future is dropped the
    /// job is skipped if it has not started, or interrupted if it runs
    /// (see [`super::cancel`]).
    pub(crate) async fn read<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T> + Send + 'static,
    {
        let cancel = Arc::new(Cancel::default());
        let guard = AbandonOnDrop::new(cancel.clone());
        let answer = self.run(move |state| cancel.run(state, job)).await;
        guard.disarm();
        answer
    }

    /// Run `job` on the connection's thread and wait for its answer without
    /// blocking the calling task's thread. The job runs to the end even if
    /// the future is dropped (a write is applied; its answer is discarded).
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = async_channel::bounded(1);
        let boxed: Job = Box::new(move |state| {
            // The caller may have stopped waiting; the result is then unused.
            let _ = reply.try_send(job(state));
        });
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(boxed).is_ok());
        if !sent {
            return Err(Error::new(
                ErrorKind::Closed,
                "the SQLite thread has stopped",
            ));
        }
        answer
            .recv()
            .await
            .unwrap_or_else(|_| Err(Error::failed("the SQLite call panicked; see the log")))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop once the queue is empty.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
