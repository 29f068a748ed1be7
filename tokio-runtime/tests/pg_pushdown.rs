//! What PgVista pushes into SQL gives exactly what local evaluation gives:
//! the same rows are loaded into a PostgreSQL table and a `MemoryVista`
//! (which evaluates with `diorama_core::vista::eval`), and hundreds of
//! seeded random queries (conditions of every operator over integer,
//! double, real, boolean, text, case-insensitively collated text, bytea,
//! numeric and jsonb columns holding nulls, ties and awkward floats, a
//! random sort, a random search, a random window) must give the same
//! windows, records, totals and counts; so must every operator with every
//! operand alone, and `Like` with the exact rendering of thousands of
//! random doubles. Skipped (one printed line) without a server, unless
//! `DIORAMA_REQUIRE_SERVICES=1`.
#![cfg(feature = "postgres")]

mod pg_support;

use diorama_core::value::{Record, Value};
use diorama_core::vista::{
    Clause, CmpOp, Condition, Id, MemoryVista, Query, Sort, SortDir, TableShell, Vista,
};
use diorama_core::{ErrorKind, record};
use diorama_tokio::postgres::PgVista;
use fastrand::Rng;
use pg_support::Scratch;

/// The record fields of the test table and the SQL type of each.
const COLUMNS: [(&str, &str); 10] = [
    ("i", "bigint"),
    ("s", "integer"),
    ("r", "double precision"),
    ("f", "real"),
    ("b", "boolean"),
    ("t", "text"),
    ("n", "text"),
    ("y", "bytea"),
    ("x", "numeric"),
    ("j", "jsonb"),
];

const ROWS: usize = 200;
const QUERIES: usize = 250;

fn floats() -> Vec<f64> {
    let two53 = (1u64 << 53) as f64;
    vec![
        0.0,
        -0.0,
        0.5,
        1.0,
        2.5,
        7.0,
        -1.5,
        3.0,
        5.0,
        42.0,
        1e20,
        1e-7,
        0.1 + 0.2,
        19.99,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        two53,
        two53 * 2.0 + 2.0,
        9_223_372_036_854_775_807.0,
        // A tie between two shortest renderings, and a boundary case.
        1_273_812_973_436_447.0 + 0.25,
        3.092_535_278_770_144e18,
        1e23,
        -2.0,
    ]
}

fn texts() -> Vec<&'static str> {
    vec![
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
        "two\nlines",
        "İ",
        "i",
    ]
}

/// The values each column draws from, as written.
fn column_pool(column: &str) -> Vec<Value> {
    let ints: Vec<i64> = vec![
        0,
        1,
        -1,
        2,
        3,
        5,
        7,
        10,
        42,
        -7,
        1 << 53,
        (1 << 53) + 1,
        i64::MAX,
        i64::MIN,
    ];
    let mut pool = vec![Value::Null];
    match column {
        "i" => pool.extend(ints.into_iter().map(Value::from)),
        "s" => pool.extend([0, 1, -1, 2, 3, 5, 7, 42, i32::MAX as i64].map(Value::from)),
        "r" => pool.extend(floats().into_iter().map(Value::Float)),
        "f" => pool.extend(
            floats()
                .into_iter()
                .filter(|f| f.abs() < 1e30 || f.is_infinite() || f.is_nan())
                .map(|f| Value::Float(f64::from(f as f32))),
        ),
        "b" => pool.extend([true, false].map(Value::Bool)),
        "t" | "n" => pool.extend(texts().into_iter().map(Value::from)),
        "y" => pool.extend(
            [&[][..], &[0], &[1, 2], &[255], &[0, 0], b"lamp"].map(|b| Value::Bytes(b.to_vec())),
        ),
        "x" => {
            pool.extend(["5", "7", "1.5", "1.50", "19.99", "-0.5", "100", "1e3"].map(Value::from))
        }
        "j" => pool.extend(
            [
                r#"{"a": 1}"#,
                "[1, 2]",
                r#""lamp""#,
                "true",
                "5",
                "null",
                r#"{"k": "Lamp"}"#,
            ]
            .map(Value::from),
        ),
        _ => unreachable!("no column {column}"),
    }
    pool
}

