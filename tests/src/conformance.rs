//! The cache backend conformance suite: every [`CacheBackend`] must pass it.
//!
//! Each check is a plain function, one module per part of the contract,
//! taking a factory that returns a **fresh, empty** backend on every call
//! (no tables yet). [`cache_conformance!`](crate::cache_conformance)
//! expands to one `#[test]` per check so failures are reported one by one;
//! [`run_all`] runs every check in one go:
//!
//! ```ignore
//! diorama_tests::cache_conformance!(cache, diorama_tests::backends::memory());
//! ```
//!
//! The checks assert only what the [`CacheTable`](diorama_core::CacheTable)
//! and [`CacheBackend`] contracts promise, so a backend built on any storage
//! engine passes them unchanged. The macro's list is the one list of the
//! suite: a new check is a `pub fn` in its module plus one line there
//! ([`CHECKS`] is generated from the same list).

pub mod concurrency;
pub mod meta;
pub mod rows;
mod support;
pub mod tables;
pub mod values;

use std::sync::Arc;

pub use diorama_core::cache::CacheBackend;

use crate::harness::BackendFactory;

/// One conformance check: runs against backends from the factory, panics on
/// the first broken promise.
pub type Check = fn(&dyn Fn() -> Arc<dyn CacheBackend>);

/// Expands to one `#[test]` per conformance check, inside a module named
/// `$prefix`, each taking fresh, empty backends from `$backends`, an
/// expression of a [`BackendFactory`] (evaluated once per test); paths in
/// it resolve as at the invocation site. An optional
/// `ignore: [check = "reason", ..]` marks checks `#[ignore]` for this
/// backend only.
#[macro_export]
macro_rules! cache_conformance {
    ($prefix:ident, $backends:expr $(, ignore: [$($ignored:ident = $why:literal),* $(,)?])? $(,)?) => {
        $crate::cache_conformance!(@list [@tests $prefix, $backends, [$($($ignored = $why),*)?]]);
    };
    // The one list of checks, shared by the tests below and `CHECKS`.
    (@list [$($mode:tt)*]) => {
        $crate::cache_conformance!($($mode)* ;
            values::round_trips_every_value_kind,
            values::round_trips_unusual_ids,
            values::round_trips_row_state_and_fetched_at,
            rows::get_many_keeps_order_and_reports_missing,
            rows::put_overwrites_and_count_follows,
            rows::delete_reports_whether_the_row_existed,
            rows::scan_is_ascending_by_id_bytes,
            rows::scan_pages_visit_every_row_once,
            rows::clear_removes_rows_and_meta,
            rows::flush_completes_and_keeps_data,
            meta::meta_get_put_delete,
            meta::meta_range_reads_positions_in_order,
            meta::meta_range_respects_bounds_and_limit,
            meta::meta_prefix_delete_removes_only_the_prefix,
            meta::batch_applies_deletes_before_puts,
            tables::table_reports_its_name,
            tables::same_name_shares_data,
            tables::different_names_are_isolated,
            tables::drop_table_removes_and_list_tables_reports,
            concurrency::batches_are_atomic_to_readers,
            concurrency::concurrent_readers_see_whole_batches,
        );
    };
    (@tests $prefix:ident, $backends:expr, [$($ignored:ident = $why:literal),*] ; $($check:tt)+) => {
        $crate::__suite_tests!([$] $prefix, $crate::conformance::run_check, $backends,
            [$crate::conformance];
            [$($ignored = $why),*];
            $($check)+
        );
    };
    (@table ; $($module:ident :: $check:ident),+ $(,)?) => {
        /// Every check with its name, in the order [`run_all`] runs them.
        pub const CHECKS: &[(&str, Check)] = &[$((stringify!($check), $module::$check as Check)),+];
    };
}

crate::cache_conformance!(@list [@table]);

/// Run `check` against backends from `backends`: what each test of
/// [`cache_conformance!`](crate::cache_conformance) does.
pub fn run_check(backends: BackendFactory, check: Check) {
    check(&*backends);
}

/// Run every check in [`CHECKS`] against backends from `make`, which must
/// return a fresh, empty backend on each call. Panics on the first failure,
/// after printing the failing check's name.
pub fn run_all(make: &dyn Fn() -> Arc<dyn CacheBackend>) {
    for (name, check) in CHECKS {
        eprintln!("cache conformance: {name}");
        check(make);
    }
}
