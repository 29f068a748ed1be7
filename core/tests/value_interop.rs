//! Property tests of the CBOR codec against ciborium 0.2, both ways, and of
//! our own round trip over the whole data model.
//!
//! ciborium has no `undefined` (it reads it as null) and no other simple
//! values, and it turns bignum tags 2 and 3 into integers; the generators
//! for the interop properties leave those out, and the round-trip property
//! covers them.

use ciborium::value::{Integer as CInteger, Value as CValue};
use diorama_core::value::{Int, Record, Value};
use proptest::prelude::*;

// ---------------------------------------------------------------- mapping

/// Our value as ciborium models it (undefined becomes null, as ciborium
/// reads it).
fn to_ciborium(v: &Value) -> CValue {
    match v {
        Value::Null | Value::Undefined => CValue::Null,
        Value::Bool(b) => CValue::Bool(*b),
        Value::Integer(n) => CValue::Integer(CInteger::try_from(n.get()).expect("Int is in range")),
        Value::Float(x) => CValue::Float(*x),
        Value::Text(s) => CValue::Text(s.clone()),
        Value::Bytes(b) => CValue::Bytes(b.clone()),
        Value::Array(items) => CValue::Array(items.iter().map(to_ciborium).collect()),
        Value::Map(entries) => CValue::Map(
            entries
                .iter()
                .map(|(k, v)| (to_ciborium(k), to_ciborium(v)))
                .collect(),
        ),
        Value::Tag(t, inner) => CValue::Tag(*t, Box::new(to_ciborium(inner))),
        Value::Simple(n) => panic!("ciborium has no simple value {n}"),
    }
}

/// A ciborium value as ours.
fn from_ciborium(v: &CValue) -> Value {
    match v {
        CValue::Null => Value::Null,
        CValue::Bool(b) => Value::Bool(*b),
        CValue::Integer(n) => Value::Integer(Int::new(i128::from(*n)).expect("in range")),
        CValue::Float(x) => Value::Float(*x),
        CValue::Text(s) => Value::Text(s.clone()),
        CValue::Bytes(b) => Value::Bytes(b.clone()),
        CValue::Array(items) => Value::Array(items.iter().map(from_ciborium).collect()),
        CValue::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (from_ciborium(k), from_ciborium(v)))
                .collect(),
        ),
        CValue::Tag(t, inner) => Value::Tag(*t, Box::new(from_ciborium(inner))),
        other => panic!("unexpected ciborium value {other:?}"),
    }
}

/// `Undefined` read back by ciborium is `Null`.
fn undefined_as_null(v: &Value) -> Value {
    from_ciborium(&to_ciborium(v))
}

/// Structural equality with floats compared by bits, so `-0.0 != 0.0` and a
/// widened half float must match exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (Value::Map(xs), Value::Map(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|((kx, vx), (ky, vy))| same(kx, ky) && same(vx, vy))
        }
        (Value::Tag(tx, x), Value::Tag(ty, y)) => tx == ty && same(x, y),
        _ => a == b,
    }
}

// ------------------------------------------------------------- strategies

const TWO_64: i128 = 1 << 64;

fn int_strategy() -> impl Strategy<Value = Int> {
    prop_oneof![
        // Whole range, which is mostly beyond i64.
        (-TWO_64..TWO_64),
        // Edges of every head width and of the range itself.
        prop::sample::select(vec![
            0i128,
            23,
            24,
            255,
            256,
            65535,
            65536,
            u32::MAX as i128,
            u32::MAX as i128 + 1,
            i64::MAX as i128,
            i64::MAX as i128 + 1,
            u64::MAX as i128,
            -1,
            -24,
            -25,
            -256,
            -257,
            i64::MIN as i128,
            i64::MIN as i128 - 1,
            -TWO_64,
            -TWO_64 + 1,
        ]),
        (-3i128..=3).prop_map(|d| TWO_64 - 1 - d.abs()),
        (0i128..=3).prop_map(|d| -TWO_64 + d),
        any::<i64>().prop_map(i128::from),
        any::<u64>().prop_map(i128::from),
    ]
    .prop_map(|n| Int::new(n).expect("strategy stays in range"))
}

/// Finite and infinite floats of all three encoded widths, no NaN.
fn float_strategy() -> impl Strategy<Value = f64> {
    use proptest::num::{f32 as pf32, f64 as pf64};
    let kinds = pf64::POSITIVE | pf64::NEGATIVE | pf64::NORMAL | pf64::SUBNORMAL | pf64::ZERO;
    let kinds32 = pf32::POSITIVE | pf32::NEGATIVE | pf32::NORMAL | pf32::SUBNORMAL | pf32::ZERO;
    prop_oneof![
        kinds,
        kinds | pf64::INFINITE,
        kinds32.prop_map(f64::from),
        any::<u16>()
            .prop_map(half::f16::from_bits)
            .prop_filter("no NaN", |h| !h.is_nan())
            .prop_map(|h| h.to_f64()),
    ]
}

