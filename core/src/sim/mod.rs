//! The deterministic simulator runtime. (Being completed: see the foundation issue.)
