//! Following change feeds, so changes made elsewhere reach the Dio's cache
//! and views: one task per feed, a thin driver over [`Retry`] and the
//! start rule. What it promises is documented on [`Dio::follow`].

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::time::Duration;

use futures_lite::StreamExt;

use super::latch::Latch;
use super::{Dio, DioEvent, DioInner};
use crate::cache::CacheBatch;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::{AbortOnDrop, RuntimeExt};
use crate::sync::Mutex;
use crate::vista::{ChangeEvent, ChangeFeed, FeedItem, FeedPosition};

/// Errors in a row after which the follower drops the stream and
/// subscribes again from its last position.
pub(crate) const MAX_ERRORS: u32 = 3;
/// The first wait before subscribing again.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait before subscribing again.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(8);

impl Dio {
    /// Follow `feed` as well as the master's own: every change it delivers
    /// goes through [`handle_event`](Dio::handle_event). For feeds that are
    /// not the master's, such as a bridge from replicas; a Dio follows its
    /// master's own feed ([`TableShell::change_feed`](crate::TableShell::change_feed))
    /// by itself from the moment it opens. One task per feed:
    ///
    /// - **Resuming.** After each change is applied, the position after it
    ///   is stored in the cache meta, under `f/` and the feed's
    ///   [`name`](ChangeFeed::name). A restart resumes there, so no change is
    ///   ever skipped; the last one may be applied a second time, which
    ///   leaves the same cache (a change carries values, not increments).
    /// - **Starting.** With no stored position the follower anchors at the
    ///   feed's current end ([`ChangeFeed::position`]); for the master's
    ///   feed this happens before `on_start` runs, so nothing `on_start`
    ///   copies can miss a change made meanwhile. If rows were cached before
    ///   the anchor (a cache filled before the feed was followed), or the
    ///   feed cannot tell its end and the cache is warm, changes may have
    ///   been missed: that is handled as a gap.
    /// - **Gaps.** When the feed cannot deliver every change since the
    ///   stored position ([`FeedItem::Gap`]), the Dio stops vouching for
    ///   its cache: it publishes [`DioEvent::ChangesLost`], then
    ///   [`invalidate_all`](Dio::invalidate_all) (rows read as stale, views
    ///   refetch), and goes on from the gap's position.
    /// - **Failures.** An error from the feed (a lost connection) is
    ///   published as [`DioEvent::FeedFailed`] and the feed goes on: it
    ///   resumes by itself without skipping. After three errors in a row,
    ///   or when the stream ends, the follower subscribes again from its
    ///   last position after a backoff (250 ms, doubling up to 8 s, reset
    ///   by the next item). A change the Dio cannot apply (an `on_event`
    ///   error, a failed cache write) marks its row stale (everything, for
    ///   a reset), is published as `FeedFailed`, and is passed.
    /// - **Lifetime.** The task holds the Dio weakly, like the refresh
    ///   loop: it never keeps the Dio open, and it stops when the Dio shuts
    ///   down.
    ///
    /// **The Dio's own writes.** A feed reports the Dio's own writes too,
    /// once the master committed them, and applying a change is not ordered
    /// against the write queue. So a change read just before one of the
    /// Dio's writes committed can land in the cache after that
    /// write-through, briefly showing the value the master held a moment
    /// earlier. The cache still converges to the master: the entry of the
    /// Dio's own write comes later and carries the newer value. This was
    /// chosen over suppressing the echoes of own writes, which needs the
    /// master to tag them and would drop the external changes racing them.
    ///
    /// Errors: `InvalidInput` when a feed of the same name is followed
    /// already (their positions would collide), `ShuttingDown` once the Dio
    /// shuts down.
    pub fn follow(&self, feed: Arc<dyn ChangeFeed>) -> Result<()> {
        start(self, feed).map(drop)
    }

    /// The names of the feeds this Dio follows, the master's included.
    pub fn followed_feeds(&self) -> Vec<String> {
        let state = self.inner.followers.state.lock();
        state.tasks.iter().map(|(name, _)| name.clone()).collect()
    }
}

/// The follower tasks of one Dio.
#[derive(Debug, Default)]
pub(crate) struct Followers {
    state: Mutex<FollowerTasks>,
    /// Set once the master's feed (if any) has made its first attempt to
    /// anchor; `on_start` waits for it.
    master_anchored: Mutex<Option<Arc<Latch>>>,
}

