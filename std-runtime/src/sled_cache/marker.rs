//! The flush marker: a small file beside sled's own files that records the
//! last flush the cache completed, so a reopen can tell whether sled came
//! back with everything it had promised.
//!
//! sled recovers the longest prefix of its log it can read; after damage in
//! the middle of its `db` file that prefix can end before the last flush, and
//! sled opens without complaint. The marker lives outside sled's log, so that
//! loss cannot take it along: a store whose own flush counter is behind the
//! marker rolled back.
//!
//! File: `<cache dir>/diorama-flush.marker`, 21 bytes:
//!
//! | bytes | content                                      |
//! |-------|----------------------------------------------|
//! | 0..8  | `DIOFLUSH`                                   |
//! | 8     | marker format, `1`                           |
//! | 9..17 | the last completed flush, `u64` big-endian   |
//! | 17..21| CRC-32 of bytes 0..17, big-endian            |
//!
//! Created atomically: the first content goes to `diorama-flush.marker.tmp`,
//! which is synced, renamed over the marker, and the directory synced, so
//! after a crash the marker is either absent or whole.
//!
//! Every flush round then rewrites it in place ([`InPlace`]): its 21 bytes
//! at offset 0 and one `fdatasync`. The file keeps its length, so the sync
//! writes no metadata: one device write and cache flush per round, where
//! the create-rename-sync dance costs a new inode, a journal commit and two
//! syncs. The bytes lie in the file's first sector, which a disk writes
//! whole (the guarantee PostgreSQL's `pg_control` relies on the same way),
//! so after a crash the marker is the old or the new one. Were it ever torn
//! anyway, its checksum fails and the reopen treats it like a missing
//! marker: every row is revalidated (the safe side).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

/// The marker's file name inside the cache directory.
pub(crate) const MARKER_FILE: &str = "diorama-flush.marker";
/// Where a new marker is written before it replaces the old one.
const MARKER_TMP: &str = "diorama-flush.marker.tmp";

const MAGIC: &[u8; 8] = b"DIOFLUSH";
const FORMAT: u8 = 1;
const LEN: usize = 21;

/// What the marker file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MarkerRead {
    /// No marker file.
    Absent,
    /// The last completed flush.
    Flush(u64),
    /// The file exists but cannot be read or is damaged (why).
    Damaged(String),
}

/// The marker's bytes for `flush`.
pub(crate) fn encode(flush: u64) -> [u8; LEN] {
    let mut bytes = [0u8; LEN];
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8] = FORMAT;
    bytes[9..17].copy_from_slice(&flush.to_be_bytes());
    let crc = crc32fast::hash(&bytes[..17]);
    bytes[17..].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Parse a marker file's contents.
pub(crate) fn decode(bytes: &[u8]) -> MarkerRead {
    let Ok(bytes) = <&[u8; LEN]>::try_from(bytes) else {
        return MarkerRead::Damaged(format!("{} bytes instead of {LEN}", bytes.len()));
    };
    if &bytes[..8] != MAGIC {
        return MarkerRead::Damaged("not a flush marker".into());
    }
    let crc = u32::from_be_bytes([bytes[17], bytes[18], bytes[19], bytes[20]]);
    if crc != crc32fast::hash(&bytes[..17]) {
        return MarkerRead::Damaged("checksum mismatch".into());
    }
    if bytes[8] != FORMAT {
        return MarkerRead::Damaged(format!("unknown marker format {}", bytes[8]));
    }
    let mut flush = [0u8; 8];
    flush.copy_from_slice(&bytes[9..17]);
    MarkerRead::Flush(u64::from_be_bytes(flush))
}

/// Read the marker of the cache in `dir`. Never fails: a file that cannot
/// be read is reported as damaged, which the caller treats as "the last
/// flush is unknown".
pub(crate) fn read(dir: &Path) -> MarkerRead {
    match fs::read(dir.join(MARKER_FILE)) {
        Ok(bytes) => decode(&bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => MarkerRead::Absent,
        Err(e) => MarkerRead::Damaged(format!("cannot read it: {e}")),
    }
}

/// Record `flush` as the last completed flush of the cache in `dir`:
/// write a temporary file, sync it, rename it over the marker, sync the
/// directory (three steps the disk must confirm; see the module docs).
pub(crate) fn write(dir: &Path, flush: u64) -> io::Result<()> {
    let tmp = dir.join(MARKER_TMP);
    let mut file = File::create(&tmp)?;
    file.write_all(&encode(flush))?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, dir.join(MARKER_FILE))?;
    sync_dir(dir)
}

/// The marker file of a cache, held open to be rewritten in place by each
/// flush round (see the module docs).
#[derive(Debug)]
pub(crate) struct InPlace {
    file: File,
}

impl InPlace {
    /// Open the marker in `dir` for rewriting, creating it (atomically, as
    /// [`write`] does) with `flush` when it is missing.
    pub(crate) fn open(dir: &Path, flush: u64) -> io::Result<Self> {
        let path = dir.join(MARKER_FILE);
        let file = match OpenOptions::new().write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write(dir, flush)?;
                OpenOptions::new().write(true).open(&path)?
            }
            Err(e) => return Err(e),
        };
        // A marker of another length (damaged, or a future format) is
        // replaced whole once, so that in-place rewrites never change it.
        if file.metadata()?.len() != LEN as u64 {
            drop(file);
            write(dir, flush)?;
            return Ok(InPlace {
                file: OpenOptions::new().write(true).open(&path)?,
            });
        }
        Ok(InPlace { file })
    }

    /// Record `flush` as the last completed flush: the marker's bytes at
    /// offset 0, then `fdatasync`.
    pub(crate) fn record(&mut self, flush: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&encode(flush))?;
        self.file.sync_data()
    }
}

/// Make a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file to sync it; its rename is
/// journaled by NTFS itself.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_marker_reads_back_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Absent);
        write(dir.path(), 7).unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Flush(7));
        write(dir.path(), u64::MAX).unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Flush(u64::MAX));
        assert!(!dir.path().join(MARKER_TMP).exists());
    }

    #[test]
    fn an_in_place_marker_is_created_when_missing_and_rewritten_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut marker = InPlace::open(dir.path(), 3).unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Flush(3));
        marker.record(4).unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Flush(4));
        marker.record(u64::MAX).unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Flush(u64::MAX));
        // A marker of the wrong length is replaced whole at open.
        fs::write(dir.path().join(MARKER_FILE), [0u8; 40]).unwrap();
        let mut marker = InPlace::open(dir.path(), 9).unwrap();
        assert_eq!(read(dir.path()), MarkerRead::Flush(9));
        marker.record(10).unwrap();
        assert_eq!(fs::read(dir.path().join(MARKER_FILE)).unwrap(), encode(10));
        assert!(!dir.path().join(MARKER_TMP).exists());
    }

    #[test]
    fn any_damage_reads_as_damaged() {
        let good = encode(42);
        assert_eq!(decode(&good), MarkerRead::Flush(42));
        for byte in 0..LEN {
            let mut bad = good;
            bad[byte] ^= 0x10;
            assert!(
                matches!(decode(&bad), MarkerRead::Damaged(_)),
                "byte {byte}"
            );
        }
        assert!(matches!(decode(&good[..20]), MarkerRead::Damaged(_)));
        assert!(matches!(decode(b""), MarkerRead::Damaged(_)));
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(MARKER_FILE)).unwrap();
        assert!(
            matches!(read(dir.path()), MarkerRead::Damaged(why) if why.contains("cannot read"))
        );
    }
}
