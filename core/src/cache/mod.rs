//! Cache storage: a narrow, id-keyed store per Dio, plus a small meta space.
//!
//! The cache is dumb storage (no conditions, no sorting): Diorama evaluates
//! queries itself and keeps per-query positions in the meta space. A
//! [`CacheBackend`] hands out named [`CacheTable`]s; [`MemoryBackend`] keeps
//! them in memory, `diorama-std` stores them in sled.

mod backend;
#[cfg(feature = "sim")]
pub mod faulty;
mod integrity;
mod memory;
pub(crate) mod meta;
mod row;
mod table;

pub use backend::{CacheBackend, IntoCacheBackend};
#[cfg(feature = "sim")]
pub use faulty::{FaultStats, FaultyBackend, FaultyDisk, FaultyTable};
pub use integrity::{IntegrityReport, Rollback};
pub use memory::MemoryBackend;
pub use row::{CacheBatch, CachedRow, RowState};
pub use table::CacheTable;
