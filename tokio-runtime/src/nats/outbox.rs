//! The outbox: changes this replica must announce, published in order by
//! one task, retried (with the same message id, so JetStream drops
//! duplicates) until the stream has them. A change is never dropped while
//! NATS is away: when more are waiting than the outbox holds, a table's
//! queued changes collapse into one reset, which tells every replica to
//! stop vouching for that table.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_nats::HeaderMap;
use futures_lite::StreamExt;
use tokio::sync::Notify;

use super::ReplicaInner;
use super::message::{Change, Op};
use super::table::{TableState, lock};
use diorama_core::{Error, Result};

/// One change waiting to be announced.
#[derive(Debug)]
struct Outgoing {
    table: Arc<TableState>,
    change: Change,
    /// Position in the outbox (1, 2, …), also part of the message id.
    seq: u64,
}

/// The queue and its progress.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<VecDeque<Outgoing>>,
    capacity: usize,
    next: AtomicU64,
    /// Every change up to this `seq` is in the stream.
    published: AtomicU64,
    /// Something was queued.
    queued: Notify,
    /// Something was published.
    progress: Notify,
    /// Distinguishes this process's message ids from an earlier run's.
    pub(crate) boot: u64,
    /// Changes collapsed into resets because the outbox was full.
    pub(crate) collapsed: AtomicU64,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Outbox {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            next: AtomicU64::new(1),
            published: AtomicU64::new(0),
            queued: Notify::new(),
            progress: Notify::new(),
            boot: boot_id(),
            collapsed: AtomicU64::new(0),
        }
    }

    /// Changes waiting.
    pub(crate) fn len(&self) -> usize {
        lock(&self.queue).len()
    }

    /// Queue `change` of `table`; returns its place, for [`wait`](Self::wait).
    pub(crate) fn push(&self, table: &Arc<TableState>, change: Change) -> u64 {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let mut queue = lock(&self.queue);
        if queue.len() >= self.capacity {
            self.collapse(&mut queue, table, &change);
            let reset = Change {
                origin: change.origin,
                id: None,
                op: Op::Reset,
                started_ms: change.started_ms,
                tick: change.tick,
                boot: change.boot,
            };
            queue.push_back(Outgoing {
                table: table.clone(),
                change: reset,
                seq,
            });
        } else {
            queue.push_back(Outgoing {
                table: table.clone(),
                change,
                seq,
            });
        }
        drop(queue);
        self.queued.notify_one();
        seq
    }

    /// Replace every queued change of `table` (and `incoming`) by the reset
    /// pushed after; their rows stop waiting for their own messages.
    fn collapse(&self, queue: &mut VecDeque<Outgoing>, table: &Arc<TableState>, incoming: &Change) {
        let mut dropped = vec![incoming.id.clone()];
        queue.retain(|item| {
            let same = Arc::ptr_eq(&item.table, table);
            if same {
                dropped.push(item.change.id.clone());
            }
            !same
        });
        self.collapsed.fetch_add(
            u64::try_from(dropped.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let mut ordering = lock(&table.ordering);
        for id in &dropped {
            ordering.abandon_own(id.as_deref());
        }
    }

    /// Wait until the change at `seq` is in the stream, at most `limit`.
    /// True when it is.
    pub(crate) async fn wait(&self, seq: u64, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let progressed = self.progress.notified();
            if self.published.load(Ordering::Acquire) >= seq {
                return true;
            }
            if tokio::time::timeout_at(deadline, progressed).await.is_err() {
                return self.published.load(Ordering::Acquire) >= seq;
            }
        }
    }

    /// Wait until every change queued so far is in the stream, at most `limit`.
    pub(crate) async fn drain(&self, limit: Duration) -> bool {
        let last = self.next.load(Ordering::Relaxed).saturating_sub(1);
        self.wait(last, limit).await
    }
}

