//! What the cache records after the master applied a write, and the event
//! that announces it: a plain function, tested on its own.

use super::{DioEvent, WriteOp};
use crate::cache::{CacheBatch, CachedRow, RowState};
use crate::runtime::Timestamp;
use crate::vista::Id;

/// The batch recording an applied write and the data event to publish
/// once it is stored.
#[derive(Debug, PartialEq)]
pub(crate) struct Mirrored {
    pub(crate) batch: CacheBatch,
    pub(crate) event: DioEvent,
}

/// The cache's side of `op`, which the master applied writing row
/// `written` (`cached`: the row as cached before, read for a patch).
/// `None` for `DeleteAll`, which clears the whole table instead, and for a
/// write without a row to record.
pub(crate) fn mirror(
    op: WriteOp,
    written: Option<Id>,
    cached: Option<CachedRow>,
    now: Option<Timestamp>,
) -> Option<Mirrored> {
    let mut batch = CacheBatch::new();
    let event = match op {
        WriteOp::Insert { record, .. } => {
            let id = written?;
            batch.put(id.clone(), CachedRow::complete(record, now));
            DioEvent::RecordInserted { id }
        }
        WriteOp::Replace { id, record } => {
            batch.put(id.clone(), CachedRow::complete(record, now));
            DioEvent::RecordChanged { id }
        }
        WriteOp::Patch { id, fields } => {
            let row = match cached {
                Some(mut row) => {
                    row.record.merge(&fields);
                    row.fetched_at = now;
                    row
                }
                // Only the patched fields are known: an incomplete row.
                None => CachedRow {
                    record: fields,
                    state: RowState::Incomplete,
                    fetched_at: now,
                },
            };
            batch.put(id.clone(), row);
            DioEvent::RecordChanged { id }
        }
        WriteOp::Delete { id } => {
            batch.delete(id.clone());
            DioEvent::RecordRemoved { id }
        }
        WriteOp::DeleteAll => return None,
    };
    Some(Mirrored { batch, event })
}

/// The cache's side of a write whose row changed in the cache while the
/// master worked on it (the order of the two at the master is unknown):
/// the row `written` is dropped, so it is refetched, and views are told.
pub(crate) fn forget(written: Option<Id>) -> Option<Mirrored> {
    let id = written?;
    let mut batch = CacheBatch::new();
    batch.delete(id.clone());
    Some(Mirrored {
        batch,
        event: DioEvent::RecordChanged { id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record;

    fn at(millis: u64) -> Option<Timestamp> {
        Some(Timestamp::from_millis(millis))
    }

    #[test]
    fn an_insert_caches_the_row_under_the_id_the_master_chose() {
        let op = WriteOp::Insert {
            id: None,
            record: record! { "n" => 1 },
        };
        let mirrored = mirror(op, Some("m7".into()), None, at(5)).unwrap();
        assert_eq!(
            mirrored.batch.puts,
            [(
                "m7".into(),
                CachedRow::complete(record! { "n" => 1 }, at(5))
            )]
        );
        assert_eq!(mirrored.event, DioEvent::RecordInserted { id: "m7".into() });
    }

    #[test]
    fn a_patch_merges_into_the_cached_row_or_stores_an_incomplete_one() {
        let op = || WriteOp::Patch {
            id: "p".into(),
            fields: record! { "price" => 2 },
        };
        let cached = CachedRow::complete(record! { "name" => "a", "price" => 1 }, at(1));
        let merged = mirror(op(), Some("p".into()), Some(cached), at(9)).unwrap();
        assert_eq!(
            merged.batch.puts,
            [(
                "p".into(),
                CachedRow::complete(record! { "name" => "a", "price" => 2 }, at(9))
            )]
        );
        let partial = mirror(op(), Some("p".into()), None, at(9)).unwrap();
        assert_eq!(partial.batch.puts[0].1.state, RowState::Incomplete);
        assert_eq!(partial.event, DioEvent::RecordChanged { id: "p".into() });
    }

    #[test]
    fn a_delete_removes_the_row_and_delete_all_is_left_to_the_caller() {
        let removed = mirror(WriteOp::Delete { id: "d".into() }, None, None, at(1)).unwrap();
        assert_eq!(removed.batch.deletes, ["d"]);
        assert_eq!(removed.event, DioEvent::RecordRemoved { id: "d".into() });
        assert_eq!(mirror(WriteOp::DeleteAll, None, None, at(1)), None);
    }

    #[test]
    fn a_raced_write_drops_its_row() {
        let forgotten = forget(Some("r".into())).unwrap();
        assert_eq!(forgotten.batch.deletes, ["r"]);
        assert!(forgotten.batch.puts.is_empty());
        assert_eq!(forgotten.event, DioEvent::RecordChanged { id: "r".into() });
        assert_eq!(forget(None), None);
    }
}
