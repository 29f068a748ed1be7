//! Opening the apps' sled cache: an unreadable cache is moved aside (and
//! said so), and an error that cannot be recovered from names the
//! directory to delete.

use std::path::Path;

use diorama_core::{Error, Result};
use diorama_std::SledBackend;

/// The cache at `dir`, opened with
/// [`open_or_rebuild`](SledBackend::open_or_rebuild), and what to tell the
/// user about it: `Some` when the cache was moved aside or found rolled
/// back (the line names both paths), `None` when it opened cleanly.
///
/// # Errors
/// A failure `open_or_rebuild` cannot repair (permissions, a lock held by
/// another process, a file in the directory's place, no space to start an
/// empty cache), with a message naming `dir` and saying that deleting it
/// is safe: the master keeps the data, the cache only copies it.
pub fn open_cache(dir: &Path) -> Result<(SledBackend, Option<String>)> {
    match SledBackend::open_or_rebuild(dir) {
        Ok(cache) => {
            let report = cache.open_report();
            let notice = (!report.is_clean()).then(|| report.to_string());
            Ok((cache, notice))
        }
        Err(error) => Err(Error::new(
            error.kind(),
            format!(
                "{}; the cache cannot be opened or rebuilt. Deleting the directory {} is \
                 safe (the master keeps the data; the cache is only a copy) and lets the \
                 next start build a new one",
                error.message(),
                dir.display()
            ),
        )),
    }
}
