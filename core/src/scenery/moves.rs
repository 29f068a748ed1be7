//! Rows that move when their key changes, in a paged view's loaded rows.
//!
//! A paged view holds only some of the set, at the positions the master's
//! order gave them. When a row changes, [`re_place`] moves it among the
//! loaded rows: it leaves its old index (the rows after it close up) and
//! enters where its new key falls between loaded neighbours (the rows from
//! there open up). Where that is not between two adjacent loaded rows —
//! a hole, or past everything loaded — the row is not shown (its index
//! there is unknown), the count is kept, and the hole it leaves is filled
//! by the master when a viewport needs it. A row that stops matching the
//! query only leaves (the count shrinks); one that starts matching only
//! enters (the count grows). So a row never shows twice and the loaded
//! rows stay in order.
//!
//! When the row was not loaded, where it was is known only from a value
//! it had: the one it departed with, or the master's own value read before
//! its write was sent (the row sits in the hole that key falls in, and one
//! whose key does not change stays there). Otherwise where it was is
//! unknown, and so is which loaded rows moved: [`Replaced::Unknown`] tells
//! the caller to revalidate what is loaded from the master.
//!
//! Pure (no I/O, no time): tested directly, with a property test.

use alloc::sync::Arc;
use core::cmp::Ordering;

use super::EnrichedRecord;
use super::extent::Extent;
use super::sparse::SparseRows;
use crate::vista::Sort;

/// What [`re_place`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replaced {
    /// Nothing visible changed.
    Unchanged,
    /// The row changed where it was shown.
    InPlace,
    /// Rows moved, left or entered; holes may need the master.
    Moved,
    /// Rows moved and the row is in the set but not shown (its key fell in
    /// a hole or past the loaded rows): the caller keeps it as departed,
    /// so a later change knows where it was.
    Departed,
    /// The row is in the set, not shown, and stays where it was (its key
    /// did not change): nothing moved. The caller keeps it as departed
    /// with its new value.
    Hidden,
    /// Where the row was is unknown: which loaded rows moved is too.
    Unknown,
}

/// What is known of a row that is not loaded, from before the change.
#[derive(Clone, Debug)]
pub(crate) enum Before {
    /// Not in the set (a new row).
    Absent,
    /// In the set, not shown, as this row: the value it departed from
    /// the loaded rows with, or the master's value before its write (its
    /// key says in which hole it is).
    Departed(Arc<EnrichedRecord>),
    /// Nothing is known.
    Unknown,
}

/// The view's order: the sort key, ties by id — the order every master
/// of the library serves (see `vista::eval::compare_rows`).
fn key_order(sort: &Sort, a: &EnrichedRecord, b: &EnrichedRecord) -> Ordering {
    super::sorted::order(Some(sort), a, b)
}

/// Re-place row `id` after a change. `row` is how it is shown now, `None`
/// when it no longer matches the query (or is gone); `before` says what is
/// known of the row when it is not loaded. `sort` is the query's sort
/// (`None`: the master's order, in which a change never moves a row).
pub(crate) fn re_place(
    rows: &mut SparseRows,
    extent: &mut Extent,
    sort: Option<&Sort>,
    id: &str,
    row: Option<Arc<EnrichedRecord>>,
    before: Before,
) -> Replaced {
    let old = rows.index_of(id);
    if let (Some(at), Some(row)) = (old, &row)
        && stays(rows, extent, sort, at, row)
    {
        let unchanged = rows.get(at).is_some_and(|shown| **shown == **row);
        if unchanged {
            return Replaced::Unchanged;
        }
        rows.set(at, row.clone());
        return Replaced::InPlace;
    }
    if let (None, Before::Departed(departed), Some(row)) = (old, &before, &row)
        && sort.is_none_or(|sort| key_order(sort, departed, row) == Ordering::Equal)
    {
        // Still a member under the same key: in the same place of the
        // master's order (which, without a sort, a change never alters).
        return Replaced::Hidden;
    }
    let member = match (old, &before) {
        (Some(at), _) => {
            rows.take(at);
            rows.close_up_after(at);
            true
        }
        (None, Before::Absent) => false,
        (None, Before::Departed(departed)) => {
            let Some(sort) = sort else {
                return Replaced::Unknown;
            };
            if !leave_hole(rows, sort, departed) {
                return Replaced::Unknown;
            }
            true
        }
        (None, Before::Unknown) => return Replaced::Unknown,
    };
    match (member, row) {
        (false, None) => Replaced::Unchanged,
        (true, None) => {
            extent.shrink();
            Replaced::Moved
        }
        (member, Some(row)) => {
            if !member {
                extent.grow();
            }
            let Some(sort) = sort else {
                // The master's order: where a new member goes is unknown.
                return Replaced::Unknown;
            };
            if enter(rows, extent, sort, row) {
                Replaced::Moved
            } else {
                Replaced::Departed
            }
        }
    }
}

