//! Write intents: what the outbox stores for each queued write, the
//! idempotency key it travels under, and the rules for replaying them.
//!
//! Plain types and functions (no await, no cache): the outbox and the worker
//! feed them bytes and act on their answers.
//!
//! An intent is stored under `meta::outbox(run, seq)`: big-endian run and
//! sequence, so the meta space's key order is the order the writes were
//! queued in, across runs. Its value is a CBOR array
//! `[1, kind, id or null, record or null]` (kind: 0 insert, 1 replace,
//! 2 patch, 3 delete, 4 delete-all; the record as [`Record::to_cbor`]).

use alloc::string::String;
use alloc::vec::Vec;

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

use crate::cache::meta;
use crate::error::{Error, Result};
use crate::value::Record;
use crate::vista::WriteOp;

/// Format version, first in every stored intent.
const VERSION: u8 = 1;

/// The stored form of `op` (see the module docs).
pub(crate) fn encode(op: &WriteOp) -> Vec<u8> {
    let (kind, id, record): (u8, Option<&str>, Option<&Record>) = match op {
        WriteOp::Insert { id, record } => (0, id.as_deref(), Some(record)),
        WriteOp::Replace { id, record } => (1, Some(id), Some(record)),
        WriteOp::Patch { id, fields } => (2, Some(id), Some(fields)),
        WriteOp::Delete { id } => (3, Some(id), None),
        WriteOp::DeleteAll => (4, None, None),
    };
    let mut buf = Vec::new();
    let mut e = Encoder::new(&mut buf);
    // Writing into a Vec cannot fail.
    let _ = e
        .array(4)
        .and_then(|e| e.u8(VERSION))
        .and_then(|e| e.u8(kind));
    let _ = match id {
        Some(id) => e.str(id),
        None => e.null(),
    };
    match record {
        Some(record) => buf.extend_from_slice(&record.to_cbor()),
        None => {
            let _ = Encoder::new(&mut buf).null();
        }
    }
    buf
}

/// The op stored as `bytes`; a [`Corrupt`](crate::ErrorKind::Corrupt) error
/// saying what is wrong when they are not an intent this version wrote.
pub(crate) fn decode(bytes: &[u8]) -> Result<WriteOp> {
    let bad = |what: &str| Error::corrupt(alloc::format!("invalid write intent: {what}"));
    let mut d = Decoder::new(bytes);
    if d.array().map_err(|_| bad("not an array"))? != Some(4) {
        return Err(bad("not an array of 4"));
    }
    if d.u8().map_err(|_| bad("no version"))? != VERSION {
        return Err(bad("unknown version"));
    }
    let kind = d.u8().map_err(|_| bad("no kind"))?;
    let id = match d.datatype().map_err(|_| bad("truncated"))? {
        Type::Null => {
            d.skip().map_err(|_| bad("truncated"))?;
            None
        }
        _ => Some(String::from(d.str().map_err(|_| bad("id is not text"))?)),
    };
    let rest = &bytes[d.position()..];
    let record = if rest == [0xf6] {
        None
    } else {
        Some(Record::from_cbor(rest)?)
    };
    match (kind, id, record) {
        (0, id, Some(record)) => Ok(WriteOp::Insert { id, record }),
        (1, Some(id), Some(record)) => Ok(WriteOp::Replace { id, record }),
        (2, Some(id), Some(fields)) => Ok(WriteOp::Patch { id, fields }),
        (3, Some(id), None) => Ok(WriteOp::Delete { id }),
        (4, None, None) => Ok(WriteOp::DeleteAll),
        _ => Err(bad("kind and fields do not match")),
    }
}

/// One intent found in the outbox when a Dio opened.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stored {
    pub(crate) run: u64,
    pub(crate) seq: u64,
    pub(crate) op: WriteOp,
}

/// What the outbox held at open: the intents to replay, in queue order, and
/// the keys of entries that could not be read (dropped, and counted).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Found {
    pub(crate) replay: Vec<Stored>,
    pub(crate) damaged: Vec<Vec<u8>>,
}

