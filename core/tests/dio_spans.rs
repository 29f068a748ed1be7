//! The Dio's tracing spans (`dio::spans`): a write, a chunk load, a
//! refresh and each master call open a span named for the work, with the
//! Dio's name, what the work was about (op and id, range and query) and how
//! it ended — `ok`, or the error's kind and text — as a subscriber sees
//! them.
//!
//! The subscriber is a registry with a layer that keeps every closed
//! span's name and fields, set for the test thread; the simulator runs
//! every task on that thread.
#![cfg(feature = "sim")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::sim::SimRuntime;
use diorama_core::vista::VistaOp;
use diorama_core::{Error, Lens, MemoryBackend, MemoryVista, Vista, record};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A closed span: its name and its fields as text.
#[derive(Clone, Debug, PartialEq)]
struct Closed {
    name: &'static str,
    /// The name of the span it was opened in, if any.
    parent: Option<&'static str>,
    fields: BTreeMap<String, String>,
}

impl Closed {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
}

/// Keeps every closed span, in closing order.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<Closed>>>);

impl Spans {
    fn named(&self, name: &str) -> Vec<Closed> {
        let spans = self.0.lock().unwrap();
        spans.iter().filter(|s| s.name == name).cloned().collect()
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id).expect("span").extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("span");
        let mut extensions = span.extensions_mut();
        values.record(extensions.get_mut::<Fields>().expect("fields"));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).expect("span");
        let fields = span
            .extensions()
            .get::<Fields>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        self.0.lock().unwrap().push(Closed {
            name: span.name(),
            parent: span.parent().map(|parent| parent.name()),
            fields,
        });
    }
}

#[test]
fn writes_chunk_loads_and_refreshes_are_spans_with_their_outcome() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = SimRuntime::new(3);
    let master = MemoryVista::new("products")
        .with_rows((0..30).map(|i| (format!("p{i:02}"), record! { "price" => i })));
    let refresh_fails = Arc::new(AtomicBool::new(false));
    let fails = refresh_fails.clone();
    let lens = Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(sim.runtime())
        .load_chunks_from_master()
        .on_refresh(move |_dio| {
            let fail = fails.load(Ordering::Relaxed);
            async move {
                if fail {
                    Err(Error::failed("the source said no"))
                } else {
                    Ok(())
                }
            }
        })
        .build()
        .unwrap();
    let dio = sim
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();

    // Writes: one the master takes, one it fails.
    let ticket = sim
        .block_on(dio.patch("p03", record! { "price" => 99 }))
        .unwrap();
    sim.block_on(ticket.outcome()).unwrap();
    master.fail_all(VistaOp::Delete, true);
    let ticket = sim.block_on(dio.delete("p04")).unwrap();
    let refused = sim.block_on(ticket.outcome()).unwrap_err();
    master.fail_all(VistaOp::Delete, false);
    let writes = spans.named("diorama.write");
    assert_eq!(writes.len(), 2, "{writes:?}");
    let expect = |closed: &Closed, pairs: &[(&str, &str)]| {
        for (field, value) in pairs {
            assert_eq!(closed.field(field), *value, "{field} of {closed:?}");
        }
    };
    expect(
        &writes[0],
        &[
            ("dio", "products"),
            ("op", "patch"),
            ("id", "p03"),
            ("outcome", "ok"),
        ],
    );
    assert_eq!(writes[0].field("error"), "", "no error on success");
    expect(
        &writes[1],
        &[
            ("dio", "products"),
            ("op", "delete"),
            ("id", "p04"),
            ("outcome", "failed"),
        ],
    );
    assert_eq!(writes[1].field("error"), refused.to_string());

    // Chunk loads: the first range of a paged view, then one the master fails.
    let view = sim
        .block_on(
            dio.table_scenery()
                .page_size(10)
                .initial_range(0..10)
                .open(),
        )
        .unwrap();
    sim.block_on(sim.runtime().sleep(Duration::from_millis(100)));
    assert!(view.row(9).is_some(), "the first chunk landed");
    master.fail_all(VistaOp::FetchWindow, true);
    view.set_viewport(20..30);
    sim.block_on(sim.runtime().sleep(Duration::from_secs(1)));
    master.fail_all(VistaOp::FetchWindow, false);
    let loads = spans.named("diorama.load_chunk");
    let first = loads
        .iter()
        .find(|l| l.field("start") == "0")
        .unwrap_or_else(|| panic!("no load of 0..10: {loads:?}"));
    expect(
        first,
        &[("dio", "products"), ("end", "10"), ("outcome", "ok")],
    );
    assert!(first.field("query").contains("Query"), "{first:?}");
    let failed = loads
        .iter()
        .find(|l| l.field("start") == "20")
        .unwrap_or_else(|| panic!("no load of 20..30: {loads:?}"));
    expect(failed, &[("end", "30"), ("outcome", "failed")]);
    assert!(failed.field("error").contains("fetch_window"), "{failed:?}");

    // Refreshes, each way.
    sim.block_on(dio.refresh()).unwrap();
    refresh_fails.store(true, Ordering::Relaxed);
    let error = sim.block_on(dio.refresh()).unwrap_err();
    let refreshes = spans.named("diorama.refresh");
    assert_eq!(refreshes.len(), 2, "{refreshes:?}");
    expect(&refreshes[0], &[("dio", "products"), ("outcome", "ok")]);
    expect(&refreshes[1], &[("outcome", "failed")]);
    assert_eq!(refreshes[1].field("error"), error.to_string());
    drop(view);
}

