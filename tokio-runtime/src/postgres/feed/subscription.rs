//! One subscription: read the log after the position, then wait for a
//! notification or the poll timer and read again; on a lost connection,
//! report it, reconnect after a backoff and catch up from the log.
//!
//! The position read up to lives here, not in the connection, so a
//! reconnect resumes exactly after the last entry read (entries already
//! read but not yet taken are still delivered): nothing twice, nothing
//! skipped.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::vista::{FeedItem, FeedPosition};
use diorama_core::{Error, Result};
use tokio::time::Instant;
use tokio_postgres::Statement;

use super::Shared;
use super::listener::{Listener, within};
use super::log::{Entry, entry, read_sql};
use super::position::LogPosition;
use super::trim::trim;

/// Entries read per statement.
const BATCH: i64 = 500;
/// The first wait before reconnecting; it doubles up to [`MAX_RECONNECT`].
const FIRST_RECONNECT: Duration = Duration::from_millis(100);
/// The longest wait before reconnecting.
const MAX_RECONNECT: Duration = Duration::from_secs(5);

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// At the log's end once connected (`subscribe(None)`).
    Now,
    /// After a position of this feed.
    After(LogPosition),
    /// From bytes that are no position of this feed.
    Foreign,
}

/// What woke a connected, caught-up subscription.
enum Wake {
    Read,
    Trim,
    Lost,
}

pub(super) struct Subscription {
    shared: Arc<Shared>,
    start: Start,
    /// The position read up to, once connected the first time.
    at: Option<LogPosition>,
    ready: VecDeque<FeedItem>,
    listener: Option<Listener>,
    statement: Option<Statement>,
    caught_up: bool,
    /// The wait before the next connect, after a failure.
    retry: Option<Duration>,
    backoff: Duration,
    next_poll: Instant,
    next_trim: Option<Instant>,
}

impl Subscription {
    pub(super) fn new(shared: Arc<Shared>, from: Option<FeedPosition>) -> Self {
        let start = match from {
            None => Start::Now,
            Some(position) => LogPosition::decode(&position).map_or(Start::Foreign, Start::After),
        };
        Subscription {
            shared,
            start,
            at: None,
            ready: VecDeque::new(),
            listener: None,
            statement: None,
            caught_up: false,
            retry: None,
            backoff: FIRST_RECONNECT,
            next_poll: Instant::now(),
            next_trim: None,
        }
    }

