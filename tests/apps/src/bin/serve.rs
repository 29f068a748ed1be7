//! The `serve` app: an HTTP JSON service over the generated product table
//! in SQLite, cached in sled, on tokio. See `diorama_apps::serve`.

// mimalloc rather than glibc's malloc: see the README's load figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    diorama_apps::serve::main()
}
