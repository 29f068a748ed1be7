//! `LensBuilder::cache_at(path)` (the `LensBuilderExt` of diorama-std,
//! re-exported by diorama-tokio): a sled cache at a path, opened at once,
//! its failures reported by `cache_at` itself.

use diorama_core::{ErrorKind, Lens, MemoryVista, Vista, record};
use diorama_std::LensBuilderExt;
use diorama_tests::backends::memory;
use diorama_tests::harness::{Harness, SmolHarness, TokioHarness};

/// What a Dio writes through a `cache_at` Lens is there for the next Lens
/// at the same path, with the master never asked.
#[test]
fn a_cache_at_a_path_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let master = MemoryVista::new("products");
    {
        let h = SmolHarness::new(memory());
        let lens = Lens::builder()
            .cache_at(&path)
            .expect("a fresh directory opens")
            .runtime(h.runtime())
            .build()
            .unwrap();
        h.block_on(async {
            let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
            let ticket = dio
                .try_insert(Some("p1".into()), record! { "name" => "Lamp" })
                .unwrap();
            ticket.outcome().await.unwrap();
            dio.shutdown().await.unwrap();
        });
    }
    master.reset_calls();

    let h = SmolHarness::new(memory());
    let lens = Lens::builder()
        .cache_at(&path)
        .expect("the closed cache reopens")
        .runtime(h.runtime())
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let row = dio.cache().get("p1").unwrap().expect("the row on disk");
        assert_eq!(row.record, record! { "name" => "Lamp" });
        assert_eq!(master.total_calls(), 0);
        dio.shutdown().await.unwrap();
    });
}

/// A path that cannot hold a cache fails `cache_at` with `Failed`, naming
/// the path; so does a path whose cache is already open in this process.
#[test]
fn cache_at_reports_unusable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a cache").unwrap();
    let error = Lens::builder().cache_at(&file).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed);
    assert!(
        error.to_string().contains(&file.display().to_string()),
        "{error}"
    );

    let path = dir.path().join("cache");
    let first = Lens::builder().cache_at(&path).unwrap();
    let error = Lens::builder().cache_at(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    drop(first);
}

/// The same extension through diorama-tokio, on a tokio runtime.
#[test]
fn cache_at_from_diorama_tokio() {
    use diorama_tokio::LensBuilderExt as _;

    let dir = tempfile::tempdir().unwrap();
    let h = TokioHarness::multi_thread(memory());
    let lens = Lens::builder()
        .cache_at(dir.path().join("cache"))
        .unwrap()
        .runtime(h.runtime())
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens
            .make_dio(Vista::new(MemoryVista::new("t")))
            .await
            .unwrap();
        dio.patched("a", record! { "n" => 1 }).unwrap();
        assert_eq!(dio.cache().count().unwrap(), 1);
        dio.shutdown().await.unwrap();
    });
}
