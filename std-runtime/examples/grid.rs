//! The main demo: a terminal grid over a million generated products in
//! SQLite, cached in sled, on smol. The app is `diorama_apps::grid`
//! (`tests/apps/src/grid/`), also built as the `grid` binary of
//! `diorama-apps`; `--help` lists its flags.
//!
//! ```text
//! cargo run --release -p diorama-std --example grid
//! cargo run --release -p diorama-std --example grid -- --latency 80ms
//! cargo run --release -p diorama-std --example grid -- --rows 20000 \
//!     --script "goto 15000; search lamp; sort price; edit 7 19.99; quit" --screen
//! ```

fn main() -> std::process::ExitCode {
    diorama_apps::grid::main()
}
