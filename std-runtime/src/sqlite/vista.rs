//! `SqliteVista`: opening a table, creating one, bulk inserts.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::vista::{Id, Query, VistaCapabilities};
use diorama_core::{Error, ErrorKind, Record, Result};
use rusqlite::{Connection, OpenFlags};

use super::error::sql_error;
use super::functions;
use super::readers::Readers;
use super::schema::Schema;
use super::spec::TableSpec;
use super::state::State;
use super::worker::Worker;
use super::{ranks, search_index, sort_index};

/// How long a call waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections of [`SqliteVista::open`]: enough for a slow search
/// and a few page reads side by side on a small machine.
const DEFAULT_READERS: usize = 4;

/// A master table in SQLite: a [`TableShell`](diorama_core::TableShell) over
/// one table, with conditions, sort, search and windows pushed into SQL.
///
/// See the [module docs](super) for what is pushed, how values convert and
/// which threads run the calls. Cheap to clone: clones share the
/// connections and the writer's thread, which stops when the last clone is
/// dropped.
///
/// ```
/// use diorama_core::vista::{Query, Sort, TableShell};
/// use diorama_core::record;
/// use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};
///
/// let spec = TableSpec::new("products", "id", IdType::Integer)
///     .column("name", ColumnType::Text)
///     .column("price", ColumnType::Real);
/// let products = SqliteVista::open_in_memory(&spec).unwrap();
/// smol::block_on(async {
///     let lamp = products.insert(None, record! { "name" => "Lamp", "price" => 19.5 }).await?;
///     products.insert(None, record! { "name" => "Desk", "price" => 120.0 }).await?;
///     assert_eq!(lamp, "1");
///     let query = Query::new().with_sort(Sort::desc("price"));
///     let page = products.fetch_window(&query, 0, 1).await?;
///     assert_eq!(page.rows[0].1.get("name").and_then(|v| v.as_str()), Some("Desk"));
///     assert_eq!(page.total, Some(2));
///     Ok::<_, diorama_core::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteVista {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) schema: Arc<Schema>,
    pub(super) capabilities: VistaCapabilities,
    /// The connection writes run on, one at a time in the order issued;
    /// `None` when opened read-only.
    pub(super) writer: Option<Worker>,
    /// The read connections; `None` when every call runs on the writer's
    /// connection (in-memory databases, `from_connection`, `readers(0)`).
    pub(super) readers: Option<Readers>,
}

impl Inner {
    /// Run the read `job` on a read connection (or the writer's, without a
    /// pool); dropped before it answers, the read is skipped or
    /// interrupted.
    pub(super) async fn read<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T> + Send + 'static,
    {
        match (&self.readers, &self.writer) {
            (Some(readers), _) => readers.run(job).await,
            (None, Some(writer)) => writer.read(job).await,
            (None, None) => Err(Error::new(ErrorKind::Closed, "the vista has no connection")),
        }
    }

    /// Run the write `job` (named `op` in errors) on the writer's
    /// connection, to the end even if the future is dropped.
    pub(super) async fn write<T, F>(&self, op: &str, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T> + Send + 'static,
    {
        match &self.writer {
            Some(writer) if self.schema.writable => writer.run(job).await,
            _ => Err(read_only(op, &self.schema.table)),
        }
    }
}

/// How [`SqliteVista::open_with`] opens a database file: how many read
/// connections, whether to write, how long to wait for locks.
///
/// ```
/// use std::time::Duration;
/// use diorama_std::sqlite::SqliteOptions;
///
/// let options = SqliteOptions::default().readers(8).busy_timeout(Duration::from_secs(2));
/// assert_eq!(options.reader_count(), 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    readers: usize,
    read_only: bool,
    busy_timeout: Duration,
    mmap_size: u64,
    applied_key_retention: Option<Duration>,
}

impl Default for SqliteOptions {
    /// Four read connections, read-write, a five-second busy timeout, no
    /// memory map, applied write keys kept seven days.
    fn default() -> Self {
        SqliteOptions {
            readers: DEFAULT_READERS,
            read_only: false,
            busy_timeout: BUSY_TIMEOUT,
            mmap_size: 0,
            applied_key_retention: Some(super::applied::DEFAULT_RETENTION),
        }
    }
}

impl SqliteOptions {
    /// Reads run side by side on up to `n` connections of their own; `0`
    /// runs every call on the writer's connection, one at a time.
    pub fn readers(mut self, n: usize) -> Self {
        self.readers = n;
        self
    }

