//! How many rows a paged view has: stated totals, unknown totals that grow,
//! and sources that promise more than they serve.
//!
//! Pure bookkeeping fed by chunk outcomes; tested directly.

use core::ops::Range;

/// Consecutive short or empty chunks tolerated from a source that stated a
/// total before the total is capped to what it actually served.
pub(crate) const MAX_SHORT_ATTEMPTS: u32 = 3;

/// What is known about the size of a view's set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Extent {
    /// Total stated by `total_provider` or `ChunkSink::set_total`.
    pub(crate) stated: Option<usize>,
    /// End of the set found by a short page, or the cap of a stated total.
    pub(crate) end: Option<usize>,
    /// Rows known to exist: the highest index ever served plus one.
    pub(crate) known: usize,
    /// Consecutive short chunks against a stated total.
    pub(crate) short_attempts: u32,
    /// No row lies at or past this index: an empty page came back there,
    /// past the rows known. An upper bound, not the end — the end lies
    /// somewhere in `known..bound` and is found by probing from `known`.
    pub(crate) bound: Option<usize>,
}

impl Extent {
    /// The end of the set, when known (a cap wins over a larger stated
    /// total; a stated total at or past the bound is contradicted and no
    /// longer believed).
    pub(crate) fn limit(&self) -> Option<usize> {
        match (self.believed_total(), self.end) {
            (Some(stated), Some(end)) => Some(stated.min(end)),
            (stated, end) => end.or(stated),
        }
    }

    /// The stated total, unless an empty page at or below it contradicted it.
    fn believed_total(&self) -> Option<usize> {
        self.stated
            .filter(|&stated| self.bound.is_none_or(|bound| stated < bound))
    }

    /// The index past which nothing is to be loaded: the end when known,
    /// else the bound an empty page set.
    pub(crate) fn load_limit(&self) -> Option<usize> {
        self.limit().or(self.bound)
    }

    /// The window to load for `visible`: `visible` itself, except when it
    /// lies past the rows known and under a bound (an empty page came back
    /// further on): then the next page after the rows known, walking
    /// towards the real end instead of asking the empty window again.
    pub(crate) fn reachable(&self, visible: Range<usize>, page: usize) -> Range<usize> {
        match self.bound {
            Some(bound) if self.limit().is_none() && visible.start >= self.known => {
                self.known..self.known.saturating_add(page.max(1)).min(bound)
            }
            _ => visible,
        }
    }

    /// Rows the view reports: the limit when known, else the rows known to exist.
    pub(crate) fn row_count(&self) -> usize {
        self.limit().unwrap_or(self.known)
    }

    /// True while the end of the set is unknown.
    pub(crate) fn has_more(&self) -> bool {
        self.limit().is_none()
    }

    /// A row left the set (it stopped matching the query): one fewer.
    pub(crate) fn shrink(&mut self) {
        let less = |v: usize| v.saturating_sub(1);
        self.stated = self.stated.map(less);
        self.end = self.end.map(less);
        self.bound = self.bound.map(less);
        self.known = less(self.known);
    }

    /// A row entered the set: one more.
    pub(crate) fn grow(&mut self) {
        let more = |v: usize| v.saturating_add(1);
        self.stated = self.stated.map(more);
        self.end = self.end.map(more);
        self.bound = self.bound.map(more);
        if self.known > 0 || self.limit().is_some() {
            self.known = more(self.known);
        }
    }

    /// Where the set ends is not known any more (rows may have entered
    /// it unseen): found again by loading. A stated total stays until a
    /// load states another.
    pub(crate) fn forget_end(&mut self) {
        self.end = None;
        self.bound = None;
        self.short_attempts = 0;
    }

    /// Record a stated total.
    pub(crate) fn state_total(&mut self, total: usize) {
        self.stated = Some(total);
        self.end = None;
        self.short_attempts = 0;
        self.bound = None;
    }

