//! Case-insensitive text matching: search and `Like`.
//!
//! Case folding is per character (a character's lower case when that is a
//! single character, else the character itself), compared on the fly so
//! matching never allocates a lowered copy. It covers ASCII and the common
//! alphabets; multi-character foldings such as `ß` ↔ `ss` are not applied.

use alloc::string::String;
use core::fmt::Write;

use super::is_scalar;
use crate::value::{Record, Value};

/// The case folding of search and `Like`: `c` in lower case when that is a
/// single character, else `c` itself. Two characters match ignoring case
/// when their foldings are equal. Public so a source that pushes search
/// into its own query language can reproduce exactly this matching.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn same_folded(a: char, b: char) -> bool {
    a == b || fold_char(a) == fold_char(b)
}

/// True when `needle` occurs in `haystack`, ignoring case.
fn contains_folded(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        let needle = needle.as_bytes();
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack.char_indices().any(|(start, _)| {
        let mut rest = haystack[start..].chars();
        needle
            .chars()
            .all(|n| rest.next().is_some_and(|h| same_folded(h, n)))
    })
}

/// Write the text rendering of a scalar into `buf` (cleared first) and
/// return it, or borrow it for text: numbers as Rust prints them (`42`,
/// `19.99`, a whole float without `.0`), booleans as `true` / `false`.
/// `None` for non-scalars.
pub(super) fn render<'a>(value: &'a Value, buf: &'a mut String) -> Option<&'a str> {
    if !is_scalar(value) {
        return None;
    }
    if let Value::Text(s) = value {
        return Some(s);
    }
    buf.clear();
    // Writing into a String cannot fail.
    let _ = match value {
        Value::Integer(i) => write!(buf, "{i}"),
        Value::Float(f) => write!(buf, "{f}"),
        Value::Bool(b) => write!(buf, "{b}"),
        _ => Ok(()),
    };
    Some(buf)
}

/// True when the rendering of scalar `value` matches the SQL `LIKE`
/// `pattern`: `%` matches any run of characters (also none), `_` exactly one
/// character, `\` makes the next character literal (a trailing `\` is
/// literal); everything else matches itself, ignoring case, and the whole
/// text must match. Null, missing and non-scalar values never match.
/// `buf` is scratch space for rendering numbers (reuse it across calls).
pub(super) fn like_value(value: Option<&Value>, pattern: &str, buf: &mut String) -> bool {
    value
        .and_then(|v| render(v, buf))
        .is_some_and(|text| like_matches(text, pattern))
}

enum Token {
    Any,
    One,
    Literal(char),
}

/// The pattern token at byte `at` and the byte index after it.
fn token(pattern: &str, at: usize) -> Option<(Token, usize)> {
    let mut chars = pattern[at..].chars();
    let c = chars.next()?;
    let next = at + c.len_utf8();
    Some(match c {
        '%' => (Token::Any, next),
        '_' => (Token::One, next),
        '\\' => match chars.next() {
            Some(escaped) => (Token::Literal(escaped), next + escaped.len_utf8()),
            None => (Token::Literal('\\'), next),
        },
        other => (Token::Literal(other), next),
    })
}

/// SQL `LIKE` of `text` against `pattern`, case-insensitive (see
/// [`matches_condition`](super::matches_condition) for the syntax).
///
/// Greedy matching with one backtrack point (the last `%`), which is
/// complete for `%` / `_` patterns: O(text × pattern) at worst, no
/// allocation.
pub fn like_matches(text: &str, pattern: &str) -> bool {
    let (mut p, mut t) = (0, 0);
    // After the last `%` seen: (pattern index after it, text index it resumes at).
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match token(pattern, p) {
            Some((Token::Any, next)) => {
                star = Some((next, t));
                p = next;
                continue;
            }
            Some((Token::One, next)) => text[t..].chars().next().map(|c| (next, c.len_utf8())),
            Some((Token::Literal(expected), next)) => text[t..]
                .chars()
                .next()
                .filter(|&c| same_folded(c, expected))
                .map(|c| (next, c.len_utf8())),
            None => None,
        };
        match (step, star) {
            (Some((next, width)), _) => {
                p = next;
                t += width;
            }
            (None, Some((after_star, resume))) => {
                // Let the `%` swallow one more character and retry.
                let width = text[resume..].chars().next().map_or(1, char::len_utf8);
                star = Some((after_star, resume + width));
                p = after_star;
                t = resume + width;
            }
            (None, None) => return false,
        }
    }
    while let Some((Token::Any, next)) = token(pattern, p) {
        p = next;
    }
    p == pattern.len()
}

/// A search needle ready to test many records, reusing one scratch buffer.
///
/// A record matches when the needle occurs, ignoring case, in the text
/// rendering of any scalar in it: text, numbers as written (`42`, `19.99`),
/// booleans (`true`), including scalars nested in arrays, map values and
/// tags. Field names and map keys are not searched; null, bytes and simple
/// values have no text. An empty needle matches every record.
#[derive(Debug)]
pub struct SearchMatcher<'n> {
    needle: &'n str,
    buf: String,
}

impl<'n> SearchMatcher<'n> {
    /// A matcher for `needle`.
    pub fn new(needle: &'n str) -> Self {
        SearchMatcher {
            needle,
            buf: String::new(),
        }
    }

    /// True when `record` contains the needle (see the type docs).
    pub fn matches(&mut self, record: &Record) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        record.iter().any(|(_, value)| self.matches_value(value))
    }

    /// True when `value` or anything nested in it contains the needle.
    pub fn matches_value(&mut self, value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(|item| self.matches_value(item)),
            Value::Map(entries) => entries.iter().any(|(_, item)| self.matches_value(item)),
            Value::Tag(_, inner) => self.matches_value(inner),
            scalar => {
                render(scalar, &mut self.buf).is_some_and(|text| contains_folded(text, self.needle))
            }
        }
    }
}

/// True when `record` contains `needle` case-insensitively in the text of
/// any scalar, nested ones included, field names excluded (see
/// [`SearchMatcher`], which also serves many records without reallocating).
pub fn matches_search(record: &Record, needle: &str) -> bool {
    SearchMatcher::new(needle).matches(record)
}
