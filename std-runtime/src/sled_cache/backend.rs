//! [`SledBackend`]: opening (or rebuilding) a sled cache and handing out its tables.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diorama_core::cache::{CacheBackend, CacheTable};
use diorama_core::error::{Error, Result};

use super::codec::TREE_PREFIX;
use super::durability::Durability;
use super::recovery::{self, Refusal};
use super::report::{MovedAside, OpenReport};
use super::sled_error;
use super::snapshot::SnapshotOnClose;
use super::table::SledTable;
use crate::support::{panic_message, system_wall_clock};

/// A [`CacheBackend`] storing every table in one sled database on disk.
///
/// Open it with [`SledBackend::open`] (or [`SledBackend::builder`] to tune
/// it) and hand it to `LensBuilder::cache_source` by value. Opening
/// the same table name twice yields the same [`SledTable`].
///
/// Defaults: a page cache bounded to [`DEFAULT_CACHE_CAPACITY`](Self::DEFAULT_CACHE_CAPACITY),
/// sled's `Mode::LowSpace`, and sled's background flush every 500 ms; call
/// [`CacheTable::flush`] or [`flush_blocking`](Self::flush_blocking) to make
/// writes durable at once.
///
/// # What it guards against
///
/// - **Damaged entries.** Every row, meta entry and counter is stored with a
///   CRC-32 of its key and value: a damaged one reads as absent (so it is
///   refetched), is logged, and is counted by
///   [`CacheTable::corrupt_reads`]; it never panics or fails the read.
/// - **Rollbacks.** Each flush stores a flush counter in sled and then
///   writes it to a marker file outside sled's log,
///   `<path>/diorama-flush.marker` (atomically: temporary file, sync,
///   rename, directory sync). If sled reopens behind the marker (it
///   recovered an older prefix of its log after damage), the backend reads
///   every row stored before as [`Stale`](diorama_core::cache::RowState::Stale)
///   until it is written again, reports it from
///   [`CacheTable::integrity`] and [`open_report`](Self::open_report), and
///   logs a warning. The last handle closing runs a final flush, so a clean
///   stop leaves sled and marker in step.
///
/// Rows are stored up to 64 to a sled key (sled's cost is per key: a
/// million rows fill in about 2.5 s and reopen in under 10 ms), and a
/// by-id read decodes only its row. When a session that wrote 8 MiB or
/// more closes, the last handle also opens and closes the database once
/// more after the final flush, so sled takes its snapshot then instead of
/// replaying the session's log at the next start (the close takes about as
/// long as a start).
/// - **Unreadable caches.** [`open_or_rebuild`](SledBuilder::open_or_rebuild)
///   moves a cache that cannot be read (damaged files, sled's `conf`,
///   another cache format) aside and starts empty, saying what it moved.
///
/// Flushes are group commits: callers flushing while a flush runs share the
/// next one. Each costs sled's flush plus the marker's two syncs.
///
/// sled locks its directory: open one backend per path per process and
/// share it. Tables keep the database open: it closes when the last handle
/// (the backend or a table) drops. Leave the directory in place until then;
/// sled 0.34 writes large values to files of their own and can hang on a
/// flush whose directory has vanished ([`SledBuilder::temporary`] ties the
/// directory's life to the handles instead).
///
/// # Thread safety
///
/// `Send + Sync`; see [`SledTable`] for the per-table locking.
pub struct SledBackend {
    durability: Arc<Durability>,
    path: PathBuf,
    report: OpenReport,
    tables: Mutex<BTreeMap<String, Arc<SledTable>>>,
}

/// Options for opening a [`SledBackend`]; from [`SledBackend::builder`].
#[derive(Clone, Debug)]
pub struct SledBuilder {
    path: PathBuf,
    cache_capacity: u64,
    flush_every: Option<Duration>,
    temporary: bool,
}

impl SledBuilder {
    /// Bound sled's page cache to `bytes` (default
    /// [`SledBackend::DEFAULT_CACHE_CAPACITY`]).
    pub fn cache_capacity(mut self, bytes: u64) -> Self {
        self.cache_capacity = bytes;
        self
    }

    /// How often sled flushes in the background (default 500 ms; `None`
    /// flushes only when asked).
    pub fn flush_every(mut self, interval: Option<Duration>) -> Self {
        self.flush_every = interval;
        self
    }

    /// Delete the cache directory when the last handle (backend or table)
    /// closes (default `false`). For tests and scratch caches: the directory
    /// lives exactly as long as something uses it.
    pub fn temporary(mut self, temporary: bool) -> Self {
        self.temporary = temporary;
        self
    }

    /// Open (creating if needed) the cache at the builder's path.
    ///
    /// A cache that cannot be read back (damaged files, a damaged `conf`,
    /// one written by another cache format) yields an error of kind
    /// [`Corrupt`](diorama_core::ErrorKind::Corrupt); any other failure
    /// (permissions, a file where the directory should be, the directory
    /// locked by another process) yields [`Failed`](diorama_core::ErrorKind::Failed).
    /// The message names the path and what to do. A lock still held by a
    /// backend of this process that is closing is waited for (up to two
    /// seconds) before giving up.
    ///
    /// A cache that opens but rolled back is not an error: it opens with
    /// its rows demoted to stale, and says so in [`SledBackend::open_report`].
    pub fn open(self) -> Result<SledBackend> {
        self.open_checked().map_err(|refusal| self.explain(refusal))
    }

