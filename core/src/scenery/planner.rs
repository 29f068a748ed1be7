//! The fetch-range rule: which rows a committed viewport should load.
//!
//! Pure and synchronous (no I/O, no time), so it is tested directly.
//!
//! # The rule
//! A row is *needed* when it is not in flight and, unless the load is
//! forced, not loaded fresh. The fetch range covers every needed row of the
//! visible range (clamped to the known end of the set) and is at least
//! `page_size` long:
//!
//! - **Leading edge** (the scroll direction) gets the read-ahead: forward
//!   loads start at the first needed visible row and run `page_size` on;
//!   backward loads end after the last needed visible row and run back.
//!   Read-ahead stops at the first row that is not needed, so loaded rows
//!   are not fetched again.
//! - **In flight**: the range never overlaps a load in flight; it stops at
//!   the first such row (rows beyond are fetched when that load lands).
//! - **Trailing edge**: when fewer than `page_size` needed rows separate the
//!   visible range from loaded data (or from row 0 / the end of the set)
//!   behind it, the range is stretched to that edge so no hole is left.
//!
//! Examples with `page_size = 100`: with `0..100` loaded, scrolling forward
//! to `547..567` fetches `547..647`; with `800..900` loaded, scrolling back
//! to `750..770` fetches `700..800` (stretched to the loaded edge at 800,
//! read-ahead back to 700); with a total of 1000, `980..1000` fetches
//! `980..1000`; a range past the end fetches nothing.

use core::ops::Range;

/// Everything the rule needs to know about one committed viewport.
#[derive(Clone, Debug)]
pub(crate) struct PlanInput {
    /// The committed visible range.
    pub(crate) visible: Range<usize>,
    /// True when the viewport moved towards higher indices (or stayed).
    pub(crate) forward: bool,
    /// Read-ahead size and minimum fetch length.
    pub(crate) page_size: usize,
    /// Known end of the set (total or the end found by a short page).
    pub(crate) end: Option<usize>,
    /// Refetch loaded rows too (refresh on open, invalidation, load more).
    pub(crate) force: bool,
}

/// What the rule asks about rows.
pub(crate) trait RowsState {
    /// Row `index` is loaded and fresh (not stale, not missing).
    fn is_fresh(&self, index: usize) -> bool;
    /// Row `index` is covered by a load in flight.
    fn is_in_flight(&self, index: usize) -> bool;
}

/// The range to fetch for `input`, or `None` when nothing is needed.
pub(crate) fn plan(input: &PlanInput, rows: &impl RowsState) -> Option<Range<usize>> {
    let page = input.page_size.max(1);
    let end_of_set = input.end.unwrap_or(usize::MAX);
    let visible = input.visible.start..input.visible.end.min(end_of_set);
    let needed =
        |i: usize| i < end_of_set && !rows.is_in_flight(i) && (input.force || !rows.is_fresh(i));
    let first = visible.clone().find(|&i| needed(i))?;
    let last = visible.rev().find(|&i| needed(i))?;
    let len = page.max(last + 1 - first);

    let range = if input.forward {
        let start = stretch_down(first, page, &needed);
        let mut end = start.saturating_add(len).max(last + 1).min(end_of_set);
        if let Some(stop) = (last + 1..end).find(|&i| !needed(i)) {
            end = stop;
        }
        // Never overlap a load in flight: stop at the first such row.
        if let Some(stop) = (start..end).find(|&i| rows.is_in_flight(i)) {
            end = stop;
        }
        start..end
    } else {
        let end = stretch_up(last + 1, page, end_of_set, &needed);
        let mut start = end.saturating_sub(len).min(first);
        if let Some(stop) = (start..first).rev().find(|&i| !needed(i)) {
            start = stop + 1;
        }
        if let Some(stop) = (start..end).rev().find(|&i| rows.is_in_flight(i)) {
            start = stop + 1;
        }
        start..end
    };
    (!range.is_empty()).then_some(range)
}

