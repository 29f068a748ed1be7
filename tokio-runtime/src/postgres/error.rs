//! PostgreSQL and pool errors as Diorama errors, with a kind callers can
//! branch on.
//!
//! | what happened | kind |
//! |---|---|
//! | no connection, connection lost, connect or pool timeout, server shutting down or out of connections (SQLSTATE `08…`, `57P…`, `53…`), a statement timeout (`57014`) | `Unavailable` |
//! | bad data for the column: out of range, too long, not a valid value of its type (`22…`); a column that cannot be written (`428C9`) | `InvalidInput` |
//! | a constraint refused the row (`23…`: unique, not null, check, foreign key) | `Failed`, naming the constraint |
//! | the table or a column is gone (`42P01`, `42703`) | `NotFound` |
//! | a value the client cannot decode | `Corrupt` |
//! | anything else the server refused | `Failed` |

use std::error::Error as _;

use deadpool_postgres::PoolError;
use diorama_core::{Error, ErrorKind};
use tokio_postgres::error::SqlState;

/// `err` as an [`Error`] whose message starts with `context`.
pub(crate) fn pg_error(context: &str, err: &tokio_postgres::Error) -> Error {
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        let mut message = format!("{context}: {} (SQLSTATE {})", db.message(), code.code());
        if let Some(detail) = db.detail() {
            message.push_str("; ");
            message.push_str(detail);
        }
        if let Some(hint) = db.hint() {
            message.push_str("; hint: ");
            message.push_str(hint);
        }
        return Error::new(db_kind(code), message);
    }
    let text = err.to_string();
    let lost = err.is_closed()
        || is_io(err)
        || text.starts_with("error connecting")
        || text.starts_with("timeout")
        || text.starts_with("error communicating")
        || text.starts_with("error performing authentication");
    let kind = if lost {
        ErrorKind::Unavailable
    } else if text.starts_with("error deserializing") {
        ErrorKind::Corrupt
    } else if text.starts_with("error serializing") || text.starts_with("invalid configuration") {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Failed
    };
    let cause = err
        .source()
        .map(|source| format!(": {source}"))
        .unwrap_or_default();
    Error::new(kind, format!("{context}: {text}{cause}"))
}

/// The kind of a server error, by its SQLSTATE (see the module docs).
fn db_kind(code: &SqlState) -> ErrorKind {
    let code = code.code();
    match code {
        // Statement timeout, or a cancel: the server did not answer in time.
        "57014" => ErrorKind::Unavailable,
        "428C9" => ErrorKind::InvalidInput,
        "42P01" | "42703" => ErrorKind::NotFound,
        _ if code.starts_with("08") || code.starts_with("57P") || code.starts_with("53") => {
            ErrorKind::Unavailable
        }
        _ if code.starts_with("22") => ErrorKind::InvalidInput,
        _ => ErrorKind::Failed,
    }
}

fn is_io(err: &tokio_postgres::Error) -> bool {
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// True when `err` is a unique violation of the constraint or index named
/// `constraint`.
pub(crate) fn is_unique_violation_of(err: &tokio_postgres::Error, constraint: &str) -> bool {
    err.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::UNIQUE_VIOLATION && db.constraint() == Some(constraint)
    })
}

/// A pool error: timeouts and a closed pool are `Unavailable`.
pub(crate) fn pool_error(context: &str, err: PoolError) -> Error {
    match err {
        PoolError::Backend(err) => pg_error(context, &err),
        PoolError::Timeout(kind) => Error::unavailable(format!(
            "{context}: no connection to PostgreSQL within the timeout ({kind:?})"
        )),
        PoolError::Closed => Error::unavailable(format!("{context}: the pool is closed")),
        PoolError::NoRuntimeSpecified => {
            Error::failed(format!("{context}: the pool has no runtime"))
        }
        PoolError::PostCreateHook(err) => {
            Error::unavailable(format!("{context}: setting up a connection failed: {err}"))
        }
    }
}

/// A call that got no answer within `timeout`: the connection may be gone,
/// and a write may or may not have been applied.
pub(crate) fn no_answer(context: &str, timeout: std::time::Duration, write: bool) -> Error {
    let outcome = if write {
        "; the outcome is unknown (it may have been applied)"
    } else {
        ""
    };
    Error::unavailable(format!(
        "{context}: PostgreSQL did not answer within {timeout:?}{outcome}"
    ))
}
