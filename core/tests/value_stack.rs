//! The codec on a small stack: everything the decoder accepts decodes,
//! encodes and drops on a thread with a 32 KiB stack, and hostile or
//! hand-built deep values never overflow it.
//!
//! Stack use depends on the optimisation level, so CI runs this file in
//! both profiles: `cargo test` (debug) and
//! `cargo test --release -p diorama-core --test value_stack`.

use std::thread;

use diorama_core::value::{MAX_DEPTH, Record, Value};

/// The stack of a small embedded task or a frugal worker thread.
const SMALL_STACK: usize = 32 * 1024;

/// Run `f` on a fresh thread with a 32 KiB stack. An overflow aborts the
/// whole test process (that is what this file guards against), so a pass
/// means it fit.
fn on_small_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    thread::scope(|scope| {
        thread::Builder::new()
            .name("small-stack".into())
            .stack_size(SMALL_STACK)
            .spawn_scoped(scope, f)
            .expect("spawn a small-stack thread")
            .join()
            .expect("the small-stack thread panicked")
    })
}

/// One level of nesting in CBOR: the bytes before the inner item and the
/// bytes after it.
#[derive(Clone, Copy, Debug)]
enum Level {
    /// `[x]`, definite.
    Array,
    /// `[_ x]`, indefinite.
    ArrayIndef,
    /// `{0: x}`: the item is a map value.
    MapValue,
    /// `{x: 0}`: the item is a map key.
    MapKey,
    /// `{_ 0: x}`, indefinite.
    MapIndef,
    /// `6(x)`.
    Tag,
}

const LEVELS: [Level; 6] = [
    Level::Array,
    Level::ArrayIndef,
    Level::MapValue,
    Level::MapKey,
    Level::MapIndef,
    Level::Tag,
];

impl Level {
    fn open(self) -> &'static [u8] {
        match self {
            Level::Array => &[0x81],
            Level::ArrayIndef => &[0x9f],
            Level::MapValue => &[0xa1, 0x00],
            Level::MapKey => &[0xa1],
            Level::MapIndef => &[0xbf, 0x00],
            Level::Tag => &[0xc6],
        }
    }

    fn close(self) -> &'static [u8] {
        match self {
            Level::ArrayIndef | Level::MapIndef => &[0xff],
            Level::MapKey => &[0x00],
            _ => &[],
        }
    }
}

/// `levels` containers around a final `innermost` item, the kind of each
/// level given by `kind(level)`.
fn nested(levels: usize, kind: impl Fn(usize) -> Level, innermost: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for level in 0..levels {
        bytes.extend_from_slice(kind(level).open());
    }
    bytes.extend_from_slice(innermost);
    for level in (0..levels).rev() {
        bytes.extend_from_slice(kind(level).close());
    }
    bytes
}

/// Decode, encode, decode again, clone and compare, then drop: all on the
/// caller's (small) stack. `assert!` rather than `assert_eq!`: the derived
/// `Debug` of a failure message recurses, and the point here is what fits.
fn round_trips(bytes: &[u8]) {
    let value = Value::from_cbor(bytes).expect("within the depth bound");
    let again = value.to_cbor();
    let decoded_again = Value::from_cbor(&again).expect("re-decodes");
    assert!(decoded_again == value, "decode ∘ encode keeps the value");
    let copy = value.clone();
    assert!(copy == value && copy.to_cbor() == again, "a clone is equal");
    // Dropped here, on the small stack: the derived drop recurses per level.
    drop((value, decoded_again, copy));
}

#[test]
fn the_deepest_accepted_input_of_every_kind_fits_on_32_kib() {
    for level in LEVELS {
        // MAX_DEPTH enclosing containers around the innermost item.
        let bytes = nested(MAX_DEPTH, |_| level, &[0x00]);
        on_small_stack(|| round_trips(&bytes));
        // The same with a container innermost: MAX_DEPTH + 1 levels of
        // containers in the value, the deepest a decoded value gets.
        let bytes = nested(MAX_DEPTH, |_| level, &[0x80]);
        on_small_stack(|| round_trips(&bytes));
    }
    // Every kind mixed, cycling through the levels.
    let mixed = nested(MAX_DEPTH, |i| LEVELS[i % LEVELS.len()], &[0xa0]);
    on_small_stack(|| round_trips(&mixed));
    let mixed = nested(MAX_DEPTH, |i| LEVELS[(i * 7 + 3) % LEVELS.len()], &[0x80]);
    on_small_stack(|| round_trips(&mixed));
}

