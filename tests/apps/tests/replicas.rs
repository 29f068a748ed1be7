//! `serve` as replicas: three child processes over one SQLite master
//! (`--nats URL --replica NAME`, separate caches and ports), kept coherent
//! over NATS JetStream. A PATCH through one is seen through the others'
//! record and list endpoints; writes spread over all end with every
//! replica showing the master; NATS stopped during writes and restarted
//! loses no change (counted); a replica killed with SIGKILL catches up
//! from its stored position when it comes back.

#[path = "../../../tokio-runtime/tests/nats_support/mod.rs"]
mod nats_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diorama_apps::sample::data;
use nats_support::{OwnServer, Scratch};
use serde_json::{Value as Json, json};

const SERVE: &str = env!("CARGO_BIN_EXE_serve");
const ROWS: usize = 200;

/// One `serve` child process.
struct Replica {
    name: String,
    child: Child,
    base: String,
    agent: ureq::Agent,
    args: Vec<String>,
}

impl Replica {
    /// Replica `name` over the database in `data`, with its cache in a
    /// directory of its own when `own_cache` (else the default, beside
    /// the database, named after the replica).
    fn spawn(name: &str, data: &Path, own_cache: bool, nats: &[String]) -> Replica {
        let mut args: Vec<String> = vec![
            "--data".into(),
            data.display().to_string(),
            "--rows".into(),
            ROWS.to_string(),
            "--addr".into(),
            "127.0.0.1:0".into(),
        ];
        if own_cache {
            args.push("--cache".into());
            args.push(data.join(format!("cache-{name}")).display().to_string());
        }
        args.extend(nats.iter().cloned());
        Replica::start(name, args)
    }

    fn start(name: &str, args: Vec<String>) -> Replica {
        let mut child = Command::new(SERVE)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let tag = name.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("serving http://") {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                } else if line.contains("NATS") {
                    eprintln!("[{tag}] {line}");
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{name} did not start serving"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Replica {
            name: name.to_string(),
            child,
            base: format!("http://{addr}"),
            agent,
            args,
        }
    }

    fn get(&self, path: &str) -> (u16, Json) {
        read(self.agent.get(format!("{}{path}", self.base)).call())
    }

    fn patch(&self, id: &str, body: &Json) -> Json {
        let (status, row) = read(
            self.agent
                .patch(format!("{}/products/{id}", self.base))
                .header("content-type", "application/json")
                .send(body.to_string()),
        );
        assert_eq!(status, 200, "{}: PATCH {id}: {row}", self.name);
        row
    }

    fn price(&self, id: &str) -> Json {
        let (status, row) = self.get(&format!("/products/{id}"));
        assert_eq!(status, 200, "{}: {row}", self.name);
        row["price"].clone()
    }

    /// The prices of the first `limit` rows of the list endpoint, by id.
    fn listed(&self, limit: usize) -> Vec<(String, Json)> {
        let (status, page) = self.get(&format!("/products?limit={limit}"));
        assert_eq!(status, 200, "{}: {page}", self.name);
        page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                (
                    row["id"].as_str().unwrap().to_string(),
                    row["price"].clone(),
                )
            })
            .collect()
    }

    fn stats(&self) -> Json {
        let (status, stats) = self.get("/stats");
        assert_eq!(status, 200, "{stats}");
        stats
    }

    fn kill(&mut self) {
        // SIGKILL: no drain, no flush.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(mut self) -> Replica {
        self.kill();
        Replica::start(&self.name, std::mem::take(&mut self.args))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Json) {
    let mut response = response.expect("HTTP exchange");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, json)
}

fn id(index: usize) -> String {
    diorama_apps::sample::products::product_id(index)
}

