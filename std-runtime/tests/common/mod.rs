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

/// `payload` as the sled backend stores it under tree `key`: a CRC-32 of
/// key and payload (big-endian) in front. Lets tests write entries that
/// pass the checksum but are otherwise wrong.
pub fn sealed(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(payload);
    let mut stored = hasher.finalize().to_be_bytes().to_vec();
    stored.extend_from_slice(payload);
    stored
}

/// Copy the directory tree at `from` to `to` (a cache, to damage a copy).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Invert `len` bytes of the file at `path` from `offset` (clipped to the
/// file's end).
pub fn flip_bytes(path: &std::path::Path, offset: usize, len: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let end = (offset + len).min(bytes.len());
    for byte in &mut bytes[offset.min(end)..end] {
        *byte ^= 0xff;
    }
    std::fs::write(path, bytes).unwrap();
}
