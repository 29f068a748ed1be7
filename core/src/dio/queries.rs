//! Which queries `on_query` has answered, and single-flight warming of cold ones.
//!
//! Answered keys live in the cache meta (prefix `q/`) so they survive a
//! restart. While a cold query is being warmed, every concurrent reader of
//! the same key waits for the one `on_query` call, which runs in its own
//! task so a reader that gives up does not strand the others.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::Dio;
use super::latch::Latch;
use crate::cache::CacheBatch;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeExt;
use crate::sync::Mutex;
use crate::vista::QueryDescriptor;

pub(crate) const PREFIX: &[u8] = b"q/";

fn meta_key(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(PREFIX.len() + key.len());
    k.extend_from_slice(PREFIX);
    k.extend_from_slice(key.as_bytes());
    k
}

/// One `on_query` call in progress, shared by every reader of its key.
#[derive(Debug, Default)]
struct Flight {
    done: Latch,
    outcome: Mutex<Option<Result<()>>>,
}

#[derive(Debug, Default)]
pub(crate) struct AnsweredQueries {
    in_flight: Mutex<BTreeMap<String, Arc<Flight>>>,
}

impl AnsweredQueries {
    /// Make sure `descriptor` has been answered by `on_query` (a no-op
    /// without `on_query` or when already answered). `remember` is false for
    /// reads by id, whose answer is the presence of the row itself.
    pub(crate) async fn ensure(
        &self,
        dio: &Dio,
        descriptor: QueryDescriptor,
        remember: bool,
    ) -> Result<()> {
        if dio.lens().inner.callbacks.on_query.is_none() {
            return Ok(());
        }
        let key = descriptor.key();
        if remember && dio.cache().meta_get(&meta_key(&key))?.is_some() {
            return Ok(());
        }
        let flight = {
            let mut in_flight = self.in_flight.lock();
            match in_flight.get(&key) {
                Some(flight) => flight.clone(),
                None => {
                    let flight = Arc::new(Flight::default());
                    in_flight.insert(key.clone(), flight.clone());
                    spawn_flight(dio, key, descriptor, remember, flight.clone());
                    flight
                }
            }
        };
        flight.done.wait().await;
        flight.outcome.lock().clone().unwrap_or_else(|| {
            Err(Error::new(
                ErrorKind::Cancelled,
                "on_query ended without an outcome",
            ))
        })
    }
}

fn spawn_flight(
    dio: &Dio,
    key: String,
    descriptor: QueryDescriptor,
    remember: bool,
    flight: Arc<Flight>,
) {
    let dio = dio.clone();
    let runtime = dio.runtime().clone();
    let task = async move {
        let outcome = match &dio.lens().inner.callbacks.on_query {
            Some(on_query) => on_query(&dio, descriptor).await,
            None => Ok(()),
        };
        let outcome = match outcome {
            Ok(()) if remember => {
                let mut batch = CacheBatch::new();
                batch.meta_put(meta_key(&key), Vec::from(&b"1"[..]));
                dio.cache().apply(batch)
            }
            other => other,
        };
        *flight.outcome.lock() = Some(outcome);
        dio.inner().queries.in_flight.lock().remove(&key);
        flight.done.set();
    };
    // Detached: the flight outlives a reader that stops waiting.
    drop(runtime.spawn("diorama.on_query", task));
}
