//! What `GET /metrics` exposes, in the Prometheus text format, through
//! `prometheus-client` (one registry per [`Service`](super::Service), so
//! two services in one process count apart):
//!
//! | metric | type | what |
//! |---|---|---|
//! | `diorama_cache_hits_total` | counter | reads (`GET /products`, `GET /products/{id}`) answered from the cache without waiting for the master |
//! | `diorama_cache_misses_total` | counter | reads that waited for the master (a row or a page not cached, or stale) |
//! | `diorama_master_calls_total{op, outcome}` | counter | calls to the master by operation (`fetch_window`, `get`, `patch`, …) and `ok` / `error` |
//! | `diorama_master_call_duration_seconds{op}` | histogram | how long they took |
//! | `diorama_write_queue_depth` | gauge | writes queued or running (at scrape time) |
//! | `diorama_writes_total{outcome}` | counter | writes the master `applied` or that `failed` |
//! | `diorama_open_sceneries` | gauge | sceneries open: the kept list views and the record views of reads in progress |
//! | `diorama_http_requests_total{method, status}` | counter | answered requests |
//! | `diorama_http_request_duration_seconds{method}` | histogram | their latency |

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Record, Result};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a master call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    op: String,
    outcome: String,
}

/// Labels of a duration by operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: String,
}

/// Labels of a write outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// Labels of an answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    status: String,
}

/// Labels of a request's latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 100 µs to about 13 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

/// The service's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    cache_hits: Counter,
    cache_misses: Counter,
    master_calls: Family<CallLabels, Counter>,
    master_latency: Histograms<OpLabels>,
    queue_depth: Gauge,
    writes: Family<OutcomeLabels, Counter>,
    open_sceneries: Gauge,
    record_views: AtomicI64,
    requests: Family<RequestLabels, Counter>,
    request_latency: Histograms<MethodLabels>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("cache_hits", &self.cache_hits.get())
            .field("cache_misses", &self.cache_misses.get())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let metrics = Metrics {
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            master_calls: Family::default(),
            master_latency: Family::new_with_constructor(latency_histogram),
            queue_depth: Gauge::default(),
            writes: Family::default(),
            open_sceneries: Gauge::default(),
            record_views: AtomicI64::new(0),
            requests: Family::default(),
            request_latency: Family::new_with_constructor(latency_histogram),
            registry: Registry::default(),
        };
        let d = "diorama";
        registry.register(
            format!("{d}_cache_hits"),
            "Reads answered from the cache without waiting for the master",
            metrics.cache_hits.clone(),
        );
        registry.register(
            format!("{d}_cache_misses"),
            "Reads that waited for the master",
            metrics.cache_misses.clone(),
        );
        registry.register(
            format!("{d}_master_calls"),
            "Calls to the master, by operation and outcome",
            metrics.master_calls.clone(),
        );
        registry.register(
            format!("{d}_master_call_duration_seconds"),
            "Time taken by calls to the master, by operation",
            metrics.master_latency.clone(),
        );
        registry.register(
            format!("{d}_write_queue_depth"),
            "Writes queued or running",
            metrics.queue_depth.clone(),
        );
        registry.register(
            format!("{d}_writes"),
            "Writes the master applied or that failed",
            metrics.writes.clone(),
        );
        registry.register(
            format!("{d}_open_sceneries"),
            "Sceneries open (kept list views and record views of reads in progress)",
            metrics.open_sceneries.clone(),
        );
        registry.register(
            format!("{d}_http_requests"),
            "Answered HTTP requests, by method and status",
            metrics.requests.clone(),
        );
        registry.register(
            format!("{d}_http_request_duration_seconds"),
            "HTTP request latency, by method",
            metrics.request_latency.clone(),
        );
        // Both outcomes from the start, so a scrape sees the series at 0.
        for outcome in ["applied", "failed"] {
            let _created = metrics.writes.get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            });
        }
        Metrics {
            registry,
            ..metrics
        }
    }

    /// A read answered from the cache (`true`) or after the master.
    pub(crate) fn read(&self, from_cache: bool) {
        if from_cache {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }

    /// An answered request.
    pub(crate) fn request(&self, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.request_latency
            .get_or_create(&MethodLabels {
                method: method.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// A record view opened; closed when the guard drops.
    pub(crate) fn record_view(self: &Arc<Self>) -> RecordViewGuard {
        self.record_views.fetch_add(1, Ordering::Relaxed);
        RecordViewGuard {
            metrics: self.clone(),
        }
    }

    fn master_call(&self, op: &str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.master_calls
            .get_or_create(&CallLabels {
                op: op.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.master_latency
            .get_or_create(&OpLabels { op: op.to_string() })
            .observe(took.as_secs_f64());
        if matches!(op, "insert" | "replace" | "patch" | "delete" | "delete_all") {
            let outcome = if ok { "applied" } else { "failed" };
            self.writes
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.to_string(),
                })
                .inc();
        }
    }

    /// The text exposition, with the gauges read now: `queue_depth` writes
    /// pending and `list_views` kept list views.
    pub(crate) fn render(&self, queue_depth: usize, list_views: usize) -> String {
        self.queue_depth.set(queue_depth as i64);
        self.open_sceneries
            .set(list_views as i64 + self.record_views.load(Ordering::Relaxed));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Counts one open record view while it lives.
#[derive(Debug)]
pub(crate) struct RecordViewGuard {
    metrics: Arc<Metrics>,
}

impl Drop for RecordViewGuard {
    fn drop(&mut self) {
        self.metrics.record_views.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A master that reports every call to [`Metrics`] (count, outcome,
/// latency; writes as applied or failed).
pub(crate) struct MeteredShell {
    inner: Arc<dyn TableShell>,
    metrics: Arc<Metrics>,
}

impl fmt::Debug for MeteredShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeteredShell")
            .field("inner", &self.inner.name())
            .finish()
    }
}

impl MeteredShell {
    pub(crate) fn new(inner: Arc<dyn TableShell>, metrics: Arc<Metrics>) -> Self {
        MeteredShell { inner, metrics }
    }

    fn timed<'a, T: Send + 'a>(
        &'a self,
        op: &'static str,
        call: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = call.await;
            self.metrics
                .master_call(op, result.is_ok(), started.elapsed());
            result
        })
    }
}

impl TableShell for MeteredShell {
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
        self.timed("list", self.inner.list(query))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        self.timed("get", self.inner.get(id))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        self.timed("count", self.inner.count(query))
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        self.timed(
            "fetch_window",
            self.inner.fetch_window(query, offset, limit),
        )
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        self.timed("insert", self.inner.insert(id, record))
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        self.timed("replace", self.inner.replace(id, record))
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        self.timed("patch", self.inner.patch(id, fields))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.timed("delete", self.inner.delete(id))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        self.timed("delete_all", self.inner.delete_all())
    }

    fn change_feed(&self) -> Option<Arc<dyn diorama_core::vista::ChangeFeed>> {
        self.inner.change_feed()
    }
}
