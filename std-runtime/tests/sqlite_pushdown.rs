//! What SqliteVista pushes into SQL gives exactly what local evaluation
//! gives: the same rows are loaded into a SQLite file and a `MemoryVista`
//! (which evaluates with `diorama_core::vista::eval`), and hundreds of
//! seeded random queries (conditions of every operator over integer, real,
//! text, untyped and blob columns holding nulls, mixed kinds and ties, a
//! random sort, a random search, a random window) must give the same
//! windows, records, totals and counts.
#![cfg(feature = "sqlite")]

use diorama_core::ErrorKind;
use diorama_core::value::{Record, Value};
use diorama_core::vista::{
    Clause, CmpOp, Condition, Id, MemoryVista, Query, Sort, SortDir, TableShell, Vista,
};
use diorama_std::sqlite::SqliteVista;
use diorama_std::sqlite::rusqlite::Connection;
use fastrand::Rng;
use smol::block_on;

/// Record fields of the test table, by declared type: INTEGER, REAL, TEXT,
/// TEXT with a case-folding collation (which comparisons must ignore),
/// untyped, BLOB.
const FIELDS: [&str; 6] = ["i", "r", "s", "n", "a", "b"];

const ROWS: usize = 200;
const QUERIES: usize = 400;

/// Values rows and operands are drawn from: ties, numbers equal across
/// integer and real, integers next to reals that round to them, texts that
/// look like numbers, case and Unicode variants, LIKE metacharacters,
/// bytes.
fn pool() -> Vec<Value> {
    let two53 = 1i64 << 53;
    let mut values: Vec<Value> = vec![
        Value::Null,
        0.into(),
        1.into(),
        (-1).into(),
        2.into(),
        3.into(),
        5.into(),
        7.into(),
        10.into(),
        42.into(),
        (-7).into(),
        two53.into(),
        (two53 + 1).into(),
        i64::MAX.into(),
        i64::MIN.into(),
        0.0.into(),
        (-0.0).into(),
        0.5.into(),
        1.0.into(),
        2.5.into(),
        7.0.into(),
        (-1.5).into(),
        3.0.into(),
        1e20.into(),
        1e-7.into(),
        (0.1 + 0.2).into(),
        f64::INFINITY.into(),
        f64::NEG_INFINITY.into(),
        (two53 as f64).into(),
        9_223_372_036_854_775_807.0.into(),
    ];
    for text in [
        "",
        "5",
        "7",
        "1.5",
        "lamp",
        "Lamp",
        "LAMP",
        "lampshade",
        "Émile",
        "émile",
        "ÉMILE",
        "\u{212A}",
        "k",
        "K",
        "ß",
        "SS",
        "a%b",
        "a_b",
        "a\\b",
        "true",
        "null",
        "abc",
        "Abc",
        "zz",
        "ÿ",
        "日本",
        "-0",
        "inf",
        // Folding the search index does differently from local evaluation:
        // final sigma, long s, Georgian in both cases, a quote.
        "ΣΟΦΟΣ",
        "σοφος",
        "σοφοσ",
        "Straße",
        "STRASSE",
        "ſtraſse",
        "ქართული",
        "ᲥᲐᲠᲗᲣᲚᲘ",
        "say \"hi\"",
        "1e20",
        // NUL, which the tokenizer drops: "amp" must not match here.
        "la\u{0}mps",
    ] {
        values.push(text.into());
    }
    for bytes in [&[][..], &[0], &[1, 2], &[255], &[0, 0], b"lamp"] {
        values.push(Value::Bytes(bytes.to_vec()));
    }
    values
}

/// Operands that no SQLite value reads back as, or that cannot be bound.
fn odd_operands() -> Vec<Value> {
    vec![
        Value::Undefined,
        true.into(),
        false.into(),
        f64::NAN.into(),
        Value::Array(vec![1.into()]),
        Value::Map(vec![("a".into(), 1.into())]),
        Value::Tag(2, Box::new(Value::Bytes(vec![1]))),
        Value::Simple(40),
        Value::from(u64::MAX),
        Value::from(1u64 << 63),
    ]
}

const PATTERNS: [&str; 30] = [
    "%",
    "_",
    "",
    "%a%",
    "l_mp",
    "%LAMP%",
    "lamp%",
    "%5",
    "7",
    "7.0",
    "%.5",
    "1%",
    "%e%",
    "é%",
    "%É%",
    "k",
    "%ss%",
    "a\\%b",
    "a\\_b",
    "a\\\\b",
    "a\\",
    "%\\",
    "_%_",
    "1e20",
    "100000000000000000000",
    "inf",
    "-%",
    "%0.30000000000000004%",
    "-0",
    "9223372036854775807",
];