/// Wait (bounded) until `check` holds; its last failure message otherwise.
fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + limit;
    loop {
        match check() {
            Ok(()) => return,
            Err(why) if Instant::now() >= deadline => panic!("{what}: {why}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The master's price of `id`, read from the SQLite file.
fn master_price(db: &Path, id: &str) -> Json {
    let master = diorama_std::sqlite::SqliteVista::open(db, data::TABLE, "id").unwrap();
    let row = futures_lite::future::block_on(diorama_core::Vista::new(master).get(id))
        .unwrap()
        .unwrap();
    match row.get("price") {
        Some(value) => json!(value.as_f64()),
        None => Json::Null,
    }
}

fn same_number(a: &Json, b: &Json) -> bool {
    a.as_f64().is_some() && a.as_f64() == b.as_f64()
}

fn dataset() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let built = data::prepare(dir.path(), ROWS, &mut std::io::sink()).unwrap();
    (dir, built.db_path)
}

/// Every replica shows the master's price for `ids`, through the record
/// endpoint and (for ids among the first rows) the list endpoint.
fn assert_all_show_the_master(replicas: &[Replica], db: &Path, ids: &[String]) {
    for id in ids {
        let truth = master_price(db, id);
        for replica in replicas {
            eventually(
                &format!("{} shows the master's {id}", replica.name),
                Duration::from_secs(30),
                || {
                    let shown = replica.price(id);
                    if !same_number(&shown, &truth) {
                        return Err(format!("record {shown} vs master {truth}"));
                    }
                    let listed = replica.listed(20).into_iter().find(|(row, _)| row == id);
                    match listed {
                        Some((_, listed)) if !same_number(&listed, &truth) => {
                            Err(format!("list {listed} vs master {truth}"))
                        }
                        _ => Ok(()),
                    }
                },
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_through_one_replica_is_seen_through_the_others_and_writes_converge() {
    let Some(scratch) = Scratch::new("serve_replicas").await else {
        return;
    };
    // Three processes started at once over an empty data directory: one
    // database is built and shared, each replica has a cache of its own.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(format!("{}-{ROWS}.sqlite", data::TABLE));
    let replicas: Vec<Replica> = std::thread::scope(|scope| {
        let started: Vec<_> = ["r1", "r2", "r3"]
            .iter()
            .map(|name| {
                let flags = scratch.serve_flags(name);
                let path = dir.path();
                scope.spawn(move || Replica::spawn(name, path, false, &flags))
            })
            .collect();
        started.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let caches = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("serve-cache-")
        })
        .count();
    assert_eq!(caches, 3, "a cache per replica");
    let target = id(3);
    // Every replica has the row and the first page cached.
    for replica in &replicas {
        replica.price(&target);
        replica.listed(20);
    }
    replicas[0].patch(&target, &json!({ "price": 12.5 }));
    for replica in &replicas[1..] {
        eventually(
            &format!("{} shows the patch", replica.name),
            Duration::from_secs(20),
            || {
                let shown = replica.price(&target);
                let listed = replica
                    .listed(20)
                    .into_iter()
                    .find(|(row, _)| *row == target)
                    .map(|(_, price)| price);
                if same_number(&shown, &json!(12.5))
                    && listed
                        .as_ref()
                        .is_some_and(|p| same_number(p, &json!(12.5)))
                {
                    Ok(())
                } else {
                    Err(format!("record {shown}, list {listed:?}"))
                }
            },
        );
    }

    // 100 PATCHes spread over all replicas, on ten rows.
    let ids: Vec<String> = (0..10).map(id).collect();
    let mut tasks = Vec::new();
    let replicas = std::sync::Arc::new(replicas);
    for lane in 0..3 {
        let replicas = replicas.clone();
        let ids = ids.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            for i in (lane..100).step_by(3) {
                let price = 100.0 + i as f64;
                replicas[i % 3].patch(&ids[(i * 7) % ids.len()], &json!({ "price": price }));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_all_show_the_master(&replicas, &db, &ids);
    // The master was asked only for what each replica had not cached, or
    // to settle writes of one row that overlapped in time.
    for replica in replicas.iter() {
        let stats = replica.stats();
        assert_eq!(stats["replica"]["outages"], 0, "{stats}");
    }
    drop(replicas);
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_stopped_mid_writes_loses_nothing_and_a_killed_replica_catches_up() {
    let Some(mut server) = OwnServer::start("serve_replicas_faults") else {
        return;
    };
    let scratch = Scratch::on("serve_replicas_faults", &server.url())
        .await
        .unwrap();
    let (dir, db) = dataset();
    let mut replicas: Vec<Replica> = ["f1", "f2", "f3"]
        .iter()
        .map(|name| Replica::spawn(name, dir.path(), true, &scratch.serve_flags(name)))
        .collect();
    let ids: Vec<String> = (10..16).map(id).collect();
    for replica in &replicas {
        for id in &ids {
            replica.price(id);
        }
    }
    // A stream of writes; NATS stops for the middle third.
    let writes = 30;
    for i in 0..writes {
        if i == 10 {
            server.stop();
        }
        if i == 20 {
            server.resume();
        }
        replicas[i % 3].patch(&ids[i % ids.len()], &json!({ "price": 500 + i }));
    }
    assert_all_show_the_master(&replicas, &db, &ids);
    // Counted: every write announced once, every announcement read by all.
    let total = |key: &str, replicas: &[Replica]| -> u64 {
        replicas
            .iter()
            .map(|r| r.stats()["replica"][key].as_u64().unwrap())
            .sum()
    };
    eventually(
        "every write announced",
        Duration::from_secs(30),
        || match total("published", &replicas) {
            n if n == writes as u64 => Ok(()),
            n => Err(format!("{n} published")),
        },
    );
    for replica in &replicas {
        eventually(
            &format!("{} read every announcement", replica.name),
            Duration::from_secs(30),
            || {
                let stats = replica.stats()["replica"].clone();
                let read = ["applied", "skipped", "refetched"]
                    .iter()
                    .map(|key| stats[key].as_u64().unwrap())
                    .sum::<u64>();
                if read == writes as u64 {
                    Ok(())
                } else {
                    Err(format!("{stats}"))
                }
            },
        );
        assert!(replica.stats()["replica"]["outages"].as_u64().unwrap() >= 1);
    }

    // kill -9 one replica; writes go on through the others; it comes back
    // and catches up from the position it had stored.
    std::thread::sleep(Duration::from_millis(700)); // sled flushes its writes
    replicas[2].kill();
    for (i, id) in ids.iter().enumerate() {
        replicas[i % 2].patch(id, &json!({ "price": 900 + i }));
    }
    let back = replicas.pop().unwrap().restart();
    replicas.push(back);
    assert_all_show_the_master(&replicas, &db, &ids);
    let stats = replicas[2].stats();
    assert!(
        stats["replica"]["applied"].as_u64().unwrap()
            + stats["replica"]["refetched"].as_u64().unwrap()
            >= ids.len() as u64,
        "the writes made while it was away reached it through the stream: {stats}"
    );

    // kill -9 right after a write answered: whatever its cache kept, the
    // replica shows the master's value when it is back.
    replicas[0].patch(&ids[0], &json!({ "price": 4242 }));
    let first = replicas.remove(0).restart();
    replicas.insert(0, first);
    assert_all_show_the_master(&replicas, &db, &ids[..1]);
    drop(replicas);
    scratch.finish().await;
}
