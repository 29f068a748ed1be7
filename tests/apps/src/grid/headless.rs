//! Headless runs: the same app on an in-memory terminal (ratatui's
//! `TestBackend`), driven by a script, with what the screen showed after
//! each command.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diorama_core::scenery::{EnrichedRecord, RowStatus, TableStats};
use diorama_core::{Error, Result};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::args::GridArgs;
use super::keys::handle_key;
use super::model::{Action, App};
use super::render::{draw, status_label, table_rows};
use super::screen::buffer_text;
use super::script::{Command, parse_script};
use super::session::Session;
use super::source::Source;
use super::terminal::Summary;

/// How often a settling run looks again.
const TICK: Duration = Duration::from_millis(10);
/// Ticks without any change (and nothing loading) that count as settled.
const QUIET_TICKS: u32 = 5;
/// How long a command may take to settle before the run fails.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The screen and the counters at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The screen as text.
    pub screen: String,
    /// The scenery's counters.
    pub stats: TableStats,
    /// Master calls so far.
    pub master_calls: u64,
    /// Writes queued or running.
    pub pending_writes: usize,
    /// Rows in the set.
    pub row_count: usize,
    /// Index of the selected row.
    pub cursor: usize,
    /// The rows on screen: index and row (`None`: a placeholder).
    pub rows: Vec<(usize, Option<Arc<EnrichedRecord>>)>,
}

/// One script command and what followed it.
#[derive(Clone, Debug)]
pub struct Step {
    /// The command as written.
    pub command: String,
    /// Once the command's loads and writes settled.
    pub after: Snapshot,
    /// Every row status shown on screen while it settled (`"pending"`,
    /// `"fresh"`, `"loading"` for placeholders, …).
    pub statuses_seen: BTreeSet<&'static str>,
    /// The title said the rows were being counted at some point while it
    /// settled.
    pub counting_seen: bool,
}

/// What a headless run showed.
#[derive(Clone, Debug)]
pub struct Report {
    /// The cache held rows of the table when the run started.
    pub warm: bool,
    /// Where the run's rows came from.
    pub source: Source,
    /// The first frame, drawn as soon as the scenery opened.
    pub first_frame: Snapshot,
    /// Time from the start of the run (after the data was ready) to the first frame.
    pub first_frame_after: Duration,
    /// Once the opening screen settled, before the first command.
    pub settled: Snapshot,
    /// Time until the opening screen settled (no placeholder, nothing loading).
    pub complete_after: Duration,
    /// One entry per command run (`quit` included).
    pub steps: Vec<Step>,
    /// The last screen, after the queue drained.
    pub last: Snapshot,
}

impl Report {
    /// The run's timings and first-frame counters, as the interactive run
    /// reports them.
    pub fn summary(&self) -> Summary {
        Summary {
            warm: self.warm,
            first_frame_after: self.first_frame_after,
            first_frame_stats: self.first_frame.stats,
            first_frame_master_calls: self.first_frame.master_calls,
            complete_after: Some(self.complete_after),
        }
    }
}