const NEEDLES: [&str; 36] = [
    "lamp",
    "LA",
    "5",
    "7",
    "0.5",
    ".5",
    "true",
    "é",
    "É",
    "k",
    "K",
    "ss",
    "inf",
    "-",
    "e",
    "1e",
    "00",
    "%",
    "_",
    "\\",
    "日",
    "0000000000",
    // At least three characters: the search index answers these, except
    // where they could be a number's text or fold differently.
    "amp",
    "LAMPS",
    "émi",
    "MILE",
    "σοφοσ",
    "ΣΟΦ",
    "ſtra",
    "tra",
    "ქართ",
    "ᲥᲐᲠ",
    "\"hi\"",
    "1e2",
    "000",
    "30000000000000004",
];

struct Fixture {
    sqlite: SqliteVista,
    memory: MemoryVista,
    /// The values each field holds, as SQLite reads them back: operands are
    /// often drawn from here so conditions find rows.
    stored: Vec<Vec<Value>>,
    _dir: tempfile::TempDir,
}

/// A SQLite file with `ROWS` random rows in a table whose ids are `id_type`
/// (`INTEGER PRIMARY KEY` or `TEXT PRIMARY KEY`) and the sort indexes of
/// every field, and a `MemoryVista` with the same rows as SQLite reads them
/// back, in the same order.
///
/// With `search_index`, half the rows are loaded before the search index
/// is built and half after (indexed by its triggers), then some rows are
/// replaced and some deleted, so the index has seen every kind of write.
fn fixture(id_type: &str, rng: &mut Rng, search_index: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pushdown.sqlite");
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TABLE t (id {id_type} PRIMARY KEY NOT NULL, i INTEGER, r REAL, s TEXT, \
             n TEXT COLLATE NOCASE, a, b BLOB);"
        ))
        .unwrap();
    let sqlite = SqliteVista::open(&path, "t", "id").unwrap();
    let pool = pool();
    // Each column mostly draws from a few values of its own, so sorts tie.
    let favourites: Vec<Vec<Value>> = FIELDS
        .iter()
        .map(|_| {
            (0..8)
                .map(|_| pool[rng.usize(0..pool.len())].clone())
                .collect()
        })
        .collect();
    let mut used = std::collections::BTreeSet::new();
    let rows: Vec<(Option<Id>, Record)> = (0..ROWS)
        .map(|_| {
            let id = loop {
                let id = if id_type == "INTEGER" {
                    rng.i64(-60..600).to_string()
                } else {
                    let stem = rng.choice(["r", "R", "é", "a b", "r1", ""]).unwrap();
                    format!("{stem}{}", rng.usize(0..300))
                };
                if used.insert(id.clone()) {
                    break id;
                }
            };
            let record: Record = FIELDS
                .iter()
                .zip(&favourites)
                .map(|(field, favourites)| {
                    let value = match rng.u8(0..20) {
                        0..=3 => Value::Null,
                        4 => rng.bool().into(),
                        5..=9 => pool[rng.usize(0..pool.len())].clone(),
                        _ => favourites[rng.usize(0..favourites.len())].clone(),
                    };
                    (*field, value)
                })
                .collect();
            (Some(id), record)
        })
        .collect();
    if search_index {
        let mut rows = rows;
        let later = rows.split_off(ROWS / 2);
        block_on(sqlite.insert_many(rows)).unwrap();
        block_on(sqlite.create_search_index()).unwrap();
        assert!(sqlite.has_search_index());
        let changed: Vec<(Id, Record)> = later
            .iter()
            .take(20)
            .map(|(id, r)| (id.clone().unwrap(), r.clone()))
            .collect();
        block_on(sqlite.insert_many(later)).unwrap();
        let stored = block_on(sqlite.list(&Query::new())).unwrap();
        // Rows of the first half take the records of the second, and a
        // few go.
        for ((id, _), (_, record)) in stored.iter().zip(&changed) {
            block_on(sqlite.replace(id, record.clone())).unwrap();
        }
        for (id, _) in stored.iter().skip(30).take(5) {
            block_on(sqlite.delete(id)).unwrap();
        }
    } else {
        block_on(sqlite.insert_many(rows)).unwrap();
    }
    // Sorts walk the sort indexes (nulls last, ties by id as text) and
    // must still give what local evaluation gives.
    for field in FIELDS {
        block_on(sqlite.create_index(field)).unwrap();
    }
    let stored = block_on(sqlite.list(&Query::new())).unwrap();
    assert_eq!(stored.len(), if search_index { ROWS - 5 } else { ROWS });
    let values = FIELDS
        .iter()
        .map(|field| {
            stored
                .iter()
                .map(|(_, record)| record.get(field).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    let memory = MemoryVista::new("t").with_rows(stored);
    Fixture {
        sqlite,
        memory,
        stored: values,
        _dir: dir,
    }
}

/// An operand for a condition on a column holding `stored`: often one of
/// its values, else any pool value, sometimes an odd one.
fn operand(rng: &mut Rng, stored: &[Value], pool: &[Value], odd: &[Value]) -> Value {
    match rng.u8(0..10) {
        0 => odd[rng.usize(0..odd.len())].clone(),
        1..=4 => pool[rng.usize(0..pool.len())].clone(),
        _ => stored[rng.usize(0..stored.len())].clone(),
    }
}

fn random_query(rng: &mut Rng, fixture: &Fixture, pool: &[Value], odd: &[Value]) -> Query {
    let mut query = Query::new();
    let conditions = match rng.u8(0..20) {
        0..=4 => 0,
        5..=13 => 1,
        14..=18 => 2,
        _ => 3,
    };
    for _ in 0..conditions {
        let at = rng.usize(0..FIELDS.len());
        let (field, stored) = (FIELDS[at], &fixture.stored[at]);
        let ops = [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Gt,
            CmpOp::Gte,
            CmpOp::Lt,
            CmpOp::Lte,
            CmpOp::In,
            CmpOp::Like,
        ];
        let op = ops[rng.usize(0..ops.len())];
        let value = match op {
            CmpOp::In if rng.u8(0..6) > 0 => Value::Array(
                (0..rng.usize(0..=4))
                    .map(|_| operand(rng, stored, pool, odd))
                    .collect(),
            ),
            CmpOp::Like if rng.u8(0..3) > 0 => PATTERNS[rng.usize(0..PATTERNS.len())].into(),
            _ => operand(rng, stored, pool, odd),
        };
        query = query.with_condition(Condition::new(field, op, value));
    }
    if rng.u8(0..4) > 0 {
        let dir = if rng.bool() {
            SortDir::Asc
        } else {
            SortDir::Desc
        };
        query = query.with_sort(Sort::new(FIELDS[rng.usize(0..FIELDS.len())], dir));
    }
    match rng.u8(0..10) {
        0..=3 => query = query.with_search(NEEDLES[rng.usize(0..NEEDLES.len())]),
        // Set directly: an empty needle matches every row.
        4 => query.search = Some(String::new()),
        _ => {}
    }
    query
}

fn compare(fixture: &Fixture, seed: u64) {
    let mut rng = Rng::with_seed(seed);
    let (pool, odd) = (pool(), odd_operands());
    let (sqlite, memory) = (&fixture.sqlite, &fixture.memory);
    let mut pushed = 0;
    let mut matched = 0;
    for n in 0..QUERIES {
        let query = random_query(&mut rng, fixture, &pool, &odd);
        let offset = rng.usize(0..=ROWS + 5);
        let limit = rng.usize(0..=40);
        let context = format!("seed {seed}, query #{n}: {query:?}, window {offset}+{limit}");
        let expected_list = block_on(memory.list(&query)).unwrap();
        let accepted = query
            .conditions
            .iter()
            .all(|c| sqlite.accepts(Clause::Condition(c)));
        if accepted {
            pushed += 1;
            matched += usize::from(!expected_list.is_empty());
            let expected = block_on(memory.fetch_window(&query, offset, limit)).unwrap();
            let actual = block_on(sqlite.fetch_window(&query, offset, limit))
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(actual, expected, "{context}");
            let count = block_on(sqlite.count(&query)).unwrap();
            assert_eq!(count, expected_list.len(), "{context}");
            if n % 4 == 0 {
                let list = block_on(sqlite.list(&query)).unwrap();
                assert_eq!(list, expected_list, "{context}");
            }
        } else {
            let err = block_on(sqlite.list(&query)).expect_err("refused condition");
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{context}");
            // Through a Vista the refused conditions are evaluated locally.
            let mut vista = Vista::new(sqlite.clone());
            for condition in &query.conditions {
                vista = vista.with_condition(condition.clone());
            }
            if let Some(sort) = &query.sort {
                vista = vista.with_sort(sort.field.clone(), sort.dir);
            }
            if let Some(search) = &query.search {
                vista = vista.with_search(search.clone());
            }
            let list = block_on(vista.list()).unwrap();
            // An empty search is dropped by `with_search`; it matches all anyway.
            assert_eq!(list, expected_list, "{context}");
        }
    }
    // The generator must exercise both paths and find rows often enough.
    assert!(
        pushed > QUERIES * 3 / 4,
        "seed {seed}: only {pushed} pushed"
    );
    assert!(
        matched > pushed / 2,
        "seed {seed}: only {matched} matched rows"
    );
}

#[test]
fn pushdown_equals_local_evaluation_with_integer_ids() {
    let mut rng = Rng::with_seed(7);
    let fixture = fixture("INTEGER", &mut rng, false);
    compare(&fixture, 11);
    compare(&fixture, 12);
}

#[test]
fn pushdown_equals_local_evaluation_with_text_ids() {
    let mut rng = Rng::with_seed(8);
    let fixture = fixture("TEXT", &mut rng, false);
    compare(&fixture, 21);
    compare(&fixture, 22);
}

/// With the search index (built over half the rows, the rest indexed by
/// its triggers, then rows replaced and deleted): searches give exactly
/// what local evaluation gives, whether the index answers them or not.
#[test]
fn pushdown_with_the_search_index_equals_local_evaluation() {
    for (id_type, seed) in [("INTEGER", 31), ("TEXT", 41)] {
        let mut rng = Rng::with_seed(seed);
        let fixture = fixture(id_type, &mut rng, true);
        compare(&fixture, seed + 1);
        // Every needle alone, on its own and sorted.
        for needle in NEEDLES {
            for query in [
                Query::new().with_search(needle),
                Query::new()
                    .with_search(needle)
                    .with_sort(Sort::new("s", SortDir::Desc)),
            ] {
                let expected = block_on(fixture.memory.list(&query)).unwrap();
                let actual = block_on(fixture.sqlite.list(&query)).unwrap();
                assert_eq!(actual, expected, "{id_type} {query:?}");
                let count = block_on(fixture.sqlite.count(&query)).unwrap();
                assert_eq!(count, expected.len(), "{id_type} {query:?}");
                // Windows near the start, in the middle and past the end
                // (slices of the index's matches, walks of the sort index,
                // or SQLite's sort).
                for (offset, limit) in [(0, 5), (3, 20), (expected.len() / 2, 7), (ROWS, 3)] {
                    let want =
                        block_on(fixture.memory.fetch_window(&query, offset, limit)).unwrap();
                    let got = block_on(fixture.sqlite.fetch_window(&query, offset, limit)).unwrap();
                    assert_eq!(got, want, "{id_type} {query:?} {offset}+{limit}");
                }
            }
        }
    }
}

/// Every operator with every operand, one condition at a time, on every
/// column: the rare operands (NaN, booleans, nested values, integers beyond
/// 64 bits) included, which random queries seldom combine with rows.
#[test]
fn every_operator_and_operand_alone_matches_local_evaluation() {
    let mut rng = Rng::with_seed(9);
    let fixture = fixture("INTEGER", &mut rng, false);
    let operands: Vec<Value> = pool().into_iter().chain(odd_operands()).collect();
    let ops = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Gt,
        CmpOp::Gte,
        CmpOp::Lt,
        CmpOp::Lte,
        CmpOp::In,
        CmpOp::Like,
    ];
    let mut checked = 0;
    for field in FIELDS {
        for op in ops {
            let mut values = operands.clone();
            match op {
                CmpOp::In => values.extend(
                    operands
                        .iter()
                        .map(|v| Value::Array(vec![v.clone(), Value::Null, 5.into()])),
                ),
                CmpOp::Like => values.extend(PATTERNS.iter().map(|&p| Value::from(p))),
                _ => {}
            }
            for value in values {
                let condition = Condition::new(field, op, value);
                let query = Query::new().with_condition(condition.clone());
                let expected = block_on(fixture.memory.list(&query)).unwrap();
                if fixture.sqlite.accepts(Clause::Condition(&condition)) {
                    let actual = block_on(fixture.sqlite.list(&query))
                        .unwrap_or_else(|e| panic!("{condition}: {e}"));
                    assert_eq!(actual, expected, "{condition}");
                    checked += 1;
                } else {
                    let err = block_on(fixture.sqlite.list(&query)).expect_err("refused");
                    assert_eq!(err.kind(), ErrorKind::Unsupported, "{condition}");
                }
            }
        }
    }
    assert!(checked > 3000, "only {checked} conditions pushed");
}
