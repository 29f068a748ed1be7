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
//! - `diorama.master` around each call the core makes on the Dio's
//!   master (a chunk load's window, a total, a row read for a record view
//!   or a refetch, a queued write): `op` (the [`TableShell`] method:
//!   `fetch_window`, `count`, `get`, `apply_write`), `query` (its `Debug`
//!   form; empty for a call by id), `id` (empty for a call by query),
//!   `offset` and `limit` for a window, `write` (the write's kind) for
//!   `apply_write`, `outcome`. A chunk load's master call is a child of
//!   its `diorama.load_chunk`, a write's of its `diorama.write`. Calls an
//!   application's own callbacks make on `dio.master()` are theirs to
//!   wrap.
//!
//! The master's span is opened at each call site rather than by a shell
//! wrapped around the master: the Dio hands out its master's shell as is
//! (`dio.master().shell()`), and replicas recognise a Dio by that shell.
//!
//! [`TableShell`]: crate::vista::TableShell
//!
//! `outcome` is recorded when the work ends: `ok`, or the error's kind in
//! words ([`ErrorKind::as_str`](crate::ErrorKind::as_str): `failed`, `not
//! found`, …) with the error's text as `error`. A
//! span dropped before its work ended (an aborted load) records none.

use core::future::Future;
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

/// The span of one call `op` on the master of `dio`, its other fields
/// empty (set them with [`Span::record`]).
pub(crate) fn master(dio: &str, op: &'static str) -> Span {
    tracing::info_span!(
        "diorama.master",
        dio,
        op,
        query = Empty,
        id = Empty,
        offset = Empty,
        limit = Empty,
        write = Empty,
        outcome = Empty,
        error = Empty,
    )
}

/// The span of a master `get` of row `id`.
pub(crate) fn master_get(dio: &str, id: &str) -> Span {
    let span = master(dio, "get");
    span.record("id", id);
    span
}

/// The span of a master `fetch_window` of `query`.
pub(crate) fn master_window(dio: &str, query: &Query, offset: usize, limit: usize) -> Span {
    let span = master(dio, "fetch_window");
    span.record("query", tracing::field::debug(query));
    span.record("offset", offset);
    span.record("limit", limit);
    span
}

/// The span of a master `count` of `query`.
pub(crate) fn master_count(dio: &str, query: &Query) -> Span {
    let span = master(dio, "count");
    span.record("query", tracing::field::debug(query));
    span
}

/// The span of a master `apply_write` of `op`.
pub(crate) fn master_write(dio: &str, op: &WriteOp) -> Span {
    let span = master(dio, "apply_write");
    span.record("write", op_name(op));
    span.record("id", op.id().unwrap_or(""));
    span
}

/// Run the master call `call` inside `span` and record how it ended.
pub(crate) async fn master_call<T>(span: Span, call: impl Future<Output = Result<T>>) -> Result<T> {
    use tracing::Instrument;
    let result = call.instrument(span.clone()).await;
    outcome(&span, &result);
    result
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
