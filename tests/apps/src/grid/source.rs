//! [`Source`]: where the grid's rows come from — the generated SQLite
//! table read directly, or a running `serve` read over HTTP (`--remote`):
//! a smol desktop app caching a tokio service caching a database.

use std::path::{Path, PathBuf};

use super::data::Dataset;

/// The master the grid shows, and where its cache lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The generated SQLite table, read in this process.
    Local(Dataset),
    /// The `serve` API at `url`, read through
    /// [`HttpVista`](diorama_std::http::HttpVista).
    Remote {
        /// The service's base URL (`http://127.0.0.1:8080`).
        url: String,
        /// The grid's sled cache of the service's rows.
        cache_path: PathBuf,
    },
}

impl From<Dataset> for Source {
    fn from(dataset: Dataset) -> Self {
        Source::Local(dataset)
    }
}

impl Source {
    /// The service at `url`, cached in `data_dir` (one cache per URL, apart
    /// from the local table's: `grid-remote-<digest>.sled`).
    pub fn remote(url: impl Into<String>, data_dir: &Path) -> Source {
        let url = url.into();
        let trimmed = url.trim_end_matches('/');
        let cache_path = data_dir.join(format!("grid-remote-{:016x}.sled", digest(trimmed)));
        Source::Remote { url, cache_path }
    }

    /// The sled cache directory.
    pub fn cache_path(&self) -> &Path {
        match self {
            Source::Local(dataset) => &dataset.cache_path,
            Source::Remote { cache_path, .. } => cache_path,
        }
    }

    /// The local table, when the source is one.
    pub fn dataset(&self) -> Option<&Dataset> {
        match self {
            Source::Local(dataset) => Some(dataset),
            Source::Remote { .. } => None,
        }
    }

    /// A short name for the title line: the database's file name, or the
    /// service's URL.
    pub fn label(&self) -> String {
        match self {
            Source::Local(dataset) => dataset
                .db_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Source::Remote { url, .. } => url.clone(),
        }
    }

    /// What the run uses, for a log line.
    pub fn describe(&self) -> String {
        match self {
            Source::Local(dataset) => dataset.describe(),
            Source::Remote { url, cache_path } => {
                format!("reading {url} (cache {})", cache_path.display())
            }
        }
    }
}

/// FNV-1a: stable across runs and builds (std's hasher is not), for a
/// cache name per URL.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_source_has_a_cache_per_url() {
        let dir = Path::new("/d");
        let a = Source::remote("http://127.0.0.1:8080", dir);
        assert_eq!(
            a.cache_path(),
            Source::remote("http://127.0.0.1:8080/", dir).cache_path()
        );
        assert_ne!(
            a.cache_path(),
            Source::remote("http://127.0.0.1:8081", dir).cache_path()
        );
        assert!(a.cache_path().starts_with(dir));
        assert_eq!(a.label(), "http://127.0.0.1:8080");
        assert_eq!(a.dataset(), None);
        assert!(
            a.describe()
                .starts_with("reading http://127.0.0.1:8080 (cache /d/grid-remote-")
        );
    }
}
