//! Decoding [`Value`] and [`Record`] from CBOR with minicbor.
//!
//! minicbor offers typed reads but no dynamic item, so this walks the input
//! by the type of each leading byte. Every step reports malformed input as a
//! `minicbor::decode::Error` (never a panic). Containers being filled live on
//! an explicit stack rather than the call stack, so decoding needs the same
//! few hundred bytes of stack at any depth; nesting stops at [`MAX_DEPTH`],
//! which keeps what the caller later does with the value (drop it, say) within
//! a small stack too.

use alloc::string::String;
use alloc::vec::Vec;

use minicbor::Decode;
use minicbor::data::Type;
use minicbor::decode::{Decoder, Error};

use super::build::{Completion, Frame};
use super::{Int, MAX_DEPTH, Record, Value};

impl<'b, C> Decode<'b, C> for Value {
    /// Decodes one complete CBOR item, including indefinite-length strings,
    /// arrays and maps. Fails on malformed input and on nesting deeper than
    /// [`MAX_DEPTH`] below the item.
    fn decode(d: &mut Decoder<'b>, _ctx: &mut C) -> Result<Self, Error> {
        decode_value(d, 0, &mut Vec::new())
    }
}

impl<'b, C> Decode<'b, C> for Record {
    /// Decodes a CBOR map whose keys are all text. Fails on any other item, on
    /// a non-text key and on a repeated field name (a row has one value per
    /// field; silently keeping one of two would hide corruption).
    fn decode(d: &mut Decoder<'b>, _ctx: &mut C) -> Result<Self, Error> {
        let start = d.position();
        let ty = d.datatype()?;
        if !matches!(ty, Type::Map | Type::MapIndef) {
            return Err(
                Error::message(format_args!("a record must be a CBOR map, found {ty}")).at(start),
            );
        }
        let len = d.map()?;
        let mut fields: Vec<(String, Value)> = Vec::with_capacity(capacity(d, len, 2));
        let mut remaining = len;
        let mut stack = Vec::new();
        while has_next(d, &mut remaining)? {
            let key_at = d.position();
            let key = match d.datatype()? {
                Type::String | Type::StringIndef => decode_text(d)?,
                other => {
                    return Err(Error::message(format_args!(
                        "a record field name must be text, found {other}"
                    ))
                    .at(key_at));
                }
            };
            let value = decode_value(d, 1, &mut stack)?;
            fields.push((key, value));
        }
        if let Some(name) = first_duplicate(&fields) {
            return Err(
                Error::message(format_args!("record field {name:?} appears twice")).at(start),
            );
        }
        Ok(Record::from_fields_unchecked(fields))
    }
}

/// What the item at the cursor is: finished (a scalar), or a container
/// whose items follow.
enum Start {
    Done(Value),
    Open(Frame),
}

/// Decode the item at the cursor, which has `enclosing` containers around
/// it. `stack` is scratch space (empty on entry and on success), passed in
/// so a record's fields share one allocation.
///
/// Iterative, not recursive: nesting costs heap (one [`Frame`] per level,
/// bounded by [`MAX_DEPTH`]), never stack.
fn decode_value(
    d: &mut Decoder<'_>,
    enclosing: usize,
    stack: &mut Vec<Frame>,
) -> Result<Value, Error> {
    stack.clear();
    loop {
        let mut value = match start_item(d, enclosing + stack.len())? {
            Start::Done(value) => value,
            Start::Open(frame) => {
                stack.push(frame);
                match close_if_complete(d, stack)? {
                    Some(value) => value,
                    None => continue,
                }
            }
        };
        // Hand the finished item to its container, closing every container
        // it completes on the way out.
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(value);
            };
            top.accept(value);
            match close_if_complete(d, stack)? {
                Some(closed) => value = closed,
                None => break,
            }
        }
    }
}

/// Pop the innermost container if it is complete, as a value.
fn close_if_complete(d: &mut Decoder<'_>, stack: &mut Vec<Frame>) -> Result<Option<Value>, Error> {
    let Some(top) = stack.last() else {
        return Ok(None);
    };
    let complete = match top.completion() {
        Completion::Complete => true,
        Completion::Open => false,
        Completion::AtBreak if d.datatype()? == Type::Break => {
            d.set_position(d.position() + 1);
            true
        }
        Completion::AtBreak => false,
    };
    Ok(if complete {
        stack.pop().map(Frame::finish)
    } else {
        None
    })
}