    /// Open without a writer: the capabilities offer no insert, update or
    /// delete, and those calls are `Unsupported`. The file's journal mode
    /// is left as it is.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// How long a call waits for another connection's lock before failing.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Let each read connection map up to `bytes` of the file into memory
    /// (`PRAGMA mmap_size`) instead of copying pages through read calls:
    /// faster long walks (a window deep into a big table), at the price of
    /// the mapped file pages counting in the process's resident memory
    /// (shared with the OS page cache, and given back under pressure).
    /// `0`, the default, maps nothing.
    pub fn mmap_size(mut self, bytes: u64) -> Self {
        self.mmap_size = bytes;
        self
    }

    /// How long the key of a Dio's write stays in `_diorama_applied` after
    /// it was applied (seven days by default; `None` keeps every key).
    /// Older keys are removed now and then as keyed writes come in (see
    /// [`SqliteVista::prune_applied_keys`]). A Dio replays a write only
    /// while its cache still holds the write's intent — after a crash,
    /// at its next open — so a key is needed only until then; a write
    /// replayed after its key was removed is applied again (a patch or a
    /// replace lands on the same value; an insert with an id fails as a
    /// duplicate).
    pub fn applied_key_retention(mut self, retention: Option<Duration>) -> Self {
        self.applied_key_retention = retention;
        self
    }

    /// The read connections asked for.
    pub fn reader_count(&self) -> usize {
        self.readers
    }

    pub(super) fn busy_timeout_value(&self) -> Duration {
        self.busy_timeout
    }

    pub(super) fn mmap_size_value(&self) -> u64 {
        self.mmap_size
    }
}

impl SqliteVista {
    /// Open `table` of the SQLite database at `path` (which must exist),
    /// with ids in `id_column`, with the default [`SqliteOptions`]: one
    /// writer and up to four read connections, the file switched to WAL
    /// mode (see [Threads](super#threads)).
    ///
    /// The id column must be declared with an INTEGER or TEXT type and be
    /// the primary key or have a unique index (views are taken on trust);
    /// the other columns are the record's fields.
    ///
    /// Errors: `NotFound` when the file or the table does not exist,
    /// `InvalidInput` for an unusable id column, `Corrupt` when the file is
    /// not a database. Opening does blocking I/O (it reads the schema):
    /// call it at start-up or off the executor.
    pub fn open(path: impl AsRef<Path>, table: &str, id_column: &str) -> Result<SqliteVista> {
        Self::open_with(path, table, id_column, &SqliteOptions::default())
    }

    /// [`open`](SqliteVista::open) without writing: the capabilities offer
    /// no insert, update or delete, and those calls are `Unsupported`.
    pub fn open_read_only(
        path: impl AsRef<Path>,
        table: &str,
        id_column: &str,
    ) -> Result<SqliteVista> {
        Self::open_with(
            path,
            table,
            id_column,
            &SqliteOptions::default().read_only(true),
        )
    }

    /// [`open`](SqliteVista::open) with `options`.
    ///
    /// Read-write, the file is switched to WAL mode (a setting SQLite
    /// keeps in the file; it needs the `-wal` and `-shm` files beside it
    /// and a local file system), so reads never wait for the writer nor
    /// the writer for reads. Where WAL cannot be set the vista still
    /// works, with a reader able to make a commit wait up to the busy
    /// timeout.
    pub fn open_with(
        path: impl AsRef<Path>,
        table: &str,
        id_column: &str,
        options: &SqliteOptions,
    ) -> Result<SqliteVista> {
        let path = path.as_ref();
        let flags = if options.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let conn = open_file(path, flags)?;
        Self::over_file(conn, path, table, id_column, options)
    }

    /// A fresh in-memory database holding the empty table `spec` (tests,
    /// examples). It lives as long as the handle; every call runs on its
    /// one connection.
    pub fn open_in_memory(spec: &TableSpec) -> Result<SqliteVista> {
        let conn = Connection::open_in_memory()
            .map_err(|e| sql_error("opening an in-memory SQLite database", e))?;
        create(&conn, spec)?;
        Self::from_connection(conn, spec.name(), spec.id_column())
    }

