//! Field lookup by name or dotted path.

use crate::value::{Record, Value};

/// The value at `path` in `record`.
///
/// A field whose literal name is `path` wins (so a field named `"a.b"` is
/// found as itself). Otherwise `path` is split at a dot and the part before
/// it names a field (longest such name first), the rest is looked up inside
/// that field's value the same way: a text key of a map, or a decimal index
/// into an array (`"tags.0"`). Tags are looked through. `None` when nothing
/// matches.
pub fn lookup<'a>(record: &'a Record, path: &str) -> Option<&'a Value> {
    if let Some(value) = record.get(path) {
        return Some(value);
    }
    for (dot, _) in path.rmatch_indices('.') {
        if let Some(value) = record.get(&path[..dot])
            && let Some(found) = lookup_in(value, &path[dot + 1..])
        {
            return Some(found);
        }
    }
    None
}

/// [`lookup`] inside a nested value.
fn lookup_in<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(found) = child(value, path) {
        return Some(found);
    }
    for (dot, _) in path.rmatch_indices('.') {
        if let Some(inner) = child(value, &path[..dot])
            && let Some(found) = lookup_in(inner, &path[dot + 1..])
        {
            return Some(found);
        }
    }
    None
}

/// One step down: a map entry with the text key `name`, or array element
/// number `name`.
fn child<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Map(_) => value.get(name),
        Value::Array(items) => name.parse::<usize>().ok().and_then(|i| items.get(i)),
        Value::Tag(_, inner) => child(inner, name),
        _ => None,
    }
}
