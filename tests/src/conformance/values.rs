//! Round trips: whatever is stored reads back equal.

use diorama_core::Value;
use diorama_core::cache::{CacheBatch, CachedRow, RowState};
use diorama_core::value::Int;
use diorama_core::{Record, Timestamp};

use super::support::{Make, fresh_table, numbered};

/// A record holding every [`Value`] kind, at the edges of each range, with
/// nesting.
fn every_kind() -> Record {
    let nested = Value::Array(vec![
        Value::Null,
        Value::Array(vec![Value::from(1), Value::Array(vec![])]),
        Value::Map(vec![(
            Value::from("deep"),
            Value::Array(vec![Value::from(true)]),
        )]),
    ]);
    let map = Value::Map(vec![
        (Value::from("text key"), Value::from(1)),
        (Value::from(-7), Value::from("integer key")),
        (Value::Bytes(vec![0, 255]), Value::Null),
        (Value::Array(vec![Value::from(1)]), Value::from("array key")),
        (
            Value::from("nested"),
            Value::Map(vec![(Value::from("a"), nested.clone())]),
        ),
        (Value::from("text key"), Value::from(2)), // duplicate keys keep both, in order
    ]);
    Record::new()
        .with("null", Value::Null)
        .with("undefined", Value::Undefined)
        .with("false", false)
        .with("true", true)
        .with("zero", 0)
        .with("minus_one", -1)
        .with("i64_min", i64::MIN)
        .with("i64_max", i64::MAX)
        .with("u64_max", u64::MAX)
        .with("int_min", Value::Integer(Int::MIN))
        .with("int_max", Value::Integer(Int::MAX))
        .with("float", 1.5)
        .with("float_neg", -2.25e-3)
        .with("float_single", 0.1f32)
        .with("float_max", f64::MAX)
        .with("float_min_positive", f64::MIN_POSITIVE)
        .with("float_subnormal", 5e-324)
        .with("float_inf", f64::INFINITY)
        .with("float_neg_inf", f64::NEG_INFINITY)
        .with("text", "héllo, 世界 🦀")
        .with("text_empty", "")
        .with("bytes", (0..=255u8).collect::<Vec<u8>>())
        .with("bytes_empty", Vec::<u8>::new())
        .with("bytes_large", vec![0xA5u8; 256 * 1024])
        .with("array", nested)
        .with("array_empty", Value::Array(vec![]))
        .with("map", map)
        .with("map_empty", Value::Map(vec![]))
        .with(
            "tag_datetime",
            Value::Tag(0, Box::new(Value::from("2026-01-01T00:00:00Z"))),
        )
        .with("tag_max", Value::Tag(u64::MAX, Box::new(Value::Null)))
        .with(
            "tag_nested",
            Value::Tag(
                55799,
                Box::new(Value::Tag(32, Box::new(Value::from("https://x.invalid")))),
            ),
        )
        .with("simple_low", Value::Simple(16))
        .with("simple_high", Value::Simple(255))
        .with("", "empty field name")
}

/// Records with every value kind (nested maps and arrays, integers over the
/// whole CBOR range, floats, bytes, tags, simple values) read back equal,
/// fields in order; NaN stays NaN and −0.0 keeps its sign.
pub fn round_trips_every_value_kind(make: Make<'_>) {
    let table = fresh_table(make, "values");
    let record = every_kind();
    let floats = Record::new().with("nan", f64::NAN).with("neg_zero", -0.0);
    let mut batch = CacheBatch::new();
    batch
        .put("all", CachedRow::complete(record.clone(), None))
        .put("floats", CachedRow::complete(floats, None))
        .put("empty", CachedRow::complete(Record::new(), None));
    table.apply(batch).unwrap();

    let all = table.get("all").unwrap().expect("row `all` was written");
    for (field, expected) in record.iter() {
        assert_eq!(
            all.record.get(field),
            Some(expected),
            "field {field:?} changed"
        );
    }
    let read_fields: Vec<&str> = all.record.iter().map(|(f, _)| f).collect();
    let written_fields: Vec<&str> = record.iter().map(|(f, _)| f).collect();
    assert_eq!(read_fields, written_fields, "field order changed");
    assert_eq!(all.record, record);

    let floats = table
        .get("floats")
        .unwrap()
        .expect("row `floats` was written");
    match floats.record.get("nan") {
        Some(Value::Float(x)) => assert!(x.is_nan(), "NaN read back as {x}"),
        other => panic!("NaN read back as {other:?}"),
    }
    match floats.record.get("neg_zero") {
        Some(Value::Float(x)) => {
            assert!(*x == 0.0 && x.is_sign_negative(), "-0.0 read back as {x}")
        }
        other => panic!("-0.0 read back as {other:?}"),
    }

    let empty = table
        .get("empty")
        .unwrap()
        .expect("row `empty` was written");
    assert!(empty.record.is_empty());
}

/// Ids of any text (empty, control characters, non-ASCII, long) are stored
/// and read back as themselves.
pub fn round_trips_unusual_ids(make: Make<'_>) {
    let table = fresh_table(make, "ids");
    let long = "x".repeat(4096);
    let ids = [
        "",
        "\u{0}",
        "a\u{0}b",
        "é",
        "🦀",
        "with space",
        "a/b",
        "\u{7f}",
        &long,
    ];
    let rows = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (id.to_string(), numbered(n as u64)))
        .collect();
    table.insert_batch(rows).unwrap();

    assert_eq!(table.count().unwrap(), ids.len());
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            table.get(id).unwrap(),
            Some(numbered(n as u64)),
            "id {id:?}"
        );
    }
    let mut scanned: Vec<String> = table
        .scan(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    scanned.sort();
    let mut expected: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(scanned, expected, "scan must return every id unchanged");
}

/// Row state (complete, incomplete, stale) and `fetched_at` (present,
/// absent, extreme) read back as written.
pub fn round_trips_row_state_and_fetched_at(make: Make<'_>) {
    let table = fresh_table(make, "states");
    let record = Record::new().with("name", "x");
    let cases = [
        (
            "complete",
            RowState::Complete,
            Some(Timestamp::from_millis(1_700_000_000_123)),
        ),
        (
            "incomplete",
            RowState::Incomplete,
            Some(Timestamp::from_millis(0)),
        ),
        (
            "stale",
            RowState::Stale,
            Some(Timestamp::from_millis(u64::MAX)),
        ),
        ("never_fetched", RowState::Incomplete, None),
        ("complete_unstamped", RowState::Complete, None),
    ];
    let mut batch = CacheBatch::new();
    for (id, state, fetched_at) in cases {
        batch.put(
            id,
            CachedRow {
                record: record.clone(),
                state,
                fetched_at,
            },
        );
    }
    table.apply(batch).unwrap();

    for (id, state, fetched_at) in cases {
        let row = table
            .get(id)
            .unwrap()
            .unwrap_or_else(|| panic!("row {id} missing"));
        assert_eq!(row.state, state, "state of {id}");
        assert_eq!(row.fetched_at, fetched_at, "fetched_at of {id}");
        assert_eq!(row.record, record, "record of {id}");
    }
    // Overwriting changes the state too.
    table
        .insert_batch(vec![(
            "incomplete".into(),
            CachedRow::complete(record.clone(), Some(Timestamp::from_millis(5))),
        )])
        .unwrap();
    let row = table.get("incomplete").unwrap().unwrap();
    assert_eq!(row.state, RowState::Complete);
    assert_eq!(row.fetched_at, Some(Timestamp::from_millis(5)));
}
