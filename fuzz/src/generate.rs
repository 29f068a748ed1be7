//! Random values, records and cached rows covering the whole data model,
//! with the edge cases a codec gets wrong: every integer and length width
//! boundary, negative zero, NaN payloads, half-width floats, multi-byte
//! text, empty and nested containers, deep chains up to the depth bound.

use diorama_core::cache::{CachedRow, RowState};
use diorama_core::runtime::Timestamp;
use diorama_core::value::{Int, MAX_DEPTH, Record, Value};
use fastrand::Rng;

/// Integers at the edges of CBOR's head widths and of `Int`'s range.
const EDGE_INTS: [i128; 16] = [
    0,
    1,
    23,
    24,
    255,
    256,
    65_535,
    65_536,
    4_294_967_295,
    4_294_967_296,
    u64::MAX as i128,
    -1,
    -24,
    -25,
    -(1i128 << 63),
    -(1i128 << 64),
];

/// Floats that encode in each width, and the special ones.
const EDGE_FLOATS: [f64; 12] = [
    0.0,
    -0.0,
    1.0,
    1.5,
    65_504.0,
    5.960_464_477_539_063e-8,
    100_000.0,
    3.402_823_466_385_289e38,
    1.0e300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

const TEXT_PIECES: [&str; 8] = ["a", "Z", "0", " ", "\"", "é", "水", "🦀"];

/// A random value, at most `depth` containers deep.
pub(crate) fn value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth == 0 { 9 } else { 13 };
    match rng.usize(0..kinds) {
        0 => Value::Null,
        1 => Value::Undefined,
        2 => Value::Bool(rng.bool()),
        3 | 4 => Value::Integer(int(rng)),
        5 => Value::Float(float(rng)),
        6 => Value::Text(text(rng)),
        7 => Value::Bytes((0..len(rng)).map(|_| rng.u8(..)).collect()),
        8 => Value::Simple(if rng.bool() {
            rng.u8(0..20)
        } else {
            rng.u8(32..=255)
        }),
        9 | 10 => Value::Array(
            (0..rng.usize(0..5))
                .map(|_| value(rng, depth - 1))
                .collect(),
        ),
        11 => Value::Map(
            (0..rng.usize(0..4))
                .map(|_| (value(rng, depth - 1), value(rng, depth - 1)))
                .collect(),
        ),
        _ => Value::Tag(tag(rng), Box::new(value(rng, depth - 1))),
    }
}

/// A chain of `levels` containers of random kinds around a scalar, built
/// without recursion.
pub(crate) fn chain(rng: &mut Rng, levels: usize) -> Value {
    let mut inner = value(rng, 0);
    for _ in 0..levels {
        inner = match rng.u8(0..4) {
            0 => Value::Array(vec![inner]),
            1 => Value::Map(vec![(Value::from(rng.u8(..)), inner)]),
            2 => Value::Map(vec![(inner, Value::Null)]),
            _ => Value::Tag(tag(rng), Box::new(inner)),
        };
    }
    inner
}

/// A value for the fuzzer's corpus: mostly shallow and varied, sometimes a
/// chain near (or just past) the depth bound.
pub(crate) fn any_value(rng: &mut Rng) -> Value {
    match rng.u8(0..16) {
        0 => {
            let levels = MAX_DEPTH - rng.usize(0..3);
            chain(rng, levels)
        }
        1 => chain(rng, MAX_DEPTH + 1),
        _ => {
            let depth = rng.usize(0..5);
            value(rng, depth)
        }
    }
}

/// A record of a few fields with distinct names.
pub(crate) fn record(rng: &mut Rng) -> Record {
    let mut record = Record::new();
    for i in 0..rng.usize(0..8) {
        let name = if rng.u8(0..4) == 0 {
            text(rng)
        } else {
            format!("f{i}")
        };
        let depth = rng.usize(0..3);
        record.insert(name, value(rng, depth));
    }
    record
}

/// A cached row in any state, fetched or not.
pub(crate) fn cached_row(rng: &mut Rng) -> CachedRow {
    CachedRow {
        record: record(rng),
        state: match rng.u8(0..3) {
            0 => RowState::Complete,
            1 => RowState::Incomplete,
            _ => RowState::Stale,
        },
        fetched_at: rng.bool().then(|| {
            Timestamp::from_millis(if rng.bool() {
                rng.u64(..)
            } else {
                rng.u64(0..1 << 42)
            })
        }),
    }
}

/// A row id: short, long, empty, multi-byte.
pub(crate) fn id(rng: &mut Rng) -> String {
    match rng.u8(0..4) {
        0 => String::new(),
        1 => "x".repeat(rng.usize(20..40)),
        _ => text(rng),
    }
}

fn int(rng: &mut Rng) -> Int {
    let n = match rng.u8(0..4) {
        0 => EDGE_INTS[rng.usize(0..EDGE_INTS.len())],
        1 => i128::from(rng.i8(..)),
        2 => i128::from(rng.u64(..)),
        _ => -1 - i128::from(rng.u64(..)),
    };
    Int::new(n).unwrap_or(Int::MAX)
}

fn float(rng: &mut Rng) -> f64 {
    match rng.u8(0..4) {
        0 => EDGE_FLOATS[rng.usize(0..EDGE_FLOATS.len())],
        1 => f64::from(f32::from_bits(rng.u32(..))),
        // Any bits, NaN payloads and subnormals included.
        2 => f64::from_bits(rng.u64(..)),
        _ => f64::from(rng.i16(..)) / 4.0,
    }
}

fn text(rng: &mut Rng) -> String {
    (0..len(rng))
        .map(|_| TEXT_PIECES[rng.usize(0..TEXT_PIECES.len())])
        .collect()
}

fn tag(rng: &mut Rng) -> u64 {
    match rng.u8(0..3) {
        0 => rng.u64(0..24),
        1 => [24, 255, 256, 55_799, u64::MAX][rng.usize(0..5)],
        _ => rng.u64(..),
    }
}

/// A length for strings: mostly short, sometimes across the 23/24 head
/// boundary.
fn len(rng: &mut Rng) -> usize {
    if rng.u8(0..8) == 0 {
        rng.usize(20..30)
    } else {
        rng.usize(0..6)
    }
}
