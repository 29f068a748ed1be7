//! Persisted positions: per query, index → id and the view's extent, kept in
//! the cache meta so a reopen shows rows where they were without a scan.
//!
//! The keys are laid out in [`cache::meta`](crate::cache::meta) (a block of
//! positions per query and block number, an extent per query); the values
//! are encoded here:
//! - a position block holds the ids at indices `block·64 .. block·64+64`
//!   (see [`encode_block`])
//! - an extent is four u64 BE: stated+1, end+1, known, attempts (0 = none)
//!
//! Positions are grouped in blocks of [`BLOCK`] indices so a chunk writes a
//! handful of meta entries instead of one per row (a sled write per entry is
//! what a chunk push pays for). Block keys of one query form a contiguous
//! key range: reading positions `a..b` costs O((b − a) / 64 + 1).
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::extent::Extent;
use crate::cache::{CacheBatch, CacheTable, meta};
use crate::error::Result;
use crate::vista::Id;

/// The meta keys of one query's positions and extent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PositionKeys {
    prefix: Vec<u8>,
    extent: Vec<u8>,
}

impl PositionKeys {
    pub(crate) fn new(query_key: &str) -> Self {
        PositionKeys {
            prefix: meta::positions(query_key),
            extent: meta::extent(query_key),
        }
    }

    fn block_key(&self, block: usize) -> Vec<u8> {
        meta::position_block(&self.prefix, block as u64)
    }

    /// Positions stored for indices in `range`, in index order. Blocks that
    /// do not decode are skipped (their rows are refetched).
    pub(crate) fn read(
        &self,
        cache: &dyn CacheTable,
        range: Range<usize>,
    ) -> Result<Vec<(usize, Id)>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let (first, last) = (range.start / BLOCK, (range.end - 1) / BLOCK);
        let entries = cache.meta_range(
            &self.block_key(first),
            &self.block_key(last + 1),
            last - first + 1,
        )?;
        let mut out = Vec::with_capacity(range.len());
        for (key, value) in entries {
            let Some(block) =
                meta::block_of(&self.prefix, &key).and_then(|b| usize::try_from(b).ok())
            else {
                continue;
            };
            let Some(slots) = decode_block(&value) else {
                continue;
            };
            for (slot, id) in slots.into_iter().enumerate() {
                let index = block * BLOCK + slot;
                if let (Some(id), true) = (id, range.contains(&index)) {
                    out.push((index, id.into_owned()));
                }
            }
        }
        Ok(out)
    }

    /// Stage "row `index` is `id`" for every `(index, id)` of `rows` into
    /// `batch`, merging with the blocks already stored. The caller must keep
    /// other writers of this query's positions out until `batch` is applied.
    pub(crate) fn stage<'a>(
        &self,
        cache: &dyn CacheTable,
        batch: &mut CacheBatch,
        rows: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Result<()> {
        let mut rows: Vec<(usize, &str)> = rows.into_iter().collect();
        rows.sort_unstable_by_key(|(index, _)| *index);
        let mut rest = rows.as_slice();
        while let Some(&(index, _)) = rest.first() {
            let block = index / BLOCK;
            let in_block = rest.iter().take_while(|(i, _)| i / BLOCK == block).count();
            let key = self.block_key(block);
            let mut slots = match cache.meta_get(&key)? {
                Some(bytes) => decode_block(&bytes).unwrap_or_else(empty_block),
                None => empty_block(),
            };
            for (index, id) in &rest[..in_block] {
                slots[index % BLOCK] = Some(Cow::Borrowed(*id));
            }
            batch.meta_put(key, encode_block(&slots));
            rest = &rest[in_block..];
        }
        Ok(())
    }

    /// Stage forgetting every stored position of this query (rows moved:
    /// the stored order is no longer the master's; the extent stays).
    pub(crate) fn stage_forget(&self, batch: &mut CacheBatch) {
        batch.meta_delete_prefix(self.prefix.clone());
    }

    /// The stored extent of this query.
    pub(crate) fn read_extent(&self, cache: &dyn CacheTable) -> Result<Option<Extent>> {
        let Some(bytes) = cache.meta_get(&self.extent)? else {
            return Ok(None);
        };
        let Some(words) = decode_words(&bytes) else {
            return Ok(None);
        };
        let opt = |w: u64| w.checked_sub(1).and_then(|v| usize::try_from(v).ok());
        Ok(Some(Extent {
            stated: opt(words[0]),
            end: opt(words[1]),
            known: usize::try_from(words[2]).unwrap_or(0),
            short_attempts: u32::try_from(words[3]).unwrap_or(0),
            // Not persisted: after a reopen an empty page finds it again.
            bound: None,
        }))
    }

    /// Stage the extent into `batch`.
    pub(crate) fn stage_extent(&self, batch: &mut CacheBatch, extent: &Extent) {
        let opt = |v: Option<usize>| v.map_or(0, |v| v as u64 + 1);
        let words = [
            opt(extent.stated),
            opt(extent.end),
            extent.known as u64,
            u64::from(extent.short_attempts),
        ];
        let mut bytes = Vec::with_capacity(32);
        for word in words {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        batch.meta_put(self.extent.clone(), bytes);
    }
}

