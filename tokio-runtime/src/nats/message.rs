//! The wire format of one change on the stream and of the shared tier's
//! entries: CBOR maps built with the core's own codec, versioned, decoded
//! defensively (a malformed message is an error, never a panic).

use diorama_core::vista::Page;
use diorama_core::{ChangeEvent, Error, Record, Result, Value};

/// Format version written in every message.
const VERSION: i64 = 1;

/// What a change did to its row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    /// The row was stored whole.
    Upsert(Record),
    /// These fields were overwritten.
    Patch(Record),
    /// The row was removed.
    Remove,
    /// The row changed in a way only the master knows: refetch it.
    Invalidate,
    /// Anything may have changed (no id).
    Reset,
}

/// One change published by a replica.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Change {
    /// The replica that made it.
    pub(crate) origin: String,
    /// The row (`None` for a reset).
    pub(crate) id: Option<String>,
    /// What happened.
    pub(crate) op: Op,
    /// Wall-clock millis when the origin began the master write (or learned
    /// of the change): the ordering rule compares it with when earlier
    /// changes were stored.
    pub(crate) started_ms: u64,
    /// The origin's own counter at registration (meaningful to it only).
    pub(crate) tick: u64,
    /// Which run of the origin process made it: after a restart, the
    /// replica's earlier messages are not known to be in its cache.
    pub(crate) boot: u64,
}

impl Change {
    /// The change as a live-source event for `Dio::handle_event`.
    pub(crate) fn event(&self) -> ChangeEvent {
        match (&self.op, &self.id) {
            (Op::Reset, _) | (_, None) => ChangeEvent::Reset,
            (Op::Upsert(record), Some(id)) => ChangeEvent::Updated {
                id: id.clone(),
                fields: Some(record.clone()),
            },
            (Op::Patch(fields), Some(id)) => ChangeEvent::Updated {
                id: id.clone(),
                fields: Some(fields.clone()),
            },
            (Op::Remove, Some(id)) => ChangeEvent::Removed { id: id.clone() },
            (Op::Invalidate, Some(id)) => ChangeEvent::Updated {
                id: id.clone(),
                fields: None,
            },
        }
    }

    /// True when the change carries a value (its order matters).
    pub(crate) fn carries_value(&self) -> bool {
        matches!(self.op, Op::Upsert(_) | Op::Patch(_) | Op::Remove)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let (kind, data) = match &self.op {
            Op::Upsert(record) => ("upsert", Some(record)),
            Op::Patch(fields) => ("patch", Some(fields)),
            Op::Remove => ("remove", None),
            Op::Invalidate => ("invalidate", None),
            Op::Reset => ("reset", None),
        };
        let mut out = Record::new()
            .with("v", VERSION)
            .with("o", self.origin.as_str())
            .with("k", kind)
            .with("s", self.started_ms)
            .with("t", self.tick)
            .with("b", self.boot);
        if let Some(id) = &self.id {
            out.insert("id", id.as_str());
        }
        if let Some(data) = data {
            out.insert("r", Value::from(data.clone()));
        }
        out.to_cbor()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Change> {
        let map = Record::from_cbor(bytes).map_err(|e| e.context("decoding a change message"))?;
        let version = map.get("v").and_then(Value::as_i64);
        if version != Some(VERSION) {
            return Err(Error::corrupt(format!(
                "change message of format {version:?}; this build reads {VERSION}"
            )));
        }
        let text = |field: &str| map.get(field).and_then(Value::as_str).map(String::from);
        let number = |field: &str| {
            map.get(field)
                .and_then(Value::as_i64)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
        };
        let record = || -> Result<Record> {
            let value = map
                .get("r")
                .cloned()
                .ok_or_else(|| Error::corrupt("change message without its record"))?;
            Record::try_from(value)
        };
        let id = text("id");
        let op = match text("k").as_deref() {
            Some("upsert") => Op::Upsert(record()?),
            Some("patch") => Op::Patch(record()?),
            Some("remove") => Op::Remove,
            Some("invalidate") => Op::Invalidate,
            Some("reset") => Op::Reset,
            other => {
                return Err(Error::corrupt(format!(
                    "change message of unknown kind {other:?}"
                )));
            }
        };
        if id.is_none() && op != Op::Reset {
            return Err(Error::corrupt("change message without a row id"));
        }
        Ok(Change {
            origin: text("o").ok_or_else(|| Error::corrupt("change message without origin"))?,
            id,
            op,
            started_ms: number("s"),
            tick: number("t"),
            boot: map
                .get("b")
                .and_then(|v| match v {
                    Value::Integer(n) => n.as_u64(),
                    _ => None,
                })
                .unwrap_or(0),
        })
    }
}

/// One entry of the shared tier.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TierEntry {
    /// A replica is fetching this key from the master; until `expires_ms`
    /// (its wall clock) others wait for the value.
    Lease { holder: String, expires_ms: u64 },
    /// A row as the master had it (`None`: no such row).
    Row(Option<Record>),
    /// A window as the master answered it.
    Page(Page),
}

