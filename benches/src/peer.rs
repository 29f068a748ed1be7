//! The peer-bench data set and output format (`../shared/peer-bench/README.md`),
//! shared by the bench binaries that re-implement its workloads.
//!
//! Row `i` is a pure function of `i` (six fields, `id` zero-padded to 7
//! digits so byte order is numeric order), and every figure is printed as
//! `name=<dotted.name> value=<v> unit=<u>` with `#` lines as human detail,
//! so the harness's `compare.py` tables Diorama beside upstream.

use diorama_core::cache::CachedRow;
use diorama_core::{Dio, Record};

/// The 12 categories, `CATEGORIES[i % 12]`.
pub const CATEGORIES: [&str; 12] = [
    "beverages",
    "bakery",
    "dairy",
    "produce",
    "frozen",
    "pantry",
    "snacks",
    "household",
    "personal-care",
    "pet",
    "baby",
    "outdoor",
];

/// The id (and row key) of row `i`: `i` zero-padded to 7 digits.
pub fn id(i: usize) -> String {
    format!("{i:07}")
}

/// `updated_at` of row `i`: one second per row from 2026-01-01T00:00:00Z
/// on a 12 × 28-day calendar.
pub fn stamp(i: usize) -> String {
    let s = i as u64;
    let (day, rem) = (s / 86_400, s % 86_400);
    let (month, dom) = (1 + (day / 28) % 12, 1 + day % 28);
    format!(
        "2026-{month:02}-{dom:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Row `i` of the `products` table.
pub fn record(i: usize) -> Record {
    let mut r = Record::new();
    r.insert("id", id(i));
    r.insert("name", format!("Product {i}"));
    r.insert("category", CATEGORIES[i % CATEGORIES.len()]);
    r.insert("price", ((i * 7919) % 100_000) as f64 / 100.0 + 0.01);
    r.insert("stock", ((i * 37) % 1000) as i64);
    r.insert("updated_at", stamp(i));
    r
}

/// One machine-readable figure line.
pub fn emit(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("name={name} value={value} unit={unit}");
}

/// Human-readable detail (parsers skip `#` lines).
pub fn note(msg: impl std::fmt::Display) {
    println!("# {msg}");
}

/// Three significant decimals, no exponent (the harness's format).
pub fn fmt(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `<name>.min`, `.median` and `.max` over one value per run, and a `#`
/// line with every run.
pub fn emit_stats(name: &str, values: &[f64], unit: &str) {
    if values.is_empty() {
        return;
    }
    let runs: Vec<String> = values.iter().map(|v| fmt(*v)).collect();
    note(format!("{name} runs=[{}] unit={unit}", runs.join(",")));
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    emit(&format!("{name}.min"), fmt(v[0]), unit);
    emit(&format!("{name}.median"), fmt(median(&v)), unit);
    emit(&format!("{name}.max"), fmt(v[v.len() - 1]), unit);
}

/// The workload and machine lines every workload prints first: nproc,
/// CPU model, memory, the 1-minute load at start, the library and runtime.
pub fn emit_machine(workload: &str, runtime: &str) {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().replace(char::is_whitespace, "_"))
        .unwrap_or_else(|| "unknown".to_string());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "nan".to_string());
    emit("workload", workload, "text");
    emit("machine.nproc", nproc, "count");
    emit("machine.cpu_model", model, "text");
    emit("machine.mem_total", mem_kb, "kB");
    emit("machine.loadavg_1m_at_start", load, "load");
    emit("lib.diorama", env!("CARGO_PKG_VERSION"), "version");
    emit("runtime", runtime, "text");
}

/// `--key value` options of a workload's command line.
#[derive(Debug)]
pub struct Args(pub Vec<String>);

impl Args {
    /// The process's arguments after the program name.
    pub fn from_env() -> Self {
        Args(std::env::args().skip(1).collect())
    }

    /// Whether `word` appears (a subcommand or a flag).
    pub fn has(&self, word: &str) -> bool {
        self.0.iter().any(|a| a == word)
    }

    /// The value after `key`, if given.
    pub fn value(&self, key: &str) -> Option<&str> {
        let at = self.0.iter().position(|a| a == key)?;
        self.0.get(at + 1).map(String::as_str)
    }

    /// The number after `key` (underscores allowed), or `default`.
    ///
    /// # Errors
    /// A value that is not a number, naming the option.
    pub fn usize_or(&self, key: &str, default: usize) -> Result<usize, String> {
        match self.value(key) {
            Some(v) => v
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{key} wants a number, got {v:?}")),
            None => Ok(default),
        }
    }
}

impl Args {
    /// The comma-separated numbers after `key` (underscores allowed), or
    /// `default`.
    ///
    /// # Errors
    /// A value that is not a list of numbers, naming the option.
    pub fn list_or(&self, key: &str, default: &[usize]) -> Result<Vec<usize>, String> {
        match self.value(key) {
            Some(v) => v
                .split(',')
                .map(|x| {
                    x.replace('_', "")
                        .parse()
                        .map_err(|_| format!("{key} wants numbers, got {v:?}"))
                })
                .collect(),
            None => Ok(default.to_vec()),
        }
    }
}

/// The eager loader of the workloads (`LensBuilder::on_start`): the
/// whole master copied into the cache in one batch.
///
/// # Errors
/// The master's or the cache's error.
pub async fn eager_copy(dio: Dio) -> diorama_core::Result<()> {
    let rows = dio.master().list().await?;
    dio.cache().insert_batch(
        rows.into_iter()
            .map(|(id, r)| (id, CachedRow::complete(r, None)))
            .collect(),
    )
}

/// A `/proc/self/status` field in kB (`VmHWM`: the peak resident set).
pub fn status_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// A tokio multi-thread runtime with 2 workers, timers on: what upstream's
/// workloads run on (the measuring code in `block_on` on the main thread).
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A smol executor run by `threads` OS threads (the smol counterpart of
/// [`tokio_runtime`]'s two workers); the threads stop and are joined when
/// it is dropped.
pub struct SmolThreads {
    executor: std::sync::Arc<smol::Executor<'static>>,
    stop: Option<smol::channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl SmolThreads {
    /// Start `threads` threads running a new executor.
    pub fn start(threads: usize) -> Self {
        let executor = std::sync::Arc::new(smol::Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let threads = (0..threads)
            .map(|_| {
                let (executor, stopped) = (executor.clone(), stopped.clone());
                std::thread::spawn(move || {
                    smol::block_on(executor.run(async move {
                        let _ = stopped.recv().await;
                    }))
                })
            })
            .collect();
        SmolThreads {
            executor,
            stop: Some(stop),
            threads,
        }
    }

    /// A Diorama runtime spawning onto this executor.
    pub fn runtime(&self) -> diorama_std::SmolRuntime {
        diorama_std::SmolRuntime::with_executor(self.executor.clone())
    }
}

impl std::fmt::Debug for SmolThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolThreads")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl Drop for SmolThreads {
    fn drop(&mut self) {
        // Closing the channel ends every thread's `run`.
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diorama_core::Value;

    #[test]
    fn rows_follow_the_published_data_set() {
        let r = record(42);
        assert_eq!(r.get("id"), Some(&Value::from("0000042")));
        assert_eq!(r.get("category"), Some(&Value::from("snacks")));
        assert_eq!(r.get("stock"), Some(&Value::from((42 * 37 % 1000) as i64)));
        assert_eq!(stamp(86_400 * 28 + 3661), "2026-02-01T01:01:01Z");
    }

    #[test]
    fn bad_numbers_are_errors() {
        let args = Args(vec!["--runs".into(), "x".into()]);
        assert!(args.usize_or("--runs", 3).is_err());
        assert_eq!(args.usize_or("--rows", 7), Ok(7));
        let sizes = Args(vec!["--sizes".into(), "10_000,1000".into()]);
        assert_eq!(sizes.list_or("--sizes", &[1]), Ok(vec![10_000, 1000]));
        assert!(args.list_or("--runs", &[1]).is_err());
    }
}
