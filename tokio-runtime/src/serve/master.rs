//! The master as the service sees it: any [`TableShell`], with every call
//! counted (so `GET /stats` can show what the cache saved) and an optional
//! delay that makes a local table behave like a remote API.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diorama_core::Result;
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Record, Runtime};

/// A [`TableShell`] that counts calls into a shared counter and waits
/// `latency` (on the runtime's timer) before each.
pub struct CountedShell {
    inner: Arc<dyn TableShell>,
    latency: Duration,
    runtime: Arc<dyn Runtime>,
    calls: Arc<AtomicU64>,
}

impl CountedShell {
    /// `inner`, counted, with `latency` before every call.
    pub fn new(
        inner: Arc<dyn TableShell>,
        latency: Duration,
        runtime: Arc<dyn Runtime>,
    ) -> CountedShell {
        CountedShell {
            inner,
            latency,
            runtime,
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The counter every call adds one to.
    pub fn calls(&self) -> Arc<AtomicU64> {
        self.calls.clone()
    }

    async fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !self.latency.is_zero() {
            self.runtime.sleep(self.latency).await;
        }
    }
}

impl fmt::Debug for CountedShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountedShell")
            .field("inner", &self.inner.name())
            .field("latency", &self.latency)
            .field("calls", &self.calls.load(Ordering::Relaxed))
            .finish()
    }
}

impl TableShell for CountedShell {
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
            self.inner.insert(id, record).await
        })
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.call().await;
            self.inner.replace(id, record).await
        })
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.call().await;
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
