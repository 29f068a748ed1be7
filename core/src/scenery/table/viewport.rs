//! The viewport loop: commits the viewport the model holds once its
//! debounce has passed (the rule in `scenery/debounce.rs`, applied by the
//! model), then drops the rows far from it.
//!
//! With a zero debounce a viewport is committed as soon as the loop wakes,
//! no timer armed. After a commit the loop yields before trimming, so the
//! load just started reaches its callback first: freeing a chunk's worth
//! of rows costs more than the whole dispatch, and nothing reads them
//! meanwhile.

use alloc::sync::Weak;

use futures_lite::future::{or, yield_now};

use super::state::TableState;

pub(crate) async fn run(state: Weak<TableState>) {
    let Some(runtime) = state.upgrade().map(|s| s.runtime.clone()) else {
        return;
    };
    loop {
        let (listener, due) = {
            let Some(state) = state.upgrade() else { return };
            // Listen before looking, so a viewport held meanwhile wakes us.
            let listener = state.wake.listen();
            (listener, state.model.read().poll_timeout())
        };
        let Some(due) = due else {
            listener.await;
            continue;
        };
        let now = runtime.now();
        if due > now {
            or(listener, runtime.sleep(due - now)).await;
            continue;
        }
        let Some(state) = state.upgrade() else { return };
        if let Some(range) = state.drive(|model| model.handle_timeout(now)) {
            yield_now().await;
            state.drive(|model| model.trim(&range));
        }
    }
}
