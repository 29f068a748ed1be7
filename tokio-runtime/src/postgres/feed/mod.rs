//! The table's change feed: a trigger-written change log, read after a
//! position and on every `NOTIFY`.
//!
//! - [`install`]: the log, the trigger functions, the triggers.
//! - [`log`]: reading entries with the rows they name, and what each
//!   becomes.
//! - [`listener`]: the listening connection.
//! - [`subscription`]: one subscriber's loop (read, wait, reconnect).
//! - [`trim`]: the trim policy and the trim itself.
//! - [`position`]: the positions it hands out.

pub(crate) mod install;
mod listener;
mod log;
mod names;
mod position;
mod subscription;
pub(crate) mod trim;

pub use trim::TrimPolicy;

pub(crate) use names::FeedNames;

use std::fmt;
use std::sync::Arc;

use deadpool_postgres::Pool;
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{BoxStream, ChangeFeed, FeedItem, FeedPosition};
use diorama_core::{Error, Result};

use super::builder::Settings;
use super::error::{pg_error, pool_error};
use super::schema::Schema;
use super::vista::answer;
use position::LogPosition;
use subscription::Subscription;

/// The change feed of a [`PgVista`](super::PgVista)'s table, once
/// [installed](super::PgVista::install_change_feed): what a Dio over the
/// vista follows (through
/// [`TableShell::change_feed`](diorama_core::TableShell::change_feed)), and
/// what anyone may [`subscribe`](ChangeFeed::subscribe) to.
///
/// Each subscription has a connection of its own (`application_name` is
/// [`application_name`](PgChangeFeed::application_name)) which `LISTEN`s on
/// the log's channel. It reads the log after its position when it
/// connects, after every notification, and every poll interval in case a
/// notification was missed; it never takes a notification's word for what
/// changed. A lost connection is reported as an `Err` item
/// ([`Unavailable`](diorama_core::ErrorKind::Unavailable)); the
/// subscription reconnects (after 100 ms, doubling up to 5 s) and catches
/// up from the log, so every change is delivered once and in order. A
/// position the log no longer reaches (trimmed past it, the log created
/// anew or restored older) is reported as a
/// [`Gap`](FeedItem::Gap). Listeners trim the log by the vista's
/// [`TrimPolicy`].
///
/// Each change carries the row as the table holds it when the feed reads
/// the entry (the change itself or something later), with the same values
/// a `get` returns: `Inserted` and `Updated` carry every field, a row gone
/// since is `Removed`, a truncate is `Reset`.
///
/// Positions are 15 bytes: `pg1`, the log table's oid and the sequence.
#[derive(Clone)]
pub struct PgChangeFeed {
    shared: Arc<Shared>,
}

/// What every subscription of one feed needs.
pub(crate) struct Shared {
    /// The vista's connection settings with the listener's application name.
    listener_config: tokio_postgres::Config,
    application_name: String,
    pool: Pool,
    schema: Arc<Schema>,
    names: Arc<FeedNames>,
    settings: Settings,
}

impl PgChangeFeed {
    pub(crate) fn new(
        config: tokio_postgres::Config,
        pool: Pool,
        schema: Arc<Schema>,
        names: Arc<FeedNames>,
        settings: Settings,
    ) -> Self {
        let mut application_name = format!("diorama feed {}.{}", schema.namespace, schema.table);
        while application_name.len() > 63 {
            application_name.pop();
        }
        let mut listener_config = config;
        listener_config.application_name(&application_name);
        PgChangeFeed {
            shared: Arc::new(Shared {
                listener_config,
                application_name,
                pool,
                schema,
                names,
                settings,
            }),
        }
    }

    /// The `application_name` of its listening connections
    /// (`diorama feed <schema>.<table>`, cut to 63 bytes), to find them in
    /// `pg_stat_activity`.
    pub fn application_name(&self) -> &str {
        &self.shared.application_name
    }

    /// The change log table it reads (in the table's schema).
    pub fn change_log_table(&self) -> &str {
        &self.shared.names.log
    }
}

impl ChangeFeed for PgChangeFeed {
    fn name(&self) -> &str {
        "postgres"
    }

    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>> {
        let subscription = Subscription::new(self.shared.clone(), from);
        Box::pin(futures_lite::stream::unfold(
            subscription,
            |mut subscription| async move {
                let item = subscription.next().await;
                Some((item, subscription))
            },
        ))
    }

    /// The log's last sequence, read through the vista's pool.
    fn position(&self) -> BoxFuture<'_, Result<Option<FeedPosition>>> {
        Box::pin(async move {
            let shared = &self.shared;
            let context = format!(
                "reading where the change log of \"{}\" ends",
                shared.schema.table
            );
            answer(&shared.settings, &context, false, async {
                let client = shared
                    .pool
                    .get()
                    .await
                    .map_err(|e| pool_error(&context, e))?;
                let row = client
                    .query_one(
                        &format!(
                            "SELECT to_regclass($1::text)::oid::int8, \
                             (SELECT COALESCE(max(seq), 0)::int8 FROM {})",
                            shared.names.log_qualified
                        ),
                        &[&shared.names.log_regclass],
                    )
                    .await
                    .map_err(|e| pg_error(&context, &e))?;
                let log: Option<i64> = row.get(0);
                let log = log.ok_or_else(|| {
                    Error::not_found(format!("{context}: the change log table does not exist"))
                })?;
                let seq: i64 = row.get(1);
                Ok(Some(
                    LogPosition {
                        log: log as u32,
                        seq: u64::try_from(seq).unwrap_or(0),
                    }
                    .encode(),
                ))
            })
            .await
        })
    }
}

impl fmt::Debug for PgChangeFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgChangeFeed")
            .field("table", &self.shared.schema.qualified)
            .field("log", &self.shared.names.log)
            .finish_non_exhaustive()
    }
}
