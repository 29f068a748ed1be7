//! The `serve` app: an HTTP JSON service over the generated product table
//! in SQLite, cached in sled, on tokio. See `diorama_apps::serve`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match diorama_apps::serve::main_with_args(std::env::args().skip(1)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("serve: {error}");
            ExitCode::FAILURE
        }
    }
}
