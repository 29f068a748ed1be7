//! Row blocks: the rows of a table stored a few dozen per sled key.
//!
//! sled pays for every key it holds: inserting a new key costs ≈ 6 µs
//! (every insert copies a leaf), and its open time grows with the number of
//! pages. So rows are stored in blocks of up to [`MAX_ROWS`] rows (and about
//! [`MAX_BYTES`]), each under the row key of its first id (`0x01 ‖ id`);
//! a block holds every row from its own first id up to the next block's.
//! A row is found with one ordered lookup (the last block key ≤ the row's
//! key) and a walk over the block's entries; only that row is decoded.
//!
//! Stored form (sealed like every value, see `seal`): a format byte
//! ([`BLOCK_FORMAT`]), the entry count as u32 LE, then per entry, in
//! strictly ascending id order: the id's length (u32 LE), the id's bytes,
//! the row payload's length (u32 LE) and the payload (the `codec` row
//! payload, which carries the row's own epoch). The first entry's id must
//! be the one in the key. Anything else is damage: the whole block reads
//! as absent.
//!
//! Blocks are cut again whenever a write touches them and never merged
//! with a neighbour: deletes can leave small blocks behind, which costs a
//! few more keys, never a wrong read.

use std::ops::Range;

use diorama_core::error::{Error, Result};

use super::seal::{begin_seal, finish_seal, unseal};

/// The format byte in front of every block payload.
pub(crate) const BLOCK_FORMAT: u8 = 3;

/// Most rows one block holds.
pub(crate) const MAX_ROWS: usize = 64;

/// Bytes of entries past which a block is split (a single larger row is a
/// block of its own).
pub(crate) const MAX_BYTES: usize = 32 * 1024;

/// How large the blocks cut from a run of entries may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) rows: usize,
    pub(crate) bytes: usize,
}

/// For rows written together in id order (a fill, a page of consecutive
/// ids): few keys, [`MAX_ROWS`] per block.
pub(crate) const DENSE: Limits = Limits {
    rows: MAX_ROWS,
    bytes: MAX_BYTES,
};

/// For a block that took a few rows scattered among its own (reads spread
/// over the id space: a sorted page of a cold cache puts 50 ids into 50
/// blocks). A put rewrites its whole block, so such blocks are cut small:
/// the next scattered put into them rewrites a few rows, not sixty-four.
/// (The service's mixed load answered 200–440 requests/s with every block
/// cut at 64 rows, see the README.)
pub(crate) const SPARSE: Limits = Limits {
    rows: 8,
    bytes: 4 * 1024,
};

/// Per-entry overhead: the two lengths.
const ENTRY_OVERHEAD: usize = 8;

/// One stored row of a block: its id's bytes and its row payload.
pub(crate) type Entry<'a> = (&'a [u8], &'a [u8]);

fn corrupt(what: &str) -> Error {
    Error::corrupt(format!("invalid row block: {what}"))
}

/// Walks the entries of a block body.
struct Reader<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.body.len())
            .ok_or_else(|| corrupt("truncated"))?;
        let bytes = &self.body[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn len(&mut self) -> Result<usize> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| corrupt("length"))?;
        usize::try_from(u32::from_le_bytes(bytes)).map_err(|_| corrupt("length"))
    }

    fn entry(&mut self) -> Result<Entry<'a>> {
        let id_len = self.len()?;
        let id = self.take(id_len)?;
        let payload_len = self.len()?;
        Ok((id, self.take(payload_len)?))
    }
}

/// The entries of the block stored under row key `key` (`0x01 ‖ first id`),
/// checked: checksum, format, order, first id, no trailing bytes.
pub(crate) fn parse<'a>(key: &[u8], stored: &'a [u8]) -> Result<Vec<Entry<'a>>> {
    let payload = unseal(key, stored)?;
    let mut reader = header(payload)?;
    let count = reader.len()?;
    let mut entries: Vec<Entry<'a>> = Vec::with_capacity(count.min(MAX_ROWS * 4));
    for _ in 0..count {
        let entry = reader.entry()?;
        if let Some((last, _)) = entries.last()
            && *last >= entry.0
        {
            return Err(corrupt("ids out of order"));
        }
        entries.push(entry);
    }
    if reader.at != reader.body.len() {
        return Err(corrupt("trailing bytes"));
    }
    match entries.first() {
        Some((first, _)) if key.get(1..) == Some(*first) => Ok(entries),
        Some(_) => Err(corrupt("first id differs from its key")),
        None => Err(corrupt("empty")),
    }
}

fn header(payload: &[u8]) -> Result<Reader<'_>> {
    match payload.split_first() {
        Some((&BLOCK_FORMAT, body)) => Ok(Reader { body, at: 0 }),
        Some((&format, _)) => Err(corrupt(&format!("unknown format {format}"))),
        None => Err(corrupt("empty")),
    }
}

/// The payload of row `id` in the block stored under `key`, if it holds it.
/// Checks the checksum and the entries walked; decodes nothing.
pub(crate) fn find<'a>(key: &[u8], stored: &'a [u8], id: &[u8]) -> Result<Option<&'a [u8]>> {
    let payload = unseal(key, stored)?;
    let mut reader = header(payload)?;
    let count = reader.len()?;
    for _ in 0..count {
        let (entry_id, row) = reader.entry()?;
        match entry_id.cmp(id) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return Ok(Some(row)),
            std::cmp::Ordering::Greater => return Ok(None),
        }
    }
    Ok(None)
}

