//! What a reopened sled database is worth: its format, and whether it came
//! back with everything its last flush promised.
//!
//! Decisions (apart from I/O, in [`judge`]):
//!
//! - **Format.** A database without [`FORMAT_KEY`] but with cache tables was
//!   written by format 1 (no checksums); one with another format number by
//!   another build. Both are *unreadable*: `open_or_rebuild` moves them
//!   aside. Reading format 1 would mean trusting entries without checksums,
//!   and it is a cache: rebuilding costs refetches, not data.
//! - **Rollback.** sled's stored flush counter behind the marker file means
//!   sled recovered an older state than it had flushed. A missing or damaged
//!   counter, floor or marker (after the first flush) means the evidence is
//!   gone; that is treated the same way, because a cache that cannot show it
//!   kept its promise must not present its rows as fresh. Either way the
//!   counter resumes past everything seen and the trust floor moves to the
//!   next epoch: rows stored before read as stale until rewritten.

use std::path::Path;

use diorama_core::cache::Rollback;
use diorama_core::error::{Error, Result};

use super::codec::{self, CACHE_FORMAT, FLOOR_KEY, FLUSHED_KEY, FORMAT_KEY, TREE_PREFIX};
use super::durability::Recovered;
use super::marker::{self, MarkerRead};
use super::sled_error;

/// Why a database cannot be used, or what else went wrong.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The data cannot be read back (damaged, or another format): moving it
    /// aside and starting empty is the way out.
    Unreadable(Error),
    /// The directory is locked by another open database.
    Locked(Error),
    /// The disk holding it is full.
    DiskFull(Error),
    /// Anything else (I/O, permissions); nothing is moved.
    Failed(Error),
}

/// A stored `u64` database key as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Stored {
    Absent,
    Value(u64),
    Damaged(String),
}

/// What the database and the marker hold, as read at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) format: Stored,
    pub(super) has_tables: bool,
    pub(super) flushed: Stored,
    pub(super) floor: Stored,
    /// `None` for a temporary cache (it keeps no marker).
    pub(super) marker: Option<MarkerRead>,
}

/// What to do with a database, decided from what was found.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Verdict {
    /// A database with nothing in it: initialise it (format, counter 0),
    /// resuming from `flushed` (past the marker's value, if any) and
    /// reporting `rollback` when the marker shows a lost history.
    Initialise {
        flushed: u64,
        rollback: Option<Rollback>,
    },
    /// Use it as it is.
    Trust { flushed: u64, floor: u64 },
    /// Use it, but it rolled back: store `flushed` and `floor`, then report.
    Demote {
        flushed: u64,
        floor: u64,
        rollback: Rollback,
    },
    /// Refuse it (why).
    Unreadable(String),
}

/// Decide what the database is worth. Pure: no I/O.
pub(super) fn judge(found: &Found) -> Verdict {
    let marker = match &found.marker {
        Some(MarkerRead::Flush(m)) => Some(*m),
        _ => None,
    };
    match &found.format {
        Stored::Absent if found.has_tables => {
            return Verdict::Unreadable(
                "it was written by an older cache format (1, without checksums)".into(),
            );
        }
        Stored::Absent => {
            // Empty. A marker past 0 says this directory held a flushed
            // cache whose whole contents are gone.
            let rollback = marker.filter(|&m| m > 0).map(|m| {
                Rollback::new(
                    None,
                    Some(m),
                    format!("the cache is empty, but its marker recorded flush {m}"),
                )
                .demoted(true)
            });
            return Verdict::Initialise {
                flushed: marker
                    .unwrap_or(0)
                    .saturating_add(u64::from(rollback.is_some())),
                rollback,
            };
        }
        Stored::Damaged(why) => {
            return Verdict::Unreadable(format!("its format record is damaged ({why})"));
        }
        Stored::Value(CACHE_FORMAT) => {}
        Stored::Value(other) => {
            return Verdict::Unreadable(format!(
                "it was written in cache format {other}; this build reads format {CACHE_FORMAT}"
            ));
        }
    }
    let stored = match &found.flushed {
        Stored::Value(n) => Some(*n),
        _ => None,
    };
    let suspicion = match (&found.flushed, &found.marker) {
        (Stored::Absent, _) => Some("its flush record is missing".to_owned()),
        (Stored::Damaged(why), _) => Some(format!("its flush record is damaged ({why})")),
        (Stored::Value(s), Some(MarkerRead::Flush(m))) if m > s => Some(format!(
            "sled reopened at flush {s}, but the marker recorded flush {m}: \
             sled recovered an older state than it had flushed"
        )),
        (Stored::Value(s), Some(MarkerRead::Absent)) if *s > 0 => Some(format!(
            "its flush marker is missing (sled holds flush {s})"
        )),
        (Stored::Value(_), Some(MarkerRead::Damaged(why))) => {
            Some(format!("its flush marker is unreadable ({why})"))
        }
        _ => None,
    };
    let suspicion = suspicion.or_else(|| match &found.floor {
        Stored::Damaged(why) => Some(format!("its trust floor is damaged ({why})")),
        _ => None,
    });
    match suspicion {
        None => Verdict::Trust {
            flushed: stored.unwrap_or(0),
            floor: match found.floor {
                Stored::Value(floor) => floor,
                _ => 0,
            },
        },
        Some(reason) => {
            // Past every sequence seen, so no epoch repeats and every stored
            // row (epoch ≤ stored + 1) falls below the new floor.
            let flushed = stored
                .unwrap_or(0)
                .max(marker.unwrap_or(0))
                .saturating_add(1);
            Verdict::Demote {
                flushed,
                floor: flushed.saturating_add(1),
                rollback: Rollback::new(stored, marker, reason).demoted(true),
            }
        }
    }
}