/// Operands that no column reads back as, or that cannot be bound.
fn odd_operands() -> Vec<Value> {
    vec![
        Value::Undefined,
        Value::Array(vec![1.into()]),
        Value::Map(vec![("a".into(), 1.into())]),
        Value::Tag(2, Box::new(Value::Bytes(vec![1]))),
        Value::Simple(40),
        Value::from(u64::MAX),
        Value::from(1u64 << 63),
        Value::Integer(diorama_core::value::Int::MIN),
        Value::from((1i64 << 53) + 1),
        Value::Float(2.5),
        Value::Float(f64::NAN),
        Value::Float(-1e300),
        Value::from("a\0b"),
    ]
}

const PATTERNS: [&str; 31] = [
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
    "9223372036854775808",
    "two_lines",
];

const NEEDLES: [&str; 24] = [
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
    "NaN",
    "\n",
];

struct Fixture {
    db: Scratch,
    pg: PgVista,
    memory: MemoryVista,
    /// The values each field holds, as read back: operands are often drawn
    /// from here so conditions find rows.
    stored: Vec<Vec<Value>>,
}

/// A table of `ROWS` random rows (ids as `id_type`), and a `MemoryVista`
/// with the same rows as PostgreSQL reads them back, in the same order.
async fn fixture(test: &str, id_type: &str, rng: &mut Rng) -> Option<Fixture> {
    let db = Scratch::new(test).await?;
    // A case-insensitive collation on `n`, which comparisons must ignore;
    // plain text where the server has no ICU.
    let collated = db
        .client()
        .batch_execute(&format!(
            "CREATE COLLATION \"{}\".ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
            db.schema
        ))
        .await
        .is_ok();
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, ty)| {
            if *name == "n" && collated {
                format!("{name} {ty} COLLATE ci")
            } else {
                format!("{name} {ty}")
            }
        })
        .collect();
    db.exec(&format!(
        "CREATE TABLE t (id {id_type} PRIMARY KEY, {})",
        columns.join(", ")
    ))
    .await;
    let pg = db.vista("t").open().await.unwrap();
    let pools: Vec<Vec<Value>> = COLUMNS.iter().map(|(name, _)| column_pool(name)).collect();
    // Each column mostly draws from a few values of its own, so sorts tie.
    let favourites: Vec<Vec<Value>> = pools
        .iter()
        .map(|pool| {
            (0..5)
                .map(|_| pool[rng.usize(0..pool.len())].clone())
                .collect()
        })
        .collect();
    let mut used = std::collections::BTreeSet::new();
    for _ in 0..ROWS {
        let id = loop {
            let id = if id_type == "bigint" {
                rng.i64(-60..600).to_string()
            } else {
                let stem = rng.choice(["r", "R", "é", "a b", "r1", ""]).unwrap();
                format!("{stem}{}", rng.usize(0..300))
            };
            if used.insert(id.clone()) {
                break id;
            }
        };
        let record: Record = COLUMNS
            .iter()
            .zip(pools.iter().zip(&favourites))
            .map(|((name, _), (pool, favourites))| {
                let value = match rng.u8(0..10) {
                    0..=3 => pool[rng.usize(0..pool.len())].clone(),
                    _ => favourites[rng.usize(0..favourites.len())].clone(),
                };
                (*name, value)
            })
            .collect();
        pg.insert(Some(id), record).await.unwrap();
    }
    let rows = pg.list(&Query::new()).await.unwrap();
    assert_eq!(rows.len(), ROWS);
    let stored = COLUMNS
        .iter()
        .map(|(name, _)| {
            rows.iter()
                .map(|(_, record)| record.get(name).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    let memory = MemoryVista::new("t").with_rows(rows);
    Some(Fixture {
        db,
        pg,
        memory,
        stored,
    })
}

/// Equality that counts NaN equal to NaN (as eval does) and tells `-0.0`
/// from `0.0`: records hold NaN, which `PartialEq` never finds equal.
#[track_caller]
fn assert_same<T: std::fmt::Debug>(actual: &T, expected: &T, context: &str) {
    let (actual, expected) = (format!("{actual:?}"), format!("{expected:?}"));
    assert!(
        actual == expected,
        "{context}\n  actual: {actual}\nexpected: {expected}"
    );
}

fn operand(rng: &mut Rng, stored: &[Value], pool: &[Value], odd: &[Value]) -> Value {
    match rng.u8(0..10) {
        0 => odd[rng.usize(0..odd.len())].clone(),
        1..=4 => pool[rng.usize(0..pool.len())].clone(),
        _ => stored[rng.usize(0..stored.len())].clone(),
    }
}

const OPS: [CmpOp; 8] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Gt,
    CmpOp::Gte,
    CmpOp::Lt,
    CmpOp::Lte,
    CmpOp::In,
    CmpOp::Like,
];

fn random_query(rng: &mut Rng, fixture: &Fixture, pool: &[Value], odd: &[Value]) -> Query {
    let mut query = Query::new();
    let conditions = match rng.u8(0..20) {
        0..=4 => 0,
        5..=13 => 1,
        14..=18 => 2,
        _ => 3,
    };
    for _ in 0..conditions {
        let at = rng.usize(0..COLUMNS.len());
        let (field, stored) = (COLUMNS[at].0, &fixture.stored[at]);
        let op = OPS[rng.usize(0..OPS.len())];
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
        query = query.with_sort(Sort::new(COLUMNS[rng.usize(0..COLUMNS.len())].0, dir));
    }
    match rng.u8(0..10) {
        0..=3 => query = query.with_search(NEEDLES[rng.usize(0..NEEDLES.len())]),
        // Set directly: an empty needle matches every row.
        4 => query.search = Some(String::new()),
        _ => {}
    }
    query
}

fn every_value() -> Vec<Value> {
    let mut values: Vec<Value> = COLUMNS
        .iter()
        .flat_map(|(name, _)| column_pool(name))
        .collect();
    values.extend(odd_operands());
    values
}

async fn compare(fixture: &Fixture, seed: u64) {
    let mut rng = Rng::with_seed(seed);
    let (pool, odd) = (every_value(), odd_operands());
    let (pg, memory) = (&fixture.pg, &fixture.memory);
    let mut pushed = 0;
    let mut matched = 0;
    for n in 0..QUERIES {
        let query = random_query(&mut rng, fixture, &pool, &odd);
        let offset = rng.usize(0..=ROWS + 5);
        let limit = rng.usize(0..=40);
        let context = format!("seed {seed}, query #{n}: {query:?}, window {offset}+{limit}");
        let expected_list = memory.list(&query).await.unwrap();
        let accepted = query
            .conditions
            .iter()
            .all(|c| pg.accepts(Clause::Condition(c)));
        if accepted {
            pushed += 1;
            matched += usize::from(!expected_list.is_empty());
            let expected = memory.fetch_window(&query, offset, limit).await.unwrap();
            let actual = pg
                .fetch_window(&query, offset, limit)
                .await
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_same(&actual, &expected, &context);
            let count = pg.count(&query).await.unwrap();
            assert_eq!(count, expected_list.len(), "{context}");
            if n % 4 == 0 {
                let list = pg.list(&query).await.unwrap();
                assert_same(&list, &expected_list, &context);
            }
        } else {
            let err = pg.list(&query).await.expect_err("refused condition");
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{context}");
            // Through a Vista the refused conditions are evaluated locally.
            let mut vista = Vista::new(pg.clone());
            for condition in &query.conditions {
                vista = vista.with_condition(condition.clone());
            }
            if let Some(sort) = &query.sort {
                vista = vista.with_sort(sort.field.clone(), sort.dir);
            }
            if let Some(search) = &query.search {
                vista = vista.with_search(search.clone());
            }
            let list = vista.list().await.unwrap();
            assert_same(&list, &expected_list, &context);
        }
    }
    assert!(
        pushed > QUERIES * 3 / 4,
        "seed {seed}: only {pushed} pushed"
    );
    assert!(
        matched > pushed / 2,
        "seed {seed}: only {matched} matched rows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushdown_equals_local_evaluation_with_integer_ids() {
    let mut rng = Rng::with_seed(7);
    let Some(fixture) = fixture("push_int", "bigint", &mut rng).await else {
        return;
    };
    compare(&fixture, 11).await;
    fixture.db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushdown_equals_local_evaluation_with_text_ids() {
    let mut rng = Rng::with_seed(8);
    let Some(fixture) = fixture("push_text", "text", &mut rng).await else {
        return;
    };
    compare(&fixture, 21).await;
    fixture.db.finish().await;
}

/// Every operator with every operand, one condition at a time, on every
/// column: the rare operands (NaN, nested values, integers beyond 64 bits,
/// text holding NUL) included, which random queries seldom combine with
/// rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_and_operand_alone_matches_local_evaluation() {
    let mut rng = Rng::with_seed(9);
    let Some(fixture) = fixture("push_each", "bigint", &mut rng).await else {
        return;
    };
    let fixture = std::sync::Arc::new(fixture);
    let mut checks = Vec::new();
    for (field, _) in COLUMNS {
        for op in OPS {
            let fixture = fixture.clone();
            checks.push(tokio::spawn(async move {
                check_alone(&fixture, field, op).await
            }));
        }
    }
    let mut checked = 0;
    for check in checks {
        checked += check.await.unwrap();
    }
    for needle in NEEDLES {
        let query = Query::new().with_search(needle);
        let expected = fixture.memory.list(&query).await.unwrap();
        assert_same(
            &fixture.pg.list(&query).await.unwrap(),
            &expected,
            &format!("search {needle:?}"),
        );
    }
    assert!(checked > 2500, "only {checked} conditions pushed");
    let Ok(fixture) = std::sync::Arc::try_unwrap(fixture) else {
        panic!("the checks are done");
    };
    fixture.db.finish().await;
}

/// `op` on `field` with the column's own values, every odd operand and one
/// value of each other kind: how many were pushed.
async fn check_alone(fixture: &Fixture, field: &'static str, op: CmpOp) -> usize {
    let mut operands = column_pool(field);
    operands.extend(odd_operands());
    operands.extend([
        Value::from(5),
        Value::Float(5.0),
        Value::from("5"),
        Value::Bool(true),
        Value::Bytes(vec![1, 2]),
        Value::from("lamp"),
    ]);
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
    let mut checked = 0;
    for value in values {
        let condition = Condition::new(field, op, value);
        let query = Query::new().with_condition(condition.clone());
        let expected = fixture.memory.list(&query).await.unwrap();
        if fixture.pg.accepts(Clause::Condition(&condition)) {
            let actual = fixture
                .pg
                .list(&query)
                .await
                .unwrap_or_else(|e| panic!("{condition}: {e}"));
            assert_same(&actual, &expected, &condition.to_string());
            checked += 1;
        } else {
            let err = fixture.pg.list(&query).await.expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{condition}");
        }
    }
    checked
}

/// Doubles render as Rust prints them, inside PostgreSQL too: `Like` with
/// the exact rendering of each of thousands of random doubles (random bit
/// patterns, large whole numbers, quarters, powers of two) finds exactly
/// the rows local evaluation finds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doubles_render_as_rust_prints_them() {
    let Some(db) = Scratch::new("push_floats").await else {
        return;
    };
    db.exec("CREATE TABLE d (id bigint PRIMARY KEY, v double precision)")
        .await;
    let pg = db.vista("d").open().await.unwrap();
    let mut rng = Rng::with_seed(5);
    let mut values: Vec<f64> = Vec::new();
    for k in (-1074..1024).step_by(11) {
        values.push(2f64.powi(k));
    }
    for _ in 0..500 {
        values.push(f64::from_bits(rng.u64(..)));
    }
    for _ in 0..200 {
        values.push(rng.u64((1 << 53)..u64::MAX) as f64);
        values.push(rng.u64((1 << 48)..(1 << 55)) as f64 / 4.0);
    }
    values.retain(|v| !v.is_nan());
    let rows: Vec<(Option<Id>, Record)> = values
        .iter()
        .enumerate()
        .map(|(at, v)| (Some(at.to_string()), record! { "v" => *v }))
        .collect();
    // One statement per row is slow; insert through the pool in one COPY-less batch.
    let client = pg.pool().get().await.unwrap();
    let statement = client
        .prepare(&format!(
            "INSERT INTO \"{}\".d (id, v) SELECT * FROM unnest($1::int8[], $2::float8[])",
            db.schema
        ))
        .await
        .unwrap();
    let ids: Vec<i64> = (0..values.len() as i64).collect();
    client.execute(&statement, &[&ids, &values]).await.unwrap();
    drop(client);
    let memory = MemoryVista::new("d").with_rows(
        rows.into_iter()
            .map(|(id, record)| (id.unwrap(), record))
            .collect::<Vec<_>>(),
    );
    let mut checked = 0;
    for (at, v) in values.iter().enumerate() {
        if at % 4 != 0 {
            continue;
        }
        let rendered = format!("{v}");
        let query = Query::new().with_condition(Condition::new("v", CmpOp::Like, rendered.clone()));
        let expected = memory.list(&query).await.unwrap();
        assert!(!expected.is_empty());
        let actual = pg.list(&query).await.unwrap();
        assert_same(&actual, &expected, &format!("{v:e} renders as {rendered}"));
        checked += 1;
    }
    assert!(checked > 200);
    db.finish().await;
}
