//! Conversions between Rust scalars and [`Value`].

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Int, IntOutOfRange, Record, Value};
use crate::Error;

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Integer(Int::from(v))
            }
        }
    )*};
}
from_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl From<Int> for Value {
    fn from(v: Int) -> Value {
        Value::Integer(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(f64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

/// `i128` is wider than CBOR's integer range, so this can fail.
impl TryFrom<i128> for Value {
    type Error = IntOutOfRange;
    fn try_from(v: i128) -> Result<Value, IntOutOfRange> {
        Int::try_from(v).map(Value::Integer)
    }
}

/// `u128` is wider than CBOR's integer range, so this can fail.
impl TryFrom<u128> for Value {
    type Error = IntOutOfRange;
    fn try_from(v: u128) -> Result<Value, IntOutOfRange> {
        // Anything above i128::MAX is far outside the range anyway.
        let wide = i128::try_from(v).unwrap_or(i128::MAX);
        Int::try_from(wide).map(Value::Integer)
    }
}

impl From<half::f16> for Value {
    fn from(v: half::f16) -> Value {
        Value::Float(v.to_f64())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

/// A record becomes the map it encodes to: text keys, field order kept.
impl From<Record> for Value {
    fn from(record: Record) -> Value {
        Value::Map(
            record
                .into_fields()
                .into_iter()
                .map(|(name, value)| (Value::Text(name), value))
                .collect(),
        )
    }
}

/// A map with text keys, none repeated, becomes a record in entry order.
/// Anything else is an [`InvalidInput`](crate::ErrorKind::InvalidInput) error.
impl TryFrom<Value> for Record {
    type Error = Error;
    fn try_from(value: Value) -> Result<Record, Error> {
        let Value::Map(entries) = value else {
            return Err(Error::invalid_input("a record must be a map"));
        };
        let mut record = Record::new();
        for (key, value) in entries {
            let Value::Text(name) = key else {
                return Err(Error::invalid_input(alloc::format!(
                    "a record field name must be text, found {key}"
                )));
            };
            if record.get(&name).is_some() {
                return Err(Error::invalid_input(alloc::format!(
                    "record field {name:?} appears twice"
                )));
            }
            record.insert(name, value);
        }
        Ok(record)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::Array(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl Value {
    /// True for `Null` and `Undefined`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null | Value::Undefined)
    }

    /// The text, if this is `Text`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer as `i64`, if this is an `Integer` that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => i.as_i64(),
            _ => None,
        }
    }

    /// The number as `f64`, for `Integer` and `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(i.as_f64()),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The map entry whose key is the text `key`, if this is a `Map`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}
