//! What readers of a table view see: its rows, its extent and which query
//! they follow.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use super::super::super::extent::Extent;
use super::super::super::sorted::SortedRows;
use super::super::super::sparse::SparseRows;
use super::super::super::{EnrichedRecord, RowStatus};
use crate::vista::{Id, Query};

/// The rows of a table view and what is known of the set.
#[derive(Debug, Default)]
pub(crate) struct View {
    /// A paged view's rows, at their positions in the master's order.
    pub(crate) rows: SparseRows,
    /// A local view's rows: the whole set in order (`None` for paged views).
    pub(crate) sorted: Option<SortedRows>,
    pub(crate) extent: Extent,
    /// The first load has not finished yet.
    pub(crate) initial_pending: bool,
    /// The query changed: the next landing chunk replaces every row.
    pub(crate) replace_on_land: bool,
    /// The query whose order the rows shown follow: the previous one after
    /// a query change, until the new order's first window lands.
    pub(crate) shown_query: Query,
    /// What is known of rows not loaded, from their changes (see
    /// [`Place`]): where a later change of theirs moves the loaded rows
    /// from. Bounded.
    pub(crate) places: BTreeMap<Id, Place>,
}

/// What a view knows of a row it does not show, from its last change.
#[derive(Clone, Debug)]
pub(crate) enum Place {
    /// In the set, moved out of the loaded rows as this row: its key
    /// fell in a hole or past them (see `scenery::moves`).
    Departed(Arc<EnrichedRecord>),
    /// Its pending writes, as announced, change no field the query orders
    /// or filters by: wherever it is, they leave it there, so their
    /// echoes, landings and failures move no loaded row.
    Unmoved,
    /// Taken out of the set for its pending write: its landing moves
    /// nothing more.
    Absent,
}

impl View {
    /// The row at `index`, if loaded.
    #[inline]
    pub(crate) fn row(&self, index: usize) -> Option<&Arc<EnrichedRecord>> {
        match &self.sorted {
            Some(sorted) => sorted.get(index),
            None => self.rows.get(index),
        }
    }

    /// The index of row `id`, if loaded.
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        match &self.sorted {
            Some(sorted) => sorted.index_of(id),
            None => self.rows.index_of(id),
        }
    }

    /// The row shown for `id`, if loaded.
    pub(crate) fn shown(&self, id: &str) -> Option<&Arc<EnrichedRecord>> {
        match &self.sorted {
            Some(sorted) => sorted.shown(id),
            None => self.rows.index_of(id).and_then(|at| self.rows.get(at)),
        }
    }

    /// Rows held.
    pub(crate) fn held(&self) -> usize {
        match &self.sorted {
            Some(sorted) => sorted.len(),
            None => self.rows.len(),
        }
    }

    /// Highest index held plus one.
    pub(crate) fn end(&self) -> usize {
        match &self.sorted {
            Some(sorted) => sorted.len(),
            None => self.rows.end(),
        }
    }

    /// Drop the rows at or past the end of the set, once it is known.
    pub(crate) fn drop_beyond_limit(&mut self) -> bool {
        let Some(limit) = self.extent.limit() else {
            return false;
        };
        self.drop_from(limit)
    }

    /// Drop the paged rows at or past `index`; whether any were.
    pub(crate) fn drop_from(&mut self, index: usize) -> bool {
        let beyond: alloc::vec::Vec<usize> = self
            .rows
            .range(index..self.rows.end())
            .map(|(i, _)| i)
            .collect();
        for index in &beyond {
            self.rows.take(*index);
        }
        !beyond.is_empty()
    }

    /// Give the paged rows of `range` whose status is `from` the status
    /// `to` where `also` says so; whether any changed.
    pub(crate) fn restate_range(
        &mut self,
        range: core::ops::Range<usize>,
        from: &RowStatus,
        to: RowStatus,
        also: impl Fn(usize) -> bool,
    ) -> bool {
        let changed: alloc::vec::Vec<(usize, Arc<EnrichedRecord>)> = self
            .rows
            .range(range)
            .filter(|(i, row)| row.status == *from && also(*i))
            .map(|(i, row)| (i, with_status(row, to.clone())))
            .collect();
        for (i, row) in &changed {
            self.rows.set(*i, row.clone());
        }
        !changed.is_empty()
    }
}

/// `row` with another status.
pub(crate) fn with_status(row: &Arc<EnrichedRecord>, status: RowStatus) -> Arc<EnrichedRecord> {
    Arc::new(EnrichedRecord {
        status,
        ..(**row).clone()
    })
}