/// Read what `db` and its marker hold, judge it, and carry the verdict
/// out: initialise an empty database, store a new floor after a rollback.
pub(super) fn recover(db: &sled::Db, dir: &Path, temporary: bool) -> Result<Recovered, Refusal> {
    let found = Found {
        format: read_u64(db, FORMAT_KEY)?,
        has_tables: db
            .tree_names()
            .iter()
            .any(|name| name.starts_with(TREE_PREFIX.as_bytes())),
        flushed: read_u64(db, FLUSHED_KEY)?,
        floor: read_u64(db, FLOOR_KEY)?,
        marker: (!temporary).then(|| marker::read(dir)),
    };
    let marker_dir = (!temporary).then_some(dir);
    match judge(&found) {
        Verdict::Unreadable(why) => Err(Refusal::Unreadable(Error::corrupt(why))),
        Verdict::Trust { flushed, floor } => Ok(Recovered {
            flushed,
            floor,
            rollback: None,
        }),
        Verdict::Initialise { flushed, rollback } => {
            let mut batch = sled::Batch::default();
            batch.insert(FORMAT_KEY, codec::encode_u64(FORMAT_KEY, CACHE_FORMAT));
            batch.insert(FLUSHED_KEY, codec::encode_u64(FLUSHED_KEY, flushed));
            persist(db, batch, marker_dir, flushed)?;
            if let Some(rollback) = &rollback {
                log::warn!("cache at {}: {rollback}", dir.display());
            }
            Ok(Recovered {
                flushed,
                floor: 0,
                rollback,
            })
        }
        Verdict::Demote {
            flushed,
            floor,
            rollback,
        } => {
            let mut batch = sled::Batch::default();
            batch.insert(FLUSHED_KEY, codec::encode_u64(FLUSHED_KEY, flushed));
            batch.insert(FLOOR_KEY, codec::encode_u64(FLOOR_KEY, floor));
            persist(db, batch, marker_dir, flushed)?;
            log::warn!("cache at {}: {rollback}", dir.display());
            Ok(Recovered {
                flushed,
                floor,
                rollback: Some(rollback),
            })
        }
    }
}

fn read_u64(db: &sled::Db, key: &[u8]) -> Result<Stored, Refusal> {
    let stored = db.get(key).map_err(|e| refusal(sled_error(e)))?;
    Ok(match stored {
        None => Stored::Absent,
        Some(bytes) => match codec::decode_u64(key, &bytes) {
            Ok(n) => Stored::Value(n),
            Err(error) => Stored::Damaged(error.message().to_owned()),
        },
    })
}

/// Apply `batch`, flush, and record `flushed` in the marker (when kept).
fn persist(
    db: &sled::Db,
    batch: sled::Batch,
    marker_dir: Option<&Path>,
    flushed: u64,
) -> Result<(), Refusal> {
    db.apply_batch(batch)
        .and_then(|()| db.flush().map(drop))
        .map_err(|e| refusal(sled_error(e)))?;
    if let Some(dir) = marker_dir {
        marker::write(dir, flushed).map_err(|e| {
            Refusal::Failed(Error::failed(format!(
                "cannot write the flush marker in {}: {e}",
                dir.display()
            )))
        })?;
    }
    Ok(())
}

