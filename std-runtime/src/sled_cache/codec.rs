//! How a cache table is laid out in its sled tree, and how rows are encoded.
//!
//! Key layout (one tree per table, so one `sled::Batch` covers rows, meta
//! and the row counter and is atomic for crashes):
//!
//! | key                      | value (after its checksum, see `seal`)   |
//! |--------------------------|------------------------------------------|
//! | `0x00 "count"`           | number of rows, `u64` big-endian         |
//! | `0x01 ‖ first id (UTF-8)`| a block of rows (`block`)                |
//! | `0x02 ‖ meta key`        | the meta value as given                  |
//!
//! The one-byte prefixes keep each space contiguous and ordered by the bytes
//! that follow, which is the order `scan` and `meta_range` promise.
//!
//! Every stored value is sealed: a CRC-32 of key and payload in front (the
//! `seal` module), so a damaged entry reads as absent instead of as another
//! value.
//!
//! Row payload (an entry of a block): a format byte ([`ROW_FORMAT`]), then
//! one CBOR array `[state, fetched_at, record, epoch]`: state `0` complete,
//! `1` incomplete, `2` stale; `fetched_at` Unix milliseconds or `null`; the
//! record as a CBOR map (the core's `Record` codec); `epoch` the backend's
//! flush epoch when the row was written (rows older than the backend's
//! trust floor read as stale, see `durability`). A future format gets a new
//! format byte; a reader that does not know a byte treats the row as
//! unreadable.
//!
//! Database keys (sled's default tree, sealed `u64` big-endian values):
//! [`FORMAT_KEY`] the cache format ([`CACHE_FORMAT`]), [`FLUSHED_KEY`] the
//! last completed flush, [`FLOOR_KEY`] the trust floor.
//!
//! Format history: format 1 (no checksums, no epoch, no database keys) and
//! format 2 (one sealed key per row) are not read: a cache written by them
//! is unreadable and rebuilt by `open_or_rebuild` (it is a cache; the
//! master has the data).

use diorama_core::cache::{CachedRow, RowState};
use diorama_core::error::{Error, Result};
use diorama_core::runtime::Timestamp;
use diorama_core::value::Record;
use minicbor::data::Type;
use minicbor::encode::{self, Write};
use minicbor::{Decoder, Encoder};

use super::seal::{seal, unseal};

/// The format byte in front of every row payload.
pub(crate) const ROW_FORMAT: u8 = 2;

/// The cache format this build writes and reads, stored at [`FORMAT_KEY`].
pub(crate) const CACHE_FORMAT: u64 = 3;

/// Tree names of cache tables start with this, so other trees in the
/// database (sled's default tree) are never listed as tables.
pub(crate) const TREE_PREFIX: &str = "diorama-table:";

/// The cache format's key in the database's default tree.
pub(crate) const FORMAT_KEY: &[u8] = b"diorama:format";
/// The last completed flush's sequence number, in the default tree.
pub(crate) const FLUSHED_KEY: &[u8] = b"diorama:flushed";
/// The trust floor (rows of an older epoch read as stale), in the default tree.
pub(crate) const FLOOR_KEY: &[u8] = b"diorama:trust-floor";

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

/// The tree key of the row whose id has the bytes `id`.
pub(crate) fn row_key_bytes(id: &[u8]) -> Vec<u8> {
    prefixed(ROW_PREFIX, id)
}

/// The tree key of meta key `key`.
pub(crate) fn meta_key(key: &[u8]) -> Vec<u8> {
    prefixed(META_PREFIX, key)
}

/// The meta key of a tree key from the meta space.
pub(crate) fn meta_of(key: &[u8]) -> Vec<u8> {
    key.get(1..).unwrap_or_default().to_vec()
}

/// A `u64` (the row counter, a database key's value) sealed for `key`.
pub(crate) fn encode_u64(key: &[u8], n: u64) -> Vec<u8> {
    seal(key, &n.to_be_bytes())
}

/// The `u64` stored under `key`, or a `Corrupt` error when the stored bytes
/// are damaged or not a `u64`.
pub(crate) fn decode_u64(key: &[u8], stored: &[u8]) -> Result<u64> {
    let payload = unseal(key, stored)?;
    let bytes: [u8; 8] = payload
        .try_into()
        .map_err(|_| Error::corrupt(format!("expected 8 bytes, found {}", payload.len())))?;
    Ok(u64::from_be_bytes(bytes))
}

/// A meta value sealed for its tree key `key` (see [`meta_key`]).
pub(crate) fn encode_meta(key: &[u8], value: &[u8]) -> Vec<u8> {
    seal(key, value)
}

/// The meta value stored under tree key `key`, or a `Corrupt` error when it
/// is damaged.
pub(crate) fn decode_meta<'a>(key: &[u8], stored: &'a [u8]) -> Result<&'a [u8]> {
    unseal(key, stored)
}

/// A row as stored: the row and the flush epoch it was written in.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StoredRow {
    pub(crate) row: CachedRow,
    pub(crate) epoch: u64,
}

/// `row`, written in `epoch`, as a row payload sealed under tree key `key`
/// (for the codec's tests and the fuzzer; the backend stores payloads in
/// blocks, see `block`).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn encode_row(key: &[u8], row: &CachedRow, epoch: u64) -> Vec<u8> {
    let mut payload = Vec::new();
    encode_row_payload(&mut payload, row, epoch);
    seal(key, &payload)
}

/// Append `row` (written in `epoch`) to `buf` as a row payload: what a
/// block stores per row.
pub(crate) fn encode_row_payload(buf: &mut Vec<u8>, row: &CachedRow, epoch: u64) {
    buf.push(ROW_FORMAT);
    // Writing into a Vec cannot fail, and the record codec reports nothing
    // but writer errors.
    let written = write_row(row, epoch, &mut Encoder::new(&mut *buf));
    debug_assert!(written.is_ok(), "encoding a row into a Vec failed");
}

