//! What every NATS test shares: the server's URL, skipping when no server
//! answers (failing instead when `DIORAMA_REQUIRE_SERVICES=1`), a stream
//! and bucket of each test's own (deleted at the end), and a
//! `nats-server` of a test's own that it can stop and start again.
//!
//! Included with `mod nats_support;` by each `nats_*.rs` test, by the
//! replica bench and by the apps' replica test (by path).
#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diorama_tokio::nats::ReplicaOptions;
use diorama_tokio::nats::async_nats;

/// The variable naming the server.
pub const URL_VAR: &str = "DIORAMA_NATS_URL";
/// The server when the variable is not set.
pub const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// The server's URL.
pub fn url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// True when a missing server must fail the test (CI).
pub fn required() -> bool {
    std::env::var("DIORAMA_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

fn skip(test: &str, why: &str) {
    // Straight to stderr: the test harness captures `println!`.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// A client of the server at `url`, or `None` after printing why the test
/// is skipped. Panics instead when services are required.
pub async fn connect_to(test: &str, url: &str) -> Option<async_nats::Client> {
    let outcome = tokio::time::timeout(
        Duration::from_secs(3),
        async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(2))
            .connect(url),
    )
    .await
    .map_err(|_| String::from("no answer within 3 s"))
    .and_then(|connected| connected.map_err(|e| e.to_string()));
    match outcome {
        Ok(client) => Some(client),
        Err(why) if required() => panic!(
            "{test}: NATS is required (DIORAMA_REQUIRE_SERVICES=1) but {url} does not answer: {why}"
        ),
        Err(why) => {
            skip(
                test,
                &format!("no NATS at {url} ({why}); set {URL_VAR} to run it"),
            );
            None
        }
    }
}

/// [`connect_to`] the server of [`url`].
pub async fn connect(test: &str) -> Option<async_nats::Client> {
    connect_to(test, &url()).await
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Names of one test's own: stream, bucket and subject prefix, so tests
/// run in parallel on one server; [`finish`](Scratch::finish) deletes them.
pub struct Scratch {
    pub url: String,
    pub stream: String,
    pub bucket: String,
    pub prefix: String,
    client: async_nats::Client,
}

impl Scratch {
    /// Fresh names on the server at [`url`], or `None` when skipped.
    pub async fn new(test: &str) -> Option<Scratch> {
        Scratch::on(test, &url()).await
    }

    /// Fresh names on the server at `url`, or `None` when skipped.
    pub async fn on(test: &str, url: &str) -> Option<Scratch> {
        let client = connect_to(test, url).await?;
        let tag = format!(
            "{}_{}_{}",
            test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Some(Scratch {
            url: url.to_string(),
            stream: format!("S_{tag}"),
            bucket: format!("B_{tag}"),
            prefix: format!("p_{tag}"),
            client,
        })
    }

    /// Options for replica `name` over these names, with short limits.
    pub fn options(&self, name: &str) -> ReplicaOptions {
        let mut options = ReplicaOptions::new(self.url.clone(), name)
            .lens("test")
            .stream(self.stream.clone())
            .bucket(self.bucket.clone())
            .subject_prefix(self.prefix.clone());
        options.op_timeout = Duration::from_millis(500);
        options.lease_ttl = Duration::from_secs(2);
        options.lease_wait = Duration::from_secs(4);
        options
    }

    /// Command-line flags of `serve` for replica `name` over these names.
    pub fn serve_flags(&self, name: &str) -> Vec<String> {
        vec![
            "--nats".into(),
            self.url.clone(),
            "--replica".into(),
            name.into(),
            "--nats-stream".into(),
            self.stream.clone(),
            "--nats-bucket".into(),
            self.bucket.clone(),
            "--nats-subject".into(),
            self.prefix.clone(),
        ]
    }

    /// The JetStream context of the test's own client.
    pub fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.client.clone())
    }

    /// Delete the stream and the bucket (absent is fine).
    pub async fn finish(self) {
        let js = self.jetstream();
        let _ = tokio::time::timeout(Duration::from_secs(3), async {
            let _ = js.delete_stream(&self.stream).await;
            let _ = js.delete_stream(format!("KV_{}", self.bucket)).await;
        })
        .await;
    }
}

/// A `nats-server` of a test's own on a free port, with its own store, that
/// can be stopped and started again on the same port and store.
pub struct OwnServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnServer {
    /// Start one, or `None` (after printing why) when `nats-server` is not
    /// on PATH; panics instead when services are required.
    pub fn start(test: &str) -> Option<OwnServer> {
        let found = Command::new("nats-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            if required() {
                panic!(
                    "{test}: nats-server is required (DIORAMA_REQUIRE_SERVICES=1) but not on PATH"
                );
            }
            skip(test, "nats-server is not on PATH");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free port");
        let mut server = OwnServer {
            port,
            dir: tempfile::tempdir().expect("a temp dir"),
            child: None,
        };
        server.resume();
        Some(server)
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Where it keeps its streams.
    pub fn store(&self) -> &Path {
        self.dir.path()
    }

    /// Start it again (same port, same store), waiting until it listens.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server runs already");
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nats-server");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // JetStream is ready a moment after the port opens.
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("nats-server did not listen on {} within 5 s", self.port);
    }

    /// Stop it (kill), waiting until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}
