//! The Lens: caching policy held once per application.
//!
//! A [`LensBuilder`] collects the cache backend, the runtime, the callbacks
//! and the defaults; [`build`](LensBuilder::build) validates them and returns
//! an immutable, cheaply cloned [`Lens`] that makes [`Dio`]s.

mod build_error;

pub use crate::dio::LensDefaults;
pub use build_error::LensBuildError;

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::ops::Range;
use core::time::Duration;

use crate::cache::{CacheBackend, IntoCacheBackend};
use crate::dio::policy::{self, Callbacks, Policy};
use crate::dio::{ChangeEvent, ChunkSink, Dio, WriteKey, WriteOp};
use crate::error::Result;
use crate::runtime::{IntoRuntime, Runtime};
use crate::value::Record;
use crate::vista::{Id, Query, QueryDescriptor, Vista};

/// Long-lived caching policy: cache backend, runtime, callbacks and defaults.
///
/// Immutable after [`build`](LensBuilder::build); clones share one
/// configuration. Every [`Dio`] made by a Lens claims one table of the Lens's
/// cache backend.
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use diorama_core::{Lens, MemoryBackend, MemoryVista, Vista, record};
/// use diorama_core::cache::CachedRow;
/// use diorama_core::sim::SimRuntime;
///
/// let sim = SimRuntime::new(7);
/// let master = MemoryVista::new("products")
///     .with_rows([("p1".to_string(), record! { "name" => "Lamp", "price" => 19.5 })]);
/// let lens = Lens::builder()
///     .cache_source(MemoryBackend::new())
///     .runtime(sim.runtime())
///     // Natural closure form: the callback receives a cheap clone of the Dio.
///     .on_start(|dio| async move {
///         let rows = dio.master().list().await?;
///         let now = dio.runtime().wall_clock();
///         dio.cache().insert_batch(
///             rows.into_iter().map(|(id, r)| (id, CachedRow::complete(r, Some(now)))).collect(),
///         )
///     })
///     .build()
///     .expect("valid configuration");
///
/// sim.block_on(async {
///     let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
///     let rows = dio.vista().list().await.unwrap();
///     assert_eq!(rows.len(), 1);
///     dio.shutdown().await.unwrap();
/// });
/// # }
/// ```
#[derive(Clone)]
pub struct Lens {
    policy: Arc<Policy>,
}

impl fmt::Debug for Lens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Lens").field(&self.policy).finish()
    }
}

impl Lens {
    /// Start configuring a Lens.
    pub fn builder() -> LensBuilder {
        LensBuilder::default()
    }

