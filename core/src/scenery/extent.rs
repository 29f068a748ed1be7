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
}

impl Extent {
    /// The end of the set, when known (a cap wins over a larger stated total).
    pub(crate) fn limit(&self) -> Option<usize> {
        match (self.stated, self.end) {
            (Some(stated), Some(end)) => Some(stated.min(end)),
            (stated, end) => end.or(stated),
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

    /// Record a stated total.
    pub(crate) fn state_total(&mut self, total: usize) {
        self.stated = Some(total);
        self.end = None;
        self.short_attempts = 0;
    }

    /// Record a successful chunk: `requested` was asked, rows up to
    /// `served_end` (exclusive; `None` when no row came) were served.
    pub(crate) fn on_chunk(&mut self, requested: &Range<usize>, served_end: Option<usize>) {
        let served = served_end.unwrap_or(requested.start).max(requested.start);
        self.known = self.known.max(served);
        if served >= requested.end {
            self.short_attempts = 0;
            // Rows beyond a previously found end: the set grew.
            if self.end.is_some_and(|end| served > end) {
                self.end = None;
            }
            return;
        }
        match self.stated {
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
    fn empty_source() {
        let mut e = Extent::default();
        e.on_chunk(&(0..100), None);
        assert_eq!(e.limit(), Some(0));
        assert_eq!(e.row_count(), 0);
    }
}
