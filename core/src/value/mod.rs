//! Dynamic CBOR values and records.
//!
//! [`Value`] covers the whole CBOR data model so anything a master or the
//! Vantage ecosystem writes survives a round trip through the cache.
//! [`Record`] is one row: field name → [`Value`], insertion order kept.

mod convert;
mod int;
mod record;

pub use int::Int;
pub use record::Record;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// One CBOR data item.
///
/// Floats of every width decode into `Float(f64)` (half and single widen
/// exactly). Maps keep their entries in order and allow any key type, as CBOR
/// does. Equality is structural; `Float` compares with `==` (so `NaN != NaN`).
#[derive(Clone, Debug, PartialEq)]
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
    Simple(u8),
}
