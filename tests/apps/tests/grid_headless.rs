//! The `grid` app, headless: the issue's script on a 20,000-row table,
//! then a second run over the same data directory.
//!
//! The app is `diorama_apps::grid` (the binary and the example are thin
//! `main`s over it), driven in-process on an in-memory terminal, so the
//! test needs no TTY. Expected values come from the generator
//! itself (`products::product`), not from the app.

use std::time::Duration;

use diorama_apps::grid::data::{self, TABLE};
use diorama_apps::grid::products::product;
use diorama_apps::grid::{GridArgs, Report, Snapshot, Step, run_script};
use diorama_core::Value;
use diorama_core::scenery::RowStatus;
use diorama_core::vista::TableShell;
use diorama_std::sqlite::SqliteVista;

const ROWS: usize = 20_000;
const PAGE: usize = 100;

fn args(dir: &std::path::Path, latency: Duration) -> GridArgs {
    let mut args = GridArgs::new(dir);
    args.dataset.rows = ROWS;
    args.page_size = PAGE;
    args.latency = latency;
    args.size = (120, 24);
    args
}

fn run(args: &GridArgs, script: &str) -> Report {
    let dataset =
        data::prepare(&args.dataset.data, args.dataset.rows, &mut std::io::sink()).expect("data");
    futures_lite::future::block_on(run_script(args, dataset, script)).expect("script")
}

fn step<'a>(report: &'a Report, command: &str) -> &'a Step {
    report
        .steps
        .iter()
        .find(|s| s.command == command)
        .unwrap_or_else(|| panic!("no step {command:?}"))
}

fn price(snapshot: &Snapshot, line: usize) -> f64 {
    let row = snapshot.rows[line - 1].1.as_ref().expect("row loaded");
    row.record
        .get("price")
        .and_then(Value::as_f64)
        .expect("a price")
}

fn ids(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .rows
        .iter()
        .map(|(_, row)| row.as_ref().expect("row loaded").id.clone())
        .collect()
}

/// The screen's table lines (after the title and header, before the status lines).
fn table_lines(snapshot: &Snapshot) -> Vec<&str> {
    let lines: Vec<&str> = snapshot.screen.lines().collect();
    lines[2..lines.len() - 2].to_vec()
}

