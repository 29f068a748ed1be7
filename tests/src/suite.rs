//! The expansion every suite macro shares: one `#[test]` per entry of the
//! suite's one list, each optionally ignored on the harness at hand.
//!
//! A suite macro ([`dio_suite!`](crate::dio_suite),
//! [`scenery_suite!`](crate::scenery_suite),
//! [`runtime_conformance!`](crate::runtime_conformance),
//! [`cache_conformance!`](crate::cache_conformance)) holds its list of
//! `module::check` entries and hands it here with a runner, so the list is
//! the only place a check is named.

/// One `#[test]` per `module::name` entry, in a module `$prefix`, each
/// calling `$runner($make, <root>::module::name)`; entries named in the
/// ignore list get `#[ignore = why]`. `$d` is a `$` token, so the inner
/// macro can have metavariables of its own.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_tests {
    (
        [$d:tt] $prefix:ident, $runner:path, $make:expr, [$($root:tt)*];
        [$($ignored:ident = $why:literal),*];
        $($module:ident :: $name:ident),+ $(,)?
    ) => {
        mod $prefix {
            #[allow(unused_imports)]
            use super::*;
            use $($root)* as __suite;

            // One arm per ignored entry (the first match wins), then the
            // plain test.
            macro_rules! suite_test {
                $(
                    ($d module:ident, $ignored) => {
                        #[test]
                        #[ignore = $why]
                        fn $ignored() {
                            $runner($make, __suite::$d module::$ignored);
                        }
                    };
                )*
                ($d module:ident, $d name:ident) => {
                    #[test]
                    fn $d name() {
                        $runner($make, __suite::$d module::$d name);
                    }
                };
            }

            $( suite_test!($module, $name); )+
        }
    };
}
