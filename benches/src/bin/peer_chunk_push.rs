//! The `chunk-push` workload of `../shared/peer-bench/README.md`
//! (workload 2) on Diorama's public API, printing the same
//! `name=… value=… unit=…` lines so `compare.py` tables it beside upstream:
//!
//! ```sh
//! ../shared/peer-bench/run-upstream.sh chunk-push --runs 3 > benches/peer/raw/upstream.chunk-push.txt
//! cargo run --release -p diorama-benches --bin peer_chunk_push -- chunk-push --runs 3 > benches/peer/raw/diorama.chunk-push.txt
//! cargo run --release -p diorama-benches --bin peer_chunk_push -- chunk-push --runs 3 --runtime smol > benches/peer/raw/diorama-smol.chunk-push.txt
//! ../shared/peer-bench/compare.py benches/peer/raw
//! ```
//!
//! A paged table scenery (`page_size(1000)`) scrolled over 100,000 rows of
//! the products data set; its `on_load_chunk` states the total and pushes
//! the chunk's rows, moved out of a vector built before the clock (no
//! clone, no generation while timed). Lens: `refresh_on_open(false)` (the
//! scroll drives every load), `viewport_debounce(0)`; master: an empty
//! `MemoryVista`. Timed: for `k = 0..100`, `set_viewport(k*1000..(k+1)*1000)`,
//! then wait on the Dio's bus for this scenery's `RangeLoaded` starting at
//! `k*1000` (published after the chunk's rows, positions and extent were
//! written to the cache in one batch and the view bumped); the clock runs
//! from the first `set_viewport` to the last `RangeLoaded` seen, chunks
//! strictly one after another. Per chunk the phases `dispatch`
//! (`set_viewport` → callback entered), `push` (callback entered →
//! returned) and `commit` (callback returned → `RangeLoaded` seen).
//! Verified after the clock: every `row(i)` is `Some` (the scenery keeps
//! all rows: `retain_rows(100000)`, as upstream's view does) and the Dio's
//! cache table counts 100,000.
//!
//! Backends: `memory` (`MemoryBackend`) and `sled` (`SledBackend` in a
//! fresh temporary directory, sled's defaults: no fsync per chunk, where
//! upstream's redb commits each chunk with one). Runtimes (`--runtime`):
//! `tokio` (multi-thread, 2 workers, the measuring code in `block_on` on
//! the main thread, like upstream), `tokio-current` (current-thread: the
//! library's tasks and the measuring code on one thread) and `smol` (an
//! `async_executor::Executor` run by 2 threads, the measuring code in
//! `smol::block_on` on the main thread).
//!
//! Latest, back to back with upstream 1.5.0 at load 1.7 with records shared
//! by the view and the cache (`benches/peer/raw-shared-records`, medians of
//! 3 runs): memory 1.35M rows/s on tokio (1.52M on smol) vs 277k; sled 718k
//! vs redb 122k; dispatch 44 µs vs 1.22 ms; memory commit 0.33 ms vs 0.47 ms.
//!
//! Before records were shared, 5 rounds on the 2-core VM at load 3–5
//! (medians of 3 runs per round; `benches/peer/README.md` has the phases
//! and the raw outputs):
//!
//! | figure | upstream 1.5.0 (tokio) | Diorama tokio | Diorama smol |
//! |---|---|---|---|
//! | memory rows/s | 196–223k | 327–705k (best run 1.15M) | 348–722k |
//! | memory dispatch | 1.21–1.24 ms | 26–42 µs | 32–45 µs |
//! | memory push phase | 1.74–1.80 ms | 0.40–0.59 ms | 0.39–0.62 ms |
//! | memory commit phase | 0.53–0.65 ms | 0.79–1.44 ms | 0.95–1.44 ms |
//! | disk rows/s (redb / sled) | 63–96k | 81–110k | 90–113k |
//!
//! Tokio current-thread, memory: 500–878k rows/s, dispatch 6–11 µs.

use std::ops::Range;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diorama_benches::peer::id as row_id;
use diorama_benches::peer::{Args, SmolThreads, emit_machine, emit_stats, median, note, record};
use diorama_core::cache::CacheBackend;
use diorama_core::sync::broadcast::{BroadcastReceiver, RecvError};
use diorama_core::{
    DioEvent, Lens, MemoryBackend, MemoryVista, Record, Runtime, TableScenery, Vista,
};
use diorama_std::SledBackend;
use diorama_tokio::TokioRuntime;
use futures_lite::future;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Memory,
    Sled,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sled => "sled",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Rt {
    TokioMulti,
    TokioCurrent,
    Smol,
}

impl Rt {
    fn parse(name: &str) -> Result<Self, String> {
        match name {
            "tokio" => Ok(Rt::TokioMulti),
            "tokio-current" => Ok(Rt::TokioCurrent),
            "smol" => Ok(Rt::Smol),
            other => Err(format!(
                "--runtime wants tokio, tokio-current or smol, got {other:?}"
            )),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Rt::TokioMulti => "tokio_multi_thread_2_workers",
            Rt::TokioCurrent => "tokio_current_thread",
            Rt::Smol => "smol_executor_2_threads",
        }
    }

