//! rusqlite errors as Diorama errors, with a kind callers can branch on.

use diorama_core::{Error, ErrorKind};
use rusqlite::ErrorCode;

/// `err` as an [`Error`] whose message starts with `context`.
///
/// A damaged or foreign file is `Corrupt`; an interrupted statement (a
/// read whose caller stopped waiting) is `Cancelled`; a uniqueness clash
/// is `Failed` with a message naming it; everything else SQLite refuses is
/// `Failed`.
pub(crate) fn sql_error(context: &str, err: rusqlite::Error) -> Error {
    let kind = match &err {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => ErrorKind::Corrupt,
            ErrorCode::OperationInterrupted => ErrorKind::Cancelled,
            _ => ErrorKind::Failed,
        },
        rusqlite::Error::Utf8Error(..) => ErrorKind::Corrupt,
        _ => ErrorKind::Failed,
    };
    Error::new(kind, format!("{context}: {err}"))
}

/// True when `err` is a PRIMARY KEY or UNIQUE constraint violation.
pub(crate) fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}
