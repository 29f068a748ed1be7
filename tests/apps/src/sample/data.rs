//! The data directory: the generated SQLite database and the sled cache.
//!
//! Each table size has its own files (`products-<rows>.sqlite`,
//! `cache-<rows>.sled`), so a small test table never meets the big one's
//! cache. A database is built under a `.partial-<pid>` name and linked to
//! its own name when complete: an interrupted build is started over, never
//! half reused, and processes starting at once over one directory share
//! the one that was complete first. A new
//! database drops the cache of its size, which described the old one.
//!
//! A database built by an earlier version (single-column indexes, no
//! search index) is migrated when opened: the sort indexes and the search
//! index are added, once, and the old indexes dropped. Its rows and the
//! caches describing them stay as they are (answers do not change, only
//! how fast they come).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diorama_core::{Error, Result};
use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};

use super::products::product;

/// The name of the generated table (and of its cache table).
pub const TABLE: &str = "products";

/// Rows per transaction while building.
const BATCH: usize = 50_000;

/// Where one table size lives, and whether this run built it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// The SQLite database.
    pub db_path: PathBuf,
    /// The sled cache directory.
    pub cache_path: PathBuf,
    /// Rows in the table.
    pub rows: usize,
    /// How long building took, when this call built the database.
    pub built_in: Option<Duration>,
    /// How long adding the indexes to a database of an earlier version
    /// took, when this call did that.
    pub migrated_in: Option<Duration>,
}

impl Dataset {
    /// What the run did with the database, for a log line: `built <path>
    /// (<rows> rows) in <seconds> s`, `using <path> (indexes added in
    /// <seconds> s)` or `using <path>`.
    pub fn describe(&self) -> String {
        match (self.built_in, self.migrated_in) {
            (Some(took), _) => format!(
                "built {} ({} rows) in {:.1} s",
                self.db_path.display(),
                thousands(self.rows),
                took.as_secs_f64()
            ),
            (None, Some(took)) => format!(
                "using {} (indexes added in {:.1} s)",
                self.db_path.display(),
                took.as_secs_f64()
            ),
            (None, None) => format!("using {}", self.db_path.display()),
        }
    }
}

/// The database of `rows` products in `dir`: reused when present, else
/// generated with a progress line on `progress`.
///
/// Errors: `Failed` for I/O and SQLite failures, with the path.
pub fn prepare(dir: &Path, rows: usize, progress: &mut dyn Write) -> Result<Dataset> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
    let db_path = dir.join(format!("{TABLE}-{rows}.sqlite"));
    let cache_path = dir.join(format!("cache-{rows}.sled"));
    let mut dataset = Dataset {
        db_path,
        cache_path,
        rows,
        built_in: None,
        migrated_in: None,
    };
    if dataset.db_path.exists() {
        let started = Instant::now();
        if smol::block_on(migrate(&dataset.db_path, progress))? {
            dataset.migrated_in = Some(started.elapsed());
        }
        return Ok(dataset);
    }
    let started = Instant::now();
    if dataset.cache_path.exists() {
        std::fs::remove_dir_all(&dataset.cache_path)
            .map_err(|e| io_error("removing the stale cache", &dataset.cache_path, e))?;
    }
    // A partial file per process, published by a hard link, which fails
    // when the database exists: several processes started at once over one
    // directory (serve replicas) each build, one wins, and none replaces a
    // file another has opened already.
    let partial = dataset
        .db_path
        .with_extension(format!("sqlite.partial-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(|e| io_error("removing", &partial, e))?;
    }
    smol::block_on(build(&partial, rows, progress))?;
    let published = std::fs::hard_link(&partial, &dataset.db_path);
    let _ = std::fs::remove_file(&partial);
    match published {
        Ok(()) => dataset.built_in = Some(started.elapsed()),
        // Another process published it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("publishing", &dataset.db_path, e)),
    }
    Ok(dataset)
}

/// The table's layout: text ids (`p0000001`) and five fields. Indexes
/// ([`INDEXED`] and the search index) are built after the rows are in,
/// which is much faster than keeping them up to date row by row.
pub fn spec() -> TableSpec {
    TableSpec::new(TABLE, "id", IdType::Text)
        .column("name", ColumnType::Text)
        .column("category", ColumnType::Text)
        .column("price", ColumnType::Real)
        .column("stock", ColumnType::Integer)
        .column("updated_at", ColumnType::Text)
}

/// The columns indexed once the rows are in: every column the apps sort by
/// (both directions, see `SqliteVista::create_index`), so a window deep
/// into a sorted million rows is an index walk, not a sort.
pub const INDEXED: &[&str] = &["price", "name", "stock", "updated_at", "category"];

/// Add what an earlier version's database lacks: the sort indexes and rank
/// tables of [`INDEXED`] and the search index, and drop its single-column indexes
/// (the sort indexes serve their conditions). True when anything was
/// missing.
async fn migrate(path: &Path, progress: &mut dyn Write) -> Result<bool> {
    use diorama_std::sqlite::rusqlite::Connection;
    let context = |e: diorama_std::sqlite::rusqlite::Error| {
        Error::failed(format!("upgrading {}: {e}", path.display()))
    };
    let conn = Connection::open(path).map_err(context)?;
    let mut missing = Vec::new();
    for column in INDEXED {
        for (kind, suffix) in [("index", "asc"), ("index", "desc"), ("table", "ranks")] {
            let name = format!("{TABLE}_{column}_{suffix}");
            let present: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = ?1 AND name = ?2",
                    [kind, &name],
                    |row| row.get(0),
                )
                .map_err(context)?;
            if present == 0 && !missing.contains(column) {
                missing.push(*column);
            }
        }
    }
    let vista = SqliteVista::open(path, TABLE, "id")?;
    if missing.is_empty() && vista.has_search_index() {
        return Ok(false);
    }
    let _ = writeln!(progress, "upgrading {}: adding indexes", path.display());
    for column in &missing {
        let _ = write!(progress, "  indexing {column}…");
        let _ = progress.flush();
        vista.create_index(column).await?;
        let _ = writeln!(progress);
    }
    if !vista.has_search_index() {
        let _ = write!(progress, "  building the search index…");
        let _ = progress.flush();
        vista.create_search_index().await?;
        let _ = writeln!(progress);
    }
    drop(vista);
    for column in INDEXED {
        conn.execute_batch(&format!("DROP INDEX IF EXISTS \"{TABLE}_{column}_idx\";"))
            .map_err(context)?;
    }
    Ok(true)
}