    /// Create the table `spec` (and its indexes) in the database at `path`,
    /// creating the file if needed, and open it as
    /// [`open`](SqliteVista::open) does. `Failed` when the table already
    /// exists; `InvalidInput` for a malformed spec.
    pub fn create_table(path: impl AsRef<Path>, spec: &TableSpec) -> Result<SqliteVista> {
        let path = path.as_ref();
        let conn = open_file(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        create(&conn, spec)?;
        Self::over_file(
            conn,
            path,
            spec.name(),
            spec.id_column(),
            &SqliteOptions::default(),
        )
    }

    /// `table` of an already open connection, with ids in `id_column` (see
    /// [`open`](SqliteVista::open)). The connection moves to the vista's
    /// thread and serves every call, one at a time (for reads side by side,
    /// open the file with [`open`](SqliteVista::open)); its busy timeout is
    /// set to five seconds and two functions (`diorama_like`,
    /// `diorama_search`) are registered on it.
    pub fn from_connection(conn: Connection, table: &str, id_column: &str) -> Result<SqliteVista> {
        let schema = prepare(&conn, table, id_column, BUSY_TIMEOUT)?;
        let retention = Some(super::applied::DEFAULT_RETENTION);
        Self::assemble(schema, Some(conn), None, retention)
    }

    /// The vista over `conn`, a connection to the file at `path`: the
    /// writer (unless read-only) and the pool of readers `options` ask for.
    fn over_file(
        conn: Connection,
        path: &Path,
        table: &str,
        id_column: &str,
        options: &SqliteOptions,
    ) -> Result<SqliteVista> {
        let context = format!("opening \"{table}\" in {}", path.display());
        if !options.read_only {
            // Readers then see a snapshot while the writer commits. The
            // mode stays `delete` where WAL is impossible; that only costs
            // concurrency.
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(|e| sql_error(&context, e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                log::warn!(
                    "{context}: WAL mode not available (journal mode {mode}); readers may delay writes"
                );
            }
        }
        let schema = prepare(&conn, table, id_column, options.busy_timeout)?;
        let retention = options.applied_key_retention;
        if options.readers == 0 {
            let writer = (!options.read_only).then_some(conn);
            return Self::assemble(schema, writer, None, retention);
        }
        let readers = Readers::open(path.to_path_buf(), schema.clone(), options)?;
        let writer = (!options.read_only).then_some(conn);
        Self::assemble(schema, writer, Some(readers), retention)
    }

    fn assemble(
        schema: Arc<Schema>,
        writer: Option<Connection>,
        readers: Option<Readers>,
        retention: Option<Duration>,
    ) -> Result<SqliteVista> {
        let writable = schema.writable && writer.is_some();
        let capabilities = VistaCapabilities {
            can_insert: writable,
            can_update: writable,
            can_delete: writable,
            can_subscribe: false,
            can_order: true,
            can_search: true,
            can_fetch_page: true,
            can_fetch_next: true,
            can_count: true,
        };
        let writer = match writer {
            Some(conn) => {
                let mut state = State::new(conn, schema.clone());
                state.applied.retention = retention;
                Some(Worker::spawn(&schema.table, state)?)
            }
            None => None,
        };
        Ok(SqliteVista {
            inner: Arc::new(Inner {
                schema,
                capabilities,
                writer,
                readers,
            }),
        })
    }

    /// The id column's name.
    pub fn id_column(&self) -> &str {
        &self.inner.schema.id.name
    }

    /// The record's fields: every column but the id, in table order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.inner.schema.fields.iter().map(|c| c.name.as_str())
    }

    /// Insert `rows` in one transaction (all or none) and return how many;
    /// a row without an id gets one from SQLite as in
    /// [`insert`](diorama_core::TableShell::insert). Much faster than one
    /// `insert` per row for bulk loads: one commit, cached statements. For
    /// a large load, create the indexes afterwards
    /// ([`create_index`](SqliteVista::create_index)): each index kept up to
    /// date while loading costs far more than building it once.
    pub async fn insert_many(&self, rows: Vec<(Option<Id>, Record)>) -> Result<usize> {
        self.inner
            .write("insert_many", move |state| state.insert_many(rows))
            .await
    }

    /// Create the two indexes that sort by field `column` unless they
    /// exist: `<table>_<column>_asc` on `(column, id)` and
    /// `<table>_<column>_desc` on `(column, id DESC)`, each written with
    /// the sort's own expressions (the column bytewise, the id as text), so
    /// a window sorted by `column`, either way, is a walk over a covering
    /// index instead of a sort (see
    /// [`explain_window`](SqliteVista::explain_window)). They also serve
    /// numeric conditions on the column.
    ///
    /// With them comes the column's rank table `<table>_<column>_ranks`
    /// (unless an intact one exists): how many rows fall in each of a few
    /// thousand buckets of the sort order, kept by triggers through every
    /// write, whoever makes it. A window deep into the sorted table then
    /// starts at its bucket instead of stepping over every row before it,
    /// and the table's row count is a sum instead of a scan (see [Sorted
    /// windows](super#sorted-windows)). The buckets are chosen from the
    /// rows present, so build the indexes after a bulk load: that is also
    /// much faster than keeping them up to date row by row.
    ///
    /// Errors: `InvalidInput` for a column that is not a field;
    /// `Unsupported` on a read-only vista.
    pub async fn create_index(&self, column: &str) -> Result<()> {
        let schema = &self.inner.schema;
        let field = schema.field(column)?.name.clone();
        let [asc, desc] =
            sort_index::statements(&schema.table, &field, &schema.id.name, schema.id_kind, true);
        let table = schema.table.clone();
        let context = format!("indexing \"{column}\" of \"{table}\"");
        self.inner
            .write("create_index", move |state| {
                let conn = &state.conn;
                let run = |sql: &str| conn.execute_batch(sql).map_err(|e| sql_error(&context, e));
                let built = (|| {
                    run(&format!("BEGIN; {asc}; {desc};"))?;
                    if ranks::find(conn, &table, &field)?.is_none() {
                        let declared: String = conn
                            .query_row(
                                "SELECT type FROM pragma_table_info(?1, 'main') WHERE name = ?2",
                                [&table, &field],
                                |row| row.get(0),
                            )
                            .map_err(|e| sql_error(&context, e))?;
                        let numeric = ranks::numeric_affinity(&declared);
                        let bucketing = ranks::Bucketing::choose(conn, &table, &field, numeric)?;
                        run(&ranks::create_script(&table, &field, bucketing))?;
                    }
                    run("COMMIT")
                })();
                built.inspect_err(|_| {
                    let _ = conn.execute_batch("ROLLBACK");
                })
            })
            .await
    }

    /// Build the search index (unless an intact one exists): an FTS5 table
    /// `<table>_search` with the trigram tokenizer over every field,
    /// filled from the rows already there, and three triggers that keep it
    /// in step with every later write, whoever makes it (see
    /// [Search](super#search)). From then on a search with a needle of at
    /// least three characters narrows to the rows the index finds instead
    /// of reading every row; the results stay exactly local evaluation's.
    /// An index left stale by a change of the table's columns is replaced.
    ///
    /// On a million rows this takes tens of seconds and makes the file
    /// larger by about the size of its text; build it after a bulk load
    /// (each indexed insert costs more than its share of one build).
    ///
    /// Errors: `Unsupported` on a read-only vista or a table without a
    /// rowid (WITHOUT ROWID tables, views).
    pub async fn create_search_index(&self) -> Result<()> {
        let inner = self.inner.clone();
        let schema = &inner.schema;
        if schema.search_index().is_some() {
            return Ok(());
        }
        let Some(rowid) = schema.rowid else {
            return Err(Error::unsupported(format!(
                "\"{}\" has no rowid (a WITHOUT ROWID table or a view): no search index",
                schema.table
            )));
        };
        let table = schema.table.clone();
        let fields: Vec<String> = schema.fields.iter().map(|c| c.name.clone()).collect();
        let context = format!("building the search index of \"{table}\"");
        let found = self
            .inner
            .write("create_search_index", move |state| {
                let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                search_index::check_fields(&table, &fields)?;
                let script = search_index::create_script(&table, &fields, rowid);
                state
                    .conn
                    .execute_batch(&format!("BEGIN;\n{script}COMMIT;"))
                    .map_err(|e| {
                        let _ = state.conn.execute_batch("ROLLBACK");
                        sql_error(&context, e)
                    })?;
                search_index::find(&state.conn, &table, &fields, rowid)
            })
            .await?;
        match found {
            Some(index) => {
                let _ = inner.schema.search.set(index);
                Ok(())
            }
            None => Err(Error::failed(format!(
                "the search index of \"{}\" was built but cannot be found",
                inner.schema.table
            ))),
        }
    }

    /// Remove from `_diorama_applied` the keys of Dio writes applied more
    /// than `older_than` ago; returns how many. Keyed writes do this by
    /// themselves every 1,024 writes with the
    /// [retention](SqliteOptions::applied_key_retention) of the options;
    /// call it to prune on a schedule of your own.
    ///
    /// Errors: `Unsupported` on a read-only vista; the database's error.
    pub async fn prune_applied_keys(&self, older_than: Duration) -> Result<u64> {
        self.inner
            .write("prune_applied_keys", move |state| {
                state.prune_applied(older_than)
            })
            .await
    }

    /// True when searches use the search index (found intact at open, or
    /// built by [`create_search_index`](SqliteVista::create_search_index)).
    pub fn has_search_index(&self) -> bool {
        self.inner.schema.search_index().is_some()
    }

    /// The index of row `id` in the order of `query` (0 for the first
    /// row), `None` when the row is not in its set: how many rows of the
    /// set come before it (a count over the sort's index range). For
    /// keeping a selection on a row across a change of query.
    ///
    /// Errors: those of a read of `query`; `InvalidInput` for an id that
    /// cannot exist in the id column.
    pub async fn position(&self, query: &Query, id: &str) -> Result<Option<usize>> {
        let (query, id) = (query.clone(), id.to_owned());
        self.inner
            .read(move |state| state.position(&query, &id))
            .await
    }

    /// SQLite's plan (the detail lines of `EXPLAIN QUERY PLAN`) for the
    /// statement that finds the window `offset..offset + limit` of
    /// `query`: with a rowid, the scan for the window's rowids, whose rows
    /// are then read by key. A sort served by its index reads
    /// `SCAN <table> USING COVERING INDEX <table>_<column>_asc` (or
    /// `_desc`); `USE TEMP B-TREE FOR ORDER BY` means SQLite sorts.
    ///
    /// Errors: those of a read of `query` (`InvalidInput` for an unknown
    /// column, `Unsupported` for a condition it does not push).
    pub async fn explain_window(&self, query: &Query) -> Result<Vec<String>> {
        let query = query.clone();
        self.inner
            .read(move |state| state.explain_window(&query))
            .await
    }

    /// SQLite's plan for counting the rows of `query` (see
    /// [`explain_window`](SqliteVista::explain_window)).
    ///
    /// Errors: as [`explain_window`](SqliteVista::explain_window).
    pub async fn explain_count(&self, query: &Query) -> Result<Vec<String>> {
        let query = query.clone();
        self.inner
            .read(move |state| state.explain_count(&query))
            .await
    }
}

/// The error of a write to a table this vista cannot write.
fn read_only(op: &str, table: &str) -> Error {
    Error::unsupported(format!(
        "{op}: \"{table}\" is read-only here (a view, a virtual table or a read-only connection)"
    ))
}

/// Set up `conn` (busy timeout, the two functions) and read the schema.
fn prepare(
    conn: &Connection,
    table: &str,
    id_column: &str,
    busy_timeout: Duration,
) -> Result<Arc<Schema>> {
    let context = format!("opening \"{table}\"");
    conn.busy_timeout(busy_timeout)
        .map_err(|e| sql_error(&context, e))?;
    functions::register(conn).map_err(|e| sql_error(&context, e))?;
    Ok(Arc::new(Schema::read(conn, table, id_column)?))
}

impl fmt::Debug for SqliteVista {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema = &self.inner.schema;
        f.debug_struct("SqliteVista")
            .field("table", &schema.table)
            .field("id_column", &schema.id.name)
            .field("fields", &schema.fields.len())
            .field("writable", &self.inner.capabilities.can_update)
            .field("readers", &self.inner.readers)
            .finish_non_exhaustive()
    }
}

fn open_file(path: &Path, flags: OpenFlags) -> Result<Connection> {
    let flags = flags | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let context = format!("opening the SQLite database {}", path.display());
    if !flags.contains(OpenFlags::SQLITE_OPEN_CREATE) && !path.exists() {
        return Err(Error::not_found(format!("{context}: no such file")));
    }
    Connection::open_with_flags(path, flags).map_err(|e| sql_error(&context, e))
}

fn create(conn: &Connection, spec: &TableSpec) -> Result<()> {
    let context = format!("creating table \"{}\"", spec.name());
    let mut script = String::from("BEGIN;\n");
    for statement in spec.statements()? {
        script.push_str(&statement);
        script.push_str(";\n");
    }
    script.push_str("COMMIT;");
    conn.execute_batch(&script).map_err(|e| {
        // A failed statement leaves the transaction open.
        let _ = conn.execute_batch("ROLLBACK");
        sql_error(&context, e)
    })
}
