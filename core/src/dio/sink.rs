//! `ChunkSink`: how an `on_load_chunk` callback delivers rows to its scenery.
//!
//! Defined at the Dio's layer so the policy can name it in the callback's
//! type; a table scenery (one layer up) is the [`ChunkTarget`] behind it.

use alloc::sync::{Arc, Weak};
use core::fmt;
use core::ops::Range;

use crate::error::{Error, ErrorKind, Result};
use crate::value::Record;
use crate::vista::Id;

/// The receiving side of a chunk load (a table scenery).
pub(crate) trait ChunkTarget: Send + Sync {
    /// Make row `index` readable as `(id, record)` and stage it for the
    /// chunk's cache batch.
    fn push(&self, load: u64, index: usize, id: Id, record: Record) -> Result<()>;
    /// The source stated the query's total row count.
    fn set_total(&self, load: u64, total: usize) -> Result<()>;
}

/// Delivers the rows of one chunk load to the scenery that asked for them.
///
/// Cheap to clone; usable from anywhere inside the callback's future. Each
/// pushed row is readable at once; the cache receives the chunk's rows as one
/// batch when the load finishes. Once the scenery is dropped, pushes fail
/// with [`ErrorKind::Closed`]: the callback should give up (the user
/// navigated away).
#[derive(Clone)]
pub struct ChunkSink {
    target: Weak<dyn ChunkTarget>,
    load: u64,
    range: Range<usize>,
}

impl ChunkSink {
    pub(crate) fn new(target: Weak<dyn ChunkTarget>, load: u64, range: Range<usize>) -> Self {
        ChunkSink {
            target,
            load,
            range,
        }
    }

    /// The rows requested by this load.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    fn target(&self) -> Result<Arc<dyn ChunkTarget>> {
        self.target
            .upgrade()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "the scenery was dropped"))
    }

    /// Deliver row `index` of the scenery's query: readable in the view at
    /// once, written to the cache with the rest of the chunk when the load
    /// finishes.
    ///
    /// # Errors
    /// [`ErrorKind::Closed`] once the scenery is dropped;
    /// [`ErrorKind::Cancelled`] when the view no longer wants this load (its
    /// query changed). Either way the callback should stop.
    pub fn push(&self, index: usize, id: impl Into<Id>, record: Record) -> Result<()> {
        self.target()?.push(self.load, index, id.into(), record)
    }

    /// State the total number of rows of the scenery's query.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn set_total(&self, total: usize) -> Result<()> {
        self.target()?.set_total(self.load, total)
    }
}

impl fmt::Debug for ChunkSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSink")
            .field("load", &self.load)
            .field("range", &self.range)
            .field("open", &(self.target.strong_count() > 0))
            .finish()
    }
}
