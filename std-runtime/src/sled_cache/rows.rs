//! A table's rows in its sled tree, through row blocks (`block`): finding
//! a row, scanning in id order, counting, and turning a batch's row puts
//! and deletes into block writes.
//!
//! Writing: the batch's row operations are sorted by id (the last one per
//! id wins, deletes before puts as `CacheBatch` orders them) and grouped by
//! the stored block whose id range holds them (ids before every block go
//! to the first). Each group's block is merged with its operations (rows
//! left alone are copied as bytes, never decoded) and cut again into
//! blocks (`block::plan`), all in the one `sled::Batch` of the apply: large
//! ones where the new rows are half the block or more, small ones where a
//! few were scattered into it (`block::SPARSE`), so random reads into a
//! cold cache do not rewrite sixty-four rows for each row they store. A
//! table with no blocks yet, or ids past its last block, packs new blocks
//! straight from the sorted rows: a fill of a million rows is a sort, an
//! encode per row and one sled insert per ≈ 64 rows.

use std::ops::Bound;

use diorama_core::cache::CachedRow;
use diorama_core::error::{Error, Result};
use sled::IVec;

use super::block::{self, Entry};
use super::codec::{self, ROWS_END};
use super::sled_error;

/// Reports a damaged block (its key, the error) and lets the table count it.
pub(super) type Damaged<'a> = &'a dyn Fn(&[u8], &Error);

/// The first key of the row space.
fn rows_start() -> Vec<u8> {
    codec::row_key("")
}

/// The stored block whose range holds row key `key`: the last block key
/// at or before it. `None` when `key` comes before every block.
pub(super) fn block_at(tree: &sled::Tree, key: &[u8]) -> Result<Option<(IVec, IVec)>> {
    let start = rows_start();
    let found = tree
        .range::<&[u8], _>((Bound::Included(start.as_slice()), Bound::Included(key)))
        .next_back();
    found.transpose().map_err(sled_error)
}

/// The first stored block key after `key`.
fn next_block(tree: &sled::Tree, key: &[u8]) -> Result<Option<IVec>> {
    let found = tree
        .range::<&[u8], _>((Bound::Excluded(key), Bound::Excluded(ROWS_END)))
        .next();
    Ok(found.transpose().map_err(sled_error)?.map(|(k, _)| k))
}

/// The row payload of `id`, if stored. A damaged block reads as absent
/// (reported).
pub(super) fn payload_of(
    tree: &sled::Tree,
    id: &str,
    damaged: Damaged<'_>,
) -> Result<Option<IVec>> {
    let key = codec::row_key(id);
    let Some((block_key, stored)) = block_at(tree, &key)? else {
        return Ok(None);
    };
    match block::find(&block_key, &stored, id.as_bytes()) {
        Ok(Some(payload)) => {
            // A sub-slice of the block: sled's IVec shares it without a copy
            // only for the whole value, so copy the one payload.
            Ok(Some(IVec::from(payload)))
        }
        Ok(None) => Ok(None),
        Err(error) => {
            damaged(&block_key, &error);
            Ok(None)
        }
    }
}

/// A block read whole and checked once, so reads of several of its rows
/// (`get_many` of a viewport's ids) cost one lookup and one checksum.
pub(super) struct HeldBlock {
    key: IVec,
    stored: IVec,
    /// Per entry: the id's and the payload's byte ranges in `stored`.
    entries: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

impl HeldBlock {
    /// The readable block whose range holds `id`, read and checked; `None`
    /// when no block does or it is damaged (a plain lookup then reports it).
    pub(super) fn at(tree: &sled::Tree, id: &str) -> Result<Option<HeldBlock>> {
        let Some((key, stored)) = block_at(tree, &codec::row_key(id))? else {
            return Ok(None);
        };
        let base = stored.as_ptr() as usize;
        let offset = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            start..start + part.len()
        };
        let entries = match block::parse(&key, &stored) {
            Ok(entries) => entries
                .into_iter()
                .map(|(id, payload)| (offset(id), offset(payload)))
                .collect(),
            Err(_) => return Ok(None),
        };
        Ok(Some(HeldBlock {
            key,
            stored,
            entries,
        }))
    }

    /// What this block says about `id`: `None` when `id` is outside the
    /// ids it holds (another block may hold it), else the row's payload if
    /// stored.
    pub(super) fn lookup(&self, id: &str) -> Option<Option<&[u8]>> {
        let id = id.as_bytes();
        let first = self.key.get(1..)?;
        let last = self
            .entries
            .last()
            .map(|(range, _)| &self.stored[range.clone()])?;
        if id < first || id > last {
            return None;
        }
        let found = self
            .entries
            .binary_search_by(|(range, _)| self.stored[range.clone()].cmp(id));
        Some(
            found
                .ok()
                .map(|at| &self.stored[self.entries[at].1.clone()]),
        )
    }
}

/// Every stored block from the one holding `after` (or the first), in key
/// order, as an iterator of (key, value).
pub(super) fn blocks_from(tree: &sled::Tree, after: Option<&str>) -> Result<sled::Iter> {
    let start = match after {
        Some(after) => match block_at(tree, &codec::row_key(after))? {
            Some((key, _)) => key.to_vec(),
            None => rows_start(),
        },
        None => rows_start(),
    };
    Ok(tree.range::<&[u8], _>((Bound::Included(start.as_slice()), Bound::Excluded(ROWS_END))))
}

/// Rows held by readable blocks (damaged ones reported and not counted).
pub(super) fn count_readable(tree: &sled::Tree, damaged: Damaged<'_>) -> Result<u64> {
    let mut count = 0u64;
    for stored in blocks_from(tree, None)? {
        let (key, value) = stored.map_err(sled_error)?;
        match block::parse(&key, &value) {
            Ok(entries) => count += entries.len() as u64,
            Err(error) => damaged(&key, &error),
        }
    }
    Ok(count)
}

