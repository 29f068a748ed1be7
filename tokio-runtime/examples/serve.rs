//! An HTTP JSON service over the generated product table in SQLite, cached
//! in sled, on tokio. See `diorama_apps::serve` (tests/apps/src/serve/).
//!
//! ```text
//! cargo run --release -p diorama-tokio --example serve
//! cargo run -p diorama-tokio --example serve -- --data /tmp/products --rows 20000 --addr 127.0.0.1:8080
//! curl 'http://127.0.0.1:8080/products?limit=5&sort=-price&q=lamp'
//! ```

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
