//! One item in one byte buffer: the convenience entry points of the codec.

use alloc::format;
use alloc::vec::Vec;

use minicbor::{Decode, Decoder, Encode, Encoder};

use super::walk::Preorder;
use super::{Record, Value};
use crate::{Error, Result};

impl Value {
    /// This value as one CBOR item (definite lengths, shortest heads, floats
    /// in the smallest lossless width). Never fails.
    pub fn to_cbor(&self) -> Vec<u8> {
        to_vec(self, max_len(self))
    }

    /// Decode exactly one CBOR item from `bytes`.
    ///
    /// Errors have kind [`Corrupt`](crate::ErrorKind::Corrupt) and say what
    /// and where: malformed or truncated input, invalid UTF-8, nesting deeper
    /// than [`MAX_DEPTH`](super::MAX_DEPTH), or bytes left after the item.
    pub fn from_cbor(bytes: &[u8]) -> Result<Value> {
        from_slice(bytes, "value")
    }
}

impl Record {
    /// This record as a CBOR map of text keys, in field order. Never fails.
    pub fn to_cbor(&self) -> Vec<u8> {
        let fields: usize = self
            .iter()
            .map(|(name, v)| HEAD + name.len() + max_len(v))
            .sum();
        to_vec(self, HEAD + fields)
    }

    /// Decode a record from `bytes`, which must hold exactly one CBOR map
    /// with text keys and no repeated key.
    ///
    /// Errors have kind [`Corrupt`](crate::ErrorKind::Corrupt): everything
    /// [`Value::from_cbor`] rejects, plus any other item than a map, a
    /// non-text key and a repeated field name.
    pub fn from_cbor(bytes: &[u8]) -> Result<Record> {
        from_slice(bytes, "record")
    }
}

/// The longest head (initial byte plus an 8-byte argument) of any item.
const HEAD: usize = 9;

/// An upper bound of the encoded size of `value`, so encoding allocates its
/// buffer once instead of growing it through several reallocations. Walks
/// without recursion, like the encoder.
fn max_len(value: &Value) -> usize {
    Preorder::new(value)
        .map(|item| match item {
            Value::Text(s) => HEAD + s.len(),
            Value::Bytes(b) => HEAD + b.len(),
            _ => HEAD,
        })
        .sum()
}

fn to_vec<T: Encode<()>>(item: &T, capacity: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(capacity);
    // Writing to a Vec cannot fail and our Encode impls report nothing but
    // writer errors, so the result is always Ok.
    let written = item.encode(&mut Encoder::new(&mut buf), &mut ());
    debug_assert!(written.is_ok(), "encoding into a Vec failed");
    buf
}

fn from_slice<'b, T: Decode<'b, ()>>(bytes: &'b [u8], what: &str) -> Result<T> {
    let mut d = Decoder::new(bytes);
    let item = T::decode(&mut d, &mut ())
        .map_err(|e| Error::corrupt(format!("invalid CBOR {what}: {e}")))?;
    let end = d.position();
    if end != bytes.len() {
        return Err(Error::corrupt(format!(
            "invalid CBOR {what}: {} trailing byte(s) after the item at position {end}",
            bytes.len() - end
        )));
    }
    Ok(item)
}
