//! The master as the demo presents it: the SQLite table behind a counted,
//! optionally slow interface, like a remote API.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Error, Record, Result, Runtime, Value};

use crate::sqlite::SqliteVista;

/// A [`TableShell`] over a [`SqliteVista`] that counts every call, waits
/// `latency` (on the runtime's timer) before each, and refuses a negative
/// price the way a remote API validates its input, so a failed write can
/// be shown.
#[derive(Clone)]
pub struct RemoteShell {
    inner: SqliteVista,
    latency: Duration,
    runtime: Arc<dyn Runtime>,
    calls: Arc<AtomicU64>,
}

impl RemoteShell {
    /// `inner` with `latency` before every call, timed by `runtime`.
    pub fn new(inner: SqliteVista, latency: Duration, runtime: Arc<dyn Runtime>) -> Self {
        RemoteShell {
            inner,
            latency,
            runtime,
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A shared counter of the calls made so far (every clone counts into it).
    pub fn calls(&self) -> Arc<AtomicU64> {
        self.calls.clone()
    }

    /// Count the call, then wait out the latency.
    async fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !self.latency.is_zero() {
            self.runtime.sleep(self.latency).await;
        }
    }
}

impl fmt::Debug for RemoteShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteShell")
            .field("inner", &self.inner)
            .field("latency", &self.latency)
            .field("calls", &self.calls.load(Ordering::Relaxed))
            .finish()
    }
}

/// The remote API's validation: a price must be a non-negative number.
fn validate(record: &Record) -> Result<()> {
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

impl TableShell for RemoteShell {
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
        Box::pin(async move {
            self.call().await;
            self.inner.list(query).await
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(async move {
            self.call().await;
            self.inner.get(id).await
        })
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        Box::pin(async move {
            self.call().await;
            self.inner.count(query).await
        })
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        Box::pin(async move {
            self.call().await;
            self.inner.fetch_window(query, offset, limit).await
        })
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(async move {
            self.call().await;
            validate(&record)?;
            self.inner.insert(id, record).await
        })
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.call().await;
            validate(&record)?;
            self.inner.replace(id, record).await
        })
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.call().await;
            validate(&fields)?;
            self.inner.patch(id, fields).await
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.call().await;
            self.inner.delete(id).await
        })
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.call().await;
            self.inner.delete_all().await
        })
    }
}
