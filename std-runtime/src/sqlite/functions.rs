//! The two SQL functions registered on every connection, so `Like` and
//! search run inside SQLite (with `LIMIT`, `OFFSET` and `count(*)`) yet mean
//! exactly what [`diorama_core::vista::eval`] means.
//!
//! SQLite's own `LIKE` folds ASCII case only and `CAST(x AS TEXT)` writes
//! floats as `7.0` and to 15 digits, so neither can match the local
//! evaluation (Unicode single-character folding, numbers as Rust prints
//! them). These functions call the core's matchers instead:
//!
//! - `diorama_like(value, pattern)`: [`eval::like_matches`] over the text
//!   rendering of `value` (text, integers, reals); NULL and BLOB never match.
//! - `diorama_search(needle, v1, v2, ...)`: [`SearchMatcher`] over each
//!   value; true when any contains the needle.

use std::cell::RefCell;
use std::fmt::Write;

use diorama_core::value::Value;
use diorama_core::vista::eval::{self, SearchMatcher};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error as SqlError};

/// Name of the `Like` function.
pub(crate) const LIKE: &str = "diorama_like";
/// Name of the search function.
pub(crate) const SEARCH: &str = "diorama_search";

/// Register both functions on `conn`, and `rarray` (a table of a bound
/// list of values, which a search's sorted window reads its matches from).
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    rusqlite::vtab::array::load_module(conn)?;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(LIKE, 2, flags, {
        let buf = RefCell::new(String::new());
        move |ctx| {
            let pattern = text_arg(ctx, 1)?;
            let mut buf = buf.borrow_mut();
            Ok(match render(ctx.get_raw(0), &mut buf)? {
                Some(text) => eval::like_matches(text, pattern),
                None => false,
            })
        }
    })?;
    conn.create_scalar_function(SEARCH, -1, flags, {
        // One text value reused across rows, so a text cell is copied into
        // an existing buffer instead of a fresh allocation.
        let scratch = RefCell::new(Value::Text(String::new()));
        move |ctx| {
            // The needle is the same for every row of a statement: checked
            // once and kept with it (SQLite's auxiliary data), so a 60 kB
            // needle is not validated again for each row.
            let needle: std::sync::Arc<String> = ctx.get_or_create_aux(0, |value| match value {
                ValueRef::Text(bytes) => std::str::from_utf8(bytes)
                    .map(str::to_owned)
                    .map_err(|_| "text that is not UTF-8"),
                _ => Err("argument 0 must be text"),
            })?;
            let mut matcher = SearchMatcher::new(&needle);
            let mut scratch = scratch.borrow_mut();
            for at in 1..ctx.len() {
                let hit = match ctx.get_raw(at) {
                    ValueRef::Integer(i) => matcher.matches_value(&Value::from(i)),
                    ValueRef::Real(f) => matcher.matches_value(&Value::Float(f)),
                    ValueRef::Text(bytes) => {
                        if let Value::Text(buf) = &mut *scratch {
                            buf.clear();
                            buf.push_str(utf8(bytes)?);
                        }
                        matcher.matches_value(&scratch)
                    }
                    // NULL and BLOB have no text.
                    ValueRef::Null | ValueRef::Blob(_) => false,
                };
                if hit {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    })?;
    Ok(())
}

/// The text rendering `eval` gives a scalar: text as is, integers in
/// decimal, reals as Rust's `Display` writes an `f64` (`7`, `19.99`, `inf`).
/// `None` for NULL and BLOB, which have none.
pub(crate) fn render<'a>(
    value: ValueRef<'a>,
    buf: &'a mut String,
) -> rusqlite::Result<Option<&'a str>> {
    buf.clear();
    // Writing into a String cannot fail.
    Ok(match value {
        ValueRef::Text(bytes) => Some(utf8(bytes)?),
        ValueRef::Integer(i) => {
            let _ = write!(buf, "{i}");
            Some(buf)
        }
        ValueRef::Real(f) => {
            let _ = write!(buf, "{f}");
            Some(buf)
        }
        ValueRef::Null | ValueRef::Blob(_) => None,
    })
}

fn text_arg<'a>(ctx: &'a Context<'_>, at: usize) -> rusqlite::Result<&'a str> {
    match ctx.get_raw(at) {
        ValueRef::Text(bytes) => utf8(bytes),
        _ => Err(SqlError::UserFunctionError(
            format!("argument {at} must be text").into(),
        )),
    }
}

fn utf8(bytes: &[u8]) -> rusqlite::Result<&str> {
    std::str::from_utf8(bytes)
        .map_err(|_| SqlError::UserFunctionError("text that is not UTF-8".into()))
}
