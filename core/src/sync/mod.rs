//! Executor-agnostic synchronisation: the channels the state machines talk over.
//!
//! Everything here is built on wakers only, so it works on any executor and
//! under the simulator. (Being completed: see the foundation issue.)