/// Run `script` against `dataset` on an in-memory terminal of `args.size`.
///
/// The first frame is drawn as soon as the scenery is open; then the view
/// settles, and so after every command: no load in flight, the committed
/// viewport is the one on screen and fully loaded, no write pending, and
/// the generation unchanged for a few ticks. A `quit` (implied at the end)
/// shuts the Dio down: queued writes reach the master, the cache flushes.
///
/// Errors: a malformed script (`InvalidInput`), a failure opening the
/// cache or the master, or a command that does not settle within a minute
/// (`Failed`).
pub async fn run_script(
    args: &GridArgs,
    source: impl Into<Source>,
    script: &str,
) -> Result<Report> {
    let source = source.into();
    let commands = parse_script(script)?;
    let (width, height) = args.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height))
        .map_err(|e| Error::failed(format!("headless terminal: {e}")))?;
    let page = table_rows(height);
    let started = Instant::now();
    let session = Session::open(args, source.clone(), 0..page).await?;
    let warm = session.warm;
    let mut app = App::new(session, page);
    let first_frame = snapshot(&mut terminal, &app)?;
    let first_frame_after = started.elapsed();

    let mut seen = BTreeSet::new();
    settle(&mut app, None, &mut seen, &mut false).await?;
    let complete_after = started.elapsed();
    let settled = snapshot(&mut terminal, &app)?;

    let mut steps = Vec::new();
    let mut shut_down = false;
    for (text, command) in commands {
        let mut seen = BTreeSet::new();
        let mut counting_seen = false;
        let quit_command = command == Command::Quit;
        let query_before = app.view().query();
        let landed_before = landed(&app.view().stats());
        match command {
            Command::Act(action) => app.apply(action),
            Command::Edit { line, price } => {
                let range = app.visible_range();
                if line > range.len() {
                    return Err(Error::invalid_input(format!(
                        "{text:?}: the screen shows {} rows",
                        range.len()
                    )));
                }
                app.apply(Action::EditPrice {
                    index: range.start + line - 1,
                    price,
                });
            }
            Command::Keys(keys) => {
                for key in keys {
                    handle_key(&mut app, key);
                }
            }
            Command::Wait | Command::Quit => {}
        }
        // A query change refetches the committed viewport at once when it
        // lies within the new set; until that load lands the old rows stay
        // on screen, so wait for it. (When the cache already holds the new
        // query's first screen, nothing may be fetched at all.)
        let query_change = app.view().query() != query_before;
        let refetching = query_change && app.view().stats().loads_in_flight > 0;
        let must_land = refetching.then_some(landed_before);
        counting_seen |= app.counting();
        settle(&mut app, must_land, &mut seen, &mut counting_seen).await?;
        // `quit`, or the `q` key.
        let quit = quit_command || app.quit;
        if quit {
            app.session.dio.shutdown().await?;
            shut_down = true;
        }
        steps.push(Step {
            command: text,
            after: snapshot(&mut terminal, &app)?,
            statuses_seen: seen,
            counting_seen,
        });
        if quit {
            break;
        }
    }
    if !shut_down {
        app.session.dio.shutdown().await?;
    }
    let last = snapshot(&mut terminal, &app)?;
    Ok(Report {
        warm,
        source,
        first_frame,
        first_frame_after,
        settled,
        complete_after,
        steps,
        last,
    })
}

/// Chunk loads that ended (landed or failed).
fn landed(stats: &TableStats) -> u64 {
    stats.chunk_loads + stats.chunk_failures
}

/// Wait until the view is quiet (see [`run_script`]); with `must_land`,
/// also until a chunk load ended after that count.
async fn settle(
    app: &mut App,
    must_land: Option<u64>,
    seen: &mut BTreeSet<&'static str>,
    counting_seen: &mut bool,
) -> Result<()> {
    let runtime = app.session.dio.runtime().clone();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut last_generation = None;
    let mut quiet = 0;
    loop {
        *counting_seen |= app.counting();
        app.sync_viewport();
        let (_, rows) = app.visible();
        seen.extend(rows.iter().map(|row| match row {
            Some(row) => status_label(&row.status).0,
            None => "loading",
        }));
        let generation = app.view().generation();
        let stats = app.view().stats();
        let is_quiet = app.view().viewport() == app.requested()
            && stats.loads_in_flight == 0
            && must_land.is_none_or(|before| landed(&stats) > before)
            && app.session.dio.pending_writes() == 0
            && !app.relocating()
            && !app.counting()
            && rows.iter().all(|row| {
                row.as_ref().is_some_and(|row| {
                    !matches!(row.status, RowStatus::PendingWrite | RowStatus::Loading)
                })
            });
        if is_quiet && last_generation == Some(generation) {
            quiet += 1;
            if quiet >= QUIET_TICKS {
                return Ok(());
            }
        } else {
            quiet = 0;
        }
        last_generation = Some(generation);
        if Instant::now() > deadline {
            let shown: Vec<&str> = rows
                .iter()
                .map(|row| {
                    row.as_ref()
                        .map_or("missing", |r| status_label(&r.status).0)
                })
                .collect();
            return Err(Error::failed(format!(
                "the view did not settle within {SETTLE_TIMEOUT:?}: {stats:?}, viewport {:?} (asked {:?}), generation {}, pending writes {}, rows {shown:?}",
                app.view().viewport(),
                app.requested(),
                generation.0,
                app.session.dio.pending_writes(),
            )));
        }
        runtime.sleep(TICK).await;
    }
}

fn snapshot(terminal: &mut Terminal<TestBackend>, app: &App) -> Result<Snapshot> {
    terminal
        .draw(|frame| draw(frame, app))
        .map_err(|e| Error::failed(format!("drawing: {e}")))?;
    let (range, rows) = app.visible();
    Ok(Snapshot {
        screen: buffer_text(terminal.backend().buffer()),
        stats: app.view().stats(),
        master_calls: app.session.master_calls(),
        pending_writes: app.session.dio.pending_writes(),
        row_count: app.view().row_count(),
        cursor: app.cursor,
        rows: range.zip(rows).collect(),
    })
}