/// Read the item at the cursor, which has `depth` enclosing containers: a
/// scalar whole, a container up to its first item.
fn start_item(d: &mut Decoder<'_>, depth: usize) -> Result<Start, Error> {
    let at = d.position();
    if depth > MAX_DEPTH {
        return Err(Error::message(format_args!(
            "nesting deeper than the maximum depth of {MAX_DEPTH}"
        ))
        .at(at));
    }
    Ok(Start::Done(match d.datatype()? {
        Type::Bool => Value::Bool(d.bool()?),
        Type::Null => {
            d.null()?;
            Value::Null
        }
        Type::Undefined => {
            d.undefined()?;
            Value::Undefined
        }
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => {
            let n = i128::from(d.int()?);
            // A native CBOR integer always lies in Int's range; the check
            // only keeps this path free of a panic.
            Value::Integer(
                Int::new(n).ok_or_else(|| Error::message("integer out of range").at(at))?,
            )
        }
        Type::F16 => Value::Float(f64::from(d.f16()?)),
        Type::F32 => Value::Float(f64::from(d.f32()?)),
        Type::F64 => Value::Float(d.f64()?),
        Type::Simple => {
            let n = d.simple()?;
            // RFC 8949 §3.3: the two-byte form carries only 32…255; smaller
            // numbers there are not well-formed (and 20…23 would alias the
            // named values).
            if d.position() - at == 2 && n < 32 {
                return Err(Error::message(format_args!(
                    "simple value {n} in two-byte form is not well-formed"
                ))
                .at(at));
            }
            Value::Simple(n)
        }
        Type::Bytes => Value::Bytes(d.bytes()?.to_vec()),
        Type::BytesIndef => {
            let mut out = Vec::new();
            for chunk in d.bytes_iter()? {
                out.extend_from_slice(chunk?);
            }
            Value::Bytes(out)
        }
        Type::String | Type::StringIndef => Value::Text(decode_text(d)?),
        Type::Array | Type::ArrayIndef => {
            let remaining = d.array()?;
            return Ok(Start::Open(Frame::array(
                remaining,
                capacity(d, remaining, 1),
            )));
        }
        Type::Map | Type::MapIndef => {
            let remaining = d.map()?;
            return Ok(Start::Open(Frame::map(
                remaining,
                capacity(d, remaining, 2),
            )));
        }
        Type::Tag => {
            let tag = d.tag()?.as_u64();
            return Ok(Start::Open(Frame::Tag { tag, inner: None }));
        }
        Type::Break => {
            return Err(
                Error::message("unexpected break (0xff) where an item was expected").at(at),
            );
        }
        Type::Unknown(byte) => {
            return Err(Error::message(format_args!(
                "initial byte {byte:#04x} is reserved or not well-formed"
            ))
            .at(at));
        }
    }))
}

/// A text string, definite or indefinite (each chunk must be valid UTF-8 on
/// its own, as RFC 8949 requires).
fn decode_text(d: &mut Decoder<'_>) -> Result<String, Error> {
    // The definite form (nearly every string) allocates once, exactly.
    if d.datatype()? == Type::String {
        return Ok(String::from(d.str()?));
    }
    let mut out = String::new();
    for chunk in d.str_iter()? {
        out.push_str(chunk?);
    }
    Ok(out)
}

/// Whether another element of an array or map follows. `remaining` is the
/// count left of a definite container, `None` for an indefinite one, whose
/// terminating break this consumes.
fn has_next(d: &mut Decoder<'_>, remaining: &mut Option<u64>) -> Result<bool, Error> {
    match remaining {
        Some(0) => Ok(false),
        Some(n) => {
            *n -= 1;
            Ok(true)
        }
        None => {
            if d.datatype()? == Type::Break {
                d.set_position(d.position() + 1);
                Ok(false)
            } else {
                Ok(true)
            }
        }
    }
}

/// Capacity to reserve for a container announcing `len` elements of at least
/// `min_bytes` bytes each: never more than the rest of the input can hold, so a
/// forged length cannot make us allocate gigabytes.
fn capacity(d: &Decoder<'_>, len: Option<u64>, min_bytes: usize) -> usize {
    let left = d.input().len().saturating_sub(d.position()) / min_bytes;
    len.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX).min(left))
}

/// The first field name that occurs twice, if any.
fn first_duplicate(fields: &[(String, Value)]) -> Option<&str> {
    // Rows are short: a pairwise scan beats sorting there; long maps (from
    // hostile input, say) sort so decoding stays O(n log n).
    const SCAN_LIMIT: usize = 16;
    if fields.len() <= SCAN_LIMIT {
        for (i, (name, _)) in fields.iter().enumerate() {
            if fields[..i].iter().any(|(other, _)| other == name) {
                return Some(name);
            }
        }
        return None;
    }
    let mut names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}
