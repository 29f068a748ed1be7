//! The CBOR codec on hand-written byte fixtures: what decodes to what, what
//! is rejected and how, and that arbitrary bytes never panic.

use diorama_core::value::{Int, MAX_DEPTH, Record, Value};
use diorama_core::{ErrorKind, record};
use proptest::prelude::*;

fn int(n: i128) -> Value {
    Value::Integer(Int::new(n).expect("in range"))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn decode(bytes: &[u8]) -> Value {
    Value::from_cbor(bytes).unwrap_or_else(|e| panic!("{bytes:02x?} should decode: {e}"))
}

/// Decoding fails with kind `Corrupt` and a message containing `needle`.
fn rejects(bytes: &[u8], needle: &str) {
    match Value::from_cbor(bytes) {
        Ok(v) => panic!("{bytes:02x?} decoded to {v:?}, expected an error"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
            assert!(
                e.message().contains(needle),
                "message {:?} should mention {needle:?}",
                e.message()
            );
        }
    }
}

// ------------------------------------------------------------ known bytes

#[test]
fn integers_use_the_shortest_head_over_the_whole_range() {
    // RFC 8949 Appendix A.
    let cases: &[(i128, &[u8])] = &[
        (0, &[0x00]),
        (23, &[0x17]),
        (24, &[0x18, 0x18]),
        (1000, &[0x19, 0x03, 0xe8]),
        (1_000_000, &[0x1a, 0x00, 0x0f, 0x42, 0x40]),
        (
            u64::MAX as i128,
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (-1, &[0x20]),
        (-1000, &[0x39, 0x03, 0xe7]),
        (
            -(1 << 64),
            &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    ];
    for &(n, bytes) in cases {
        assert_eq!(int(n).to_cbor(), bytes, "encoding {n}");
        assert_eq!(decode(bytes), int(n), "decoding {bytes:02x?}");
    }
}

#[test]
fn scalars_and_containers_have_their_rfc_encodings() {
    let cases: Vec<(Value, Vec<u8>)> = vec![
        (Value::Bool(false), vec![0xf4]),
        (Value::Bool(true), vec![0xf5]),
        (Value::Null, vec![0xf6]),
        (Value::Undefined, vec![0xf7]),
        (text(""), vec![0x60]),
        (text("IETF"), vec![0x64, 0x49, 0x45, 0x54, 0x46]),
        (text("ü"), vec![0x62, 0xc3, 0xbc]),
        (Value::Bytes(vec![1, 2, 3, 4]), vec![0x44, 1, 2, 3, 4]),
        (
            Value::Array(vec![int(1), Value::Array(vec![int(2), int(3)])]),
            vec![0x82, 0x01, 0x82, 0x02, 0x03],
        ),
        (
            Value::Map(vec![(int(1), int(2)), (int(3), int(4))]),
            vec![0xa2, 0x01, 0x02, 0x03, 0x04],
        ),
        (
            Value::Tag(1, Box::new(int(1_363_896_240))),
            vec![0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0],
        ),
    ];
    for (value, bytes) in cases {
        assert_eq!(value.to_cbor(), bytes, "encoding {value:?}");
        assert_eq!(decode(&bytes), value, "decoding {bytes:02x?}");
    }
}

#[test]
fn map_keys_of_any_type_and_duplicates_survive() {
    let map = Value::Map(vec![
        (Value::Array(vec![int(1)]), text("array key")),
        (Value::Bytes(vec![0]), Value::Null),
        (int(-5), Value::Bool(true)),
        (int(-5), Value::Bool(false)),
    ]);
    assert_eq!(decode(&map.to_cbor()), map);
}

#[test]
fn bignums_stay_tags_and_round_trip_byte_for_byte() {
    // 2^64 as a positive bignum (RFC 8949 Appendix A).
    let bytes = [0xc2, 0x49, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
    let value = decode(&bytes);
    assert_eq!(
        value,
        Value::Tag(2, Box::new(Value::Bytes(vec![1, 0, 0, 0, 0, 0, 0, 0, 0])))
    );
    assert_eq!(value.to_cbor(), bytes);
}

// ------------------------------------------------------------------ floats

#[test]
fn half_floats_decode_exactly() {
    let cases: &[([u8; 3], f64)] = &[
        ([0xf9, 0x00, 0x00], 0.0),
        ([0xf9, 0x3c, 0x00], 1.0),
        ([0xf9, 0x3e, 0x00], 1.5),
        ([0xf9, 0x7b, 0xff], 65504.0),
        ([0xf9, 0x00, 0x01], 5.960_464_477_539_063e-8),
        ([0xf9, 0x04, 0x00], 0.000_061_035_156_25),
        ([0xf9, 0xc4, 0x00], -4.0),
        ([0xf9, 0x7c, 0x00], f64::INFINITY),
        ([0xf9, 0xfc, 0x00], f64::NEG_INFINITY),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            decode(bytes),
            Value::Float(*expected),
            "decoding {bytes:02x?}"
        );
    }
    let Value::Float(neg_zero) = decode(&[0xf9, 0x80, 0x00]) else {
        panic!("not a float")
    };
    assert_eq!(neg_zero.to_bits(), (-0.0f64).to_bits());
    let Value::Float(nan) = decode(&[0xf9, 0x7e, 0x00]) else {
        panic!("not a float")
    };
    assert!(nan.is_nan());
}

#[test]
fn single_and_double_floats_decode() {
    assert_eq!(
        decode(&[0xfa, 0x47, 0xc3, 0x50, 0x00]),
        Value::Float(100_000.0)
    );
    assert_eq!(
        decode(&[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
        Value::Float(1.1)
    );
    assert_eq!(
        decode(&[0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
        Value::Float(1.0),
        "a double that would fit in a half still decodes"
    );
}

#[test]
fn floats_encode_in_the_smallest_lossless_width() {
    let cases: &[(f64, &[u8])] = &[
        (0.0, &[0xf9, 0x00, 0x00]),
        (-0.0, &[0xf9, 0x80, 0x00]),
        (1.5, &[0xf9, 0x3e, 0x00]),
        (65504.0, &[0xf9, 0x7b, 0xff]),
        (f64::INFINITY, &[0xf9, 0x7c, 0x00]),
        (f64::NAN, &[0xf9, 0x7e, 0x00]),
        (100_000.0, &[0xfa, 0x47, 0xc3, 0x50, 0x00]),
        (3.402_823_466_385_288_6e38, &[0xfa, 0x7f, 0x7f, 0xff, 0xff]),
        (1.1, &[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
        (
            1.0e300,
            &[0xfb, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c],
        ),
    ];
    for &(x, bytes) in cases {
        assert_eq!(Value::Float(x).to_cbor(), bytes, "encoding {x}");
    }
}

// ----------------------------------------------------------- simple values

#[test]
fn simple_values_decode_and_encode() {
    assert_eq!(decode(&[0xe0]), Value::Simple(0));
    assert_eq!(decode(&[0xf0]), Value::Simple(16));
    assert_eq!(decode(&[0xf3]), Value::Simple(19));
    assert_eq!(decode(&[0xf8, 0x20]), Value::Simple(32));
    assert_eq!(decode(&[0xf8, 0xff]), Value::Simple(255));
    assert_eq!(Value::Simple(16).to_cbor(), [0xf0]);
    assert_eq!(Value::Simple(255).to_cbor(), [0xf8, 0xff]);
}

#[test]
fn simple_values_20_to_31_encode_as_well_formed_items() {
    assert_eq!(Value::Simple(20).to_cbor(), [0xf4]);
    assert_eq!(Value::Simple(21).to_cbor(), [0xf5]);
    assert_eq!(Value::Simple(22).to_cbor(), [0xf6]);
    assert_eq!(Value::Simple(23).to_cbor(), [0xf7]);
    for n in 24..=31 {
        assert_eq!(Value::Simple(n).to_cbor(), [0xf7], "simple({n})");
    }
}

#[test]
fn two_byte_simple_values_below_32_are_rejected() {
    rejects(&[0xf8, 0x00], "not well-formed");
    rejects(&[0xf8, 0x14], "not well-formed");
    rejects(&[0xf8, 0x1f], "not well-formed");
}

// ---------------------------------------------------- indefinite lengths

#[test]
fn indefinite_length_items_decode() {
    // Fixtures from RFC 8949 Appendix A and variations.
    let cases: Vec<(Vec<u8>, Value)> = vec![
        (
            vec![0x5f, 0x42, 0x01, 0x02, 0x43, 0x03, 0x04, 0x05, 0xff],
            Value::Bytes(vec![1, 2, 3, 4, 5]),
        ),
        (vec![0x5f, 0xff], Value::Bytes(vec![])),
        (
            vec![
                0x7f, 0x65, b's', b't', b'r', b'e', b'a', 0x64, b'm', b'i', b'n', b'g', 0xff,
            ],
            text("streaming"),
        ),
        (vec![0x7f, 0xff], text("")),
        (vec![0x9f, 0xff], Value::Array(vec![])),
        (
            vec![0x9f, 0x01, 0x82, 0x02, 0x03, 0x9f, 0x04, 0x05, 0xff, 0xff],
            Value::Array(vec![
                int(1),
                Value::Array(vec![int(2), int(3)]),
                Value::Array(vec![int(4), int(5)]),
            ]),
        ),
        (
            vec![0x83, 0x01, 0x9f, 0x02, 0x03, 0xff, 0x82, 0x04, 0x05],
            Value::Array(vec![
                int(1),
                Value::Array(vec![int(2), int(3)]),
                Value::Array(vec![int(4), int(5)]),
            ]),
        ),
        (
            vec![
                0xbf, 0x61, b'a', 0x01, 0x61, b'b', 0x9f, 0x02, 0x03, 0xff, 0xff,
            ],
            Value::Map(vec![
                (text("a"), int(1)),
                (text("b"), Value::Array(vec![int(2), int(3)])),
            ]),
        ),
        (
            vec![
                0xbf, 0x63, b'F', b'u', b'n', 0xf5, 0x63, b'A', b'm', b't', 0x21, 0xff,
            ],
            Value::Map(vec![
                (text("Fun"), Value::Bool(true)),
                (text("Amt"), int(-2)),
            ]),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(decode(&bytes), expected, "decoding {bytes:02x?}");
    }
}

#[test]
fn a_record_decodes_from_an_indefinite_map_with_chunked_keys() {
    let bytes = [
        0xbf, // map(*)
        0x7f, 0x62, b'n', b'a', 0x62, b'm', b'e', 0xff, // "name" in chunks
        0x64, b'L', b'a', b'm', b'p', // "Lamp"
        0x65, b's', b't', b'o', b'c', b'k', 0x03, // "stock": 3
        0xff,
    ];
    let record = Record::from_cbor(&bytes).expect("decodes");
    assert_eq!(record, record! { "name" => "Lamp", "stock" => 3 });
}

// --------------------------------------------------------------- records

#[test]
fn a_record_is_a_text_keyed_map_in_field_order() {
    let record = record! { "b" => 1, "a" => "x" };
    let bytes = record.to_cbor();
    assert_eq!(bytes, [0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x61, b'x']);
    let back = Record::from_cbor(&bytes).expect("decodes");
    assert_eq!(back.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["b", "a"]);
    assert_eq!(back, record);
    assert_eq!(
        Value::from_cbor(&bytes).expect("decodes"),
        Value::from(record)
    );
}

#[test]
fn record_decoding_rejects_what_is_not_a_row() {
    let cases: &[(&[u8], &str)] = &[
        (&[0xa1, 0x01, 0x02], "field name must be text"),
        (&[0xa1, 0x41, b'a', 0x02], "field name must be text"),
        (&[0x82, 0x01, 0x02], "must be a CBOR map"),
        (&[0x61, b'a'], "must be a CBOR map"),
        (&[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02], "appears twice"),
        (&[0xa1, 0x61, b'a'], "end of input"),
        (&[0xa0, 0x00], "trailing"),
    ];
    for &(bytes, needle) in cases {
        let err = Record::from_cbor(bytes).expect_err("must be rejected");
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
        assert!(
            err.message().contains(needle),
            "{err} should mention {needle:?}"
        );
    }
}

#[test]
fn duplicate_fields_are_found_in_long_records_too() {
    let mut bytes = vec![0xb8, 40];
    for i in 0..40u8 {
        // Field names f00 … f39, with f17 written a second time at the end.
        let n = if i == 39 { 17 } else { i };
        bytes.extend_from_slice(&[0x63, b'f', b'0' + n / 10, b'0' + n % 10, i % 24]);
    }
    let err = Record::from_cbor(&bytes).expect_err("duplicate");
    assert!(err.message().contains("\"f17\" appears twice"), "{err}");
    let end = bytes.len();
    bytes[end - 4..end - 1].copy_from_slice(b"f39");
    assert_eq!(Record::from_cbor(&bytes).expect("no duplicate").len(), 40);
}

#[test]
fn record_value_conversions() {
    let record = record! { "id" => 7, "tags" => Value::Array(vec![text("a")]) };
    let value = Value::from(record.clone());
    assert_eq!(Record::try_from(value).expect("converts"), record);
    let bad = Value::Map(vec![(int(1), int(2))]);
    assert_eq!(
        Record::try_from(bad).expect_err("int key").kind(),
        ErrorKind::InvalidInput
    );
    assert!(Record::try_from(int(1)).is_err());
    assert_eq!(Value::try_from(1i128 << 64).ok(), None);
    assert_eq!(Value::try_from(-(1i128 << 64)).ok(), Some(int(-(1 << 64))));
    assert_eq!(Value::try_from(u128::MAX).ok(), None);
}

// -------------------------------------------------------------- malformed

#[test]
fn every_truncation_of_a_valid_item_is_an_error() {
    let value = Value::Array(vec![
        int(-(1 << 64)),
        Value::Float(1.1),
        Value::Float(100_000.0),
        Value::Float(1.5),
        text("héllo"),
        Value::Bytes(vec![9; 30]),
        Value::Map(vec![(text("k"), Value::Tag(32, Box::new(text("u"))))]),
        Value::Simple(200),
    ]);
    let bytes = value.to_cbor();
    for len in 0..bytes.len() {
        let err = Value::from_cbor(&bytes[..len]).expect_err("truncated");
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.message().contains("end of input"), "{len}: {err}");
    }
    assert_eq!(decode(&bytes), value);
}

#[test]
fn invalid_utf8_is_rejected() {
    rejects(&[0x62, 0xff, 0xfe], "utf-8");
    rejects(&[0x62, 0xc3, 0x28], "utf-8");
    // A chunk may not split a character, even if the chunks join up.
    rejects(&[0x7f, 0x61, 0xc3, 0x61, 0xbc, 0xff], "utf-8");
    let err = Record::from_cbor(&[0xa1, 0x61, 0xff, 0x01]).expect_err("bad key");
    assert!(err.message().contains("utf-8"), "{err}");
}

#[test]
fn reserved_additional_information_is_rejected() {
    for major in 0u8..8 {
        for info in 28u8..=30 {
            rejects(&[major << 5 | info, 0, 0, 0, 0, 0, 0, 0, 0], "reserved");
        }
    }
    // Indefinite length is meaningless for integers and tags.
    rejects(&[0x1f], "reserved");
    rejects(&[0x3f], "reserved");
    rejects(&[0xdf, 0x01], "reserved");
}

#[test]
fn a_break_out_of_place_is_rejected() {
    rejects(&[0xff], "unexpected break");
    rejects(&[0x82, 0x01, 0xff], "unexpected break");
    rejects(&[0xa1, 0x01, 0xff], "unexpected break");
    // An indefinite map whose last key has no value.
    rejects(&[0xbf, 0x01, 0xff], "unexpected break");
    rejects(&[0xc1, 0xff], "unexpected break");
    rejects(&[0x9f, 0x01], "end of input");
}

#[test]
fn indefinite_strings_take_only_definite_chunks_of_their_own_type() {
    rejects(&[0x5f, 0x61, b'a', 0xff], "expected bytes");
    rejects(&[0x7f, 0x41, b'a', 0xff], "expected text");
    rejects(&[0x5f, 0x5f, 0xff, 0xff], "definite length");
    rejects(&[0x7f, 0x7f, 0xff, 0xff], "definite length");
}

#[test]
fn trailing_bytes_are_rejected() {
    rejects(&[0x01, 0x02], "1 trailing byte");
    rejects(&[0x80, 0xff, 0xff], "2 trailing byte");
}

#[test]
fn forged_lengths_fail_without_allocating_them() {
    rejects(
        &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        "end of input",
    );
    rejects(
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        "end of input",
    );
    rejects(
        &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        "end of input",
    );
    rejects(&[0x7a, 0x7f, 0xff, 0xff, 0xff, b'a'], "end of input");
}

fn nested(levels: usize, opener: u8, innermost: u8) -> Vec<u8> {
    let mut bytes = vec![opener; levels];
    bytes.push(innermost);
    bytes
}

#[test]
fn nesting_is_bounded_at_max_depth() {
    for opener in [0x81u8, 0xc1, 0x9f] {
        let mut ok = nested(MAX_DEPTH, opener, 0x00);
        let mut too_deep = nested(MAX_DEPTH + 1, opener, 0x00);
        if opener == 0x9f {
            ok.extend(std::iter::repeat_n(0xff, MAX_DEPTH));
            too_deep.extend(std::iter::repeat_n(0xff, MAX_DEPTH + 1));
        }
        assert!(
            Value::from_cbor(&ok).is_ok(),
            "{MAX_DEPTH} levels of {opener:#x}"
        );
        rejects(&too_deep, "maximum depth");
    }
    // Map values count too.
    let mut map = Vec::new();
    for _ in 0..=MAX_DEPTH {
        map.extend_from_slice(&[0xa1, 0x00]);
    }
    map.push(0x00);
    rejects(&map, "maximum depth");
    // A record's map is the first level.
    let mut record = vec![0xa1, 0x61, b'x'];
    record.extend(nested(MAX_DEPTH - 1, 0x81, 0x00));
    assert!(Record::from_cbor(&record).is_ok());
    let mut record = vec![0xa1, 0x61, b'x'];
    record.extend(nested(MAX_DEPTH, 0x81, 0x00));
    let err = Record::from_cbor(&record).expect_err("too deep");
    assert!(err.message().contains("maximum depth"), "{err}");
}

#[test]
fn hostile_nesting_returns_an_error_instead_of_overflowing_the_stack() {
    for opener in [0x81u8, 0x9f, 0xc6, 0xa1] {
        rejects(&nested(1_000_000, opener, 0x00), "maximum depth");
    }
}

// ----------------------------------------------- minicbor trait integration

#[test]
fn value_and_record_work_inside_other_minicbor_types() {
    let pair = (int(-3), record! { "k" => Value::Null });
    let bytes = minicbor::to_vec(&pair).expect("encodes");
    assert_eq!(
        bytes,
        [0x82, 0x22, 0xa1, 0x61, b'k', 0xf6],
        "a tuple is an array of its parts"
    );
    let back: (Value, Record) = minicbor::decode(&bytes).expect("decodes");
    assert_eq!(back, pair);
    let list: Vec<Value> = minicbor::decode(&[0x9f, 0x01, 0x61, b'a', 0xff]).expect("decodes");
    assert_eq!(list, [int(1), text("a")]);
}

// ---------------------------------------------------------------- display

#[test]
fn display_is_cbor_diagnostic_notation() {
    let value = Value::Map(vec![
        (text("name"), text("Lamp \"L\"\n\u{1}")),
        (text("price"), Value::Float(19.5)),
        (text("whole"), Value::Float(2.0)),
        (text("stock"), int(-3)),
        (text("on"), Value::Bool(true)),
        (
            text("tags"),
            Value::Array(vec![Value::Null, Value::Undefined]),
        ),
        (int(1), Value::Bytes(vec![0x01, 0xff])),
        (text("t"), Value::Tag(32, Box::new(text("x")))),
        (text("s"), Value::Simple(16)),
        (
            text("f"),
            Value::Array(vec![
                Value::Float(f64::NAN),
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(1e100),
            ]),
        ),
    ]);
    assert_eq!(
        value.to_string(),
        "{\"name\": \"Lamp \\\"L\\\"\\n\\u0001\", \"price\": 19.5, \"whole\": 2.0, \
         \"stock\": -3, \"on\": true, \"tags\": [null, undefined], 1: h'01ff', \
         \"t\": 32(\"x\"), \"s\": simple(16), \"f\": [NaN, Infinity, -Infinity, 1e100]}"
    );
    let record = record! { "a\\b" => 1, "b" => "two" };
    assert_eq!(record.to_string(), "{\"a\\\\b\": 1, \"b\": \"two\"}");
}

// ------------------------------------------------------------------- fuzz

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic; whatever decodes encodes to bytes that
    /// decode again.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = Value::from_cbor(&bytes) {
            prop_assert!(Value::from_cbor(&v.to_cbor()).is_ok());
        }
        if let Ok(r) = Record::from_cbor(&bytes) {
            // Compared as bytes: a decoded NaN is not equal to itself.
            let again = Record::from_cbor(&r.to_cbor()).expect("re-decodes");
            prop_assert_eq!(again.to_cbor(), r.to_cbor());
        }
    }

    /// Random bytes behind a container head, so the decoder walks deeper
    /// than the first byte.
    #[test]
    fn random_container_bodies_never_panic(
        head in prop::sample::select(vec![0x9fu8, 0xbf, 0x85, 0xa3, 0x5f, 0x7f, 0xc1]),
        body in prop::collection::vec(any::<u8>(), 0..96),
    ) {
        let mut bytes = vec![head];
        bytes.extend(body);
        let _ = Value::from_cbor(&bytes);
        let _ = Record::from_cbor(&bytes);
    }
}
