//! The rows of a local view: the whole matching set in the view's order,
//! kept in order as rows change.
//!
//! A changed row is found by binary search on its previous sort key (ties
//! by id, so the order is total) and re-placed by binary search on its new
//! one: one change costs O(log n) comparisons plus moving the rows between
//! its old and new index, never a re-sort. `get(i)` is one slice index.
//!
//! Pure data, no I/O: tested directly.

use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering;

use super::EnrichedRecord;
use crate::vista::{Sort, eval};

/// The view's order: `sort` (numeric across ints and floats, nulls last,
/// ties by id), else by id.
pub(crate) fn order(sort: Option<&Sort>, a: &EnrichedRecord, b: &EnrichedRecord) -> Ordering {
    match sort {
        Some(sort) => eval::compare_rows(&a.id, &a.record, &b.id, &b.record, sort),
        None => a.id.cmp(&b.id),
    }
}

/// A local view's rows in order, plus the row shown for each id.
#[derive(Clone, Debug, Default)]
pub(crate) struct SortedRows {
    order: Vec<Arc<EnrichedRecord>>,
    /// The rows by id (the row is its own key: no copy of the id per row).
    shown: BTreeSet<ById>,
    sort: Option<Sort>,
}

/// A row ordered and looked up by its id.
#[derive(Clone, Debug)]
struct ById(Arc<EnrichedRecord>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

impl PartialOrd for ById {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ById {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

impl Borrow<str> for ById {
    fn borrow(&self) -> &str {
        &self.0.id
    }
}

impl SortedRows {
    /// The rows of `rows` (any order; one per id) in the order of `sort`.
    pub(crate) fn new(sort: Option<Sort>, mut rows: Vec<Arc<EnrichedRecord>>) -> Self {
        match &sort {
            // Each row's key looked up once, not once per comparison.
            Some(sort) => eval::sort_rows_by(&mut rows, sort, |row| (&row.id, &row.record)),
            None => rows.sort_unstable_by(|a, b| a.id.cmp(&b.id)),
        }
        rows.dedup_by(|a, b| a.id == b.id);
        let shown = rows.iter().map(|row| ById(row.clone())).collect();
        SortedRows {
            order: rows,
            shown,
            sort,
        }
    }

    /// The row at `index`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&Arc<EnrichedRecord>> {
        self.order.get(index)
    }

    /// Rows in the set.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Every row, in order.
    pub(crate) fn rows(&self) -> &[Arc<EnrichedRecord>] {
        &self.order
    }

    /// The row shown for `id`.
    pub(crate) fn shown(&self, id: &str) -> Option<&Arc<EnrichedRecord>> {
        self.shown.get(id).map(|row| &row.0)
    }

    /// The index of row `id`: a binary search on the key it is shown with.
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        let row = self.shown.get(id)?;
        self.position(&row.0)
    }

    fn position(&self, row: &EnrichedRecord) -> Option<usize> {
        match self.search(row) {
            Ok(index) => Some(index),
            // Only if the order was broken: never trust a guess.
            Err(_) => self.order.iter().position(|shown| shown.id == row.id),
        }
    }

    fn search(&self, row: &EnrichedRecord) -> Result<usize, usize> {
        let sort = self.sort.as_ref();
        self.order.binary_search_by(|probe| order(sort, probe, row))
    }

    /// Show `row` for `id` (`None`: `id` leaves the set), where its key
    /// puts it. Returns whether anything changed.
    pub(crate) fn upsert(&mut self, id: &str, row: Option<Arc<EnrichedRecord>>) -> bool {
        let old = self.shown.get(id).and_then(|shown| self.position(&shown.0));
        match (old, row) {
            (None, None) => false,
            (Some(at), None) => {
                self.order.remove(at);
                self.shown.remove(id);
                true
            }
            (None, Some(row)) => {
                let at = match self.search(&row) {
                    Ok(at) | Err(at) => at,
                };
                self.order.insert(at, row.clone());
                self.shown.replace(ById(row));
                true
            }
            (Some(at), Some(row)) => {
                if *self.order[at] == *row {
                    return false;
                }
                // Where the new key falls, the old row still in place.
                let to = match self.search(&row) {
                    Ok(found) => found,
                    Err(slot) => slot,
                };
                let to = if to <= at {
                    self.order[to..=at].rotate_right(1);
                    to
                } else {
                    self.order[at..to].rotate_left(1);
                    to - 1
                };
                self.order[to] = row.clone();
                self.shown.replace(ById(row));
                true
            }
        }
    }

    /// Replace the row at `index` by `row`, same id and record (a status
    /// change: its place does not move).
    pub(crate) fn restate(&mut self, index: usize, row: Arc<EnrichedRecord>) {
        if let Some(slot) = self.order.get_mut(index)
            && slot.id == row.id
        {
            *slot = row.clone();
            self.shown.replace(ById(row));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Record, Value};
    use crate::vista::SortDir;
    use alloc::format;
    use alloc::string::String;

    fn row(id: &str, price: Option<i64>) -> Arc<EnrichedRecord> {
        let mut record = Record::new();
        if let Some(price) = price {
            record.insert("price", Value::from(price));
        }
        Arc::new(EnrichedRecord::fresh(id.into(), record, None))
    }

    fn by_price() -> Option<Sort> {
        Some(Sort {
            field: "price".into(),
            dir: SortDir::Asc,
        })
    }

    fn ids(rows: &SortedRows) -> Vec<String> {
        rows.rows().iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn a_changed_key_moves_the_row_both_ways_and_ties_break_by_id() {
        let mut rows = SortedRows::new(
            by_price(),
            (0..10)
                .map(|i| row(&format!("r{i}"), Some(i * 10)))
                .collect(),
        );
        assert!(rows.upsert("r1", Some(row("r1", Some(75)))));
        assert_eq!(
            ids(&rows),
            ["r0", "r2", "r3", "r4", "r5", "r6", "r7", "r1", "r8", "r9"]
        );
        assert_eq!(rows.index_of("r1"), Some(7));
        assert!(rows.upsert("r8", Some(row("r8", Some(-1)))));
        assert_eq!(rows.index_of("r8"), Some(0));
        // A tie: by id.
        assert!(rows.upsert("r9", Some(row("r9", Some(40)))));
        assert_eq!(rows.index_of("r4"), Some(4));
        assert_eq!(rows.index_of("r9"), Some(5));
        assert!(!rows.upsert("r9", Some(row("r9", Some(40)))), "unchanged");
    }

    #[test]
    fn nulls_go_last_and_rows_leave_and_enter() {
        let mut rows = SortedRows::new(
            by_price(),
            alloc::vec![row("a", Some(1)), row("b", None), row("c", Some(3))],
        );
        assert_eq!(ids(&rows), ["a", "c", "b"]);
        assert!(rows.upsert("c", Some(row("c", None))));
        assert_eq!(ids(&rows), ["a", "b", "c"], "nulls last, ties by id");
        assert!(rows.upsert("a", None));
        assert_eq!(ids(&rows), ["b", "c"]);
        assert_eq!(rows.index_of("a"), None);
        assert!(rows.upsert("d", Some(row("d", Some(0)))));
        assert_eq!(ids(&rows), ["d", "b", "c"]);
        assert!(!rows.upsert("zz", None));
    }

    proptest::proptest! {
        /// After any sequence of changes (keys changed, nulls, leaves and
        /// enters), the rows are those of a fresh sort, each found where it is.
        #[test]
        fn any_sequence_of_changes_keeps_the_order_of_a_fresh_sort(
            changes in proptest::collection::vec((0usize..40, proptest::option::of(proptest::option::of(-5i64..5))), 1..200)
        ) {
            let mut truth: alloc::collections::BTreeMap<String, Option<i64>> = alloc::collections::BTreeMap::new();
            let mut rows = SortedRows::new(by_price(), Vec::new());
            for (n, change) in changes {
                let id = format!("r{n:02}");
                match change {
                    None => {
                        truth.remove(&id);
                        rows.upsert(&id, None);
                    }
                    Some(price) => {
                        truth.insert(id.clone(), price);
                        rows.upsert(&id, Some(row(&id, price)));
                    }
                }
            }
            let fresh = SortedRows::new(
                by_price(),
                truth.iter().map(|(id, price)| row(id, *price)).collect(),
            );
            proptest::prop_assert_eq!(ids(&rows), ids(&fresh));
            for (i, r) in rows.rows().iter().enumerate() {
                proptest::prop_assert_eq!(rows.index_of(&r.id), Some(i));
            }
        }
    }
}
