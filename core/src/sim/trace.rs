//! One line of the simulator's schedule trace: which task was polled, and when.

use crate::runtime::Instant;

/// One poll made by the simulator: the task it ran and the virtual time.
///
/// Two runs with the same seed and the same program produce equal traces;
/// comparing traces is how a test proves a schedule replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceEntry {
    /// The task's id: 1, 2, … in spawn order; 0 is the future passed to
    /// [`SimRuntime::block_on`](super::SimRuntime::block_on).
    pub task: u64,
    /// The name the task was spawned with (`"main"` for the `block_on` future).
    pub name: &'static str,
    /// Virtual time of the poll.
    pub at: Instant,
}
