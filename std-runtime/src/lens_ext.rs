//! [`LensBuilderExt`]: `LensBuilder::cache_at(path)`, the seed's one-line
//! way to put a Lens's cache on disk.

use std::path::Path;

use diorama_core::LensBuilder;
use diorama_core::error::Result;

use crate::SledBackend;

/// Std conveniences on [`LensBuilder`]; bring it into scope with
/// `use diorama_std::LensBuilderExt` (or `diorama_tokio::LensBuilderExt`).
///
/// # Why `cache_at` returns a `Result`
///
/// It opens the cache at once and reports a failure right there, rather
/// than deferring it to `build`: the core's
/// [`LensBuildError`](diorama_core::lens::LensBuildError) only describes invalid
/// configurations, and an unreadable directory is an I/O problem with its
/// own [`Error`](diorama_core::Error) (kind
/// [`Corrupt`](diorama_core::ErrorKind::Corrupt) for a damaged cache,
/// [`Failed`](diorama_core::ErrorKind::Failed) otherwise, the message naming
/// the path). Opening early also means the directory's lock is taken when
/// the Lens is configured, not at some later first use.
///
/// ```
/// use diorama_std::core::{Lens, MemoryVista, Vista, record};
/// use diorama_std::{LensBuilderExt, SmolRuntime};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let lens = Lens::builder()
///     .cache_at(dir.path().join("cache"))?
///     .runtime(SmolRuntime::global())
///     .build()?;
/// smol::block_on(async {
///     let dio = lens.make_dio(Vista::new(MemoryVista::new("products"))).await?;
///     dio.vista().insert(Some("p1".into()), record! { "name" => "Lamp" }).await?;
///     // Drains the write queue and flushes the cache to disk.
///     dio.shutdown().await?;
///     assert_eq!(dio.cache().count()?, 1);
///     Ok::<_, diorama_std::core::Error>(())
/// })?;
/// // Close the cache before its directory goes.
/// drop(lens);
/// # Ok(())
/// # }
/// ```
pub trait LensBuilderExt: Sized {
    /// Keep every Dio's cache table in a [`SledBackend`] at `path`, opened
    /// now with the default options (created if missing). For other
    /// options (a cache rebuilt when corrupt, another page-cache size) open
    /// the backend yourself and pass it to
    /// [`cache_source`](LensBuilder::cache_source).
    ///
    /// # Errors
    /// As [`SledBackend::open`]: `Corrupt` for a cache that cannot be read
    /// back, `Failed` for anything else (permissions, a file in the way,
    /// the directory open elsewhere, including by another backend of this
    /// process: open one per path and share the Lens).
    fn cache_at(self, path: impl AsRef<Path>) -> Result<LensBuilder>;
}

impl LensBuilderExt for LensBuilder {
    fn cache_at(self, path: impl AsRef<Path>) -> Result<LensBuilder> {
        let backend = SledBackend::open(path)?;
        Ok(self.cache_source(backend))
    }
}
