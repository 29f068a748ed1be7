//! The viewport loop: debounce (the rule in `scenery/debounce.rs`), then
//! commit.
//!
//! Requests arriving within `viewport_debounce` of each other collapse into
//! the last one (a forced request keeps the burst forced); with a zero
//! debounce a request is committed as soon as the loop takes it, no timer
//! armed. Committing publishes `ViewportChanged`, plans and starts the
//! load; then, once the loop has yielded so the load reaches its callback
//! first, rows far from the viewport are dropped so memory stays
//! proportional to it.

use alloc::sync::{Arc, Weak};
use core::ops::Range;
use core::time::Duration;

use event_listener::Event;
use futures_lite::future::{or, yield_now};

use super::super::debounce::{self, Next};
use super::load::Repaint;
use super::state::{TableState, ViewportRequest};
use crate::dio::DioEvent;
use crate::sync::Mutex;

/// The latest request not yet taken by the loop: last wins, and a forced
/// request keeps the burst forced.
///
/// A slot rather than a queue because only the newest request matters.
#[derive(Debug, Default)]
pub(crate) struct RequestSlot {
    latest: Mutex<Option<ViewportRequest>>,
    /// The range of the last request put, taken or not: what the UI wants
    /// to see now, even while the loop holds it in its debounce.
    requested: Mutex<Option<Range<usize>>>,
    event: Event,
}

impl RequestSlot {
    pub(crate) fn put(&self, request: ViewportRequest) {
        *self.requested.lock() = Some(request.range.clone());
        {
            let mut latest = self.latest.lock();
            let force = request.force || latest.as_ref().is_some_and(|r| r.force);
            *latest = Some(ViewportRequest { force, ..request });
        }
        self.event.notify(1);
    }

    /// The range of the last request put, if any (committed or not).
    pub(crate) fn requested(&self) -> Option<Range<usize>> {
        self.requested.lock().clone()
    }

    fn take(&self) -> Option<ViewportRequest> {
        self.latest.lock().take()
    }

    /// Wait for a request. Cancel safe: a request is only taken when returned.
    async fn next(&self) -> ViewportRequest {
        loop {
            if let Some(request) = self.take() {
                return request;
            }
            let listener = self.event.listen();
            if let Some(request) = self.take() {
                return request;
            }
            listener.await;
        }
    }
}

pub(crate) async fn run(state: Weak<TableState>, debounce: Duration) {
    let Some((runtime, slot)) = state
        .upgrade()
        .map(|s| (s.runtime.clone(), s.requests.clone()))
    else {
        return;
    };
    loop {
        let mut request = slot.next().await;
        let mut last_request = runtime.now();
        while let Next::Wait(left) = debounce::next(debounce, last_request, runtime.now()) {
            let quiet = runtime.sleep(left);
            let newer = or(async { Some(slot.next().await) }, async {
                quiet.await;
                None
            })
            .await;
            if let Some(newer) = newer {
                request = ViewportRequest {
                    force: request.force || newer.force,
                    ..newer
                };
                last_request = runtime.now();
            }
        }
        let Some(state) = state.upgrade() else { return };
        let range = request.range.clone();
        state.commit(request);
        // Let the load just spawned reach its callback before the far rows
        // are dropped: freeing a chunk's worth of rows costs more than the
        // whole dispatch, and nothing reads them meanwhile.
        yield_now().await;
        state.trim(&range);
    }
}

impl TableState {
    /// Commit a (debounced) request: announce it, load what it needs. The
    /// rows far from it stay until [`trim`](Self::trim).
    pub(crate) fn commit(self: &Arc<Self>, request: ViewportRequest) {
        let ViewportRequest { range, force } = request;
        let forward = {
            let mut committed = self.committed.lock();
            let forward = committed
                .as_ref()
                .is_none_or(|previous| range.start >= previous.start);
            *committed = Some(range.clone());
            forward
        };
        self.publish(DioEvent::ViewportChanged {
            scenery: self.scenery_id,
            range: range.clone(),
        });
        let loading = self.load_for(range.clone(), forward, force, Repaint::Now);
        if loading.is_none() {
            self.drop_replaced_rows();
        }
        self.hydrate_visible(true);
    }

    /// Drop the rows far from the committed `range`, so memory stays
    /// proportional to the viewport.
    pub(crate) fn trim(&self, range: &Range<usize>) {
        if self.paged {
            self.view.write().rows.retain_pages(self.retained(range));
        }
    }

    /// After a query change whose viewport needs no load (it lies past the
    /// new end, or the cache covered it), the old query's rows must not stay:
    /// drop them unless a load of the new query is still on its way.
    fn drop_replaced_rows(&self) {
        let epoch = self.current_epoch();
        let query = self.query.lock().query.clone();
        let loads = self.loads.lock();
        if loads.active.iter().any(|load| load.epoch == epoch) {
            return;
        }
        let mut view = self.view.write();
        if !view.replace_on_land {
            return;
        }
        view.replace_on_land = false;
        view.rows.clear();
        view.shown_query = query;
        drop(view);
        drop(loads);
        self.bump();
    }

    /// The rows kept in memory around `visible`.
    fn retained(&self, visible: &Range<usize>) -> Range<usize> {
        visible.start.saturating_sub(self.retain_rows)..visible.end.saturating_add(self.retain_rows)
    }
}
