//! Sceneries: reactive views a UI binds to.
//!
//! Reads are synchronous and cheap; every visible change bumps a
//! [`Generation`](crate::sync::watch::Generation) the UI can await.

mod enriched;
mod extent;
mod planner;
mod positions;
mod record;
mod sink;
mod sparse;
mod table;
mod value;

pub use enriched::{EnrichedRecord, RowStatus};
pub use record::{RecordScenery, RecordStatus};
pub use sink::ChunkSink;
pub use table::{LoadState, TableScenery, TableSceneryBuilder, TableStats};
pub use value::{CustomAggregate, ValueScenery, ValueSceneryBuilder, ValueStatus};

pub(crate) use sink::ChunkTarget;
