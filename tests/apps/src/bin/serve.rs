//! The `serve` app: an HTTP JSON service over the generated product table
//! in SQLite, cached in sled, on tokio. See `diorama_apps::serve`.

fn main() -> std::process::ExitCode {
    diorama_apps::serve::main()
}
