//! Command-line options of the grid demo (flags read with the shared
//! [`sample::args`](crate::sample::args)).

use std::path::PathBuf;
use std::time::Duration;

use diorama_core::{Error, Result};

pub use crate::sample::args::{DEFAULT_ROWS, default_data_dir};
use crate::sample::args::{Flags, unknown_option};

/// What to run and against which data.
#[derive(Clone, Debug, PartialEq)]
pub struct GridArgs {
    /// Directory holding the SQLite database and the sled cache.
    pub data: PathBuf,
    /// Rows of the generated table (each size has its own database and cache).
    pub rows: usize,
    /// Delay added to every master call, as if the master were a remote API.
    pub latency: Duration,
    /// Rows older than this read as stale and are refetched when shown.
    pub ttl: Duration,
    /// Rows per chunk load.
    pub page_size: usize,
    /// Commands to run headless instead of the interactive terminal.
    pub script: Option<String>,
    /// Print the final screen as text (headless mode).
    pub screen: bool,
    /// Width and height of the headless terminal.
    pub size: (u16, u16),
}

impl GridArgs {
    /// The defaults: 1,000,000 rows under [`default_data_dir`], no latency,
    /// a ten-minute TTL, 100-row chunks, a 120×24 headless screen.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        GridArgs {
            data: data.into(),
            rows: DEFAULT_ROWS,
            latency: Duration::ZERO,
            ttl: Duration::from_secs(600),
            page_size: 100,
            script: None,
            screen: false,
            size: (120, 24),
        }
    }

    /// Parse `args` (without the program name). `Ok(None)` for `--help`.
    ///
    /// Errors: `InvalidInput` naming the bad flag or value.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<GridArgs>> {
        let mut parsed = GridArgs::new(default_data_dir());
        let mut flags = Flags::new(args);
        while let Some(flag) = flags.next_flag() {
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--data" => parsed.data = flags.path(&flag)?,
                "--rows" => parsed.rows = flags.count(&flag)?,
                "--latency" => parsed.latency = flags.duration(&flag)?,
                "--ttl" => parsed.ttl = flags.duration(&flag)?,
                "--page" => parsed.page_size = flags.count(&flag)?,
                "--script" => parsed.script = Some(flags.value(&flag)?),
                "--screen" => parsed.screen = true,
                "--size" => parsed.size = parse_size(&flags.value(&flag)?)?,
                other => return Err(unknown_option(other)),
            }
        }
        if parsed.screen && parsed.script.is_none() {
            return Err(Error::invalid_input("--screen needs --script"));
        }
        Ok(Some(parsed))
    }
}

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
grid: a terminal grid over a generated SQLite table, cached in sled.

USAGE: cargo run --release -p diorama-std --example grid -- [OPTIONS]

OPTIONS:
  --data DIR        database and cache directory (default: target/diorama-grid)
  --rows N          rows to generate (default: 1000000)
  --latency 80ms    delay every master call, like a remote API (default: 0ms)
  --ttl 10m         rows older than this are refetched when shown (default: 10m)
  --page N          rows per chunk load (default: 100)
  --script \"...\"    run commands headless, separated by ';':
                      goto N | down N | up N | pagedown | pageup | home | end
                      search TEXT | search | sort COLUMN [asc|desc] | sort none
                      edit LINE PRICE (LINE: 1 = first row on screen)
                      key NAME (up, down, pagedown, enter, esc, g, /, ...)
                      type TEXT | wait | quit
  --screen          print the final screen as text (with --script)
  --size WxH        headless screen size (default: 120x24)

KEYS: arrows, PgUp/PgDn, Home/End, g go to row, / search, s cycle sort,
      S reverse sort, e edit price, q quit";

fn parse_size(text: &str) -> Result<(u16, u16)> {
    let bad = || Error::invalid_input(format!("--size: {text:?} is not WIDTHxHEIGHT"));
    let (w, h) = text.split_once('x').ok_or_else(bad)?;
    let w: u16 = w.parse().map_err(|_| bad())?;
    let h: u16 = h.parse().map_err(|_| bad())?;
    if w < 40 || h < 6 {
        return Err(Error::invalid_input(format!(
            "--size: {text:?} is too small (at least 40x6)"
        )));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::args::parse_duration;

    fn parse(args: &[&str]) -> Result<Option<GridArgs>> {
        GridArgs::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_are_read() {
        let args = parse(&[
            "--rows",
            "20_000",
            "--latency",
            "80ms",
            "--data",
            "/tmp/x",
            "--script",
            "quit",
            "--screen",
            "--size",
            "80x20",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.rows, 20_000);
        assert_eq!(args.latency, Duration::from_millis(80));
        assert_eq!(args.data, PathBuf::from("/tmp/x"));
        assert_eq!(args.script.as_deref(), Some("quit"));
        assert!(args.screen);
        assert_eq!(args.size, (80, 20));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse(&["--rows", "0"]).is_err());
        assert!(parse(&["--latency", "fast"]).is_err());
        assert!(parse(&["--rows"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--screen"]).is_err());
        assert!(parse(&["--size", "10x2"]).is_err());
        assert_eq!(parse(&["--help"]).unwrap(), None);
        assert_eq!(
            parse_duration("--ttl", "2m").unwrap(),
            Duration::from_secs(120)
        );
    }
}