#[test]
fn grid_runs_the_issue_script_then_paints_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    // Latency keeps a queued write pending long enough to be seen.
    let first = run(
        &args(dir.path(), Duration::from_millis(40)),
        "goto 15000; search lamp; sort price; edit 7 19.99; edit 2 -5; quit",
    );
    assert!(!first.warm, "a fresh data directory has a cold cache");
    // Cold: the first frame shows placeholders until the first chunk lands
    // (on a loaded machine it may already have landed when the frame is
    // drawn: then the rows are there instead).
    assert_eq!(first.first_frame.stats.cache_hits, 0);
    if first.first_frame.rows.iter().all(|(_, r)| r.is_none()) {
        assert!(table_lines(&first.first_frame)[0].contains('…'));
    } else {
        // Rows arrive in index order: the first is there whenever any is.
        assert!(table_lines(&first.first_frame)[0].contains("1 p0000001"));
    }
    assert!(first.settled.rows.iter().all(|(_, r)| r.is_some()));
    assert!(table_lines(&first.settled)[0].contains("1 p0000001"));

    // goto: row 15,000 at the top of the screen, loaded with O(1) chunks.
    let goto = step(&first, "goto 15000");
    let shown = table_lines(&goto.after);
    assert!(
        shown[0].contains("15,000 p0015000"),
        "{}",
        goto.after.screen
    );
    assert!(
        shown[1].contains("15,001 p0015001"),
        "{}",
        goto.after.screen
    );
    let expected: Vec<String> = (14_999..14_999 + shown.len())
        .map(|i| product(i).0)
        .collect();
    assert_eq!(ids(&goto.after), expected);
    assert_eq!(
        goto.after.rows[0].1.as_ref().unwrap().record,
        product(14_999).1
    );
    let goto_loads = goto.after.stats.chunk_loads - first.settled.stats.chunk_loads;
    assert!(
        (1..=3).contains(&goto_loads),
        "going to row 15,000 took {goto_loads} chunk loads, not O(1)"
    );
    let goto_calls = goto.after.master_calls - first.settled.master_calls;
    assert!(
        (1..=3).contains(&goto_calls),
        "going to row 15,000 took {goto_calls} master calls"
    );

    // search: only matching rows, as many as the generator made.
    let lamps: Vec<(String, f64)> = (0..ROWS)
        .map(product)
        .filter(|(_, r)| {
            r.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.to_lowercase().contains("lamp"))
        })
        .map(|(id, r)| (id, r.get("price").and_then(Value::as_f64).unwrap()))
        .collect();
    let search = step(&first, "search lamp");
    assert_eq!(search.after.row_count, lamps.len());
    assert!(search.after.screen.contains("search \"lamp\""));
    for line in table_lines(&search.after) {
        assert!(line.contains("Lamp"), "not a lamp: {line}");
    }
    assert!(search.after.rows.iter().all(|(_, r)| r.is_some()));

    // sort: the cheapest lamps first, in price order.
    let sort = step(&first, "sort price");
    let mut cheapest = lamps.clone();
    cheapest.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let shown_ids = ids(&sort.after);
    let expected: Vec<String> = cheapest[..shown_ids.len()]
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(shown_ids, expected);
    let prices: Vec<f64> = (1..=shown_ids.len())
        .map(|l| price(&sort.after, l))
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    assert!(sort.after.screen.contains("price ▲"));

    // edit: the row moves to where 19.99 falls in the price order (off the
    // screen when every other row shown is cheaper), pending while the
    // master is slow, then fresh; the screen stays in price order, each
    // row once (issue 11: it used to stay on line 7, out of order).
    let edit = step(&first, "edit 7 19.99");
    let edited_id = shown_ids[6].clone();
    let after_ids = ids(&edit.after);
    let after_prices: Vec<f64> = (1..=after_ids.len())
        .map(|l| price(&edit.after, l))
        .collect();
    assert!(
        after_prices.windows(2).all(|w| w[0] <= w[1]),
        "{after_prices:?}"
    );
    let unique: std::collections::BTreeSet<&String> = after_ids.iter().collect();
    assert_eq!(unique.len(), after_ids.len(), "{after_ids:?}");
    match after_ids.iter().position(|id| *id == edited_id) {
        Some(at) => {
            let edited = edit.after.rows[at].1.clone().unwrap();
            assert_eq!(price(&edit.after, at + 1), 19.99);
            assert_eq!(edited.status, RowStatus::Fresh);
            assert!(table_lines(&edit.after)[at].contains("19.99"));
        }
        None => assert!(*after_prices.last().unwrap() <= 19.99, "{after_prices:?}"),
    }

    // A negative price is refused by the master: the row (line 2 after the
    // edit above) shows the failure and keeps its price and its place.
    let refused = step(&first, "edit 2 -5");
    let row = refused.after.rows[1].1.clone().unwrap();
    assert!(
        matches!(row.status, RowStatus::WriteFailed { .. }),
        "{:?}",
        row.status
    );
    assert_eq!(price(&refused.after, 2), after_prices[1]);
    assert!(table_lines(&refused.after)[1].contains("failed"));
    assert!(refused.after.screen.contains("failed: "));

    let quit = step(&first, "quit");
    assert_eq!(quit.after.pending_writes, 0);

    // The write reached SQLite through the queue.
    let db_path = &first.source.dataset().expect("a local run").db_path;
    let master = SqliteVista::open(db_path, TABLE, "id").unwrap();
    let stored = futures_lite::future::block_on(master.get(&edited_id))
        .unwrap()
        .unwrap();
    assert_eq!(stored.get("price").and_then(Value::as_f64), Some(19.99));
    drop(master);

    // Second run over the same directory: the first frame comes from the
    // sled cache, before any master call or chunk load.
    let edited_row = edited_id[1..].parse::<usize>().unwrap();
    let second = run(
        &args(dir.path(), Duration::ZERO),
        &format!("goto {edited_row}; quit"),
    );
    assert!(second.warm);
    let first_frame = &second.first_frame;
    let rows_on_screen = first_frame.rows.len();
    assert_eq!(rows_on_screen, 20);
    assert_eq!(first_frame.stats.cache_hits, rows_on_screen as u64);
    assert_eq!(first_frame.stats.chunk_loads, 0);
    assert_eq!(first_frame.master_calls, 0);
    assert_eq!(first_frame.row_count, ROWS);
    assert!(!first_frame.screen.contains('…'), "{}", first_frame.screen);
    assert!(table_lines(first_frame)[0].contains("1 p0000001"));
    // The edited row, in source order, shows the written price.
    let goto = step(&second, &format!("goto {edited_row}"));
    let row = goto.after.rows[0].1.clone().unwrap();
    assert_eq!(row.id, edited_id);
    assert_eq!(row.record.get("price").and_then(Value::as_f64), Some(19.99));
}