    /// Like [`open`](Self::open), but a cache that cannot be read back
    /// (error kind [`Corrupt`](diorama_core::ErrorKind::Corrupt)) is moved
    /// aside to `<path>.broken-<unix millis>` and an empty cache is created
    /// in its place: the master still has the data. What was moved, and
    /// why, is in [`SledBackend::open_report`] (and logged as a warning).
    /// Other failures are returned as they are, and nothing is moved.
    pub fn open_or_rebuild(self) -> Result<SledBackend> {
        let reason = match self.open_checked() {
            Ok(backend) => return Ok(backend),
            Err(Refusal::Unreadable(reason)) => reason,
            Err(refusal) => return Err(self.explain(refusal)),
        };
        let to = move_aside(&self.path)?;
        log::warn!(
            "cache at {} is unreadable ({}); moved it to {} and starting empty",
            self.path.display(),
            reason.message(),
            to.display()
        );
        let mut backend = self
            .open_checked()
            .map_err(|refusal| self.explain(refusal))?;
        backend.report.moved_aside = Some(MovedAside { to, reason });
        Ok(backend)
    }

    /// Open sled and judge what it holds; sled panics count as unreadable.
    fn open_checked(&self) -> Result<SledBackend, Refusal> {
        let config = sled::Config::new()
            .path(&self.path)
            .cache_capacity(self.cache_capacity)
            .mode(sled::Mode::LowSpace)
            .temporary(self.temporary)
            .flush_every_ms(
                self.flush_every
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)),
            );
        // sled 0.34 can panic on some damaged files instead of returning an
        // error; a damaged cache must never take the process down.
        let open = || {
            catch_unwind(AssertUnwindSafe(|| {
                let db = config.open().map_err(classify)?;
                let recovered = recovery::recover(&db, &self.path, self.temporary)?;
                Ok((db, recovered))
            }))
        };
        let mut opened = open();
        // A backend of this process dropped a moment ago may still hold the
        // directory's lock: sled releases it from its background threads as
        // they wind down. Wait for that (briefly) instead of failing a reopen.
        let deadline = Instant::now() + LOCK_RELEASE_WAIT;
        while matches!(&opened, Ok(Err(Refusal::Locked(_)))) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            opened = open();
        }
        let (db, recovered) = match opened {
            Ok(result) => result?,
            Err(panic) => {
                return Err(Refusal::Unreadable(Error::corrupt(format!(
                    "sled panicked while opening: {}",
                    panic_message(panic.as_ref())
                ))));
            }
        };
        let marker_dir = (!self.temporary).then(|| self.path.clone());
        let mut report = OpenReport::new(&self.path);
        report.rollback = recovered.rollback.clone();
        Ok(SledBackend {
            durability: Arc::new(Durability::new(
                db,
                marker_dir.clone(),
                recovered,
                SnapshotOnClose::new(marker_dir, self.cache_capacity),
            )),
            path: self.path.clone(),
            report,
            tables: Mutex::new(BTreeMap::new()),
        })
    }

    /// The error a caller of `open` sees: what failed, where, and the way out.
    fn explain(&self, refusal: Refusal) -> Error {
        let path = self.path.display();
        let context = format!("cannot open the cache at {path}");
        match refusal {
            Refusal::Unreadable(error) => Error::corrupt(format!(
                "{context}: {}; `SledBackend::open_or_rebuild` moves it aside and starts \
                 empty, or delete {path} (it is only a cache: the master keeps the data)",
                error.message()
            )),
            Refusal::Locked(error) => Error::failed(format!(
                "{context}: {}; it is in use by another process (or another backend of \
                 this one): close that, or give this one another directory",
                error.message()
            )),
            Refusal::DiskFull(error) => Error::failed(format!(
                "{context}: {}; the disk holding it is full: free space, or delete \
                     {path} (it is only a cache: the master keeps the data)",
                error.message()
            )),
            Refusal::Failed(error) => Error::failed(format!(
                "{context}: {}; if {path} is a cache you can spare, deleting it lets an \
                 empty one be created",
                error.message()
            )),
        }
    }
}

/// How long `open` waits for another handle's lock on the directory to go.
const LOCK_RELEASE_WAIT: Duration = Duration::from_secs(2);

/// A sled error at open, sorted into "unreadable: move it aside" and
/// "failed: leave it alone". Unreadable: corruption, sled's `Unsupported`
/// (what a damaged `conf` or another sled version's files give: "created
/// using a sled version earlier than 0.29"), a reported sled bug (damaged
/// data it did not expect), and I/O errors that mean malformed data.
fn classify(error: sled::Error) -> Refusal {
    if is_lock_held(&error) {
        return Refusal::Locked(sled_error(error));
    }
    if matches!(&error, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull) {
        return Refusal::DiskFull(sled_error(error));
    }
    let unreadable = match &error {
        sled::Error::Corruption { .. }
        | sled::Error::Unsupported(_)
        | sled::Error::ReportableBug(_) => true,
        sled::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    };
    let error = sled_error(error);
    if unreadable {
        Refusal::Unreadable(Error::corrupt(error.message().to_owned()))
    } else {
        Refusal::Failed(error)
    }
}

