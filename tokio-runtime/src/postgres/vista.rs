//! `PgVista`: opening a table, the pool and its timeouts, and managing the
//! table's change feed.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use diorama_core::vista::VistaCapabilities;
use diorama_core::{Error, Result};
use tokio_postgres::NoTls;

use super::builder::{PgVistaBuilder, Settings};
use super::error::{no_answer, pool_error};
use super::feed::{FeedNames, PgChangeFeed, install, trim};
use super::schema::Schema;

/// A master table in PostgreSQL: a [`TableShell`](diorama_core::TableShell)
/// over one table (or view), with conditions, the sort, the search and
/// windows pushed into SQL, and, once installed, a change feed that a Dio
/// follows so changes made anywhere reach its views.
///
/// See the [module docs](super) for what is pushed, how values map, the
/// timeouts and the feed. Cheap to clone: clones share one pool. Needs a
/// tokio runtime (its calls and its feed run on tokio's I/O).
///
/// ```no_run
/// # async fn demo() -> diorama_core::Result<()> {
/// use diorama_tokio::postgres::PgVista;
///
/// let products = PgVista::builder("postgres://postgres@127.0.0.1/test", "products")
///     .open()
///     .await?;
/// products.install_change_feed().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgVista {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) pool: Pool,
    /// The configuration the pool connects with (the feed's listener opens
    /// its own connection with it).
    pub(super) config: tokio_postgres::Config,
    pub(super) schema: Arc<Schema>,
    pub(super) settings: Settings,
    /// The change log's names, or why the table can have no feed.
    pub(super) names: Result<Arc<FeedNames>>,
    pub(super) feed: RwLock<Option<PgChangeFeed>>,
    /// Totals of recent filters (see [`super::count`]).
    pub(super) counts: super::count::CountCache,
    /// The applied-keys table of keyed writes exists (see `write`).
    pub(super) applied_ready: std::sync::atomic::AtomicBool,
    /// Keyed writes since the applied keys were last pruned.
    pub(super) since_prune: std::sync::atomic::AtomicU32,
}

impl PgVista {
    /// A builder for `table` of the database at `url` (a `postgres://`
    /// URL or a `key=value` connection string). TLS is not supported: the
    /// connection is plain (a local socket, a private network or a TLS
    /// proxy).
    pub fn builder(url: &str, table: &str) -> PgVistaBuilder {
        PgVistaBuilder::new(url, table)
    }

    /// A builder for `table` of the database `config` connects to.
    pub fn builder_with_config(config: tokio_postgres::Config, table: &str) -> PgVistaBuilder {
        PgVistaBuilder::with_config(Ok(config), table)
    }

    pub(super) async fn open(builder: PgVistaBuilder) -> Result<PgVista> {
        needs_tokio(&format!("opening \"{}\"", builder.table))?;
        let PgVistaBuilder {
            config,
            table,
            namespace,
            id_column,
            settings,
        } = builder;
        let config = session_config(config?, &settings);
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .wait_timeout(Some(settings.statement_timeout))
            .build()
            .map_err(|e| Error::failed(format!("building the PostgreSQL pool: {e}")))?;
        let context = format!("opening \"{table}\"");
        let schema = answer(&settings, &context, false, async {
            let client = pool.get().await.map_err(|e| pool_error(&context, e))?;
            Schema::read(&client, namespace.as_deref(), &table, &id_column).await
        })
        .await?;
        let schema = Arc::new(schema);
        let names = FeedNames::new(&schema, settings.change_log.as_deref()).map(Arc::new);
        let vista = PgVista {
            inner: Arc::new(Inner {
                pool,
                config,
                schema,
                settings,
                names,
                feed: RwLock::new(None),
                counts: Default::default(),
                applied_ready: Default::default(),
                since_prune: Default::default(),
            }),
        };
        match vista.inner.settings.feed {
            super::ChangeFeedSetup::Off => {}
            super::ChangeFeedSetup::IfInstalled => {
                if vista.change_feed_installed().await? {
                    vista.offer_feed()?;
                }
            }
            super::ChangeFeedSetup::Install => vista.install_change_feed().await?,
        }
        Ok(vista)
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.inner.schema.table
    }