fn write_row<W: Write>(
    row: &CachedRow,
    epoch: u64,
    e: &mut Encoder<W>,
) -> Result<(), encode::Error<W::Error>> {
    let state: u8 = match row.state {
        RowState::Complete => 0,
        RowState::Incomplete => 1,
        RowState::Stale => 2,
    };
    e.array(4)?.u8(state)?;
    match row.fetched_at {
        Some(at) => e.u64(at.as_millis())?,
        None => e.null()?,
    };
    e.encode(&row.record)?.u64(epoch)?;
    Ok(())
}

/// Decode the row sealed under tree key `key` (see [`encode_row`]).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn decode_row(key: &[u8], stored: &[u8]) -> Result<StoredRow> {
    decode_row_payload(unseal(key, stored)?)
}

/// Decode a row payload. Every malformation (an unknown format byte, bad
/// CBOR, an unknown state, trailing bytes) is an error of kind `Corrupt`;
/// nothing panics.
pub(crate) fn decode_row_payload(payload: &[u8]) -> Result<StoredRow> {
    let (&format, body) = payload
        .split_first()
        .ok_or_else(|| Error::corrupt("empty row"))?;
    if format != ROW_FORMAT {
        return Err(Error::corrupt(format!("unknown row format {format}")));
    }
    let bad = |e: minicbor::decode::Error| Error::corrupt(format!("invalid row: {e}"));
    let mut d = Decoder::new(body);
    if d.array().map_err(bad)? != Some(4) {
        return Err(Error::corrupt("invalid row: expected an array of 4 items"));
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
    let epoch = d.u64().map_err(bad)?;
    if d.position() != body.len() {
        return Err(Error::corrupt("invalid row: trailing bytes"));
    }
    Ok(StoredRow {
        row: CachedRow {
            record,
            state,
            fetched_at,
        },
        epoch,
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

    /// The payload of a stored row, checksum stripped.
    fn payload(stored: &[u8]) -> &[u8] {
        &stored[super::super::seal::SEAL_LEN..]
    }

    #[test]
    fn rows_round_trip_in_every_state() {
        let key = row_key("p1");
        for (row, epoch) in [
            (sample(RowState::Complete, Some(1_700_000_000_000)), 1),
            (sample(RowState::Incomplete, None), 0),
            (sample(RowState::Stale, Some(u64::MAX)), u64::MAX),
            (CachedRow::default(), 7),
        ] {
            let bytes = encode_row(&key, &row, epoch);
            assert_eq!(payload(&bytes)[0], ROW_FORMAT);
            assert_eq!(decode_row(&key, &bytes), Ok(StoredRow { row, epoch }));
        }
    }

    #[test]
    fn every_truncation_extension_and_bit_flip_is_corrupt_not_a_panic() {
        let key = row_key("p1");
        let bytes = encode_row(&key, &sample(RowState::Stale, Some(7)), 3);
        for len in 0..bytes.len() {
            let error = decode_row(&key, &bytes[..len]).unwrap_err();
            assert_eq!(error.kind(), diorama_core::ErrorKind::Corrupt);
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_row(&key, &longer).is_err());
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(decode_row(&key, &flipped).is_err(), "bit {bit}");
        }
        assert!(decode_row(&row_key("p2"), &bytes).is_err(), "another key");
    }

    #[test]
    fn unknown_formats_and_states_are_rejected() {
        let key = row_key("x");
        let reseal = |payload: &[u8]| seal(&key, payload);
        let mut body = payload(&encode_row(&key, &sample(RowState::Complete, None), 1)).to_vec();
        body[0] = 9;
        let error = decode_row(&key, &reseal(&body)).unwrap_err();
        assert!(error.message().contains("unknown row format 9"), "{error}");
        // format 2, [9, null, {}, 0]: state 9 does not exist.
        let bad_state = [ROW_FORMAT, 0x84, 0x09, 0xf6, 0xa0, 0x00];
        let error = decode_row(&key, &reseal(&bad_state)).unwrap_err();
        assert!(error.message().contains("unknown state 9"), "{error}");
        // A format-1 row (3 items, no checksum) is unreadable.
        let v1 = [1, 0x83, 0x00, 0xf6, 0xa0];
        assert!(decode_row(&key, &v1).is_err());
    }

    #[test]
    fn sealed_counters_and_meta_detect_damage() {
        let stored = encode_u64(COUNT_KEY, 12345);
        assert_eq!(decode_u64(COUNT_KEY, &stored), Ok(12345));
        assert!(decode_u64(FLUSHED_KEY, &stored).is_err());
        assert!(decode_u64(COUNT_KEY, &seal(COUNT_KEY, b"short")).is_err());
        let key = meta_key(b"pos");
        let stored = encode_meta(&key, b"value");
        assert_eq!(decode_meta(&key, &stored), Ok(&b"value"[..]));
        let mut damaged = stored.clone();
        damaged[5] ^= 0x20;
        assert!(decode_meta(&key, &damaged).is_err());
    }

    #[test]
    fn keys_keep_spaces_apart_and_ordered() {
        assert!(COUNT_KEY < row_key("").as_slice());
        assert!(row_key("\u{10FFFF}").as_slice() < ROWS_END);
        assert!(ROWS_END <= meta_key(b"").as_slice());
        assert!(row_key("a") < row_key("ab") && row_key("ab") < row_key("b"));
        assert_eq!(meta_of(&meta_key(b"k\x00")), b"k\x00".to_vec());
    }
}
