//! The indexes a sort walks: for a field `c`, `(c, id)` for the ascending
//! sort and `(c, id DESC)` for the descending one, written with exactly
//! the expressions of the sort's `ORDER BY` (see [`super::translate`]), so
//! a window deep into a sorted table is a walk over one covering index,
//! never a sort of the table.
//!
//! - The sort orders `c COLLATE BINARY`, then the id as text, ascending in
//!   both directions: the index columns say `COLLATE BINARY` whatever the
//!   column declares, and the id is `"id" COLLATE BINARY` for text ids and
//!   `CAST("id" AS TEXT)` for integer ones (an index on an expression).
//! - Nulls go last in both directions. Descending, that is the index walked
//!   backwards (SQLite orders NULL first), which is why the descending sort
//!   needs the id reversed in its own index: walked backwards, `(c, id
//!   DESC)` gives `c DESC, id ASC`. Ascending, SQLite's planner walks the
//!   non-null entries of `(c, id)` and then the nulls (its "big null"
//!   scan), which works when the sorted column leads the index.
//!
//! The tests check the plan with `EXPLAIN QUERY PLAN`
//! ([`SqliteVista::explain_window`](super::SqliteVista::explain_window)).

use super::schema::{IdKind, quote};

/// The name of the index for sorting `table` by `column` in one direction.
pub(crate) fn index_name(table: &str, column: &str, descending: bool) -> String {
    let dir = if descending { "desc" } else { "asc" };
    format!("{table}_{column}_{dir}")
}

/// The id as text in bytewise order, the tiebreak of every sort, for an id
/// column `quoted_id` of `kind`.
pub(crate) fn id_text(quoted_id: &str, kind: IdKind) -> String {
    match kind {
        IdKind::Text => format!("{quoted_id} COLLATE BINARY"),
        IdKind::Integer => format!("CAST({quoted_id} AS TEXT)"),
    }
}

/// `CREATE INDEX` statements (ascending, then descending) for sorting
/// `table` by field `column`; `if_not_exists` adds `IF NOT EXISTS`.
pub(crate) fn statements(
    table: &str,
    column: &str,
    id_column: &str,
    kind: IdKind,
    if_not_exists: bool,
) -> [String; 2] {
    let guard = if if_not_exists { "IF NOT EXISTS " } else { "" };
    let id = id_text(&quote(id_column), kind);
    let field = format!("{} COLLATE BINARY", quote(column));
    [false, true].map(|descending| {
        format!(
            "CREATE INDEX {guard}{} ON {} ({field}, {id}{})",
            quote(&index_name(table, column, descending)),
            quote(table),
            if descending { " DESC" } else { "" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_repeat_the_sort_expressions() {
        let [asc, desc] = statements("t", "price", "id", IdKind::Integer, false);
        assert_eq!(
            asc,
            r#"CREATE INDEX "t_price_asc" ON "t" ("price" COLLATE BINARY, CAST("id" AS TEXT))"#
        );
        assert_eq!(
            desc,
            r#"CREATE INDEX "t_price_desc" ON "t" ("price" COLLATE BINARY, CAST("id" AS TEXT) DESC)"#
        );
        let [asc, _] = statements("t", "a\"b", "id", IdKind::Text, true);
        assert_eq!(
            asc,
            r#"CREATE INDEX IF NOT EXISTS "t_a""b_asc" ON "t" ("a""b" COLLATE BINARY, "id" COLLATE BINARY)"#
        );
    }
}
