//! What every peer-bench workload shares (`../shared/peer-bench/README.md`):
//! the `products` data set and the `name=… value=… unit=…` output lines, so
//! `compare.py` tables Diorama's figures beside upstream's.

#![allow(dead_code)] // each workload binary uses part of it

use diorama_core::Record;

const CATEGORIES: [&str; 12] = [
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

/// The id of row `i`: zero-padded to 7 digits, so byte order is numeric order.
pub(crate) fn id(i: usize) -> String {
    format!("{i:07}")
}

/// `updated_at` of row `i`: one second per row from 2026-01-01T00:00:00Z on
/// a 12×28-day calendar.
fn stamp(i: usize) -> String {
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

/// Row `i` of the data set (six fields, ≈ 105 bytes as CBOR).
pub(crate) fn record(i: usize) -> Record {
    let mut r = Record::new();
    r.insert("id", id(i));
    r.insert("name", format!("Product {i}"));
    r.insert("category", CATEGORIES[i % CATEGORIES.len()]);
    r.insert("price", ((i * 7919) % 100_000) as f64 / 100.0 + 0.01);
    r.insert("stock", ((i * 37) % 1000) as i64);
    r.insert("updated_at", stamp(i));
    r
}

/// One figure line.
pub(crate) fn emit(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("name={name} value={value} unit={unit}");
}

/// A human-readable line (parsers skip it).
pub(crate) fn note(msg: impl std::fmt::Display) {
    println!("# {msg}");
}

/// Three significant decimals, no exponent (the harness's format).
pub(crate) fn fmt(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn median(values: &[f64]) -> f64 {
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

/// `<name>.min/.median/.max` over one value per run, and a `#` line of all.
pub(crate) fn emit_stats(name: &str, values: &[f64], unit: &str) {
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

/// The machine lines every workload prints first.
pub(crate) fn emit_machine(workload: &str) {
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
    let mem_kb = proc_kb("/proc/meminfo", "MemTotal").unwrap_or(0);
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
    emit("runtime", "tokio_multi_thread_2_workers", "text");
}

fn proc_kb(file: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// A `/proc/self/status` field in kB (`VmHWM`: the peak resident set).
pub(crate) fn status_kb(field: &str) -> Option<u64> {
    proc_kb("/proc/self/status", field)
}

/// A tokio multi-thread runtime with 2 workers, timers on: what every
/// workload runs on (the measuring code in `block_on` on the main thread).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `--key value` / `--flag` arguments.
pub(crate) struct Args(pub(crate) Vec<String>);

impl Args {
    /// The value after `key`.
    pub(crate) fn value(&self, key: &str) -> Option<&str> {
        let at = self.0.iter().position(|a| a == key)?;
        self.0.get(at + 1).map(String::as_str)
    }

    /// Whether `key` was given.
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.0.iter().any(|a| a == key)
    }

    /// The number after `key`, or `default`.
    pub(crate) fn usize_or(&self, key: &str, default: usize) -> usize {
        self.value(key)
            .map(|v| v.replace('_', "").parse().expect("a number"))
            .unwrap_or(default)
    }

    /// The comma-separated numbers after `key`, or `default`.
    pub(crate) fn list_or(&self, key: &str, default: &[usize]) -> Vec<usize> {
        match self.value(key) {
            Some(v) => v
                .split(',')
                .map(|x| x.replace('_', "").parse().expect("numbers"))
                .collect(),
            None => default.to_vec(),
        }
    }
}