    /// The schema (namespace) the table is in.
    pub fn schema(&self) -> &str {
        &self.inner.schema.namespace
    }

    /// The connection pool, for what Diorama does not do (bulk loads with
    /// `COPY`, migrations). Rows changed through it reach a Dio only
    /// through the change feed.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The table's change feed, once installed and offered (what
    /// [`TableShell::change_feed`](diorama_core::TableShell::change_feed)
    /// hands a Dio).
    pub fn feed(&self) -> Option<PgChangeFeed> {
        self.inner
            .feed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The change log table's name (in the table's schema), or why this
    /// table can have none.
    pub fn change_log_table(&self) -> Result<&str> {
        match &self.inner.names {
            Ok(names) => Ok(&names.log),
            Err(error) => Err(error.clone()),
        }
    }

    /// Install the change feed, idempotently, like a migration: the change
    /// log table (`diorama_log_<table>` unless
    /// [`change_log`](PgVistaBuilder::change_log) names another: `seq
    /// bigserial`, `op`, `row_id`, `at`), two trigger functions and the
    /// statement triggers that record every insert, update, delete and
    /// truncate of the table in it and `NOTIFY` the sequence. Running it
    /// again replaces the functions and triggers with the same ones and
    /// keeps the log. Afterwards this vista offers the feed (unless built
    /// with [`ChangeFeedSetup::Off`](super::ChangeFeedSetup::Off)).
    ///
    /// Writes to the table then commit one at a time from their first
    /// change on (a transaction-scoped advisory lock taken by the
    /// triggers), which makes the log's order the commit order: a reader
    /// resuming after a sequence can never miss an entry committed later
    /// with a smaller one. The lock is taken before a statement touches a
    /// row; a transaction that writes the table and then waits for another
    /// that wants to write it too is a deadlock PostgreSQL detects, aborting
    /// one of them (as it would for two rows locked in opposite orders).
    ///
    /// Needs the rights to create a table and functions in the table's
    /// schema and triggers on the table (the functions run as their owner,
    /// so roles that only write the table need no rights on the log).
    /// Errors: `InvalidInput` for a view (it has no triggers of this kind)
    /// or names too long; `Failed` when the server refuses.
    ///
    /// A Dio opened over this vista before the install does not follow the
    /// feed by itself; attach it with `dio.follow(Arc::new(vista.feed()?))`.
    pub async fn install_change_feed(&self) -> Result<()> {
        let names = self.names()?;
        let context = format!("installing the change feed of \"{}\"", self.table());
        let schema = self.inner.schema.clone();
        self.answer(&context, true, async {
            let mut client = self.client(&context).await?;
            install::install(&mut client, &schema, &names).await
        })
        .await?;
        if self.inner.settings.feed != super::ChangeFeedSetup::Off {
            self.offer_feed()?;
        }
        Ok(())
    }

    /// Remove what [`install_change_feed`](Self::install_change_feed)
    /// created: triggers, functions and the change log (absent parts are
    /// fine). Dios following the feed report errors until they stop.
    pub async fn uninstall_change_feed(&self) -> Result<()> {
        let names = self.names()?;
        let context = format!("removing the change feed of \"{}\"", self.table());
        let schema = self.inner.schema.clone();
        self.answer(&context, true, async {
            let mut client = self.client(&context).await?;
            install::uninstall(&mut client, &schema, &names).await
        })
        .await?;
        *self
            .inner
            .feed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        Ok(())
    }

    /// True when the change feed is installed on the table.
    pub async fn change_feed_installed(&self) -> Result<bool> {
        let Ok(names) = &self.inner.names else {
            return Ok(false);
        };
        let context = format!("looking for the change feed of \"{}\"", self.table());
        let schema = self.inner.schema.clone();
        self.answer(&context, false, async {
            let client = self.client(&context).await?;
            install::installed(&client, &schema, names).await
        })
        .await
    }

    /// Trim the change log now by the vista's [`TrimPolicy`](super::TrimPolicy)
    /// (listeners also do it on their own schedule); returns how many
    /// entries went. A Dio resuming from before the trimmed part is told so
    /// with a gap.
    pub async fn trim_change_log(&self) -> Result<u64> {
        self.trim_change_log_with(&self.inner.settings.trim).await
    }

