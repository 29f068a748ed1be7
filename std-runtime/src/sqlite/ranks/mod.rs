//! Rank tables: for a field `c` with sort indexes, how many rows fall in
//! each bucket of `c`'s sort order, kept by triggers, so a window deep
//! into the sorted table starts where it should without stepping over the
//! rows before it (SQLite's b-trees hold no subtree counts, so an `OFFSET`
//! of 900,000 walks 900,000 index entries).
//!
//! A window at position `p` sums bucket counts (a few thousand rows at
//! most) to the bucket holding `p`, then walks the sort index from that
//! bucket's lower bound, skipping only the rows of that bucket before `p`.
//! The same counts give the table's row count without a scan.
//!
//! For table `t` and field `c` it is one table and three triggers:
//!
//! - `"t_c_ranks"` (`"b"` the bucket's lower bound, `"n"` its rows), a
//!   WITHOUT ROWID table ordered by bound. Its `CREATE` statement carries
//!   the bucketing in a comment, from which [`find`] rebuilds every
//!   object's definition and compares it with what the file holds, so an
//!   edited or partial set is never used.
//! - `"t_c_ranks_insert"`, `"t_c_ranks_delete"`, `"t_c_ranks_update"`:
//!   every `INSERT`, `DELETE` and `UPDATE OF c`, whoever makes it (this
//!   vista, another program, the `sqlite3` shell), moves the counts in the
//!   same transaction. Only built-in SQL functions are used, so writers
//!   without this crate's functions still write. (Rows removed by a
//!   `REPLACE` conflict fire delete triggers only under `PRAGMA
//!   recursive_triggers`, as for every SQLite trigger and the search
//!   index; this vista never writes with `REPLACE`.)
//!
//! A bucket holds the rows whose value maps to the same bound, and the map
//! never decreases along the sort order (`c COLLATE BINARY`: numbers, then
//! text bytewise, then blobs), so each bucket's rows are one run of the
//! sorted table and every row of an earlier bucket is below its bound:
//!
//! - a number `x` goes to `floor(x / w) * w` for a power of two `w`
//!   (exact in floating point), or to `x` itself beyond `±2^52 · w` or
//!   `±2^53`, where that, or an integer's conversion, is no longer exact;
//! - a text goes to its first `k` characters (a prefix never sorts after
//!   its text, and sorts after every text below it), or to itself in a
//!   column of numeric affinity, where a prefix such as `"12"` of
//!   `"12ab"` would be compared as the number 12;
//! - a blob goes to itself; a NULL to no bucket (nulls sort last, and are
//!   counted through the sort index).
//!
//! `w` and `k` are chosen from the rows when the index is built (about
//! four thousand buckets across the span of the numbers, the longest
//! prefix giving at most 4,096), so any distribution works; a skewed one
//! only makes some buckets longer to walk.

use std::collections::HashMap;

use diorama_core::Result;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};

use super::error::sql_error;
use super::schema::{quote, replace_script};

/// How values map to buckets: numbers by width `2^width_log2`, texts by
/// their first `prefix` characters (`None`: the text itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bucketing {
    pub(crate) width_log2: i32,
    pub(crate) prefix: Option<u32>,
}

/// Widths stay within this many binary orders of magnitude of 1, far from
/// the edges of a double's range.
const MAX_WIDTH_LOG2: i32 = 40;
/// Buckets across the span of a column's numbers.
const NUMBER_BUCKETS: f64 = 4096.0;
/// Most distinct prefixes a chosen prefix length may give.
const MAX_PREFIXES: i64 = 4096;
/// Longest prefix tried (texts such as product names share long
/// beginnings: "Brushed Bamboo Basket 10").
const MAX_PREFIX: u32 = 64;

impl Bucketing {
    /// What an empty table starts with: unit-wide numbers, two-character
    /// prefixes (unless numeric affinity forbids prefixes).
    pub(crate) fn default_for(numeric_affinity: bool) -> Bucketing {
        Bucketing {
            width_log2: 0,
            prefix: (!numeric_affinity).then_some(2),
        }
    }

    /// The width as an SQL expression with the exact value.
    fn width(&self) -> String {
        if self.width_log2 >= 0 {
            format!("{}.0", 1u64 << self.width_log2)
        } else {
            format!("(1.0 / {}.0)", 1u64 << -self.width_log2)
        }
    }

