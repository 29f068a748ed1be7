//! What every PostgreSQL test shares: the server's URL, skipping when no
//! server answers (failing instead when `DIORAMA_REQUIRE_SERVICES=1`), and
//! a schema of its own per test, dropped at the end.
//!
//! Included with `mod pg_support;` by each `pg_*.rs` test (and by the
//! PostgreSQL bench, by path).
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diorama_tokio::postgres::tokio_postgres::{self, Client, NoTls};
use diorama_tokio::postgres::{PgVista, PgVistaBuilder};

/// The variable naming the server.
pub const URL_VAR: &str = "DIORAMA_PG_URL";
/// The server when the variable is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server's URL.
pub fn url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// True when a missing server must fail the test (CI).
pub fn required() -> bool {
    std::env::var("DIORAMA_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A plain connection to the server (its driver runs on the current tokio
/// runtime), or `None` after printing why the test is skipped. Panics
/// instead when services are required.
pub async fn connect(test: &str) -> Option<Client> {
    let url = url();
    let outcome =
        tokio::time::timeout(Duration::from_secs(3), tokio_postgres::connect(&url, NoTls))
            .await
            .map_err(|_| String::from("no answer within 3 s"))
            .and_then(|connected| connected.map_err(|e| e.to_string()));
    match outcome {
        Ok((client, connection)) => {
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Some(client)
        }
        Err(why) if required() => {
            panic!(
                "{test}: PostgreSQL is required (DIORAMA_REQUIRE_SERVICES=1) but {url} does not answer: {why}"
            )
        }
        Err(why) => {
            // Straight to stderr: the test harness captures `println!`.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped {test}: no PostgreSQL at {url} ({why}); set {URL_VAR} to run it"
            );
            None
        }
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A schema of one test's own, dropped (with everything in it) by
/// [`finish`](Scratch::finish), or when dropped after a failure.
pub struct Scratch {
    pub schema: String,
    client: Client,
    finished: bool,
}

impl Scratch {
    /// A fresh schema for `test`, or `None` when the test is skipped.
    pub async fn new(test: &str) -> Option<Scratch> {
        let client = connect(test).await?;
        let schema = format!(
            "diorama_{test}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        client
            .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .expect("create the test schema");
        Some(Scratch {
            schema,
            client,
            finished: false,
        })
    }

    /// The plain connection ("a second connection": not the vista's).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Run `sql` (statements separated by `;`), with the schema first on
    /// the search path.
    pub async fn exec(&self, sql: &str) {
        self.client
            .batch_execute(&format!("SET search_path TO \"{}\"; {sql}", self.schema))
            .await
            .unwrap_or_else(|e| match e.as_db_error() {
                Some(db) => panic!("{sql}: {}", db.message()),
                None => panic!("{sql}: {e}"),
            });
    }

    /// A vista builder for `table` of this schema.
    pub fn vista(&self, table: &str) -> PgVistaBuilder {
        PgVista::builder(&url(), table).schema(self.schema.clone())
    }

    /// Drop the schema and everything in it.
    pub async fn finish(mut self) {
        self.finished = true;
        drop_schema(&self.client, &self.schema).await;
    }
}

async fn drop_schema(client: &Client, schema: &str) {
    let _ = client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await;
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // A failed test: drop the schema from a runtime of its own, since
        // this one may be unwinding.
        let schema = self.schema.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&url(), NoTls).await {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    drop_schema(&client, &schema).await;
                }
            });
        })
        .join();
    }
}

/// Wait up to 10 s for `check` to hold, polling; false if it never did.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if check() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