#[derive(Debug, Default)]
struct FollowerTasks {
    tasks: Vec<(String, Option<AbortOnDrop>)>,
    stopped: bool,
}

impl Followers {
    /// Stop every follower (the Dio is shutting down); later `follow`
    /// calls are refused.
    pub(crate) fn stop(&self) {
        let tasks = {
            let mut state = self.state.lock();
            state.stopped = true;
            core::mem::take(&mut state.tasks)
        };
        // Aborting outside the lock: it may wake tasks.
        drop(tasks);
    }

    /// Wait until the master's feed anchored its start (or failed its
    /// first attempt, which the follower retries), so `on_start` caches
    /// nothing from before the feed's start. Immediate without a feed.
    pub(crate) async fn master_anchored(&self) {
        let latch = self.master_anchored.lock().clone();
        if let Some(latch) = latch {
            latch.wait().await;
        }
    }
}

/// Follow the master's own feed, when its shell offers one.
pub(crate) fn follow_master(dio: &Dio) -> Result<()> {
    if let Some(feed) = dio.master().shell().change_feed() {
        let anchored = start(dio, feed)?;
        *dio.inner.followers.master_anchored.lock() = Some(anchored);
    }
    Ok(())
}

/// The meta key of the stored position of the feed `name`.
pub(crate) fn position_key(name: &str) -> Vec<u8> {
    crate::cache::meta::feed_position(name)
}

fn start(dio: &Dio, feed: Arc<dyn ChangeFeed>) -> Result<Arc<Latch>> {
    let name = String::from(feed.name());
    let followers = &dio.inner.followers;
    {
        let mut state = followers.state.lock();
        if state.stopped || dio.is_shutting_down() {
            return Err(Error::new(
                ErrorKind::ShuttingDown,
                "the Dio is shutting down and follows no new feed",
            ));
        }
        if state.tasks.iter().any(|(followed, _)| *followed == name) {
            return Err(Error::invalid_input(alloc::format!(
                "this Dio already follows a feed named \"{name}\"; \
                 each feed needs its own name (its position is stored under it)"
            )));
        }
        // The name is taken now; the task is filled in once spawned.
        state.tasks.push((name.clone(), None));
    }
    let anchored = Arc::new(Latch::new());
    let task = dio
        .runtime()
        .spawn("diorama.feed", run(dio.downgrade(), feed, anchored.clone()))
        .abort_on_drop();
    let mut state = followers.state.lock();
    if let Some(slot) = state
        .tasks
        .iter_mut()
        .find(|(followed, _)| *followed == name)
    {
        slot.1 = Some(task);
    } else {
        // Stopped meanwhile: the task goes (aborted on drop, outside the lock).
        drop(state);
        drop(task);
    }
    Ok(anchored)
}

/// When to subscribe again, as a plain rule: errors in a row and the
/// backoff, both reset by progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Retry {
    errors: u32,
    backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            errors: 0,
            backoff: FIRST_BACKOFF,
        }
    }
}

impl Retry {
    /// An item arrived: errors and backoff start over.
    pub(crate) fn progress(&mut self) {
        *self = Retry::default();
    }

    /// An error arrived; true when the stream should be dropped and
    /// subscribed again.
    pub(crate) fn failed(&mut self) -> bool {
        self.errors += 1;
        self.errors >= MAX_ERRORS
    }

    /// How long to wait before subscribing again; each wait doubles the
    /// next, up to [`MAX_BACKOFF`].
    pub(crate) fn delay(&mut self) -> Duration {
        let delay = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.errors = 0;
        delay
    }
}

/// A live handle, unless the Dio is gone or shutting down.
fn live(weak: &Weak<DioInner>) -> Option<Dio> {
    Dio::upgrade(weak).filter(|dio| !dio.is_shutting_down())
}

