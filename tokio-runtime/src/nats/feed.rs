//! `ReplicaFeed`: the change stream of one table as a
//! [`ChangeFeed`] for `Dio::follow`, judged by the ordering rule.
//!
//! Each `subscribe` reads the stream from just after the given position
//! with its own ephemeral consumer (the durable position is the Dio's, in
//! its cache meta, so a replica that restarts or reconnects resumes
//! exactly there). While NATS is away the stream says so once (an `Err`
//! item) and reconnects by itself. When the stream no longer holds the
//! position (purged by its limits, or deleted and made again) it yields a
//! [`FeedItem::Gap`]: the Dio invalidates what it cached and says so.

use std::sync::Arc;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, DeliverPolicy, pull};
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{BoxStream, ChangeFeed, FeedItem, FeedPosition};
use diorama_core::{ChangeEvent, Error, Result};
use futures_lite::StreamExt;

use super::message::Change;
use super::order::Verdict;
use super::shell::now_ms;
use super::table::{TableState, lock};

/// How long to wait before reconnecting after a failure.
const RETRY: Duration = Duration::from_millis(100);

/// The feed of one table's changes from the other replicas.
#[derive(Debug)]
pub(crate) struct ReplicaFeed {
    pub(crate) table: Arc<TableState>,
    pub(crate) name: String,
    /// Wall-clock millis when the Dio began following: the feed's
    /// [`position`](ChangeFeed::position) is the end of the stream as it
    /// was then, however late the follow task asks.
    pub(crate) since_ms: u64,
}

/// A stream position: the stream sequence, when that message was stored
/// (wall-clock millis: the ordering rule knows how old what it has not
/// seen is), and when the stream was made (a stream deleted and made again
/// counts its sequences anew: a position in the old one is a gap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct At {
    sequence: u64,
    stored_ms: u64,
    /// 0: unknown.
    epoch_ms: u64,
}

fn position(at: At) -> FeedPosition {
    let mut bytes = at.sequence.to_be_bytes().to_vec();
    bytes.extend_from_slice(&at.stored_ms.to_be_bytes());
    bytes.extend_from_slice(&at.epoch_ms.to_be_bytes());
    FeedPosition(bytes)
}

fn read_position(position: &FeedPosition) -> Option<At> {
    let bytes = position.0.as_slice();
    let word = |at: usize| -> Option<u64> {
        Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let at = |sequence, stored_ms, epoch_ms| At {
        sequence,
        stored_ms,
        epoch_ms,
    };
    match bytes.len() {
        24 => Some(at(word(0)?, word(8)?, word(16)?)),
        16 => Some(at(word(0)?, word(8)?, 0)),
        8 => Some(at(word(0)?, 0, 0)),
        _ => None,
    }
}

/// Millis from the nanos of a server timestamp.
fn millis(nanos: i128) -> u64 {
    u64::try_from(nanos / 1_000_000).unwrap_or(0)
}

impl ChangeFeed for ReplicaFeed {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>> {
        let reader = Reader {
            table: self.table.clone(),
            from: from.as_ref().map(|p| {
                read_position(p).unwrap_or(At {
                    sequence: u64::MAX,
                    stored_ms: 0,
                    epoch_ms: 0,
                })
            }),
            epoch_ms: 0,
            messages: None,
            commit: None,
            reported: false,
        };
        Box::pin(futures_lite::stream::unfold(
            reader,
            |mut reader| async move {
                let item = reader.next_item().await;
                Some((item, reader))
            },
        ))
    }

    fn position(&self) -> BoxFuture<'_, Result<Option<FeedPosition>>> {
        Box::pin(async move {
            let link = &self.table.replica.link;
            let handles = link.handles().await?;
            let info = link
                .bounded("reading the change stream", handles.stream.get_info())
                .await?;
            let (first, last) = (info.state.first_sequence, info.state.last_sequence);
            // The follow task runs a moment after `follow` returned; a
            // change stored in between was made after the Dio began
            // following and must be delivered. Clocks may differ by the
            // skew: changes stored up to that much earlier are delivered
            // too (applied in stream order, they end where the stream ends).
            let skew = u64::try_from(link.options.clock_skew.as_millis()).unwrap_or(u64::MAX);
            let cutoff = self.since_ms.saturating_sub(skew);
            let stored_at = |sequence: u64| {
                let stream = &handles.stream;
                async move {
                    link.bounded("reading the change stream", async {
                        stream
                            .get_raw_message(sequence)
                            .await
                            .map_err(|e| Error::unavailable(e.to_string()))
                    })
                    .await
                    .map(|message| millis(message.time.unix_timestamp_nanos()))
                }
            };
            let anchor = anchor_before(first, last, cutoff, stored_at).await;
            let stored_ms = if anchor == last {
                millis(info.state.last_timestamp.unix_timestamp_nanos())
            } else {
                cutoff
            };
            Ok(Some(position(At {
                sequence: anchor,
                stored_ms,
                epoch_ms: millis(info.created.unix_timestamp_nanos()),
            })))
        })
    }
}

