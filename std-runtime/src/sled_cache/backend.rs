//! [`SledBackend`]: opening (or rebuilding) a sled cache and handing out its tables.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diorama_core::cache::{CacheBackend, CacheTable};
use diorama_core::error::{Error, ErrorKind, Result};

use super::sled_error;
use super::table::SledTable;
use crate::support::{panic_message, system_wall_clock};

/// Tree names of cache tables start with this, so other trees in the
/// database (sled's default tree) are never listed as tables.
const TREE_PREFIX: &str = "diorama-table:";

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
    db: sled::Db,
    path: PathBuf,
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
    /// A cache that cannot be read back yields an error of kind
    /// [`Corrupt`](ErrorKind::Corrupt); any other failure (permissions, a
    /// file where the directory should be, the directory locked by another
    /// process) yields [`Failed`](ErrorKind::Failed). The message names the
    /// path. A lock still held by a backend of this process that is closing
    /// is waited for (up to two seconds) before giving up.
    pub fn open(self) -> Result<SledBackend> {
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
        let open = || catch_unwind(AssertUnwindSafe(|| config.open()));
        let mut opened = open();
        // A backend of this process dropped a moment ago may still hold the
        // directory's lock: sled releases it from its background threads as
        // they wind down. Wait for that (briefly) instead of failing a reopen.
        let deadline = Instant::now() + LOCK_RELEASE_WAIT;
        while matches!(&opened, Ok(Err(error)) if is_lock_held(error)) && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
            opened = open();
        }
        let context = format!("cannot open the cache at {}", self.path.display());
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(error)) => return Err(sled_error(error).context(&context)),
            Err(panic) => {
                return Err(Error::corrupt(format!(
                    "sled panicked while opening: {}",
                    panic_message(panic.as_ref())
                ))
                .context(&context));
            }
        };
        Ok(SledBackend {
            db,
            path: self.path,
            tables: Mutex::new(BTreeMap::new()),
        })
    }

    /// Like [`open`](Self::open), but a cache that is corrupt (error kind
    /// [`Corrupt`](ErrorKind::Corrupt)) is moved aside to
    /// `<path>.broken-<unix millis>` and an empty cache is created in its
    /// place: the master still has the data. Other failures are returned
    /// as they are, and nothing is moved.
    pub fn open_or_rebuild(self) -> Result<SledBackend> {
        match self.clone().open() {
            Err(error) if error.kind() == ErrorKind::Corrupt => {
                let aside = move_aside(&self.path)?;
                log::warn!(
                    "cache at {} is unreadable ({error}); moved to {} and starting empty",
                    self.path.display(),
                    aside.display()
                );
                self.open()
            }
            other => other,
        }
    }
}

/// Rename the broken cache at `path` to a fresh `<path>.broken-<millis>` name.
/// How long `open` waits for another handle's lock on the directory to go.
const LOCK_RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Whether sled failed because the directory's lock is held (sled 0.34
/// reports it as an I/O error of kind `Other` naming the lock).
fn is_lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io)
        if io.kind() == std::io::ErrorKind::WouldBlock
            || io.to_string().contains("could not acquire lock"))
}

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
            "cannot move the broken cache {} aside to {}: {e}",
            path.display(),
            aside.display()
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
    /// corrupt; see [`SledBuilder::open_or_rebuild`].
    pub fn open_or_rebuild(path: impl AsRef<Path>) -> Result<SledBackend> {
        Self::builder(path).open_or_rebuild()
    }

    /// The directory the cache lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This backend shared as `Arc<dyn CacheBackend>`, for code that holds
    /// backends that way. A Lens takes it by value: `.cache_source(backend)`.
    pub fn arc(self) -> Arc<dyn CacheBackend> {
        Arc::new(self)
    }

    /// Make everything written so far durable, blocking the calling thread
    /// until the disk confirms. For async code prefer [`CacheTable::flush`],
    /// which runs the same work off the executor.
    pub fn flush_blocking(&self) -> Result<()> {
        self.db
            .flush()
            .map(drop)
            .map_err(|e| sled_error(e).context("cannot flush the cache"))
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
            .db
            .open_tree(format!("{TREE_PREFIX}{name}"))
            .map_err(|e| sled_error(e).context(&context))?;
        let table = Arc::new(SledTable::open(name, tree).map_err(|e| e.context(&context))?);
        tables.insert(name.to_owned(), table.clone());
        Ok(table)
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .db
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
        self.db
            .drop_tree(format!("{TREE_PREFIX}{name}"))
            .map(drop)
            .map_err(|e| sled_error(e).context(&format!("cannot drop cache table `{name}`")))
    }
}