    /// The next item; an `Err` reports a failure the subscription recovers
    /// from by itself on the next call.
    ///
    /// # Cancel safety
    /// Cancel safe: an entry is queued before anything awaits again, and a
    /// dropped read is read again.
    pub(super) async fn next(&mut self) -> Result<FeedItem> {
        super::super::vista::needs_tokio("following the change feed")?;
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Ok(item);
            }
            if self.listener.is_none() {
                if let Some(delay) = self.retry.take() {
                    // Taken before sleeping: a cancelled sleep is not redone.
                    tokio::time::sleep(delay).await;
                }
                if let Err(error) = self.connect().await {
                    self.lose();
                    return Err(error);
                }
                continue;
            }
            if !self.caught_up {
                if let Err(error) = self.read().await {
                    self.lose();
                    return Err(error);
                }
                continue;
            }
            match self.wait().await {
                Wake::Read => self.caught_up = false,
                Wake::Trim => {
                    if let Err(error) = self.trim().await {
                        if error.kind() == diorama_core::ErrorKind::Unavailable {
                            self.lose();
                        }
                        return Err(error);
                    }
                }
                Wake::Lost => {
                    self.lose();
                    return Err(Error::unavailable(format!(
                        "the connection of the change feed of \"{}\" was lost; it reconnects \
                         and catches up from the change log",
                        self.shared.schema.table
                    )));
                }
            }
        }
    }

    /// Drop the connection; the next call reconnects after the backoff.
    fn lose(&mut self) {
        self.listener = None;
        self.statement = None;
        self.caught_up = false;
        self.retry = Some(self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_RECONNECT);
    }

    async fn connect(&mut self) -> Result<()> {
        let shared = self.shared.clone();
        let settings = &shared.settings;
        let listener = Listener::connect(
            &shared.listener_config,
            &shared.names,
            settings.connect_timeout,
        )
        .await?;
        let context = format!("reading the change log of \"{}\"", shared.schema.table);
        let timeout = settings.answer_timeout();
        let end: i64 = within(
            timeout,
            &context,
            listener.client.query_one(
                &format!(
                    "SELECT COALESCE(max(seq), 0)::int8 FROM {}",
                    shared.names.log_qualified
                ),
                &[],
            ),
        )
        .await?
        .get(0);
        let end = u64::try_from(end).unwrap_or(0);
        let statement = within(
            timeout,
            &context,
            listener
                .client
                .prepare(&read_sql(&shared.schema, &shared.names)),
        )
        .await?;
        let log = listener.log;
        let resume = match (self.at, self.start) {
            (Some(at), _) | (None, Start::After(at)) => Some(at),
            (None, Start::Now) => {
                self.at = Some(LogPosition { log, seq: end });
                None
            }
            (None, Start::Foreign) => {
                self.gap(
                    "the position resumed from is not one of this feed's",
                    LogPosition { log, seq: end },
                );
                None
            }
        };
        if let Some(at) = resume {
            if at.log != log {
                self.gap(
                    "the change log was created anew since the position resumed from",
                    LogPosition { log, seq: 0 },
                );
            } else if at.seq > end {
                self.gap(
                    &format!(
                        "the change log ends at sequence {end}, before the position resumed \
                         from ({}): it was emptied or restored from an older state",
                        at.seq
                    ),
                    LogPosition { log, seq: end },
                );
            } else {
                self.at = Some(at);
            }
        }
        let now = Instant::now();
        self.next_poll = now + settings.poll_interval;
        self.next_trim = settings.trim.every.map(|_| now);
        self.listener = Some(listener);
        self.statement = Some(statement);
        self.caught_up = false;
        Ok(())
    }

    fn gap(&mut self, reason: &str, at: LogPosition) {
        self.ready.push_back(FeedItem::Gap {
            reason: reason.to_owned(),
            position: at.encode(),
        });
        self.at = Some(at);
    }

    /// Read the next batch of entries into `ready`.
    async fn read(&mut self) -> Result<()> {
        let (Some(listener), Some(statement), Some(at)) =
            (&self.listener, &self.statement, self.at)
        else {
            return Ok(());
        };
        let shared = &self.shared;
        let context = format!("reading the change log of \"{}\"", shared.schema.table);
        let after = i64::try_from(at.seq).unwrap_or(i64::MAX);
        let rows = within(
            shared.settings.answer_timeout(),
            &context,
            listener.client.query(statement, &[&after, &BATCH]),
        )
        .await?;
        let mut seq = at.seq;
        for row in &rows {
            let read: i64 = row
                .try_get(0)
                .map_err(|e| Error::corrupt(format!("{context}: {e}")))?;
            seq = u64::try_from(read).unwrap_or(seq);
            // A row that cannot be read is not vouched for.
            let entry = entry(&shared.schema, row).unwrap_or(Entry::Unknown { seq });
            self.ready.push_back(entry.into_item(at.log));
        }
        self.at = Some(LogPosition { log: at.log, seq });
        self.caught_up = rows.len() < BATCH as usize;
        self.next_poll = Instant::now() + shared.settings.poll_interval;
        self.backoff = FIRST_RECONNECT;
        Ok(())
    }

    async fn wait(&mut self) -> Wake {
        let Some(listener) = self.listener.as_mut() else {
            return Wake::Lost;
        };
        let next_trim = self.next_trim;
        let trim = async move {
            match next_trim {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = listener.notified.changed() => match changed {
                Ok(()) => Wake::Read,
                Err(_) => Wake::Lost,
            },
            () = tokio::time::sleep_until(self.next_poll) => Wake::Read,
            () = trim => Wake::Trim,
        }
    }

    async fn trim(&mut self) -> Result<()> {
        let shared = &self.shared;
        let policy = shared.settings.trim;
        self.next_trim = policy.every.map(|every| Instant::now() + every);
        let Some(listener) = self.listener.as_mut() else {
            return Ok(());
        };
        let context = format!("trimming the change log of \"{}\"", shared.schema.table);
        let timeout = shared.settings.answer_timeout();
        tokio::time::timeout(
            timeout,
            trim(&mut listener.client, &shared.schema, &shared.names, &policy),
        )
        .await
        .map_err(|_| super::super::error::no_answer(&context, timeout, true))?
        .map(drop)
    }
}
