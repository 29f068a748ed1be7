//! Where each row of a composition goes: the composed order of a complete
//! listing and of one window, as plain functions over rows already read.
//!
//! The composed rows are the top part's shown rows plus the bottom part's
//! rows whose ids the top does not claim. With a sort they are in sort
//! order ([`compare_rows`]: nulls last, ties by id). Without one, the bottom
//! part's order is kept, a top row takes the place of the bottom row it
//! replaces when that bottom row matches the query, and the other top rows
//! follow all bottom rows, in the top part's order.
//!
//! # Windows
//!
//! A window is placed from one bottom window (see [`bottom_range`]) and two
//! small sets read whole: `shown`, the top rows matching the query, and
//! `hidden`, the bottom rows of claimed ids that match it. With a sort, a
//! bottom row at bottom position `j` lands at
//! `j - (hidden rows before it) + (shown rows before it)`, and a shown row
//! at `k + (bottom rows before it) - (hidden rows before it)`; the bottom
//! window is chosen so that every row landing in the requested range is in
//! it, and rows whose place it cannot tell are provably outside the range.
//! Without a sort the hidden rows' places are unknown, so the bottom is read
//! from its start (unless nothing is hidden).
//!
//! Every placed window is checked: the bottom rows read must be in
//! [`compare_rows`] order (when the top part adds or hides rows), and the
//! placed rows must fill the range exactly (the whole range, or up to the
//! composed total). Anything else means the parts changed between the
//! reads, or the bottom part orders rows differently from [`compare_rows`];
//! that is reported as [`Inconsistent`], never answered with a wrong page.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::cmp::Ordering;

use super::top::Top;
use crate::value::Record;
use crate::vista::eval::{compare_rows, sort_rows};
use crate::vista::{Id, Page, Query, Sort};

/// The reads of one window did not fit together (see the module notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Inconsistent;

/// The rows a composition shows, beyond the bottom part's own reads.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sides<'a> {
    /// The query, applied to the combined rows.
    pub(super) query: &'a Query,
    /// The top part, read whole.
    pub(super) top: &'a Top,
    /// The top rows matching the query, in composed order.
    pub(super) shown: &'a [(Id, Record)],
    /// The bottom rows of claimed ids that match the query (sorted when the
    /// query sorts).
    pub(super) hidden: &'a [(Id, Record)],
}

/// Every composed row, from the complete bottom listing `bottom` (the rows
/// matching the query, in the bottom part's order).
pub(super) fn combine_list(sides: Sides<'_>, bottom: Vec<(Id, Record)>) -> Vec<(Id, Record)> {
    if let Some(sort) = &sides.query.sort {
        let mut rows: Vec<(Id, Record)> = bottom
            .into_iter()
            .filter(|(id, _)| !sides.top.claims(id))
            .collect();
        rows.extend(sides.shown.iter().cloned());
        sort_rows(&mut rows, sort);
        return rows;
    }
    let mut walk = Walk::new(sides);
    for row in bottom {
        walk.bottom_row(row);
    }
    walk.finish()
}

/// The composed count from the bottom part's count of the query.
pub(super) fn combine_count(sides: Sides<'_>, bottom: usize) -> Result<usize, Inconsistent> {
    composed_total(sides, bottom)
}

/// The bottom window `(offset, limit)` to read for composed rows
/// `offset..offset + limit`.
pub(super) fn bottom_range(sides: Sides<'_>, offset: usize, limit: usize) -> (usize, usize) {
    let (shown, hidden) = (sides.shown.len(), sides.hidden.len());
    if sides.query.sort.is_some() || hidden == 0 {
        // Composed rows from `offset` on come from bottom positions at least
        // `offset - shown`, and at most `hidden` rows of the bottom are skipped.
        let start = offset.saturating_sub(shown);
        (start, limit.saturating_add(shown).saturating_add(hidden))
    } else {
        (0, offset.saturating_add(limit).saturating_add(hidden))
    }
}

/// Composed rows `offset..offset + limit` and the composed total, from the
/// bottom window `page` read at `(start, asked)` as [`bottom_range`] said.
pub(super) fn place_window(
    sides: Sides<'_>,
    offset: usize,
    limit: usize,
    (start, asked): (usize, usize),
    page: Page,
) -> Result<Page, Inconsistent> {
    if page.rows.len() > asked {
        return Err(Inconsistent);
    }
    let full = page.rows.len() == asked;
    // An empty read past the start only says the bottom holds at most
    // `start` rows; every composed row then lies before `offset`.
    let blind = page.rows.is_empty() && start > 0;
    let total = if full || blind {
        page.total.map(|t| composed_total(sides, t)).transpose()?
    } else {
        Some(composed_total(sides, start + page.rows.len())?)
    };
    let expected = if full {
        limit
    } else if blind {
        0
    } else {
        total.map_or(0, |t| t.saturating_sub(offset).min(limit))
    };
    let end = offset.saturating_add(limit);
    let mut placed = match &sides.query.sort {
        Some(sort) => place_sorted(sides, sort, offset..end, start, &page.rows, full)?,
        None => place_unsorted(sides, offset..end, start, page.rows, full)?,
    };
    placed.sort_by_key(|(rank, _)| *rank);
    let contiguous = placed.len() == expected
        && placed
            .iter()
            .enumerate()
            .all(|(k, (rank, _))| *rank == offset + k);
    if !contiguous {
        return Err(Inconsistent);
    }
    Ok(Page {
        rows: placed.into_iter().map(|(_, row)| row).collect(),
        total,
    })
}

