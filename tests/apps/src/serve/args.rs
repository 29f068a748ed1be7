//! Command-line options of the `serve` example (flags read with the
//! [`sample::args`](crate::sample::args) it shares with the grid
//! demo, whose database and default table size it uses too).

use std::net::SocketAddr;
use std::path::PathBuf;

pub use crate::sample::args::{DEFAULT_ROWS, default_data_dir};
use crate::sample::args::{Flags, unknown_option};
use diorama_core::{Error, Result};

use super::app::ServiceOptions;

/// What to serve, where, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeArgs {
    /// Directory holding the SQLite database (shared with the grid demo)
    /// and the service's sled cache.
    pub data: PathBuf,
    /// Rows of the generated table.
    pub rows: usize,
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Caching and waiting.
    pub options: ServiceOptions,
}

impl ServeArgs {
    /// The defaults: 1,000,000 rows under [`default_data_dir`] (the grid
    /// demo's database), `127.0.0.1:8080`, [`ServiceOptions::default`].
    pub fn new(data: impl Into<PathBuf>) -> Self {
        ServeArgs {
            data: data.into(),
            rows: DEFAULT_ROWS,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            options: ServiceOptions::default(),
        }
    }

    /// Parse `args` (without the program name). `Ok(None)` for `--help`.
    ///
    /// Errors: `InvalidInput` naming the bad flag or value.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<ServeArgs>> {
        let mut parsed = ServeArgs::new(default_data_dir());
        let mut flags = Flags::new(args);
        while let Some(flag) = flags.next_flag() {
            let options = &mut parsed.options;
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--data" => parsed.data = flags.path(&flag)?,
                "--rows" => parsed.rows = flags.count(&flag)?,
                "--addr" => {
                    let text = flags.value(&flag)?;
                    parsed.addr = text.parse().map_err(|_| {
                        Error::invalid_input(format!(
                            "--addr: {text:?} is not an address like 127.0.0.1:8080"
                        ))
                    })?;
                }
                "--page" => options.page_size = flags.count(&flag)?,
                "--ttl" => options.ttl = flags.duration(&flag)?,
                "--latency" => options.latency = flags.duration(&flag)?,
                "--views" => options.views = flags.count(&flag)?,
                "--timeout" => options.read_timeout = flags.duration(&flag)?,
                "--write-timeout" => options.write_timeout = flags.duration(&flag)?,
                other => return Err(unknown_option(other)),
            }
        }
        Ok(Some(parsed))
    }
}

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
serve: an HTTP JSON service over the generated product table in SQLite,
cached in sled, on tokio.

USAGE: cargo run -p diorama-tokio --example serve -- [OPTIONS]

OPTIONS:
  --data DIR            database and cache directory (default: target/diorama-grid,
                        the grid demo's database)
  --rows N              rows to generate (default: 1000000)
  --addr HOST:PORT      address to listen on (default: 127.0.0.1:8080)
  --page N              rows per chunk load (default: 100)
  --ttl 10m             rows older than this are refetched when read (default: 10m)
  --latency 80ms        delay every master call, like a remote API (default: 0ms)
  --views N             queries (sort, search) whose views are kept (default: 32)
  --timeout 10s         how long a read waits for the master (default: 10s)
  --write-timeout 5s    how long a PATCH waits before answering 202 (default: 5s)

ROUTES:
  GET   /products?offset=0&limit=50&sort=-price&q=lamp
  GET   /products/{id}
  PATCH /products/{id}        body: {\"price\": 19.99}
  GET   /stats";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parse(args: &[&str]) -> Result<Option<ServeArgs>> {
        ServeArgs::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_are_read() {
        let args = parse(&[
            "--data",
            "/tmp/x",
            "--rows",
            "5_000",
            "--addr",
            "127.0.0.1:0",
            "--latency",
            "80ms",
            "--ttl",
            "2m",
            "--views",
            "4",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.data, PathBuf::from("/tmp/x"));
        assert_eq!(args.rows, 5_000);
        assert_eq!(args.addr, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(args.options.latency, Duration::from_millis(80));
        assert_eq!(args.options.ttl, Duration::from_secs(120));
        assert_eq!(args.options.views, 4);
        assert_eq!(parse(&[]).unwrap().unwrap().rows, DEFAULT_ROWS);
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse(&["--rows", "0"]).is_err());
        assert!(parse(&["--addr", "localhost"]).is_err());
        assert!(parse(&["--latency", "fast"]).is_err());
        assert!(parse(&["--rows"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert_eq!(parse(&["--help"]).unwrap(), None);
    }
}
