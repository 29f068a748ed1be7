//! The link to NATS: the client, the stream and the bucket (created on
//! first use, and again after the server lost them), bounded waits, and
//! the one warning per outage.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, kv, stream};
use diorama_core::{Error, ErrorKind, Result};
use tokio::sync::Mutex;

use super::ReplicaOptions;

/// The handles once the stream and the bucket exist.
#[derive(Clone, Debug)]
pub(crate) struct Handles {
    pub(crate) stream: stream::Stream,
    pub(crate) kv: kv::Store,
}

/// One replica's connection and what it set up on the server.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) options: ReplicaOptions,
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    handles: Mutex<Option<Handles>>,
    /// True while NATS is known not to answer (since the last failure).
    down: AtomicBool,
    /// Outages seen (each warned about once).
    outages: AtomicU64,
}

impl Link {
    /// Connect in the background: an unreachable server is no error here
    /// (operations fall back until it answers).
    pub(crate) async fn connect(options: ReplicaOptions) -> Result<Link> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("diorama replica {}", options.replica))
            .retry_on_initial_connect()
            .connection_timeout(options.op_timeout.max(Duration::from_millis(200)))
            // Reconnect soon after the server is back: a replica that waits
            // seconds serves the master directly meanwhile.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(50 * u64::try_from(attempts.min(20)).unwrap_or(20))
            })
            .max_reconnects(None)
            .request_timeout(Some(options.op_timeout))
            .connect(options.url.as_str())
            .await
            .map_err(|e| Error::invalid_input(format!("NATS address {:?}: {e}", options.url)))?;
        let js = jetstream::new(client.clone());
        Ok(Link {
            options,
            client,
            js,
            handles: Mutex::new(None),
            down: AtomicBool::new(false),
            outages: AtomicU64::new(0),
        })
    }

    /// True when the client is connected right now.
    pub(crate) fn connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    /// Outages seen so far.
    pub(crate) fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// NATS failed: the first failure of an outage is said (once).
    pub(crate) fn failed(&self, what: &str, error: &Error) {
        if !self.down.swap(true, Ordering::AcqRel) {
            self.outages.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "diorama replica {}: NATS at {} is not answering ({what}: {error}); \
                 reading the master directly and keeping changes to announce until it is back",
                self.options.replica, self.options.url
            );
        }
    }

    /// NATS answered again.
    pub(crate) fn recovered(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            eprintln!(
                "diorama replica {}: NATS at {} answers again",
                self.options.replica, self.options.url
            );
        }
    }

    /// True while an outage is on.
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// `future` bounded by the operation timeout; refused at once while the
    /// client is not connected (never a wait on a dead server).
    pub(crate) async fn bounded<T, E: std::fmt::Display>(
        &self,
        what: &str,
        future: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        self.bounded_for(what, self.options.op_timeout, future)
            .await
    }

    /// [`bounded`](Self::bounded) with its own limit.
    pub(crate) async fn bounded_for<T, E: std::fmt::Display>(
        &self,
        what: &str,
        limit: Duration,
        future: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        if !self.connected() {
            return Err(Error::unavailable(format!("{what}: not connected to NATS")));
        }
        match tokio::time::timeout(limit, future).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Error::unavailable(format!("{what}: {error}"))),
            Err(_) => Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "{what}: NATS did not answer within {} ms",
                    limit.as_millis()
                ),
            )),
        }
    }

    /// The stream and the bucket, created when missing.
    pub(crate) async fn handles(&self) -> Result<Handles> {
        let mut slot = self.handles.lock().await;
        if let Some(handles) = slot.as_ref() {
            return Ok(handles.clone());
        }
        let options = &self.options;
        let stream = self
            .bounded(
                "creating the change stream",
                self.js.get_or_create_stream(stream::Config {
                    name: options.stream.clone(),
                    subjects: vec![options.names().stream_subjects()],
                    max_age: options.stream_max_age,
                    storage: stream::StorageType::File,
                    ..Default::default()
                }),
            )
            .await?;
        // The bucket's stream is made with the key-value layout directly:
        // `create_key_value` of async-nats 0.51 first asks for the account
        // info, whose 2.9 answer it cannot parse. Only fields 2.9 knows.
        let bucket = &options.bucket;
        self.bounded(
            "creating the shared tier",
            self.js.get_or_create_stream(stream::Config {
                name: format!("KV_{bucket}"),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: 1,
                max_age: options.tier_max_age,
                storage: stream::StorageType::File,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                num_replicas: 1,
                ..Default::default()
            }),
        )
        .await?;
        let kv = self
            .bounded("opening the shared tier", self.js.get_key_value(bucket))
            .await?;
        let handles = Handles { stream, kv };
        *slot = Some(handles.clone());
        Ok(handles)
    }

    /// Forget the handles (the server may have lost the stream or bucket):
    /// the next use sets them up again.
    pub(crate) async fn reset_handles(&self) {
        *self.handles.lock().await = None;
    }
}
