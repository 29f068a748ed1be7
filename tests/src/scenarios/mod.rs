//! Acceptance scenarios, each written once over a
//! [`Harness`](crate::harness::Harness) and instantiated per runtime and
//! cache backend by a suite macro.

pub mod dio;
pub mod scenery;

/// Expands to every acceptance suite ([`dio_suite!`](crate::dio_suite) and
/// [`scenery_suite!`](crate::scenery_suite)) on every harness, over the
/// backends of `$backends`, an expression of a
/// [`BackendFactory`](crate::harness::BackendFactory) evaluated once per
/// harness: the one call a cache backend's test file makes.
///
/// The tests land in one module per harness, `sim`, `smol`,
/// `tokio_current`, `tokio_multi` and `embassy`, each with a `dio` and a
/// `scenery` module. A backend that must skip a scenario on one harness
/// writes these ten suite calls out instead, with `ignore:` on the one that
/// needs it.
///
/// ```ignore
/// diorama_tests::acceptance_suites!(diorama_tests::backends::memory());
/// ```
#[macro_export]
macro_rules! acceptance_suites {
    ($backends:expr $(,)?) => {
        mod sim {
            #[allow(unused_imports)]
            use super::*;
            $crate::dio_suite!(dio, |seed| $crate::harness::SimHarness::new(
                seed, $backends
            ));
            $crate::scenery_suite!(scenery, |seed| $crate::harness::SimHarness::new(
                seed, $backends
            ));
        }
        mod smol {
            #[allow(unused_imports)]
            use super::*;
            $crate::dio_suite!(dio, |_| $crate::harness::SmolHarness::new($backends));
            $crate::scenery_suite!(scenery, |_| $crate::harness::SmolHarness::new($backends));
        }
        mod tokio_current {
            #[allow(unused_imports)]
            use super::*;
            $crate::dio_suite!(dio, |_| {
                $crate::harness::TokioHarness::current_thread_paused($backends)
            });
            $crate::scenery_suite!(scenery, |_| {
                $crate::harness::TokioHarness::current_thread_paused($backends)
            });
        }
        mod tokio_multi {
            #[allow(unused_imports)]
            use super::*;
            $crate::dio_suite!(dio, |_| $crate::harness::TokioHarness::multi_thread(
                $backends
            ));
            $crate::scenery_suite!(scenery, |_| {
                $crate::harness::TokioHarness::multi_thread($backends)
            });
        }
        mod embassy {
            #[allow(unused_imports)]
            use super::*;
            $crate::dio_suite!(dio, |_| $crate::harness::EmbassyHarness::new($backends));
            $crate::scenery_suite!(scenery, |_| {
                $crate::harness::EmbassyHarness::new($backends)
            });
        }
    };
}
