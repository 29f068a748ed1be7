//! Search and `Like` inside PostgreSQL with exactly the meaning of
//! [`diorama_core::vista::eval`]: the same text for every value, the same
//! case folding, the same pattern syntax.
//!
//! PostgreSQL's own tools differ: `ILIKE` and `lower()` fold by the
//! database's locale (only ASCII under `C`), and a `double precision`
//! renders as `1e+20` where Rust writes `100000000000000000000`. So:
//!
//! - **Folding.** The needle (or pattern) becomes a regular expression in
//!   which each character is the class of every character that folds like
//!   it ([`fold_char`]: `k` is `[kK\u212a]`, with the Kelvin sign), matched
//!   case-sensitively with `~` under the `C` collation. Two characters
//!   match in eval exactly when their foldings are equal, so the class
//!   matches exactly the characters eval accepts. The classes are computed
//!   once, over every Unicode scalar value.
//! - **Rendering.** Each column is compared through the text eval renders
//!   for its value: integers in decimal, booleans as `true` / `false`, and
//!   doubles as Rust's `Display` prints them (see [`render_float`]).
//! - **Patterns.** `%`, `_` and `\` escapes become `.*`, `.` and the
//!   escaped character, anchored at both ends.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use diorama_core::vista::eval::fold_char;

use super::schema::Kind;

/// The longest needle or pattern, in characters, pushed as a regular
/// expression (PostgreSQL refuses too complex ones); longer ones are
/// evaluated locally.
pub(crate) const MAX_PATTERN_CHARS: usize = 1000;

/// Every character of each folding class with more than one member, by
/// the folding they share.
static CLASSES: LazyLock<HashMap<char, Vec<char>>> = LazyLock::new(|| {
    let mut classes: HashMap<char, Vec<char>> = HashMap::new();
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let folded = fold_char(c);
        if folded != c {
            classes
                .entry(folded)
                .or_insert_with(|| vec![folded])
                .push(c);
        }
    }
    classes
});

/// One character of a regular expression: `c` written so no character is
/// special (ASCII letters and digits as themselves, the rest as `\u` /
/// `\U` escapes), valid inside and outside brackets.
fn escaped(c: char, out: &mut String) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else if (c as u32) <= 0xFFFF {
        let _ = write!(out, "\\u{:04x}", c as u32);
    } else {
        let _ = write!(out, "\\U{:08x}", c as u32);
    }
}

/// A regular expression matching exactly the characters that match `c`
/// ignoring case, as eval does.
fn folded_class(c: char, out: &mut String) {
    match CLASSES.get(&fold_char(c)) {
        Some(members) => {
            out.push('[');
            for &member in members {
                escaped(member, out);
            }
            out.push(']');
        }
        None => escaped(c, out),
    }
}

/// The regular expression of a search needle: the needle anywhere in the
/// text, ignoring case. `None` when it is too long to push.
pub(crate) fn search_regex(needle: &str) -> Option<String> {
    if needle.chars().count() > MAX_PATTERN_CHARS || needle.contains('\0') {
        return None;
    }
    let mut out = String::new();
    for c in needle.chars() {
        folded_class(c, &mut out);
    }
    Some(out)
}

/// One token of a `Like` pattern, as eval reads them: `%`, `_`, `\`
/// escaping the next character (a trailing `\` is literal), anything else
/// literal. Written again here, not shared, because the core keeps its
/// matcher's tokens private; the pushdown tests hold the two to the same
/// answers.
enum Token {
    Any,
    One,
    Literal(char),
}

fn tokens(pattern: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => Token::Any,
            '_' => Token::One,
            '\\' => Token::Literal(chars.next().unwrap_or('\\')),
            other => Token::Literal(other),
        });
    }
    out
}

/// The regular expression of a `Like` pattern: the whole text must match,
/// ignoring case. `None` when it is too long to push or holds NUL.
pub(crate) fn like_regex(pattern: &str) -> Option<String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS || pattern.contains('\0') {
        return None;
    }
    let mut out = String::from("^");
    for token in tokens(pattern) {
        match token {
            Token::Any => out.push_str(".*"),
            Token::One => out.push('.'),
            Token::Literal(c) => folded_class(c, &mut out),
        }
    }
    out.push('$');
    Some(out)
}

/// The text eval renders the value of column `quoted` (of `AS t`) as, under
/// the `C` collation; `None` for bytes, which have none.
pub(crate) fn rendered(quoted: &str, kind: Kind) -> Option<String> {
    let column = format!("t.{quoted}");
    Some(match kind {
        Kind::Bool => format!(
            "(CASE {column}::bool WHEN true THEN 'true' WHEN false THEN 'false' END) COLLATE \"C\""
        ),
        Kind::Int => format!("({column}::int8)::text COLLATE \"C\""),
        Kind::Float => format!(
            "({}) COLLATE \"C\"",
            render_float(&format!("{column}::float8"))
        ),
        Kind::Text | Kind::Other => format!("({column})::text COLLATE \"C\""),
        Kind::Bytes => return None,
    })
}

