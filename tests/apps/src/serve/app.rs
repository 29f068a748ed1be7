//! [`Service`]: the Lens, the Dio and the reads and writes behind the routes.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use diorama_core::runtime::IntoRuntime;
use diorama_core::scenery::RecordStatus;
use diorama_core::{CacheBackend, Dio, Lens, Record, Result, TableShell, Vista, WriteOp};
use diorama_tokio::TokioRuntime;
use diorama_tokio::nats::{Replica, ReplicaOptions};
use serde_json::Value as Json;

use super::error::ApiError;
use super::json::{enriched_json, row_json};
use super::metrics::{MeteredShell, Metrics};
use super::params::ListParams;
use super::schema::Schema;
use super::views::Views;
use crate::sample::CountedShell;
use crate::sample::args::{parse_count, parse_duration};

/// How the service caches and how long it waits; also the command-line
/// flags that set it (the defaults there are [`ServiceOptions::default`]'s).
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct ServiceOptions {
    /// Rows per chunk load (the read-ahead of a list request). Each row a
    /// list request loads is stored in the cache, so over random pages a
    /// chunk the size of a typical page (50) stores fewer rows per
    /// request than a larger read-ahead.
    #[arg(long = "page", value_name = "N", default_value = "50", value_parser = parse_count)]
    pub page_size: usize,
    /// Rows older than this read as stale and are refetched when read.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub ttl: Duration,
    /// Delay added to every master call, as if the master were remote.
    #[arg(long, value_name = "DURATION", default_value = "0ms", value_parser = parse_duration)]
    pub latency: Duration,
    /// Queries (sort and search) whose sceneries are kept.
    #[arg(long, value_name = "N", default_value = "32", value_parser = parse_count)]
    pub views: usize,
    /// How long a read waits for the master before answering 504.
    #[arg(long = "timeout", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub read_timeout: Duration,
    /// How long a PATCH waits for its outcome before answering 202 (the
    /// write still goes on).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub write_timeout: Duration,
}

