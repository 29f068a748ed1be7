//! [`CountedShell`]: a master that behaves like a remote API — every call
//! counted, an optional delay before each, optional validation of writes.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Record, Result, Runtime};

/// A check a [`CountedShell`] runs on every written record (the fields of a
/// patch, the whole record of an insert or replace) before passing it on.
pub type WriteValidation = fn(&Record) -> Result<()>;

/// A [`TableShell`] over any other that counts every call into a shared
/// counter and waits `latency` (on the runtime's timer) before each, so a
/// local table behaves like a remote API and a demo can show what the cache
/// saved.
///
/// With [`with_validation`](Self::with_validation), writes the check
/// refuses fail with its error and never reach the inner shell (the call is
/// still counted and delayed, as a refused request to a remote API is).
#[derive(Clone)]
pub struct CountedShell {
    inner: Arc<dyn TableShell>,
    latency: Duration,
    runtime: Arc<dyn Runtime>,
    calls: Arc<AtomicU64>,
    validation: Option<WriteValidation>,
}

impl CountedShell {
    /// `inner`, counted, with `latency` before every call, timed by
    /// `runtime`. A zero latency does not sleep at all.
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
            validation: None,
        }
    }

    /// Run `validate` on every insert, replace and patch after the delay;
    /// its error is the write's error.
    pub fn with_validation(mut self, validate: WriteValidation) -> CountedShell {
        self.validation = Some(validate);
        self
    }

    /// The shared counter every call adds one to (clones of this shell
    /// count into it too).
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

    /// [`call`](Self::call), then the validation of `record`, if any.
    async fn write_call(&self, record: &Record) -> Result<()> {
        self.call().await;
        match self.validation {
            Some(validate) => validate(record),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for CountedShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountedShell")
            .field("inner", &self.inner.name())
            .field("latency", &self.latency)
            .field("calls", &self.calls.load(Ordering::Relaxed))
            .field("validates", &self.validation.is_some())
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
            self.write_call(&record).await?;
            self.inner.insert(id, record).await
        })
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.write_call(&record).await?;
            self.inner.replace(id, record).await
        })
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.write_call(&fields).await?;
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

    // Forwarded (not counted: it is no request), so a Dio over this shell
    // follows the changes of the master it wraps.
    fn change_feed(&self) -> Option<Arc<dyn diorama_core::vista::ChangeFeed>> {
        self.inner.change_feed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diorama_core::runtime::IntoRuntime;
    use diorama_core::{Error, MemoryVista, Value, record};
    use diorama_std::SmolRuntime;

    fn no_negative(record: &Record) -> Result<()> {
        match record.get("n").and_then(Value::as_f64) {
            Some(n) if n < 0.0 => Err(Error::invalid_input("negative")),
            _ => Ok(()),
        }
    }

    fn shell(master: &MemoryVista) -> CountedShell {
        CountedShell::new(
            Arc::new(master.clone()),
            Duration::ZERO,
            SmolRuntime::global().into_runtime(),
        )
    }

    #[test]
    fn every_call_counts_once_into_the_shared_counter() {
        let master = MemoryVista::new("t").with_rows([("a", record! { "n" => 1 })]);
        let counted = shell(&master);
        let calls = counted.calls();
        let copy = counted.clone();
        smol::block_on(async {
            assert_eq!(counted.count(&Query::default()).await.unwrap(), 1);
            assert!(copy.get("a").await.unwrap().is_some());
            copy.patch("a", record! { "n" => -1 }).await.unwrap();
        });
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        assert_eq!(master.total_calls(), 3);
        assert_eq!(
            master.get_row("a").unwrap().get("n"),
            Some(&Value::from(-1))
        );
    }

    #[test]
    fn a_refused_write_is_counted_but_never_reaches_the_master() {
        let master = MemoryVista::new("t").with_rows([("a", record! { "n" => 1 })]);
        let counted = shell(&master).with_validation(no_negative);
        smol::block_on(async {
            let refused = counted.patch("a", record! { "n" => -1 }).await.unwrap_err();
            assert_eq!(refused.kind(), diorama_core::ErrorKind::InvalidInput);
            assert!(counted.replace("a", record! { "n" => -2 }).await.is_err());
            assert!(counted.insert(None, record! { "n" => -3 }).await.is_err());
            counted.patch("a", record! { "n" => 2 }).await.unwrap();
        });
        assert_eq!(counted.calls().load(Ordering::Relaxed), 4);
        assert_eq!(master.total_calls(), 1);
        assert_eq!(master.len(), 1);
        assert_eq!(master.get_row("a").unwrap().get("n"), Some(&Value::from(2)));
    }
}
