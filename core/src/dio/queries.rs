//! Which queries `on_query` has answered, and single-flight warming of cold ones.
//!
//! Answered keys live in the cache meta ([`meta::ANSWERED`]) so they
//! survive a restart. While a cold query is being warmed, every concurrent reader of
//! the same key waits for the one `on_query` call, which runs in its own
//! task so a reader that gives up does not strand the others.
//!
//! Two counters close the races of a multi-threaded runtime:
//! - `landed` counts finished flights. A reader that found its key cold and
//!   then finds no flight in progress checks it again if a flight landed in
//!   between (the flight that answered it may have just left), so racing
//!   readers still share one call.
//! - `epoch` counts wholesale invalidations. A flight remembers its key only
//!   if no invalidation happened while `on_query` ran: an answer fetched
//!   before a refresh must not mark the query warm after it.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use portable_atomic::AtomicU64;

use super::Dio;
use super::latch::Latch;
use crate::cache::{CacheBatch, meta};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeExt;
use crate::sync::Mutex;
use crate::vista::QueryDescriptor;

/// One `on_query` call in progress, shared by every reader of its key.
#[derive(Debug, Default)]
struct Flight {
    done: Latch,
    outcome: Mutex<Option<Result<()>>>,
}

#[derive(Debug, Default)]
pub(crate) struct AnsweredQueries {
    in_flight: Mutex<BTreeMap<String, Arc<Flight>>>,
    /// Flights finished so far.
    landed: AtomicU64,
    /// Wholesale invalidations so far.
    epoch: AtomicU64,
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
        if dio.policy().on_query().is_none() {
            return Ok(());
        }
        let key = descriptor.key();
        let flight = loop {
            let landed = self.landed.load(Ordering::Acquire);
            if answered(dio, &key, &descriptor, remember)? {
                return Ok(());
            }
            let mut in_flight = self.in_flight.lock();
            if let Some(flight) = in_flight.get(&key) {
                break flight.clone();
            }
            if self.landed.load(Ordering::Acquire) != landed {
                // A flight landed since the check: it may have answered
                // this key and left. Check again.
                continue;
            }
            let flight = Arc::new(Flight::default());
            in_flight.insert(key.clone(), flight.clone());
            drop(in_flight);
            spawn_flight(dio, key, descriptor, remember, flight.clone());
            break flight;
        };
        flight.done.wait().await;
        flight.outcome.lock().clone().unwrap_or_else(|| {
            Err(Error::new(
                ErrorKind::Cancelled,
                "on_query ended without an outcome",
            ))
        })
    }

    /// A wholesale invalidation: flights running now must not mark their
    /// key answered (the caller removes the remembered keys).
    pub(crate) fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

/// Whether `key` needs no `on_query` call: remembered as answered, or for a
/// read by id, the row is cached.
fn answered(dio: &Dio, key: &str, descriptor: &QueryDescriptor, remember: bool) -> Result<bool> {
    if remember {
        return Ok(dio.cache().meta_get(&meta::answered(key))?.is_some());
    }
    match &descriptor.id {
        Some(id) => Ok(dio
            .cache()
            .get(id)?
            .is_some_and(|row| row.state != crate::cache::RowState::Incomplete)),
        None => Ok(false),
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
        let queries = dio.queries();
        let epoch = queries.epoch.load(Ordering::Acquire);
        let outcome = match dio.policy().on_query() {
            Some(on_query) => on_query(&dio, descriptor).await,
            None => Ok(()),
        };
        let still_valid = queries.epoch.load(Ordering::Acquire) == epoch;
        let outcome = match outcome {
            Ok(()) if remember && still_valid => {
                let mut batch = CacheBatch::new();
                batch.meta_put(meta::answered(&key), Vec::from(&b"1"[..]));
                dio.cache().apply(batch)
            }
            other => other,
        };
        *flight.outcome.lock() = Some(outcome);
        {
            let mut in_flight = queries.in_flight.lock();
            queries.landed.fetch_add(1, Ordering::AcqRel);
            in_flight.remove(&key);
        }
        flight.done.set();
    };
    // Detached: the flight outlives a reader that stops waiting.
    drop(runtime.spawn("diorama.on_query", task));
}