/// One row operation of a batch: the id and the row to store (`None`
/// deletes it).
pub(super) struct Op<'b> {
    pub(super) id: &'b str,
    pub(super) row: Option<&'b CachedRow>,
}

/// What writing a batch's rows changed.
pub(super) struct Written {
    /// Rows after minus rows before, over the blocks rewritten.
    pub(super) delta: i64,
    /// Whether a damaged block was rewritten (its rows dropped): the
    /// table's counter must be recounted.
    pub(super) recount: bool,
    /// Bytes of the blocks written.
    pub(super) bytes: u64,
}

/// Add to `writes` the block writes that apply `ops` (in batch order:
/// deletes, then puts) to the rows stored in `tree`; rows written now carry
/// `epoch`.
pub(super) fn write(
    tree: &sled::Tree,
    mut ops: Vec<Op<'_>>,
    epoch: u64,
    writes: &mut sled::Batch,
    damaged: Damaged<'_>,
) -> Result<Written> {
    // Stable: the last operation on an id is the one that counts.
    ops.sort_by(|a, b| a.id.cmp(b.id));
    let mut last: Vec<Op<'_>> = Vec::with_capacity(ops.len());
    for op in ops {
        match last.last_mut() {
            Some(prev) if prev.id == op.id => *prev = op,
            _ => last.push(op),
        }
    }
    let mut written = Written {
        delta: 0,
        recount: false,
        bytes: 0,
    };
    let mut scratch = Scratch::default();
    let mut rest = last.as_slice();
    while let Some(first) = rest.first() {
        let key = codec::row_key(first.id);
        let located = match block_at(tree, &key)? {
            Some(found) => Some(found),
            // Before every block: the first block (if any) takes it.
            None => tree
                .range::<&[u8], _>((
                    Bound::Included(rows_start().as_slice()),
                    Bound::Excluded(ROWS_END),
                ))
                .next()
                .transpose()
                .map_err(sled_error)?,
        };
        let (group, old) = match &located {
            Some((block_key, stored)) => {
                let end = next_block(tree, block_key)?;
                let take = match &end {
                    Some(end) => rest
                        .iter()
                        .take_while(|op| op_key_before(op.id, end))
                        .count(),
                    None => rest.len(),
                };
                let old = match block::parse(block_key, stored) {
                    Ok(entries) => entries,
                    Err(error) => {
                        damaged(block_key, &error);
                        written.recount = true;
                        Vec::new()
                    }
                };
                writes.remove(block_key.clone());
                (&rest[..take], old)
            }
            None => (rest, Vec::new()),
        };
        rest = &rest[group.len()..];
        let (delta, bytes) = scratch.merge(&old, group, epoch, writes);
        written.delta += delta;
        written.bytes += bytes;
    }
    Ok(written)
}

/// Whether row `id`'s key sorts before block key `end`.
fn op_key_before(id: &str, end: &[u8]) -> bool {
    // Row keys share the prefix byte: compare the id bytes after it.
    end.get(1..).is_some_and(|end| id.as_bytes() < end)
}

/// Buffers reused across the groups of one batch.
#[derive(Default)]
struct Scratch {
    /// Payloads of the rows being written, back to back.
    payloads: Vec<u8>,
    /// One encoded block.
    block: Vec<u8>,
}

/// Where a merged entry comes from.
enum Source<'a> {
    Stored(Entry<'a>),
    /// Op id and the payload's range in `Scratch::payloads`.
    New(&'a [u8], std::ops::Range<usize>),
}

impl Scratch {
    /// Merge `ops` (ascending ids) into the `old` entries of one block,
    /// add the resulting blocks to `writes` and return rows after − before
    /// and the bytes written.
    fn merge(
        &mut self,
        old: &[Entry<'_>],
        ops: &[Op<'_>],
        epoch: u64,
        writes: &mut sled::Batch,
    ) -> (i64, u64) {
        self.payloads.clear();
        let mut merged: Vec<Source<'_>> = Vec::with_capacity(old.len() + ops.len());
        let mut stored = old.iter().peekable();
        for op in ops {
            let id = op.id.as_bytes();
            while let Some(entry) = stored.next_if(|(sid, _)| *sid < id) {
                merged.push(Source::Stored(*entry));
            }
            // The stored row of the same id is replaced or deleted.
            stored.next_if(|(sid, _)| *sid == id);
            if let Some(row) = op.row {
                let start = self.payloads.len();
                codec::encode_row_payload(&mut self.payloads, row, epoch);
                merged.push(Source::New(id, start..self.payloads.len()));
            }
        }
        merged.extend(stored.map(|entry| Source::Stored(*entry)));
        let payloads = &self.payloads;
        let entries: Vec<Entry<'_>> = merged
            .iter()
            .map(|source| match source {
                Source::Stored(entry) => *entry,
                Source::New(id, range) => (*id, &payloads[range.clone()]),
            })
            .collect();
        // New rows making up half the result or more were written
        // together (a fill); fewer were scattered into the stored rows.
        let added = ops.iter().filter(|op| op.row.is_some()).count();
        let limits = if added * 2 >= entries.len() {
            block::DENSE
        } else {
            block::SPARSE
        };
        let mut bytes = 0u64;
        for cut in block::plan(&entries, limits) {
            let entries = &entries[cut];
            let key = codec::row_key_bytes(entries[0].0);
            block::encode(&mut self.block, &key, entries);
            bytes += (key.len() + self.block.len()) as u64;
            writes.insert(key, self.block.as_slice());
        }
        (entries.len() as i64 - old.len() as i64, bytes)
    }
}