/// The last sequence of `first..=last` stored before `cutoff` (`first - 1`
/// when none is), found by bisection over the stream's storage times,
/// which grow with the sequence. A message that cannot be read counts as
/// stored after the cutoff: more is delivered, nothing is missed.
async fn anchor_before<F, Fut>(first: u64, last: u64, cutoff: u64, stored_at: F) -> u64
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<u64>>,
{
    if last == 0 || first > last {
        return last;
    }
    // Invariant: everything after `hi` is at or after the cutoff;
    // everything up to `lo` is before it.
    let (mut lo, mut hi) = (first.saturating_sub(1), last);
    match stored_at(last).await {
        Ok(at) if at < cutoff => return last,
        _ => {}
    }
    hi -= 1;
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        match stored_at(mid).await {
            Ok(at) if at < cutoff => lo = mid,
            _ => hi = mid - 1,
        }
    }
    lo
}

struct Reader {
    table: Arc<TableState>,
    /// The last position delivered (sequence `u64::MAX`: an unreadable
    /// stored one).
    from: Option<At>,
    /// When the stream being read was made.
    epoch_ms: u64,
    messages: Option<pull::Stream>,
    /// The row of the change yielded last, told to the rule once applied.
    commit: Option<Option<String>>,
    /// An outage was reported already.
    reported: bool,
}

impl Reader {
    async fn next_item(&mut self) -> Result<FeedItem> {
        loop {
            if let Some(Some(id)) = self.commit.take() {
                lock(&self.table.ordering).applied_remote(&id);
            }
            if self.messages.is_none() {
                match self.open().await {
                    Ok(Some(gap)) => return Ok(gap),
                    Ok(None) => {}
                    Err(error) => {
                        if let Some(error) = self.outage(error).await {
                            return Err(error);
                        }
                        continue;
                    }
                }
            }
            let Some(messages) = self.messages.as_mut() else {
                continue;
            };
            match messages.next().await {
                Some(Ok(message)) => {
                    self.reported = false;
                    self.table.replica.link.recovered();
                    if let Some(item) = self.take(&message).await {
                        return Ok(item);
                    }
                }
                Some(Err(error)) => {
                    self.messages = None;
                    let error = Error::unavailable(format!("reading the change stream: {error}"));
                    if let Some(error) = self.outage(error).await {
                        return Err(error);
                    }
                }
                None => self.messages = None,
            }
        }
    }

    /// A failure: said once per outage; then a pause before reconnecting.
    async fn outage(&mut self, error: Error) -> Option<Error> {
        self.messages = None;
        self.table
            .replica
            .link
            .failed("following the change stream", &error);
        tokio::time::sleep(RETRY).await;
        if self.reported {
            None
        } else {
            self.reported = true;
            Some(error)
        }
    }

