//! PgVista against a real PostgreSQL: reads and writes round-trip, values
//! map by column type, errors are clear and of the right kind (and a Dio
//! caches nothing from a refused write), views and unprivileged tables
//! offer no writes, and a server that is gone, slow or cuts the connection
//! gives `Unavailable`, never a hang. Skipped (one printed line) without a
//! server, unless `DIORAMA_REQUIRE_SERVICES=1`.
#![cfg(feature = "postgres")]

mod pg_support;

use std::sync::Arc;
use std::time::Duration;

use diorama_core::vista::{CmpOp, Condition, Query, Sort, TableShell};
use diorama_core::{DioEvent, ErrorKind, Lens, MemoryBackend, Value, Vista, record};
use diorama_tokio::TokioRuntime;
use diorama_tokio::postgres::PgVista;
use pg_support::Scratch;

/// What users hold across tasks is `Send + Sync` and the futures they
/// await are `Send`: pinned at compile time (never called).
#[allow(dead_code)]
fn auto_traits(vista: &PgVista, query: &Query) {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    send_sync(vista);
    send_sync(&vista.feed());
    send_sync(&PgVista::builder("", "t"));
    send(PgVista::builder("", "t").open());
    send(vista.install_change_feed());
    send(vista.trim_change_log());
    send(vista.list(query));
    send(vista.fetch_window(query, 0, 1));
}