/// Lower `start` to the settled edge (or 0) behind it when that edge is
/// less than `page` needed rows away; otherwise keep it.
fn stretch_down(start: usize, page: usize, needed: &impl Fn(usize) -> bool) -> usize {
    let mut s = start;
    while s > 0 && needed(s - 1) {
        if start - (s - 1) >= page {
            return start;
        }
        s -= 1;
    }
    s
}

/// Raise `end` to the settled edge (or the end of the set) ahead of it when
/// that edge is less than `page` needed rows away; otherwise keep it.
fn stretch_up(
    end: usize,
    page: usize,
    end_of_set: usize,
    needed: &impl Fn(usize) -> bool,
) -> usize {
    let mut e = end;
    while e < end_of_set && needed(e) {
        if e + 1 - end >= page {
            return end;
        }
        e += 1;
    }
    e
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    struct Rows {
        fresh: Vec<Range<usize>>,
        in_flight: Vec<Range<usize>>,
    }

    impl RowsState for Rows {
        fn is_fresh(&self, i: usize) -> bool {
            self.fresh.iter().any(|r| r.contains(&i))
        }
        fn is_in_flight(&self, i: usize) -> bool {
            self.in_flight.iter().any(|r| r.contains(&i))
        }
    }

    fn input(visible: Range<usize>, forward: bool, end: Option<usize>) -> PlanInput {
        PlanInput {
            visible,
            forward,
            page_size: 100,
            end,
            force: false,
        }
    }

    fn loaded(fresh: &[Range<usize>]) -> Rows {
        Rows {
            fresh: fresh.to_vec(),
            in_flight: Vec::new(),
        }
    }

    #[test]
    fn forward_jump_reads_ahead_one_page() {
        assert_eq!(
            plan(&input(547..567, true, Some(1000)), &loaded(&[0..100])),
            Some(547..647)
        );
        assert_eq!(
            plan(&input(500..600, true, Some(1000)), &loaded(&[0..100])),
            Some(500..600)
        );
    }

    #[test]
    fn backward_scroll_ends_at_the_loaded_edge() {
        assert_eq!(
            plan(&input(750..770, false, Some(1000)), &loaded(&[800..900])),
            Some(700..800)
        );
    }

    #[test]
    fn backward_read_ahead_stops_at_loaded_rows() {
        let rows = loaded(&[0..720, 800..900]);
        assert_eq!(
            plan(&input(750..770, false, Some(1000)), &rows),
            Some(720..800)
        );
    }

    #[test]
    fn clamps_to_the_end_of_the_set() {
        assert_eq!(
            plan(&input(980..1000, true, Some(1000)), &loaded(&[])),
            Some(980..1000)
        );
        assert_eq!(
            plan(&input(1000..1100, true, Some(1000)), &loaded(&[])),
            None
        );
        assert_eq!(
            plan(&input(990..1100, true, Some(1000)), &loaded(&[])),
            Some(990..1000)
        );
    }

    #[test]
    fn fully_loaded_visible_range_fetches_nothing_unless_forced() {
        let rows = loaded(&[0..200]);
        assert_eq!(plan(&input(50..150, true, None), &rows), None);
        let forced = PlanInput {
            force: true,
            ..input(0..100, true, None)
        };
        assert_eq!(plan(&forced, &rows), Some(0..100));
    }

    #[test]
    fn small_gap_behind_is_filled() {
        assert_eq!(
            plan(&input(120..140, true, None), &loaded(&[0..100])),
            Some(100..200)
        );
        assert_eq!(plan(&input(20..40, true, None), &loaded(&[])), Some(0..100));
    }

    #[test]
    fn in_flight_rows_are_never_requested_again() {
        let rows = Rows {
            fresh: Vec::new(),
            in_flight: alloc::vec![500..600],
        };
        assert_eq!(plan(&input(500..600, true, None), &rows), None);
        assert_eq!(plan(&input(550..650, true, None), &rows), Some(600..700));
        let forced = PlanInput {
            force: true,
            ..input(500..600, true, None)
        };
        assert_eq!(plan(&forced, &rows), None);
    }

    #[test]
    fn forward_read_ahead_stops_at_loaded_rows() {
        assert_eq!(
            plan(&input(300..320, true, None), &loaded(&[350..400])),
            Some(300..350)
        );
    }
}