/// A sled error met while reading the database's own records: corruption
/// makes it unreadable, anything else is a failure.
fn refusal(error: Error) -> Refusal {
    if error.kind() == diorama_core::ErrorKind::Corrupt {
        Refusal::Unreadable(error)
    } else {
        Refusal::Failed(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(flushed: Stored, marker: MarkerRead) -> Found {
        Found {
            format: Stored::Value(CACHE_FORMAT),
            has_tables: true,
            flushed,
            floor: Stored::Absent,
            marker: Some(marker),
        }
    }

    #[test]
    fn a_store_at_or_ahead_of_its_marker_is_trusted() {
        for (stored, marker) in [(5, 5), (6, 5), (0, 0)] {
            assert_eq!(
                judge(&found(Stored::Value(stored), MarkerRead::Flush(marker))),
                Verdict::Trust {
                    flushed: stored,
                    floor: 0
                }
            );
        }
        // Before the first flush's marker (a crash while creating it).
        assert!(matches!(
            judge(&found(Stored::Value(0), MarkerRead::Absent)),
            Verdict::Trust { flushed: 0, .. }
        ));
        // A kept floor is kept.
        let mut with_floor = found(Stored::Value(9), MarkerRead::Flush(9));
        with_floor.floor = Stored::Value(4);
        assert_eq!(
            judge(&with_floor),
            Verdict::Trust {
                flushed: 9,
                floor: 4
            }
        );
    }

    #[test]
    fn a_store_behind_its_marker_rolled_back_and_resumes_past_both() {
        let Verdict::Demote {
            flushed,
            floor,
            rollback,
        } = judge(&found(Stored::Value(3), MarkerRead::Flush(8)))
        else {
            panic!("not demoted");
        };
        assert_eq!((flushed, floor), (9, 10));
        assert_eq!(rollback.stored_flush, Some(3));
        assert_eq!(rollback.expected_flush, Some(8));
        assert!(rollback.rows_demoted);
        assert!(
            rollback.reason.contains("older state"),
            "{}",
            rollback.reason
        );
    }

    #[test]
    fn lost_evidence_is_treated_as_a_rollback() {
        for (flushed, marker, why) in [
            (Stored::Value(4), MarkerRead::Absent, "marker is missing"),
            (
                Stored::Value(4),
                MarkerRead::Damaged("x".into()),
                "marker is unreadable",
            ),
            (
                Stored::Absent,
                MarkerRead::Flush(4),
                "flush record is missing",
            ),
            (
                Stored::Damaged("x".into()),
                MarkerRead::Flush(4),
                "flush record is damaged",
            ),
        ] {
            let verdict = judge(&found(flushed, marker));
            let Verdict::Demote {
                flushed,
                floor,
                rollback,
            } = verdict
            else {
                panic!("{why}: {verdict:?}");
            };
            assert!(rollback.reason.contains(why), "{}", rollback.reason);
            assert_eq!((flushed, floor), (5, 6), "{why}");
        }
        let mut bad_floor = found(Stored::Value(2), MarkerRead::Flush(2));
        bad_floor.floor = Stored::Damaged("x".into());
        assert!(matches!(
            judge(&bad_floor),
            Verdict::Demote {
                flushed: 3,
                floor: 4,
                ..
            }
        ));
    }

    #[test]
    fn formats_other_than_this_one_are_unreadable() {
        let mut old = found(Stored::Absent, MarkerRead::Absent);
        old.format = Stored::Absent;
        assert!(
            matches!(judge(&old), Verdict::Unreadable(why) if why.contains("older cache format"))
        );
        let mut newer = found(Stored::Value(1), MarkerRead::Flush(1));
        newer.format = Stored::Value(4);
        assert!(matches!(judge(&newer), Verdict::Unreadable(why) if why.contains("format 4")));
        // Format 2 (one key per row) is not read by this build either.
        newer.format = Stored::Value(2);
        assert!(matches!(judge(&newer), Verdict::Unreadable(why) if why.contains("format 2")));
        newer.format = Stored::Damaged("x".into());
        assert!(matches!(judge(&newer), Verdict::Unreadable(why) if why.contains("format record")));
    }

    #[test]
    fn an_empty_store_starts_fresh_unless_its_marker_remembers_more() {
        let empty = |marker| Found {
            format: Stored::Absent,
            has_tables: false,
            flushed: Stored::Absent,
            floor: Stored::Absent,
            marker,
        };
        assert_eq!(
            judge(&empty(Some(MarkerRead::Absent))),
            Verdict::Initialise {
                flushed: 0,
                rollback: None
            }
        );
        assert_eq!(
            judge(&empty(None)),
            Verdict::Initialise {
                flushed: 0,
                rollback: None
            }
        );
        let Verdict::Initialise { flushed, rollback } = judge(&empty(Some(MarkerRead::Flush(6))))
        else {
            panic!("not initialised");
        };
        assert_eq!(flushed, 7);
        assert!(rollback.is_some_and(|r| r.expected_flush == Some(6)));
    }
}
