//! Dynamic CBOR values and records.
//!
//! [`Value`] covers the whole CBOR data model so anything a master or the
//! Vantage ecosystem writes survives a round trip through the cache.
//! [`Record`] is one row: field name → [`Value`], insertion order kept.
//!
//! Both encode to and decode from CBOR (RFC 8949) with hand-written minicbor
//! [`Encode`](minicbor::Encode) / [`Decode`](minicbor::Decode) impls, because
//! minicbor has no dynamic value type and its derive does not write natural
//! CBOR. The convenience functions [`Value::to_cbor`], [`Value::from_cbor`],
//! [`Record::to_cbor`] and [`Record::from_cbor`] cover the common case of one
//! item in a byte buffer.
//!
//! Decoding never panics on malformed input and bounds nesting at
//! [`MAX_DEPTH`]; encoding a `Value` never fails. Neither recurses, so both
//! run on small (embedded, 32 KiB) stacks.

mod build;
mod cbor;
mod convert;
mod decode;
mod display;
mod encode;
mod int;
mod record;
mod structural;
mod walk;

pub use int::{Int, IntOutOfRange};
pub use record::Record;

/// How many arrays, maps and tags may enclose an item being decoded.
///
/// An item with more than `MAX_DEPTH` enclosing arrays, maps or tags is
/// rejected with an error; a [`Record`]'s map counts as one level. The
/// decoder and the encoder never recurse, but a `Value`'s compiler-made
/// `Drop` (and `Clone`, `PartialEq`, `Debug`) do, one call chain per
/// level. The bound is chosen so that everything the decoder accepts can be
/// decoded, encoded and dropped on a thread with a 32 KiB stack, in debug
/// and release builds (measured: dropping nested maps in a debug build
/// overflows 32 KiB from about 110 levels; a test pins the bound on such a
/// thread). 64 is far deeper than any row a data source produces.
///
/// A `Value` built by hand may nest deeper: it still encodes, but that
/// encoding does not decode.
pub const MAX_DEPTH: usize = 64;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// One CBOR data item.
///
/// Floats of every width decode into `Float(f64)` (half and single widen
/// exactly); encoding writes a float in the smallest of half, single and
/// double width that keeps its exact bits. Maps keep their entries in order,
/// allow any key type and keep duplicate keys, as CBOR does. Bignums (tags 2
/// and 3) stay `Tag` values, so they round-trip byte for byte. Equality is
/// structural; `Float` compares with `==` (so `NaN != NaN`).
///
/// `Display` writes CBOR diagnostic notation (RFC 8949 §8), which is JSON for
/// the values JSON has; see the impl for details.
///
/// Encoding, decoding, `Clone` and `PartialEq` never recurse; the derived
/// `Drop` and `Debug` and the `Display` impl recurse once per level, which
/// [`MAX_DEPTH`] keeps small for every value the decoder produces.
#[derive(Debug)]
pub enum Value {
    /// CBOR `null`.
    Null,
    /// CBOR `undefined`.
    Undefined,
    /// A boolean.
    Bool(bool),
    /// An integer in −2^64 … 2^64−1.
    Integer(Int),
    /// A floating-point number (half, single and double all decode to this).
    Float(f64),
    /// A UTF-8 text string.
    Text(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// An array of items.
    Array(Vec<Value>),
    /// A map with keys of any type, in encounter order.
    Map(Vec<(Value, Value)>),
    /// A tagged item.
    Tag(u64, Box<Value>),
    /// A simple value other than false, true, null and undefined.
    ///
    /// Decoding yields `Simple(n)` only for `n` in 0…19 and 32…255. Simple
    /// values 20…23 *are* false, true, null and undefined, so `Simple(20..=23)`
    /// encodes as those one-byte items (and decodes back as `Bool`, `Null`,
    /// `Undefined`). RFC 8949 reserves 24…31 and no well-formed CBOR carries
    /// them; `Simple(24..=31)` encodes as `undefined`.
    Simple(u8),
}
