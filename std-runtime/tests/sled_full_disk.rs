//! A full disk under the sled cache: writes fail with an error that says
//! so, never a panic, and what the cache already held stays readable.
//!
//! Runs on a real 2 MiB tmpfs (`mount -t tmpfs -o size=2m`), which needs
//! root; where mounting is not permitted the test prints one line and
//! passes.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diorama_core::cache::{CacheBackend, CacheBatch, CachedRow, RowState};
use diorama_core::{ErrorKind, Value, record};
use diorama_std::SledBackend;

/// A mounted tmpfs, unmounted (lazily, so open files cannot block it) when
/// dropped, the test's panics included.
struct SmallDisk {
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&mount)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk { mount, _dir: dir })
    }

    fn path(&self) -> &Path {
        &self.mount
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

/// The caller is told the disk is full, as a failure.
fn assert_full(error: &diorama_core::Error) {
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    assert!(
        error.message().contains("No space left on device"),
        "{error}"
    );
}

fn batch(round: usize) -> CacheBatch {
    let mut batch = CacheBatch::new();
    for i in 0..50 {
        batch.put(
            format!("r{round:04}-{i:02}"),
            CachedRow::complete(record! { "text" => "x".repeat(200), "i" => i }, None),
        );
    }
    batch
}

#[test]
fn a_full_disk_is_an_error_the_caller_sees_and_cached_rows_stay_readable() {
    let Some(disk) = SmallDisk::mount("2m") else {
        println!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let path = disk.path().join("cache");
    let backend = SledBackend::builder(&path)
        .flush_every(None)
        .open()
        .unwrap();
    let t = backend.open_table("items").unwrap();

    // Page rows in, flushing now and then, until the disk says no.
    let mut failure = None;
    let mut stored = 0;
    // Batches applied since the last flush that succeeded.
    let mut unflushed = 0;
    for round in 0..10_000 {
        if let Err(error) = t.apply(batch(round)) {
            failure = Some(error);
            break;
        }
        stored = round + 1;
        unflushed += 1;
        if round % 5 == 4 {
            if let Err(error) = backend.flush_blocking() {
                failure = Some(error);
                break;
            }
            unflushed = 0;
        }
    }
    assert_full(&failure.expect("a 2 MiB disk fills"));
    assert!(stored > 0, "something fit before the disk filled");

    // What was stored before still reads, whole.
    let first = t
        .get("r0000-00")
        .unwrap()
        .expect("stored before the disk filled");
    assert_eq!(first.state, RowState::Complete);
    assert_eq!(first.record.get("i"), Some(&Value::from(0)));

    // Further writes keep failing with the same clear error, and nothing
    // panics.
    let again = t.apply(batch(99_999)).unwrap_err();
    assert_full(&again);
    // A flush fails too when it has something to make durable; with
    // nothing applied since the last good flush it truthfully succeeds.
    match futures_lite::future::block_on(t.flush()) {
        Ok(()) => assert_eq!(unflushed, 0, "a flush of pending writes cannot succeed"),
        Err(error) => assert_full(&error),
    }
    // Once sled has hit the error in its own writer it refuses reads too,
    // with the same error; before that they answer. Either way a read never
    // shows a write that failed, nor a wrong value.
    for _ in 0..3 {
        match t.get("r0000-00") {
            Ok(row) => assert_eq!(row.map(|r| r.record), Some(first.record.clone())),
            Err(error) => assert_full(&error),
        }
        match t.get("r99999-00") {
            Ok(row) => assert!(row.is_none(), "a failed write is visible"),
            Err(error) => assert_full(&error),
        }
    }
    drop((t, backend));

    // Reopening on the still-full disk either works or says the disk is
    // full and names the directory that can be deleted.
    match SledBackend::open_or_rebuild(&path) {
        Ok(backend) => {
            let t = backend.open_table("items").unwrap();
            if let Some(row) = t.get("r0000-00").unwrap() {
                assert_eq!(row.record.get("i"), Some(&Value::from(0)));
            }
        }
        Err(error) => {
            let message = error.message();
            assert_eq!(error.kind(), ErrorKind::Failed, "{message}");
            assert!(message.contains("disk holding it is full"), "{message}");
            assert!(
                message.contains(&format!("delete {}", path.display())),
                "{message}"
            );
        }
    }
}
