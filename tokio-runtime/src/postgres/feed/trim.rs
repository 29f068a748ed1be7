//! Trimming the change log, and the marker that makes a trimmed stretch
//! visible to readers resuming before it.

use std::time::Duration;

use diorama_core::Result;
use tokio_postgres::Client;

use super::super::error::pg_error;
use super::super::schema::Schema;
use super::names::{FeedNames, TRIM_LOCK_CLASS};

/// Which change log entries are trimmed, and how often a listener trims.
///
/// An entry goes once it is older than `keep_for` **or** once more than
/// `keep_entries` entries follow it; trimming always removes a prefix of
/// the log (everything up to the newest entry that qualifies). The trimmed
/// stretch is remembered by one marker entry (`op = 'X'`) at its last
/// sequence, so a Dio resuming from a position inside it is told so with a
/// [`Gap`](diorama_core::vista::FeedItem::Gap) (and invalidates its cache)
/// instead of silently missing changes.
///
/// Every listener (one per Dio following the feed) trims after it connects
/// and then every `every` (`None`: listeners never trim; call
/// [`PgVista::trim_change_log`](super::super::PgVista::trim_change_log)
/// yourself, from a scheduled job). Trims are serialised by an advisory
/// lock, so several listeners trimming is harmless.
///
/// The default keeps a day and at most a million entries, trimming every
/// ten minutes: a Dio may stay away for a day without losing its cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrimPolicy {
    /// Entries older than this go.
    pub keep_for: Duration,
    /// At most this many of the newest entries stay.
    pub keep_entries: u64,
    /// How often a listener trims; `None` for never.
    pub every: Option<Duration>,
}

impl Default for TrimPolicy {
    fn default() -> Self {
        TrimPolicy {
            keep_for: Duration::from_secs(24 * 60 * 60),
            keep_entries: 1_000_000,
            every: Some(Duration::from_secs(10 * 60)),
        }
    }
}

impl TrimPolicy {
    /// A policy that trims everything there is when applied (tests, and a
    /// one-off reset of a log nobody resumes from).
    pub fn everything() -> Self {
        TrimPolicy {
            keep_for: Duration::ZERO,
            keep_entries: 0,
            every: None,
        }
    }
}

/// Trim `names`' log by `policy`; how many entries went.
pub(crate) async fn trim(
    client: &mut Client,
    schema: &Schema,
    names: &FeedNames,
    policy: &TrimPolicy,
) -> Result<u64> {
    let context = format!("trimming the change log of \"{}\"", schema.table);
    let log = &names.log_qualified;
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_error(&context, &e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
        &[&TRIM_LOCK_CLASS, &(schema.oid as i32)],
    )
    .await
    .map_err(|e| pg_error(&context, &e))?;
    let keep_entries = i64::try_from(policy.keep_entries).unwrap_or(i64::MAX);
    let cutoff: Option<i64> = tx
        .query_one(
            &format!(
                "SELECT max(seq) FROM {log} WHERE op <> 'X' AND \
                 (at < now() - make_interval(secs => $1::float8) \
                  OR seq <= (SELECT max(seq) FROM {log}) - $2::int8)"
            ),
            &[&policy.keep_for.as_secs_f64(), &keep_entries],
        )
        .await
        .map_err(|e| pg_error(&context, &e))?
        .get(0);
    let Some(cutoff) = cutoff else {
        tx.commit().await.map_err(|e| pg_error(&context, &e))?;
        return Ok(0);
    };
    let gone: i64 = tx
        .query_one(
            &format!(
                "WITH gone AS (DELETE FROM {log} WHERE seq <= $1::int8 RETURNING op) \
                 SELECT count(*) FILTER (WHERE op <> 'X') FROM gone"
            ),
            &[&cutoff],
        )
        .await
        .map_err(|e| pg_error(&context, &e))?
        .get(0);
    // The marker: everything up to `cutoff` is gone.
    tx.execute(
        &format!("INSERT INTO {log} (seq, op) VALUES ($1::int8, 'X')"),
        &[&cutoff],
    )
    .await
    .map_err(|e| pg_error(&context, &e))?;
    tx.commit().await.map_err(|e| pg_error(&context, &e))?;
    Ok(u64::try_from(gone).unwrap_or(0))
}
