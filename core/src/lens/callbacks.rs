//! The user's policy callbacks: boxed, higher-ranked shapes, built from
//! natural closures.
//!
//! Storage follows the seed: each callback borrows the [`Dio`] for the life
//! of its future (`for<'a> Fn(&'a Dio) -> BoxFuture<'a, _>`). The builder
//! setters accept the natural form `|dio| async move { … }`, which receives
//! an owned (cheap) clone of the Dio so the returned future can be `'static`;
//! the `*_boxed` setters take the higher-ranked shape directly for callbacks
//! that want to borrow.

use alloc::boxed::Box;
use core::future::Future;
use core::ops::Range;

use crate::dio::{ChangeEvent, Dio, WriteOp};
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::scenery::ChunkSink;
use crate::vista::{Query, QueryDescriptor};

/// `on_start` / `on_refresh`: runs with the Dio.
pub type DioCallback = Box<dyn for<'a> Fn(&'a Dio) -> BoxFuture<'a, Result<()>> + Send + Sync>;

/// `on_write`: routes one queued write.
pub type DioWriteCallback =
    Box<dyn for<'a> Fn(&'a Dio, WriteOp) -> BoxFuture<'a, Result<()>> + Send + Sync>;

/// `on_event`: handles one external change event.
pub type DioEventCallback =
    Box<dyn for<'a> Fn(&'a Dio, ChangeEvent) -> BoxFuture<'a, Result<()>> + Send + Sync>;

/// `on_query`: warms the cache for a query not answered yet.
pub type DioQueryCallback =
    Box<dyn for<'a> Fn(&'a Dio, QueryDescriptor) -> BoxFuture<'a, Result<()>> + Send + Sync>;

/// `total_provider`: states the row count of a table scenery's query.
pub type DioTotalProviderCallback =
    Box<dyn for<'a> Fn(&'a Dio, Query) -> BoxFuture<'a, Result<usize>> + Send + Sync>;

/// `on_load_chunk`: fetches rows `range` of `query` and pushes them into the sink.
pub type DioLoadChunkCallback = Box<
    dyn for<'a> Fn(&'a Dio, Range<usize>, Query, ChunkSink) -> BoxFuture<'a, Result<()>>
        + Send
        + Sync,
>;

/// Every callback a Lens may hold. All optional.
#[derive(Default)]
pub(crate) struct LensCallbacks {
    pub(crate) on_start: Option<DioCallback>,
    pub(crate) on_refresh: Option<DioCallback>,
    pub(crate) on_write: Option<DioWriteCallback>,
    pub(crate) on_event: Option<DioEventCallback>,
    pub(crate) on_query: Option<DioQueryCallback>,
    pub(crate) total_provider: Option<DioTotalProviderCallback>,
    pub(crate) on_load_chunk: Option<DioLoadChunkCallback>,
}

impl core::fmt::Debug for LensCallbacks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LensCallbacks")
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

/// The boxed higher-ranked shape of a callback taking the Dio only.
pub(crate) type Boxed<T> = Box<dyn for<'a> Fn(&'a Dio) -> BoxFuture<'a, Result<T>> + Send + Sync>;

/// The boxed higher-ranked shape of a callback taking the Dio and one argument.
pub(crate) type BoxedArg<A, T> =
    Box<dyn for<'a> Fn(&'a Dio, A) -> BoxFuture<'a, Result<T>> + Send + Sync>;

pub(crate) fn dio_callback<F, Fut, T>(f: F) -> Boxed<T>
where
    F: Fn(Dio) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    Box::new(move |dio: &Dio| Box::pin(f(dio.clone())))
}

pub(crate) fn dio_arg_callback<A, F, Fut, T>(f: F) -> BoxedArg<A, T>
where
    A: 'static,
    F: Fn(Dio, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    Box::new(move |dio: &Dio, arg: A| Box::pin(f(dio.clone(), arg)))
}