/// Undo where a departed row (shown as `departed` when it left) sat in a
/// hole: the loaded rows after it close up. False when the loaded rows
/// around its key are not a hole any more (then where it is is unknown).
fn leave_hole(rows: &mut SparseRows, sort: &Sort, departed: &EnrichedRecord) -> bool {
    let next = rows
        .iter()
        .find(|(_, shown)| key_order(sort, departed, shown) == Ordering::Less)
        .map(|(i, _)| i);
    match next {
        // Past every loaded row: nothing loaded made room for it.
        None => true,
        Some(0) => false,
        Some(next) if rows.get(next - 1).is_some() => false,
        Some(next) => {
            rows.close_up_after(next - 1);
            true
        }
    }
}

/// Whether `row`, shown at `at`, is still in order with its neighbours.
/// A loaded neighbour is compared; an unloaded one (a hole) is known only
/// through the row's old key: the rows in a hole before it were no greater
/// than the old key, so a key that did not go down stays in order with
/// them (and the other way round after it).
fn stays(
    rows: &SparseRows,
    extent: &Extent,
    sort: Option<&Sort>,
    at: usize,
    row: &EnrichedRecord,
) -> bool {
    let Some(sort) = sort else { return true };
    let Some(old) = rows.get(at) else {
        return false;
    };
    let change = key_order(sort, old, row);
    if change == Ordering::Equal {
        return true;
    }
    let before_ok = match at.checked_sub(1) {
        None => true,
        Some(i) => match rows.get(i) {
            Some(before) => key_order(sort, before, row) != Ordering::Greater,
            None => change == Ordering::Less,
        },
    };
    let last = extent.limit().is_some_and(|limit| at + 1 >= limit);
    let after_ok = last
        || match rows.get(at + 1) {
            Some(after) => key_order(sort, row, after) != Ordering::Greater,
            None => change == Ordering::Greater,
        };
    before_ok && after_ok
}