    /// Run `work` to completion on a fresh runtime of this kind, giving it
    /// the Diorama runtime to build its Lens on.
    fn run<F, Fut, T>(self, work: F) -> T
    where
        F: FnOnce(Arc<dyn Runtime>) -> Fut,
        Fut: Future<Output = T>,
    {
        match self {
            Rt::TokioMulti | Rt::TokioCurrent => {
                let rt = match self {
                    Rt::TokioMulti => tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build(),
                    _ => tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build(),
                }
                .expect("a tokio runtime");
                rt.block_on(async { work(TokioRuntime::current().arc()).await })
            }
            Rt::Smol => {
                let smol_threads = SmolThreads::start(2);
                smol::block_on(work(smol_threads.runtime().arc()))
            }
        }
    }
}

struct RunResult {
    rows_per_s: f64,
    total_ms: f64,
    chunk_median_ms: f64,
    chunk_max_ms: f64,
    dispatch_ms: f64,
    push_ms: f64,
    commit_ms: f64,
    push_rows_per_s: f64,
}

type Slots = Arc<Mutex<Vec<Option<(String, Record)>>>>;
type Spans = Arc<Mutex<Vec<(usize, Instant, Instant)>>>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("peer_chunk_push: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = Args::from_env();
    if !args.has("chunk-push") {
        return Err(
            "usage: peer_chunk_push chunk-push [--runs 3] [--rows 100000] [--chunk 1000] \
             [--debounce-ms 0] [--runtime tokio|tokio-current|smol] [--backends memory,sled]"
                .into(),
        );
    }
    let runs = args.usize_or("--runs", 3)?;
    let rows = args.usize_or("--rows", 100_000)?;
    let chunk = args.usize_or("--chunk", 1_000)?.max(1);
    let debounce = Duration::from_millis(args.usize_or("--debounce-ms", 0)? as u64);
    let rt = Rt::parse(args.value("--runtime").unwrap_or("tokio"))?;
    let backends = args
        .value("--backends")
        .unwrap_or("memory,sled")
        .split(',')
        .map(|b| match b {
            "memory" => Ok(Backend::Memory),
            "sled" => Ok(Backend::Sled),
            other => Err(format!("--backends takes memory and sled, got {other:?}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    emit_machine("chunk-push", rt.label());
    note(format!(
        "rows={rows} chunk={chunk} viewport_debounce_ms={} refresh_on_open=false",
        debounce.as_millis()
    ));
    for backend in backends {
        let mut figures: [Vec<f64>; 7] = Default::default();
        for run in 1..=runs {
            let r = rt.run(|runtime| one(runtime, backend, rows, chunk, debounce))?;
            note(format!(
                "backend={} run={run} rows_per_s={:.0} total_ms={:.1} chunk_ms_median={:.3} \
                 chunk_ms_max={:.3} dispatch_ms={:.4} push_ms={:.3} commit_ms={:.3} \
                 push_only_rows_per_s={:.0}",
                backend.name(),
                r.rows_per_s,
                r.total_ms,
                r.chunk_median_ms,
                r.chunk_max_ms,
                r.dispatch_ms,
                r.push_ms,
                r.commit_ms,
                r.push_rows_per_s
            ));
            for (figure, value) in figures.iter_mut().zip([
                r.rows_per_s,
                r.chunk_median_ms,
                r.total_ms,
                r.dispatch_ms,
                r.push_ms,
                r.commit_ms,
                r.push_rows_per_s,
            ]) {
                figure.push(value);
            }
        }
        let b = backend.name();
        let names = [
            ("rows_per_s", "rows/s"),
            ("chunk_latency", "ms"),
            ("total", "ms"),
            ("chunk_phase_dispatch", "ms"),
            ("chunk_phase_push", "ms"),
            ("chunk_phase_commit", "ms"),
            ("push_only_rows_per_s", "rows/s"),
        ];
        for ((name, unit), values) in names.iter().zip(&figures) {
            emit_stats(&format!("chunk_push.{b}.{name}"), values, unit);
        }
    }
    Ok(())
}

async fn one(
    runtime: Arc<dyn Runtime>,
    backend: Backend,
    rows: usize,
    chunk: usize,
    debounce: Duration,
) -> Result<RunResult, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let cache: Arc<dyn CacheBackend> = match backend {
        Backend::Memory => Arc::new(MemoryBackend::new()),
        Backend::Sled => SledBackend::builder(dir.path().join("chunk-push.sled"))
            .open()
            .map_err(|e| format!("open sled: {e}"))?
            .arc(),
    };
    // Every row is built before the clock; the callback moves them out.
    let slots: Slots = Arc::new(Mutex::new(
        (0..rows).map(|i| Some((row_id(i), record(i)))).collect(),
    ));
    let spans: Spans = Arc::default();
    let lens = {
        let (slots, spans) = (slots.clone(), spans.clone());
        Lens::builder()
            .cache_source(cache)
            .runtime(runtime.clone())
            .refresh_on_open(false)
            .viewport_debounce(debounce)
            .on_load_chunk(move |_dio, range: Range<usize>, _query, sink| {
                let (slots, spans) = (slots.clone(), spans.clone());
                async move {
                    let started = Instant::now();
                    sink.set_total(rows)?;
                    // Moved out (built again only if a window were asked
                    // twice, which a strictly sequential scroll never does).
                    let batch: Vec<(usize, (String, Record))> = {
                        let mut slots = slots.lock().unwrap();
                        range
                            .clone()
                            .map(|i| {
                                let row = slots.get_mut(i).and_then(Option::take);
                                (i, row.unwrap_or_else(|| (row_id(i), record(i))))
                            })
                            .collect()
                    };
                    for (i, (id, record)) in batch {
                        sink.push(i, id, record)?;
                    }
                    spans
                        .lock()
                        .unwrap()
                        .push((range.start, started, Instant::now()));
                    Ok(())
                }
            })
            .build()
            .map_err(|e| format!("build the lens: {e}"))?
    };
    let dio = lens
        .make_dio(Vista::new(MemoryVista::new("products")))
        .await
        .map_err(|e| format!("make the dio: {e}"))?;
    let view = dio
        .table_scenery()
        .page_size(chunk)
        .retain_rows(rows)
        .open()
        .await
        .map_err(|e| format!("open the scenery: {e}"))?;
    let mut bus = dio.subscribe_events();

    let mut marks = Vec::with_capacity(rows.div_ceil(chunk));
    let t0 = Instant::now();
    let mut start = 0;
    while start < rows {
        let window = start..(start + chunk).min(rows);
        let set = Instant::now();
        view.set_viewport(window.clone());
        wait_range_loaded(&*runtime, &mut bus, &view, &window).await?;
        marks.push((start, set, Instant::now()));
        start += chunk;
    }
    let total = t0.elapsed();

    let spans = spans.lock().unwrap().clone();
    let (mut per_chunk, mut dispatch, mut push, mut commit) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut push_total = Duration::ZERO;
    for (s, set, landed) in &marks {
        per_chunk.push(ms(*landed - *set));
        if let Some((_, entered, returned)) = spans.iter().rev().find(|(w, _, _)| w == s) {
            dispatch.push(ms(entered.saturating_duration_since(*set)));
            push.push(ms(*returned - *entered));
            commit.push(ms(landed.saturating_duration_since(*returned)));
            push_total += *returned - *entered;
        }
    }

    if view.row_count() != rows {
        return Err(format!("the view counts {} rows", view.row_count()));
    }
    if let Some(missing) = (0..rows).find(|&i| view.row(i).is_none()) {
        return Err(format!("row {missing} is not shown"));
    }
    let cached = dio.cache().count().map_err(|e| format!("count: {e}"))?;
    if cached != rows {
        return Err(format!("the cache holds {cached} rows, not {rows}"));
    }
    drop(view);
    drop(dio);
    drop(lens);
    Ok(RunResult {
        rows_per_s: rows as f64 / total.as_secs_f64(),
        total_ms: ms(total),
        chunk_median_ms: median(&per_chunk),
        chunk_max_ms: per_chunk.iter().cloned().fold(0.0, f64::max),
        dispatch_ms: median(&dispatch),
        push_ms: median(&push),
        commit_ms: median(&commit),
        push_rows_per_s: rows as f64 / push_total.as_secs_f64(),
    })
}

/// Wait for this scenery's `RangeLoaded` of `window`; a lagged bus falls
/// back to checking the view. Gives up after two minutes.
async fn wait_range_loaded(
    runtime: &dyn Runtime,
    bus: &mut BroadcastReceiver<DioEvent>,
    view: &TableScenery,
    window: &Range<usize>,
) -> Result<(), String> {
    let scenery = view.id();
    let wait = async {
        loop {
            match bus.recv().await {
                Ok(DioEvent::RangeLoaded { scenery: s, range })
                    if s == scenery && range.start == window.start =>
                {
                    return Ok(());
                }
                Ok(DioEvent::LoadFailed { range, error, .. }) => {
                    return Err(format!("chunk {range:?} failed: {error}"));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if window.clone().all(|i| view.row(i).is_some()) {
                        return Ok(());
                    }
                }
                Err(RecvError::Closed) => return Err("the event bus closed".into()),
            }
        }
    };
    let timeout = async {
        runtime.sleep(Duration::from_secs(120)).await;
        Err(format!("chunk {window:?} never landed"))
    };
    future::or(wait, timeout).await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
