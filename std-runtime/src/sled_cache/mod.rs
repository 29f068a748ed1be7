//! The sled cache backend: a cache that survives restarts.
//!
//! One sled database per [`SledBackend`]; one sled tree per cache table
//! (named `diorama-table:<name>`), holding the table's rows (in blocks of
//! up to 64, see `block` and `rows`), its meta space and its row counter
//! under one-byte key prefixes (see `codec`). Keeping a
//! table in a single tree makes every `apply` one `sled::Batch`, atomic for
//! readers and crashes, and cheaper than a transaction across two trees.
//!
//! Integrity, one concern per module: `seal` (a CRC-32 on every stored
//! value), `marker` (the flush marker file outside sled), `durability`
//! (group-commit flushes, flush counter, epochs and the trust floor),
//! `recovery` (at open: the format and the rollback verdict, decided apart
//! from I/O), `report` (what opening found, for the application);
//! `snapshot` keeps the next start fast after a session that wrote a lot.

mod backend;
pub(crate) mod block;
pub(crate) mod codec;
mod combine;
mod durability;
pub(crate) mod marker;
mod recovery;
mod report;
mod rows;
pub(crate) mod seal;
mod snapshot;
mod table;

pub use backend::{SledBackend, SledBuilder};
pub use report::{MovedAside, OpenReport};
pub use table::SledTable;

use diorama_core::error::Error;

/// A sled failure as a core error: corruption is `Corrupt`, everything else
/// (I/O, unsupported use, sled bugs) is `Failed`. I/O errors read as the OS
/// says them ("No space left on device (os error 28)"), not as sled's debug
/// form.
pub(crate) fn sled_error(error: sled::Error) -> Error {
    match error {
        sled::Error::Corruption { .. } => Error::corrupt(format!("sled: {error}")),
        sled::Error::Io(io) => {
            let message = format!("sled: I/O error: {io}");
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) {
                Error::corrupt(message)
            } else {
                Error::failed(message)
            }
        }
        _ => Error::failed(format!("sled: {error}")),
    }
}
