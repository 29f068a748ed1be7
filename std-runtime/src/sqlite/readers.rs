//! The pool of read connections: reads run side by side, each on a
//! connection of its own, so a slow read delays neither the writer nor
//! another read.
//!
//! The pool is r2d2's (synchronous check-out, which suits a blocking
//! thread; deadpool-sqlite would tie the vista to tokio or async-std),
//! with a connection manager of our own because each pooled connection
//! carries state beside the rusqlite `Connection`: the registered
//! functions, its prepared statements and its count cache (see
//! [`State`]). Each read runs on the `blocking` crate's thread pool, which
//! needs no executor, so any runtime can await it; a read whose future is
//! dropped is skipped or interrupted (see [`super::cancel`]).
//!
//! Read connections are opened read-only. In WAL mode (which
//! [`SqliteVista::open`](super::SqliteVista::open) sets) they read a
//! snapshot while the writer commits; in the rollback-journal mode of a
//! file opened read-only elsewhere, a reader can still make an outside
//! writer wait for its lock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::{Error, ErrorKind, Result};
use rusqlite::{Connection, OpenFlags};
use scheduled_thread_pool::ScheduledThreadPool;

use super::cancel::{AbandonOnDrop, Cancel};
use super::functions;
use super::schema::Schema;
use super::state::State;
use super::vista::SqliteOptions;

/// How long a read waits for a free connection before failing.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens the read connections of one database.
#[derive(Debug)]
struct Manager {
    path: PathBuf,
    schema: Arc<Schema>,
    busy_timeout: Duration,
    mmap_size: u64,
}

impl r2d2::ManageConnection for Manager {
    type Connection = State;
    type Error = rusqlite::Error;

    fn connect(&self) -> rusqlite::Result<State> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(self.busy_timeout)?;
        if self.mmap_size > 0 {
            conn.pragma_update(None, "mmap_size", self.mmap_size as i64)?;
        }
        functions::register(&conn)?;
        Ok(State::new(conn, self.schema.clone()))
    }

    fn is_valid(&self, _state: &mut State) -> rusqlite::Result<()> {
        // A connection that failed a read still reads the next one; SQLite
        // has no connection state that breaks, short of the file vanishing,
        // which the next read reports.
        Ok(())
    }

    fn has_broken(&self, _state: &mut State) -> bool {
        false
    }
}

/// A pool of up to `size` read connections to one database file.
#[derive(Clone)]
pub(crate) struct Readers {
    pool: r2d2::Pool<Manager>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.pool.state();
        f.debug_struct("Readers")
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish()
    }
}

impl Readers {
    /// A pool over `path` with up to `options.readers` connections; one is
    /// opened at once, so a file that cannot be read fails here.
    pub(crate) fn open(
        path: PathBuf,
        schema: Arc<Schema>,
        options: &SqliteOptions,
    ) -> Result<Readers> {
        let context = format!("opening read connections to {}", path.display());
        let size = u32::try_from(options.reader_count().max(1)).unwrap_or(u32::MAX);
        let manager = Manager {
            path,
            schema,
            busy_timeout: options.busy_timeout_value(),
            mmap_size: options.mmap_size_value(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .thread_pool(Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(1)
                    .thread_name_pattern("diorama-sqlite-pool")
                    .build(),
            ))
            .build(manager)
            .map_err(|e| Error::failed(format!("{context}: {e}")))?;
        Ok(Readers { pool })
    }

    /// Run `job` on a pooled connection on a blocking thread; dropped
    /// before it answers, the read is skipped or interrupted.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T> + Send + 'static,
    {
        let cancel = Arc::new(Cancel::default());
        let guard = AbandonOnDrop::new(cancel.clone());
        let pool = self.pool.clone();
        let answer = blocking::unblock(move || {
            let mut state = pool.get().map_err(|e| {
                Error::new(
                    ErrorKind::Failed,
                    format!("no SQLite read connection free: {e}"),
                )
            })?;
            cancel.run(&mut state, job)
        })
        .await;
        guard.disarm();
        answer
    }
}