/// Replace `buf` with `entries` (ascending ids, at least one) sealed as the
/// block stored under `key` (the row key of the first id).
pub(crate) fn encode(buf: &mut Vec<u8>, key: &[u8], entries: &[Entry<'_>]) {
    begin_seal(buf);
    buf.push(BLOCK_FORMAT);
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    buf.extend_from_slice(&len(entries.len()));
    for (id, payload) in entries {
        buf.extend_from_slice(&len(id.len()));
        buf.extend_from_slice(id);
        buf.extend_from_slice(&len(payload.len()));
        buf.extend_from_slice(payload);
    }
    finish_seal(buf, key);
}

/// How to cut `entries` (ascending) into blocks: as few as `limits`
/// allow, of even row counts, so appending and inserting both leave full
/// blocks behind (a sequential fill packs ≈ [`MAX_ROWS`] per block).
pub(crate) fn plan(entries: &[Entry<'_>], limits: Limits) -> Vec<Range<usize>> {
    let size = |(id, payload): &Entry<'_>| id.len() + payload.len() + ENTRY_OVERHEAD;
    let bytes: usize = entries.iter().map(size).sum();
    let blocks = entries
        .len()
        .div_ceil(limits.rows)
        .max(bytes.div_ceil(limits.bytes))
        .max(1);
    let target = entries.len().div_ceil(blocks).max(1);
    let mut cuts = Vec::with_capacity(blocks);
    let (mut start, mut rows, mut held) = (0, 0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let add = size(entry);
        if rows > 0 && (rows == target || held + add > limits.bytes) {
            cuts.push(start..i);
            (start, rows, held) = (i, 0, 0);
        }
        rows += 1;
        held += add;
    }
    if rows > 0 {
        cuts.push(start..entries.len());
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sled_cache::codec::row_key;

    fn block(ids: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let entries: Vec<Entry<'_>> = ids.iter().map(|id| (id.as_bytes(), &b"row"[..])).collect();
        let key = row_key(ids[0]);
        let mut buf = Vec::new();
        encode(&mut buf, &key, &entries);
        (key, buf)
    }

    #[test]
    fn a_block_round_trips_and_finds_its_rows() {
        let (key, stored) = block(&["a", "b", "d"]);
        let entries = parse(&key, &stored).unwrap();
        assert_eq!(
            entries.iter().map(|e| e.0).collect::<Vec<_>>(),
            [b"a", b"b", b"d"]
        );
        assert_eq!(find(&key, &stored, b"b").unwrap(), Some(&b"row"[..]));
        assert_eq!(find(&key, &stored, b"c").unwrap(), None);
        assert_eq!(find(&key, &stored, b"z").unwrap(), None);
    }

    #[test]
    fn every_truncation_bit_flip_and_wrong_key_is_corrupt() {
        let (key, stored) = block(&["a", "b"]);
        for len in 0..stored.len() {
            assert!(parse(&key, &stored[..len]).is_err(), "length {len}");
        }
        for bit in 0..stored.len() * 8 {
            let mut flipped = stored.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(parse(&key, &flipped).is_err(), "bit {bit}");
            assert!(find(&key, &flipped, b"b").is_err(), "bit {bit}");
        }
        assert!(parse(&row_key("b"), &stored).is_err(), "another key");
    }

    #[test]
    fn malformed_blocks_with_valid_checksums_are_corrupt() {
        let key = row_key("b");
        let mut buf = Vec::new();
        // Out of order, and a first id that is not the key's.
        encode(&mut buf, &key, &[(b"b", b"x"), (b"a", b"y")]);
        assert!(parse(&key, &buf).is_err());
        encode(&mut buf, &key, &[(b"c", b"x")]);
        assert!(parse(&key, &buf).is_err());
        encode(&mut buf, &key, &[]);
        assert!(parse(&key, &buf).is_err());
    }

    #[test]
    fn plans_cut_evenly_within_the_limits() {
        let ids: Vec<String> = (0..1063).map(|i| format!("{i:07}")).collect();
        let entries: Vec<Entry<'_>> = ids
            .iter()
            .map(|id| (id.as_bytes(), &[0u8; 100][..]))
            .collect();
        let cuts = plan(&entries, DENSE);
        assert_eq!(cuts.len(), 17);
        assert!(cuts.iter().all(|c| c.len() <= MAX_ROWS && c.len() >= 50));
        assert_eq!(cuts.first().unwrap().start, 0);
        assert_eq!(cuts.last().unwrap().end, 1063);
        assert!(cuts.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(plan(&entries[..65], DENSE).len(), 2);
        assert_eq!(plan(&entries[..1], DENSE), vec![0..1]);
        assert!(plan(&[], DENSE).is_empty());
        let big = vec![0u8; MAX_BYTES];
        let large: Vec<Entry<'_>> = ids[..3]
            .iter()
            .map(|id| (id.as_bytes(), &big[..]))
            .collect();
        assert_eq!(plan(&large, DENSE), vec![0..1, 1..2, 2..3]);
        // Sparse limits cut the same rows small.
        let small = plan(&entries[..65], SPARSE);
        assert_eq!(small.len(), 9);
        assert!(small.iter().all(|c| c.len() <= SPARSE.rows));
    }
}
