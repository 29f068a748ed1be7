//! Local evaluation of queries over records. (Being completed: see the foundation issue.)
