//! The sparse row map of a table scenery: index → row, plus id → index.
//!
//! Rows live in fixed pages of a two-level table so `get(i)` is two array
//! lookups (the `row(i)` budget is 50 ns) while memory stays proportional to
//! the pages actually loaded, not to the size of the set.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::collections::btree_map::Entry;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use super::EnrichedRecord;
use crate::vista::Id;

const PAGE_BITS: usize = 8;
const PAGE: usize = 1 << PAGE_BITS;

type Slot = Option<Arc<EnrichedRecord>>;

struct Page {
    slots: Box<[Slot; PAGE]>,
    filled: usize,
}

impl Page {
    fn new() -> Self {
        Page {
            slots: Box::new([const { None }; PAGE]),
            filled: 0,
        }
    }
}

/// Index → row and id → index, for the rows a scenery holds.
#[derive(Default)]
pub(crate) struct SparseRows {
    pages: Vec<Option<Page>>,
    ids: BTreeMap<Id, usize>,
    len: usize,
}

impl core::fmt::Debug for SparseRows {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SparseRows")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl SparseRows {
    /// The row at `index`, if loaded.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&Arc<EnrichedRecord>> {
        self.pages.get(index >> PAGE_BITS)?.as_ref()?.slots[index & (PAGE - 1)].as_ref()
    }

    /// The index of row `id`, if loaded.
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }

    /// Number of rows held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Highest index held plus one (0 when empty).
    pub(crate) fn end(&self) -> usize {
        for (p, page) in self.pages.iter().enumerate().rev() {
            if let Some(i) = page
                .as_ref()
                .and_then(|page| page.slots.iter().rposition(Option::is_some))
            {
                return (p << PAGE_BITS) + i + 1;
            }
        }
        0
    }

    /// Put `row` at `index`, replacing what was there. A row with the same id
    /// held at another index is removed from there (an id has one index).
    /// Returns the row previously at `index`.
    pub(crate) fn set(
        &mut self,
        index: usize,
        row: Arc<EnrichedRecord>,
    ) -> Option<Arc<EnrichedRecord>> {
        // Same id at the same index (a refresh): swap the slot, ids unchanged.
        if let Some(slot) = self
            .slot_mut(index)
            .filter(|slot| slot.as_ref().is_some_and(|shown| shown.id == row.id))
        {
            return slot.replace(row);
        }
        let previous = self.take(index);
        // One search of the id index per row (a chunk push sets a thousand).
        match self.ids.entry(row.id.clone()) {
            Entry::Vacant(entry) => {
                entry.insert(index);
            }
            Entry::Occupied(mut entry) => {
                let old_index = core::mem::replace(entry.get_mut(), index);
                if old_index != index {
                    self.take_slot(old_index);
                }
            }
        }
        let p = index >> PAGE_BITS;
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
        }
        let page = self.pages[p].get_or_insert_with(Page::new);
        page.slots[index & (PAGE - 1)] = Some(row);
        page.filled += 1;
        self.len += 1;
        previous
    }

    fn slot_mut(&mut self, index: usize) -> Option<&mut Slot> {
        let page = self.pages.get_mut(index >> PAGE_BITS)?.as_mut()?;
        Some(&mut page.slots[index & (PAGE - 1)])
    }

    /// Remove and return the row at `index`.
    pub(crate) fn take(&mut self, index: usize) -> Option<Arc<EnrichedRecord>> {
        let row = self.take_slot(index)?;
        if self.ids.get(&row.id) == Some(&index) {
            self.ids.remove(&row.id);
        }
        Some(row)
    }

    /// Empty the slot at `index`, leaving the id index to the caller.
    fn take_slot(&mut self, index: usize) -> Option<Arc<EnrichedRecord>> {
        let p = index >> PAGE_BITS;
        let page = self.pages.get_mut(p)?.as_mut()?;
        let row = page.slots[index & (PAGE - 1)].take()?;
        page.filled -= 1;
        if page.filled == 0 {
            self.pages[p] = None;
        }
        self.len -= 1;
        Some(row)
    }

    /// Remove every row.
    pub(crate) fn clear(&mut self) {
        self.pages.clear();
        self.ids.clear();
        self.len = 0;
    }

    /// Indices and rows held in `range`, in index order.
    pub(crate) fn range(
        &self,
        range: Range<usize>,
    ) -> impl Iterator<Item = (usize, &Arc<EnrichedRecord>)> {
        // Page by page, so a range over a deep, mostly empty set costs the
        // pages it spans, not one lookup per index.
        let (start, end) = (range.start, range.end);
        let first = (start >> PAGE_BITS).min(self.pages.len());
        let last = end.div_ceil(PAGE).clamp(first, self.pages.len());
        self.pages[first..last]
            .iter()
            .enumerate()
            .flat_map(move |(k, page)| {
                let base = (first + k) << PAGE_BITS;
                page.iter().flat_map(move |page| {
                    page.slots.iter().enumerate().filter_map(move |(i, slot)| {
                        let index = base + i;
                        let row = slot.as_ref().filter(|_| (start..end).contains(&index))?;
                        Some((index, row))
                    })
                })
            })
    }

    /// Every row held, in index order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Arc<EnrichedRecord>)> {
        self.pages.iter().enumerate().flat_map(|(p, page)| {
            page.iter().flat_map(move |page| {
                page.slots.iter().enumerate().filter_map(move |(i, slot)| {
                    slot.as_ref().map(|row| ((p << PAGE_BITS) + i, row))
                })
            })
        })
    }

    /// Move every row at an index past `index` one down (`index` itself
    /// must be empty): what follows a row that left closes up.
    pub(crate) fn close_up_after(&mut self, index: usize) {
        let after: Vec<usize> = self.range(index + 1..self.end()).map(|(i, _)| i).collect();
        for i in after {
            if let Some(row) = self.take(i) {
                self.set(i - 1, row);
            }
        }
    }

    /// Move every row at `index` or past it one up: room for a row that
    /// enters at `index`.
    pub(crate) fn open_up_at(&mut self, index: usize) {
        let from: Vec<usize> = self.range(index..self.end()).map(|(i, _)| i).collect();
        for i in from.into_iter().rev() {
            if let Some(row) = self.take(i) {
                self.set(i + 1, row);
            }
        }
    }

    /// Drop every page that holds no row of `keep`, so memory stays
    /// proportional to what is near the viewport.
    pub(crate) fn retain_pages(&mut self, keep: Range<usize>) {
        let first = keep.start >> PAGE_BITS;
        let last = keep.end.saturating_sub(1) >> PAGE_BITS;
        for p in (0..self.pages.len()).filter(|&p| p < first || p > last) {
            if let Some(page) = self.pages[p].take() {
                for row in page.slots.iter().flatten() {
                    self.ids.remove(&row.id);
                }
                self.len -= page.filled;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Record;
    use alloc::format;

    fn row(id: &str) -> Arc<EnrichedRecord> {
        Arc::new(EnrichedRecord::fresh(id.into(), Record::new(), None))
    }

    #[test]
    fn set_get_take_and_ids() {
        let mut rows = SparseRows::default();
        assert!(rows.get(5).is_none());
        rows.set(5, row("a"));
        rows.set(700, row("b"));
        assert_eq!(rows.get(5).unwrap().id, "a");
        assert_eq!(rows.index_of("b"), Some(700));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.end(), 701);
        rows.set(6, row("a"));
        assert!(rows.get(5).is_none());
        assert_eq!(rows.index_of("a"), Some(6));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.take(700).unwrap().id, "b");
        assert_eq!(rows.index_of("b"), None);
        assert_eq!(rows.end(), 7);
    }

    #[test]
    fn a_row_moving_onto_another_replaces_it_and_leaves_its_old_index() {
        let mut rows = SparseRows::default();
        rows.set(1, row("a"));
        rows.set(2, row("b"));
        assert_eq!(rows.set(1, row("b")).unwrap().id, "a");
        assert_eq!(rows.get(1).unwrap().id, "b");
        assert!(rows.get(2).is_none());
        assert_eq!(rows.index_of("a"), None);
        assert_eq!(rows.index_of("b"), Some(1));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows.iter().count(), 1);
    }

    #[test]
    fn retain_pages_drops_far_rows() {
        let mut rows = SparseRows::default();
        for i in 0..2000 {
            rows.set(i, row(&format!("r{i}")));
        }
        rows.retain_pages(1000..1100);
        assert!(rows.len() < 600);
        assert!(rows.get(1050).is_some());
        assert!(rows.get(10).is_none());
        assert_eq!(rows.index_of("r10"), None);
        assert_eq!(rows.iter().count(), rows.len());
    }
}
