//! Group commit for a table's writes: concurrent [`apply`] calls are
//! combined into one sled write.
//!
//! Each `sled::Batch` costs more than its keys: sled rolls its IO buffer
//! before and after the batch's manifest, so every batch sends one or two
//! small log buffers to the file (a `pwrite` and a `sync_file_range` each,
//! on sled's IO threads), and it takes sled's global write lock, which
//! stops every sled reader meanwhile. Under load most batches are rows a
//! read just fetched, many of them at once, and the table's write lock made
//! them queue anyway. So a writer queues its batch and takes its turn; the
//! writer whose turn it is applies every queued batch in one go and hands
//! each its own outcome. Writers that arrive meanwhile queue for the next
//! turn, so the combined batches grow with the contention and stay single
//! when there is none.
//!
//! The combining is written here rather than taken from a crate: what is
//! combined (an ordered list of cache batches, each with its own result)
//! and the lock it pairs with are this table's; the crates that do flat
//! combining combine operations on a data structure they own.
//!
//! [`apply`]: diorama_core::cache::CacheTable::apply

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use diorama_core::error::{Error, Result};

/// Where a queued item's outcome is left by the writer that applied it.
type Outcome = Arc<Mutex<Option<Result<()>>>>;

/// A queue of items applied together by whoever holds the turn.
pub(super) struct Combiner<T> {
    queue: Mutex<Vec<(T, Outcome)>>,
    turn: Mutex<()>,
}

impl<T> Default for Combiner<T> {
    fn default() -> Self {
        Combiner {
            queue: Mutex::new(Vec::new()),
            turn: Mutex::new(()),
        }
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // Outcomes are set whole and the queue is only pushed to or taken: a
    // panic elsewhere leaves neither half-changed.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T> Combiner<T> {
    /// Hold the turn: no item is applied until the guard drops. For
    /// writers that do not queue (they must not interleave with a turn's
    /// reads and writes either).
    pub(super) fn hold(&self) -> MutexGuard<'_, ()> {
        lock(&self.turn)
    }

    /// Apply `item`, possibly together with items queued by other threads,
    /// and return its own outcome. `apply` receives the items in the order
    /// they were queued and returns one outcome per item, in that order;
    /// it runs for one turn holder at a time.
    pub(super) fn run(&self, item: T, apply: impl FnOnce(Vec<T>) -> Vec<Result<()>>) -> Result<()> {
        let outcome: Outcome = Arc::default();
        lock(&self.queue).push((item, outcome.clone()));
        let _turn = lock(&self.turn);
        if let Some(done) = lock(&outcome).take() {
            // The previous turn holder applied it.
            return done;
        }
        let (items, outcomes): (Vec<T>, Vec<Outcome>) =
            std::mem::take(&mut *lock(&self.queue)).into_iter().unzip();
        let mut results = apply(items).into_iter();
        for slot in outcomes {
            let result = results.next().unwrap_or_else(|| {
                Err(Error::failed(
                    "cache write: the combined apply returned too few outcomes",
                ))
            });
            *lock(&slot) = Some(result);
        }
        // `None` only when a turn holder panicked after taking the queue
        // and before handing out outcomes: the item was never applied.
        lock(&outcome).take().unwrap_or_else(|| {
            Err(Error::failed(
                "cache write lost: a concurrent write panicked while applying it",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn a_lone_item_is_applied_alone_with_its_outcome() {
        let combiner = Combiner::default();
        let mut seen = Vec::new();
        let result = combiner.run(7, |items| {
            seen = items.clone();
            vec![Err(Error::failed("no"))]
        });
        assert_eq!(seen, vec![7]);
        assert!(result.is_err());
        assert!(combiner.run(8, |items| vec![Ok(()); items.len()]).is_ok());
    }

    #[test]
    fn concurrent_items_each_get_their_own_outcome_and_are_applied_once() {
        let combiner = Combiner::default();
        let applied = Mutex::new(Vec::new());
        let start = Barrier::new(8);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8u32)
                .map(|thread| {
                    let (combiner, applied, start) = (&combiner, &applied, &start);
                    scope.spawn(move || {
                        start.wait();
                        (0..200u32)
                            .map(|n| {
                                let item = thread * 1000 + n;
                                let result = combiner.run(item, |items| {
                                    std::thread::yield_now();
                                    let out = items
                                        .iter()
                                        .map(|i| {
                                            if i % 3 == 0 {
                                                Err(Error::failed(format!("{i}")))
                                            } else {
                                                Ok(())
                                            }
                                        })
                                        .collect();
                                    applied.lock().unwrap().extend(items);
                                    out
                                });
                                (item, result)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                for (item, result) in handle.join().unwrap() {
                    match result {
                        Ok(()) => assert_ne!(item % 3, 0, "{item}"),
                        Err(error) => {
                            assert_eq!(item % 3, 0, "{item}");
                            assert!(error.to_string().contains(&item.to_string()));
                        }
                    }
                }
            }
        });
        let mut applied = applied.into_inner().unwrap();
        // Each thread's items in its own order: a later one never lands
        // in an earlier turn.
        for thread in 0..8u32 {
            let own: Vec<u32> = applied
                .iter()
                .copied()
                .filter(|i| i / 1000 == thread)
                .collect();
            assert_eq!(own, (0..200).map(|n| thread * 1000 + n).collect::<Vec<_>>());
        }
        applied.sort_unstable();
        assert_eq!(applied.len(), 1600);
        applied.dedup();
        assert_eq!(applied.len(), 1600, "an item was applied twice");
    }
}
