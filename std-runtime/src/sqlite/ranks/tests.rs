use super::*;
use proptest::prelude::*;

/// Values of every kind SQLite stores, where buckets are hard to get
/// right: negatives, fractions, huge and tiny numbers, the `i64` edges,
/// texts with shared prefixes and multi-byte characters, blobs.
fn value() -> impl Strategy<Value = SqlValue> {
    prop_oneof![
        Just(SqlValue::Null),
        any::<i64>().prop_map(SqlValue::Integer),
        (-2000i64..2000).prop_map(SqlValue::Integer),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1i64 << 53)].prop_map(SqlValue::Integer),
        (-600.0f64..600.0).prop_map(SqlValue::Real),
        any::<f64>()
            .prop_filter("SQLite stores NaN as NULL", |x| !x.is_nan())
            .prop_map(SqlValue::Real),
        "[a-c]{0,4}".prop_map(SqlValue::Text),
        "[0-9]{1,3}[a-z]?".prop_map(SqlValue::Text),
        "[aσ€ſ]{1,3}".prop_map(SqlValue::Text),
        proptest::collection::vec(any::<u8>(), 0..3).prop_map(SqlValue::Blob),
    ]
}

fn bucketing() -> impl Strategy<Value = Bucketing> {
    (
        -MAX_WIDTH_LOG2..=MAX_WIDTH_LOG2,
        proptest::option::of(1..=3u32),
    )
        .prop_map(|(width_log2, prefix)| Bucketing { width_log2, prefix })
}

/// A table `v` of `values` in a column declared `declared`.
fn table(declared: &str, values: &[SqlValue]) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE v (id INTEGER PRIMARY KEY, x {declared});"
    ))
    .unwrap();
    for value in values {
        conn.execute("INSERT INTO v (x) VALUES (?1)", [value])
            .unwrap();
    }
    conn
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

proptest! {
    /// The property a ranked window relies on: for every bucket's bound
    /// `b`, the rows sorting below `b` are exactly the rows of the buckets
    /// below `b`, and every row sorts at or above its own bucket's bound.
    #[test]
    fn buckets_are_runs_of_the_sort_order(
        values in proptest::collection::vec(value(), 1..60),
        bucketing in bucketing(),
        declared in prop_oneof![Just("REAL"), Just("INTEGER"), Just("TEXT"), Just("")],
    ) {
        let bucketing = Bucketing {
            prefix: bucketing.prefix.filter(|_| !numeric_affinity(declared)),
            ..bucketing
        };
        let conn = table(declared, &values);
        conn.execute_batch(&format!(
            "CREATE TABLE vb AS SELECT id, x, {} AS b FROM v WHERE x IS NOT NULL;",
            bucketing.bucket("x")
        ))
        .unwrap();
        // `vb.b` has no affinity (an expression), as the rank table's `b`.
        prop_assert_eq!(count(&conn, "SELECT count(*) FROM vb WHERE b IS NULL"), 0);
        prop_assert_eq!(
            count(&conn, "SELECT count(*) FROM vb WHERE NOT (x COLLATE BINARY >= b)"),
            0
        );
        // Compared through the column, as the window's `c >= ?` compares.
        prop_assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM v AS r, (SELECT DISTINCT b FROM vb) AS k \
                 WHERE r.x IS NOT NULL AND (r.x COLLATE BINARY < k.b) IS NOT \
                 ((SELECT b FROM vb WHERE vb.id = r.id) < k.b)"
            ),
            0
        );
    }

    /// Through any inserts, updates and deletes, the counts are those of
    /// the rows.
    #[test]
    fn triggers_keep_the_counts(
        first in proptest::collection::vec(value(), 0..30),
        writes in proptest::collection::vec((0..4u8, 0..40i64, value()), 0..40),
        bucketing in bucketing(),
    ) {
        let conn = table("", &first);
        conn.execute_batch(&create_script("v", "x", bucketing)).unwrap();
        for (op, at, value) in writes {
            match op {
                0 => conn.execute("INSERT INTO v (x) VALUES (?1)", [&value]),
                1 => conn.execute("UPDATE v SET x = ?1 WHERE id = ?2", (&value, at)),
                2 => conn.execute("DELETE FROM v WHERE id = ?1", [at]),
                _ => conn.execute("UPDATE OR IGNORE v SET id = id + 100 WHERE id = ?1", [at]),
            }
            .unwrap();
        }
        let expected = format!(
            "SELECT b, count(*) FROM (SELECT {} AS b FROM v WHERE x IS NOT NULL) GROUP BY b",
            bucketing.bucket("x")
        );
        let differing = format!(
            "SELECT (SELECT count(*) FROM (SELECT * FROM ({expected}) EXCEPT SELECT * FROM v_x_ranks)) \
             + (SELECT count(*) FROM (SELECT * FROM v_x_ranks EXCEPT {expected}))"
        );
        prop_assert_eq!(count(&conn, &differing), 0);
        let ranks = find(&conn, "v", "x").unwrap().unwrap();
        let valued = count(&conn, "SELECT count(*) FROM v WHERE x IS NOT NULL") as usize;
        prop_assert_eq!(ranks.valued(&conn).unwrap(), valued);
        // Every position falls in a bucket whose rows hold it.
        for p in 0..valued {
            let at = ranks.locate(&conn, p, valued).unwrap().unwrap();
            prop_assert!(at.below <= p && p < at.below + at.rows);
        }
        prop_assert!(ranks.locate(&conn, valued, valued).unwrap().is_none());
    }
}

