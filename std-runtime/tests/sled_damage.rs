//! Every way a sled cache can fail to open has a way out: `open_or_rebuild`
//! moves an unreadable cache aside and starts empty, saying what it moved
//! and why; what it cannot repair is an error naming the directory.
//!
//! Each test damages real files the way issue 10 found them damaged and
//! asserts what the user sees: the error or the report's line, the rows.

mod layout;

use std::path::{Path, PathBuf};

use diorama_core::cache::{CacheBackend, CacheBatch, CachedRow};
use diorama_core::{ErrorKind, record};
use diorama_std::SledBackend;

use layout::{copy_dir, flip_bytes, open_raw, sealed};

const ROWS: usize = 200;

/// A cache used twice: filled, closed, reopened (sled then writes a
/// snapshot and a second segment header), one row rewritten, closed.
fn healthy_cache(path: &Path) {
    {
        let backend = SledBackend::open(path).unwrap();
        let t = backend.open_table("items").unwrap();
        let mut batch = CacheBatch::new();
        for i in 0..ROWS {
            batch.put(
                format!("i{i:04}"),
                CachedRow::complete(record! { "n" => i }, None),
            );
        }
        t.apply(batch).unwrap();
        backend.flush_blocking().unwrap();
    }
    let backend = SledBackend::open(path).unwrap();
    let t = backend.open_table("items").unwrap();
    t.insert_batch(vec![(
        "i0001".into(),
        CachedRow::complete(record! { "n" => -1 }, None),
    )])
    .unwrap();
    backend.flush_blocking().unwrap();
}

/// The `<path>.broken-*` directories next to `path`.
fn moved_aside(path: &Path) -> Vec<PathBuf> {
    let name = format!("{}.broken-", path.file_name().unwrap().to_string_lossy());
    let mut found: Vec<PathBuf> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&name))
        .collect();
    found.sort();
    found
}

/// `open` refuses the damaged cache with a `Corrupt` error that names it
/// and the way out; `open_or_rebuild` moves it aside, starts empty and
/// reports both places and sled's reason. Returns the report's line.
fn assert_moved_aside(path: &Path, reason: &str) -> String {
    let error = SledBackend::open(path).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
    let message = error.message();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains(reason), "{message}");
    assert!(
        message.contains("open_or_rebuild") && message.contains("delete"),
        "{message}"
    );

    let backend = SledBackend::open_or_rebuild(path).unwrap();
    let report = backend.open_report().clone();
    let moved = report.moved_aside.as_ref().expect("moved aside");
    assert_eq!(moved_aside(path), vec![moved.to.clone()]);
    assert!(moved.reason.message().contains(reason), "{}", moved.reason);
    let line = report.to_string();
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert!(line.contains(&moved.to.display().to_string()), "{line}");
    assert!(
        line.contains("started empty") && line.contains(reason),
        "{line}"
    );
    // Empty, and usable at once.
    let t = backend.open_table("items").unwrap();
    assert_eq!(t.count().unwrap(), 0);
    t.insert_batch(vec![("new".into(), CachedRow::default())])
        .unwrap();
    assert_eq!(t.count().unwrap(), 1);
    line
}

#[test]
fn one_flipped_byte_in_conf_is_moved_aside_with_sleds_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    healthy_cache(&path);
    // `version: 0.34` becomes `version: 0.24`: sled refuses it as made by
    // another version.
    let conf = std::fs::read(path.join("conf")).unwrap();
    let at = conf.windows(12).position(|w| w == b"version: 0.3").unwrap() + 11;
    let mut conf = conf;
    conf[at] = b'2';
    std::fs::write(path.join("conf"), &conf).unwrap();
    let line = assert_moved_aside(&path, "Unsupported");
    assert!(line.contains("version 0.24"), "{line}");
    // The damaged cache is kept for inspection.
    let aside = &moved_aside(&path)[0];
    assert_eq!(std::fs::read(aside.join("conf")).unwrap(), conf);
}

#[test]
fn header_damage_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    healthy_cache(&path);
    flip_bytes(&path.join("db"), 64, 8);
    assert_moved_aside(&path, "Read corrupted data");
}

#[test]
fn a_cache_of_the_previous_format_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        // What format 1 wrote: a table tree, rows without checksums, no
        // format record.
        let db = open_raw(&path);
        let tree = db.open_tree("diorama-table:items").unwrap();
        tree.insert(b"\x00count", &1u64.to_be_bytes()).unwrap();
        tree.insert(b"\x01a", &[1, 0x83, 0x00, 0xf6, 0xa0][..])
            .unwrap();
        db.flush().unwrap();
    }
    assert_moved_aside(&path, "older cache format (1");
}

#[test]
fn a_cache_of_another_format_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    healthy_cache(&path);
    {
        let db = open_raw(&path);
        db.insert(
            b"diorama:format",
            sealed(b"diorama:format", &4u64.to_be_bytes()),
        )
        .unwrap();
        db.flush().unwrap();
    }
    assert_moved_aside(&path, "cache format 4");
}

#[test]
fn a_damaged_format_record_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    healthy_cache(&path);
    {
        let db = open_raw(&path);
        db.insert(b"diorama:format", &b"\x00\x00\x00\x00junk"[..])
            .unwrap();
        db.flush().unwrap();
    }
    assert_moved_aside(&path, "format record is damaged");
}

#[test]
fn every_single_byte_flip_of_conf_opens_whole_or_is_moved_aside() {
    let base = tempfile::tempdir().unwrap();
    let original = base.path().join("original");
    healthy_cache(&original);
    let len = std::fs::read(original.join("conf")).unwrap().len();
    let (mut whole, mut moved) = (0, 0);
    for at in 0..len {
        let path = base.path().join(format!("c{at}"));
        copy_dir(&original, &path);
        let mut conf = std::fs::read(path.join("conf")).unwrap();
        conf[at] ^= 0x01;
        std::fs::write(path.join("conf"), conf).unwrap();
        let backend = SledBackend::open_or_rebuild(&path)
            .unwrap_or_else(|e| panic!("byte {at}: no way out: {e}"));
        let count = backend.open_table("items").unwrap().count().unwrap();
        if backend.open_report().moved_aside.is_some() {
            assert_eq!(count, 0, "byte {at}");
            moved += 1;
        } else {
            // sled ignores some bytes (its own checksum, it seems): then
            // everything is there.
            assert_eq!(count, ROWS, "byte {at}: {}", backend.open_report());
            whole += 1;
        }
    }
    println!("conf byte flips: {whole} opened whole, {moved} moved aside");
    assert!(moved > len / 2, "{moved} of {len}");
}

#[test]
fn failures_it_cannot_repair_name_the_directory_and_move_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the cache directory should be: the user's, not ours.
    let path = dir.path().join("cache");
    std::fs::write(&path, b"user data").unwrap();
    let error = SledBackend::open_or_rebuild(&path).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    let message = error.message();
    assert!(
        message.contains(&format!("cannot open the cache at {}", path.display())),
        "{message}"
    );
    assert!(message.contains("deleting it"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), b"user data");
    assert!(moved_aside(&path).is_empty());

    // In use by another backend: nothing to delete, say who holds it.
    let path = dir.path().join("busy");
    let _first = SledBackend::open(&path).unwrap();
    let error = SledBackend::open_or_rebuild(&path).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    assert!(error.message().contains("in use"), "{error}");
    assert!(
        error.message().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(moved_aside(&path).is_empty());
}
