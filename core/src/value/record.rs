//! One row: named fields in insertion order.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::Value;

/// One row of a table: field name → [`Value`], in insertion order.
///
/// Lookups scan the fields; rows are short (tens of fields), where a scan
/// beats hashing and keeps the type `no_std` without a hasher.
///
/// Cloning is cheap: clones share the fields until one of them is changed
/// (copy on write), so the same row held by a view, the cache and an event
/// is one allocation, not one per holder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    fields: Arc<Vec<(String, Value)>>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// A record of `fields` as given; the caller has checked that no name
    /// repeats (the decoder does, in O(n log n) instead of `insert`'s O(n²)).
    pub(super) fn from_fields_unchecked(fields: Vec<(String, Value)>) -> Self {
        Record {
            fields: Arc::new(fields),
        }
    }

    /// The fields, to change them (copied first when shared).
    fn fields_mut(&mut self) -> &mut Vec<(String, Value)> {
        Arc::make_mut(&mut self.fields)
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, v)| v)
    }

    /// Set `field` to `value`, keeping its position if it existed (else
    /// appending). Returns the previous value.
    pub fn insert(&mut self, field: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        let field = field.into();
        let value = value.into();
        let fields = self.fields_mut();
        match fields.iter_mut().find(|(name, _)| *name == field) {
            Some((_, slot)) => Some(core::mem::replace(slot, value)),
            None => {
                fields.push((field, value));
                None
            }
        }
    }

    /// Builder form of [`insert`](Record::insert).
    pub fn with(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(field, value);
        self
    }

    /// Remove `field`, returning its value.
    pub fn remove(&mut self, field: &str) -> Option<Value> {
        let pos = self.fields.iter().position(|(name, _)| name == field)?;
        Some(self.fields_mut().remove(pos).1)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in insertion order, by value.
    pub fn into_fields(self) -> Vec<(String, Value)> {
        Arc::try_unwrap(self.fields).unwrap_or_else(|shared| (*shared).clone())
    }

    /// Fields in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Overwrite this record's fields with those of `patch` (new fields are
    /// appended), as a partial update does.
    pub fn merge(&mut self, patch: &Record) {
        if patch.is_empty() {
            return;
        }
        for (field, value) in patch.iter() {
            self.insert(field, value.clone());
        }
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Record {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut record = Record::new();
        for (k, v) in iter {
            record.insert(k, v);
        }
        record
    }
}

/// Build a [`Record`] from `field => value` pairs.
///
/// ```
/// use diorama_core::record;
/// let r = record! { "name" => "Lamp", "price" => 19.5, "stock" => 3 };
/// assert_eq!(r.len(), 3);
/// ```
#[macro_export]
macro_rules! record {
    () => { $crate::value::Record::new() };
    ($($field:expr => $value:expr),+ $(,)?) => {{
        let mut record = $crate::value::Record::new();
        $( record.insert($field, $value); )+
        record
    }};
}
