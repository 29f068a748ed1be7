//! The interactive grid on the real terminal (crossterm).

use std::fmt;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event};
use diorama_core::scenery::TableStats;
use diorama_core::{Error, Result};
use ratatui::DefaultTerminal;

use super::args::GridArgs;
use super::keys::handle_key;
use super::model::App;
use super::render::{draw, table_rows};
use super::session::Session;
use super::source::Source;

/// How long the loop waits for a key before looking at the view again:
/// rows that land show within one tick.
const TICK: Duration = Duration::from_millis(30);

/// What a run measured, printed after the terminal is restored (or after
/// a headless run, see [`Report::summary`](super::Report::summary)).
#[derive(Clone, Debug)]
pub struct Summary {
    /// The cache held rows of the table when the run started.
    pub warm: bool,
    /// From opening the Lens to the first frame drawn.
    pub first_frame_after: Duration,
    /// Counters at the first frame.
    pub first_frame_stats: TableStats,
    /// Master calls before the first frame.
    pub first_frame_master_calls: u64,
    /// Until the first screen showed no placeholder (if it ever did).
    pub complete_after: Option<Duration>,
}

impl fmt::Display for Summary {
    /// `cold cache: first frame after … ms (… rows from the cache, … chunk
    /// loads, … master calls before it); complete after … ms` (or `never`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cache: first frame after {:.1} ms ({} rows from the cache, {} chunk loads, {} master calls before it); complete after ",
            if self.warm { "warm" } else { "cold" },
            self.first_frame_after.as_secs_f64() * 1e3,
            self.first_frame_stats.cache_hits,
            self.first_frame_stats.chunk_loads,
            self.first_frame_master_calls,
        )?;
        match self.complete_after {
            Some(after) => write!(f, "{:.1} ms", after.as_secs_f64() * 1e3),
            None => f.write_str("never"),
        }
    }
}

/// Run the grid on the terminal until `q`; the Dio is shut down (queue
/// drained, cache flushed) before returning.
pub fn run_interactive(args: &GridArgs, dataset: Source) -> Result<Summary> {
    let mut terminal = ratatui::try_init().map_err(|e| Error::failed(format!("terminal: {e}")))?;
    let result = smol::block_on(event_loop(&mut terminal, args, dataset));
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    args: &GridArgs,
    dataset: Source,
) -> Result<Summary> {
    let io = |e: std::io::Error| Error::failed(format!("terminal: {e}"));
    let size = terminal.size().map_err(io)?;
    let started = Instant::now();
    let session = Session::open(args, dataset, 0..table_rows(size.height)).await?;
    let mut app = App::new(session, table_rows(size.height));
    terminal.draw(|frame| draw(frame, &app)).map_err(io)?;
    let mut summary = Summary {
        warm: app.session.warm,
        first_frame_after: started.elapsed(),
        first_frame_stats: app.view().stats(),
        first_frame_master_calls: app.session.master_calls(),
        complete_after: None,
    };
    // Redraw when what the screen shows may have changed: the view's
    // generation, its counters, a key or a resize.
    let mut shown = None;
    while !app.quit {
        app.sync_viewport();
        let state = (
            app.view().generation(),
            app.view().stats(),
            app.session.dio.pending_writes(),
            app.session.master_calls(),
        );
        if shown.as_ref() != Some(&state) {
            terminal.draw(|frame| draw(frame, &app)).map_err(io)?;
            shown = Some(state);
        }
        if summary.complete_after.is_none() && app.visible().1.iter().all(Option::is_some) {
            summary.complete_after = Some(started.elapsed());
        }
        // The executor threads run the loads; this thread only waits for keys.
        if event::poll(TICK).map_err(io)? {
            match event::read().map_err(io)? {
                Event::Key(key) => handle_key(&mut app, key),
                Event::Resize(_, height) => app.set_page(table_rows(height)),
                _ => {}
            }
            shown = None;
        }
    }
    app.message = Some((
        "draining the write queue, flushing the cache…".into(),
        false,
    ));
    terminal.draw(|frame| draw(frame, &app)).map_err(io)?;
    app.session.dio.shutdown().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_names_the_cache_the_counters_and_the_end() {
        let mut summary = Summary {
            warm: true,
            first_frame_after: Duration::from_micros(2_540),
            first_frame_stats: TableStats {
                cache_hits: 20,
                chunk_loads: 1,
                ..TableStats::default()
            },
            first_frame_master_calls: 0,
            complete_after: Some(Duration::from_millis(41)),
        };
        assert_eq!(
            summary.to_string(),
            "warm cache: first frame after 2.5 ms (20 rows from the cache, 1 chunk loads, \
             0 master calls before it); complete after 41.0 ms"
        );
        summary.warm = false;
        summary.complete_after = None;
        assert!(summary.to_string().starts_with("cold cache: "));
        assert!(summary.to_string().ends_with("; complete after never"));
    }
}
