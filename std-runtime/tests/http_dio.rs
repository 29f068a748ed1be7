//! A Dio on smol over `HttpVista`, against the serve-shaped server: the
//! rows a sorted view shows are the master's; a failed request caches
//! nothing and the view recovers when the service answers again; a warm
//! reopen shows the rows without one HTTP request.

#[path = "support/serve_like.rs"]
mod serve_like;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use diorama_core::vista::{Query, Sort, SortDir, eval};
use diorama_core::{Dio, DioEvent, Error, Lens, Result, TableScenery, Vista};
use diorama_std::http::HttpVista;
use diorama_std::{LensBuilderExt, SmolRuntime};
use futures_lite::future;
use serve_like::{TestServer, products, products_router};

fn lens(dir: &std::path::Path) -> Lens {
    Lens::builder()
        .cache_at(dir)
        .unwrap()
        .runtime(SmolRuntime::global().arc())
        .load_chunks_from_master()
        .refresh_on_open(false)
        .viewport_debounce(Duration::ZERO)
        .build()
        .unwrap()
}

/// Wait (at most 10 s) until `ready` holds, waking on each repaint.
async fn settle(
    view: &TableScenery,
    what: &str,
    ready: impl Fn(&TableScenery) -> bool,
) -> Result<()> {
    let mut changes = view.subscribe();
    let waiting = async {
        while !ready(view) {
            changes
                .changed()
                .await
                .map_err(|_| Error::failed("the scenery closed"))?;
        }
        Ok(())
    };
    let timeout = async {
        async_io::Timer::after(Duration::from_secs(10)).await;
        Err(Error::failed(format!("timed out waiting for {what}")))
    };
    future::or(waiting, timeout).await
}

fn shown_ids(view: &TableScenery, range: std::ops::Range<usize>) -> Vec<Option<String>> {
    view.rows(range)
        .into_iter()
        .map(|row| row.map(|r| r.id.clone()))
        .collect()
}

async fn open(dio: &Dio) -> TableScenery {
    dio.table_scenery()
        .page_size(50)
        .sort("price", SortDir::Desc)
        .initial_range(0..50)
        .open()
        .await
        .unwrap()
}

#[test]
fn a_sorted_view_shows_the_masters_rows_and_reopens_warm_without_requests() {
    let master = products(2_000);
    let server = TestServer::products(master.clone());
    let dir = tempfile::tempdir().unwrap();
    let truth: Vec<Option<String>> =
        eval::apply_query(master.rows(), &Query::new().with_sort(Sort::desc("price")))
            .into_iter()
            .take(50)
            .map(|(id, _)| Some(id))
            .collect();
    future::block_on(async {
        let http = HttpVista::serve(&server.base).unwrap();
        let dio = lens(dir.path())
            .make_dio(Vista::new(http.clone()))
            .await
            .unwrap();
        let view = open(&dio).await;
        // `refresh_on_open(false)`: a viewport asks for what the cache lacks.
        view.set_viewport(0..50);
        settle(&view, "the first page", |v| v.row(49).is_some())
            .await
            .unwrap();
        assert_eq!(shown_ids(&view, 0..50), truth);
        assert_eq!(view.row_count(), 2_000);
        assert!(http.requests() >= 1);
        drop(view);
        dio.shutdown().await.unwrap();
    });
    future::block_on(async {
        let http = HttpVista::serve(&server.base).unwrap();
        let dio = lens(dir.path())
            .make_dio(Vista::new(http.clone()))
            .await
            .unwrap();
        let view = open(&dio).await;
        // Placed from the cache by `open`: no request at all.
        assert_eq!(shown_ids(&view, 0..50), truth);
        assert_eq!(http.requests(), 0);
        drop(view);
        dio.shutdown().await.unwrap();
    });
}

#[test]
fn a_failed_request_caches_nothing_and_the_view_recovers() {
    let master = products(300);
    let down = Arc::new(AtomicBool::new(true));
    let switch = down.clone();
    let router = products_router(master.clone()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let down = switch.load(Ordering::SeqCst);
            async move {
                if down {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"error": "restarting"}"#,
                    )
                        .into_response()
                } else {
                    next.run(request).await
                }
            }
        },
    ));
    let server = TestServer::start(router);
    let dir = tempfile::tempdir().unwrap();
    future::block_on(async {
        let http = HttpVista::serve(&server.base).unwrap();
        let dio = lens(dir.path()).make_dio(Vista::new(http)).await.unwrap();
        let view = open(&dio).await;
        let mut events = dio.subscribe_events();
        view.set_viewport(0..50);
        // A failed load changes no row, so it is heard on the Dio's bus.
        let failed = async {
            loop {
                match events.recv().await {
                    Ok(DioEvent::LoadFailed { error, .. }) => return Ok(error),
                    Ok(_) => {}
                    Err(e) => return Err(Error::failed(format!("the bus: {e:?}"))),
                }
            }
        };
        let timeout = async {
            async_io::Timer::after(Duration::from_secs(10)).await;
            Err(Error::failed("timed out waiting for the failed load"))
        };
        let error = future::or(failed, timeout).await.unwrap();
        assert!(error.message().contains("HTTP 503: restarting"), "{error}");
        assert_eq!(view.stats().chunk_failures, 1);
        assert_eq!(shown_ids(&view, 0..50), vec![None; 50]);
        assert_eq!(
            dio.vista().get("p00001").await.unwrap(),
            None,
            "nothing cached"
        );
        // The service is back: the next viewport loads it.
        down.store(false, Ordering::SeqCst);
        view.set_viewport(0..50);
        settle(&view, "the page", |v| v.row(49).is_some())
            .await
            .unwrap();
        let expect: Vec<Option<String>> =
            eval::apply_query(master.rows(), &Query::new().with_sort(Sort::desc("price")))
                .into_iter()
                .take(50)
                .map(|(id, _)| Some(id))
                .collect();
        assert_eq!(shown_ids(&view, 0..50), expect);
        drop(view);
        dio.shutdown().await.unwrap();
    });
}
