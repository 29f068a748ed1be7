//! The sled backend's on-disk layout, for tests that damage or forge what
//! it stores: checksummed values, copies of a cache directory, flipped
//! bytes.
#![allow(dead_code, unreachable_pub)]

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

/// A block of rows as the sled backend stores it under row key `key`
/// (`0x01 ‖ first id`): format byte 3, the entry count, then per entry the
/// id and the row payload, each behind its length (u32 little-endian), all
/// sealed. Lets tests forge blocks whose rows are wrong.
pub fn block(key: &[u8], entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut payload = vec![3u8];
    payload.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (id, row) in entries {
        payload.extend_from_slice(&(id.len() as u32).to_le_bytes());
        payload.extend_from_slice(id);
        payload.extend_from_slice(&(row.len() as u32).to_le_bytes());
        payload.extend_from_slice(row);
    }
    sealed(key, &payload)
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

/// `sled::open(path)` straight after a backend on `path` was dropped:
/// sled releases the directory's lock from its background threads as they
/// wind down, so a lock still held is waited for (up to 10 s) — as
/// `SledBackend::open` does — rather than failing the test.
pub fn open_raw(path: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(sled::Error::Io(io))
                if io.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(error) => panic!("sled::open({}): {error}", path.display()),
        }
    }
}