/// Sort the outbox's meta entries (as read, in key order) into intents to
/// replay and damaged entries. Key order is queue order, so the replay
/// order is the order the writes were first queued in.
pub(crate) fn read_outbox(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Found {
    let mut found = Found::default();
    for (key, value) in entries {
        match (meta::outbox_key_parts(&key), decode(&value)) {
            (Some((run, seq)), Ok(op)) => found.replay.push(Stored { run, seq, op }),
            _ => found.damaged.push(key),
        }
    }
    found
}

/// The run number of a new opening of a cache table: above the last run
/// stored there, above every run still in its outbox, and at least the
/// backend's flush sequence (which never goes back, even when the store
/// rolled back and lost the stored run).
pub(crate) fn next_run(stored_run: Option<u64>, found: &Found, resumed_from_flush: u64) -> u64 {
    let last_intent = found.replay.iter().map(|s| s.run).max();
    let after_stored = stored_run.max(last_intent).map_or(1, |run| run + 1);
    after_stored.max(resumed_from_flush.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record;

    fn ops() -> Vec<WriteOp> {
        alloc::vec![
            WriteOp::Insert {
                id: None,
                record: record! { "name" => "a" },
            },
            WriteOp::Insert {
                id: Some("x".into()),
                record: record! {},
            },
            WriteOp::Replace {
                id: "x".into(),
                record: record! { "n" => 1 },
            },
            WriteOp::Patch {
                id: "y".into(),
                fields: record! { "price" => 11.11 },
            },
            WriteOp::Delete { id: "z".into() },
            WriteOp::DeleteAll,
        ]
    }

    #[test]
    fn every_op_round_trips() {
        for op in ops() {
            assert_eq!(decode(&encode(&op)).unwrap(), op);
        }
    }

    #[test]
    fn damaged_bytes_are_an_error_never_a_panic() {
        for op in ops() {
            let bytes = encode(&op);
            for cut in 0..bytes.len() {
                let _ = decode(&bytes[..cut]);
            }
            for i in 0..bytes.len() {
                let mut flipped = bytes.clone();
                flipped[i] ^= 0xff;
                let _ = decode(&flipped);
            }
        }
        assert!(decode(b"").is_err());
        assert!(
            decode(&[0x84, 0x02, 0x00, 0xf6, 0xf6]).is_err(),
            "version 2"
        );
        assert!(
            decode(&[0x84, 0x01, 0x03, 0xf6, 0xf6]).is_err(),
            "delete without id"
        );
    }

    #[test]
    fn replay_follows_key_order_and_sets_damage_apart() {
        let entries = alloc::vec![
            (
                meta::outbox(3, 1),
                encode(&WriteOp::Delete { id: "a".into() })
            ),
            (meta::outbox(3, 2), b"garbage".to_vec()),
            (meta::outbox(4, 1), encode(&WriteOp::DeleteAll)),
            (b"w/short".to_vec(), encode(&WriteOp::DeleteAll)),
        ];
        let found = read_outbox(entries);
        let keys: Vec<(u64, u64)> = found.replay.iter().map(|s| (s.run, s.seq)).collect();
        assert_eq!(keys, [(3, 1), (4, 1)]);
        assert_eq!(found.damaged, [meta::outbox(3, 2), b"w/short".to_vec()]);
    }

    #[test]
    fn a_run_never_repeats() {
        let none = Found::default();
        assert_eq!(next_run(None, &none, 0), 1);
        assert_eq!(next_run(Some(7), &none, 0), 8);
        let found = read_outbox(alloc::vec![(
            meta::outbox(9, 4),
            encode(&WriteOp::DeleteAll)
        )]);
        assert_eq!(next_run(Some(7), &found, 0), 10);
        // A rollback lost the stored run; the flush sequence still moved on.
        assert_eq!(next_run(Some(2), &none, 40), 41);
    }

    #[test]
    fn keys_display_as_name_run_seq() {
        use crate::vista::WriteKey;
        let key = WriteKey::new("products", 3, 17);
        assert_eq!(alloc::format!("{key}"), "products/3/17");
        assert!(WriteKey::new("p", 3, 17) < WriteKey::new("p", 4, 1));
    }
}