impl Default for ServiceOptions {
    /// 50-row chunks, a ten-minute TTL, no latency, 32 queries, 10 s reads
    /// and 5 s writes.
    fn default() -> Self {
        ServiceOptions {
            page_size: 50,
            ttl: Duration::from_secs(600),
            latency: Duration::ZERO,
            views: 32,
            read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// The product service: a Dio over the master, the list sceneries, and the
/// operations the routes call. Cheap to clone; clones share everything.
///
/// - [`list`](Service::list) reads a page through a paged table scenery
///   (cache first, chunk loads on a miss);
/// - [`get`](Service::get) reads one row through a record scenery (cache
///   first, the master on a miss or a stale row);
/// - [`patch`](Service::patch) writes through the Dio's queue and waits for
///   the outcome.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    dio: Dio,
    schema: Schema,
    views: Views,
    options: ServiceOptions,
    master_calls: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
    requests: AtomicU64,
    replica: Option<Replica>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("dio", &self.inner.dio)
            .field("options", &self.inner.options)
            .field("master_calls", &self.master_calls())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Open the service over `master` (whose fields are `schema`), caching
    /// in `cache`, on the current tokio runtime.
    ///
    /// The Lens loads one window of the master per chunk (stating its
    /// total) and does not refetch a scenery's first range on open, so a
    /// warm cache answers a query it has seen before without master calls.
    ///
    /// Errors: `Failed` outside a tokio runtime; the cache's error when
    /// its table cannot be opened.
    pub async fn open(
        master: Arc<dyn TableShell>,
        cache: Arc<dyn CacheBackend>,
        schema: Schema,
        options: ServiceOptions,
    ) -> Result<Service> {
        Service::open_as(master, cache, schema, options, None).await
    }

    /// [`open`](Service::open), as one of several replicas over `master`
    /// when `replica` is given (see [`diorama_tokio::nats`]): the Dio's
    /// master is the replica's shell (cold reads through the shared tier,
    /// writes announced), and the Dio follows the other replicas' changes.
    /// `master_calls` counts what reaches the master itself.
    ///
    /// Errors: those of `open`; `InvalidInput` for bad replica options.
    pub async fn open_as(
        master: Arc<dyn TableShell>,
        cache: Arc<dyn CacheBackend>,
        schema: Schema,
        options: ServiceOptions,
        replica: Option<ReplicaOptions>,
    ) -> Result<Service> {
        let runtime = TokioRuntime::try_current()?.into_runtime();
        // The grid's master validation (no negative price), so a write
        // reaching the master by any path is checked the same.
        let counted = CountedShell::new(master, options.latency, runtime.clone())
            .with_validation(crate::sample::products::validate);
        let master_calls = counted.calls();
        let metrics = Arc::new(Metrics::new());
        let metered = MeteredShell::new(Arc::new(counted), metrics.clone());
        let lens = Lens::builder()
            .cache_source(cache)
            .runtime(runtime)
            .cache_ttl(options.ttl)
            // A scenery opened for a request serves what the cache holds and
            // loads only what is missing or stale.
            .refresh_on_open(false)
            // Each request sets its viewport once: nothing to coalesce.
            .viewport_debounce(Duration::ZERO)
            // Chunks only, not `page_from_master`: its `total_provider`
            // would count every query a scenery opens (warm ones too, in
            // the background), while each window states the total anyway.
            .load_chunks_from_master()
            .build()?;
        let (dio, replica) = match replica {
            None => (lens.make_dio(Vista::new(metered)).await?, None),
            Some(replica) => {
                let replica = Replica::connect(replica).await?;
                let dio = replica.make_dio(&lens, Vista::new(metered)).await?;
                (dio, Some(replica))
            }
        };
        Ok(Service {
            inner: Arc::new(Inner {
                dio,
                schema,
                views: Views::new(options.views),
                options,
                master_calls,
                metrics,
                requests: AtomicU64::new(0),
                replica,
            }),
        })
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The next request id (1, 2, …), for the log and `x-request-id`.
    pub(crate) fn next_request_id(&self) -> u64 {
        self.inner.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// `GET /metrics`: the Prometheus text exposition (see
    /// [`Metrics`](super::Metrics)).
    pub fn metrics_text(&self) -> String {
        self.inner
            .metrics
            .render(self.inner.dio.pending_writes(), self.inner.views.len())
    }

    /// The Dio the service reads and writes through.
    pub fn dio(&self) -> &Dio {
        &self.inner.dio
    }

    /// The columns the service sorts by and writes.
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The options it was opened with.
    pub fn options(&self) -> &ServiceOptions {
        &self.inner.options
    }

    /// Master calls made so far.
    pub fn master_calls(&self) -> u64 {
        self.inner.master_calls.load(Ordering::Relaxed)
    }

    /// `{ "offset", "limit", "total", "rows": [row, …] }` for `params`:
    /// the page's rows through the query's table scenery. `total` is
    /// `null` while the query's size is unknown.
    pub async fn list(&self, params: &ListParams) -> Result<Json, ApiError> {
        let options = &self.inner.options;
        let (page, from_cache) = self
            .inner
            .views
            .page(
                &self.inner.dio,
                params,
                options.page_size,
                options.read_timeout,
            )
            .await?;
        self.inner.metrics.read(from_cache);
        let rows: Vec<Json> = page.rows.iter().map(|row| enriched_json(row)).collect();
        Ok(serde_json::json!({
            "offset": params.offset,
            "limit": params.limit,
            "total": page.total,
            "rows": rows,
        }))
    }

    /// Row `id` as `{ "id", ...fields, "status" }`, from the cache when it
    /// holds the row complete and fresh (or a write to it is pending),
    /// else from the master.
    ///
    /// Errors: 404 when the master has no such row, the master's error
    /// (502) when fetching failed, 504 after the read timeout; a stale row
    /// whose refetch is still running then is served as `stale`.
    pub async fn get(&self, id: &str) -> Result<Json, ApiError> {
        let _open = self.inner.metrics.record_view();
        let view = self.inner.dio.record_scenery(id).open().await?;
        let mut generation = view.subscribe();
        let deadline = tokio::time::Instant::now() + self.inner.options.read_timeout;
        loop {
            generation.mark_seen();
            match view.status() {
                RecordStatus::Loading | RecordStatus::Stale => {}
                RecordStatus::NotFound => return Err(no_product(id)),
                RecordStatus::Failed { error } => return Err(ApiError::from(error)),
                RecordStatus::Fresh
                | RecordStatus::PendingWrite
                | RecordStatus::WriteFailed { .. } => {
                    if let Some(row) = view.record() {
                        self.inner.metrics.read(view.opened_from_cache());
                        return Ok(enriched_json(&row));
                    }
                }
            }
            tokio::select! {
                changed = generation.changed() => {
                    if changed.is_err() {
                        return Err(ApiError::timeout("the record view closed"));
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return match (view.status(), view.record()) {
                        (RecordStatus::Stale, Some(row)) => Ok(enriched_json(&row)),
                        _ => Err(ApiError::timeout(format!(
                            "product {id:?} did not load within {} ms",
                            self.inner.options.read_timeout.as_millis()
                        ))),
                    };
                }
            }
        }
    }

    /// Overwrite `fields` of row `id` through the write queue and wait for
    /// the outcome: `200` with the row as it now is (the master applied the
    /// write), or, when the master has not answered within the write
    /// timeout, `202` with the row as it will be (`"status": "pending"`)
    /// — but only once the write is *durable*: its intent is flushed to the
    /// cache, so it reaches the master even if this process is killed. A
    /// write that is not durable (the cache could not store its intent, a
    /// full disk) is never answered `202`: the answer waits for the outcome
    /// (up to four write timeouts, then `504`); a write whose intent cannot
    /// be made durable at all is not sent (`503`).
    ///
    /// Errors: 404 when the master has no such row, 400 when it refuses
    /// the input, 502 when it fails, 503 while the queue stays full, the
    /// service shuts down or the cache cannot make the write durable (then
    /// it was not sent: nothing changed), 504 as above.
    pub async fn patch(&self, id: &str, fields: Record) -> Result<(StatusCode, Json), ApiError> {
        let dio = &self.inner.dio;
        let timeout = self.inner.options.write_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let op = WriteOp::Patch {
            id: id.to_string(),
            fields,
        };
        // Dropped at the deadline while waiting for room, the op is not queued.
        let ticket = tokio::time::timeout_at(deadline, dio.write(op))
            .await
            .map_err(|_| ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "the write queue stayed full; try again later".into(),
            })??;
        let durable = matches!(
            tokio::time::timeout_at(deadline, ticket.durable()).await,
            Ok(Ok(()))
        );
        let outcome_by = if durable {
            deadline
        } else {
            deadline + timeout * 3
        };
        match tokio::time::timeout_at(outcome_by, ticket.outcome()).await {
            Ok(Ok(_)) => Ok((StatusCode::OK, self.get(id).await?)),
            Ok(Err(error)) if error.kind() == diorama_core::ErrorKind::NotFound => {
                Err(no_product(id))
            }
            // The cache could not make the write durable, so it was not
            // sent (a full disk): nothing changed, try again later.
            Ok(Err(error)) if !durable => Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: error.to_string(),
            }),
            Ok(Err(error)) => Err(ApiError::from(error)),
            Err(_) if !durable => Err(ApiError::timeout(format!(
                "the write to {id:?} is not durable (the cache could not store it) and the \
                 master has not answered yet; it goes on, but a crash now would lose it"
            ))),
            Err(_) => match dio.pending_write(id).and_then(|pending| pending.record) {
                Some(record) => Ok((StatusCode::ACCEPTED, row_json(id, &record, "pending", None))),
                // Finished just now: read it like any other row.
                None => Ok((StatusCode::OK, self.get(id).await?)),
            },
        }
    }

    /// `{ "master_calls", "pending_writes", "views", "chunk_loads",
    /// "chunk_failures", "cache_hits", "rows_loaded", "loads_in_flight" }`:
    /// what the cache saved and what it cost. The scenery counters add up
    /// the queries currently kept; `loads_in_flight` counts their chunk
    /// loads not yet stored (a prefetch goes on after its request
    /// answered).
    pub fn stats(&self) -> Json {
        let totals = self.inner.views.totals();
        let mut stats = serde_json::json!({
            "master_calls": self.master_calls(),
            "pending_writes": self.inner.dio.pending_writes(),
            "views": totals.views,
            "chunk_loads": totals.chunk_loads,
            "chunk_failures": totals.chunk_failures,
            "cache_hits": totals.cache_hits,
            "rows_loaded": totals.rows_loaded,
            "loads_in_flight": totals.loads_in_flight,
        });
        if let Some(replica) = &self.inner.replica {
            let r = replica.stats();
            stats["replica"] = serde_json::json!({
                "name": replica.options().replica,
                "connected": replica.is_connected(),
                "master_reads": r.master_reads,
                "tier_hits": r.tier_hits,
                "tier_waits": r.tier_waits,
                "leases": r.leases,
                "fallbacks": r.fallbacks,
                "published": r.published,
                "learned": r.learned,
                "applied": r.applied,
                "skipped": r.skipped,
                "refetched": r.refetched,
                "collapsed": r.collapsed,
                "outages": r.outages,
                "unpublished": r.unpublished,
            });
        }
        stats
    }

    /// Let queued writes reach the master and flush the cache (see
    /// [`Dio::shutdown`]). Later writes answer 503.
    pub async fn shutdown(&self) -> Result<()> {
        let outcome = self.inner.dio.shutdown().await;
        if let Some(replica) = &self.inner.replica {
            // Announce what the last writes changed before the process ends.
            replica.flush(Duration::from_secs(2)).await;
        }
        outcome
    }

    /// The replica this service runs as, if any.
    pub fn replica(&self) -> Option<&Replica> {
        self.inner.replica.as_ref()
    }
}

fn no_product(id: &str) -> ApiError {
    ApiError::not_found(format!("no product {id:?}"))
}