    /// The comment recording this bucketing in the rank table's definition.
    fn comment(&self) -> String {
        match self.prefix {
            Some(k) => format!(
                "/* diorama ranks: width 2^{}, prefix {k} */",
                self.width_log2
            ),
            None => format!(
                "/* diorama ranks: width 2^{}, whole texts */",
                self.width_log2
            ),
        }
    }

    /// The bucketing a [`comment`](Bucketing::comment) records (checked
    /// by [`find`], which compares every object written from it).
    fn parse(sql: &str) -> Option<Bucketing> {
        let rest = sql.split_once("/* diorama ranks: width 2^")?.1;
        let (width, rest) = rest.split_once(", ")?;
        let width_log2: i32 = width.parse().ok()?;
        let prefix = match rest.strip_prefix("prefix ") {
            Some(k) => Some(k.split_once(' ')?.0.parse().ok()?),
            None => None,
        };
        let valid = width_log2.abs() <= MAX_WIDTH_LOG2
            && prefix.is_none_or(|k| (1..=MAX_PREFIX).contains(&k));
        valid.then_some(Bucketing { width_log2, prefix })
    }

    /// The bucket of value `x` (an SQL expression, evaluated several times):
    /// its lower bound, NULL for NULL.
    fn bucket(&self, x: &str) -> String {
        let w = self.width();
        let r = format!("(CAST({x} AS REAL) / {w})");
        let t = format!("CAST({r} AS INTEGER)");
        // Within ±limit the division is exact (`x / w` below 2^52) and so is
        // the integer's conversion to a double (below 2^53).
        let limit = 1u64 << (52 + self.width_log2).min(53);
        let number = format!(
            "CASE WHEN {x} > -{limit}.0 AND {x} < {limit}.0 \
             THEN ({t} - ({r} < {t})) * {w} ELSE {x} END"
        );
        let text = match self.prefix {
            Some(k) => format!("substr({x}, 1, {k})"),
            None => x.to_owned(),
        };
        format!(
            "CASE typeof({x}) WHEN 'integer' THEN {number} WHEN 'real' THEN {number} \
             WHEN 'text' THEN {text} ELSE {x} END"
        )
    }

    /// The bucketing for the rows `table` holds in `column`: a width that
    /// spreads its numbers over about [`NUMBER_BUCKETS`], the longest
    /// prefix giving at most [`MAX_PREFIXES`] distinct ones.
    pub(crate) fn choose(
        conn: &Connection,
        table: &str,
        column: &str,
        numeric_affinity: bool,
    ) -> Result<Bucketing> {
        let context = format!("choosing the rank buckets of \"{column}\" in \"{table}\"");
        let (t, c) = (quote(table), quote(column));
        let (low, high): (Option<f64>, Option<f64>) = conn
            .query_row(
                &format!(
                    "SELECT min(CAST({c} AS REAL)), max(CAST({c} AS REAL)) FROM {t} \
                     WHERE typeof({c}) IN ('integer', 'real')"
                ),
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| sql_error(&context, e))?;
        let mut chosen = Bucketing::default_for(numeric_affinity);
        if let (Some(low), Some(high)) = (low, high) {
            let span = high - low;
            if span.is_finite() && span > 0.0 {
                chosen.width_log2 = ((span / NUMBER_BUCKETS).log2().ceil() as i32)
                    .clamp(-MAX_WIDTH_LOG2, MAX_WIDTH_LOG2);
            }
        }
        if !numeric_affinity {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT count(DISTINCT substr({c}, 1, ?1)) FROM {t} WHERE typeof({c}) = 'text'"
                ))
                .map_err(|e| sql_error(&context, e))?;
            let mut distinct = |k: u32| -> Result<i64> {
                stmt.query_row([k], |row| row.get(0))
                    .map_err(|e| sql_error(&context, e))
            };
            // Distinct prefixes never fall as the prefix grows: bisect for
            // the longest within the limit.
            let (mut fits, mut over) = (1, MAX_PREFIX + 1);
            while over - fits > 1 {
                let k = (fits + over) / 2;
                if distinct(k)? <= MAX_PREFIXES {
                    fits = k;
                } else {
                    over = k;
                }
            }
            let prefix = fits;
            chosen.prefix = Some(prefix);
        }
        Ok(chosen)
    }
}

/// The rank table's name for `column` of `table`.
fn ranks_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_ranks")
}