impl TierEntry {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let out = match self {
            TierEntry::Lease { holder, expires_ms } => Record::new()
                .with("k", "lease")
                .with("h", holder.as_str())
                .with("x", *expires_ms),
            TierEntry::Row(None) => Record::new().with("k", "absent"),
            TierEntry::Row(Some(record)) => Record::new()
                .with("k", "row")
                .with("r", Value::from(record.clone())),
            TierEntry::Page(page) => {
                let ids = page
                    .rows
                    .iter()
                    .map(|(id, _)| Value::from(id.as_str()))
                    .collect();
                let rows = page
                    .rows
                    .iter()
                    .map(|(_, record)| Value::from(record.clone()))
                    .collect();
                let total = page
                    .total
                    .and_then(|n| u64::try_from(n).ok())
                    .map_or(Value::Null, Value::from);
                Record::new()
                    .with("k", "page")
                    .with("n", total)
                    .with("i", Value::Array(ids))
                    .with("r", Value::Array(rows))
            }
        };
        out.to_cbor()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<TierEntry> {
        let map =
            Record::from_cbor(bytes).map_err(|e| e.context("decoding a shared-tier entry"))?;
        let corrupt = |what: &str| Error::corrupt(format!("shared-tier entry: {what}"));
        match map.get("k").and_then(Value::as_str) {
            Some("lease") => Ok(TierEntry::Lease {
                holder: map
                    .get("h")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                expires_ms: map
                    .get("x")
                    .and_then(Value::as_i64)
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| corrupt("lease without expiry"))?,
            }),
            Some("absent") => Ok(TierEntry::Row(None)),
            Some("row") => {
                let value = map.get("r").cloned().ok_or_else(|| corrupt("no record"))?;
                Ok(TierEntry::Row(Some(Record::try_from(value)?)))
            }
            Some("page") => {
                let (Some(Value::Array(ids)), Some(Value::Array(rows))) =
                    (map.get("i"), map.get("r"))
                else {
                    return Err(corrupt("page without its rows"));
                };
                if ids.len() != rows.len() {
                    return Err(corrupt("page with as many ids as rows"));
                }
                let mut out = Vec::with_capacity(ids.len());
                for (id, row) in ids.iter().zip(rows) {
                    let id = id.as_str().ok_or_else(|| corrupt("a non-text id"))?;
                    out.push((id.to_string(), Record::try_from(row.clone())?));
                }
                let total = map
                    .get("n")
                    .and_then(Value::as_i64)
                    .and_then(|n| usize::try_from(n).ok());
                Ok(TierEntry::Page(Page { rows: out, total }))
            }
            other => Err(corrupt(&format!("unknown kind {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use diorama_core::record;

    use super::*;

    fn change(op: Op, id: Option<&str>) -> Change {
        Change {
            origin: "r1".into(),
            id: id.map(String::from),
            op,
            started_ms: 1_700_000_000_000,
            tick: 9,
            boot: u64::MAX - 3,
        }
    }

    #[test]
    fn changes_round_trip_and_map_to_events() {
        for c in [
            change(Op::Upsert(record! { "a" => 1 }), Some("x")),
            change(Op::Patch(record! { "b" => "two" }), Some("x.y")),
            change(Op::Remove, Some("x")),
            change(Op::Invalidate, Some("x")),
            change(Op::Reset, None),
        ] {
            assert_eq!(Change::decode(&c.encode()).unwrap(), c);
        }
        assert_eq!(
            change(Op::Remove, Some("x")).event(),
            ChangeEvent::Removed { id: "x".into() }
        );
        assert_eq!(change(Op::Reset, None).event(), ChangeEvent::Reset);
        assert!(!change(Op::Invalidate, Some("x")).carries_value());
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert!(Change::decode(b"\xff\x00").is_err());
        assert!(Change::decode(&Record::new().with("v", 2).to_cbor()).is_err());
        let no_id = Record::new()
            .with("v", VERSION)
            .with("o", "r")
            .with("k", "remove")
            .to_cbor();
        assert!(Change::decode(&no_id).is_err());
        let no_record = Record::new()
            .with("v", VERSION)
            .with("o", "r")
            .with("k", "patch")
            .with("id", "x")
            .to_cbor();
        assert!(Change::decode(&no_record).is_err());
    }

    #[test]
    fn tier_entries_round_trip() {
        for entry in [
            TierEntry::Lease {
                holder: "r2".into(),
                expires_ms: 5,
            },
            TierEntry::Row(None),
            TierEntry::Row(Some(record! { "price" => 1.5 })),
            TierEntry::Page(Page {
                rows: vec![("a".into(), record! { "n" => 1 })],
                total: Some(10),
            }),
            TierEntry::Page(Page::default()),
        ] {
            assert_eq!(TierEntry::decode(&entry.encode()).unwrap(), entry);
        }
        assert!(TierEntry::decode(b"junk").is_err());
    }
}
