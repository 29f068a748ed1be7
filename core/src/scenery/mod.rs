//! Sceneries: reactive views a UI binds to.
//!
//! Reads are synchronous and cheap; every visible change bumps a
//! [`Generation`](crate::sync::watch::Generation) the UI can await.
//!
//! # Opening
//! Every scenery opens the same way: [`Dio::table_scenery`](crate::Dio::table_scenery),
//! [`Dio::record_scenery`](crate::Dio::record_scenery) or
//! [`Dio::value_scenery`](crate::Dio::value_scenery) returns a builder, and
//! its `open().await` returns `Result<Scenery>`:
//!
//! ```
//! use diorama_core::{Dio, Result};
//!
//! async fn open_views(dio: &Dio) -> Result<()> {
//!     let table = dio.table_scenery().page_size(50).open().await?;
//!     let row = dio.record_scenery("p1").open().await?;
//!     let total = dio.value_scenery().where_eq("kind", "x").sum("price").open().await?;
//!     # drop((table, row, total));
//!     Ok(())
//! }
//! ```
//!
//! Opening is `async` for every kind because it may run the Lens's
//! callbacks before the first paint: a paged table asks `total_provider`,
//! and a view over the cache (a local table, a value, a record missing from
//! the cache) lets `on_query` warm it. Without those callbacks `open`
//! completes at its first poll.

mod debounce;
mod enriched;
mod extent;
mod moves;
mod open;
mod planner;
mod positions;
mod presenting;
mod record;
mod sorted;
mod sparse;
mod table;
mod tally;
mod value;

/// Where an `on_load_chunk` callback delivers rows (defined with the Dio,
/// whose policy names it; here beside the views it feeds).
pub use crate::dio::ChunkSink;
pub use enriched::{EnrichedRecord, RowStatus};
pub use record::{RecordScenery, RecordSceneryBuilder, RecordStatus};
pub use table::{LoadState, MAX_VIEWPORT_ROWS, TableScenery, TableSceneryBuilder, TableStats};
pub use value::{CustomAggregate, ValueScenery, ValueSceneryBuilder, ValueStatus};