fn prices(snapshot: &Snapshot) -> Vec<f64> {
    (1..=snapshot.rows.len())
        .map(|l| price(snapshot, l))
        .collect()
}

#[test]
fn grid_keys_move_sort_search_and_edit() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = args(dir.path(), Duration::ZERO);
    args.dataset.rows = 3_000;
    let script = "key pagedown; key down; key down; key up; key end; key home; \
                  key g; type 2,500; key enter; key s; key S; key /; type oak; key enter; \
                  key e; type 7.5; key enter; key q; goto 5";
    let report = run(&args, script);
    let steps = &report.steps;
    let top_id = |i: usize| ids(&steps[i].after)[0].clone();
    let page = report.settled.rows.len();
    assert_eq!(page, 20, "a 24-line screen shows 20 rows");

    // pagedown: one screen further, selection included.
    assert_eq!(steps[0].after.cursor, page);
    assert_eq!(top_id(0), "p0000021");
    // down, down, up.
    assert_eq!(steps[3].after.cursor, page + 1);
    // end: the last row, at the bottom of the screen.
    assert_eq!(steps[4].after.cursor, 2_999);
    assert_eq!(ids(&steps[4].after).last().unwrap(), "p0003000");
    // home.
    assert_eq!(steps[5].after.cursor, 0);
    assert_eq!(top_id(5), "p0000001");
    // g, 2,500, enter: the prompt shows what is typed, then the row is on top.
    assert!(steps[7].after.screen.contains("go to row: 2,500"));
    assert_eq!(steps[8].after.cursor, 2_499);
    assert_eq!(top_id(8), "p0002500");
    // s: by price, ascending, from the top; S: the other way round.
    assert!(steps[9].after.screen.contains("sort price ▲"));
    assert_eq!(steps[9].after.cursor, 0);
    let up = prices(&steps[9].after);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    assert!(steps[10].after.screen.contains("sort price ▼"));
    let down = prices(&steps[10].after);
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    // /, oak, enter: only oak products, still by price descending.
    assert!(
        steps[13]
            .after
            .screen
            .contains("search \"oak\" · sort price ▼")
    );
    for line in table_lines(&steps[13].after) {
        assert!(line.contains(" Oak "), "not oak: {line}");
    }
    let oak = prices(&steps[13].after);
    assert!(oak.windows(2).all(|w| w[0] >= w[1]), "{oak:?}");
    // e, 7.5, enter: the selected (first, dearest) row's price, written:
    // it moves to where 7.5 falls (issue 11), the rest stay in order.
    assert!(steps[15].after.screen.contains("new price of "));
    let edited_id = ids(&steps[15].after)[0].clone();
    let after = prices(&steps[16].after);
    assert!(after.windows(2).all(|w| w[0] >= w[1]), "{after:?}");
    match ids(&steps[16].after).iter().position(|id| *id == edited_id) {
        Some(at) => {
            let edited = steps[16].after.rows[at].1.clone().unwrap();
            assert_eq!(price(&steps[16].after, at + 1), 7.5);
            assert_eq!(edited.status, RowStatus::Fresh);
            assert!(table_lines(&steps[16].after)[at].contains("7.50"));
        }
        None => assert!(*after.last().unwrap() >= 7.5, "{after:?}"),
    }
    // q ends the run: `goto 5` never runs.
    assert_eq!(steps.len(), 18);
    assert_eq!(steps[17].command, "key q");
    assert_eq!(report.last.pending_writes, 0);
}

