//! A capturing `log` logger, so a check can see what a runtime reported
//! (the std runtimes log a panicking task at error level).

use std::sync::{Mutex, Once, PoisonError};

/// Every record at warn level or above, as `"LEVEL message"`.
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}", record.level(), record.args());
            CAPTURED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    }

    fn flush(&self) {}
}

/// Install the capturing logger; later calls do nothing.
///
/// # Panics
/// When another logger is installed in this test binary: records would go
/// there, and a check reading [`logged`] would fail for the wrong reason.
pub fn capture() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture)
            .expect("diorama_tests::logs::capture: another logger is installed in this binary");
        log::set_max_level(log::LevelFilter::Warn);
    });
}

/// The captured lines (`"LEVEL message"`) containing every one of
/// `needles`. Tests run in parallel in one binary, so each looks only for
/// lines naming its own subject.
pub fn logged(needles: &[&str]) -> Vec<String> {
    CAPTURED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|line| needles.iter().all(|n| line.contains(n)))
        .cloned()
        .collect()
}
