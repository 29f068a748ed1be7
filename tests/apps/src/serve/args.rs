//! Command-line options of the serve app, parsed by clap (the shared
//! `--data`/`--rows` and value parsers from
//! [`sample::args`](crate::sample::args), the grid's database and default
//! table size included); `--help` is generated from the field docs here
//! and on [`ServiceOptions`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use super::app::ServiceOptions;
use crate::sample::args::DataArgs;
pub use crate::sample::args::{DEFAULT_ROWS, default_data_dir};

/// What `--help` prints after the options.
const AFTER_HELP: &str = "\
ROUTES:
  GET   /products?offset=0&limit=50&sort=-price&q=lamp
  GET   /products/{id}
  PATCH /products/{id}        body: {\"price\": 19.99}
  GET   /stats
  GET   /metrics              (Prometheus text format)

Also run as: cargo run --release -p diorama-tokio --example serve -- [OPTIONS]";

/// serve: an HTTP JSON service over the generated product table in SQLite,
/// cached in sled, on tokio.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(name = "serve", after_help = AFTER_HELP, allow_negative_numbers = true)]
pub struct ServeArgs {
    /// The generated table (the grid's database) and the directory holding
    /// it and the service's sled cache.
    #[command(flatten)]
    pub dataset: DataArgs,
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Caching and waiting.
    #[command(flatten)]
    pub options: ServiceOptions,
}

impl ServeArgs {
    /// The defaults over `data`: 1,000,000 rows, `127.0.0.1:8080`,
    /// [`ServiceOptions::default`] (what the command line gives without
    /// flags, `--data` aside).
    pub fn new(data: impl Into<PathBuf>) -> Self {
        ServeArgs {
            dataset: DataArgs::new(data),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            options: ServiceOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        ServeArgs::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
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
            "--page",
            "25",
            "--timeout",
            "3s",
            "--write-timeout",
            "1500ms",
        ])
        .unwrap();
        assert_eq!(args.dataset.data, PathBuf::from("/tmp/x"));
        assert_eq!(args.dataset.rows, 5_000);
        assert_eq!(args.addr, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(args.options.latency, Duration::from_millis(80));
        assert_eq!(args.options.ttl, Duration::from_secs(120));
        assert_eq!(args.options.views, 4);
        assert_eq!(args.options.page_size, 25);
        assert_eq!(args.options.read_timeout, Duration::from_secs(3));
        assert_eq!(args.options.write_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn no_flags_give_the_documented_defaults() {
        assert_eq!(parse(&[]).unwrap(), ServeArgs::new(default_data_dir()));
        assert_eq!(parse(&[]).unwrap().dataset.rows, DEFAULT_ROWS);
    }

    #[test]
    fn bad_values_are_errors_naming_the_flag() {
        for (args, flag) in [
            (&["--rows", "0"][..], "--rows"),
            (&["--addr", "localhost"], "--addr"),
            (&["--latency", "fast"], "--latency"),
            (&["--timeout", "1 fortnight"], "--timeout"),
            (&["--write-timeout", "x"], "--write-timeout"),
            (&["--views", "none"], "--views"),
            (&["--page", "-5"], "--page"),
            (&["--rows"], "--rows"),
            (&["--bogus"], "--bogus"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.to_string().contains(flag), "{args:?}: {error}");
        }
        assert_eq!(
            parse(&["--help"]).unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
    }

    #[test]
    fn help_lists_every_flag_and_the_routes() {
        let help = parse(&["--help"]).unwrap_err().to_string();
        for flag in [
            "--data",
            "--rows",
            "--addr",
            "--page",
            "--ttl",
            "--latency",
            "--views",
            "--timeout",
            "--write-timeout",
            "--help",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
        assert!(help.contains("PATCH /products/{id}"), "{help}");
    }
}
