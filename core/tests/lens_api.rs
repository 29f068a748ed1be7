//! The Lens builder as a user meets it: `build()?` in functions returning
//! the core `Result`, runtimes and cache backends by value or shared.
#![cfg(feature = "sim")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diorama_core::cache::CacheBackend;
use diorama_core::lens::LensBuildError;
use diorama_core::runtime::{BoxFuture, Instant, Runtime, Timestamp};
use diorama_core::sim::SimRuntime;
use diorama_core::{Error, ErrorKind, Lens, MemoryBackend, MemoryVista, Result, Vista, record};

/// A runtime passed by value: the simulator's, counting what it spawns.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn Runtime>,
    spawned: Arc<AtomicUsize>,
}

impl Runtime for Counting {
    fn spawn_boxed(&self, name: &'static str, future: BoxFuture<'static, ()>) {
        self.spawned.fetch_add(1, Ordering::SeqCst);
        self.inner.spawn_boxed(name, future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn wall_clock(&self) -> Timestamp {
        self.inner.wall_clock()
    }
}

fn build_without_runtime() -> Result<Lens> {
    // `?` converts the refused configuration into the core `Error`.
    let lens = Lens::builder().cache_source(MemoryBackend::new()).build()?;
    Ok(lens)
}

#[test]
fn a_refused_configuration_converts_into_error() {
    let error = build_without_runtime().expect_err("no runtime");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        error.message(),
        "invalid Lens configuration: no runtime: call runtime(..)"
    );
    assert_eq!(
        Error::from(LensBuildError::ZeroQueueCapacity),
        Error::invalid_input("invalid Lens configuration: write_queue_capacity must be at least 1")
    );
}

#[test]
fn runtime_and_backend_by_value_are_the_ones_used() {
    let sim = SimRuntime::new(1);
    let spawned = Arc::new(AtomicUsize::new(0));
    let runtime = Counting {
        inner: sim.runtime(),
        spawned: spawned.clone(),
    };
    let lens = Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(runtime)
        .build()
        .unwrap();
    let master = MemoryVista::new("m");
    sim.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let ticket = dio
            .try_insert(Some("a".into()), record! { "n" => 1 })
            .unwrap();
        ticket.outcome().await.unwrap();
        dio.shutdown().await.unwrap();
    });
    assert!(
        spawned.load(Ordering::SeqCst) >= 1,
        "the write worker runs on it"
    );
    assert_eq!(master.get_row("a"), Some(record! { "n" => 1 }));
    assert_eq!(lens.cache_source().list_tables().unwrap(), vec!["m"]);
}

#[test]
fn shared_runtimes_and_backends_are_accepted_as_they_are() {
    let sim = SimRuntime::new(2);
    let spawned = Arc::new(AtomicUsize::new(0));
    let runtime = Arc::new(Counting {
        inner: sim.runtime(),
        spawned: spawned.clone(),
    });
    // An `Arc<B>` keeps a typed handle of one's own; `Arc<dyn _>` works too.
    let backend = Arc::new(MemoryBackend::new());
    let lens = Lens::builder()
        .cache_source(backend.clone())
        .runtime(runtime.clone())
        .build()
        .unwrap();
    let dynamic: Arc<dyn CacheBackend> = backend.clone();
    let other = Lens::builder()
        .cache_source(dynamic)
        .runtime(sim.runtime())
        .build()
        .unwrap();
    assert!(Arc::ptr_eq(
        lens.runtime(),
        &(runtime.clone() as Arc<dyn Runtime>)
    ));
    sim.block_on(async {
        let dio = lens
            .make_dio(Vista::new(MemoryVista::new("a")))
            .await
            .unwrap();
        let dio2 = other
            .make_dio(Vista::new(MemoryVista::new("b")))
            .await
            .unwrap();
        dio.shutdown().await.unwrap();
        dio2.shutdown().await.unwrap();
    });
    assert_eq!(backend.list_tables().unwrap(), vec!["a", "b"]);
    assert!(spawned.load(Ordering::SeqCst) >= 1);
}
