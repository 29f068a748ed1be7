//! The `fan-out` workload of `../shared/peer-bench/README.md` (workload 5),
//! on Diorama's public API, printing the same `name=… value=… unit=…`
//! lines, so it runs back to back with the upstream harness:
//!
//! ```sh
//! ../shared/peer-bench/run-upstream.sh fan-out --runs 3 --modes shared > raw/upstream.fan-out.txt
//! cargo bench -p diorama-benches --bench fan_out -- fan-out --runs 3   > raw/diorama.fan-out.txt
//! ../shared/peer-bench/compare.py raw
//! ```
//!
//! N table sceneries on one Dio over the 1,000-row products data set (the
//! same rows; a `MemoryVista` master, the memory cache, an `on_start` that
//! copies the master: the eager loader), each ordered by `id` ascending;
//! one change applied with `Dio::handle_event(ChangeEvent::Updated)` with
//! the whole row and a never-used `stock` (the row does not move), timed
//! until the last of N tokio tasks awaiting the sceneries' generations saw
//! it. Per run, the median of 20 notifications after 2 warm-ups; 3 runs;
//! a tokio multi-thread runtime with 2 workers, the measuring code in
//! `block_on` on the main thread.
//!
//! Modes: `shared` (N plain opens of one query: Diorama shares one view
//! among them, each scenery with its own generation) and `distinct` (view
//! `k` filtered by an always-true `stock >= -1-k`: N views). Upstream's
//! `exclusive` mode (its `.sugar` switch) has no Diorama counterpart and
//! is not run.
//!
//! Measured back to back with `run-upstream.sh fan-out --runs 3 --modes
//! shared`, three rounds on the 2-core VM at load 0.8–1.3 after the table
//! model landed (raw outputs in `benches/peer/raw-table-model/`, upstream
//! first in each round); medians of the three runs per round —
//!
//! | N | Diorama notify | upstream notify | Diorama open all | upstream open all |
//! |---|---|---|---|---|
//! | 1 | 86 µs (round 1) | 255 µs | 0.37 ms | 1.31 ms |
//! | 100 | 132 / 174 / 175 µs | 300 / 363 / 365 µs | 0.32 / 0.36 / 0.36 ms | 1.05 / 1.67 / 1.13 ms |
//! | 1,000 | 406 / 590 / 610 µs | 879 / 1,445 / 1,169 µs | 0.56 / 0.66 / 0.97 ms | 4.68 / 5.29 / 5.04 ms |
//!
//! Per round: notify 2.3 / 2.1 / 2.1× faster at 100 and 2.2 / 2.4 / 1.9×
//! at 1,000; open 3.3 / 4.6 / 3.2× faster at 100 and 8.3 / 8.1 / 5.2× at
//! 1,000. At 1,000 views the time is tokio's: waking, polling and
//! finishing the 1,000 watcher tasks on two workers (the view re-places
//! the row once and bumps 1,000 generations). The earlier rounds (before
//! the model, other helpers building) are in the README's history.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diorama_benches::peer::{emit_machine, emit_stats, id, median, note, record};
use diorama_core::dio::ChangeEvent;
use diorama_core::scenery::LoadState;
use diorama_core::vista::{CmpOp, SortDir};
use diorama_core::{Lens, MemoryBackend, MemoryVista, TableScenery, Value, Vista};
use diorama_tokio::TokioRuntime;

#[derive(Clone, Copy)]
enum Mode {
    Shared,
    Distinct,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Shared => "shared",
            Mode::Distinct => "distinct",
        }
    }
}

struct Args(Vec<String>);

impl Args {
    fn value(&self, key: &str) -> Option<&str> {
        let at = self.0.iter().position(|a| a == key)?;
        self.0.get(at + 1).map(String::as_str)
    }

    fn usize_or(&self, key: &str, default: usize) -> usize {
        self.value(key)
            .map(|v| v.replace('_', "").parse().expect("a number"))
            .unwrap_or(default)
    }

    fn list_or(&self, key: &str, default: &[usize]) -> Vec<usize> {
        match self.value(key) {
            Some(v) => v
                .split(',')
                .map(|x| x.replace('_', "").parse().expect("numbers"))
                .collect(),
            None => default.to_vec(),
        }
    }
}

struct RunResult {
    median_us: f64,
    min_us: f64,
    max_us: f64,
    open_ms: f64,
    apply_us: f64,
}

