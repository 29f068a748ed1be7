//! The `grid` app: a terminal grid over a million generated products in
//! SQLite, cached in sled, on smol. See `diorama_apps::grid`.

fn main() -> std::process::ExitCode {
    diorama_apps::grid::main()
}
