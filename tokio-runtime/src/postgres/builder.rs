//! `PgVistaBuilder`: where the table is, how long to wait, whether to
//! follow its changes.

use std::str::FromStr;
use std::time::Duration;

use diorama_core::{Error, Result};

use super::feed::TrimPolicy;
use super::vista::PgVista;

/// How long opening a connection may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one statement may run, by default.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections in the pool, by default (the feed's listener has its own).
pub const DEFAULT_POOL_SIZE: usize = 4;
/// How often a listener reads the change log without a notification, by
/// default (notifications are not trusted alone).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// Whether a [`PgVista`] offers the table's change feed (see
/// [`PgVista::install_change_feed`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChangeFeedSetup {
    /// Never: a Dio over the vista learns only of its own writes.
    Off,
    /// When the feed is installed in the database (the default): the
    /// install is a migration someone ran.
    #[default]
    IfInstalled,
    /// Install it at open (idempotent; needs the rights to create a table,
    /// functions and triggers), then offer it.
    Install,
}

/// Settings of a [`PgVista`], with their defaults.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) connect_timeout: Duration,
    pub(crate) statement_timeout: Duration,
    pub(crate) pool_size: usize,
    pub(crate) feed: ChangeFeedSetup,
    pub(crate) change_log: Option<String>,
    pub(crate) trim: TrimPolicy,
    pub(crate) poll_interval: Duration,
    pub(crate) applied_key_retention: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            pool_size: DEFAULT_POOL_SIZE,
            feed: ChangeFeedSetup::default(),
            change_log: None,
            trim: TrimPolicy::default(),
            poll_interval: DEFAULT_POLL_INTERVAL,
            applied_key_retention: Some(super::write::DEFAULT_APPLIED_RETENTION),
        }
    }
}

impl Settings {
    /// The longest a call waits for an answer: the server's statement
    /// timeout plus a margin for the network, so a connection that went
    /// silent is given up on rather than waited for.
    pub(crate) fn answer_timeout(&self) -> Duration {
        self.statement_timeout + self.connect_timeout
    }
}

/// Builds a [`PgVista`]: [`PgVista::builder`] or
/// [`PgVista::builder_with_config`], then the settings, then
/// [`open`](PgVistaBuilder::open).
#[derive(Debug)]
pub struct PgVistaBuilder {
    pub(crate) config: Result<tokio_postgres::Config>,
    pub(crate) table: String,
    pub(crate) namespace: Option<String>,
    pub(crate) id_column: String,
    pub(crate) settings: Settings,
}

impl PgVistaBuilder {
    pub(crate) fn new(url: &str, table: &str) -> Self {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            Error::invalid_input(format!("\"{}\" is not a PostgreSQL URL: {e}", redact(url)))
        });
        Self::with_config(config, table)
    }

    pub(crate) fn with_config(config: Result<tokio_postgres::Config>, table: &str) -> Self {
        PgVistaBuilder {
            config,
            table: table.to_owned(),
            namespace: None,
            id_column: String::from("id"),
            settings: Settings::default(),
        }
    }

    /// The schema (namespace) of the table; the connection's current
    /// schema (the first of its `search_path`) when not set.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.namespace = Some(schema.into());
        self
    }

    /// The column holding ids (`"id"` when not set). It must be the
    /// single-column primary key or have a unique index.
    pub fn id_column(mut self, column: impl Into<String>) -> Self {
        self.id_column = column.into();
        self
    }

    /// How long opening a connection may take before the call fails with
    /// `Unavailable` (default [`DEFAULT_CONNECT_TIMEOUT`], 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// How long one statement may run: the server cancels it after this
    /// (`Unavailable`), and a call that gets no answer within this plus
    /// the connect timeout gives up (`Unavailable`; for a write the outcome
    /// is then unknown). Default [`DEFAULT_STATEMENT_TIMEOUT`], 30 s.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.settings.statement_timeout = timeout;
        self
    }

    /// Connections in the pool (default [`DEFAULT_POOL_SIZE`], 4). A call
    /// waits for a free one up to the statement timeout.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.settings.pool_size = size.max(1);
        self
    }

    /// Whether to offer the table's change feed (default
    /// [`ChangeFeedSetup::IfInstalled`]).
    pub fn change_feed(mut self, setup: ChangeFeedSetup) -> Self {
        self.settings.feed = setup;
        self
    }

    /// The name of the change log table, in the table's schema (default
    /// `diorama_log_<table>`; set one when that is too long for
    /// PostgreSQL's 63-byte names or taken).
    pub fn change_log(mut self, table: impl Into<String>) -> Self {
        self.settings.change_log = Some(table.into());
        self
    }

    /// How old change log entries are trimmed (see [`TrimPolicy`]).
    pub fn trim_policy(mut self, policy: TrimPolicy) -> Self {
        self.settings.trim = policy;
        self
    }

    /// How long the key of a Dio's write stays in the applied-keys table
    /// after it was applied (seven days by default; `None` keeps every
    /// key). Older keys are removed every 1,024 keyed writes (and by
    /// [`PgVista::prune_applied_keys`](super::PgVista::prune_applied_keys)).
    /// A Dio replays a write only while its cache holds the write's intent
    /// (after a crash, until its next open), so a key is needed only until
    /// then; a write replayed after its key was removed is applied again
    /// (a patch or replace lands on the same value, an insert with an id
    /// fails as a duplicate).
    pub fn applied_key_retention(mut self, retention: Option<Duration>) -> Self {
        self.settings.applied_key_retention = retention;
        self
    }

    /// How often a feed's listener reads the change log even without a
    /// notification (default [`DEFAULT_POLL_INTERVAL`], 10 s).
    pub fn feed_poll_interval(mut self, interval: Duration) -> Self {
        self.settings.poll_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Connect, read the table's shape, and (as [`change_feed`](Self::change_feed)
    /// says) install or look for its change feed.
    ///
    /// Errors: `InvalidInput` for a bad URL or an unusable id column,
    /// `NotFound` when the table does not exist, `Unavailable` when the
    /// server cannot be reached within the connect timeout.
    pub async fn open(self) -> Result<PgVista> {
        PgVista::open(self).await
    }
}

/// `url` without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/app"),
            "postgres://me:***@db:5432/app"
        );
        assert_eq!(redact("postgres://me@db/app"), "postgres://me@db/app");
        assert_eq!(redact("host=db user=me"), "host=db user=me");
    }
}