/// Whether sled failed because the directory's lock is held (sled 0.34
/// reports it as an I/O error of kind `Other` naming the lock).
fn is_lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io)
        if io.kind() == std::io::ErrorKind::WouldBlock
            || io.to_string().contains("could not acquire lock"))
}

/// Rename the broken cache at `path` to a fresh `<path>.broken-<millis>` name.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = system_wall_clock().as_millis();
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".broken-{stamp}"));
    let mut aside = PathBuf::from(&name);
    let mut attempt = 1;
    while aside.exists() {
        let mut retry = name.clone();
        retry.push(format!("-{attempt}"));
        aside = PathBuf::from(retry);
        attempt += 1;
    }
    std::fs::rename(path, &aside).map_err(|e| {
        Error::failed(format!(
            "the cache at {} is unreadable and cannot be moved aside to {}: {e}; \
             delete {} (it is only a cache: the master keeps the data)",
            path.display(),
            aside.display(),
            path.display()
        ))
    })?;
    Ok(aside)
}

impl SledBackend {
    /// The default bound of sled's page cache: 64 MiB.
    pub const DEFAULT_CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

    /// Options for opening the cache at `path`.
    pub fn builder(path: impl AsRef<Path>) -> SledBuilder {
        SledBuilder {
            path: path.as_ref().to_path_buf(),
            cache_capacity: Self::DEFAULT_CACHE_CAPACITY,
            flush_every: Some(Duration::from_millis(500)),
            temporary: false,
        }
    }

    /// Open (creating if needed) the cache at `path` with default options;
    /// see [`SledBuilder::open`] for the errors.
    pub fn open(path: impl AsRef<Path>) -> Result<SledBackend> {
        Self::builder(path).open()
    }

    /// Open the cache at `path`, replacing it with an empty one if it is
    /// unreadable; see [`SledBuilder::open_or_rebuild`]. Print
    /// [`open_report`](Self::open_report) to tell the user what was moved.
    pub fn open_or_rebuild(path: impl AsRef<Path>) -> Result<SledBackend> {
        Self::builder(path).open_or_rebuild()
    }

    /// The directory the cache lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening found and did: the unreadable cache moved aside by
    /// [`open_or_rebuild`](SledBuilder::open_or_rebuild), a rollback found.
    /// Applications print it when it is not [clean](OpenReport::is_clean).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// This backend shared as `Arc<dyn CacheBackend>`, for code that holds
    /// backends that way. A Lens takes it by value: `.cache_source(backend)`.
    pub fn arc(self) -> Arc<dyn CacheBackend> {
        Arc::new(self)
    }

    /// Make everything written so far durable (and record it in the flush
    /// marker), blocking the calling thread until the disk confirms. For
    /// async code prefer [`CacheTable::flush`], which runs the same work off
    /// the executor. Concurrent flushes share one round.
    pub fn flush_blocking(&self) -> Result<()> {
        self.durability.flush()
    }

    /// The table `name` as its own type, opened if need be (for tests
    /// that drive it below the `CacheTable` trait).
    #[cfg(test)]
    pub(super) fn sled_table(&self, name: &str) -> Result<Arc<SledTable>> {
        self.open_table(name)?;
        self.tables()
            .get(name)
            .cloned()
            .ok_or_else(|| diorama_core::error::Error::not_found(name.to_owned()))
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<SledTable>>> {
        // The map is only inserted into or removed from, whole entries at a
        // time, so a poisoned lock still holds a consistent map.
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl CacheBackend for SledBackend {
    fn open_table(&self, name: &str) -> Result<Arc<dyn CacheTable>> {
        let mut tables = self.tables();
        if let Some(table) = tables.get(name) {
            return Ok(table.clone());
        }
        let context = format!("cannot open cache table `{name}`");
        let tree = self
            .durability
            .db()
            .open_tree(format!("{TREE_PREFIX}{name}"))
            .map_err(|e| sled_error(e).context(&context))?;
        let table = Arc::new(
            SledTable::open(name, tree, self.durability.clone())
                .map_err(|e| e.context(&context))?,
        );
        tables.insert(name.to_owned(), table.clone());
        Ok(table)
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .durability
            .db()
            .tree_names()
            .iter()
            .filter_map(|tree| {
                let tree = std::str::from_utf8(tree).ok()?;
                tree.strip_prefix(TREE_PREFIX).map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    fn drop_table(&self, name: &str) -> Result<()> {
        let mut tables = self.tables();
        // Handles opened before the drop read as empty from now on; a later
        // open creates a fresh table.
        if let Some(table) = tables.remove(name) {
            table.detach();
        }
        self.durability
            .db()
            .drop_tree(format!("{TREE_PREFIX}{name}"))
            .map(drop)
            .map_err(|e| sled_error(e).context(&format!("cannot drop cache table `{name}`")))
    }
}
