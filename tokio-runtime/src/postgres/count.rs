//! Totals of recent filters, so paging through a large table does not
//! count it again for every window: counting a million rows costs tens of
//! milliseconds, reading a hundred of them well under one.
//!
//! A count is valid for as long as the table has not changed, which only a
//! table with the change feed installed can tell cheaply: every committed
//! change writes a log entry with a higher sequence in the same
//! transaction, so two snapshots that see the same last sequence see the
//! same rows. The cache is keyed by that sequence (read in the snapshot the
//! count would be read in) and by the filter; a table without the feed
//! counts every time. It relies on the triggers firing, as the feed does:
//! changes made with them disabled (`session_replication_role = replica`,
//! `ALTER TABLE … DISABLE TRIGGER`) are seen by neither.

use std::collections::HashMap;
use std::sync::Mutex;

use diorama_core::vista::Query;

/// More distinct filters than a screen's worth of searches; past it the
/// cache starts over rather than tracking recency.
const MAX_COUNTS: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct CountCache {
    inner: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    /// The log sequence the counts were read at.
    version: Option<i64>,
    counts: HashMap<String, usize>,
}

/// The cache key of `query`'s filter: its conditions and search, exactly
/// (`Debug` tells `-0.0` from `0.0`, which `Like` does too).
pub(crate) fn key(query: &Query) -> String {
    format!("{:?}|{:?}", query.conditions, query.search)
}

impl CountCache {
    /// The count of filter `key` read at log sequence `version`, if known.
    pub(crate) fn get(&self, version: i64, key: &str) -> Option<usize> {
        let counts = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if counts.version != Some(version) {
            return None;
        }
        counts.counts.get(key).copied()
    }

    /// Remember that filter `key` counted `n` rows at `version`.
    pub(crate) fn put(&self, version: i64, key: String, n: usize) {
        let mut counts = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if counts.version != Some(version) || counts.counts.len() >= MAX_COUNTS {
            counts.counts.clear();
            counts.version = Some(version);
        }
        counts.counts.insert(key, n);
    }
}

#[cfg(test)]
mod tests {
    use diorama_core::vista::{CmpOp, Condition};

    use super::*;

    #[test]
    fn counts_hold_for_one_version_and_one_filter() {
        let cache = CountCache::default();
        let a = key(&Query::new().with_condition(Condition::new("v", CmpOp::Like, -0.0)));
        let b = key(&Query::new().with_condition(Condition::new("v", CmpOp::Like, 0.0)));
        assert_ne!(a, b, "-0 and 0 render differently");
        cache.put(7, a.clone(), 3);
        assert_eq!(cache.get(7, &a), Some(3));
        assert_eq!(cache.get(7, &b), None);
        assert_eq!(cache.get(8, &a), None, "the table changed");
        cache.put(8, b.clone(), 1);
        assert_eq!(cache.get(7, &a), None, "an older version is gone");
    }
}