#[test]
fn the_bucketing_is_read_back_from_the_definition() {
    for bucketing in [
        Bucketing {
            width_log2: -3,
            prefix: Some(4),
        },
        Bucketing {
            width_log2: 12,
            prefix: None,
        },
    ] {
        let conn = table("", &[SqlValue::Real(1.5)]);
        conn.execute_batch(&create_script("v", "x", bucketing))
            .unwrap();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'v_x_ranks'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(Bucketing::parse(&sql), Some(bucketing), "{sql}");
        assert!(find(&conn, "v", "x").unwrap().is_some());
    }
    assert_eq!(
        Bucketing::parse("/* diorama ranks: width 2^99, prefix 2 */"),
        None
    );
    assert_eq!(
        Bucketing::parse("/* diorama ranks: width 2^1, prefix 0 */"),
        None
    );
}

#[test]
fn a_missing_or_edited_object_is_not_used() {
    let conn = table("", &[SqlValue::Integer(3)]);
    let bucketing = Bucketing::default_for(false);
    assert_eq!(find(&conn, "v", "x").unwrap(), None);
    conn.execute_batch(&create_script("v", "x", bucketing))
        .unwrap();
    conn.execute_batch("DROP TRIGGER v_x_ranks_delete;")
        .unwrap();
    assert_eq!(find(&conn, "v", "x").unwrap(), None);
    conn.execute_batch(&create_script("v", "x", bucketing))
        .unwrap();
    conn.execute_batch(
        "DROP TRIGGER v_x_ranks_insert; \
         CREATE TRIGGER v_x_ranks_insert AFTER INSERT ON v BEGIN SELECT 1; END;",
    )
    .unwrap();
    assert_eq!(find(&conn, "v", "x").unwrap(), None);
}

#[test]
fn chosen_buckets_spread_the_rows() {
    let values: Vec<SqlValue> = (0..5000)
        .map(|i| SqlValue::Real(1.0 + (i * 7919 % 5000) as f64 / 10.0))
        .collect();
    let conn = table("REAL", &values);
    let chosen = Bucketing::choose(&conn, "v", "x", true).unwrap();
    // 1.0..=500.9 over about 4,096 buckets: an eighth wide.
    assert_eq!(
        chosen,
        Bucketing {
            width_log2: -3,
            prefix: None
        }
    );
    let words: Vec<SqlValue> = (0..6000)
        .map(|i| SqlValue::Text(format!("{}{:04}", ["oak ", "elm "][i % 2], i)))
        .collect();
    let conn = table("TEXT", &words);
    let chosen = Bucketing::choose(&conn, "v", "x", false).unwrap();
    // "oak 000" (600 distinct) fits, "oak 0000" (6,000) does not.
    assert_eq!(chosen.prefix, Some(7));
    assert!(numeric_affinity("DOUBLE PRECISION") && numeric_affinity("int"));
    assert!(!numeric_affinity("VARCHAR(10)") && !numeric_affinity("") && !numeric_affinity("blob"));
}