/// Generate the rows batch by batch; the next batch is generated while the
/// vista's thread inserts the previous one.
async fn build(path: &Path, rows: usize, progress: &mut dyn Write) -> Result<()> {
    let vista = SqliteVista::create_table(path, &spec())?;
    let started = Instant::now();
    let mut inserting: Option<smol::Task<Result<usize>>> = None;
    let mut done = 0;
    let mut start = 0;
    while start < rows {
        let end = (start + BATCH).min(rows);
        let batch: Vec<_> = (start..end)
            .map(|i| {
                let (id, record) = product(i);
                (Some(id), record)
            })
            .collect();
        if let Some(task) = inserting.take() {
            done += task.await?;
            show_progress(progress, done, rows, started.elapsed());
        }
        let writer = vista.clone();
        inserting = Some(smol::spawn(async move { writer.insert_many(batch).await }));
        start = end;
    }
    if let Some(task) = inserting {
        done += task.await?;
    }
    show_progress(progress, done, rows, started.elapsed());
    for column in INDEXED {
        let _ = write!(progress, "\n  indexing {column}…");
        let _ = progress.flush();
        vista.create_index(column).await?;
    }
    let _ = write!(progress, "\n  building the search index…");
    let _ = progress.flush();
    vista.create_search_index().await?;
    let _ = writeln!(
        progress,
        "\n  done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn show_progress(out: &mut dyn Write, done: usize, total: usize, elapsed: Duration) {
    const WIDTH: usize = 30;
    let filled = done * WIDTH / total.max(1);
    let _ = write!(
        out,
        "\rgenerating {TABLE}: [{}{}] {} / {} rows, {:.1} s ",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        thousands(done),
        thousands(total),
        elapsed.as_secs_f64()
    );
    let _ = out.flush();
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    Error::failed(format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn a_database_of_an_earlier_version_gets_its_indexes_once() {
        use diorama_core::vista::{Query, TableShell};
        use diorama_std::sqlite::rusqlite::Connection;

        let dir = tempfile::tempdir().unwrap();
        let rows = 300;
        let path = dir.path().join(format!("{TABLE}-{rows}.sqlite"));
        // What the earlier code built: the table, single-column indexes.
        let old = SqliteVista::create_table(&path, &spec()).unwrap();
        let batch = (0..rows).map(|i| {
            let (id, record) = product(i);
            (Some(id), record)
        });
        smol::block_on(old.insert_many(batch.collect())).unwrap();
        drop(old);
        let conn = Connection::open(&path).unwrap();
        for column in INDEXED {
            conn.execute_batch(&format!(
                "CREATE INDEX \"{TABLE}_{column}_idx\" ON {TABLE} (\"{column}\");"
            ))
            .unwrap();
        }
        let indexes = || -> Vec<String> {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'products_%' ORDER BY name")
                .unwrap();
            stmt.query_map([], |row| row.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(indexes().len(), INDEXED.len());

        let mut log = Vec::new();
        let dataset = prepare(dir.path(), rows, &mut log).unwrap();
        assert!(dataset.built_in.is_none(), "reused, not rebuilt");
        assert!(dataset.migrated_in.is_some());
        assert!(String::from_utf8(log).unwrap().contains("upgrading"));
        let mut expected: Vec<String> = INDEXED
            .iter()
            .flat_map(|c| [format!("{TABLE}_{c}_asc"), format!("{TABLE}_{c}_desc")])
            .collect();
        expected.sort();
        assert_eq!(indexes(), expected, "sort indexes in, old ones out");
        let vista = SqliteVista::open(&dataset.db_path, TABLE, "id").unwrap();
        assert!(vista.has_search_index());
        let lamps = (0..rows)
            .filter(|&i| {
                let name = product(i)
                    .1
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap()
                    .to_owned();
                name.to_lowercase().contains("lamp")
            })
            .count();
        let query = Query::new().with_search("lamp");
        assert_eq!(smol::block_on(vista.count(&query)).unwrap(), lamps);
        drop(vista);

        // Already upgraded: nothing to do the next time.
        let again = prepare(dir.path(), rows, &mut std::io::sink()).unwrap();
        assert_eq!(again.migrated_in, None);
    }

    #[test]
    fn describe_says_whether_the_run_built_the_database() {
        let mut dataset = Dataset {
            db_path: PathBuf::from("/d/products-20000.sqlite"),
            cache_path: PathBuf::from("/d/cache-20000.sled"),
            rows: 20_000,
            built_in: None,
            migrated_in: None,
        };
        assert_eq!(dataset.describe(), "using /d/products-20000.sqlite");
        dataset.built_in = Some(Duration::from_millis(1_250));
        assert_eq!(
            dataset.describe(),
            "built /d/products-20000.sqlite (20,000 rows) in 1.2 s"
        );
        dataset.built_in = None;
        dataset.migrated_in = Some(Duration::from_millis(3_400));
        assert_eq!(
            dataset.describe(),
            "using /d/products-20000.sqlite (indexes added in 3.4 s)"
        );
    }
}
