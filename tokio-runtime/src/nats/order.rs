//! The ordering rule: which changes of the stream a replica applies, skips
//! or refetches, as plain state with no I/O.
//!
//! The stream is one total order every replica reads alike, but it orders
//! *publications*, and a replica publishes a write only after the master
//! acknowledged it. Two replicas writing one row at nearly the same time
//! may publish in the other order than the master applied them; applying
//! the stream blindly would then leave every cache holding the value the
//! master overwrote. So, per row, a change is compared with the change
//! stored before it:
//!
//! - **Ordered** when both come from one replica (its writes are serial),
//!   or when this one's write began after the earlier one was stored (then
//!   the earlier one was committed first): applied in stream order.
//! - **Concurrent** otherwise: no replica can tell which the master kept,
//!   so every replica refetches that row from the master (the refetch
//!   happens after both were committed, so it reads the winner).
//!
//! Every replica computes the same verdicts from the same stream. On top,
//! a replica skips its own changes of this run (its cache has them
//! already; those of an earlier run, before a crash, are applied: the
//! cache may have lost them), and a
//! remote change to a row while one of its own writes to that row is on
//! its way (that write comes later in the stream and wins); if a remote
//! change slipped into its cache after its own write, the own change is
//! applied again when it comes back.
//!
//! Memory is bounded: a row's last change is forgotten once it is older
//! than the [window](Ordering::new); a change whose write began before the
//! oldest forgotten one was stored is treated as concurrent.

use std::collections::HashMap;

use super::message::Change;

/// What to do with one change read from the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Apply it through `handle_event`.
    Apply,
    /// Nothing to do (an own change the cache has, or a remote one a later
    /// own change overrides).
    Skip,
    /// Concurrent writes: fetch the row from the master and apply that.
    Refetch,
}

#[derive(Clone, Debug)]
struct Last {
    origin: String,
    stored_ms: u64,
}

/// Own writes of one row on their way through the stream.
#[derive(Clone, Debug, Default)]
struct Own {
    /// Registered and not yet read back.
    pending: u32,
    /// The tick at which a remote change to the row was last applied.
    remote_applied: u64,
}

/// The rule's state for one table on one replica.
#[derive(Debug)]
pub(crate) struct Ordering {
    replica: String,
    boot: u64,
    window_ms: u64,
    skew_ms: u64,
    last: HashMap<String, Last>,
    own: HashMap<String, Own>,
    /// Changes stored before this were forgotten (or never seen).
    horizon_ms: u64,
    /// Counter ordering registrations and applications.
    tick: u64,
}

