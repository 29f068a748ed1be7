//! The four reproductions of issue 10, run against the `serve` binary as a
//! child process over a SQLite master and a sled cache, each asserting what
//! a client sees against what SQLite (the truth) holds:
//!
//! 1. a PATCH answered 200 (applied) or 202 (durable), then `kill -9`: the
//!    restarted service shows the written price, and SQLite has it;
//! 2. 8 bytes flipped in the middle of sled's `db` file after a PATCH and a
//!    clean stop: never the pre-PATCH price as `fresh`;
//! 3. the cache on a 2 MiB tmpfs filled up: a PATCH is answered 503 and
//!    not sent (the cache cannot make it durable, so a crash could not
//!    replay it), SQLite keeps its price and the next GET shows that price
//!    — never a price SQLite does not have (needs root to mount; prints one
//!    line and passes otherwise);
//! 4. one flipped byte in sled's `conf`: the service starts, says what it
//!    moved aside, and serves the master's rows.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use diorama_std::sqlite::rusqlite::Connection;
use serde_json::{Value as Json, json};

const SERVE: &str = env!("CARGO_BIN_EXE_serve");
const ROWS: usize = 2000;

/// One `serve` child.
struct Serve {
    child: Child,
    base: String,
    agent: ureq::Agent,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start(data: &Path, cache: &Path, extra: &[&str]) -> Serve {
        let mut child = Command::new(SERVE)
            .arg("--data")
            .arg(data)
            .arg("--cache")
            .arg(cache)
            .args(["--rows", &ROWS.to_string(), "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning serve");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("serving http://") {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
                kept.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr,
            Err(_) => panic!(
                "serve did not start: {:?}",
                lines.lock().unwrap().join("\n")
            ),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Serve {
            child,
            base: format!("http://{addr}"),
            agent,
            stderr: lines,
        }
    }

    fn get(&self, path: &str) -> (u16, Json) {
        read(self.agent.get(format!("{}{path}", self.base)).call())
    }

    fn patch(&self, id: &str, price: f64) -> (u16, Json) {
        read(
            self.agent
                .patch(format!("{}/products/{id}", self.base))
                .header("content-type", "application/json")
                .send(json!({ "price": price }).to_string()),
        )
    }

    /// The row as a client reads it once it settled (a replayed write reads
    /// `pending` until the master confirmed it).
    fn settled(&self, id: &str) -> Json {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, row) = self.get(&format!("/products/{id}"));
            assert_eq!(status, 200, "{row}");
            if row["status"] == "fresh" || Instant::now() > deadline {
                return row;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Ctrl-C: queued writes drain and the cache is flushed.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Json) {
    let mut response = response.expect("a response");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Json::Null))
}

/// The sled directory `serve` keeps under `--cache DIR`.
fn sled_dir(cache: &Path) -> PathBuf {
    cache.join(format!("serve-cache-{ROWS}.sled"))
}

fn db_path(data: &Path) -> PathBuf {
    data.join(format!("products-{ROWS}.sqlite"))
}

/// The price SQLite holds for `id`.
fn master_price(data: &Path, id: &str) -> f64 {
    Connection::open(db_path(data))
        .unwrap()
        .query_row("SELECT price FROM products WHERE id = ?", [id], |row| {
            row.get(0)
        })
        .unwrap()
}

fn price(row: &Json) -> f64 {
    row["price"].as_f64().unwrap_or_else(|| panic!("{row}"))
}

#[test]
fn kill_9_after_an_applied_or_durable_write_shows_the_written_price() {
    let dir = tempfile::tempdir().unwrap();
    let (data, cache) = (dir.path().to_path_buf(), dir.path().join("cache"));
    let mut rounds_stale = 0;
    for round in 0..5 {
        let serve = Serve::start(&data, &cache, &[]);
        let id = format!("p{:07}", 501 + round);
        let before = serve.settled(&id);
        std::thread::sleep(Duration::from_millis(200));
        let written = 11.0 + round as f64 / 100.0;
        let (status, row) = serve.patch(&id, written);
        assert_eq!(status, 200, "{row}");
        serve.kill9();
        let serve = Serve::start(&data, &cache, &[]);
        let (status, first) = serve.get(&format!("/products/{id}"));
        assert_eq!(status, 200, "{first}");
        if price(&first) != written {
            rounds_stale += 1;
        }
        assert_ne!(
            (price(&first), first["status"].as_str()),
            (price(&before), Some("fresh")),
            "round {round}: the pre-write price shown as fresh"
        );
        assert_eq!(price(&serve.settled(&id)), written);
        assert_eq!(master_price(&data, &id), written);
        serve.kill9();
    }
    assert_eq!(rounds_stale, 0, "a restart showed another price first");
}

#[test]
fn kill_9_after_202_still_reaches_the_master() {
    let dir = tempfile::tempdir().unwrap();
    let (data, cache) = (dir.path().to_path_buf(), dir.path().join("cache"));
    // A slow master: every PATCH outlasts the write timeout.
    let slow = ["--latency", "2s", "--write-timeout", "50ms"];
    let serve = Serve::start(&data, &cache, &slow);
    let ids: Vec<String> = (0..10).map(|i| format!("p{:07}", 700 + i)).collect();
    for (i, id) in ids.iter().enumerate() {
        let (status, row) = serve.patch(id, 50.0 + i as f64);
        assert_eq!(status, 202, "{row}");
        assert_eq!(row["status"], "pending");
    }
    serve.kill9();
    let serve = Serve::start(&data, &cache, &[]);
    for (i, id) in ids.iter().enumerate() {
        let row = serve.settled(id);
        assert_eq!(price(&row), 50.0 + i as f64, "{id}: {row}");
        assert_eq!(master_price(&data, id), 50.0 + i as f64, "{id}");
    }
    serve.stop();
}

/// Flip `n` bytes of `file` at `offset` (clamped into the file).
fn flip(file: &Path, offset: u64, n: usize) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let len = f.metadata().unwrap().len();
    let at = offset.min(len.saturating_sub(n as u64 + 1));
    let mut bytes = vec![0u8; n];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut bytes).unwrap();
    for b in &mut bytes {
        *b ^= 0xa5;
    }
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&bytes).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn corruption_in_the_middle_of_the_cache_never_serves_the_old_price_as_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let (data, cache) = (dir.path().to_path_buf(), dir.path().join("cache"));
    let id = "p0000501";
    let serve = Serve::start(&data, &cache, &[]);
    let before = price(&serve.settled(id));
    for page in 0..5 {
        let (status, _) = serve.get(&format!("/products?offset={}&limit=100", page * 100));
        assert_eq!(status, 200);
    }
    let (status, _) = serve.patch(id, 11.11);
    assert_eq!(status, 200);
    serve.stop();
    let db = sled_dir(&cache).join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    flip(&db, (len / 2).min(80_000), 8);
    let serve = Serve::start(&data, &cache, &[]);
    let (status, row) = serve.get(&format!("/products/{id}"));
    assert_eq!(status, 200, "{row}");
    assert!(
        !(price(&row) == before && row["status"] == "fresh"),
        "the pre-PATCH price served as fresh: {row}\n{}",
        serve.stderr()
    );
    assert_eq!(price(&serve.settled(id)), master_price(&data, id));
    assert_eq!(master_price(&data, id), 11.11);
    serve.stop();
}

