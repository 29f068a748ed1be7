//! Encoding [`Value`] and [`Record`] as CBOR with minicbor.
//!
//! Definite lengths and the shortest integer and length heads throughout (as
//! minicbor writes them); floats in the smallest lossless width. The only
//! errors are those of the writer. Encoding walks the value without
//! recursion, so a value of any depth encodes on a small stack.

use minicbor::Encode;
use minicbor::data::Tag;
use minicbor::encode::{Encoder, Error, Write};

use super::walk::Preorder;
use super::{Record, Value};

impl<C> Encode<C> for Value {
    /// Writes this value as one CBOR item. Fails only when the writer does.
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _ctx: &mut C) -> Result<(), Error<W::Error>> {
        encode_value(self, e)
    }
}

impl<C> Encode<C> for Record {
    /// Writes this record as a CBOR map of text keys, in field order. Fails
    /// only when the writer does.
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _ctx: &mut C) -> Result<(), Error<W::Error>> {
        e.map(self.len() as u64)?;
        for (name, value) in self.iter() {
            e.str(name)?;
            encode_value(value, e)?;
        }
        Ok(())
    }
}

/// Writes `value` item by item in pre-order ([`Preorder`]): a container's
/// head, then its items. No recursion, so any depth fits on a small stack.
fn encode_value<W: Write>(value: &Value, e: &mut Encoder<W>) -> Result<(), Error<W::Error>> {
    for item in Preorder::new(value) {
        match item {
            Value::Null => {
                e.null()?;
            }
            Value::Undefined => {
                e.undefined()?;
            }
            Value::Bool(b) => {
                e.bool(*b)?;
            }
            // Int guarantees CBOR's range, where minicbor writes a native
            // integer (never a bignum).
            Value::Integer(n) => {
                e.i128(n.get())?;
            }
            Value::Float(x) => encode_float(*x, e)?,
            Value::Text(s) => {
                e.str(s)?;
            }
            Value::Bytes(b) => {
                e.bytes(b)?;
            }
            Value::Array(items) => {
                e.array(items.len() as u64)?;
            }
            Value::Map(entries) => {
                e.map(entries.len() as u64)?;
            }
            Value::Tag(tag, _) => {
                e.tag(Tag::new(*tag))?;
            }
            Value::Simple(n) => encode_simple(*n, e)?,
        }
    }
    Ok(())
}

/// The smallest of half, single and double width that holds `x` with the
/// exact same bits (NaN payloads included), as ciborium chooses.
fn encode_float<W: Write>(x: f64, e: &mut Encoder<W>) -> Result<(), Error<W::Error>> {
    let half = half::f16::from_f64(x);
    if half.to_f64().to_bits() == x.to_bits() {
        // Raw bytes rather than `Encoder::f16`, which takes an f32 and would
        // round-trip a NaN through another conversion.
        let [hi, lo] = half.to_bits().to_be_bytes();
        return e
            .writer_mut()
            .write_all(&[0xf9, hi, lo])
            .map_err(Error::write);
    }
    let single = x as f32;
    if f64::from(single).to_bits() == x.to_bits() {
        e.f32(single)?;
    } else {
        e.f64(x)?;
    }
    Ok(())
}

/// Simple values; see [`Value::Simple`] for why 20…31 are special.
fn encode_simple<W: Write>(n: u8, e: &mut Encoder<W>) -> Result<(), Error<W::Error>> {
    match n {
        20 => e.bool(false)?,
        21 => e.bool(true)?,
        22 => e.null()?,
        23..=31 => e.undefined()?,
        n => e.simple(n)?,
    };
    Ok(())
}
