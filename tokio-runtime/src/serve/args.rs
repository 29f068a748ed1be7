//! Command-line options of the `serve` example.
//!
//! Hand-parsed, like the grid demo's: a handful of flags does not justify a
//! parser dependency in a library crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use diorama_core::{Error, Result};

use super::app::ServiceOptions;

/// The rows generated when `--rows` is not given (the grid demo's table).
pub const DEFAULT_ROWS: usize = 1_000_000;

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
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| Error::invalid_input(format!("{flag} needs a value")))
            };
            let options = &mut parsed.options;
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--data" => parsed.data = PathBuf::from(value()?),
                "--rows" => parsed.rows = parse_count(&flag, &value()?)?,
                "--addr" => {
                    let text = value()?;
                    parsed.addr = text.parse().map_err(|_| {
                        Error::invalid_input(format!(
                            "--addr: {text:?} is not an address like 127.0.0.1:8080"
                        ))
                    })?;
                }
                "--page" => options.page_size = parse_count(&flag, &value()?)?,
                "--ttl" => options.ttl = parse_duration(&flag, &value()?)?,
                "--latency" => options.latency = parse_duration(&flag, &value()?)?,
                "--views" => options.views = parse_count(&flag, &value()?)?,
                "--timeout" => options.read_timeout = parse_duration(&flag, &value()?)?,
                "--write-timeout" => options.write_timeout = parse_duration(&flag, &value()?)?,
                other => {
                    return Err(Error::invalid_input(format!(
                        "unknown option {other:?} (try --help)"
                    )));
                }
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

/// `target/diorama-grid` of this workspace: the grid demo's directory, so
/// both run over one generated database.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/diorama-grid")
}

fn parse_count(flag: &str, text: &str) -> Result<usize> {
    let digits: String = text.chars().filter(|c| *c != '_' && *c != ',').collect();
    match digits.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::invalid_input(format!(
            "{flag}: {text:?} is not a positive number"
        ))),
    }
}

/// `80ms`, `2s`, `10m` or a bare number of milliseconds.
fn parse_duration(flag: &str, text: &str) -> Result<Duration> {
    let bad = || Error::invalid_input(format!("{flag}: {text:?} is not a duration like 80ms"));
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "" | "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number.saturating_mul(60))),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
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