/// The status line: the screen's last line but one.
fn status_line(snapshot: &Snapshot) -> &str {
    let lines: Vec<&str> = snapshot.screen.lines().collect();
    lines[lines.len() - 2]
}

#[test]
fn numbers_that_do_not_fit_are_written_short_never_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = args(dir.path(), Duration::ZERO);
    args.dataset.rows = 200;
    args.size = (50, 24);
    let dataset = data::prepare(&args.dataset.data, 200, &mut std::io::sink()).unwrap();
    let conn = diorama_std::sqlite::rusqlite::Connection::open(&dataset.db_path).unwrap();
    conn.execute_batch(
        "UPDATE products SET price = 1e300 WHERE id = 'p0000001';
         UPDATE products SET stock = 12345678901234567890 WHERE id = 'p0000002';
         UPDATE products SET price = 305.14 WHERE id = 'p0000003';",
    )
    .unwrap();
    drop(conn);
    let report = run(&args, "wait");
    let screen = &report.settled.screen;
    let line = |n: usize| table_lines(&report.settled)[n].to_string();
    assert!(line(0).contains("1.000e300"), "{screen}");
    assert!(line(1).contains("1e19"), "{screen}");
    assert!(line(2).contains("305.14"), "{screen}");
    // Every shown price is whole: the layout leaves columns out rather
    // than squeeze one.
    for (at, (_, row)) in report.settled.rows.iter().enumerate().skip(3) {
        let price = row
            .as_ref()
            .unwrap()
            .record
            .get("price")
            .and_then(Value::as_f64)
            .unwrap();
        assert!(line(at).contains(&format!("{price:.2}")), "{}", line(at));
    }
    for l in screen.lines() {
        assert!(l.chars().count() <= 50, "{l}");
    }
    // The title leaves out what does not fit, whole.
    let title = screen.lines().next().unwrap().trim_end();
    assert!(title.ends_with("200 rows"), "{title:?}");
}

#[test]
fn the_status_line_fits_the_width_in_whole_words() {
    let dir = tempfile::tempdir().unwrap();
    for width in [120u16, 80, 50, 30] {
        let mut args = args(dir.path(), Duration::ZERO);
        args.dataset.rows = 500;
        args.size = (width, 24);
        let report = run(&args, "goto 300; quit");
        let after = &report.steps[0].after;
        let status = status_line(after);
        let calls = after.master_calls;
        assert!(
            status.contains(&format!("master calls {calls}"))
                || status.contains(&format!("calls {calls} "))
                || status.ends_with(&format!("calls {calls}")),
            "{width}: {status:?} (calls {calls})"
        );
        assert!(!after.screen.contains("Partial"), "{}", after.screen);
        assert!(status.chars().count() <= usize::from(width));
        if width >= 120 {
            assert!(
                status.contains("partly loaded") || status.contains("all loaded"),
                "{status}"
            );
        }
    }
}

#[test]
fn a_search_counts_then_shows_its_rows_and_clearing_it_keeps_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 3_000;
    let mut args = args(dir.path(), Duration::from_millis(60));
    args.dataset.rows = rows;
    let lamps: Vec<String> = (0..rows)
        .map(product)
        .filter(|(_, r)| {
            r.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.to_lowercase().contains("lamp"))
        })
        .map(|(id, _)| id)
        .collect();
    let report = run(&args, "search lamp; down 3; search");
    let search = &report.steps[0];
    assert!(search.counting_seen, "the title never said it was counting");
    let title = search.after.screen.lines().next().unwrap();
    assert!(title.contains(&format!("{} rows", lamps.len())), "{title}");
    assert!(
        !search.after.screen.contains("searching"),
        "{}",
        search.after.screen
    );

    let chosen = &lamps[3];
    assert_eq!(
        report.steps[1].after.rows[3].1.as_ref().unwrap().id,
        *chosen
    );
    let cleared = &report.steps[2].after;
    let index: usize = chosen[1..].parse::<usize>().unwrap() - 1;
    assert_eq!(cleared.row_count, rows);
    assert_eq!(cleared.cursor, index, "the cursor stays on {chosen}");
    let on_screen = cleared
        .rows
        .iter()
        .find(|(i, _)| *i == index)
        .expect("on screen");
    assert_eq!(on_screen.1.as_ref().unwrap().id, *chosen);
}