/// The objects of the rank table of `column` of `table`, as `(name, type,
/// CREATE statement)` in creation order, written as SQLite stores them.
pub(crate) fn objects(
    table: &str,
    column: &str,
    bucketing: Bucketing,
) -> Vec<(String, &'static str, String)> {
    let name = ranks_name(table, column);
    let (q_ranks, q_table, c) = (quote(&name), quote(table), quote(column));
    let create = format!(
        "CREATE TABLE {q_ranks} ({} \"b\" PRIMARY KEY, \"n\" INTEGER NOT NULL) WITHOUT ROWID",
        bucketing.comment()
    );
    let (new, old) = (
        bucketing.bucket(&format!("new.{c}")),
        bucketing.bucket(&format!("old.{c}")),
    );
    // A row with a value counts in its bucket; a bucket left empty goes.
    let add = format!(
        "INSERT INTO {q_ranks} (\"b\", \"n\") SELECT {new}, 1 WHERE new.{c} IS NOT NULL \
         ON CONFLICT (\"b\") DO UPDATE SET \"n\" = \"n\" + 1;"
    );
    let remove = format!(
        "UPDATE {q_ranks} SET \"n\" = \"n\" - 1 WHERE \"b\" = {old}; \
         DELETE FROM {q_ranks} WHERE \"b\" = {old} AND \"n\" <= 0;"
    );
    let trigger = |event: &str, when: &str, body: &str| {
        let trigger = format!("{name}_{}", event.to_ascii_lowercase());
        let on = match event {
            "UPDATE" => format!("UPDATE OF {c}"),
            other => other.to_owned(),
        };
        let sql = format!(
            "CREATE TRIGGER {} AFTER {on} ON {q_table} WHEN {when} BEGIN {body} END",
            quote(&trigger)
        );
        (trigger, "trigger", sql)
    };
    vec![
        (name.clone(), "table", create),
        trigger("INSERT", &format!("new.{c} IS NOT NULL"), &add),
        trigger("DELETE", &format!("old.{c} IS NOT NULL"), &remove),
        trigger(
            "UPDATE",
            &format!("({old}) IS NOT ({new})"),
            &format!("{remove} {add}"),
        ),
    ]
}

/// The script that (re)creates the rank table of `column` and fills it
/// from the rows there: any object of an older one dropped first.
pub(crate) fn create_script(table: &str, column: &str, bucketing: Bucketing) -> String {
    let mut script = replace_script(&objects(table, column, bucketing));
    let c = quote(column);
    script.push_str(&format!(
        "INSERT INTO {} (\"b\", \"n\") SELECT {}, count(*) FROM {} WHERE {c} IS NOT NULL GROUP BY 1;\n",
        quote(&ranks_name(table, column)),
        bucketing.bucket(&c),
        quote(table)
    ));
    script
}

/// A rank table found intact: its quoted name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ranks {
    quoted: String,
}

/// The rank table of `column` of `table` in `conn`'s main database, if it
/// and its triggers are there exactly as [`objects`] writes them.
pub(crate) fn find(conn: &Connection, table: &str, column: &str) -> Result<Option<Ranks>> {
    let context = format!("looking for the rank table of \"{column}\" in \"{table}\"");
    let mut stmt = conn
        .prepare_cached("SELECT sql FROM main.sqlite_schema WHERE name = ?1 AND type = ?2")
        .map_err(|e| sql_error(&context, e))?;
    let mut stored = |name: &str, kind: &str| -> Result<Option<String>> {
        let sql: Option<Option<String>> = stmt
            .query_row((name, kind), |row| row.get(0))
            .optional()
            .map_err(|e| sql_error(&context, e))?;
        Ok(sql.flatten())
    };
    let name = ranks_name(table, column);
    let Some(bucketing) = stored(&name, "table")?
        .as_deref()
        .and_then(Bucketing::parse)
    else {
        return Ok(None);
    };
    for (name, kind, sql) in objects(table, column, bucketing) {
        if stored(&name, kind)?.as_deref() != Some(sql.as_str()) {
            return Ok(None);
        }
    }
    Ok(Some(Ranks {
        quoted: quote(&name),
    }))
}

/// Where position `p` of the rows with a value falls, in ascending order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Located {
    /// The lower bound of the bucket holding `p`.
    pub(crate) bound: SqlValue,
    /// The lower bound of the next bucket up, if any.
    pub(crate) next: Option<SqlValue>,
    /// Rows with a value in the buckets below.
    pub(crate) below: usize,
    /// Rows in the bucket.
    pub(crate) rows: usize,
}

