//! The total order over values and the row order of a sort.

use alloc::vec::Vec;
use core::cmp::Ordering;

use super::lookup;
use crate::value::{Int, Record, Value};
use crate::vista::{Id, Sort, SortDir};

/// A total order over every [`Value`], used by sorts and by the ordering
/// comparisons of conditions.
///
/// Values of different kinds order by a fixed rank:
/// `Null < Undefined < Bool < numbers < Text < Bytes < Array < Map < Tag < Simple`.
/// Within a kind:
///
/// - numbers (`Integer` and `Float` together) by numeric value, exactly:
///   `1 == 1.0`, and `2^64 - 1` vs a nearby float compares without rounding
///   the integer; `-0.0 == 0.0`; every NaN is equal to every other NaN and
///   greater than all other numbers (including infinity);
/// - `false < true`;
/// - text by its UTF-8 bytes (code-point order, case-sensitive), bytes
///   lexicographically;
/// - arrays element by element, then shorter first; maps entry by entry (key,
///   then value), then shorter first;
/// - tags by tag number, then by the tagged value; simple values by number.
///
/// Sorts put nulls last regardless of this rank (see [`compare_sort_keys`]).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => compare_floats(*x, *y),
        (Value::Integer(x), Value::Float(y)) => compare_int_float(*x, *y),
        (Value::Float(x), Value::Integer(y)) => compare_int_float(*y, *x).reverse(),
        (Value::Text(x), Value::Text(y)) => x.as_str().cmp(y.as_str()),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => compare_seq(x, y, compare_values),
        (Value::Map(x), Value::Map(y)) => compare_seq(x, y, |(ka, va), (kb, vb)| {
            compare_values(ka, kb).then_with(|| compare_values(va, vb))
        }),
        (Value::Tag(ta, x), Value::Tag(tb, y)) => ta.cmp(tb).then_with(|| compare_values(x, y)),
        (Value::Simple(x), Value::Simple(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// The kind rank of [`compare_values`]; equal for kinds compared by value
/// (`Integer` and `Float` share one).
pub(super) fn rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Undefined => 1,
        Value::Bool(_) => 2,
        Value::Integer(_) | Value::Float(_) => 3,
        Value::Text(_) => 4,
        Value::Bytes(_) => 5,
        Value::Array(_) => 6,
        Value::Map(_) => 7,
        Value::Tag(..) => 8,
        Value::Simple(_) => 9,
    }
}

fn compare_seq<T>(a: &[T], b: &[T], mut cmp: impl FnMut(&T, &T) -> Ordering) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = cmp(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn compare_floats(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        // Neither is NaN, so `partial_cmp` answers (and -0.0 == 0.0).
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// `i` against `f` without rounding either: converting a CBOR integer (up to
/// 2^64 in magnitude) to `f64` would round above 2^53.
fn compare_int_float(i: Int, f: f64) -> Ordering {
    // 2^65: beyond every CBOR integer, and every float this large is whole.
    const LIMIT: f64 = 36_893_488_147_419_103_232.0;
    if f.is_nan() {
        return Ordering::Less;
    }
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f <= -LIMIT {
        return Ordering::Greater;
    }
    // |f| < 2^65, so its integer part fits an i128 exactly and is itself a
    // representable float; the fraction left over is exact too.
    let whole = f as i128;
    match i.get().cmp(&whole) {
        Ordering::Equal => {
            let fraction = f - whole as f64;
            if fraction > 0.0 {
                Ordering::Less
            } else if fraction < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

/// The order of two rows under a sort on values `a` and `b` (already looked
/// up; `None` for a missing field): null and missing values last in both
/// directions, the others by [`compare_values`] (reversed for `Desc`), and
/// ties — including two nulls — broken by id ascending in both directions.
///
/// Use it to sort row shapes other than `(Id, Record)`.
pub fn compare_sort_keys(
    a: Option<&Value>,
    a_id: &str,
    b: Option<&Value>,
    b_id: &str,
    dir: SortDir,
) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    let primary = match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => match dir {
            SortDir::Asc => compare_values(a, b),
            SortDir::Desc => compare_values(b, a),
        },
    };
    primary.then_with(|| a_id.cmp(b_id))
}

/// The order of rows `(a_id, a)` and `(b_id, b)` under `sort` (see
/// [`compare_sort_keys`]).
pub fn compare_rows(a_id: &str, a: &Record, b_id: &str, b: &Record, sort: &Sort) -> Ordering {
    compare_sort_keys(
        lookup(a, &sort.field),
        a_id,
        lookup(b, &sort.field),
        b_id,
        sort.dir,
    )
}

/// Sort `rows` by `sort` (see [`compare_sort_keys`]). Each row's sort value
/// is looked up once, not once per comparison.
pub fn sort_rows(rows: &mut [(Id, Record)], sort: &Sort) {
    sort_rows_by(rows, sort, |(id, record)| (id.as_str(), record));
}

/// Sort any row shape by `sort`: `row` returns an item's id and record.
/// Each row's sort value is looked up once, not once per comparison.
pub fn sort_rows_by<T>(rows: &mut [T], sort: &Sort, row: impl Fn(&T) -> (&str, &Record)) {
    let order: Vec<usize> = {
        // Keys sit next to their index so comparisons touch contiguous memory.
        let mut keyed: Vec<(Option<&Value>, &str, usize)> = rows
            .iter()
            .enumerate()
            .map(|(at, item)| {
                let (id, record) = row(item);
                (lookup(record, &sort.field), id, at)
            })
            .collect();
        keyed.sort_unstable_by(|&(a, a_id, x), &(b, b_id, y)| {
            compare_sort_keys(a, a_id, b, b_id, sort.dir).then(x.cmp(&y))
        });
        keyed.into_iter().map(|(_, _, at)| at).collect()
    };
    permute(rows, &order);
}

/// Rearrange `items` so position `k` holds the item that was at `order[k]`,
/// in place by following the permutation's cycles.
fn permute<T>(items: &mut [T], order: &[usize]) {
    let mut placed = alloc::vec![false; items.len()];
    for start in 0..items.len() {
        if placed[start] {
            continue;
        }
        let mut at = start;
        loop {
            placed[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}
