//! One run's Diorama side: the Lens (sled cache, smol runtime, chunk
//! callbacks), the Dio over the master and the paged table scenery.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diorama_core::dio::DioEvent;
use diorama_core::runtime::IntoRuntime;
use diorama_core::sync::broadcast::BroadcastReceiver;
use diorama_core::{Dio, Lens, Result, TableScenery, Vista};
use diorama_std::sqlite::SqliteVista;
use diorama_std::{SledBackend, SmolRuntime};

use super::args::GridArgs;
use super::data::TABLE;
use super::remote;
use super::source::Source;

/// The opened Diorama pieces of one run.
#[derive(Debug)]
pub struct Session {
    /// The Dio over the (remote-looking) SQLite master.
    pub dio: Dio,
    /// The paged table scenery the grid shows.
    pub view: TableScenery,
    /// Master calls so far.
    pub master_calls: Arc<AtomicU64>,
    /// The cache held rows of this table when the run started.
    pub warm: bool,
    /// Where the rows come from.
    pub source: Source,
    /// The SQLite table itself (a local source only), for what the Vista
    /// API does not ask (where a row is in an order); its calls are counted
    /// as master calls.
    pub master: Option<SqliteVista>,
    /// What opening the cache found when it was not clean (an unreadable
    /// cache moved aside, a rollback), to show the user.
    pub cache_notice: Option<String>,
    /// The Dio's events, drained by the grid for the failures it shows
    /// (see [`notices`](super::notices)).
    pub events: BroadcastReceiver<DioEvent>,
}

impl Session {
    /// Open the cache, the master, the Dio and the scenery (showing
    /// `initial`).
    ///
    /// On a warm cache the scenery opens with neither `total_provider` nor
    /// the refresh on open: the first screen comes from persisted positions
    /// and the persisted total, without any master call. Rows older than
    /// the TTL show as stale and are refetched as the viewport reaches
    /// them. On a cold cache the total is asked once and the first range is
    /// loaded at open.
    pub async fn open(
        args: &GridArgs,
        source: impl Into<Source>,
        initial: Range<usize>,
    ) -> Result<Session> {
        let source = source.into();
        let (cache, cache_notice) = crate::sample::cache::open_cache(source.cache_path())?;
        let warm = is_warm(&cache)?;
        let runtime = SmolRuntime::global().into_runtime();
        let (remote, sqlite) = match &source {
            Source::Local(dataset) => {
                let sqlite = SqliteVista::open(&dataset.db_path, TABLE, "id")?;
                let remote = remote::master(sqlite.clone(), args.latency, runtime.clone());
                (remote, Some(sqlite))
            }
            Source::Remote { url, .. } => (
                remote::http_master(url, args.latency, runtime.clone())?,
                None,
            ),
        };
        let master_calls = remote.calls();

        let lens = Lens::builder()
            .cache_source(cache)
            .runtime(runtime)
            .cache_ttl(args.ttl)
            .refresh_on_open(!warm);
        // One window of the master per chunk; its total keeps the scenery's
        // row count right after a search or a sort. Only a cold cache has
        // the master count each query too (`page_from_master`): a warm one
        // has the persisted total.
        let lens = if warm {
            lens.load_chunks_from_master()
        } else {
            lens.page_from_master()
        };
        let lens = lens.build()?;
        let dio = lens.make_dio(Vista::new(remote)).await?;
        // Subscribed before the view opens: a failure of its first load is told.
        let events = dio.subscribe_events();
        let view = dio
            .table_scenery()
            .page_size(args.page_size)
            .initial_range(initial)
            .open()
            .await?;
        Ok(Session {
            dio,
            view,
            master_calls,
            warm,
            source,
            master: sqlite,
            cache_notice,
            events,
        })
    }

    /// Count a call made to [`master`](Session::master) directly.
    pub fn count_master_call(&self) {
        self.master_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Master calls made so far.
    pub fn master_calls(&self) -> u64 {
        self.master_calls.load(Ordering::Relaxed)
    }
}

/// Whether the cache already holds rows of the products table.
fn is_warm(cache: &SledBackend) -> Result<bool> {
    use diorama_core::CacheBackend;
    if !cache.list_tables()?.iter().any(|name| name == TABLE) {
        return Ok(false);
    }
    Ok(cache.open_table(TABLE)?.count()? > 0)
}