    /// Alias of [`builder`](Lens::builder), as in the seed.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> LensBuilder {
        LensBuilder::default()
    }

    /// The policy defaults.
    pub fn defaults(&self) -> &LensDefaults {
        self.policy.defaults()
    }

    /// Subscribe to the events of every Dio this Lens made or will make,
    /// each tagged with its Dio's name ([`LensEvent`](crate::dio::LensEvent));
    /// narrow it with [`only`](crate::dio::LensEvents::only). Only events
    /// published from now on; lag and closing as on a Dio's bus.
    ///
    /// ```
    /// # #[cfg(feature = "sim")] {
    /// use diorama_core::{Lens, MemoryBackend, MemoryVista, Vista, record};
    /// use diorama_core::dio::DioEvent;
    /// use diorama_core::sim::SimRuntime;
    ///
    /// let sim = SimRuntime::new(1);
    /// let lens = Lens::builder()
    ///     .cache_source(MemoryBackend::new())
    ///     .runtime(sim.runtime())
    ///     .build()
    ///     .unwrap();
    /// let mut orders_only = lens.subscribe_events().only(["orders"]);
    /// sim.block_on(async {
    ///     let orders = lens.make_dio(Vista::new(MemoryVista::new("orders"))).await.unwrap();
    ///     let clients = lens.make_dio(Vista::new(MemoryVista::new("clients"))).await.unwrap();
    ///     clients.patched("c1", record! { "name" => "Ada" }).unwrap();
    ///     orders.patched("o1", record! { "client" => "c1" }).unwrap();
    ///     let event = orders_only.recv().await.unwrap();
    ///     assert_eq!(&*event.dio, "orders");
    ///     assert_eq!(event.event, DioEvent::RecordChanged { id: "o1".into() });
    /// });
    /// # }
    /// ```
    pub fn subscribe_events(&self) -> crate::dio::LensEvents {
        crate::dio::LensEvents::new(self.policy.lens_events().subscribe())
    }

    /// The runtime every Dio of this Lens runs on.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        self.policy.runtime()
    }

    /// The cache backend shared by every Dio of this Lens.
    pub fn cache_source(&self) -> &Arc<dyn CacheBackend> {
        self.policy.cache_backend()
    }

    /// Wrap `vista` in a [`Dio`] whose cache table is named after the vista.
    ///
    /// Opens the cache table, spawns the write worker and (with
    /// `refresh_every`) the refresh task, then runs `on_start`: awaited when
    /// `on_start_blocking` (its error fails this call and tears the Dio
    /// down), spawned otherwise (its failure is published as
    /// [`DioEvent::StartFailed`](crate::dio::DioEvent::StartFailed) and
    /// reported by [`Dio::started`]).
    ///
    /// # Errors
    /// The backend's error when the cache table cannot be opened (or its
    /// meta read), and with `on_start_blocking` the error of `on_start`
    /// (context `on_start`), after which the Dio is shut down again.
    ///
    /// # Cancel safety
    /// Dropped while a blocking `on_start` runs, no Dio is returned: the
    /// `on_start` future is dropped with it, and the write worker (and
    /// refresh task) already spawned end as after the last handle dropped.
    pub async fn make_dio(&self, vista: Vista) -> Result<Dio> {
        let name = alloc::string::String::from(vista.name());
        self.make_dio_as(vista, &name).await
    }

    /// Like [`make_dio`](Lens::make_dio) with an explicit cache table name,
    /// so two masters with the same name can be cached apart.
    ///
    /// # Errors
    /// As [`make_dio`](Lens::make_dio).
    ///
    /// # Cancel safety
    /// As [`make_dio`](Lens::make_dio).
    pub async fn make_dio_as(&self, vista: Vista, table_name: &str) -> Result<Dio> {
        crate::dio::open(self.policy.clone(), vista, table_name).await
    }
}

/// Collects a Lens configuration; see [`Lens`].
///
/// Callback setters take closures of the natural form
/// `|dio| async move { … }` (and `|dio, arg| async move { … }`); the closure
/// gets an owned, cheap [`Dio`] clone, so its future is `'static`. One
/// setter per callback; setting one again replaces it.
#[derive(Default)]
pub struct LensBuilder {
    cache: Option<Arc<dyn CacheBackend>>,
    runtime: Option<Arc<dyn Runtime>>,
    callbacks: Callbacks,
    defaults: LensDefaults,
}

impl fmt::Debug for LensBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LensBuilder")
            .field("cache", &self.cache)
            .field("runtime", &self.runtime)
            .field("callbacks", &self.callbacks)
            .field("defaults", &self.defaults)
            .finish()
    }
}

impl LensBuilder {
    /// The cache backend every Dio's table lives in (required): by value
    /// (`MemoryBackend::new()`) or shared (`Arc<dyn CacheBackend>`).
    pub fn cache_source(mut self, backend: impl IntoCacheBackend) -> Self {
        self.cache = Some(backend.into_cache_backend());
        self
    }

    /// The runtime tasks and timers run on (required): by value
    /// (`SmolRuntime::global()`, `TokioRuntime::current()?`) or shared
    /// (`Arc<dyn Runtime>`, as `SimRuntime::runtime()` returns).
    pub fn runtime(mut self, runtime: impl IntoRuntime) -> Self {
        self.runtime = Some(runtime.into_runtime());
        self
    }