/// A number unlikely to repeat across runs (wall-clock nanos and the pid):
/// message ids of a restarted replica must not be taken for duplicates.
fn boot_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ (u64::from(std::process::id()) << 40)
}

/// The publishing task: holds the replica weakly and ends with it.
pub(crate) async fn run(replica: Weak<ReplicaInner>) {
    let mut failures: u32 = 0;
    loop {
        let Some(inner) = replica.upgrade() else {
            return;
        };
        let front = {
            let queue = lock(&inner.outbox.queue);
            queue
                .front()
                .map(|item| (item.table.clone(), item.change.clone(), item.seq))
        };
        let Some((table, change, seq)) = front else {
            // `notify_one` keeps a permit when nobody waits, so a push
            // between the check and here is not missed. Woken at least
            // every second to see whether the replica is gone.
            let _ =
                tokio::time::timeout(Duration::from_secs(1), inner.outbox.queued.notified()).await;
            continue;
        };
        match publish(&inner, &table, &change, seq).await {
            Ok(()) => {
                failures = 0;
                inner.link.recovered();
                let outbox = &inner.outbox;
                {
                    let mut queue = lock(&outbox.queue);
                    if queue.front().is_some_and(|item| item.seq == seq) {
                        queue.pop_front();
                    }
                }
                outbox.published.fetch_max(seq, Ordering::AcqRel);
                outbox.progress.notify_waiters();
                inner.stats.published.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                inner.link.failed("announcing a change", &error);
                inner.link.reset_handles().await;
                inner.stats.publish_retries.fetch_add(1, Ordering::Relaxed);
                failures = failures.saturating_add(1);
                let backoff = Duration::from_millis(25u64 << failures.min(5));
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

/// Announce one change: drop what the shared tier holds for its row (or
/// table) first, so no replica reads an older value from the tier after
/// it applied this change; then publish it.
async fn publish(
    inner: &ReplicaInner,
    table: &TableState,
    change: &Change,
    seq: u64,
) -> Result<()> {
    let link = &inner.link;
    let handles = link.handles().await?;
    let names = link.options.names();
    if link.options.shared_tier {
        match &change.id {
            Some(id) => {
                link.bounded(
                    "dropping a row from the shared tier",
                    handles.kv.delete(names.row_key(&table.name, id)),
                )
                .await?;
            }
            None => purge_rows(inner, &handles.kv, &names.row_prefix(&table.name)).await?,
        }
    }
    let mut headers = HeaderMap::new();
    let id = format!("{}-{:016x}-{seq}", link.options.replica, inner.outbox.boot);
    headers.insert("Nats-Msg-Id", id.as_str());
    let ack = link
        .bounded(
            "publishing a change",
            link.js.publish_with_headers(
                names.changes(&table.name),
                headers,
                change.encode().into(),
            ),
        )
        .await?;
    link.bounded(
        "waiting for the stream to store a change",
        std::future::IntoFuture::into_future(ack),
    )
    .await
    .map(drop)
}

/// Drop every row of a table from the shared tier (after a reset).
async fn purge_rows(
    inner: &ReplicaInner,
    kv: &async_nats::jetstream::kv::Store,
    prefix: &str,
) -> Result<()> {
    let link = &inner.link;
    let limit = link.options.op_timeout * 20;
    let keys: Vec<String> = link
        .bounded_for("listing the shared tier", limit, async {
            let mut keys = kv
                .keys()
                .await
                .map_err(|e| Error::unavailable(e.to_string()))?;
            let mut out = Vec::new();
            while let Some(key) = keys.next().await {
                let key = key.map_err(|e| Error::unavailable(e.to_string()))?;
                if key.starts_with(prefix) {
                    out.push(key);
                }
            }
            Ok::<_, Error>(out)
        })
        .await?;
    for key in keys {
        link.bounded("dropping a row from the shared tier", kv.delete(key))
            .await?;
    }
    Ok(())
}