/// An SQL expression giving the text Rust's `Display` writes for the
/// double `x`: `inf`, `-inf`, `NaN`, `0`, `-0`, else the shortest digits
/// that read back as `x`, in plain notation (no exponent).
///
/// PostgreSQL prints the shortest digits too (sessions are opened with
/// `extra_float_digits = 3`), in exponent form past 15 digits, which a cast
/// through `numeric` writes out plainly. Where the two printers disagree
/// it is corrected, and nowhere else:
///
/// - A tie between two shortest candidates (the exact value lies halfway,
///   as `1273812973436447.25` between `…447.2` and `…447.3`): PostgreSQL
///   rounds to even, Rust up. Only a value whose exact expansion ends one
///   digit after the shortest can tie, which is checked exactly (scaling by
///   powers of two is exact), and then the next candidate up is taken.
/// - A candidate exactly on the boundary of the rounding interval: Rust
///   accepts it when the mantissa is even, PostgreSQL never. It can be
///   shorter than PostgreSQL's answer only for whole numbers between 2^53
///   and 2^130 (below, the boundary has more digits than the value; above,
///   it cannot end in enough zeros), where both boundaries are computed
///   exactly in `numeric`.
///
/// Checked against Rust on 60,000 doubles: every power of two, powers of
/// ten, random bit patterns, large integers, quarter values.
pub(crate) fn render_float(x: &str) -> String {
    RENDER_FLOAT.replace("{x}", x)
}

const RENDER_FLOAT: &str = "CASE \
WHEN {x} = 'Infinity'::float8 THEN 'inf' \
WHEN {x} = '-Infinity'::float8 THEN '-inf' \
WHEN {x} = 'NaN'::float8 THEN 'NaN' \
WHEN {x} = 0 THEN {x}::text \
WHEN abs({x}) >= 1.3611294676837539e39 THEN ({x}::text)::numeric::text \
WHEN abs({x}) < 9007199254740992 THEN (SELECT (CASE WHEN {x} < 0 THEN '-' ELSE '' END) || CASE \
WHEN dt.q > 0 \
AND abs({x}) * power(2::float8, dt.q + 1) = trunc(abs({x}) * power(2::float8, dt.q + 1)) \
AND abs({x}) * power(2::float8, dt.q) <> trunc(abs({x}) * power(2::float8, dt.q)) \
AND (abs({x}) * power(2::float8, dt.q + 1))::int8 * trunc(power(5::numeric, dt.q + 1)) \
= trunc(dt.r * trunc(power(10::numeric, dt.q))) * 10 + 5 \
THEN rtrim(rtrim(regexp_replace(lpad(dt.up, greatest(dt.q + 1, length(dt.up)), '0'), \
'(\\d{' || dt.q || '})$', '.\\1'), '0'), '.') \
ELSE dt.r::text END \
FROM (SELECT ds.r, scale(ds.r) AS q, (trunc(ds.r * trunc(power(10::numeric, scale(ds.r)))) + 1)::text AS up \
FROM (SELECT (abs({x})::text)::numeric AS r) AS ds) AS dt) \
ELSE (SELECT (CASE WHEN {x} < 0 THEN '-' ELSE '' END) || CASE \
WHEN dz.m % 2 = 1 THEN dz.r \
WHEN dz.hi = trunc(dz.hi) AND length(rtrim(trunc(dz.hi)::text, '0')) < length(rtrim(dz.r, '0')) THEN trunc(dz.hi)::text \
WHEN dz.lo = trunc(dz.lo) AND length(rtrim(trunc(dz.lo)::text, '0')) < length(rtrim(dz.r, '0')) THEN trunc(dz.lo)::text \
ELSE dz.r END \
FROM (SELECT dy.m, dy.r, dy.m * dy.u + dy.u / 2 AS hi, \
dy.m * dy.u - dy.u / CASE WHEN dy.m = 4503599627370496 THEN 4 ELSE 2 END AS lo \
FROM (SELECT (abs({x}) / power(2::float8, dx.e - 52))::int8 AS m, trunc(power(2::numeric, dx.e - 52)) AS u, \
(abs({x})::text)::numeric::text AS r \
FROM (SELECT CASE WHEN abs({x}) / power(2::float8, dw.e0 - 52) >= 9007199254740992 THEN dw.e0 + 1 \
WHEN abs({x}) / power(2::float8, dw.e0 - 52) < 4503599627370496 THEN dw.e0 - 1 ELSE dw.e0 END AS e \
FROM (SELECT floor(ln(abs({x})) / ln(2::float8))::int AS e0) AS dw) AS dx) AS dy) AS dz) \
END";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_hold_every_character_that_folds_alike() {
        let k = &CLASSES[&'k'];
        assert!(k.contains(&'k') && k.contains(&'K') && k.contains(&'\u{212A}'));
        assert_eq!(search_regex("k5").unwrap(), "[kK\\u212a]5");
        // A character nothing folds onto stands for itself.
        assert_eq!(search_regex("5").unwrap(), "5");
        assert_eq!(search_regex("%").unwrap(), "\\u0025");
    }

    #[test]
    fn like_patterns_follow_evals_tokens() {
        assert_eq!(like_regex("a%_").unwrap(), "^[aA].*.$");
        assert_eq!(like_regex("a\\%").unwrap(), "^[aA]\\u0025$");
        // A trailing backslash is literal.
        assert_eq!(like_regex("\\").unwrap(), "^\\u005c$");
        assert!(like_regex(&"x".repeat(MAX_PATTERN_CHARS + 1)).is_none());
        assert!(like_regex("a\0").is_none());
    }
}
