//! The `grid` app (feature `grid`): a terminal grid over a generated
//! SQLite table of a million products, cached in sled, on the smol runtime.
//!
//! ```text
//! cargo run --release -p diorama-std --example grid [-- --latency 80ms]
//! cargo run --release -p diorama-apps --bin grid [-- --latency 80ms]
//! cargo run --release -p diorama-std --example grid -- --remote http://127.0.0.1:8080
//! ```
//!
//! - **Data**: on first run a SQLite database of generated products
//!   (deterministic, see [`products`]) is built in the data directory
//!   (default `target/diorama-grid/`, `--data DIR`), with a progress line;
//!   later runs reuse it. `--rows N` chooses a smaller table.
//! - **Diorama**: a [`Lens`](diorama_core::Lens) with a
//!   [`SledBackend`](diorama_std::SledBackend) cache in the same directory, the
//!   [`SmolRuntime`](diorama_std::SmolRuntime), `on_load_chunk` reading one
//!   window of the master per chunk (stating its total), `total_provider`
//!   counting the query on a cold cache, and a paged
//!   [`TableScenery`](diorama_core::TableScenery). The master is the SQLite
//!   table behind a [`CountedShell`](crate::sample::CountedShell) (see
//!   [`remote`]): calls are counted, `--latency` delays each like a remote
//!   API, and a negative price is refused (a failed write to look at).
//! - **UI** (ratatui + crossterm): arrows, PgUp/PgDn, Home/End, `g` go to a
//!   row, `/` search, `s` cycle the sort (`S` reverses it), `e` edit the
//!   price, `q` quit. The scenery's viewport follows the rows on screen;
//!   rows not loaded yet show `…` and fill in as chunks land. The status
//!   line shows the scenery's counters, pending writes, master calls, the
//!   load state and the generation.
//! - **Remote** (`--remote http://127.0.0.1:8080`): the same grid over a
//!   running `serve` instead of the local table, through
//!   [`HttpVista`](diorama_std::http::HttpVista) (a smol desktop app
//!   caching a tokio service caching a database; see [`source`]). Its own
//!   sled cache per URL lives in the data directory, which holds no table.
//!   Edits go to the service (its `400` for a negative price shows as the
//!   failed write); with the service stopped the grid keeps showing what it
//!   cached and reports the failures. Clearing a search cannot put the
//!   cursor back on its row (the API cannot say where a row is), so it
//!   goes to the top.
//! - **Second run**: the first screen is painted from the sled cache,
//!   before any master call (see [`Session::open`](session::Session::open)).
//! - **Headless** (`--script "…" --screen`): the same app on an in-memory
//!   terminal, driven by [`script`] commands, printing the final screen.
//!   [`run_script`] returns every step's screen and
//!   counters, which `tests/grid_headless.rs` of this crate asserts.
//!
//! The app lives in this library module rather than in a `main` so tests
//! drive it in-process on a small table; the `grid` binary and
//! diorama-std's `grid` example (through its dev-dependency on this crate)
//! are thin `main`s over [`main`]; tests call [`run`] or
//! [`run_script`] with [`GridArgs`] of their own.

pub mod args;
pub mod headless;
pub mod keys;
pub mod model;
pub mod notices;
pub mod remote;
pub mod render;
pub mod screen;
pub mod script;
pub mod session;
pub mod source;
pub mod terminal;

/// The generated table and its data directory (see [`crate::sample`]).
pub use crate::sample::{data, products};

pub use args::GridArgs;
pub use headless::{Report, Snapshot, Step, run_script};
pub use source::Source;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use diorama_core::Result;

/// The script run when there is no terminal to show the grid in.
pub const TOUR: &str = "goto 500000; search lamp; sort price; edit 7 19.99; quit";

/// Whether stdin and stdout are a terminal the grid can take over.
fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The whole program, for a `main`: parse the process's command line
/// (clap prints `--help`, or a bad flag's error and exits with status 2),
/// then [`run`]; a failure is printed as `grid: <error>` with status 1.
pub fn main() -> ExitCode {
    match run(&GridArgs::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("grid: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Everything the app does once `args` are parsed: prepare the data, then
/// run the script headless (printing the final screen with `--screen`),
/// the interactive grid, or — without a terminal — the [`TOUR`] headless.
/// Timings go to stderr.
///
/// Errors: building or opening the data, a malformed script, the
/// terminal's and Diorama's errors.
pub fn run(args: &GridArgs) -> Result<()> {
    let mut stderr = std::io::stderr();
    let dataset = match &args.remote {
        Some(url) => Source::remote(url, &args.dataset.data),
        None => data::prepare(&args.dataset.data, args.dataset.rows, &mut stderr)?.into(),
    };
    eprintln!("{}", dataset.describe());
    // Without a terminal (CI, a pipe) the interactive grid cannot run: take
    // the guided tour headless instead and print its screens.
    let tour;
    let script = match &args.script {
        Some(script) => Some(script),
        None if !interactive() => {
            eprintln!("no terminal: running the tour headless ({TOUR})");
            tour = String::from(TOUR);
            Some(&tour)
        }
        None => None,
    };
    let summary = match script {
        Some(script) => {
            let report = smol::block_on(run_script(args, dataset, script))?;
            // The tour prints its last screen too: it is all there is to see.
            if args.screen || args.script.is_none() {
                print!("{}", report.last.screen);
            } else {
                for step in &report.steps {
                    println!("> {}", step.command);
                    println!("{}", step.after.screen.lines().nth_back(1).unwrap_or(""));
                }
            }
            report.summary()
        }
        None => terminal::run_interactive(args, dataset)?,
    };
    let _ = writeln!(stderr, "{summary}");
    Ok(())
}
