//! Small builders shared by the checks.

use std::sync::Arc;

use diorama_core::cache::{CacheBackend, CacheTable, CachedRow};
use diorama_core::{Record, Timestamp};

/// The factory every check receives.
pub(crate) type Make<'a> = &'a dyn Fn() -> Arc<dyn CacheBackend>;

/// Open `name` on a fresh backend from `make`.
pub(crate) fn fresh_table(make: Make<'_>, name: &str) -> Arc<dyn CacheTable> {
    make()
        .open_table(name)
        .unwrap_or_else(|e| panic!("open_table({name:?}) failed: {e}"))
}

/// A complete row whose record carries `n`, fetched at `n` ms.
pub(crate) fn numbered(n: u64) -> CachedRow {
    CachedRow::complete(
        Record::new().with("n", n).with("label", format!("row {n}")),
        Some(Timestamp::from_millis(n)),
    )
}

/// The `n` field of a row built by [`numbered`].
pub(crate) fn number_of(row: &CachedRow) -> u64 {
    row.record
        .get("n")
        .and_then(|v| v.as_i64())
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or_else(|| panic!("row without a numeric `n` field: {row:?}"))
}

/// A position key: `prefix ‖ index` with the index big-endian, so keys sort
/// by index.
pub(crate) fn position_key(prefix: &[u8], index: u64) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Every key of a meta range, for comparisons.
pub(crate) fn keys(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    entries.iter().map(|(k, _)| k.clone()).collect()
}

/// Every id of a scan, for comparisons.
pub(crate) fn ids(rows: &[(String, CachedRow)]) -> Vec<String> {
    rows.iter().map(|(id, _)| id.clone()).collect()
}