fn composed_total(sides: Sides<'_>, bottom: usize) -> Result<usize, Inconsistent> {
    (bottom + sides.shown.len())
        .checked_sub(sides.hidden.len())
        .ok_or(Inconsistent)
}

type Placed = Vec<(usize, (Id, Record))>;

fn place_sorted(
    sides: Sides<'_>,
    sort: &Sort,
    range: core::ops::Range<usize>,
    start: usize,
    rows: &[(Id, Record)],
    full: bool,
) -> Result<Placed, Inconsistent> {
    let before = |a: &(Id, Record), b: &(Id, Record)| {
        compare_rows(&a.0, &a.1, &b.0, &b.1, sort) == Ordering::Less
    };
    // Rows are placed by comparing sort keys, which is only right when the
    // bottom orders as the local evaluation does. When the top part adds or
    // hides nothing, the bottom's window is the answer as it is.
    let merges = !(sides.shown.is_empty() && sides.hidden.is_empty());
    if merges && !rows.windows(2).all(|pair| before(&pair[0], &pair[1])) {
        return Err(Inconsistent);
    }
    let mut placed = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if sides.top.claims(&row.0) {
            continue;
        }
        let hidden = sides.hidden.partition_point(|h| before(h, row));
        let shown = sides.shown.partition_point(|s| before(s, row));
        let rank = (start + i).checked_sub(hidden).ok_or(Inconsistent)? + shown;
        if range.contains(&rank) {
            placed.push((rank, row.clone()));
        }
    }
    for (k, row) in sides.shown.iter().enumerate() {
        let below = rows.partition_point(|b| before(b, row));
        let bottom_before = if below < rows.len() {
            if start > 0 && below == 0 {
                // At or before the first row read: lands before `range`.
                continue;
            }
            start + below
        } else if !full {
            if start > 0 && rows.is_empty() {
                continue;
            }
            start + rows.len()
        } else {
            // After a full read: lands past `range`.
            continue;
        };
        let hidden = sides.hidden.partition_point(|h| before(h, row));
        let rank = (k + bottom_before)
            .checked_sub(hidden)
            .ok_or(Inconsistent)?;
        if range.contains(&rank) {
            placed.push((rank, row.clone()));
        }
    }
    Ok(placed)
}

fn place_unsorted(
    sides: Sides<'_>,
    range: core::ops::Range<usize>,
    start: usize,
    rows: Vec<(Id, Record)>,
    full: bool,
) -> Result<Placed, Inconsistent> {
    let blind = rows.is_empty() && start > 0;
    let mut walk = Walk::new(sides);
    for row in rows {
        // Reading from past the start assumes nothing before it is hidden.
        if start > 0 && sides.top.claims(&row.0) {
            return Err(Inconsistent);
        }
        walk.bottom_row(row);
    }
    let rows = if full || blind {
        walk.rows
    } else {
        walk.finish()
    };
    Ok((start..)
        .zip(rows)
        .filter(|(rank, _)| range.contains(rank))
        .collect())
}

/// The unsorted composed order, built row by row from the bottom listing.
struct Walk<'a> {
    sides: Sides<'a>,
    /// Shown top rows by id.
    shown: BTreeMap<&'a str, &'a (Id, Record)>,
    placed_in_place: BTreeSet<&'a str>,
    rows: Vec<(Id, Record)>,
}

impl<'a> Walk<'a> {
    fn new(sides: Sides<'a>) -> Self {
        Walk {
            sides,
            shown: sides
                .shown
                .iter()
                .map(|row| (row.0.as_str(), row))
                .collect(),
            placed_in_place: BTreeSet::new(),
            rows: Vec::new(),
        }
    }

    /// The next bottom row: kept, replaced in place by its shown top row,
    /// or dropped (claimed by a top row that is not shown).
    fn bottom_row(&mut self, row: (Id, Record)) {
        if !self.sides.top.claims(&row.0) {
            self.rows.push(row);
            return;
        }
        if let Some(&replacement) = self.shown.get(row.0.as_str()) {
            self.placed_in_place.insert(replacement.0.as_str());
            self.rows.push(replacement.clone());
        }
    }

    /// The rows, with the shown top rows not placed in place at the end.
    fn finish(mut self) -> Vec<(Id, Record)> {
        for row in self.sides.shown {
            if !self.placed_in_place.contains(row.0.as_str()) {
                self.rows.push(row.clone());
            }
        }
        self.rows
    }
}
