//! The runtime conformance suite: every [`Runtime`](diorama_core::Runtime)
//! must pass it, driven through its [`Harness`].
//!
//! Each check is a `pub fn(&H)` for any [`Harness`] `H`, one module per
//! part of the contract, asserting only what `Runtime` and `RuntimeExt`
//! promise (and, in [`harness`], what the suites need from the harness):
//!
//! - [`tasks`]: spawn and join, from tasks and other threads, many tasks,
//!   a dropped handle detaches;
//! - [`abort`]: abort through every handle, a sleeping task's timer goes
//!   with it, a finished task keeps its output, abort on drop;
//! - [`panics`]: a panicking task is lost, reported as the harness says
//!   ([`TaskPanics`](crate::harness::TaskPanics)), and nothing else is;
//! - [`timers`]: deadline order, never early (exactly on time on a virtual
//!   clock), a dropped sleep never wakes anything, timeouts;
//! - [`clocks`]: `now` is monotonic, the wall clock plausible and following
//!   a virtual clock exactly.
//!
//! [`runtime_conformance!`](macro@crate::runtime_conformance) expands to one
//! `#[test]` per check, each run once per seed of the harness's
//! [`RUN_SEEDS`](Harness::RUN_SEEDS):
//!
//! ```ignore
//! use diorama_tests::{backends::memory, harness::SimHarness};
//! diorama_tests::runtime_conformance!(sim, |seed| SimHarness::new(seed, memory()));
//! ```
//!
//! The macro's list is the one list of the suite: a new check is a
//! `pub fn` in its module plus one line there.

pub mod abort;
pub mod clocks;
pub mod harness;
pub mod panics;
mod support;
pub mod tasks;
pub mod timers;

#[cfg(doc)]
use crate::harness::Harness;

/// Expands to one `#[test]` per runtime check, inside a module named
/// `$prefix`, each running the check once per seed of the harness's
/// [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS) on a fresh harness
/// from `$make(seed)`.
///
/// `$make` is any callable `Fn(u64) -> H` with `H: Harness`; paths in it
/// resolve as at the invocation site. An optional
/// `ignore: [check = "reason", ..]` marks checks `#[ignore]` on this
/// harness only.
#[macro_export]
macro_rules! runtime_conformance {
    ($prefix:ident, $make:expr $(, ignore: [$($ignored:ident = $why:literal),* $(,)?])? $(,)?) => {
        $crate::__suite_tests!([$] $prefix, $crate::harness::run_seeds, $make,
            [$crate::runtime_conformance];
            [$($($ignored = $why),*)?];
            // The one list of the suite.
            harness::settle_runs_chains_of_wakes,
            harness::advance_fires_each_timer_at_its_deadline,
            tasks::spawn_delivers_the_output,
            tasks::many_tasks_run_to_their_end,
            tasks::a_dropped_handle_detaches_the_task,
            abort::abort_drops_the_future_and_frees_its_timer,
            abort::abort_handles_abort_and_a_finished_task_keeps_its_output,
            abort::abort_on_drop_stops_the_task,
            panics::a_panicking_task_is_lost_and_the_runtime_keeps_running,
            timers::timers_fire_in_deadline_order_never_early,
            timers::sleeping_tasks_wake_in_deadline_order_never_early,
            timers::a_dropped_sleep_never_wakes_anything,
            timers::timeouts_yield_the_output_or_none,
            clocks::now_is_monotonic,
            clocks::the_wall_clock_is_plausible_and_follows_time,
        );
    };
}