/// Tags other than the bignums, which ciborium reads as integers.
fn tag_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        (0u64..64).prop_filter("not a bignum", |t| *t != 2 && *t != 3),
        any::<u64>().prop_filter("not a bignum", |t| *t != 2 && *t != 3),
    ]
}

/// Scalars ciborium models; `undefined` too when `with_undefined`.
fn scalar_strategy(with_undefined: bool, with_simple: bool) -> BoxedStrategy<Value> {
    let mut options: Vec<BoxedStrategy<Value>> = vec![
        Just(Value::Null).boxed(),
        any::<bool>().prop_map(Value::Bool).boxed(),
        int_strategy().prop_map(Value::Integer).boxed(),
        float_strategy().prop_map(Value::Float).boxed(),
        any::<String>().prop_map(Value::Text).boxed(),
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(Value::Bytes)
            .boxed(),
    ];
    if with_undefined {
        options.push(Just(Value::Undefined).boxed());
    }
    if with_simple {
        options.push(
            prop_oneof![0u8..=19, 32u8..=255]
                .prop_map(Value::Simple)
                .boxed(),
        );
    }
    prop::strategy::Union::new(options).boxed()
}

fn value_strategy(with_undefined: bool, with_simple: bool) -> impl Strategy<Value = Value> {
    scalar_strategy(with_undefined, with_simple).prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((inner.clone(), inner.clone()), 0..6).prop_map(Value::Map),
            (tag_strategy(), inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
        ]
    })
}

fn record_strategy() -> impl Strategy<Value = Record> {
    prop::collection::btree_map("[a-z_]{1,12}", value_strategy(false, false), 0..12)
        .prop_map(|fields| fields.into_iter().collect())
}

fn ciborium_bytes(v: &CValue) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).expect("ciborium encodes into a Vec");
    out
}

fn ciborium_read(bytes: &[u8]) -> CValue {
    ciborium::from_reader(bytes).expect("ciborium decodes our bytes")
}

// ------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Bytes we write decode in ciborium to the equal ciborium value.
    #[test]
    fn ours_decode_in_ciborium(value in value_strategy(true, false)) {
        let bytes = value.to_cbor();
        let theirs = ciborium_read(&bytes);
        prop_assert_eq!(&theirs, &to_ciborium(&value));
        prop_assert!(same(&from_ciborium(&theirs), &undefined_as_null(&value)));
    }

    /// Bytes ciborium writes decode to the equal value, and we write the very
    /// same bytes for it (both pick the shortest heads and float widths).
    #[test]
    fn ciborium_decodes_in_ours(value in value_strategy(false, false)) {
        let bytes = ciborium_bytes(&to_ciborium(&value));
        let ours = Value::from_cbor(&bytes).expect("we decode ciborium's bytes");
        prop_assert!(same(&ours, &value), "decoded {:?}, expected {:?}", ours, value);
        prop_assert_eq!(value.to_cbor(), bytes);
    }

    /// A record is the text-keyed map ciborium reads and writes.
    #[test]
    fn records_interoperate(record in record_strategy()) {
        let bytes = record.to_cbor();
        let as_map = Value::from(record.clone());
        prop_assert_eq!(&ciborium_read(&bytes), &to_ciborium(&as_map));
        prop_assert_eq!(&ciborium_bytes(&to_ciborium(&as_map)), &bytes);
        prop_assert_eq!(Record::from_cbor(&bytes).expect("decodes"), record);
    }

    /// Our own round trip keeps every value, undefined and simple values
    /// included, bit for bit.
    #[test]
    fn round_trip(value in value_strategy(true, true)) {
        let back = Value::from_cbor(&value.to_cbor()).expect("decodes");
        prop_assert!(same(&back, &value), "decoded {:?}, expected {:?}", back, value);
    }

    /// Damaged encodings (truncated, bytes overwritten) never panic; what
    /// still decodes encodes again and decodes to itself.
    #[test]
    fn damaged_encodings_never_panic(
        value in value_strategy(true, true),
        cut in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = value.to_cbor();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let truncated = &bytes[..cut.index(bytes.len() + 1)];
        for input in [&bytes[..], truncated] {
            if let Ok(v) = Value::from_cbor(input) {
                let again = Value::from_cbor(&v.to_cbor()).expect("re-encoding decodes");
                prop_assert!(same(&again, &v));
            }
            let _ = Record::from_cbor(input);
        }
    }
}