    /// Record a successful chunk: `requested` was asked, rows up to
    /// `served_end` (exclusive; `None` when no row came) were served.
    pub(crate) fn on_chunk(&mut self, requested: &Range<usize>, served_end: Option<usize>) {
        if served_end.is_none() && requested.start > self.known && !requested.is_empty() {
            // Nothing at all, past the rows known: the end lies between
            // them and here, not here (a jump far ahead must not make the
            // rows between exist). A stated total past it is wrong.
            self.bound = Some(
                self.bound
                    .map_or(requested.start, |b| b.min(requested.start)),
            );
            return;
        }
        let served = served_end.unwrap_or(requested.start).max(requested.start);
        self.known = self.known.max(served);
        match self.bound {
            // Rows past the bound: the set grew since.
            Some(bound) if served > bound => self.bound = None,
            // Rows up to the bound and none at it: that is the end.
            Some(bound) if served == bound => {
                self.bound = None;
                self.end = Some(bound);
                self.short_attempts = 0;
                return;
            }
            _ => {}
        }
        if served >= requested.end {
            self.short_attempts = 0;
            // Rows beyond a previously found end: the set grew.
            if self.end.is_some_and(|end| served > end) {
                self.end = None;
            }
            return;
        }
        match self.believed_total() {
            // Unknown total: a short page ends the set.
            None => {
                self.end = Some(served);
                self.known = served;
            }
            // A stated total: tolerate a few short answers, then believe them.
            Some(stated) if served < stated => {
                self.short_attempts += 1;
                if self.short_attempts >= MAX_SHORT_ATTEMPTS {
                    self.end = Some(served);
                    self.known = served;
                }
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_total_grows_then_stops_at_a_short_page() {
        let mut e = Extent::default();
        e.on_chunk(&(0..100), Some(100));
        assert!(e.has_more());
        assert_eq!(e.row_count(), 100);
        e.on_chunk(&(100..200), Some(200));
        e.on_chunk(&(200..300), Some(250));
        assert!(!e.has_more());
        assert_eq!(e.row_count(), 250);
        assert_eq!(e.limit(), Some(250));
    }

    #[test]
    fn full_page_past_the_end_extends_it() {
        let mut e = Extent::default();
        e.on_chunk(&(0..100), Some(50));
        assert_eq!(e.limit(), Some(50));
        e.on_chunk(&(0..100), Some(100));
        assert!(e.has_more());
        assert_eq!(e.row_count(), 100);
    }

    #[test]
    fn stated_total_is_capped_after_bounded_short_attempts() {
        let mut e = Extent::default();
        e.state_total(1000);
        e.on_chunk(&(0..100), Some(100));
        e.on_chunk(&(200..300), Some(250));
        assert_eq!(e.row_count(), 1000);
        e.on_chunk(&(250..350), None);
        assert_eq!(e.row_count(), 1000);
        e.on_chunk(&(250..350), None);
        assert_eq!(e.row_count(), 250);
        assert!(!e.has_more());
    }

    #[test]
    fn an_empty_page_past_the_known_rows_bounds_the_set_without_growing_it() {
        let mut e = Extent::default();
        e.on_chunk(&(0..100), Some(100));
        e.on_chunk(&(500..600), None);
        assert_eq!(e.row_count(), 100, "rows 100..500 are not known to exist");
        assert!(e.has_more());
        assert_eq!(e.load_limit(), Some(500));
        assert_eq!(
            e.reachable(500..600, 100),
            100..200,
            "probe from the known rows"
        );
        e.on_chunk(&(100..200), Some(200));
        assert_eq!(e.reachable(500..600, 100), 200..300);
        e.on_chunk(&(200..300), Some(250));
        assert_eq!(e.limit(), Some(250));
        assert!(!e.has_more());
        assert_eq!(e.reachable(500..600, 100), 500..600, "the end is known");
    }

    #[test]
    fn rows_served_up_to_the_bound_end_the_set_there() {
        let mut e = Extent::default();
        e.state_total(1000);
        e.on_chunk(&(0..100), Some(100));
        e.on_chunk(&(250..350), None);
        assert_eq!(e.reachable(250..350, 100), 100..200);
        e.on_chunk(&(100..200), Some(200));
        assert_eq!(e.reachable(250..350, 100), 200..250);
        e.on_chunk(&(200..250), Some(250));
        assert_eq!(e.limit(), Some(250));
        assert!(!e.has_more());
    }

    #[test]
    fn an_empty_page_contradicts_an_overstated_total() {
        let mut e = Extent::default();
        e.state_total(1000);
        e.on_chunk(&(0..100), Some(100));
        e.on_chunk(&(980..1000), None);
        assert_eq!(e.limit(), None, "1000 is no longer believed");
        assert_eq!(e.row_count(), 100);
        assert_eq!(e.load_limit(), Some(980));
        e.on_chunk(&(100..200), Some(200));
        e.on_chunk(&(200..300), Some(250));
        assert_eq!(
            e.limit(),
            Some(250),
            "a short page ends a contradicted total at once"
        );
        // A total stated again is believed again.
        e.state_total(240);
        assert_eq!(e.limit(), Some(240));
    }

    #[test]
    fn rows_past_a_bound_lift_it() {
        let mut e = Extent::default();
        e.on_chunk(&(0..100), Some(100));
        e.on_chunk(&(300..400), None);
        e.on_chunk(&(100..500), Some(500));
        assert_eq!(e.bound, None);
        assert!(e.has_more());
        assert_eq!(e.row_count(), 500);
    }

    #[test]
    fn empty_source() {
        let mut e = Extent::default();
        e.on_chunk(&(0..100), None);
        assert_eq!(e.limit(), Some(0));
        assert_eq!(e.row_count(), 0);
    }
}
