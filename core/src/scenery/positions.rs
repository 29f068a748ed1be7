//! Persisted positions: per query, index → id and the view's extent, kept in
//! the cache meta so a reopen shows rows where they were without a scan.
//!
//! Layout (all keys under the Dio's cache table meta):
//! - `p/` ‖ len(query key) as u32 BE ‖ query key ‖ index as u64 BE → id
//! - `t/` ‖ query key → extent (four u64 BE: stated+1, end+1, known, attempts; 0 = none)
//!
//! The length prefix keeps one query's keys from being a prefix of
//! another's, and big-endian indices make a range of positions a contiguous
//! key range: reading positions `a..b` costs O(b − a).

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::extent::Extent;
use crate::cache::{CacheBatch, CacheTable};
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
        let len = u32::try_from(query_key.len()).unwrap_or(u32::MAX);
        let mut prefix = Vec::with_capacity(6 + query_key.len());
        prefix.extend_from_slice(b"p/");
        prefix.extend_from_slice(&len.to_be_bytes());
        prefix.extend_from_slice(query_key.as_bytes());
        let mut extent = Vec::with_capacity(2 + query_key.len());
        extent.extend_from_slice(b"t/");
        extent.extend_from_slice(query_key.as_bytes());
        PositionKeys { prefix, extent }
    }

    fn position_key(&self, index: usize) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix.len() + 8);
        key.extend_from_slice(&self.prefix);
        key.extend_from_slice(&(index as u64).to_be_bytes());
        key
    }

    /// Positions stored for indices in `range`, in index order. Entries that
    /// do not decode are skipped (they are refetched).
    pub(crate) fn read(
        &self,
        cache: &dyn CacheTable,
        range: Range<usize>,
    ) -> Result<Vec<(usize, Id)>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let entries = cache.meta_range(
            &self.position_key(range.start),
            &self.position_key(range.end),
            range.len(),
        )?;
        Ok(entries
            .into_iter()
            .filter_map(|(key, value)| {
                let index = key.get(self.prefix.len()..)?;
                let index = u64::from_be_bytes(index.try_into().ok()?);
                let id = String::from_utf8(value).ok()?;
                Some((usize::try_from(index).ok()?, id))
            })
            .collect())
    }

    /// Stage "row `index` is `id`" into `batch`.
    pub(crate) fn stage(&self, batch: &mut CacheBatch, index: usize, id: &str) {
        batch.meta_put(self.position_key(index), id.as_bytes());
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