/// Put `row` (a member, not loaded) where its key falls among the loaded
/// rows: between two adjacent loaded rows it is shown there; in a hole it
/// is not shown, but the rows after it open up all the same. Returns
/// whether it is shown.
fn enter(rows: &mut SparseRows, extent: &Extent, sort: &Sort, row: Arc<EnrichedRecord>) -> bool {
    let mut previous: Option<usize> = None;
    let mut next: Option<usize> = None;
    for (i, shown) in rows.iter() {
        if key_order(sort, &row, shown) == Ordering::Less {
            next = Some(i);
            break;
        }
        previous = Some(i);
    }
    let at = match (previous, next) {
        (previous, Some(next)) => {
            rows.open_up_at(next);
            let adjacent = match previous {
                Some(previous) => previous + 1 == next,
                None => next == 0,
            };
            adjacent.then_some(next)
        }
        // Past every loaded row: shown only right after the last row of
        // the set (the set's end is known and nothing lies between).
        (Some(last), None) => extent
            .limit()
            .is_some_and(|limit| last + 2 == limit)
            .then_some(last + 1),
        (None, None) => (extent.limit() == Some(1)).then_some(0),
    };
    match at {
        Some(at) => {
            rows.set(at, row);
            true
        }
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::value::{Record, Value};
    use crate::vista::SortDir;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn row(id: &str, price: Option<i64>) -> Arc<EnrichedRecord> {
        let mut record = Record::new();
        if let Some(price) = price {
            record.insert("price", Value::from(price));
        }
        Arc::new(EnrichedRecord::fresh(id.into(), record, None))
    }

    fn by_price() -> Sort {
        Sort {
            field: "price".into(),
            dir: SortDir::Asc,
        }
    }

    /// A master of `n` rows `r00..` priced 10, 20, …, with `loaded` held.
    fn view(n: usize, loaded: &[core::ops::Range<usize>]) -> (SparseRows, Extent) {
        let mut rows = SparseRows::default();
        for range in loaded {
            for i in range.clone() {
                rows.set(i, row(&format!("r{i:02}"), Some(i as i64 * 10)));
            }
        }
        let mut extent = Extent::default();
        extent.state_total(n);
        (rows, extent)
    }

    fn shown(rows: &SparseRows, range: core::ops::Range<usize>) -> Vec<Option<String>> {
        range.map(|i| rows.get(i).map(|r| r.id.clone())).collect()
    }

    fn ids(list: &[Option<&str>]) -> Vec<Option<String>> {
        list.iter().map(|id| id.map(String::from)).collect()
    }

    #[test]
    fn a_row_moves_down_within_the_loaded_rows() {
        let (mut rows, mut extent) = view(10, &[0..10]);
        let moved = re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r01",
            Some(row("r01", Some(55))),
            Before::Unknown,
        );
        assert_eq!(moved, Replaced::Moved);
        assert_eq!(
            shown(&rows, 0..10),
            ids(&[
                Some("r00"),
                Some("r02"),
                Some("r03"),
                Some("r04"),
                Some("r05"),
                Some("r01"),
                Some("r06"),
                Some("r07"),
                Some("r08"),
                Some("r09")
            ])
        );
        assert_eq!(extent.row_count(), 10);
    }

    #[test]
    fn a_tie_or_a_key_in_order_changes_in_place() {
        let (mut rows, mut extent) = view(10, &[0..10]);
        let tie = re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r05",
            Some(row("r05", Some(60))),
            Before::Unknown,
        );
        assert_eq!(
            tie,
            Replaced::InPlace,
            "a tie with the next row, broken by id"
        );
        assert_eq!(rows.index_of("r05"), Some(5));
        assert_eq!(
            re_place(
                &mut rows,
                &mut extent,
                Some(&by_price()),
                "r05",
                Some(row("r05", Some(60))),
                Before::Unknown
            ),
            Replaced::Unchanged
        );
    }

    #[test]
    fn a_row_landing_past_the_loaded_rows_leaves_a_hole_and_keeps_the_count() {
        // 0..10 loaded of 100: r02 becomes the most expensive.
        let (mut rows, mut extent) = view(100, &[0..10]);
        let moved = re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r02",
            Some(row("r02", Some(9999))),
            Before::Unknown,
        );
        assert_eq!(moved, Replaced::Departed);
        assert_eq!(
            rows.index_of("r02"),
            None,
            "its index is unknown: not shown"
        );
        assert_eq!(
            shown(&rows, 0..10)[..9],
            ids(&[
                Some("r00"),
                Some("r01"),
                Some("r03"),
                Some("r04"),
                Some("r05"),
                Some("r06"),
                Some("r07"),
                Some("r08"),
                Some("r09")
            ])[..]
        );
        assert!(rows.get(9).is_none(), "a hole the master fills");
        assert_eq!(extent.row_count(), 100);
    }

    #[test]
    fn a_row_landing_in_a_hole_opens_up_the_rows_after_it() {
        let (mut rows, mut extent) = view(100, &[0..10, 50..60]);
        // From 55 to between 5 and 6 (loaded neighbours): shown there.
        re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r55",
            Some(row("r55", Some(55))),
            Before::Unknown,
        );
        assert_eq!(rows.index_of("r55"), Some(6));
        assert_eq!(rows.index_of("r06"), Some(7));
        assert_eq!(rows.index_of("r09"), Some(10));
        assert_eq!(
            rows.index_of("r50"),
            Some(51),
            "rows up to its old index moved one up"
        );
        assert_eq!(rows.index_of("r54"), Some(55));
        assert_eq!(
            rows.index_of("r56"),
            Some(56),
            "rows after its old index stayed"
        );
        // From 3 into the hole between 10 and 51 (price 300): not shown.
        let departed = row("r03", Some(300));
        let outcome = re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r03",
            Some(departed.clone()),
            Before::Unknown,
        );
        assert_eq!(outcome, Replaced::Departed);
        assert_eq!(rows.index_of("r03"), None);
        assert_eq!(rows.index_of("r04"), Some(3));
        assert_eq!(
            rows.index_of("r50"),
            Some(51),
            "rows past the hole did not move"
        );
        assert_eq!(extent.row_count(), 100);
        // Its write failed: back from the hole to between r02 and r04.
        let outcome = re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r03",
            Some(row("r03", Some(30))),
            Before::Departed(departed),
        );
        assert_eq!(outcome, Replaced::Moved);
        assert_eq!(rows.index_of("r03"), Some(3));
        assert_eq!(rows.index_of("r04"), Some(4));
        assert_eq!(rows.index_of("r50"), Some(51));
    }

    #[test]
    fn nulls_sort_last() {
        let (mut rows, mut extent) = view(10, &[0..10]);
        re_place(
            &mut rows,
            &mut extent,
            Some(&by_price()),
            "r03",
            Some(row("r03", None)),
            Before::Unknown,
        );
        assert_eq!(rows.index_of("r03"), Some(9), "the last row of a known set");
    }

    #[test]
    fn leaving_and_entering_the_query_change_the_count() {
        let (mut rows, mut extent) = view(10, &[0..10]);
        assert_eq!(
            re_place(
                &mut rows,
                &mut extent,
                Some(&by_price()),
                "r04",
                None,
                Before::Unknown
            ),
            Replaced::Moved
        );
        assert_eq!(extent.row_count(), 9);
        assert_eq!(rows.index_of("r05"), Some(4));
        assert_eq!(
            re_place(
                &mut rows,
                &mut extent,
                Some(&by_price()),
                "new",
                Some(row("new", Some(15))),
                Before::Absent
            ),
            Replaced::Moved
        );
        assert_eq!(extent.row_count(), 10);
        assert_eq!(rows.index_of("new"), Some(2));
        assert_eq!(rows.index_of("r09"), Some(9));
        assert_eq!(
            re_place(
                &mut rows,
                &mut extent,
                Some(&by_price()),
                "gone",
                None,
                Before::Absent
            ),
            Replaced::Unchanged
        );
        assert_eq!(
            re_place(
                &mut rows,
                &mut extent,
                Some(&by_price()),
                "elsewhere",
                Some(row("elsewhere", Some(1))),
                Before::Unknown
            ),
            Replaced::Unknown,
            "not loaded, membership unknown"
        );
    }

    proptest::proptest! {
        /// After any sequence of key changes on a sorted paged view (of
        /// rows whose old value is known from the master, or not), the
        /// loaded rows are in order, unique, at their true index in the
        /// master's order, and the count is the master's.
        #[test]
        fn loaded_rows_stay_ordered_unique_and_where_the_master_has_them(
            n in 5usize..40,
            loaded in proptest::collection::vec((0usize..40, 1usize..12), 1..4),
            changes in proptest::collection::vec(
                (0usize..40, proptest::option::of(-50i64..500), proptest::bool::ANY),
                1..30,
            ),
        ) {
            let mut master: Vec<(String, Option<i64>)> =
                (0..n).map(|i| (format!("r{i:02}"), Some(i as i64 * 10))).collect();
            let mut rows = SparseRows::default();
            for (start, len) in &loaded {
                for i in (*start..start + len).filter(|i| *i < n) {
                    rows.set(i, row(&master[i].0, master[i].1));
                }
            }
            let mut extent = Extent::default();
            extent.state_total(n);
            let sort = by_price();
            let sort_master = |master: &mut Vec<(String, Option<i64>)>| {
                master.sort_by(|a, b| {
                    super::super::sorted::order(Some(&sort), &row(&a.0, a.1), &row(&b.0, b.1))
                });
            };
            let mut departed: alloc::collections::BTreeMap<String, Arc<EnrichedRecord>> =
                alloc::collections::BTreeMap::new();
            for (pick, price, known) in changes {
                let id = master[pick % n].0.clone();
                let mut old = None;
                for entry in master.iter_mut().filter(|(i, _)| *i == id) {
                    old = Some(row(&entry.0, entry.1));
                    entry.1 = price;
                }
                sort_master(&mut master);
                let before = match (departed.remove(&id), old) {
                    (Some(row), _) => Before::Departed(row),
                    (None, Some(old)) if known => Before::Departed(old),
                    (None, _) => Before::Unknown,
                };
                let new = row(&id, price);
                let outcome = re_place(&mut rows, &mut extent, Some(&sort), &id, Some(new.clone()), before);
                if matches!(outcome, Replaced::Departed | Replaced::Hidden) {
                    departed.insert(id.clone(), new);
                }
                if outcome == Replaced::Unknown {
                    // The caller revalidates: here, reload what is held.
                    let held: Vec<usize> = rows.iter().map(|(i, _)| i).collect();
                    rows.clear();
                    departed.clear();
                    for i in held {
                        rows.set(i, row(&master[i].0, master[i].1));
                    }
                }
                let held: Vec<(usize, Arc<EnrichedRecord>)> =
                    rows.iter().map(|(i, r)| (i, r.clone())).collect();
                for pair in held.windows(2) {
                    proptest::prop_assert!(
                        super::super::sorted::order(Some(&sort), &pair[0].1, &pair[1].1) == Ordering::Less,
                        "in order and unique"
                    );
                }
                for (i, shown) in &held {
                    proptest::prop_assert_eq!(&shown.id, &master[*i].0, "row {} where the master has it", i);
                }
                proptest::prop_assert_eq!(extent.row_count(), n);
            }
        }
    }
}