    /// Run when a Dio opens, typically to warm the cache from the master.
    pub fn on_start<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.callbacks.on_start = Some(policy::dio_callback(f));
        self
    }

    /// Run by `Dio::refresh` and the refresh loop.
    pub fn on_refresh<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.callbacks.on_refresh = Some(policy::dio_callback(f));
        self
    }

    /// Route every queued write (replaces the default write-through). The
    /// same as [`on_write_keyed`](LensBuilder::on_write_keyed) for a router
    /// that does not pass idempotency keys on.
    pub fn on_write<F, Fut>(self, f: F) -> Self
    where
        F: Fn(Dio, WriteOp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.on_write_keyed(move |dio, _key, op| f(dio, op))
    }

    /// Route every queued write, with its idempotency key (replaces the
    /// default write-through). A write replayed after a crash comes again
    /// with the key it first came with, so a router that passes the key to
    /// its master (for example [`Vista::apply_write`]) has it applied once.
    pub fn on_write_keyed<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio, WriteKey, WriteOp) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.callbacks.on_write = Some(policy::dio_arg_callback(
            move |dio, (key, op): (WriteKey, WriteOp)| f(dio, key, op),
        ));
        self
    }

    /// Handle external change events passed to `Dio::handle_event`.
    pub fn on_event<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio, ChangeEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.callbacks.on_event = Some(policy::dio_arg_callback(f));
        self
    }

    /// Warm the cache for a facade read whose query was not answered yet.
    pub fn on_query<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio, QueryDescriptor) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.callbacks.on_query = Some(policy::dio_arg_callback(f));
        self
    }

    /// State the row count of a table scenery's query (fired once per open).
    pub fn total_provider<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio, Query) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<usize>> + Send + 'static,
    {
        self.callbacks.total_provider = Some(policy::dio_arg_callback(f));
        self
    }

    /// Fetch rows `range` of a scenery's `query` and push them into the sink.
    pub fn on_load_chunk<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio, Range<usize>, Query, ChunkSink) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.callbacks.on_load_chunk = Some(policy::load_chunk_callback(f));
        self
    }

    /// Page table sceneries straight from the master: `total_provider` asks
    /// the master's `count` for the scenery's query, and chunks load as in
    /// [`load_chunks_from_master`](Self::load_chunks_from_master). Replaces
    /// both callbacks.
    pub fn page_from_master(self) -> Self {
        self.total_provider(|dio, query| async move {
            let span = crate::dio::spans::master_count(dio.table_name(), &query);
            crate::dio::spans::master_call(span, dio.master().shell().count(&query)).await
        })
        .load_chunks_from_master()
    }

    /// `on_load_chunk` that fetches each range with the master's
    /// `fetch_window`, states the page's total when the master gives one, and
    /// pushes the rows.
    ///
    /// The scenery's query goes to the master's shell as is, so the master
    /// must accept the clauses the sceneries use (a paged view refuses a
    /// sort or search its master cannot apply).
    pub fn load_chunks_from_master(self) -> Self {
        self.on_load_chunk(|dio, range, query, sink| async move {
            let span = crate::dio::spans::master_window(
                dio.table_name(),
                &query,
                range.start,
                range.len(),
            );
            let window = dio
                .master()
                .shell()
                .fetch_window(&query, range.start, range.len());
            let page = crate::dio::spans::master_call(span, window).await?;
            if let Some(total) = page.total {
                sink.set_total(total)?;
            }
            for (offset, (id, record)) in page.rows.into_iter().enumerate() {
                sink.push(range.start + offset, id, record)?;
            }
            Ok(())
        })
    }

    /// Load the full row of `id` when a list window delivered only its
    /// summary: with this set, rows a chunk load delivers read
    /// [`RowStatus::Incomplete`](crate::scenery::RowStatus::Incomplete)
    /// until a viewport reaches them, then this is called for each (once
    /// per id across every scenery of the Dio, at most
    /// [`detail_concurrency`](Self::detail_concurrency) at once; a dropped
    /// scenery's queued ids are never called for). The detail's fields
    /// merge over the list row's and the row is stored complete (it reads
    /// `Fresh`, and a reopen shows it without calling again). An error
    /// shows on the row as
    /// [`RowStatus::DetailFailed`](crate::scenery::RowStatus::DetailFailed)
    /// and is retried when a viewport reaches the row again, never by a
    /// timer.
    ///
    /// ```
    /// # #[cfg(feature = "sim")] {
    /// use diorama_core::{Lens, MemoryBackend, MemoryVista, Vista, record};
    /// use diorama_core::scenery::RowStatus;
    /// use diorama_core::sim::SimRuntime;
    /// use core::time::Duration;
    ///
    /// let sim = SimRuntime::new(3);
    /// // The list API serves names only; the detail API the whole row.
    /// let list = MemoryVista::new("products")
    ///     .with_rows([("p1".to_string(), record! { "name" => "Lamp" })]);
    /// let lens = Lens::builder()
    ///     .cache_source(MemoryBackend::new())
    ///     .runtime(sim.runtime())
    ///     .load_chunks_from_master()
    ///     .on_load_detail(|_dio, id| async move {
    ///         Ok(record! { "description" => format!("all about {id}") })
    ///     })
    ///     .detail_concurrency(8)
    ///     .build()
    ///     .unwrap();
    /// let dio = sim.block_on(lens.make_dio(Vista::new(list))).unwrap();
    /// let view = sim.block_on(dio.table_scenery().open()).unwrap();
    /// view.set_viewport(0..10);
    /// sim.advance(Duration::from_millis(100));
    /// let row = view.row(0).unwrap();
    /// assert_eq!(row.status, RowStatus::Fresh);
    /// assert_eq!(row.record, record! { "name" => "Lamp", "description" => "all about p1" });
    /// # }
    /// ```
    pub fn on_load_detail<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Dio, Id) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Record>> + Send + 'static,
    {
        self.callbacks.on_load_detail = Some(policy::dio_arg_callback(f));
        self
    }

    /// How many `on_load_detail` calls of one Dio run at once (default
    /// [`DEFAULT_DETAIL_CONCURRENCY`](crate::dio::DEFAULT_DETAIL_CONCURRENCY);
    /// `build` refuses 0).
    pub fn detail_concurrency(mut self, limit: usize) -> Self {
        self.defaults.detail_concurrency = limit;
        self
    }

    /// Refresh every Dio periodically (first run after one interval, not at once).
    pub fn refresh_every(mut self, interval: Duration) -> Self {
        self.defaults.refresh_interval = Some(interval);
        self
    }

    /// Rows older than `ttl` read as stale and are refetched on demand.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.defaults.cache_ttl = Some(ttl);
        self
    }

    /// Capacity of each Dio's write queue (default 256; must be ≥ 1).
    pub fn write_queue_capacity(mut self, capacity: usize) -> Self {
        self.defaults.write_queue_capacity = capacity;
        self
    }

    /// Capacity of each Dio's event bus (default 1024; must be ≥ 1).
    pub fn event_bus_capacity(mut self, capacity: usize) -> Self {
        self.defaults.event_bus_capacity = capacity;
        self
    }

    /// Whether `make_dio` awaits `on_start` (default `true`).
    pub fn on_start_blocking(mut self, blocking: bool) -> Self {
        self.defaults.on_start_blocking = blocking;
        self
    }

    /// Whether table sceneries load their initial range when opened (default `true`).
    pub fn refresh_on_open(mut self, refresh: bool) -> Self {
        self.defaults.refresh_on_open = refresh;
        self
    }

    /// Quiet time that coalesces rapid viewport changes (default 50 ms).
    ///
    /// A paged table scenery commits (and loads) a requested viewport once
    /// `debounce` passed without a newer one; a burst of requests commits
    /// only its last. There is no leading edge: the first viewport after a
    /// quiet spell waits out the debounce too, so a scroll gesture never
    /// loads where it started and a viewport set in the same frame as a
    /// sort or search loads in the new order only. `Duration::ZERO`
    /// commits every viewport as soon as the scenery's viewport task takes
    /// it, without arming a timer (no wait for the runtime's timer tick).
    pub fn viewport_debounce(mut self, debounce: Duration) -> Self {
        self.defaults.viewport_debounce = debounce;
        self
    }

    /// Whether queued writes are durable (default `true`): each write's
    /// intent is stored in its Dio's cache table and flushed before the
    /// write leaves for the master, a ticket's
    /// [`durable`](crate::dio::WriteTicket::durable) resolves once it is on
    /// disk, and a Dio opened after a crash replays the writes whose answer
    /// it never recorded. On the memory backend intents are kept in memory
    /// the same way. Off, a write costs no cache write before it is sent,
    /// `durable` fails with `Unsupported`, and a crash loses queued writes.
    pub fn durable_writes(mut self, durable: bool) -> Self {
        self.defaults.durable_writes = durable;
        self
    }

    /// Validate and freeze the configuration.
    pub fn build(self) -> Result<Lens, LensBuildError> {
        let cache = self.cache.ok_or(LensBuildError::MissingCacheBackend)?;
        let runtime = self.runtime.ok_or(LensBuildError::MissingRuntime)?;
        if self.defaults.write_queue_capacity == 0 {
            return Err(LensBuildError::ZeroQueueCapacity);
        }
        if self.defaults.event_bus_capacity == 0 {
            return Err(LensBuildError::ZeroEventBusCapacity);
        }
        if self.defaults.detail_concurrency == 0 {
            return Err(LensBuildError::ZeroDetailConcurrency);
        }
        if self.defaults.refresh_interval == Some(Duration::ZERO) {
            return Err(LensBuildError::ZeroRefreshInterval);
        }
        Ok(Lens {
            policy: Arc::new(Policy::new(cache, runtime, self.callbacks, self.defaults)),
        })
    }
}
