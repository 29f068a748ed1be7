//! The policy a Lens freezes and every Dio it makes follows: cache backend,
//! runtime, the user's callbacks and the defaults.
//!
//! It lives at the Dio's layer because the callbacks take the Dio: a Dio
//! holds its policy without knowing the `Lens` that built it, and
//! `LensBuilder` (one layer up) fills [`Callbacks`] and freezes a [`Policy`].
//!
//! Each callback borrows the [`Dio`] for the life of its future
//! (`for<'a> Fn(&'a Dio) -> BoxFuture<'a, _>`); the builder wraps the
//! natural closure form `|dio| async move { … }`, which receives an owned
//! (cheap) clone of the Dio so its future can be `'static`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::ops::Range;

use tracing::Instrument;

use super::lens_events::LensEventSender;
use super::{ChangeEvent, ChunkSink, Dio, LensDefaults, WriteKey, WriteOp};
use crate::cache::CacheBackend;
use crate::error::Result;
use crate::runtime::{BoxFuture, Runtime};
use crate::sync::broadcast;
use crate::vista::{Query, QueryDescriptor};

/// A callback taking the Dio only (`on_start`, `on_refresh`).
pub(crate) type DioCallback<T = ()> =
    Box<dyn for<'a> Fn(&'a Dio) -> BoxFuture<'a, Result<T>> + Send + Sync>;

/// A callback taking the Dio and one argument (`on_write`, `on_event`,
/// `on_query`, `total_provider`).
pub(crate) type DioArgCallback<A, T = ()> =
    Box<dyn for<'a> Fn(&'a Dio, A) -> BoxFuture<'a, Result<T>> + Send + Sync>;

/// `on_load_chunk`: fetches rows `range` of `query` and pushes them into the sink.
pub(crate) type DioLoadChunkCallback = Box<
    dyn for<'a> Fn(&'a Dio, Range<usize>, Query, ChunkSink) -> BoxFuture<'a, Result<()>>
        + Send
        + Sync,
>;

/// Box `f` of the natural form `|dio| async move { … }`.
pub(crate) fn dio_callback<F, Fut, T>(f: F) -> DioCallback<T>
where
    F: Fn(Dio) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    Box::new(move |dio: &Dio| Box::pin(f(dio.clone())))
}

/// Box `f` of the natural form `|dio, arg| async move { … }`.
pub(crate) fn dio_arg_callback<A, F, Fut, T>(f: F) -> DioArgCallback<A, T>
where
    A: 'static,
    F: Fn(Dio, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    Box::new(move |dio: &Dio, arg: A| Box::pin(f(dio.clone(), arg)))
}

/// Box `f` of the natural form `|dio, range, query, sink| async move { … }`.
pub(crate) fn load_chunk_callback<F, Fut>(f: F) -> DioLoadChunkCallback
where
    F: Fn(Dio, Range<usize>, Query, ChunkSink) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    Box::new(move |dio: &Dio, range, query, sink| {
        let span = super::spans::load_chunk(dio.table_name(), &range, &query);
        let load = f(dio.clone(), range, query, sink).instrument(span.clone());
        Box::pin(async move {
            let outcome = load.await;
            super::spans::outcome(&span, &outcome);
            outcome
        })
    })
}

/// Every callback a Lens may hold, all optional. Filled by `LensBuilder`;
/// read through [`Policy`].
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) on_start: Option<DioCallback>,
    pub(crate) on_refresh: Option<DioCallback>,
    pub(crate) on_write: Option<DioArgCallback<(WriteKey, WriteOp)>>,
    pub(crate) on_event: Option<DioArgCallback<ChangeEvent>>,
    pub(crate) on_query: Option<DioArgCallback<QueryDescriptor>>,
    pub(crate) total_provider: Option<DioArgCallback<Query, usize>>,
    pub(crate) on_load_chunk: Option<DioLoadChunkCallback>,
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks")
            .field("on_start", &self.on_start.is_some())
            .field("on_refresh", &self.on_refresh.is_some())
            .field("on_write", &self.on_write.is_some())
            .field("on_event", &self.on_event.is_some())
            .field("on_query", &self.on_query.is_some())
            .field("total_provider", &self.total_provider.is_some())
            .field("on_load_chunk", &self.on_load_chunk.is_some())
            .finish()
    }
}

/// A frozen Lens configuration, shared by the Lens and each of its Dios.
pub(crate) struct Policy {
    cache: Arc<dyn CacheBackend>,
    runtime: Arc<dyn Runtime>,
    callbacks: Callbacks,
    defaults: LensDefaults,
    /// The Lens-wide bus every Dio of the Lens also publishes on.
    lens_events: LensEventSender,
}

impl Policy {
    pub(crate) fn new(
        cache: Arc<dyn CacheBackend>,
        runtime: Arc<dyn Runtime>,
        callbacks: Callbacks,
        defaults: LensDefaults,
    ) -> Self {
        let (lens_events, _) = broadcast::channel(defaults.event_bus_capacity);
        Policy {
            cache,
            runtime,
            callbacks,
            defaults,
            lens_events,
        }
    }

    /// The backend each Dio's cache table is opened in.
    pub(crate) fn cache_backend(&self) -> &Arc<dyn CacheBackend> {
        &self.cache
    }

    /// The runtime every task of every Dio runs on.
    pub(crate) fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.runtime
    }

    /// The Lens-wide bus (see [`LensEvents`](super::LensEvents)).
    pub(crate) fn lens_events(&self) -> &LensEventSender {
        &self.lens_events
    }

    pub(crate) fn defaults(&self) -> &LensDefaults {
        &self.defaults
    }

    pub(crate) fn on_start(&self) -> Option<&DioCallback> {
        self.callbacks.on_start.as_ref()
    }

    pub(crate) fn on_refresh(&self) -> Option<&DioCallback> {
        self.callbacks.on_refresh.as_ref()
    }

    /// The write router; `None`: the default write-through.
    pub(crate) fn on_write(&self) -> Option<&DioArgCallback<(WriteKey, WriteOp)>> {
        self.callbacks.on_write.as_ref()
    }

    pub(crate) fn on_event(&self) -> Option<&DioArgCallback<ChangeEvent>> {
        self.callbacks.on_event.as_ref()
    }

    pub(crate) fn on_query(&self) -> Option<&DioArgCallback<QueryDescriptor>> {
        self.callbacks.on_query.as_ref()
    }

    pub(crate) fn total_provider(&self) -> Option<&DioArgCallback<Query, usize>> {
        self.callbacks.total_provider.as_ref()
    }

    /// The chunk loader; with one, table views are paged.
    pub(crate) fn on_load_chunk(&self) -> Option<&DioLoadChunkCallback> {
        self.callbacks.on_load_chunk.as_ref()
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("cache", &self.cache)
            .field("runtime", &self.runtime)
            .field("callbacks", &self.callbacks)
            .field("defaults", &self.defaults)
            .finish()
    }
}
