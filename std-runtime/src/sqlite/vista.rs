//! `SqliteVista`: opening a table, creating one, bulk inserts.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::vista::{Id, VistaCapabilities};
use diorama_core::{Error, Record, Result};
use rusqlite::{Connection, OpenFlags};

use super::error::sql_error;
use super::functions;
use super::schema::{Schema, quote};
use super::spec::TableSpec;
use super::state::State;
use super::worker::Worker;

/// How long a call waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A master table in SQLite: a [`TableShell`](diorama_core::TableShell) over
/// one table, with conditions, sort, search and windows pushed into SQL.
///
/// See the [module docs](super) for what is pushed, how values convert and
/// which thread runs the calls. Cheap to clone: clones share one connection
/// and its thread, which stops when the last clone is dropped.
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
    pub(super) worker: Worker,
}

impl SqliteVista {
    /// Open `table` of the SQLite database at `path` (which must exist),
    /// with ids in `id_column`.
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
        let conn = open_file(path.as_ref(), OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        Self::from_connection(conn, table, id_column)
    }

    /// [`open`](SqliteVista::open) without writing: the capabilities offer
    /// no insert, update or delete, and those calls are `Unsupported`.
    pub fn open_read_only(
        path: impl AsRef<Path>,
        table: &str,
        id_column: &str,
    ) -> Result<SqliteVista> {
        let conn = open_file(path.as_ref(), OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        Self::from_connection(conn, table, id_column)
    }

    /// A fresh in-memory database holding the empty table `spec` (tests,
    /// examples). It lives as long as the handle.
    pub fn open_in_memory(spec: &TableSpec) -> Result<SqliteVista> {
        let conn = Connection::open_in_memory()
            .map_err(|e| sql_error("opening an in-memory SQLite database", e))?;
        create(&conn, spec)?;
        Self::from_connection(conn, spec.name(), spec.id_column())
    }

    /// Create the table `spec` (and its indexes) in the database at `path`,
    /// creating the file if needed, and open it. `Failed` when the table
    /// already exists; `InvalidInput` for a malformed spec.
    pub fn create_table(path: impl AsRef<Path>, spec: &TableSpec) -> Result<SqliteVista> {
        let conn = open_file(
            path.as_ref(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        create(&conn, spec)?;
        Self::from_connection(conn, spec.name(), spec.id_column())
    }

    /// `table` of an already open connection, with ids in `id_column` (see
    /// [`open`](SqliteVista::open)). The connection moves to the vista's
    /// thread; its busy timeout is set to five seconds and two functions
    /// (`diorama_like`, `diorama_search`) are registered on it.
    pub fn from_connection(conn: Connection, table: &str, id_column: &str) -> Result<SqliteVista> {
        let context = format!("opening \"{table}\"");
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_error(&context, e))?;
        functions::register(&conn).map_err(|e| sql_error(&context, e))?;
        let schema = Arc::new(Schema::read(&conn, table, id_column)?);
        let writable = schema.writable;
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
        let worker = Worker::spawn(table, State::new(conn, schema.clone()))?;
        Ok(SqliteVista {
            inner: Arc::new(Inner {
                schema,
                capabilities,
                worker,
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
        self.check_writable("insert_many")?;
        self.inner
            .worker
            .run(move |state| state.insert_many(rows))
            .await
    }

    /// Create an index on field `column` unless one of that name exists
    /// (`<table>_<column>_idx`, as [`TableSpec::index`] names them). Indexes
    /// speed sorts and numeric conditions on the column; building one after
    /// a bulk load is much faster than keeping it up to date row by row.
    /// `InvalidInput` for a column that is not a field.
    pub async fn create_index(&self, column: &str) -> Result<()> {
        self.check_writable("create_index")?;
        let schema = &self.inner.schema;
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
            quote(&format!("{}_{column}_idx", schema.table)),
            schema.quoted_table,
            schema.field(column)?.quoted
        );
        let context = format!("indexing \"{column}\" of \"{}\"", schema.table);
        self.inner
            .worker
            .run(move |state| {
                state
                    .conn
                    .execute_batch(&sql)
                    .map_err(|e| sql_error(&context, e))
            })
            .await
    }

    pub(super) fn check_writable(&self, op: &str) -> Result<()> {
        if self.inner.schema.writable {
            Ok(())
        } else {
            Err(Error::unsupported(format!(
                "{op}: \"{}\" is read-only here (a view, a virtual table or a read-only connection)",
                self.inner.schema.table
            )))
        }
    }
}

impl fmt::Debug for SqliteVista {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema = &self.inner.schema;
        f.debug_struct("SqliteVista")
            .field("table", &schema.table)
            .field("id_column", &schema.id.name)
            .field("fields", &schema.fields.len())
            .field("writable", &schema.writable)
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
