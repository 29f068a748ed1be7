//! Stopping a read whose caller stopped waiting, with SQLite's interrupt.
//!
//! A read runs on another thread than the task awaiting it, so dropping
//! the task's future cannot stop it by itself. Each read carries a
//! [`Cancel`]: the future's [`AbandonOnDrop`] guard marks it abandoned
//! when dropped before the answer came, and interrupts the statement if
//! one is running (`sqlite3_interrupt`, which makes SQLite stop at its
//! next step with `SQLITE_INTERRUPT`); a read not started yet is skipped.
//!
//! The interrupt handle is held only while the read's own statements run
//! on the connection (taken before the first, given up after the last,
//! both under the lock `abandon` takes), so an interrupt can never reach
//! the next read of a pooled connection.

use std::sync::{Arc, Mutex, PoisonError};

use diorama_core::{Error, ErrorKind, Result};
use rusqlite::InterruptHandle;

use super::state::State;

/// The shared state of one read: abandoned or not, and the handle that
/// interrupts it while it runs.
#[derive(Default)]
pub(crate) struct Cancel {
    state: Mutex<CancelState>,
}

#[derive(Default)]
struct CancelState {
    abandoned: bool,
    running: Option<InterruptHandle>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Cancel")
            .field("abandoned", &state.abandoned)
            .field("running", &state.running.is_some())
            .finish()
    }
}

impl Cancel {
    fn lock(&self) -> std::sync::MutexGuard<'_, CancelState> {
        // Two plain fields, each set in one step: consistent after a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `job` on `conn`'s thread unless the read was abandoned already
    /// (then `Cancelled` without touching the connection); an interrupted
    /// statement's error becomes `Cancelled` too.
    pub(crate) fn run<T>(
        &self,
        state: &mut State,
        job: impl FnOnce(&mut State) -> Result<T>,
    ) -> Result<T> {
        {
            let mut guard = self.lock();
            if guard.abandoned {
                return Err(cancelled());
            }
            guard.running = Some(state.conn.get_interrupt_handle());
        }
        let result = job(state);
        let abandoned = {
            let mut guard = self.lock();
            guard.running = None;
            guard.abandoned
        };
        match result {
            Err(_) if abandoned => Err(cancelled()),
            other => other,
        }
    }

    /// The caller stopped waiting: skip the read if it has not started,
    /// interrupt it if it runs.
    fn abandon(&self) {
        let mut guard = self.lock();
        guard.abandoned = true;
        if let Some(handle) = guard.running.take() {
            handle.interrupt();
        }
    }
}

fn cancelled() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "the SQLite read was cancelled: its caller stopped waiting",
    )
}

/// Held by the future awaiting a read: abandons the read when dropped
/// before [`disarm`](AbandonOnDrop::disarm).
#[derive(Debug)]
pub(crate) struct AbandonOnDrop {
    cancel: Option<Arc<Cancel>>,
}

impl AbandonOnDrop {
    pub(crate) fn new(cancel: Arc<Cancel>) -> Self {
        AbandonOnDrop {
            cancel: Some(cancel),
        }
    }

    /// The answer arrived: nothing to abandon.
    pub(crate) fn disarm(mut self) {
        self.cancel = None;
    }
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel.abandon();
        }
    }
}
