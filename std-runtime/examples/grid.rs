//! The main demo: a terminal grid over a million generated products in
//! SQLite, cached in sled, on smol. See `diorama_apps::grid` (tests/apps/src/grid/).
//!
//! ```text
//! cargo run --release -p diorama-std --example grid
//! cargo run --release -p diorama-std --example grid -- --latency 80ms
//! cargo run --release -p diorama-std --example grid -- --rows 20000 \
//!     --script "goto 15000; search lamp; sort price; edit 7 19.99; quit" --screen
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    match diorama_apps::grid::main_with_args(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("grid: {error}");
            ExitCode::FAILURE
        }
    }
}
