//! In-memory master. (Being completed: see the foundation issue.)

/// A complete in-memory master for tests, examples and simulation.
#[derive(Debug)]
pub struct MemoryVista {}

/// The operations of a shell, as counted by [`MemoryVista`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VistaOp {
    /// `list`
    List,
}
