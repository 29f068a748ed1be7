//! Other well-formed encodings of a value than the canonical one: longer
//! heads than needed, indefinite-length strings (in chunks) and containers,
//! floats in wider widths than needed. The decoder must read each of them
//! back as the same value.
//!
//! Written here rather than with a CBOR library because the point is to
//! choose, item by item, among the encodings RFC 8949 allows, which
//! encoders (minicbor, ciborium) deliberately never do.

use diorama_core::value::Value;
use fastrand::Rng;

/// A well-formed, usually non-canonical, encoding of `value`.
pub(crate) fn encode(value: &Value, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, rng, &mut out);
    out
}

/// A head of major type `major` with argument `arg`, in the shortest width
/// or (sometimes) a longer one.
fn head(major: u8, arg: u64, rng: &mut Rng, out: &mut Vec<u8>) {
    let shortest = match arg {
        0..24 => 0,
        24..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 3,
        _ => 4,
    };
    let width = if rng.u8(0..4) == 0 {
        rng.u8(shortest..=4)
    } else {
        shortest
    };
    let m = major << 5;
    match width {
        0 => out.push(m | arg as u8),
        1 => out.extend([m | 24, arg as u8]),
        2 => {
            out.push(m | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        3 => {
            out.push(m | 26);
            out.extend((arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(arg.to_be_bytes());
        }
    }
}

fn write(value: &Value, rng: &mut Rng, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Undefined => out.push(0xf7),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Integer(n) => {
            let n = n.get();
            if n >= 0 {
                head(0, n as u64, rng, out);
            } else {
                head(1, (-1 - n) as u64, rng, out);
            }
        }
        Value::Float(x) => float(*x, rng, out),
        // Simple values have exactly one well-formed encoding each.
        Value::Simple(n @ 0..24) => out.push(0xe0 | n),
        Value::Simple(n) => out.extend([0xf8, *n]),
        Value::Text(s) => {
            if rng.u8(0..3) == 0 {
                out.push(0x7f);
                // Chunks end on character boundaries: each must be UTF-8.
                let mut rest = s.as_str();
                while !rest.is_empty() {
                    let mut cut = rng.usize(1..=rest.len());
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    head(3, cut as u64, rng, out);
                    out.extend(&rest.as_bytes()[..cut]);
                    rest = &rest[cut..];
                }
                out.push(0xff);
            } else {
                head(3, s.len() as u64, rng, out);
                out.extend(s.as_bytes());
            }
        }
        Value::Bytes(b) => {
            if rng.u8(0..3) == 0 {
                out.push(0x5f);
                for chunk in b.chunks(rng.usize(1..4)) {
                    head(2, chunk.len() as u64, rng, out);
                    out.extend(chunk);
                }
                if rng.bool() {
                    out.push(0x40); // an empty chunk is allowed too
                }
                out.push(0xff);
            } else {
                head(2, b.len() as u64, rng, out);
                out.extend(b);
            }
        }
        Value::Array(items) => {
            let indefinite = rng.u8(0..3) == 0;
            if indefinite {
                out.push(0x9f);
            } else {
                head(4, items.len() as u64, rng, out);
            }
            for item in items {
                write(item, rng, out);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        Value::Map(entries) => {
            let indefinite = rng.u8(0..3) == 0;
            if indefinite {
                out.push(0xbf);
            } else {
                head(5, entries.len() as u64, rng, out);
            }
            for (key, item) in entries {
                write(key, rng, out);
                write(item, rng, out);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        Value::Tag(tag, inner) => {
            head(6, *tag, rng, out);
            write(inner, rng, out);
        }
    }
}

/// `x` in a random width among those that keep its exact bits.
fn float(x: f64, rng: &mut Rng, out: &mut Vec<u8>) {
    let half = half_bits(x);
    let single = x as f32;
    let fits_single = f64::from(single).to_bits() == x.to_bits();
    match rng.u8(0..3) {
        0 if half.is_some() => {
            out.push(0xf9);
            out.extend(half.unwrap_or_default().to_be_bytes());
        }
        0 | 1 if fits_single => {
            out.push(0xfa);
            out.extend(single.to_bits().to_be_bytes());
        }
        _ => {
            out.push(0xfb);
            out.extend(x.to_bits().to_be_bytes());
        }
    }
}

/// The half-precision bits of `x` when half precision holds it exactly.
fn half_bits(x: f64) -> Option<u16> {
    let half = half::f16::from_f64(x);
    (half.to_f64().to_bits() == x.to_bits()).then_some(half.to_bits())
}
