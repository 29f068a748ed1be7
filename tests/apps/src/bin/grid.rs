//! The `grid` app: a terminal grid over a million generated products in
//! SQLite, cached in sled, on smol. See `diorama_apps::grid`.

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
