//! The rows of a `MemoryVista`: insertion order plus an id index.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::value::Record;
use crate::vista::eval::{Filter, sort_rows_by};
use crate::vista::{Id, Query};

/// Rows in insertion order, with an id → position index so reads by id are
/// O(log n) and windows of the unnarrowed table are slices.
#[derive(Debug, Default)]
pub(super) struct Rows {
    order: Vec<(Id, Record)>,
    index: BTreeMap<Id, usize>,
}

impl Rows {
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    pub(super) fn all(&self) -> &[(Id, Record)] {
        &self.order
    }

    pub(super) fn get(&self, id: &str) -> Option<&Record> {
        self.index.get(id).map(|&at| &self.order[at].1)
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut Record> {
        let at = *self.index.get(id)?;
        Some(&mut self.order[at].1)
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Set row `id`, in place when it exists, else appended. Returns the
    /// previous record.
    pub(super) fn put(&mut self, id: Id, record: Record) -> Option<Record> {
        match self.index.get(&id) {
            Some(&at) => Some(core::mem::replace(&mut self.order[at].1, record)),
            None => {
                self.index.insert(id.clone(), self.order.len());
                self.order.push((id, record));
                None
            }
        }
    }

    pub(super) fn remove(&mut self, id: &str) -> Option<Record> {
        let at = self.index.remove(id)?;
        let (_, record) = self.order.remove(at);
        for position in self.index.values_mut() {
            if *position > at {
                *position -= 1;
            }
        }
        Some(record)
    }

    pub(super) fn clear(&mut self) {
        self.order.clear();
        self.index.clear();
    }

    /// The rows matching `query`, in query order (insertion order without a
    /// sort), as references: only the rows a caller returns get cloned.
    pub(super) fn select(&self, query: &Query) -> Vec<&(Id, Record)> {
        let mut selected: Vec<&(Id, Record)> = if query.filters() {
            let mut filter = Filter::new(query);
            self.order
                .iter()
                .filter(|(_, record)| filter.matches(record))
                .collect()
        } else {
            self.order.iter().collect()
        };
        if let Some(sort) = &query.sort {
            sort_rows_by(&mut selected, sort, |row| (row.0.as_str(), &row.1));
        }
        selected
    }

    /// Number of rows matching `query`.
    pub(super) fn count(&self, query: &Query) -> usize {
        if query.filters() {
            let mut filter = Filter::new(query);
            self.order
                .iter()
                .filter(|(_, record)| filter.matches(record))
                .count()
        } else {
            self.order.len()
        }
    }

    /// Rows `offset..offset + limit` of `query` and the total matching.
    pub(super) fn window(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> (Vec<(Id, Record)>, usize) {
        if query.is_empty() {
            let start = offset.min(self.order.len());
            let end = start.saturating_add(limit).min(self.order.len());
            return (self.order[start..end].to_vec(), self.order.len());
        }
        let selected = self.select(query);
        let total = selected.len();
        let rows = selected
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        (rows, total)
    }
}