fn decode_words(bytes: &[u8]) -> Option<[u64; 4]> {
    if bytes.len() != 32 {
        return None;
    }
    let mut words = [0u64; 4];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *word = u64::from_be_bytes(chunk.try_into().ok()?);
    }
    Some(words)
}

/// Indices per stored block of positions.
pub(crate) const BLOCK: usize = 64;

/// One block's slots. Its bound is the layout's (always [`BLOCK`]), so it
/// lives inline (heapless) instead of in one more heap allocation. Slots
/// decoded from the cache own their ids; slots a chunk stages borrow them
/// from its rows (no copy per row just to encode the block).
type Block<'a> = heapless::Vec<Option<Cow<'a, str>>, BLOCK>;

fn empty_block<'a>() -> Block<'a> {
    let mut slots = Block::new();
    while slots.push(None).is_ok() {}
    slots
}

/// A block is [`BLOCK`] slots, each a u16 BE of the id's length plus one
/// (0: empty) followed by the id's bytes. Ids longer than 65,534 bytes are
/// not stored (their rows are refetched instead of restored).
fn encode_block(slots: &[Option<Cow<'_, str>>]) -> Vec<u8> {
    let mut bytes =
        Vec::with_capacity(BLOCK * 2 + slots.iter().flatten().map(|id| id.len()).sum::<usize>());
    for slot in slots {
        match slot
            .as_deref()
            .filter(|id| id.len() < usize::from(u16::MAX))
        {
            Some(id) => {
                bytes.extend_from_slice(&(id.len() as u16 + 1).to_be_bytes());
                bytes.extend_from_slice(id.as_bytes());
            }
            None => bytes.extend_from_slice(&0u16.to_be_bytes()),
        }
    }
    bytes
}

fn decode_block(mut bytes: &[u8]) -> Option<Block<'static>> {
    let mut slots = Block::new();
    for _ in 0..BLOCK {
        let (len, rest) = bytes.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        if len == 0 {
            slots.push(None).ok()?;
            bytes = rest;
            continue;
        }
        let id = rest.get(..len - 1)?;
        slots
            .push(Some(Cow::Owned(String::from(
                core::str::from_utf8(id).ok()?,
            ))))
            .ok()?;
        bytes = &rest[len - 1..];
    }
    bytes.is_empty().then_some(slots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CacheBackend;
    use crate::cache::MemoryBackend;

    #[test]
    fn blocks_round_trip_and_merge() {
        let backend = MemoryBackend::new();
        let cache = backend.open_table("t").unwrap();
        let keys = PositionKeys::new("q");
        let ids: Vec<String> = (0..200).map(|i| alloc::format!("id{i}")).collect();
        let mut batch = CacheBatch::new();
        keys.stage(&*cache, &mut batch, (50..130).map(|i| (i, ids[i].as_str())))
            .unwrap();
        cache.apply(batch).unwrap();
        let mut batch = CacheBatch::new();
        keys.stage(
            &*cache,
            &mut batch,
            (120..200).map(|i| (i, ids[i].as_str())),
        )
        .unwrap();
        cache.apply(batch).unwrap();
        let read = keys.read(&*cache, 40..210).unwrap();
        assert_eq!(read.len(), 150);
        assert_eq!(read.first(), Some(&(50, String::from("id50"))));
        assert_eq!(read.last(), Some(&(199, String::from("id199"))));
        assert!(read.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            keys.read(&*cache, 60..61).unwrap(),
            alloc::vec![(60, String::from("id60"))]
        );
        assert!(
            PositionKeys::new("other")
                .read(&*cache, 0..300)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_corrupt_block_is_skipped() {
        assert_eq!(decode_block(&[0, 5, b'a']), None);
        assert_eq!(
            decode_block(&encode_block(&empty_block())),
            Some(empty_block())
        );
    }
}