impl Ranks {
    /// Rows with a value in the field.
    pub(crate) fn valued(&self, conn: &Connection) -> Result<usize> {
        let n: i64 = conn
            .prepare_cached(&format!(
                "SELECT coalesce(sum(\"n\"), 0) FROM {}",
                self.quoted
            ))
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .map_err(|e| sql_error("summing a rank table", e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The bucket of ascending position `p` among the `valued` rows with a
    /// value, found by stepping from the nearer end; `None` past the end.
    pub(crate) fn locate(
        &self,
        conn: &Connection,
        p: usize,
        valued: usize,
    ) -> Result<Option<Located>> {
        if p >= valued {
            return Ok(None);
        }
        let context = "reading a rank table";
        let from_top = p >= valued / 2;
        let order = if from_top { "DESC" } else { "ASC" };
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT \"b\", \"n\" FROM {} ORDER BY \"b\" {order}",
                self.quoted
            ))
            .map_err(|e| sql_error(context, e))?;
        let mut rows = stmt.query([]).map_err(|e| sql_error(context, e))?;
        let inconsistent = || {
            // Read in the transaction that read `valued`: cannot happen
            // unless the file was edited around the triggers.
            diorama_core::Error::failed(format!(
                "the rank table {} disagrees with its own total of {valued} rows",
                self.quoted
            ))
        };
        // Rows in the buckets walked past, and the last bucket's bound.
        let mut passed = 0usize;
        let mut previous: Option<SqlValue> = None;
        while let Some(row) = rows.next().map_err(|e| sql_error(context, e))? {
            let bound: SqlValue = row.get(0).map_err(|e| sql_error(context, e))?;
            let n: i64 = row.get(1).map_err(|e| sql_error(context, e))?;
            let n = usize::try_from(n).map_err(|_| inconsistent())?;
            let through = passed.checked_add(n).filter(|&t| t <= valued);
            let through = through.ok_or_else(inconsistent)?;
            if from_top {
                // Walking down: the buckets passed lie above this one.
                let below = valued - through;
                if below <= p {
                    return Ok(Some(Located {
                        bound,
                        next: previous,
                        below,
                        rows: n,
                    }));
                }
            } else if through > p {
                let next = match rows.next().map_err(|e| sql_error(context, e))? {
                    Some(row) => Some(row.get(0).map_err(|e| sql_error(context, e))?),
                    None => None,
                };
                return Ok(Some(Located {
                    bound,
                    next,
                    below: passed,
                    rows: n,
                }));
            }
            passed = through;
            previous = Some(bound);
        }
        Err(inconsistent())
    }
}

/// True for a declared type of numeric affinity (SQLite's rules: `INT`,
/// then `CHAR`/`CLOB`/`TEXT` text, `BLOB` or nothing none, `REAL`/`FLOA`/
/// `DOUB` real, else numeric), where text that looks like a number is
/// stored, and compared, as one.
pub(crate) fn numeric_affinity(declared: &str) -> bool {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        return true;
    }
    let text = ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t));
    let none = upper.contains("BLOB") || upper.trim().is_empty();
    !(text || none)
}

/// The rank tables one connection has found, looked for again whenever
/// the schema changes (`PRAGMA schema_version` moves with every `CREATE`
/// or `DROP`, this process's or another's), so a table built or dropped
/// elsewhere is seen at the next read.
#[derive(Debug, Default)]
pub(crate) struct KnownRanks {
    schema_version: Option<i64>,
    found: HashMap<String, Option<Ranks>>,
}

impl KnownRanks {
    /// The intact rank table of `column`, if any.
    pub(crate) fn of(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
    ) -> Result<Option<Ranks>> {
        let version: i64 = conn
            .query_row("PRAGMA schema_version", [], |row| row.get(0))
            .map_err(|e| sql_error("reading the schema version", e))?;
        if self.schema_version != Some(version) {
            self.found.clear();
            self.schema_version = Some(version);
        }
        if let Some(found) = self.found.get(column) {
            return Ok(found.clone());
        }
        let found = find(conn, table, column)?;
        self.found.insert(column.to_owned(), found.clone());
        Ok(found)
    }
}

#[cfg(test)]
mod tests;
