//! `TracedShell`: the Dio's master, each call in a `diorama.master` span
//! (see [`spans`](super::spans)).
//!
//! Wrapped once when the Dio opens, so every master call — chunk loads,
//! `on_query` warmers, record reads, writes, totals — is covered whatever
//! path made it, with no change to those paths.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use tracing::Instrument;

use super::spans;
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::value::Record;
use crate::vista::{ChangeFeed, Clause, Id, Page, Query, TableShell, VistaCapabilities};

/// The master's shell with a span around each call.
pub(super) struct TracedShell {
    inner: Arc<dyn TableShell>,
    dio: Arc<str>,
}

impl TracedShell {
    pub(super) fn new(inner: Arc<dyn TableShell>, dio: Arc<str>) -> Self {
        TracedShell { inner, dio }
    }

    /// `call` in a span of `op`, with what it is about, and its outcome.
    fn traced<'a, T: Send + 'a>(
        &'a self,
        op: &'static str,
        about: About<'_>,
        call: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        let span = spans::master(&self.dio, op);
        match about {
            About::Nothing => {}
            About::Id(id) => {
                span.record("id", id);
            }
            About::Query(query) => {
                span.record("query", tracing::field::debug(query));
            }
            About::Window(query, range) => {
                span.record("query", tracing::field::debug(query));
                span.record("start", range.start);
                span.record("end", range.end);
            }
        }
        Box::pin(async move {
            let outcome = call.instrument(span.clone()).await;
            spans::outcome(&span, &outcome);
            outcome
        })
    }
}

/// What a master call is about, for its span.
enum About<'q> {
    Nothing,
    Id(&'q str),
    Query(&'q Query),
    Window(&'q Query, Range<usize>),
}

impl fmt::Debug for TracedShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The master as it is: the spans are no part of what it is.
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl TableShell for TracedShell {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> VistaCapabilities {
        self.inner.capabilities()
    }

    fn accepts(&self, clause: Clause<'_>) -> bool {
        self.inner.accepts(clause)
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        self.traced("list", About::Query(query), self.inner.list(query))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        self.traced("get", About::Id(id), self.inner.get(id))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        self.traced("count", About::Query(query), self.inner.count(query))
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        let range = offset..offset.saturating_add(limit);
        self.traced(
            "fetch_window",
            About::Window(query, range),
            self.inner.fetch_window(query, offset, limit),
        )
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        let named = id.clone();
        let about = named.as_deref().map_or(About::Nothing, About::Id);
        self.traced("insert", about, self.inner.insert(id, record))
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        self.traced("replace", About::Id(id), self.inner.replace(id, record))
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        self.traced("patch", About::Id(id), self.inner.patch(id, fields))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.traced("delete", About::Id(id), self.inner.delete(id))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        self.traced("delete_all", About::Nothing, self.inner.delete_all())
    }

    fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        self.inner.change_feed()
    }
}
