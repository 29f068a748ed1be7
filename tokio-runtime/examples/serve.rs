//! An HTTP JSON service over the generated product table in SQLite, cached
//! in sled, on tokio. The app is `diorama_apps::serve`
//! (`tests/apps/src/serve/`), also built as the `serve` binary of
//! `diorama-apps`; `--help` lists its flags and routes.
//!
//! ```text
//! cargo run --release -p diorama-tokio --example serve
//! cargo run -p diorama-tokio --example serve -- --data /tmp/products --rows 20000 --addr 127.0.0.1:8080
//! curl 'http://127.0.0.1:8080/products?limit=5&sort=-price&q=lamp'
//! ```

fn main() -> std::process::ExitCode {
    diorama_apps::serve::main()
}