const PRODUCTS: &str = "CREATE TABLE products (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    price double precision,
    qty integer CHECK (qty >= 0),
    small smallint,
    ratio real,
    flag boolean,
    data bytea,
    amount numeric(10, 2),
    tags text[],
    at timestamptz,
    code varchar(3),
    doubled integer GENERATED ALWAYS AS (qty * 2) STORED
)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_round_trip() {
    let Some(db) = Scratch::new("vista_rw").await else {
        return;
    };
    db.exec(PRODUCTS).await;
    let products = db.vista("products").open().await.unwrap();
    let caps = products.capabilities();
    assert!(caps.can_insert && caps.can_update && caps.can_delete);
    assert!(caps.can_order && caps.can_search && caps.can_count && caps.can_fetch_page);
    assert!(!caps.can_subscribe, "no feed installed");

    let lamp = products
        .insert(
            None,
            record! { "name" => "Lamp", "price" => 19.5, "qty" => 3 },
        )
        .await
        .unwrap();
    assert_eq!(lamp, "1");
    let desk = products
        .insert(
            Some("10".into()),
            record! { "name" => "Desk", "price" => 120 },
        )
        .await
        .unwrap();
    assert_eq!(desk, "10");
    let got = products.get("1").await.unwrap().unwrap();
    assert_eq!(got.get("name"), Some(&Value::from("Lamp")));
    assert_eq!(got.get("price"), Some(&Value::Float(19.5)));
    assert_eq!(got.get("qty"), Some(&Value::from(3)));
    assert_eq!(
        got.get("doubled"),
        Some(&Value::from(6)),
        "generated columns read"
    );
    assert_eq!(
        got.get("flag"),
        Some(&Value::Null),
        "every field is present"
    );
    assert_eq!(got.len(), 12);
    // Integers into a double column read back as floats.
    let desk_row = products.get("10").await.unwrap().unwrap();
    assert_eq!(desk_row.get("price"), Some(&Value::Float(120.0)));

    products
        .patch("1", record! { "qty" => 4, "flag" => true })
        .await
        .unwrap();
    let got = products.get("1").await.unwrap().unwrap();
    assert_eq!(got.get("qty"), Some(&Value::from(4)));
    assert_eq!(got.get("flag"), Some(&Value::Bool(true)));
    assert_eq!(got.get("name"), Some(&Value::from("Lamp")));

    products
        .replace("1", record! { "name" => "Lamp II" })
        .await
        .unwrap();
    let got = products.get("1").await.unwrap().unwrap();
    assert_eq!(got.get("name"), Some(&Value::from("Lamp II")));
    assert_eq!(
        got.get("qty"),
        Some(&Value::Null),
        "replace clears the rest"
    );

    assert_eq!(products.count(&Query::new()).await.unwrap(), 2);
    let page = products
        .fetch_window(&Query::new().with_sort(Sort::desc("name")), 0, 1)
        .await
        .unwrap();
    assert_eq!(page.total, Some(2));
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].0, "1", "Lamp II after Desk, descending");
    let past = products.fetch_window(&Query::new(), 5, 10).await.unwrap();
    assert_eq!((past.rows.len(), past.total), (0, Some(2)));

    products.delete("10").await.unwrap();
    products.delete("10").await.unwrap();
    assert_eq!(products.get("10").await.unwrap(), None);
    products.delete_all().await.unwrap();
    assert_eq!(products.list(&Query::new()).await.unwrap(), vec![]);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_map_by_column_type() {
    let Some(db) = Scratch::new("vista_values").await else {
        return;
    };
    db.exec(PRODUCTS).await;
    let products = db.vista("products").open().await.unwrap();
    products
        .insert(
            Some("1".into()),
            record! {
                "name" => "x",
                "qty" => 2.0,
                "ratio" => 0.1,
                "data" => Value::Bytes(vec![0, 1, 255]),
                "amount" => 19.99,
                "tags" => "{a,b}",
                "at" => "2024-05-06 07:08:09+02",
                "small" => 7,
            },
        )
        .await
        .unwrap();
    let got = products.get("1").await.unwrap().unwrap();
    assert_eq!(
        got.get("qty"),
        Some(&Value::from(2)),
        "a whole float into an integer"
    );
    assert_eq!(
        got.get("ratio"),
        Some(&Value::Float(f64::from(0.1f32))),
        "a real holds 32 bits"
    );
    assert_eq!(got.get("data"), Some(&Value::Bytes(vec![0, 1, 255])));
    assert_eq!(
        got.get("amount"),
        Some(&Value::from("19.99")),
        "numeric as its text"
    );
    assert_eq!(got.get("tags"), Some(&Value::from("{a,b}")));
    assert_eq!(
        got.get("at"),
        Some(&Value::from("2024-05-06 05:08:09+00")),
        "timestamps in UTC, ISO"
    );
    assert_eq!(got.get("small"), Some(&Value::from(7)));

    // Refused before anything is sent, or by the server: InvalidInput.
    for (field, value) in [
        ("qty", Value::Float(2.5)),
        ("qty", Value::from("5")),
        ("name", Value::from(5)),
        ("name", Value::from("a\0b")),
        ("tags", Value::Array(vec![1.into()])),
        ("flag", Value::from(1)),
        ("data", Value::from("bytes?")),
        ("small", Value::from(70_000)),
        ("code", Value::from("toolong")),
        ("amount", Value::from("not a number")),
        ("ratio", Value::Float(1e300)),
        ("doubled", Value::from(1)),
    ] {
        let err = products
            .patch("1", record! { field => value.clone() })
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidInput,
            "{field} = {value:?}: {err}"
        );
    }
    assert_eq!(
        products.get("1").await.unwrap().unwrap(),
        got,
        "nothing changed"
    );
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_clear_and_a_dio_caches_nothing_from_a_refused_write() {
    let Some(db) = Scratch::new("vista_errors").await else {
        return;
    };
    db.exec(PRODUCTS).await;
    let products = db.vista("products").open().await.unwrap();
    products
        .insert(Some("1".into()), record! { "name" => "Lamp", "qty" => 1 })
        .await
        .unwrap();

    let unknown = Query::new().with_condition(Condition::new("colour", CmpOp::Eq, "red"));
    let err = products.list(&unknown).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("colour"), "{err}");
    let err = products
        .count(&Query::new().with_sort(Sort::asc("nope")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = products
        .list(&Query::new().with_condition(Condition::new("id", CmpOp::Eq, 1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "the id is not a field");
    let err = products
        .patch("1", record! { "colour" => "red" })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let err = products
        .insert(Some("1".into()), record! { "name" => "again" })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.message().contains("already exists"), "{err}");
    let err = products
        .insert(None, record! { "qty" => 1 })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "NOT NULL: {err}");
    assert!(err.message().contains("23502"), "{err}");
    let err = products
        .patch("1", record! { "qty" => -1 })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "CHECK: {err}");
    assert!(err.message().contains("products_qty_check"), "{err}");
    let err = products
        .patch("404", record! { "qty" => 1 })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = products
        .replace("404", record! { "name" => "x" })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    for bad in ["x", "042", "+1", ""] {
        let err = products.get(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "id {bad:?}");
    }

    // Through a Dio: the refused write leaves the cache as it was.
    let lens = Lens::builder()
        .runtime(Arc::new(TokioRuntime::current()))
        .cache_source(Arc::new(MemoryBackend::new()))
        .build()
        .unwrap();
    let dio = lens.make_dio(Vista::new(products.clone())).await.unwrap();
    let mut events = dio.subscribe_events();
    let ticket = dio.try_patch("1", record! { "qty" => -5 }).unwrap();
    let err = ticket.outcome().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(dio.cache().get("1").unwrap(), None, "nothing cached");
    let ticket = dio
        .try_insert(Some("1".into()), record! { "name" => "dup" })
        .unwrap();
    assert_eq!(
        ticket.outcome().await.unwrap_err().kind(),
        ErrorKind::Failed
    );
    assert_eq!(dio.cache().get("1").unwrap(), None);
    let mut failed = 0;
    while let Ok(event) = events.try_recv() {
        failed += usize::from(matches!(event, DioEvent::WriteFailed { .. }));
    }
    assert_eq!(failed, 2);
    assert_eq!(
        products.get("1").await.unwrap().unwrap().get("qty"),
        Some(&Value::from(1)),
        "the master is unchanged"
    );
    dio.shutdown().await.unwrap();
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_uuid_ids_read_back_exactly() {
    let Some(db) = Scratch::new("vista_ids").await else {
        return;
    };
    db.exec(
        "CREATE TABLE t (code text PRIMARY KEY, v int);
         CREATE TABLE u (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), v int);
         CREATE TABLE n (id int PRIMARY KEY, v int);
         CREATE TABLE loose (id int, v int)",
    )
    .await;
    let t = db.vista("t").id_column("code").open().await.unwrap();
    t.insert(Some("Ab".into()), record! { "v" => 1 })
        .await
        .unwrap();
    assert_eq!(t.get("Ab").await.unwrap(), Some(record! { "v" => 1 }));
    assert_eq!(t.get("ab").await.unwrap(), None);
    assert_eq!(
        t.get("a\0").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    let u = db.vista("u").open().await.unwrap();
    let id = u.insert(None, record! { "v" => 2 }).await.unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(u.get(&id).await.unwrap(), Some(record! { "v" => 2 }));
    assert_eq!(
        u.get(&id.to_uppercase()).await.unwrap(),
        None,
        "canonical form only"
    );
    assert_eq!(
        u.get("nope").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    let n = db.vista("n").open().await.unwrap();
    let err = n.insert(None, record! { "v" => 1 }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    let err = db.vista("loose").open().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db.vista("missing").open().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = db.vista("n").id_column("nope").open().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_offer_reads_only() {
    let Some(db) = Scratch::new("vista_view").await else {
        return;
    };
    db.exec(
        "CREATE TABLE t (id int PRIMARY KEY, v int);
         INSERT INTO t VALUES (1, 10), (2, 20);
         CREATE VIEW big AS SELECT id, v FROM t WHERE v > 15",
    )
    .await;
    let view = db.vista("big").open().await.unwrap();
    let caps = view.capabilities();
    assert!(!caps.can_insert && !caps.can_update && !caps.can_delete);
    assert_eq!(
        view.list(&Query::new()).await.unwrap(),
        vec![("2".into(), record! { "v" => 20 })]
    );
    let err = view
        .insert(Some("3".into()), record! { "v" => 1 })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let err = view.install_change_feed().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_gone_slow_or_cutting_off_is_unavailable() {
    let Some(db) = Scratch::new("vista_unavailable").await else {
        return;
    };
    db.exec(
        "CREATE TABLE t (id int PRIMARY KEY, v int);
         INSERT INTO t VALUES (1, 10);
         CREATE VIEW slow AS SELECT id, v FROM t WHERE pg_sleep(2) IS NOT NULL",
    )
    .await;

    // Nothing listens on port 9: refused, or no answer within the timeout.
    let err = PgVista::builder("postgres://postgres@127.0.0.1:9/test", "t")
        .connect_timeout(Duration::from_millis(500))
        .open()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

    // The server cancels a statement past the statement timeout.
    let slow = db
        .vista("slow")
        .statement_timeout(Duration::from_millis(200))
        .open()
        .await
        .unwrap();
    let err = slow.list(&Query::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

    // Connections cut by the server: a call may fail Unavailable (the pool
    // finds out on use), the next ones work on fresh connections.
    let mut config: diorama_tokio::postgres::tokio_postgres::Config =
        pg_support::url().parse().unwrap();
    let name = format!("diorama-test-{}", db.schema);
    config.application_name(&name);
    let t = PgVista::builder_with_config(config, "t")
        .schema(db.schema.clone())
        .open()
        .await
        .unwrap();
    assert_eq!(t.count(&Query::new()).await.unwrap(), 1);
    let killed = db
        .client()
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .await
        .unwrap();
    assert!(!killed.is_empty());
    let mut answered = false;
    for _ in 0..3 {
        match t.count(&Query::new()).await {
            Ok(n) => {
                assert_eq!(n, 1);
                answered = true;
                break;
            }
            Err(err) => assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}"),
        }
    }
    assert!(answered, "fresh connections answer");

    // Outside tokio: a clear error, not the client's panic.
    let outside =
        std::thread::spawn(move || futures_lite::future::block_on(t.count(&Query::new())))
            .join()
            .expect("no panic");
    assert_eq!(outside.unwrap_err().kind(), ErrorKind::Failed);
    db.finish().await;
}
