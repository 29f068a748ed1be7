//! The cache backend conformance suite: every [`CacheBackend`] must pass it.
//!
//! Each check is a plain function taking a factory that returns a **fresh,
//! empty** backend on every call (no tables yet). [`run_all`] runs every
//! check; [`cache_conformance!`](crate::cache_conformance) expands to one
//! `#[test]` per check so failures are reported one by one:
//!
//! ```ignore
//! use std::sync::Arc;
//! use diorama_core::MemoryBackend;
//!
//! diorama_tests::cache_conformance!(memory, || Arc::new(MemoryBackend::new()));
//! ```
//!
//! The checks assert only what the [`CacheTable`](diorama_core::CacheTable)
//! and [`CacheBackend`] contracts promise, so a backend built on any storage
//! engine passes them unchanged.

mod concurrency;
mod meta;
mod rows;
mod support;
mod tables;
mod values;

use std::sync::Arc;

pub use diorama_core::cache::CacheBackend;

pub use concurrency::{batches_are_atomic_to_readers, concurrent_readers_see_whole_batches};
pub use meta::{
    batch_applies_deletes_before_puts, meta_get_put_delete,
    meta_prefix_delete_removes_only_the_prefix, meta_range_reads_positions_in_order,
    meta_range_respects_bounds_and_limit,
};
pub use rows::{
    clear_removes_rows_and_meta, delete_reports_whether_the_row_existed,
    flush_completes_and_keeps_data, get_many_keeps_order_and_reports_missing,
    put_overwrites_and_count_follows, scan_is_ascending_by_id_bytes,
    scan_pages_visit_every_row_once,
};
pub use tables::{
    different_names_are_isolated, drop_table_removes_and_list_tables_reports,
    same_name_shares_data, table_reports_its_name,
};
pub use values::{
    round_trips_every_value_kind, round_trips_row_state_and_fetched_at, round_trips_unusual_ids,
};

/// One conformance check: runs against backends from the factory, panics on
/// the first broken promise.
pub type Check = fn(&dyn Fn() -> Arc<dyn CacheBackend>);

/// Expands to one `#[test]` per conformance check, inside a module named
/// `$prefix`, each calling `$factory()` for fresh, empty backends.
///
/// `$factory` is any callable returning an `Arc` of a [`CacheBackend`]
/// (`Arc<dyn CacheBackend>` or a concrete backend type); paths in it resolve
/// as at the invocation site.
///
/// [`CacheBackend`]: diorama_core::CacheBackend
#[macro_export]
macro_rules! cache_conformance {
    ($prefix:ident, $factory:expr $(,)?) => {
        $crate::cache_conformance!(@list [@tests $prefix, $factory]);
    };
    // The one list of checks, shared by the tests below and `CHECKS`.
    (@list [$($mode:tt)*]) => {
        $crate::cache_conformance!($($mode)* ;
            round_trips_every_value_kind,
            round_trips_unusual_ids,
            round_trips_row_state_and_fetched_at,
            get_many_keeps_order_and_reports_missing,
            put_overwrites_and_count_follows,
            delete_reports_whether_the_row_existed,
            scan_is_ascending_by_id_bytes,
            scan_pages_visit_every_row_once,
            clear_removes_rows_and_meta,
            flush_completes_and_keeps_data,
            meta_get_put_delete,
            meta_range_reads_positions_in_order,
            meta_range_respects_bounds_and_limit,
            meta_prefix_delete_removes_only_the_prefix,
            batch_applies_deletes_before_puts,
            table_reports_its_name,
            same_name_shares_data,
            different_names_are_isolated,
            drop_table_removes_and_list_tables_reports,
            batches_are_atomic_to_readers,
            concurrent_readers_see_whole_batches
        );
    };
    (@tests $prefix:ident, $factory:expr ; $($check:ident),+) => {
        mod $prefix {
            #[allow(unused_imports)]
            use super::*;

            fn make() -> ::std::sync::Arc<dyn $crate::conformance::CacheBackend> {
                ($factory)()
            }

            $(
                #[test]
                fn $check() {
                    $crate::conformance::$check(&make);
                }
            )+
        }
    };
    (@table ; $($check:ident),+) => {
        /// Every check with its name, in the order [`run_all`] runs them.
        pub const CHECKS: &[(&str, Check)] = &[$((stringify!($check), $check as Check)),+];
    };
}

crate::cache_conformance!(@list [@table]);

/// Run every check in [`CHECKS`] against backends from `make`, which must
/// return a fresh, empty backend on each call. Panics on the first failure,
/// after printing the failing check's name.
pub fn run_all(make: &dyn Fn() -> Arc<dyn CacheBackend>) {
    for (name, check) in CHECKS {
        eprintln!("cache conformance: {name}");
        check(make);
    }
}
