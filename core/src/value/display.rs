//! Human-readable rendering: CBOR diagnostic notation (RFC 8949 §8).
//!
//! Diagnostic notation is the standard text form of CBOR and a superset of
//! JSON, so a value made only of null, booleans, numbers, text, arrays and
//! text-keyed maps prints as the JSON a reader expects.

use core::fmt::{self, Display, Formatter, Write};

use super::{Record, Value};

impl Display for Value {
    /// Writes CBOR diagnostic notation:
    ///
    /// - `null`, `undefined`, `true`, `false`, integers in decimal;
    /// - floats always with a `.` or an exponent (`1.0`, `1e100`), and
    ///   `NaN`, `Infinity`, `-Infinity`;
    /// - text in double quotes with JSON escapes (`"a \"b\"\n"`);
    /// - bytes as lower-case hex, `h'01ff'`;
    /// - `[1, 2]`, `{"k": 1, 2: h''}`, a tag as `32("http://x")`, a simple
    ///   value as `simple(16)`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Undefined => f.write_str("undefined"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Integer(n) => write!(f, "{n}"),
            Value::Float(x) => write_float(*x, f),
            Value::Text(s) => write_text(s, f),
            Value::Bytes(bytes) => {
                f.write_str("h'")?;
                for byte in bytes {
                    write!(f, "{byte:02x}")?;
                }
                f.write_char('\'')
            }
            Value::Array(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    Display::fmt(item, f)?;
                }
                f.write_char(']')
            }
            Value::Map(entries) => {
                f.write_char('{')?;
                for (i, (key, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}: {item}")?;
                }
                f.write_char('}')
            }
            Value::Tag(tag, inner) => write!(f, "{tag}({inner})"),
            Value::Simple(n) => write!(f, "simple({n})"),
        }
    }
}

impl Display for Record {
    /// Writes the record as the map it encodes to, in field order:
    /// `{"name": "Lamp", "stock": 3}` (see [`Value`]'s `Display`).
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('{')?;
        for (i, (name, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_text(name, f)?;
            write!(f, ": {value}")?;
        }
        f.write_char('}')
    }
}

fn write_float(x: f64, f: &mut Formatter<'_>) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        // Debug, unlike Display, always marks a float (`1.0`, `1e100`), so it
        // never reads as an integer.
        write!(f, "{x:?}")
    }
}

fn write_text(s: &str, f: &mut Formatter<'_>) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if u32::from(c) < 0x20 || c == '\u{7f}' => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}