/// Every call the core makes on the master is one `diorama.master` span:
/// as many spans of each op as the master counted calls, with the op, the
/// query or id, a window's offset and limit, a write's kind, and the
/// outcome; a chunk load's call sits inside its load span, a write's
/// inside its write span.
#[test]
fn every_master_call_is_one_span_with_its_op_query_and_outcome() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = SimRuntime::new(5);
    let master = MemoryVista::new("products")
        .with_rows((0..30).map(|i| (format!("p{i:02}"), record! { "price" => i })));
    // Totals from the master's count, chunks from its windows.
    let lens = Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(sim.runtime())
        .page_from_master()
        .build()
        .unwrap();
    let dio = sim
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();

    let view = sim
        .block_on(
            dio.table_scenery()
                .page_size(10)
                .initial_range(0..10)
                .search("2")
                .open(),
        )
        .unwrap();
    sim.block_on(sim.runtime().sleep(Duration::from_millis(100)));
    assert!(view.row(0).is_some(), "the first chunk landed");
    let record = sim.block_on(dio.record_scenery("p29").open()).unwrap();
    sim.block_on(sim.runtime().sleep(Duration::from_millis(100)));
    assert!(record.record().is_some(), "the row was read");
    master.fail_all(VistaOp::Get, true);
    let missing = sim.block_on(dio.record_scenery("p28").open()).unwrap();
    sim.block_on(sim.runtime().sleep(Duration::from_millis(100)));
    master.fail_all(VistaOp::Get, false);
    let ticket = sim
        .block_on(dio.patch("p03", record! { "price" => 99 }))
        .unwrap();
    sim.block_on(ticket.outcome()).unwrap();

    let calls = spans.named("diorama.master");
    let of = |op: &str| -> Vec<Closed> {
        calls
            .iter()
            .filter(|c| c.field("op") == op)
            .cloned()
            .collect()
    };
    for (op, counted) in [
        ("fetch_window", VistaOp::FetchWindow),
        ("count", VistaOp::Count),
        ("get", VistaOp::Get),
        ("apply_write", VistaOp::Patch),
    ] {
        assert_eq!(
            of(op).len(),
            master.calls(counted),
            "one span per {op} call: {calls:?}"
        );
        assert!(!of(op).is_empty(), "no {op} call: {calls:?}");
    }
    assert_eq!(
        calls.len(),
        of("fetch_window").len() + of("count").len() + of("get").len() + of("apply_write").len(),
        "no other calls: {calls:?}"
    );
    for call in &calls {
        assert_eq!(call.field("dio"), "products", "{call:?}");
    }

    let window = &of("fetch_window")[0];
    assert!(window.field("query").contains("\"2\""), "{window:?}");
    assert_eq!(window.field("offset"), "0", "{window:?}");
    assert_eq!(window.field("limit"), "10", "{window:?}");
    assert_eq!(window.field("outcome"), "ok", "{window:?}");
    assert_eq!(window.parent, Some("diorama.load_chunk"), "{window:?}");

    let count = &of("count")[0];
    assert!(count.field("query").contains("\"2\""), "{count:?}");
    assert_eq!(count.field("outcome"), "ok", "{count:?}");

    let gets = of("get");
    let read = gets
        .iter()
        .find(|g| g.field("id") == "p29")
        .expect("get p29");
    assert_eq!(read.field("outcome"), "ok", "{read:?}");
    assert_eq!(read.field("query"), "", "a call by id: {read:?}");
    let failed = gets
        .iter()
        .find(|g| g.field("id") == "p28")
        .expect("get p28");
    assert_eq!(failed.field("outcome"), "failed", "{failed:?}");
    assert!(!failed.field("error").is_empty(), "{failed:?}");

    let write = &of("apply_write")[0];
    assert_eq!(write.field("write"), "patch", "{write:?}");
    assert_eq!(write.field("id"), "p03", "{write:?}");
    assert_eq!(write.field("outcome"), "ok", "{write:?}");
    assert_eq!(write.parent, Some("diorama.write"), "{write:?}");
    drop((view, record, missing));
}
