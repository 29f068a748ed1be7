//! The viewport debounce rule: when a table view commits the viewport it
//! holds.
//!
//! Pure and synchronous (instants in, a decision out), so it is tested
//! directly; the table model applies it (`TableModel::handle_timeout`,
//! `poll_timeout`), and the loop in `table/viewport.rs` only sleeps until
//! the model's timeout or a newer viewport.
//!
//! # The rule
//! - **Zero debounce**: a request is committed as soon as the loop takes
//!   it, without arming a timer (a timer of zero still waits for the
//!   runtime's next tick: about 1 ms on tokio).
//! - **Otherwise, trailing edge only**: the request is committed once
//!   `debounce` passed with no newer request; each newer request replaces
//!   the held one and restarts the wait (a forced request keeps the burst
//!   forced).
//!
//! There is no leading edge: a viewport arriving after a quiet spell, with
//! no load running, still waits out the debounce. A non-zero debounce is
//! the application saying "wait until the UI settles": a leading commit
//! would load the first viewport of every scroll gesture (one fetch the
//! user has already scrolled past), and a viewport set in the same frame
//! as a sort or search would start a load in the old order before the
//! query change is seen. An application that wants every viewport at
//! once sets the debounce to zero.

use core::time::Duration;

use crate::runtime::Instant;

/// What a table view does with the viewport it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Commit it now.
    Commit,
    /// Wait this long for a newer request, then ask again.
    Wait(Duration),
}

/// The decision for a request held since the burst's last request arrived
/// at `last_request`, at `now`.
pub(crate) fn next(debounce: Duration, last_request: Instant, now: Instant) -> Next {
    let quiet = now.saturating_duration_since(last_request);
    match debounce.checked_sub(quiet) {
        Some(left) if !left.is_zero() => Next::Wait(left),
        _ => Next::Commit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_origin(Duration::from_millis(ms))
    }

    #[test]
    fn a_zero_debounce_commits_at_once() {
        assert_eq!(next(Duration::ZERO, at(5), at(5)), Next::Commit);
        // Even a request stamped after `now` (clocks read on two threads).
        assert_eq!(next(Duration::ZERO, at(6), at(5)), Next::Commit);
    }

    #[test]
    fn a_request_waits_out_the_debounce_even_after_a_quiet_spell() {
        // No leading edge: the first request after a long silence waits too.
        let debounce = Duration::from_millis(50);
        assert_eq!(
            next(debounce, at(10_000), at(10_000)),
            Next::Wait(Duration::from_millis(50))
        );
    }

    #[test]
    fn the_wait_is_what_is_left_of_the_debounce() {
        let debounce = Duration::from_millis(50);
        assert_eq!(
            next(debounce, at(100), at(130)),
            Next::Wait(Duration::from_millis(20))
        );
        assert_eq!(next(debounce, at(100), at(150)), Next::Commit);
        assert_eq!(next(debounce, at(100), at(400)), Next::Commit);
    }

    #[test]
    fn each_newer_request_restarts_the_wait() {
        let debounce = Duration::from_millis(50);
        // Requests at 0, 40 and 80 ms: nothing commits until 130 ms.
        let mut last = at(0);
        for t in [40, 80] {
            assert!(matches!(next(debounce, last, at(t)), Next::Wait(_)));
            last = at(t);
        }
        assert_eq!(
            next(debounce, last, at(120)),
            Next::Wait(Duration::from_millis(10))
        );
        assert_eq!(next(debounce, last, at(130)), Next::Commit);
    }
}