#[test]
fn definite_deep_inputs_re_encode_byte_for_byte() {
    for level in [Level::Array, Level::MapValue, Level::MapKey, Level::Tag] {
        let bytes = nested(MAX_DEPTH, |_| level, &[0x80]);
        let again = on_small_stack(|| {
            let value = Value::from_cbor(&bytes).expect("within the bound");
            value.to_cbor()
        });
        assert_eq!(again, bytes, "{level:?}");
    }
}

#[test]
fn the_deepest_accepted_record_fits_on_32_kib() {
    // A record's map is the first level, so its fields may nest
    // MAX_DEPTH - 1 more.
    let mut bytes = vec![0xa2, 0x61, b'a', 0x01, 0x61, b'x'];
    bytes.extend(nested(MAX_DEPTH - 1, |i| LEVELS[i % LEVELS.len()], &[0x80]));
    on_small_stack(|| {
        let record = Record::from_cbor(&bytes).expect("within the bound");
        let again = record.to_cbor();
        assert!(Record::from_cbor(&again).expect("re-decodes") == record);
        assert!(record.clone() == record);
        drop(record);
    });
}

#[test]
fn one_level_more_is_an_error_on_32_kib() {
    for level in LEVELS {
        let bytes = nested(MAX_DEPTH + 1, |_| level, &[0x00]);
        let error = on_small_stack(|| Value::from_cbor(&bytes).map(drop).unwrap_err());
        assert!(
            error.message().contains("maximum depth"),
            "{level:?}: {error}"
        );
    }
}

#[test]
fn hostile_megabytes_of_nesting_are_an_error_on_32_kib() {
    for level in LEVELS {
        let bytes = nested(1 << 20, |_| level, &[0x00]);
        let error = on_small_stack(|| Value::from_cbor(&bytes).map(drop).unwrap_err());
        assert!(
            error.message().contains("maximum depth"),
            "{level:?}: {error}"
        );
        let error = on_small_stack(|| Record::from_cbor(&bytes).map(drop).unwrap_err());
        assert_eq!(error.kind(), diorama_core::ErrorKind::Corrupt, "{error}");
    }
}

#[test]
fn a_hand_built_value_far_deeper_than_the_bound_encodes_on_32_kib() {
    const DEPTH: usize = 4_000;
    // Building and dropping it needs a deep stack (the derived drop
    // recurses); encoding it must not.
    let big = thread::Builder::new().stack_size(64 << 20);
    big.spawn(|| {
        let mut value = Value::Null;
        for i in 0..DEPTH {
            value = match i % 3 {
                0 => Value::Array(vec![value]),
                1 => Value::Map(vec![(Value::from(i), value)]),
                _ => Value::Tag(i as u64, Box::new(value)),
            };
        }
        let (bytes, copy_equal) = on_small_stack(|| {
            let copy = value.clone();
            let equal = copy == value;
            // Leaked, not dropped: this thread's stack cannot drop it.
            std::mem::forget(copy);
            (value.to_cbor(), equal)
        });
        assert!(copy_equal);
        // The encoding is exactly the nesting: every level's head, then null.
        let head = |n: usize| match n {
            0..24 => 1,
            24..256 => 2,
            _ => 3,
        };
        let expected: usize = (0..DEPTH)
            .map(|i| match i % 3 {
                0 => 1,
                1 => 1 + head(i),
                _ => head(i),
            })
            .sum::<usize>()
            + 1;
        assert_eq!(bytes.len(), expected);
        assert_eq!(bytes.last(), Some(&0xf6));
        let error = on_small_stack(|| Value::from_cbor(&bytes).map(drop).unwrap_err());
        assert!(error.message().contains("maximum depth"), "{error}");
    })
    .expect("spawn")
    .join()
    .expect("the deep-stack thread panicked");
}
