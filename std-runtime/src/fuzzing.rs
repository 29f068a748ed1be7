//! Entry points into the sled backend's stored-entry codec, for the fuzzer
//! in `fuzz/` (feature `fuzzing`). Not a stable API: these expose the
//! storage format so every byte a damaged disk could hand back can be
//! thrown at the decoders directly, without sled in between.

use diorama_core::cache::CachedRow;
use diorama_core::error::Result;

use crate::sled_cache::{block, codec, marker, seal};

/// Decode a row payload (the codec of every row inside a block) sealed
/// under tree key `key`: the row and the flush epoch it was written in.
/// Malformed input is an error of kind `Corrupt`.
pub fn decode_row(key: &[u8], stored: &[u8]) -> Result<(CachedRow, u64)> {
    codec::decode_row(key, stored).map(|stored| (stored.row, stored.epoch))
}

/// `row`, written in `epoch`, as a row payload sealed under tree key `key`.
pub fn encode_row(key: &[u8], row: &CachedRow, epoch: u64) -> Vec<u8> {
    codec::encode_row(key, row, epoch)
}

/// A row decoded from a block: the row and its epoch, or why it is damaged.
pub type DecodedRow = Result<(CachedRow, u64)>;

/// Decode a stored block of rows found under row key `key` (`0x01 ‖ first
/// id`): each row's id and its decoded row and epoch. A damaged block is
/// an error of kind `Corrupt`; a damaged row inside an intact block is that
/// row's error.
pub fn decode_block(key: &[u8], stored: &[u8]) -> Result<Vec<(Vec<u8>, DecodedRow)>> {
    let entries = block::parse(key, stored)?;
    Ok(entries
        .into_iter()
        .map(|(id, payload)| {
            let row = codec::decode_row_payload(payload).map(|s| (s.row, s.epoch));
            (id.to_vec(), row)
        })
        .collect())
}

/// `rows` (ascending ids, each with its row and epoch) as the block stored
/// under the row key of the first id.
pub fn encode_block(rows: &[(&[u8], &CachedRow, u64)]) -> Vec<u8> {
    let mut payloads = Vec::new();
    let mut ranges = Vec::with_capacity(rows.len());
    for (_, row, epoch) in rows {
        let start = payloads.len();
        codec::encode_row_payload(&mut payloads, row, *epoch);
        ranges.push(start..payloads.len());
    }
    let entries: Vec<block::Entry<'_>> = rows
        .iter()
        .zip(&ranges)
        .map(|((id, _, _), range)| (*id, &payloads[range.clone()]))
        .collect();
    let key = codec::row_key_bytes(rows.first().map_or(&[][..], |r| r.0));
    let mut buf = Vec::new();
    block::encode(&mut buf, &key, &entries);
    buf
}

/// The tree key of row `id`.
pub fn row_key(id: &str) -> Vec<u8> {
    codec::row_key(id)
}

/// `payload` with the checksum for `key` in front, as every value is stored:
/// lets a fuzzer mutate a payload and still get past the checksum.
pub fn seal(key: &[u8], payload: &[u8]) -> Vec<u8> {
    seal::seal(key, payload)
}

/// Decode a stored meta value found under tree key `key`.
pub fn decode_meta(key: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
    codec::decode_meta(key, stored).map(<[u8]>::to_vec)
}

/// Decode a stored counter (row count, database record) under `key`.
pub fn decode_u64(key: &[u8], stored: &[u8]) -> Result<u64> {
    codec::decode_u64(key, stored)
}

/// Decode a flush marker file's contents: `Some(flush)`, or `None` when
/// damaged.
pub fn decode_marker(bytes: &[u8]) -> Option<u64> {
    match marker::decode(bytes) {
        marker::MarkerRead::Flush(flush) => Some(flush),
        _ => None,
    }
}

/// The flush marker file's contents for `flush`.
pub fn encode_marker(flush: u64) -> Vec<u8> {
    marker::encode(flush).to_vec()
}
