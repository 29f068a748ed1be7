//! Reading the change log: entries joined with the rows they name, and
//! what each becomes as a feed item.
//!
//! A log entry records *which* row changed; the values come from the table
//! itself, read in the same statement, through the same conversions as
//! `get`. So a change carries the row as the table holds it when the feed
//! reads the entry, which is the change itself or something later:
//!
//! - an insert or update of a row still there: `Inserted { record }` or
//!   `Updated { fields }` with every field;
//! - a row no longer there (deleted since, whatever the entry's op):
//!   `Removed`;
//! - a delete of a row that is there again (inserted anew since):
//!   `Updated` with its fields;
//! - a truncate: `Reset`;
//! - the trim marker: a gap, everything up to its sequence is gone.
//!
//! A consumer applying the items in order ends with every row as the
//! table holds it, never with a value older than one already applied.

use diorama_core::value::Value;
use diorama_core::vista::{ChangeEvent, FeedItem, Id};
use diorama_core::{Error, Record, Result};
use tokio_postgres::Row;

use super::super::convert::{read_row, read_value};
use super::super::schema::{IdKind, Kind, Schema};
use super::names::FeedNames;
use super::position::LogPosition;

/// One entry of the log, read with the row it names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entry {
    /// A row changed: its op, its id, and the row if it is still there.
    Row {
        seq: u64,
        op: char,
        id: Id,
        row: Option<Record>,
    },
    /// The table was truncated.
    Truncated { seq: u64 },
    /// The trim marker: everything up to `seq` was trimmed.
    Trimmed { seq: u64 },
    /// An entry this version does not know (or without its id).
    Unknown { seq: u64 },
}

impl Entry {
    pub(crate) fn seq(&self) -> u64 {
        match self {
            Entry::Row { seq, .. }
            | Entry::Truncated { seq }
            | Entry::Trimmed { seq }
            | Entry::Unknown { seq } => *seq,
        }
    }

    /// What the entry becomes in a feed of log `log` (see the module docs).
    pub(crate) fn into_item(self, log: u32) -> FeedItem {
        let position = LogPosition {
            log,
            seq: self.seq(),
        }
        .encode();
        let event = match self {
            Entry::Trimmed { seq } => {
                return FeedItem::Gap {
                    reason: format!(
                        "the change log was trimmed through sequence {seq}, past the \
                         position resumed from: the changes in between are lost"
                    ),
                    position,
                };
            }
            Entry::Row { id, row: None, .. } => ChangeEvent::Removed { id },
            Entry::Row {
                id,
                op: 'I',
                row: Some(record),
                ..
            } => ChangeEvent::Inserted {
                id,
                record: Some(record),
            },
            Entry::Row {
                id,
                row: Some(fields),
                ..
            } => ChangeEvent::Updated {
                id,
                fields: Some(fields),
            },
            // Whatever it is, nothing cached can be vouched for after it.
            Entry::Truncated { .. } | Entry::Unknown { .. } => ChangeEvent::Reset,
        };
        FeedItem::Change { event, position }
    }
}

/// The statement reading up to `$2` entries after sequence `$1`, each with
/// its row: `seq, op, row_id, <the row's select list>`.
pub(crate) fn read_sql(schema: &Schema, names: &FeedNames) -> String {
    let row_id = match schema.id_kind {
        IdKind::Integer => "l.row_id::int8",
        IdKind::Text | IdKind::Other => "l.row_id::text",
    };
    format!(
        "SELECT l.seq, l.op, {row_id}, {list} FROM {log} AS l \
         LEFT JOIN {table} AS t ON t.{id} = l.row_id \
         WHERE l.seq > $1::int8 ORDER BY l.seq LIMIT $2::int8",
        list = schema.select_list,
        log = names.log_qualified,
        table = schema.qualified,
        id = schema.id.quoted,
    )
}

/// One row of [`read_sql`] as an entry.
pub(crate) fn entry(schema: &Schema, row: &Row) -> Result<Entry> {
    let corrupt = |e: tokio_postgres::Error| {
        Error::corrupt(format!(
            "reading the change log of \"{}\": {e}",
            schema.table
        ))
    };
    let seq: i64 = row.try_get(0).map_err(corrupt)?;
    let seq = u64::try_from(seq).unwrap_or(0);
    let op: String = row.try_get(1).map_err(corrupt)?;
    let id_kind = match schema.id_kind {
        IdKind::Integer => Kind::Int,
        IdKind::Text | IdKind::Other => Kind::Text,
    };
    let id = match read_value(row, 2, id_kind)? {
        Value::Integer(i) => Some(i.to_string()),
        Value::Text(text) => Some(text),
        _ => None,
    };
    Ok(match (op.as_str(), id) {
        ("X", _) => Entry::Trimmed { seq },
        ("T", _) => Entry::Truncated { seq },
        (op @ ("I" | "U" | "D"), Some(id)) => {
            let present = !matches!(read_value(row, 3, schema.id.kind)?, Value::Null);
            let row = if present {
                Some(read_row(schema, row, 3)?.1)
            } else {
                None
            };
            Entry::Row {
                seq,
                op: op.chars().next().unwrap_or('U'),
                id,
                row,
            }
        }
        _ => Entry::Unknown { seq },
    })
}

#[cfg(test)]
mod tests {
    use diorama_core::record;

    use super::*;

    fn row(op: char, present: bool) -> FeedItem {
        Entry::Row {
            seq: 7,
            op,
            id: "a".into(),
            row: present.then(|| record! { "v" => 1 }),
        }
        .into_item(9)
    }

    fn change(item: FeedItem) -> ChangeEvent {
        match item {
            FeedItem::Change { event, position } => {
                assert_eq!(
                    LogPosition::decode(&position),
                    Some(LogPosition { log: 9, seq: 7 })
                );
                event
            }
            other => panic!("not a change: {other:?}"),
        }
    }

    #[test]
    fn entries_carry_the_row_as_the_table_holds_it() {
        assert_eq!(
            change(row('I', true)),
            ChangeEvent::Inserted {
                id: "a".into(),
                record: Some(record! { "v" => 1 })
            }
        );
        assert_eq!(
            change(row('U', true)),
            ChangeEvent::Updated {
                id: "a".into(),
                fields: Some(record! { "v" => 1 })
            }
        );
        // Deleted since: removed, whatever the entry said.
        for op in ['I', 'U', 'D'] {
            assert_eq!(
                change(row(op, false)),
                ChangeEvent::Removed { id: "a".into() }
            );
        }
        // Deleted, then inserted anew: the row as it is.
        assert!(matches!(
            change(row('D', true)),
            ChangeEvent::Updated { .. }
        ));
        assert_eq!(
            change(Entry::Truncated { seq: 7 }.into_item(9)),
            ChangeEvent::Reset
        );
        assert_eq!(
            change(Entry::Unknown { seq: 7 }.into_item(9)),
            ChangeEvent::Reset
        );
    }

    #[test]
    fn the_trim_marker_is_a_gap_at_its_sequence() {
        match (Entry::Trimmed { seq: 40 }).into_item(9) {
            FeedItem::Gap { position, reason } => {
                assert_eq!(
                    LogPosition::decode(&position),
                    Some(LogPosition { log: 9, seq: 40 })
                );
                assert!(reason.contains("40"), "{reason}");
            }
            other => panic!("not a gap: {other:?}"),
        }
    }
}
