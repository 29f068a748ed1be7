//! Tracing spans of a Dio's work, for a subscriber the application
//! installs (`tracing`, without its default features, so the core stays
//! `no_std`; with no subscriber a span costs one atomic load).
//!
//! Three spans, each at `INFO` level with the Dio's name as `dio`:
//!
//! - `diorama.write` around one queued write, from the worker taking it
//!   to its outcome: `op` (`insert`, `replace`, `patch`, `delete`,
//!   `delete_all`), `id` (empty for `delete_all` or an insert whose id the
//!   master chooses), `outcome`.
//! - `diorama.load_chunk` around one chunk load of a table scenery:
//!   `start` and `end` of the range, `query` (its `Debug` form),
//!   `outcome`.
//! - `diorama.refresh` around one refresh (manual or scheduled):
//!   `outcome`.
//!
//! `outcome` is recorded when the work ends: `ok`, or the error's kind in
//! words ([`ErrorKind::as_str`](crate::ErrorKind::as_str): `failed`, `not
//! found`, …) with the error's text as `error`. A
//! span dropped before its work ended (an aborted load) records none.

use core::ops::Range;

use tracing::Span;
use tracing::field::Empty;

use super::WriteOp;
use crate::error::Result;
use crate::vista::Query;

/// The span of one write of `dio`.
pub(crate) fn write(dio: &str, op: &WriteOp) -> Span {
    tracing::info_span!(
        "diorama.write",
        dio,
        op = op_name(op),
        id = op.id().unwrap_or(""),
        outcome = Empty,
        error = Empty,
    )
}

/// The span of one chunk load of `range` of `query`.
pub(crate) fn load_chunk(dio: &str, range: &Range<usize>, query: &Query) -> Span {
    tracing::info_span!(
        "diorama.load_chunk",
        dio,
        start = range.start,
        end = range.end,
        query = ?query,
        outcome = Empty,
        error = Empty,
    )
}

/// The span of one refresh of `dio`.
pub(crate) fn refresh(dio: &str) -> Span {
    tracing::info_span!("diorama.refresh", dio, outcome = Empty, error = Empty)
}

/// Record how the work of `span` ended.
pub(crate) fn outcome<T>(span: &Span, result: &Result<T>) {
    match result {
        Ok(_) => {
            span.record("outcome", "ok");
        }
        Err(error) => {
            span.record("outcome", error.kind().as_str());
            span.record("error", tracing::field::display(error));
        }
    }
}

/// The op's kind in words.
pub(crate) fn op_name(op: &WriteOp) -> &'static str {
    match op {
        WriteOp::Insert { .. } => "insert",
        WriteOp::Replace { .. } => "replace",
        WriteOp::Patch { .. } => "patch",
        WriteOp::Delete { .. } => "delete",
        WriteOp::DeleteAll => "delete_all",
    }
}