impl Ordering {
    /// The rule for `replica`: rows' last changes are kept `window_ms`;
    /// clocks of different replicas may differ by up to `skew_ms`.
    pub(crate) fn new(replica: &str, boot: u64, window_ms: u64, skew_ms: u64) -> Self {
        Ordering {
            replica: replica.to_string(),
            boot,
            window_ms,
            skew_ms,
            last: HashMap::new(),
            own: HashMap::new(),
            horizon_ms: 0,
            tick: 0,
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Reading starts (again) at a position whose earlier changes this
    /// state may not have seen: they are treated as stored at `now_ms`.
    pub(crate) fn resume(&mut self, now_ms: u64) {
        self.horizon_ms = self.horizon_ms.max(now_ms);
    }

    /// An own write of `id` was acknowledged by the master and is about to
    /// be published; returns the tick its message carries.
    pub(crate) fn register_own(&mut self, id: Option<&str>) -> u64 {
        let tick = self.next_tick();
        if let Some(id) = id {
            self.own.entry(id.to_string()).or_default().pending += 1;
        }
        tick
    }

    /// An own change that was registered will never be read back (its
    /// publication was given up and replaced by a reset).
    pub(crate) fn abandon_own(&mut self, id: Option<&str>) {
        if let Some(id) = id {
            self.finish_own(id);
        }
    }

    fn finish_own(&mut self, id: &str) {
        if let Some(own) = self.own.get_mut(id) {
            own.pending = own.pending.saturating_sub(1);
            if own.pending == 0 {
                self.own.remove(id);
            }
        }
    }

    /// A remote change to `id` has been applied to the cache (told after
    /// the apply finished).
    pub(crate) fn applied_remote(&mut self, id: &str) {
        let tick = self.next_tick();
        if let Some(own) = self.own.get_mut(id) {
            own.remote_applied = tick;
        }
    }

    /// Judge `change`, stored in the stream at `stored_ms`.
    pub(crate) fn judge(&mut self, change: &Change, stored_ms: u64) -> Verdict {
        self.forget_before(stored_ms.saturating_sub(self.window_ms));
        // Only this run's own changes are known to be in the cache.
        let own = change.origin == self.replica && change.boot == self.boot;
        let Some(id) = change.id.as_deref() else {
            // A reset: everyone invalidates (safe in any order); the origin
            // did already.
            return if own { Verdict::Skip } else { Verdict::Apply };
        };
        if !change.carries_value() {
            // Marking stale is safe in any order.
            if own {
                self.finish_own(id);
                return Verdict::Skip;
            }
            return Verdict::Apply;
        }
        let concurrent = match self.last.get(id) {
            Some(last) => {
                last.origin != change.origin
                    && change.started_ms < last.stored_ms.saturating_add(self.skew_ms)
            }
            None => change.started_ms < self.horizon_ms.saturating_add(self.skew_ms),
        };
        self.last.insert(
            id.to_string(),
            Last {
                origin: change.origin.clone(),
                stored_ms,
            },
        );
        if concurrent {
            if own {
                self.finish_own(id);
            }
            return Verdict::Refetch;
        }
        if own {
            let slipped = self
                .own
                .get(id)
                .is_some_and(|entry| entry.remote_applied > change.tick);
            self.finish_own(id);
            return if slipped {
                Verdict::Apply
            } else {
                Verdict::Skip
            };
        }
        if self.own.get(id).is_some_and(|entry| entry.pending > 0) {
            return Verdict::Skip;
        }
        Verdict::Apply
    }

    fn forget_before(&mut self, cutoff_ms: u64) {
        if self.last.len() < 1024 {
            // Small: not worth a sweep on every change.
            return;
        }
        let mut newest_forgotten = self.horizon_ms;
        self.last.retain(|_, last| {
            let keep = last.stored_ms >= cutoff_ms;
            if !keep {
                newest_forgotten = newest_forgotten.max(last.stored_ms);
            }
            keep
        });
        self.horizon_ms = newest_forgotten;
    }

    /// Rows whose last change is remembered (for tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use diorama_core::record;

    use super::super::message::Op;
    use super::*;

    fn patch(origin: &str, id: &str, started_ms: u64, tick: u64) -> Change {
        Change {
            origin: origin.into(),
            id: Some(id.into()),
            op: Op::Patch(record! { "n" => 1 }),
            started_ms,
            tick,
            boot: 1,
        }
    }

    #[test]
    fn sequential_writes_from_different_replicas_apply_in_stream_order() {
        let mut a = Ordering::new("a", 1, 60_000, 0);
        // b wrote at 100 (stored 105); c began at 110, after that.
        assert_eq!(a.judge(&patch("b", "x", 100, 1), 105), Verdict::Apply);
        assert_eq!(a.judge(&patch("c", "x", 110, 1), 112), Verdict::Apply);
        // One replica's writes are serial: never concurrent.
        assert_eq!(a.judge(&patch("c", "x", 111, 2), 113), Verdict::Apply);
    }

    #[test]
    fn overlapping_writes_from_different_replicas_refetch_everywhere() {
        for replica in ["a", "b", "c"] {
            let mut rule = Ordering::new(replica, 1, 60_000, 0);
            if replica == "b" {
                rule.register_own(Some("x"));
            }
            if replica == "c" {
                rule.register_own(Some("x"));
            }
            let first = rule.judge(&patch("b", "x", 100, 1), 105);
            // c began at 103, before b's change was stored: order unknown.
            let second = rule.judge(&patch("c", "x", 103, 1), 106);
            assert_eq!(second, Verdict::Refetch, "on {replica}");
            let expected_first = match replica {
                "b" => Verdict::Skip,
                "c" => Verdict::Skip, // its own later write overrides
                _ => Verdict::Apply,
            };
            assert_eq!(first, expected_first, "on {replica}");
        }
        // The skew widens the window.
        let mut rule = Ordering::new("a", 1, 60_000, 10);
        rule.judge(&patch("b", "x", 100, 1), 105);
        assert_eq!(rule.judge(&patch("c", "x", 110, 1), 111), Verdict::Refetch);
    }

    #[test]
    fn own_changes_are_skipped_unless_a_remote_one_slipped_in_after_them() {
        let mut rule = Ordering::new("a", 1, 60_000, 0);
        let tick = rule.register_own(Some("x"));
        assert_eq!(rule.judge(&patch("a", "x", 100, tick), 101), Verdict::Skip);

        // A remote change judged before the own write registered, applied after.
        let remote = patch("b", "y", 200, 1);
        assert_eq!(rule.judge(&remote, 201), Verdict::Apply);
        let tick = rule.register_own(Some("y"));
        rule.applied_remote("y");
        assert_eq!(rule.judge(&patch("a", "y", 205, tick), 206), Verdict::Apply);
        // Nothing pending any more: remote changes apply again.
        assert_eq!(rule.judge(&patch("b", "y", 300, 2), 301), Verdict::Apply);
    }

    #[test]
    fn resets_and_invalidations_apply_in_any_order_and_own_ones_are_skipped() {
        let mut rule = Ordering::new("a", 1, 60_000, 0);
        let reset = Change {
            origin: "b".into(),
            id: None,
            op: Op::Reset,
            started_ms: 0,
            tick: 0,
            boot: 1,
        };
        assert_eq!(rule.judge(&reset, 10), Verdict::Apply);
        let own_reset = Change {
            origin: "a".into(),
            ..reset
        };
        assert_eq!(rule.judge(&own_reset, 11), Verdict::Skip);
        let invalidate = Change {
            origin: "b".into(),
            id: Some("x".into()),
            op: Op::Invalidate,
            started_ms: 0,
            tick: 0,
            boot: 1,
        };
        assert_eq!(rule.judge(&invalidate, 12), Verdict::Apply);
    }

    #[test]
    fn after_resuming_changes_begun_before_are_refetched_and_memory_is_bounded() {
        let mut rule = Ordering::new("a", 1, 1_000, 0);
        rule.resume(500);
        assert_eq!(rule.judge(&patch("b", "x", 400, 1), 600), Verdict::Refetch);
        assert_eq!(rule.judge(&patch("b", "y", 700, 1), 701), Verdict::Apply);
        for i in 0..2_000u64 {
            rule.judge(&patch("b", &format!("k{i}"), 1_000 + i, i), 1_000 + i);
        }
        rule.judge(&patch("b", "late", 10_000, 1), 10_000);
        assert!(rule.remembered() < 1_100, "{}", rule.remembered());
        // A write begun before the forgotten ones were stored: concurrent.
        assert_eq!(
            rule.judge(&patch("c", "k5", 1_500, 1), 10_001),
            Verdict::Refetch
        );
    }

    #[test]
    fn own_changes_of_an_earlier_run_are_applied() {
        let mut rule = Ordering::new("a", 2, 60_000, 0);
        // Written by "a" before it crashed (boot 1), read after the restart.
        assert_eq!(rule.judge(&patch("a", "x", 100, 5), 101), Verdict::Apply);
        // Still one origin: its next change is ordered after it.
        let mut next = patch("a", "x", 102, 1);
        next.boot = 2;
        let tick = rule.register_own(Some("x"));
        next.tick = tick;
        assert_eq!(rule.judge(&next, 103), Verdict::Skip);
    }

    #[test]
    fn an_abandoned_own_write_stops_shadowing_remote_changes() {
        let mut rule = Ordering::new("a", 1, 60_000, 0);
        rule.register_own(Some("x"));
        assert_eq!(rule.judge(&patch("b", "x", 100, 1), 101), Verdict::Skip);
        rule.abandon_own(Some("x"));
        assert_eq!(rule.judge(&patch("b", "x", 200, 2), 201), Verdict::Apply);
    }
}
