//! [`OpenReport`]: what opening a sled cache found and did, for the
//! application to show.

use std::fmt;
use std::path::{Path, PathBuf};

use diorama_core::cache::Rollback;
use diorama_core::error::Error;

/// What [`SledBackend`](crate::SledBackend) found and did when it opened;
/// from [`SledBackend::open_report`](crate::SledBackend::open_report).
///
/// Its `Display` is one line for people (for example `cache at ./cache was
/// unreadable (sled: Unsupported: …); moved it to ./cache.broken-1767… and
/// started empty`), meant to be printed by applications whenever
/// [`is_clean`](Self::is_clean) is false.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// The cache directory.
    pub path: PathBuf,
    /// Set when [`open_or_rebuild`](crate::SledBuilder::open_or_rebuild)
    /// found the cache unreadable and moved it aside.
    pub moved_aside: Option<MovedAside>,
    /// Set when the cache reopened behind its last flush; its rows read as
    /// stale until refetched (also reported by every table's
    /// [`integrity`](diorama_core::CacheTable::integrity)).
    pub rollback: Option<Rollback>,
}

/// An unreadable cache that was moved out of the way.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MovedAside {
    /// Where the unreadable cache is now (kept for inspection; safe to
    /// delete).
    pub to: PathBuf,
    /// Why it could not be read.
    pub reason: Error,
}

impl OpenReport {
    pub(super) fn new(path: &Path) -> Self {
        OpenReport {
            path: path.to_path_buf(),
            moved_aside: None,
            rollback: None,
        }
    }

    /// True when the cache opened as it was: nothing moved, no rollback.
    pub fn is_clean(&self) -> bool {
        self.moved_aside.is_none() && self.rollback.is_none()
    }
}

impl fmt::Display for OpenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        if let Some(moved) = &self.moved_aside {
            write!(
                f,
                "cache at {path} was unreadable ({}); moved it to {} and started empty",
                moved.reason.message(),
                moved.to.display()
            )?;
            if self.rollback.is_some() {
                f.write_str("; ")?;
            }
        }
        match &self.rollback {
            Some(rollback) => write!(f, "cache at {path}: {rollback}"),
            None if self.moved_aside.is_none() => write!(f, "cache at {path} opened cleanly"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_was_moved_and_what_rolled_back() {
        let mut report = OpenReport::new(Path::new("/var/cache/app"));
        assert!(report.is_clean());
        assert_eq!(report.to_string(), "cache at /var/cache/app opened cleanly");
        report.moved_aside = Some(MovedAside {
            to: PathBuf::from("/var/cache/app.broken-1"),
            reason: Error::corrupt("sled: bad conf"),
        });
        assert!(!report.is_clean());
        assert_eq!(
            report.to_string(),
            "cache at /var/cache/app was unreadable (sled: bad conf); \
             moved it to /var/cache/app.broken-1 and started empty"
        );
        report.moved_aside = None;
        report.rollback = Some(Rollback::new(Some(1), Some(3), "behind").demoted(true));
        assert_eq!(
            report.to_string(),
            "cache at /var/cache/app: the cache rolled back: behind \
             (rows stored before now read as stale)"
        );
    }
}
