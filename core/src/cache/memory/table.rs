//! One in-memory cache table: rows and meta in ordered maps under one lock.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Bound;

use crate::cache::{CacheBatch, CacheTable, CachedRow};
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::sync::RwLock;
use crate::vista::Id;

/// A table of [`MemoryBackend`](super::MemoryBackend).
///
/// Rows and meta share one lock so a batch touching both is atomic; every
/// call takes it once, so a reader never observes half a batch.
pub(super) struct MemoryTable {
    name: String,
    data: RwLock<TableData>,
}

/// The table's contents. `String`'s ordering is byte-wise, which is the
/// id order [`CacheTable::scan`] promises.
#[derive(Default)]
struct TableData {
    rows: BTreeMap<Id, CachedRow>,
    meta: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryTable {
    pub(super) fn new(name: &str) -> Self {
        MemoryTable {
            name: String::from(name),
            data: RwLock::new(TableData::default()),
        }
    }

    /// Empty rows and meta, as a single write.
    pub(super) fn clear_all(&self) {
        let old = core::mem::take(&mut *self.data.write());
        // Freeing the old maps can take a while; do it outside the lock.
        drop(old);
    }
}

impl fmt::Debug for MemoryTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("MemoryTable");
        s.field("name", &self.name);
        // `try_read`: formatting must never wait on (or deadlock with) a writer.
        match self.data.try_read() {
            Some(data) => s
                .field("rows", &data.rows.len())
                .field("meta", &data.meta.len()),
            None => s.field("data", &"<locked>"),
        };
        s.finish()
    }
}

/// The smallest key greater than every key starting with `prefix`, or
/// `None` when no such key exists (empty prefix, or only `0xFF` bytes).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != u8::MAX)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
}

impl CacheTable for MemoryTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, id: &str) -> Result<Option<CachedRow>> {
        Ok(self.data.read().rows.get(id).cloned())
    }

    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<CachedRow>>> {
        let data = self.data.read();
        Ok(ids.iter().map(|id| data.rows.get(*id).cloned()).collect())
    }

    fn apply(&self, batch: CacheBatch) -> Result<()> {
        let CacheBatch {
            puts,
            deletes,
            meta_puts,
            meta_deletes,
            meta_delete_prefixes,
        } = batch;
        let mut data = self.data.write();
        let data = &mut *data;
        for id in &deletes {
            data.rows.remove(id.as_str());
        }
        for (id, row) in puts {
            data.rows.insert(id, row);
        }
        for key in &meta_deletes {
            data.meta.remove(key.as_slice());
        }
        for prefix in &meta_delete_prefixes {
            let start = Bound::Included(prefix.clone());
            let end = prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
            data.meta
                .extract_if((start, end), |_, _| true)
                .for_each(drop);
        }
        for (key, value) in meta_puts {
            data.meta.insert(key, value);
        }
        Ok(())
    }

    fn delete(&self, id: &str) -> Result<bool> {
        Ok(self.data.write().rows.remove(id).is_some())
    }

    fn clear(&self) -> Result<()> {
        self.clear_all();
        Ok(())
    }

    fn count(&self) -> Result<usize> {
        Ok(self.data.read().rows.len())
    }

    fn scan(&self, after: Option<&str>, limit: usize) -> Result<Vec<(Id, CachedRow)>> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let data = self.data.read();
        Ok(data
            .rows
            .range::<str, _>((start, Bound::Unbounded))
            .take(limit)
            .map(|(id, row)| (id.clone(), row.clone()))
            .collect())
    }

    fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.data.read().meta.get(key).cloned())
    }

    fn meta_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        // `BTreeMap::range` panics on inverted bounds; such a range is empty.
        if start >= end {
            return Ok(Vec::new());
        }
        let data = self.data.read();
        Ok(data
            .meta
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(core::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_is_the_next_key_after_every_extension() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF, 0xFF]), Some(alloc::vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_end(&[]), None);
    }
}