fn main() {
    let args = Args(std::env::args().skip(1).collect());
    // `cargo bench` passes `--bench`; anything else is the workload's.
    if !args.0.iter().any(|a| a == "fan-out") {
        note(
            "usage: fan_out fan-out [--runs 3] [--rows 1000] [--sceneries 1,100,1000] [--iters 20] [--modes shared,distinct]",
        );
        return;
    }
    let runs = args.usize_or("--runs", 3);
    let rows = args.usize_or("--rows", 1_000);
    let iters = args.usize_or("--iters", 20);
    let counts = args.list_or("--sceneries", &[1, 100, 1_000]);
    let modes: Vec<Mode> = match args.value("--modes") {
        Some(m) => m
            .split(',')
            .filter_map(|m| match m {
                "shared" => Some(Mode::Shared),
                "distinct" => Some(Mode::Distinct),
                other => {
                    note(format!("mode {other} has no Diorama counterpart; skipped"));
                    None
                }
            })
            .collect(),
        None => vec![Mode::Shared, Mode::Distinct],
    };
    emit_machine("fan-out", "tokio_multi_thread_2_workers");
    note(format!(
        "rows={rows} iters_per_run={iters} (+2 warm-up) sceneries={counts:?} order=id cache=memory loader=on_start_copy"
    ));
    for mode in modes {
        for &n in &counts {
            let (mut per_run, mut open_ms, mut apply) = (Vec::new(), Vec::new(), Vec::new());
            for run in 1..=runs {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let r = rt.block_on(one(mode, n, rows, iters, run));
                drop(rt);
                note(format!(
                    "mode={} sceneries={n} run={run} median_us={:.1} min_us={:.1} max_us={:.1} apply_change_return_us={:.1} open_all_ms={:.2}",
                    mode.name(),
                    r.median_us,
                    r.min_us,
                    r.max_us,
                    r.apply_us,
                    r.open_ms
                ));
                per_run.push(r.median_us);
                open_ms.push(r.open_ms);
                apply.push(r.apply_us);
            }
            let p = format!("fan_out.{}.n{n}", mode.name());
            emit_stats(&format!("{p}.notify_to_all_observed"), &per_run, "us");
            emit_stats(&format!("{p}.apply_change_return"), &apply, "us");
            emit_stats(&format!("{p}.open_all_sceneries"), &open_ms, "ms");
        }
    }
}

async fn one(mode: Mode, n: usize, rows: usize, iters: usize, run: usize) -> RunResult {
    let master = MemoryVista::generate("products", rows, |i| (id(i), record(i)));
    let lens = Lens::builder()
        .cache_source(Arc::new(MemoryBackend::new()))
        .runtime(TokioRuntime::current().arc())
        .on_start(diorama_benches::peer::eager_copy)
        .build()
        .expect("lens");
    let dio = lens.make_dio(Vista::new(master)).await.expect("dio");

    let t = Instant::now();
    let mut views: Vec<TableScenery> = Vec::with_capacity(n);
    for k in 0..n {
        let builder = dio.table_scenery().sort("id", SortDir::Asc);
        let builder = match mode {
            Mode::Shared => builder,
            Mode::Distinct => builder.where_op("stock", CmpOp::Gte, -1 - k as i64),
        };
        views.push(builder.open().await.expect("open"));
    }
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !views
        .iter()
        .all(|v| v.load_state() == LoadState::Complete && v.row_count() == rows)
    {
        assert!(Instant::now() < deadline, "sceneries never settled");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let (mut lat, mut ret) = (Vec::new(), Vec::new());
    let warmup = 2;
    let (mut it, mut attempts) = (0usize, 0usize);
    while lat.len() < iters + warmup {
        attempts += 1;
        assert!(attempts <= (iters + warmup) * 5, "too many spurious bumps");
        let idx = (it * 7919 + run * 104_729) % rows;
        let row_id = id(idx);
        let new_stock = 1_000_000 + (run * 10_000 + it) as i64;
        it += 1;

        let remaining = Arc::new(AtomicUsize::new(n));
        let (tx, rx) = tokio::sync::oneshot::channel::<Instant>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let mut watchers = Vec::with_capacity(n);
        for v in &views {
            let mut w = v.subscribe();
            w.mark_seen();
            let remaining = remaining.clone();
            let tx = tx.clone();
            watchers.push(tokio::spawn(async move {
                if w.changed().await.is_ok() && remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    let now = Instant::now();
                    if let Some(tx) = tx.lock().unwrap().take() {
                        let _ = tx.send(now);
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        if remaining.load(Ordering::Acquire) != n {
            watchers.iter().for_each(|w| w.abort());
            continue;
        }

        let mut row = record(idx);
        row.insert("stock", new_stock);
        let t0 = Instant::now();
        dio.handle_event(ChangeEvent::Updated {
            id: row_id.clone(),
            fields: Some(row),
        })
        .await
        .expect("apply the change");
        let returned = t0.elapsed();
        let done = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("every scenery observed the change")
            .expect("a watcher");
        for w in watchers {
            let _ = w.await;
        }
        let Some(d) = done.checked_duration_since(t0) else {
            continue;
        };
        for v in [&views[0], &views[n - 1]] {
            let shown = v
                .index_of(&row_id)
                .and_then(|i| v.row(i))
                .and_then(|r| r.record.get("stock").cloned());
            assert_eq!(
                shown,
                Some(Value::from(new_stock)),
                "a view shows the change"
            );
        }
        lat.push(d.as_secs_f64() * 1e6);
        ret.push(returned.as_secs_f64() * 1e6);
    }
    let measured = &lat[warmup..];
    RunResult {
        median_us: median(measured),
        min_us: measured.iter().cloned().fold(f64::INFINITY, f64::min),
        max_us: measured.iter().cloned().fold(0.0, f64::max),
        open_ms,
        apply_us: median(&ret[warmup..]),
    }
}
