//! How a row is shown: one pure rule, from what the cache holds, the
//! pending writes, the last write's failure and freshness, used by the
//! table and record sceneries alike (a value scenery shows no row: it
//! aggregates cached values and ignores pending writes).
//!
//! No I/O, no clock: the caller passes what it read and `now`.

use core::time::Duration;

use super::{EnrichedRecord, RowStatus};
use crate::cache::{CachedRow, RowState};
use crate::dio::PendingWrite;
use crate::error::Error;
use crate::runtime::Timestamp;
use crate::vista::Id;

/// Whether a row fetched at `fetched_at` reads stale at `now`: fetched
/// before the Dio's last wholesale invalidation, or older than the TTL.
/// A row with no fetch time (seeded by the application) never expires.
pub(crate) fn is_expired(
    fetched_at: Option<Timestamp>,
    invalidated_at: Timestamp,
    ttl: Option<Duration>,
    now: Timestamp,
) -> bool {
    let Some(fetched_at) = fetched_at else {
        return false;
    };
    fetched_at < invalidated_at
        || ttl.is_some_and(|ttl| now.saturating_duration_since(fetched_at) >= ttl)
}

/// Whether incomplete rows wait for a detail call (`on_load_detail`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Hydration {
    /// No detail loader: an incomplete row reads `Stale` and is refetched.
    #[default]
    Off,
    /// Its detail is awaited: an incomplete row reads `Incomplete`.
    Awaited,
    /// Its last detail call failed: an incomplete row shows the error.
    Failed(Error),
}

/// Everything that decides how one row is shown.
#[derive(Debug)]
pub(crate) struct RowFacts<'a> {
    /// The cache's row (`None`: not cached).
    pub(crate) cached: Option<CachedRow>,
    /// The optimistic state of queued or running writes to it.
    pub(crate) pending: Option<PendingWrite>,
    /// The last write to it failed (shown unless more are pending).
    pub(crate) failure: Option<Error>,
    /// The cached row is past its TTL or invalidated (see [`is_expired`]).
    pub(crate) expired: bool,
    /// What is shown now, the fallback when the row is not cached.
    pub(crate) shown: Option<&'a EnrichedRecord>,
    /// Whether an incomplete cached row waits for its detail.
    pub(crate) hydration: Hydration,
}

