//! A cold 50-row window through `HttpVista` against a local server speaking
//! `serve`'s API (`std-runtime/tests/support/serve_like.rs`, a
//! `MemoryVista` of 10,000 products behind axum on a loopback port; the
//! grid's whole path through the real `serve` over SQLite is the
//! `grid_remote` bench).
//!
//! - `http_window/unsorted_50`: `fetch_window(offset, 50)` at a random
//!   offset, the whole path: the `blocking` pool hop, the request over a
//!   pooled keep-alive connection, the server, the body (≈ 9 KB), JSON
//!   parsing and the conversion into records.
//! - `http_window/sorted_50`: the same with `sort=-price&q=lamp` (the
//!   server sorts and filters 10,000 rows per request).
//! - `http_window/raw_ureq_50`: the same unsorted request with `ureq` on
//!   the bench thread, body read but not parsed: the floor HttpVista adds
//!   to; `raw_ureq_50_unblocked` runs it on the `blocking` pool.
//! - `http_window/parse_50`: parsing one such body and converting its 50
//!   rows into values, without any I/O.
//! - `http_window/blocking_hop`: `blocking::unblock` of an empty closure,
//!   the price of running the client off the executor.
//!
//! Measured (release, 2-core VM with other builds running; criterion point
//! estimates):
//!
//! | case | time |
//! |---|---|
//! | `unsorted_50` (the cold 50-row window) | 444 µs |
//! | `sorted_50` | 3.65 ms (the test server sorting 10,000 rows per request) |
//! | `raw_ureq_50` / `raw_ureq_50_unblocked` | 254 µs / 269 µs |
//! | `parse_50` | 124 µs |
//! | `blocking_hop` | 21 µs |
//!
//! So a cold window costs the request itself (≈ 250 µs on loopback, mostly
//! the server) plus ≈ 190 µs of HttpVista: ≈ 20 µs for the thread hop that
//! makes it executor-agnostic and ≈ 125 µs for JSON into records (through
//! `serde_json::Value`; a direct deserializer could save part of it). Over
//! a real network the round trip dominates both. A warm reopen of a Dio
//! over HttpVista shows its rows with 0 requests (`http_dio` test).
//!
//! Run: `cargo bench -p diorama-benches --bench http_window -- --warm-up-time 1 --measurement-time 3`

#[path = "../../std-runtime/tests/support/serve_like.rs"]
mod serve_like;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use diorama_core::vista::{Query, Sort, TableShell};
use diorama_std::http::HttpVista;
use serve_like::{TestServer, products};

const ROWS: usize = 10_000;
const WINDOW: usize = 50;

fn http_window(c: &mut Criterion) {
    let server = TestServer::products(products(ROWS));
    let http = HttpVista::serve(&server.base).expect("mapping");
    let plain = Query::new();
    let sorted = Query::new()
        .with_sort(Sort::desc("price"))
        .with_search("lamp");
    let mut group = c.benchmark_group("http_window");
    group.bench_function("unsorted_50", |b| {
        b.iter(|| {
            let offset = fastrand::usize(..ROWS - WINDOW);
            let page = smol::block_on(http.fetch_window(&plain, offset, WINDOW)).expect("window");
            assert_eq!(page.rows.len(), WINDOW);
            black_box(page)
        })
    });
    group.bench_function("sorted_50", |b| {
        b.iter(|| {
            let offset = fastrand::usize(..ROWS / 3 - WINDOW);
            let page = smol::block_on(http.fetch_window(&sorted, offset, WINDOW)).expect("window");
            assert_eq!(page.rows.len(), WINDOW);
            black_box(page)
        })
    });
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    group.bench_function("raw_ureq_50", |b| {
        b.iter(|| {
            let offset = fastrand::usize(..ROWS - WINDOW);
            let url = format!("{}/products?offset={offset}&limit={WINDOW}", server.base);
            let body = agent
                .get(&url)
                .call()
                .expect("request")
                .body_mut()
                .read_to_vec()
                .expect("body");
            black_box(body)
        })
    });
    let body = agent
        .get(format!(
            "{}/products?offset=100&limit={WINDOW}",
            server.base
        ))
        .call()
        .expect("request")
        .body_mut()
        .read_to_vec()
        .expect("body");
    group.bench_function("parse_50", |b| {
        b.iter(|| {
            let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
            black_box(diorama_std::http::json::json_to_value(&json["rows"]))
        })
    });
    let raw_off_thread = agent.clone();
    let base = server.base.clone();
    group.bench_function("raw_ureq_50_unblocked", |b| {
        b.iter(|| {
            let offset = fastrand::usize(..ROWS - WINDOW);
            let url = format!("{base}/products?offset={offset}&limit={WINDOW}");
            let agent = raw_off_thread.clone();
            smol::block_on(blocking::unblock(move || {
                agent
                    .get(&url)
                    .call()
                    .expect("request")
                    .body_mut()
                    .read_to_vec()
                    .expect("body")
            }))
        })
    });
    group.bench_function("blocking_hop", |b| {
        b.iter(|| smol::block_on(blocking::unblock(|| black_box(1))))
    });
    group.finish();
}

criterion_group!(benches, http_window);
criterion_main!(benches);
