//! The views' hook: the sceneries of a Dio, told synchronously of what
//! changes how a row is shown, before the call that changed it returns.
//!
//! The event bus is asynchronous: a scenery's task sees a `WriteQueued`
//! only when it is next polled, so a UI reading right after `try_patch`
//! would still see the old value as `Fresh` (DESIGN.md §3.2 says pending
//! writes show "at once"). Sceneries register a weak [`ViewHook`] here; the
//! Dio calls it on the writing thread. The bus still carries every event
//! (other subscribers, and views catching up after a lag).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use super::Dio;
use crate::sync::Mutex;

/// What a scenery is told synchronously by its Dio.
pub(crate) trait ViewHook: Send + Sync {
    /// A write to row `id` was just queued: its pending overlay changed.
    fn write_pending(self: Arc<Self>, dio: &Dio, id: &str);
    /// A non-blocking `on_start` finished: the cache may hold rows it
    /// lacked when the view opened.
    fn started(self: Arc<Self>, dio: &Dio);
}

/// The registered hooks, held weakly (a dropped scenery is pruned lazily),
/// and the views shared by sceneries of one query.
#[derive(Default)]
pub(crate) struct Views {
    hooks: Mutex<Hooks>,
    /// Views by query key, held weakly: a scenery opened on a query that
    /// an open scenery shows attaches to its view instead of building one.
    /// Typed by the scenery layer (this layer only keeps them).
    shared: Mutex<BTreeMap<String, Weak<dyn Any + Send + Sync>>>,
}

#[derive(Default)]
struct Hooks {
    live: Vec<Weak<dyn ViewHook>>,
    /// Prune dead entries when `live` grows to this many (amortized O(1)).
    prune_at: usize,
}

impl core::fmt::Debug for Views {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Views")
            .field("hooks", &self.hooks.lock().live.len())
            .finish()
    }
}

impl Views {
    /// Register `hook`; it is told until its scenery is dropped.
    pub(crate) fn register(&self, hook: Weak<dyn ViewHook>) {
        let mut hooks = self.hooks.lock();
        if hooks.live.len() >= hooks.prune_at {
            hooks.live.retain(|hook| hook.strong_count() > 0);
            hooks.prune_at = (hooks.live.len() * 2).max(16);
        }
        hooks.live.push(hook);
    }

    /// The view shared under `key`, if one is open.
    pub(crate) fn shared<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let view = self.shared.lock().get(key)?.upgrade()?;
        view.downcast::<T>().ok()
    }

    /// Share `view` under `key` (replacing a dropped one); dropped views'
    /// entries are pruned as new ones come.
    pub(crate) fn share<T: Any + Send + Sync>(&self, key: String, view: &Arc<T>) {
        let any: Arc<dyn Any + Send + Sync> = view.clone();
        let mut shared = self.shared.lock();
        if shared.len() >= 64 && shared.len().is_power_of_two() {
            shared.retain(|_, view| view.strong_count() > 0);
        }
        shared.insert(key, Arc::downgrade(&any));
    }

    /// Call `f` on every live hook, outside the registry's lock (a hook
    /// takes its view's locks and may open or drop sceneries).
    pub(crate) fn each(&self, mut f: impl FnMut(Arc<dyn ViewHook>)) {
        let live: Vec<Arc<dyn ViewHook>> = {
            let hooks = self.hooks.lock();
            if hooks.live.is_empty() {
                return;
            }
            hooks.live.iter().filter_map(Weak::upgrade).collect()
        };
        for hook in live {
            f(hook);
        }
    }
}
