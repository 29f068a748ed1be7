//! The error of a simulation that can make no progress.

use alloc::vec::Vec;
use core::fmt;

use crate::runtime::Instant;

/// [`SimRuntime::try_block_on`](super::SimRuntime::try_block_on) found its
/// future pending with no task ready and no timer pending: nothing inside the
/// simulation can ever wake it (a deadlock, or a wait on something outside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stalled {
    /// The simulator's seed, to replay the run.
    pub seed: u64,
    /// Virtual time when it stalled.
    pub now: Instant,
    /// Names of the tasks still alive (all waiting), in spawn order.
    pub live_tasks: Vec<&'static str>,
}

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "simulation stalled (seed {}) at {:?}: the block_on future is pending, \
             no task is ready and no timer is pending; live tasks: {:?}",
            self.seed,
            self.now.since_origin(),
            self.live_tasks
        )
    }
}

impl core::error::Error for Stalled {}
