//! The canonical, versioned text encoding behind [`Query::key`] and
//! [`QueryDescriptor::key`] (format documented on the latter).
//!
//! Hand-written rather than derived from `Debug` or a hasher: keys are
//! persisted, so they must not change with a compiler version, a platform or
//! a random hash seed.

use core::fmt::{self, Write};

use super::{Query, QueryDescriptor, SortDir};
use crate::value::Value;

/// Format version, first in every key; bump it when the encoding changes.
const VERSION: &str = "q1";

pub(super) fn write_query(out: &mut impl Write, query: &Query) -> fmt::Result {
    out.write_str(VERSION)?;
    for condition in &query.conditions {
        out.write_str("|c")?;
        write_text(out, &condition.field)?;
        write!(out, " {} ", condition.op.as_str())?;
        write_value(out, &condition.value)?;
    }
    if let Some(sort) = &query.sort {
        out.write_str(match sort.dir {
            SortDir::Asc => "|o+",
            SortDir::Desc => "|o-",
        })?;
        write_text(out, &sort.field)?;
    }
    if let Some(search) = &query.search {
        out.write_str("|s")?;
        write_text(out, search)?;
    }
    Ok(())
}

pub(super) fn write_descriptor(out: &mut impl Write, descriptor: &QueryDescriptor) -> fmt::Result {
    write_query(out, &descriptor.query)?;
    if descriptor.offset.is_some() || descriptor.limit.is_some() {
        out.write_str("|@")?;
        write_bound(out, descriptor.offset)?;
        out.write_char(',')?;
        write_bound(out, descriptor.limit)?;
    }
    if let Some(id) = &descriptor.id {
        out.write_str("|#")?;
        write_text(out, id)?;
    }
    Ok(())
}

fn write_bound(out: &mut impl Write, bound: Option<usize>) -> fmt::Result {
    match bound {
        Some(n) => write!(out, "{n}"),
        None => out.write_char('-'),
    }
}

/// `"text"` with `\` and `"` escaped, so the closing quote is unambiguous.
fn write_text(out: &mut impl Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut rest = text;
    while let Some(pos) = rest.find(['"', '\\']) {
        out.write_str(&rest[..pos])?;
        out.write_char('\\')?;
        out.write_str(&rest[pos..pos + 1])?;
        rest = &rest[pos + 1..];
    }
    out.write_str(rest)?;
    out.write_char('"')
}

/// One value in the key notation (also used to show operands in messages).
pub(super) fn write_value(out: &mut impl Write, value: &Value) -> fmt::Result {
    match value {
        Value::Null => out.write_char('n'),
        Value::Undefined => out.write_char('u'),
        Value::Bool(b) => out.write_str(if *b { "b1" } else { "b0" }),
        Value::Integer(i) => write!(out, "i{i}"),
        Value::Float(f) => write!(out, "d{:016x}", canonical_bits(*f)),
        Value::Text(s) => {
            out.write_char('s')?;
            write_text(out, s)
        }
        Value::Bytes(bytes) => {
            out.write_str("x\"")?;
            for byte in bytes {
                write!(out, "{byte:02x}")?;
            }
            out.write_char('"')
        }
        Value::Array(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write_value(out, item)?;
            }
            out.write_char(']')
        }
        Value::Map(entries) => {
            out.write_char('{')?;
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write_value(out, k)?;
                out.write_char(':')?;
                write_value(out, v)?;
            }
            out.write_char('}')
        }
        Value::Tag(tag, inner) => {
            write!(out, "g{tag}(")?;
            write_value(out, inner)?;
            out.write_char(')')
        }
        Value::Simple(n) => write!(out, "y{n}"),
    }
}

/// The bits of `f` with `-0.0` folded into `0.0` and every NaN into the
/// canonical quiet NaN: operands that filter identically key identically.
fn canonical_bits(f: f64) -> u64 {
    // Spelled out because `f64::NAN`'s bit pattern is not guaranteed.
    const QUIET_NAN: u64 = 0x7ff8_0000_0000_0000;
    if f.is_nan() {
        QUIET_NAN
    } else if f == 0.0 {
        0
    } else {
        f.to_bits()
    }
}