    /// Open a consumer just after `from`; a gap first when the stream no
    /// longer holds what follows it.
    async fn open(&mut self) -> Result<Option<FeedItem>> {
        let link = &self.table.replica.link;
        let handles = link.handles().await?;
        let info = link
            .bounded("reading the change stream", handles.stream.get_info())
            .await?;
        let state = &info.state;
        let (first, last) = (state.first_sequence, state.last_sequence);
        let epoch = millis(info.created.unix_timestamp_nanos());
        self.epoch_ms = epoch;
        let mut gap = None;
        let start = match self.from {
            None => {
                // Only changes from now on (see `ChangeFeed::subscribe`).
                let stored = millis(state.last_timestamp.unix_timestamp_nanos());
                self.from = Some(At {
                    sequence: last,
                    stored_ms: stored,
                    epoch_ms: epoch,
                });
                lock(&self.table.ordering).resume(stored);
                last + 1
            }
            Some(at)
                if at.sequence <= last
                    && at.sequence.saturating_add(1) >= first
                    && (at.epoch_ms == 0 || at.epoch_ms == epoch) =>
            {
                lock(&self.table.ordering).resume(at.stored_ms);
                at.sequence + 1
            }
            Some(at) => {
                let reason = if at.sequence == u64::MAX {
                    "the stored stream position is unreadable".to_string()
                } else if at.sequence > last || (at.epoch_ms != 0 && at.epoch_ms != epoch) {
                    format!(
                        "the change stream was deleted and made again since this replica \
                         applied its change {} (it now ends at {last})",
                        at.sequence
                    )
                } else {
                    format!(
                        "the change stream no longer holds the changes after {} \
                         (it starts at {first}: trimmed by its limits or purged)",
                        at.sequence
                    )
                };
                let resumed = first.saturating_sub(1);
                let now = now_ms();
                let at = At {
                    sequence: resumed,
                    stored_ms: now,
                    epoch_ms: epoch,
                };
                self.from = Some(at);
                lock(&self.table.ordering).resume(now);
                gap = Some(FeedItem::Gap {
                    reason,
                    position: position(at),
                });
                first.max(1)
            }
        };
        self.table.start_at(epoch, start.saturating_sub(1));
        let config = pull::Config {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start.max(1),
            },
            ack_policy: consumer::AckPolicy::None,
            filter_subject: link.options.names().changes(&self.table.name),
            inactive_threshold: Duration::from_secs(30),
            memory_storage: true,
            ..Default::default()
        };
        let consumer: consumer::Consumer<pull::Config> = link
            .bounded(
                "following the change stream",
                handles.stream.create_consumer(config),
            )
            .await?;
        let messages = link
            .bounded(
                "following the change stream",
                consumer
                    .stream()
                    .heartbeat(Duration::from_millis(500))
                    .expires(Duration::from_secs(5))
                    .max_messages_per_batch(512)
                    .messages(),
            )
            .await?;
        self.messages = Some(messages);
        Ok(gap)
    }

    /// One message: judged by the rule; the item to yield, if any.
    async fn take(&mut self, message: &async_nats::jetstream::Message) -> Option<FeedItem> {
        let table = &self.table;
        let stats = &table.replica.stats;
        let (sequence, stored) = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                millis(info.published.unix_timestamp_nanos()),
            ),
            Err(_) => return None,
        };
        let now_at = At {
            sequence,
            stored_ms: stored,
            epoch_ms: self.epoch_ms,
        };
        self.from = Some(now_at);
        table.set_position(sequence);
        let at = position(now_at);
        let change = match Change::decode(&message.payload) {
            Ok(change) => change,
            Err(error) => {
                return Some(FeedItem::Gap {
                    reason: format!("an unreadable change at {sequence}: {error}"),
                    position: at,
                });
            }
        };
        let verdict = lock(&table.ordering).judge(&change, stored);
        let event = match verdict {
            Verdict::Skip => {
                stats.skipped.fetch_add(1, AtomicOrdering::Relaxed);
                return None;
            }
            Verdict::Apply => {
                stats.applied.fetch_add(1, AtomicOrdering::Relaxed);
                change.event()
            }
            Verdict::Refetch => {
                stats.refetched.fetch_add(1, AtomicOrdering::Relaxed);
                self.refetch(change.id.as_deref().unwrap_or_default()).await
            }
        };
        table.expect_echo(&event);
        self.commit = Some(event.id().map(String::from));
        Some(FeedItem::Change {
            event,
            position: at,
        })
    }

    /// The row as the master has it now (after both concurrent writes);
    /// marked stale when the master cannot say.
    async fn refetch(&self, id: &str) -> ChangeEvent {
        let stats = &self.table.replica.stats;
        stats.master_reads.fetch_add(1, AtomicOrdering::Relaxed);
        match self.table.master.get(id).await {
            Ok(Some(record)) => ChangeEvent::Updated {
                id: id.to_string(),
                fields: Some(record),
            },
            Ok(None) => ChangeEvent::Removed { id: id.to_string() },
            Err(_) => ChangeEvent::Updated {
                id: id.to_string(),
                fields: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(times: &[u64], first: u64, cutoff: u64, unreadable: Option<u64>) -> u64 {
        let last = first + times.len() as u64 - 1;
        futures_lite::future::block_on(anchor_before(first, last, cutoff, |seq| {
            let at = if Some(seq) == unreadable {
                Err(Error::unavailable("gone"))
            } else {
                Ok(times[(seq - first) as usize])
            };
            async move { at }
        }))
    }

    #[test]
    fn the_anchor_is_the_last_change_stored_before_following_began() {
        let times = [10, 20, 20, 30, 40, 50];
        assert_eq!(anchor(&times, 1, 100, None), 6, "all before");
        assert_eq!(anchor(&times, 1, 35, None), 4);
        assert_eq!(anchor(&times, 1, 20, None), 1, "ties are delivered");
        assert_eq!(anchor(&times, 1, 5, None), 0, "none before");
        assert_eq!(anchor(&times, 11, 5, None), 10, "a trimmed stream");
        // An unreadable message is treated as after the cutoff.
        assert!(anchor(&times, 1, 35, Some(3)) <= 4);
        for cutoff in 0..60 {
            let expected = times.iter().filter(|&&t| t < cutoff).count() as u64;
            assert_eq!(anchor(&times, 1, cutoff, None), expected, "cutoff {cutoff}");
        }
    }

    #[test]
    fn positions_round_trip_and_shorter_forms_are_read() {
        let at = At {
            sequence: 42,
            stored_ms: 7,
            epoch_ms: 3,
        };
        assert_eq!(read_position(&position(at)), Some(at));
        let bare = read_position(&FeedPosition::from_u64(9)).unwrap();
        assert_eq!((bare.sequence, bare.stored_ms, bare.epoch_ms), (9, 0, 0));
        assert_eq!(read_position(&FeedPosition(vec![1, 2, 3])), None);
    }
}