async fn run(weak: Weak<DioInner>, feed: Arc<dyn ChangeFeed>, anchored: Arc<Latch>) {
    // However the task ends, `on_start` must not wait for it.
    let _anchored = SetOnDrop(anchored.clone());
    let name = String::from(feed.name());
    let key = position_key(&name);
    let Some(dio) = live(&weak) else { return };
    let runtime = dio.runtime().clone();
    let mut from = dio.cache().meta_get(&key).ok().flatten().map(FeedPosition);
    drop(dio);
    let mut retry = Retry::default();
    loop {
        if from.is_none() {
            match feed.position().await {
                Ok(anchor) => from = anchor,
                Err(error) => {
                    anchored.set();
                    let Some(dio) = live(&weak) else { return };
                    failed(&dio, &name, error.context("finding where the feed starts"));
                    drop(dio);
                    runtime.sleep(retry.delay()).await;
                    continue;
                }
            }
            let Some(dio) = live(&weak) else { return };
            // Rows cached before the anchor may have missed changes.
            if dio.cache().count().map_or(true, |rows| rows > 0) {
                lost(
                    &dio,
                    &name,
                    String::from(
                        "no position was stored for this feed and rows were already cached: \
                         changes made before following began may be missing",
                    ),
                );
            }
            if let Some(anchor) = &from {
                store(&dio, &key, anchor);
            }
        }
        anchored.set();
        let mut stream = feed.subscribe(from.clone());
        loop {
            let item = stream.next().await;
            let Some(dio) = live(&weak) else { return };
            match item {
                None => break,
                Some(Ok(FeedItem::Change { event, position })) => {
                    apply(&dio, &name, event).await;
                    store(&dio, &key, &position);
                    from = Some(position);
                    retry.progress();
                }
                Some(Ok(FeedItem::Gap { reason, position })) => {
                    lost(&dio, &name, reason);
                    store(&dio, &key, &position);
                    from = Some(position);
                    retry.progress();
                }
                Some(Err(error)) => {
                    failed(&dio, &name, error);
                    if retry.failed() {
                        break;
                    }
                }
            }
        }
        drop(stream);
        runtime.sleep(retry.delay()).await;
        if live(&weak).is_none() {
            return;
        }
    }
}

/// Apply one change; one that cannot be applied is not vouched for.
async fn apply(dio: &Dio, feed: &str, event: ChangeEvent) {
    let id = event.id().map(String::from);
    if let Err(error) = dio.handle_event(event).await {
        match id {
            Some(id) => dio.invalidate_record(id),
            None => dio.invalidate_all(),
        }
        failed(dio, feed, error.context("applying a change from the feed"));
    }
}

fn store(dio: &Dio, key: &[u8], position: &FeedPosition) {
    let mut batch = CacheBatch::new();
    batch.meta_put(key.to_vec(), position.0.clone());
    // Not stored, a restart resumes from an older position and applies
    // some changes again: nothing is skipped.
    let _ = dio.cache().apply(batch);
}

fn lost(dio: &Dio, feed: &str, reason: String) {
    dio.publish(DioEvent::ChangesLost {
        feed: String::from(feed),
        reason,
    });
    // `invalidate_all` without telling the change tap (issue 14): this
    // Dio lost track, the data did not change, so replicas need not hear.
    dio.mark_invalidated();
    dio.publish(DioEvent::Invalidated);
}

fn failed(dio: &Dio, feed: &str, error: Error) {
    dio.publish(DioEvent::FeedFailed {
        feed: String::from(feed),
        error,
    });
}

/// Sets the latch when dropped (the task ended or was aborted).
struct SetOnDrop(Arc<Latch>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_in_a_row_resubscribe_and_progress_resets() {
        let mut retry = Retry::default();
        assert!(!retry.failed());
        assert!(!retry.failed());
        assert!(retry.failed(), "the third error in a row resubscribes");
        assert_eq!(retry.delay(), FIRST_BACKOFF);
        assert!(!retry.failed(), "the count starts over after a resubscribe");
        retry.progress();
        assert_eq!(retry, Retry::default());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut retry = Retry::default();
        let delays: Vec<Duration> = (0..8).map(|_| retry.delay()).collect();
        assert_eq!(delays[0], FIRST_BACKOFF);
        assert_eq!(delays[1], FIRST_BACKOFF * 2);
        assert_eq!(delays[5], MAX_BACKOFF);
        assert_eq!(delays[7], MAX_BACKOFF);
        retry.progress();
        assert_eq!(retry.delay(), FIRST_BACKOFF);
    }

    #[test]
    fn position_keys_are_per_feed_under_the_prefix() {
        assert_eq!(position_key("postgres"), b"f/postgres".to_vec());
        assert_ne!(position_key("a"), position_key("b"));
    }
}
