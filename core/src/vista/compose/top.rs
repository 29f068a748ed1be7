//! The top part of a composition (the overlay, the primary), read whole:
//! which ids it claims and which rows it shows.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use super::Layering;
use super::tombstone::is_tombstone;
use crate::value::Record;
use crate::vista::eval::{Filter, sort_rows};
use crate::vista::{Id, Query};

/// Every row of the top part, split into what it claims and what it shows.
///
/// A claimed id hides the bottom part's row of that id whatever the query:
/// an overlay row that no longer matches still hides its base row, and a
/// tombstone hides it without showing anything.
#[derive(Debug, Default)]
pub(super) struct Top {
    /// Every id the top part holds, tombstones included.
    claimed: BTreeSet<Id>,
    /// Shown rows, in the top part's order.
    rows: Vec<(Id, Record)>,
}

impl Top {
    /// The top part from its complete listing. Tombstones count only under
    /// [`Layering::Overlay`]; a repeated id keeps its first row.
    pub(super) fn new(listing: Vec<(Id, Record)>, layering: Layering) -> Self {
        let mut top = Top::default();
        for (id, record) in listing {
            if !top.claimed.insert(id.clone()) {
                continue;
            }
            if layering == Layering::Merge || !is_tombstone(&record) {
                top.rows.push((id, record));
            }
        }
        top
    }

    /// True when the top part has a row (or a tombstone) for `id`.
    pub(super) fn claims(&self, id: &str) -> bool {
        self.claimed.contains(id)
    }

    /// Every claimed id, in id order.
    pub(super) fn claimed_ids(&self) -> impl Iterator<Item = &Id> {
        self.claimed.iter()
    }

    /// The shown rows that satisfy the conditions and search of `query`,
    /// sorted by its sort, else in the top part's order.
    pub(super) fn matching(&self, query: &Query) -> Vec<(Id, Record)> {
        let mut rows: Vec<(Id, Record)> = if query.filters() {
            let mut filter = Filter::new(query);
            self.rows
                .iter()
                .filter(|(_, record)| filter.matches(record))
                .cloned()
                .collect()
        } else {
            self.rows.clone()
        };
        if let Some(sort) = &query.sort {
            sort_rows(&mut rows, sort);
        }
        rows
    }
}
