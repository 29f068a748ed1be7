//! How a cache table is laid out in its sled tree, and how rows are encoded.
//!
//! Key layout (one tree per table, so one `sled::Batch` covers rows, meta
//! and the row counter and is atomic for crashes):
//!
//! | key                   | value                                   |
//! |-----------------------|-----------------------------------------|
//! | `0x00 "count"`        | number of row keys, `u64` big-endian    |
//! | `0x01 ‖ id (UTF-8)`   | an encoded row (below)                  |
//! | `0x02 ‖ meta key`     | the meta value as given                 |
//!
//! The one-byte prefixes keep each space contiguous and ordered by the bytes
//! that follow, which is the order `scan` and `meta_range` promise.
//!
//! Row value: a format byte ([`ROW_FORMAT`]), then one CBOR array
//! `[state, fetched_at, record]`: state `0` complete, `1` incomplete,
//! `2` stale; `fetched_at` Unix milliseconds or `null`; the record as a CBOR
//! map (the core's `Record` codec). A future format gets a new format byte;
//! a reader that does not know a byte treats the row as unreadable.

use diorama_core::cache::{CachedRow, RowState};
use diorama_core::error::{Error, Result};
use diorama_core::runtime::Timestamp;
use diorama_core::value::Record;
use minicbor::data::Type;
use minicbor::encode::{self, Write};
use minicbor::{Decoder, Encoder};

/// The format byte written in front of every row.
pub(crate) const ROW_FORMAT: u8 = 1;

/// The row counter's key.
pub(crate) const COUNT_KEY: &[u8] = b"\x00count";
const ROW_PREFIX: u8 = 0x01;
const META_PREFIX: u8 = 0x02;

/// The first key after every row key.
pub(crate) const ROWS_END: &[u8] = &[ROW_PREFIX + 1];

fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(prefix);
    key.extend_from_slice(rest);
    key
}

/// The tree key of row `id`.
pub(crate) fn row_key(id: &str) -> Vec<u8> {
    prefixed(ROW_PREFIX, id.as_bytes())
}

/// The tree key of row `id` as sled's key type (short keys are stored
/// inline, without an allocation).
pub(crate) fn row_ivec(id: &str) -> sled::IVec {
    let mut key = [0u8; 24];
    let len = 1 + id.len();
    if len <= key.len() {
        key[0] = ROW_PREFIX;
        key[1..len].copy_from_slice(id.as_bytes());
        sled::IVec::from(&key[..len])
    } else {
        sled::IVec::from(row_key(id))
    }
}

/// The tree key of meta key `key`.
pub(crate) fn meta_key(key: &[u8]) -> Vec<u8> {
    prefixed(META_PREFIX, key)
}

/// The id of a row key, or an error when the key is not a row key of
/// valid UTF-8.
pub(crate) fn id_of(key: &[u8]) -> Result<String> {
    match key.split_first() {
        Some((&ROW_PREFIX, id)) => {
            String::from_utf8(id.to_vec()).map_err(|_| Error::corrupt("row key is not valid UTF-8"))
        }
        _ => Err(Error::corrupt("not a row key")),
    }
}

/// The meta key of a tree key from the meta space.
pub(crate) fn meta_of(key: &[u8]) -> Vec<u8> {
    key.get(1..).unwrap_or_default().to_vec()
}

/// The row counter's stored form.
pub(crate) fn encode_count(count: u64) -> [u8; 8] {
    count.to_be_bytes()
}

/// The row counter, or `None` when the stored bytes are not a counter.
pub(crate) fn decode_count(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// `row` in the current format.
#[cfg(test)]
pub(crate) fn encode_row(row: &CachedRow) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_row_into(&mut buf, row);
    buf
}

/// Replace the contents of `buf` with `row` in the current format. A batch
/// encodes every row into one reused buffer: sled copies the bytes into a
/// value of their own anyway, so growing a fresh `Vec` per row would only
/// add allocations.
pub(crate) fn encode_row_into(buf: &mut Vec<u8>, row: &CachedRow) {
    buf.clear();
    buf.push(ROW_FORMAT);
    // Writing into a Vec cannot fail, and the record codec reports nothing
    // but writer errors.
    let written = write_row(row, &mut Encoder::new(&mut *buf));
    debug_assert!(written.is_ok(), "encoding a row into a Vec failed");
}

fn write_row<W: Write>(row: &CachedRow, e: &mut Encoder<W>) -> Result<(), encode::Error<W::Error>> {
    let state: u8 = match row.state {
        RowState::Complete => 0,
        RowState::Incomplete => 1,
        RowState::Stale => 2,
    };
    e.array(3)?.u8(state)?;
    match row.fetched_at {
        Some(at) => e.u64(at.as_millis())?,
        None => e.null()?,
    };
    e.encode(&row.record)?;
    Ok(())
}

