//! The master as the grid presents it: the SQLite table behind a
//! [`CountedShell`] — calls counted, optionally slow, and refusing a
//! negative price the way a remote API validates its input, so a failed
//! write can be shown.

use std::sync::Arc;
use std::time::Duration;

use diorama_core::{Error, Record, Result, Runtime, Value};
use diorama_std::sqlite::SqliteVista;

use crate::sample::CountedShell;

/// `sqlite` with `latency` (timed by `runtime`) before every call and
/// [`validate`] on every write.
pub fn master(sqlite: SqliteVista, latency: Duration, runtime: Arc<dyn Runtime>) -> CountedShell {
    CountedShell::new(Arc::new(sqlite), latency, runtime).with_validation(validate)
}

/// The remote API's validation: a price, when written, must be a
/// non-negative number (or null).
///
/// Errors: `InvalidInput` naming the refused price.
pub fn validate(record: &Record) -> Result<()> {
    match record.get("price") {
        None => Ok(()),
        Some(price) => match price.as_f64() {
            Some(p) if p >= 0.0 => Ok(()),
            _ if matches!(price, Value::Null) => Ok(()),
            _ => Err(Error::invalid_input(format!(
                "the master refuses price {price}: it must not be negative"
            ))),
        },
    }
}