#[test]
fn a_damaged_conf_is_moved_aside_and_the_service_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (data, cache) = (dir.path().to_path_buf(), dir.path().join("cache"));
    let serve = Serve::start(&data, &cache, &[]);
    serve.settled("p0000042");
    serve.stop();
    flip(&sled_dir(&cache).join("conf"), 3, 1);
    let serve = Serve::start(&data, &cache, &[]);
    let said = serve.stderr();
    assert!(said.contains("moved it to"), "{said}");
    let row = serve.settled("p0000042");
    assert_eq!(row["status"], "fresh");
    assert_eq!(price(&row), master_price(&data, "p0000042"));
    serve.stop();
}

#[test]
fn a_cache_that_cannot_be_opened_names_the_directory_to_delete() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let cache = dir.path().join("cache");
    let serve = Serve::start(&data, &cache, &[]);
    // Answered once: its Ctrl-C handler is installed.
    serve.settled("p0000001");
    serve.stop();
    // A file where sled's directory should be: nothing to rebuild.
    std::fs::remove_dir_all(sled_dir(&cache)).unwrap();
    std::fs::write(sled_dir(&cache), b"not a directory").unwrap();
    let output = Command::new(SERVE)
        .arg("--data")
        .arg(&data)
        .arg("--cache")
        .arg(&cache)
        .args(["--rows", &ROWS.to_string(), "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&format!(
            "Deleting the directory {}",
            sled_dir(&cache).display()
        )),
        "{said}"
    );
}

/// A mounted tmpfs, unmounted (lazily) when dropped.
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
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

#[test]
fn on_a_full_disk_a_write_is_refused_and_reads_show_the_master() {
    let Some(disk) = SmallDisk::mount("2m") else {
        eprintln!("skipped: mounting a tmpfs is not permitted here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let cache = disk.mount.join("cache");
    let serve = Serve::start(&data, &cache, &[]);
    for page in 0..(ROWS / 100) {
        let (status, body) = serve.get(&format!("/products?offset={}&limit=100", page * 100));
        assert_eq!(status, 200, "page {page}: {body}");
    }
    // Whatever room is left goes too.
    let _ = std::fs::write(disk.mount.join("filler"), vec![0u8; 4 << 20]);
    for id in ["p0000007", "p0001907"] {
        let before = master_price(&data, id);
        let (status, row) = serve.patch(id, 3.0);
        assert_eq!(status, 503, "{id}: {row}");
        assert!(
            row["error"].as_str().unwrap_or("").contains("not sent"),
            "{row}"
        );
        assert_eq!(master_price(&data, id), before, "{id}: not applied");
        let (status, row) = serve.get(&format!("/products/{id}"));
        assert_eq!(status, 200, "{row}");
        assert_eq!(price(&row), before, "{id}: {row}");
    }
    serve.kill9();
}