/// How row `id` is shown given `facts`; `None` when there is nothing to
/// show (neither cached nor shown, nor written by a pending insert).
///
/// - writes pending: `PendingWrite`, the optimistic record (the base when a
///   delete is pending) and the pending patches' fields;
/// - else a failed last write: `WriteFailed`, the cached (previous) value;
/// - else cached: `Fresh`; `Incomplete` (or `DetailFailed`) when
///   incomplete, unexpired and awaiting its detail; otherwise `Stale` when
///   incomplete, stale or expired;
/// - else (shown, no longer cached): `NotFound` with the value shown.
pub(crate) fn present(id: impl Into<Id>, facts: RowFacts<'_>) -> Option<EnrichedRecord> {
    let RowFacts {
        cached,
        pending,
        failure,
        expired,
        shown,
        hydration,
    } = facts;
    let (record, fetched_at, status) = match cached {
        Some(row) => {
            let stale = row.state != RowState::Complete || expired;
            let status = match hydration {
                _ if !stale => RowStatus::Fresh,
                _ if expired || row.state != RowState::Incomplete => RowStatus::Stale,
                Hydration::Off => RowStatus::Stale,
                Hydration::Awaited => RowStatus::Incomplete,
                Hydration::Failed(error) => RowStatus::DetailFailed { error },
            };
            (row.record, row.fetched_at, status)
        }
        None => match (shown, &pending) {
            (Some(shown), _) => (shown.record.clone(), shown.fetched_at, RowStatus::NotFound),
            // Nothing known but a pending insert or replace: its value.
            (
                None,
                Some(PendingWrite {
                    record: Some(record),
                    ..
                }),
            ) => (record.clone(), None, RowStatus::PendingWrite),
            (None, _) => return None,
        },
    };
    // Taken only now: nothing to show costs no id.
    let id: Id = id.into();
    Some(match (pending, failure) {
        (Some(pending), _) => EnrichedRecord::pending(
            id,
            pending.record.unwrap_or(record),
            pending.dirty_fields,
            fetched_at,
        ),
        (None, Some(error)) => EnrichedRecord {
            id,
            record,
            status: RowStatus::WriteFailed { error },
            dirty_fields: None,
            fetched_at,
        },
        (None, None) => EnrichedRecord {
            id,
            record,
            status,
            dirty_fields: None,
            fetched_at,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record;
    use alloc::string::String;
    use alloc::vec;

    fn cached(state: RowState) -> CachedRow {
        CachedRow {
            record: record! { "n" => 1 },
            state,
            fetched_at: Some(Timestamp::from_millis(10)),
        }
    }

    fn facts<'a>(cached: Option<CachedRow>) -> RowFacts<'a> {
        RowFacts {
            cached,
            pending: None,
            failure: None,
            expired: false,
            shown: None,
            hydration: Hydration::Off,
        }
    }

    #[test]
    fn an_incomplete_row_awaiting_its_detail_reads_incomplete_or_its_failure() {
        let row = |hydration, expired| {
            present(
                "a",
                RowFacts {
                    hydration,
                    expired,
                    ..facts(Some(cached(RowState::Incomplete)))
                },
            )
            .unwrap()
            .status
        };
        assert_eq!(row(Hydration::Awaited, false), RowStatus::Incomplete);
        assert_eq!(
            row(Hydration::Failed(Error::failed("503")), false),
            RowStatus::DetailFailed {
                error: Error::failed("503")
            }
        );
        assert_eq!(
            row(Hydration::Awaited, true),
            RowStatus::Stale,
            "expired: refetch the list"
        );
        let complete = RowFacts {
            hydration: Hydration::Awaited,
            ..facts(Some(cached(RowState::Complete)))
        };
        assert_eq!(present("a", complete).unwrap().status, RowStatus::Fresh);
    }

    #[test]
    fn cached_rows_are_fresh_unless_stale_incomplete_or_expired() {
        let row = |f| present("a", f).unwrap().status;
        assert_eq!(
            row(facts(Some(cached(RowState::Complete)))),
            RowStatus::Fresh
        );
        assert_eq!(row(facts(Some(cached(RowState::Stale)))), RowStatus::Stale);
        assert_eq!(
            row(facts(Some(cached(RowState::Incomplete)))),
            RowStatus::Stale
        );
        let expired = RowFacts {
            expired: true,
            ..facts(Some(cached(RowState::Complete)))
        };
        assert_eq!(row(expired), RowStatus::Stale);
    }

    #[test]
    fn a_pending_write_wins_over_a_failure_and_a_failure_over_freshness() {
        let pending = PendingWrite {
            record: Some(record! { "n" => 2 }),
            count: 1,
            dirty_fields: Some(vec![String::from("n")]),
        };
        let shown = present(
            "a",
            RowFacts {
                pending: Some(pending),
                failure: Some(Error::failed("earlier")),
                ..facts(Some(cached(RowState::Complete)))
            },
        )
        .unwrap();
        assert_eq!(shown.status, RowStatus::PendingWrite);
        assert_eq!(shown.record, record! { "n" => 2 });
        assert_eq!(shown.dirty_fields, Some(vec![String::from("n")]));
        let failed = present(
            "a",
            RowFacts {
                failure: Some(Error::failed("refused")),
                ..facts(Some(cached(RowState::Complete)))
            },
        )
        .unwrap();
        assert!(matches!(failed.status, RowStatus::WriteFailed { .. }));
        assert_eq!(failed.record, record! { "n" => 1 }, "the previous value");
        // A pending delete keeps the value shown.
        let deleting = PendingWrite {
            record: None,
            count: 1,
            dirty_fields: None,
        };
        let shown = present(
            "a",
            RowFacts {
                pending: Some(deleting),
                ..facts(Some(cached(RowState::Complete)))
            },
        )
        .unwrap();
        assert_eq!(shown.record, record! { "n" => 1 });
    }

    #[test]
    fn a_row_gone_from_the_cache_reads_not_found_or_nothing() {
        assert!(present("a", facts(None)).is_none());
        let inserting = PendingWrite {
            record: Some(record! { "n" => 9 }),
            count: 1,
            dirty_fields: None,
        };
        let new = present(
            "a",
            RowFacts {
                pending: Some(inserting),
                ..facts(None)
            },
        )
        .unwrap();
        assert_eq!(new.status, RowStatus::PendingWrite);
        assert_eq!(new.record, record! { "n" => 9 });
        let before = EnrichedRecord::fresh("a".into(), record! { "n" => 5 }, None);
        let gone = present(
            "a",
            RowFacts {
                shown: Some(&before),
                ..facts(None)
            },
        )
        .unwrap();
        assert_eq!(gone.status, RowStatus::NotFound);
        assert_eq!(gone.record, record! { "n" => 5 });
    }

    #[test]
    fn expiry_by_invalidation_and_ttl() {
        let at = |ms| Timestamp::from_millis(ms);
        let ttl = Some(Duration::from_millis(100));
        assert!(
            !is_expired(None, at(50), ttl, at(1000)),
            "seeded rows never expire"
        );
        assert!(
            is_expired(Some(at(10)), at(50), None, at(60)),
            "invalidated after"
        );
        assert!(!is_expired(Some(at(60)), at(50), ttl, at(100)));
        assert!(
            is_expired(Some(at(60)), at(50), ttl, at(160)),
            "past the TTL"
        );
    }
}
