//! Helpers shared by this crate's integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Mutex, Once};

/// Every log record at warn level or above, as `"LEVEL message"`.
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}", record.level(), record.args());
            CAPTURED.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

/// Install the capturing logger (once per test binary).
pub fn capture_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Warn);
    });
}

/// Captured lines containing every one of `needles`. Tests run in parallel
/// in one binary, so each test looks only for lines naming its own subject.
pub fn logged(needles: &[&str]) -> Vec<String> {
    CAPTURED
        .lock()
        .unwrap()
        .iter()
        .filter(|line| needles.iter().all(|n| line.contains(n)))
        .cloned()
        .collect()
}

/// Sets the flag when dropped: proves a future was dropped.
pub struct DropFlag(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
