//! Sceneries: reactive views a UI binds to.
//!
//! Reads are synchronous and cheap; every visible change bumps a
//! [`Generation`](crate::sync::watch::Generation) the UI can await.

mod enriched;
mod extent;
mod open;
mod planner;
mod positions;
mod record;
mod sparse;
mod table;
mod value;

/// Where an `on_load_chunk` callback delivers rows (defined with the Dio,
/// whose policy names it; here beside the views it feeds).
pub use crate::dio::ChunkSink;
pub use enriched::{EnrichedRecord, RowStatus};
pub use record::{RecordScenery, RecordSceneryBuilder, RecordStatus};
pub use table::{LoadState, TableScenery, TableSceneryBuilder, TableStats};
pub use value::{CustomAggregate, ValueScenery, ValueSceneryBuilder, ValueStatus};