/// Decode a stored row. Every malformation (unknown format byte, bad CBOR,
/// unknown state, trailing bytes) is an error of kind `Corrupt`.
pub(crate) fn decode_row(bytes: &[u8]) -> Result<CachedRow> {
    let (&format, body) = bytes
        .split_first()
        .ok_or_else(|| Error::corrupt("empty row"))?;
    if format != ROW_FORMAT {
        return Err(Error::corrupt(format!("unknown row format {format}")));
    }
    let bad = |e: minicbor::decode::Error| Error::corrupt(format!("invalid row: {e}"));
    let mut d = Decoder::new(body);
    if d.array().map_err(bad)? != Some(3) {
        return Err(Error::corrupt("invalid row: expected an array of 3 items"));
    }
    let state = match d.u8().map_err(bad)? {
        0 => RowState::Complete,
        1 => RowState::Incomplete,
        2 => RowState::Stale,
        other => {
            return Err(Error::corrupt(format!(
                "invalid row: unknown state {other}"
            )));
        }
    };
    let fetched_at = if d.datatype().map_err(bad)? == Type::Null {
        d.skip().map_err(bad)?;
        None
    } else {
        Some(Timestamp::from_millis(d.u64().map_err(bad)?))
    };
    let record: Record = d.decode().map_err(bad)?;
    if d.position() != body.len() {
        return Err(Error::corrupt("invalid row: trailing bytes"));
    }
    Ok(CachedRow {
        record,
        state,
        fetched_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use diorama_core::value::Value;

    fn sample(state: RowState, fetched_at: Option<u64>) -> CachedRow {
        let mut record = Record::new();
        record.insert("name", "Lamp");
        record.insert("price", 19.5);
        record.insert("nested", Value::Array(vec![Value::Null, Value::from(-3)]));
        CachedRow {
            record,
            state,
            fetched_at: fetched_at.map(Timestamp::from_millis),
        }
    }

    #[test]
    fn rows_round_trip_in_every_state() {
        for row in [
            sample(RowState::Complete, Some(1_700_000_000_000)),
            sample(RowState::Incomplete, None),
            sample(RowState::Stale, Some(u64::MAX)),
            CachedRow::default(),
        ] {
            let bytes = encode_row(&row);
            assert_eq!(bytes[0], ROW_FORMAT);
            assert_eq!(decode_row(&bytes), Ok(row));
        }
    }

    #[test]
    fn every_truncation_and_extension_is_corrupt_not_a_panic() {
        let bytes = encode_row(&sample(RowState::Stale, Some(7)));
        for len in 0..bytes.len() {
            let error = decode_row(&bytes[..len]).unwrap_err();
            assert_eq!(error.kind(), diorama_core::ErrorKind::Corrupt);
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_row(&longer).is_err());
    }

    #[test]
    fn unknown_formats_and_states_are_rejected() {
        let mut bytes = encode_row(&sample(RowState::Complete, None));
        bytes[0] = 2;
        assert!(
            decode_row(&bytes)
                .unwrap_err()
                .message()
                .contains("unknown row format 2")
        );
        // format 1, [9, null, {}]: state 9 does not exist.
        let bad_state = [ROW_FORMAT, 0x83, 0x09, 0xf6, 0xa0];
        assert!(
            decode_row(&bad_state)
                .unwrap_err()
                .message()
                .contains("unknown state 9")
        );
    }

    #[test]
    fn keys_keep_spaces_apart_and_ordered() {
        assert!(COUNT_KEY < row_key("").as_slice());
        assert!(row_key("\u{10FFFF}").as_slice() < ROWS_END);
        assert!(ROWS_END <= meta_key(b"").as_slice());
        assert!(row_key("a") < row_key("ab") && row_key("ab") < row_key("b"));
        assert_eq!(id_of(&row_key("é1")), Ok("é1".to_owned()));
        let long = "x".repeat(40);
        for id in ["", "a", "é1", "exactly-23-bytes-long-x", long.as_str()] {
            assert_eq!(row_ivec(id).as_ref(), row_key(id).as_slice(), "{id}");
        }
        assert!(id_of(&[0x01, 0xff]).is_err());
        assert_eq!(meta_of(&meta_key(b"k\x00")), b"k\x00".to_vec());
        assert_eq!(decode_count(&encode_count(12345)), Some(12345));
        assert_eq!(decode_count(b"short"), None);
    }
}