    /// Trim the change log now by `policy`; returns how many entries went.
    pub async fn trim_change_log_with(&self, policy: &super::TrimPolicy) -> Result<u64> {
        let names = self.names()?;
        let context = format!("trimming the change log of \"{}\"", self.table());
        let schema = self.inner.schema.clone();
        self.answer(&context, true, async {
            let mut client = self.client(&context).await?;
            trim::trim(&mut client, &schema, &names, policy).await
        })
        .await
    }

    fn names(&self) -> Result<Arc<FeedNames>> {
        self.inner.names.clone()
    }

    fn offer_feed(&self) -> Result<()> {
        let feed = PgChangeFeed::new(
            self.inner.config.clone(),
            self.inner.pool.clone(),
            self.inner.schema.clone(),
            self.names()?,
            self.inner.settings.clone(),
        );
        *self
            .inner
            .feed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(feed);
        Ok(())
    }

    /// A pooled connection; `Unavailable` when none comes in time.
    pub(super) async fn client(&self, context: &str) -> Result<Object> {
        self.inner
            .pool
            .get()
            .await
            .map_err(|e| pool_error(context, e))
    }

    /// `call`, given up with `Unavailable` when it gets no answer in time.
    pub(super) async fn answer<T>(
        &self,
        context: &str,
        write: bool,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        answer(&self.inner.settings, context, write, call).await
    }

    pub(super) fn capabilities_now(&self) -> VistaCapabilities {
        let schema = &self.inner.schema;
        VistaCapabilities {
            can_insert: schema.can_insert,
            can_update: schema.can_update,
            can_delete: schema.can_delete,
            can_subscribe: self.feed().is_some(),
            can_order: true,
            can_search: true,
            can_fetch_page: true,
            can_fetch_next: true,
            can_count: true,
        }
    }

    pub(super) fn check(&self, offered: bool, op: &str) -> Result<()> {
        if offered {
            Ok(())
        } else {
            Err(Error::unsupported(format!(
                "{op}: \"{}\" cannot be written here (a view, or the role lacks the privilege)",
                self.table()
            )))
        }
    }
}

/// `call`, given up with `Unavailable` after the answer timeout; `Failed`
/// at once outside a tokio runtime (the client needs tokio's I/O).
pub(super) async fn answer<T>(
    settings: &Settings,
    context: &str,
    write: bool,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    needs_tokio(context)?;
    let timeout = settings.answer_timeout();
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Err(no_answer(context, timeout, write)))
}

/// `Failed` outside a tokio runtime, rather than the client's panic.
pub(super) fn needs_tokio(context: &str) -> Result<()> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| {
            Error::failed(format!(
                "{context}: PgVista runs on tokio; call it from inside a tokio runtime \
             (a Dio on TokioRuntime does)"
            ))
        })
}

/// The connection settings every session of a vista gets: the connect
/// timeout, the statement timeout, and the session settings the reads
/// depend on (shortest float output, which search renders from; dates,
/// times and intervals in one fixed form, which reads of such columns
/// return as text).
fn session_config(
    mut config: tokio_postgres::Config,
    settings: &Settings,
) -> tokio_postgres::Config {
    config.connect_timeout(settings.connect_timeout);
    let mut options = config.get_options().unwrap_or_default().to_owned();
    options.push_str(&format!(
        " -c statement_timeout={} -c extra_float_digits=3 -c TimeZone=UTC \
         -c DateStyle=ISO,MDY -c IntervalStyle=postgres",
        settings.statement_timeout.as_millis().max(1)
    ));
    config.options(options.trim());
    if config.get_application_name().is_none() {
        config.application_name("diorama");
    }
    config
}

impl fmt::Debug for PgVista {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema = &self.inner.schema;
        f.debug_struct("PgVista")
            .field("table", &schema.qualified)
            .field("id_column", &schema.id.name)
            .field("fields", &schema.fields.len())
            .field("feed", &self.feed().is_some())
            .finish_non_exhaustive()
    }
}
