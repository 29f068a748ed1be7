//! Setup errors reported by `LensBuilder::build`.

use core::fmt;

use crate::error::{Error, ErrorKind};

/// Why a Lens configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LensBuildError {
    /// No cache backend was given (`cache_source`).
    MissingCacheBackend,
    /// No runtime was given (`runtime`).
    MissingRuntime,
    /// `write_queue_capacity(0)`: a queue must hold at least one write.
    ZeroQueueCapacity,
    /// `event_bus_capacity(0)`: the bus must retain at least one event.
    ZeroEventBusCapacity,
    /// `refresh_every(Duration::ZERO)`: the refresh loop would spin.
    ZeroRefreshInterval,
    /// `detail_concurrency(0)`: no detail call could ever run.
    ZeroDetailConcurrency,
}

impl LensBuildError {
    fn message(self) -> &'static str {
        match self {
            LensBuildError::MissingCacheBackend => "no cache backend: call cache_source(..)",
            LensBuildError::MissingRuntime => "no runtime: call runtime(..)",
            LensBuildError::ZeroQueueCapacity => "write_queue_capacity must be at least 1",
            LensBuildError::ZeroEventBusCapacity => "event_bus_capacity must be at least 1",
            LensBuildError::ZeroRefreshInterval => "refresh_every needs a non-zero interval",
            LensBuildError::ZeroDetailConcurrency => "detail_concurrency must be at least 1",
        }
    }
}

impl fmt::Display for LensBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for LensBuildError {}

/// A refused configuration as the core [`Error`], kind
/// [`InvalidInput`](ErrorKind::InvalidInput), so `build()?` works in
/// functions returning [`diorama_core::Result`](crate::Result).
impl From<LensBuildError> for Error {
    fn from(error: LensBuildError) -> Self {
        Error::new(ErrorKind::InvalidInput, error.message()).context("invalid Lens configuration")
    }
}
