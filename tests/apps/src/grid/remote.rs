//! The master as the grid presents it: the SQLite table behind a
//! [`CountedShell`] — calls counted, optionally slow, and refusing a
//! negative price the way a remote API validates its input, so a failed
//! write can be shown — or, with `--remote`, a running `serve` through
//! [`HttpVista`], counted the same way (the service validates).

use std::sync::Arc;
use std::time::Duration;

use diorama_core::Result;
use diorama_core::Runtime;
use diorama_std::http::HttpVista;
use diorama_std::sqlite::SqliteVista;

use crate::sample::CountedShell;

/// `sqlite` with `latency` (timed by `runtime`) before every call and
/// [`validate`] on every write.
pub fn master(sqlite: SqliteVista, latency: Duration, runtime: Arc<dyn Runtime>) -> CountedShell {
    CountedShell::new(Arc::new(sqlite), latency, runtime).with_validation(validate)
}

/// The `serve` API at `url` through [`HttpVista`], with `latency` (timed
/// by `runtime`) before every call. No validation here: the service
/// refuses what it refuses (a `400`, shown as the write's failure).
///
/// Errors: `InvalidInput` for a URL HttpVista cannot use.
pub fn http_master(
    url: &str,
    latency: Duration,
    runtime: Arc<dyn Runtime>,
) -> Result<CountedShell> {
    let http = HttpVista::serve(url)?;
    Ok(CountedShell::new(Arc::new(http), latency, runtime))
}

/// The remote API's validation, shared with `serve`: see
/// [`products::validate`](crate::sample::products::validate).
pub use crate::sample::products::validate;
