//! MemoryVista: rows and order, writes, counters, capability switches,
//! fault injection and the hold gate.

use std::pin::pin;

use diorama_core::error::ErrorKind;
use diorama_core::record;
use diorama_core::value::Record;
use diorama_core::vista::{
    Clause, Condition, Id, MemoryVista, Query, Sort, TableShell, VistaCapabilities, VistaOp,
};
use futures_lite::future::{block_on, poll_once};

fn ids(rows: &[(Id, Record)]) -> Vec<&str> {
    rows.iter().map(|(id, _)| id.as_str()).collect()
}

fn numbered(n: usize) -> MemoryVista {
    MemoryVista::generate("items", n, |i| {
        (
            format!("i{i:03}"),
            record! { "n" => i, "even" => i % 2 == 0, "name" => format!("Item {i}") },
        )
    })
}

#[test]
fn rows_keep_insertion_order_and_positions() {
    let m = MemoryVista::new("t").with_rows([
        ("b", record! { "v" => 1 }),
        ("a", record! { "v" => 2 }),
        ("c", record! { "v" => 3 }),
    ]);
    assert_eq!(ids(&m.rows()), ["b", "a", "c"]);
    assert_eq!(
        m.put_row("a", record! { "v" => 20 }),
        Some(record! { "v" => 2 })
    );
    assert_eq!(
        ids(&m.rows()),
        ["b", "a", "c"],
        "put of an existing id keeps its place"
    );
    assert_eq!(m.put_row("d", record! { "v" => 4 }), None);
    assert_eq!(m.remove_row("b"), Some(record! { "v" => 1 }));
    assert_eq!(m.remove_row("b"), None);
    assert_eq!(ids(&m.rows()), ["a", "c", "d"]);
    assert_eq!(m.get_row("c"), Some(record! { "v" => 3 }));
    assert_eq!(m.get_row("d"), Some(record! { "v" => 4 }));
    assert_eq!(m.len(), 3);
    // Direct access is not counted.
    assert_eq!(m.total_calls(), 0);
}

#[test]
fn reads_apply_the_query_in_query_order() {
    let m = numbered(20);
    let all = block_on(m.list(&Query::new())).unwrap();
    assert_eq!(all.len(), 20);
    assert_eq!(all[0].0, "i000");

    let q = Query::new()
        .with_condition(Condition::eq("even", true))
        .with_sort(Sort::desc("n"));
    let page = block_on(m.fetch_window(&q, 2, 3)).unwrap();
    assert_eq!(ids(&page.rows), ["i014", "i012", "i010"]);
    assert_eq!(page.total, Some(10));
    assert_eq!(block_on(m.count(&q)).unwrap(), 10);

    // Without a sort: insertion order, filtered.
    let q = Query::new().with_search("item 1");
    let page = block_on(m.fetch_window(&q, 0, 100)).unwrap();
    assert_eq!(page.rows.len(), 11); // 1, 10..=19
    assert_eq!(page.rows[0].0, "i001");
    assert_eq!(page.rows[1].0, "i010");

    // Past the end: empty, total still known.
    let page = block_on(m.fetch_window(&Query::new(), 30, 5)).unwrap();
    assert!(page.rows.is_empty());
    assert_eq!(page.total, Some(20));
    let page = block_on(m.fetch_window(&Query::new(), 18, 5)).unwrap();
    assert_eq!(ids(&page.rows), ["i018", "i019"]);
}

#[test]
fn writes_follow_the_documented_rules() {
    let m = MemoryVista::new("t").with_rows([("r1", record! { "v" => 1 })]);
    // Generated ids skip ids in use.
    let id = block_on(m.insert(None, record! { "v" => 2 })).unwrap();
    assert_eq!(id, "r2");
    let id = block_on(m.insert(None, record! { "v" => 3 })).unwrap();
    assert_eq!(id, "r3");
    // An explicit existing id fails and changes nothing.
    let err = block_on(m.insert(Some("r1".into()), record! { "v" => 9 })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.message().contains("already exists"), "{err}");
    assert_eq!(m.get_row("r1"), Some(record! { "v" => 1 }));
    block_on(m.insert(Some("x".into()), record! { "v" => 4 })).unwrap();
    assert_eq!(ids(&m.rows()), ["r1", "r2", "r3", "x"]);

    assert_eq!(
        block_on(m.replace("nope", record! {})).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        block_on(m.patch("nope", record! {})).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    block_on(m.patch("r1", record! { "w" => 5 })).unwrap();
    assert_eq!(m.get_row("r1"), Some(record! { "v" => 1, "w" => 5 }));
    block_on(m.replace("r1", record! { "z" => 0 })).unwrap();
    assert_eq!(m.get_row("r1"), Some(record! { "z" => 0 }));
    block_on(m.delete("nope")).unwrap();
    block_on(m.delete("r2")).unwrap();
    assert_eq!(ids(&m.rows()), ["r1", "r3", "x"]);
    assert_eq!(block_on(m.get("r3")).unwrap(), Some(record! { "v" => 3 }));
    assert_eq!(block_on(m.get("r2")).unwrap(), None);
    block_on(m.delete_all()).unwrap();
    assert!(m.is_empty());
}

#[test]
fn counters_count_every_call_per_operation() {
    let m = numbered(10);
    let q = Query::new();
    block_on(async {
        m.list(&q).await.unwrap();
        m.list(&q).await.unwrap();
        m.get("i001").await.unwrap();
        m.count(&q).await.unwrap();
        m.fetch_window(&q, 0, 5).await.unwrap();
        m.fetch_window(&q, 5, 5).await.unwrap();
        m.insert(None, record! {}).await.unwrap();
        m.replace("i001", record! {}).await.unwrap();
        m.patch("i001", record! {}).await.unwrap();
        // A failed call still counts.
        m.patch("missing", record! {}).await.unwrap_err();
        m.delete("i002").await.unwrap();
        m.delete_all().await.unwrap();
    });
    let expected = [
        (VistaOp::List, 2),
        (VistaOp::Get, 1),
        (VistaOp::Count, 1),
        (VistaOp::FetchWindow, 2),
        (VistaOp::Insert, 1),
        (VistaOp::Replace, 1),
        (VistaOp::Patch, 2),
        (VistaOp::Delete, 1),
        (VistaOp::DeleteAll, 1),
    ];
    for (op, n) in expected {
        assert_eq!(m.calls(op), n, "{op}");
    }
    assert_eq!(m.total_calls(), 12);
    assert_eq!(m.windows(), [(q.clone(), 0, 5), (q.clone(), 5, 5)]);
    m.reset_calls();
    assert_eq!(m.total_calls(), 0);
    assert!(m.windows().is_empty());
}

#[test]
fn an_unpolled_call_is_not_counted() {
    let m = numbered(3);
    let q = Query::new();
    drop(m.fetch_window(&q, 0, 1));
    assert_eq!(m.calls(VistaOp::FetchWindow), 0);
    assert!(m.windows().is_empty());
}

#[test]
fn capability_switches_return_unsupported() {
    let m = numbered(5).with_capabilities(VistaCapabilities::NONE);
    let q = Query::new();
    block_on(async {
        // list and get are always offered.
        assert_eq!(m.list(&q).await.unwrap().len(), 5);
        assert!(m.get("i001").await.unwrap().is_some());
        for err in [
            m.count(&q).await.unwrap_err(),
            m.fetch_window(&q, 0, 2).await.unwrap_err(),
            m.insert(None, record! {}).await.map(|_| ()).unwrap_err(),
            m.replace("i001", record! {}).await.unwrap_err(),
            m.patch("i001", record! {}).await.unwrap_err(),
            m.delete("i001").await.unwrap_err(),
            m.delete_all().await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        }
    });
    assert_eq!(m.len(), 5, "refused writes change nothing");

    // Read-only CSV: can list, count and page, cannot write.
    let csv = VistaCapabilities {
        can_fetch_page: true,
        can_count: true,
        ..VistaCapabilities::NONE
    };
    m.set_capabilities(csv);
    assert_eq!(m.capabilities(), csv);
    assert!(block_on(m.count(&q)).is_ok());
    assert!(
        block_on(m.insert(None, record! {}))
            .unwrap_err()
            .is_unsupported()
    );
}

#[test]
fn accepts_follows_the_switches_and_refused_clauses_are_unsupported() {
    let m = numbered(5);
    let cond = Condition::eq("even", true);
    let sort = Sort::asc("n");
    assert!(m.accepts(Clause::Condition(&cond)));
    assert!(m.accepts(Clause::Sort(&sort)));
    assert!(m.accepts(Clause::Search("x")));
    assert!(!m.capabilities().can_subscribe);

    m.set_capabilities(VistaCapabilities {
        can_order: false,
        can_search: false,
        ..VistaCapabilities::ALL
    });
    m.set_accepts_conditions(false);
    assert!(!m.accepts(Clause::Condition(&cond)));
    assert!(!m.accepts(Clause::Sort(&sort)));
    assert!(!m.accepts(Clause::Search("x")));
    for q in [
        Query::new().with_condition(cond.clone()),
        Query::new().with_sort(sort.clone()),
        Query::new().with_search("x"),
    ] {
        assert!(block_on(m.list(&q)).unwrap_err().is_unsupported());
        assert!(block_on(m.count(&q)).unwrap_err().is_unsupported());
        assert!(
            block_on(m.fetch_window(&q, 0, 1))
                .unwrap_err()
                .is_unsupported()
        );
    }
}

#[test]
fn unordered_source_pages_in_insertion_order() {
    let m = MemoryVista::new("t")
        .with_rows([("z", record! { "n" => 1 }), ("a", record! { "n" => 2 })])
        .with_capabilities(VistaCapabilities {
            can_order: false,
            ..VistaCapabilities::ALL
        });
    let page = block_on(m.fetch_window(&Query::new(), 0, 10)).unwrap();
    assert_eq!(ids(&page.rows), ["z", "a"]);
}

#[test]
fn cursor_only_reads_forward() {
    let m = numbered(10).with_capabilities(VistaCapabilities {
        can_fetch_page: false,
        can_fetch_next: true,
        can_count: false,
        ..VistaCapabilities::ALL
    });
    let q = Query::new();
    block_on(async {
        let first = m.fetch_window(&q, 0, 4).await.unwrap();
        assert_eq!(first.rows.len(), 4);
        assert_eq!(first.total, None, "no total without can_count");
        // Jumping ahead or back is refused.
        assert!(m.fetch_window(&q, 8, 2).await.unwrap_err().is_unsupported());
        assert!(m.fetch_window(&q, 2, 2).await.unwrap_err().is_unsupported());
        let second = m.fetch_window(&q, 4, 4).await.unwrap();
        assert_eq!(second.rows[0].0, "i004");
        let third = m.fetch_window(&q, 8, 4).await.unwrap();
        assert_eq!(ids(&third.rows), ["i008", "i009"]);
        // Offset 0 restarts.
        assert_eq!(m.fetch_window(&q, 0, 1).await.unwrap().rows[0].0, "i000");
        // Each query has its own cursor.
        let evens = Query::new().with_condition(Condition::eq("even", true));
        assert!(
            m.fetch_window(&evens, 1, 1)
                .await
                .unwrap_err()
                .is_unsupported()
        );
        assert_eq!(m.fetch_window(&evens, 0, 2).await.unwrap().rows.len(), 2);
    });
    // Neither paging capability: refused.
    m.set_capabilities(VistaCapabilities {
        can_fetch_page: false,
        can_fetch_next: false,
        ..VistaCapabilities::ALL
    });
    assert!(
        block_on(m.fetch_window(&q, 0, 1))
            .unwrap_err()
            .is_unsupported()
    );
}

#[test]
fn fail_next_fails_exactly_n_calls_and_changes_nothing() {
    let m = numbered(3);
    m.fail_next(VistaOp::Insert, 2);
    block_on(async {
        for _ in 0..2 {
            let err = m.insert(Some("new".into()), record! {}).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Failed);
            assert!(err.message().contains("injected"), "{err}");
        }
        assert_eq!(m.len(), 3);
        // Other operations are unaffected.
        assert_eq!(m.list(&Query::new()).await.unwrap().len(), 3);
        assert_eq!(
            m.insert(Some("new".into()), record! {}).await.unwrap(),
            "new"
        );
    });
    assert_eq!(m.len(), 4);
    assert_eq!(m.calls(VistaOp::Insert), 3);
}

#[test]
fn unsupported_calls_do_not_use_up_injected_failures() {
    let m = numbered(3).with_capabilities(VistaCapabilities {
        can_count: false,
        ..VistaCapabilities::ALL
    });
    m.fail_next(VistaOp::Count, 1);
    assert!(
        block_on(m.count(&Query::new()))
            .unwrap_err()
            .is_unsupported()
    );
    m.set_capabilities(VistaCapabilities::ALL);
    assert_eq!(
        block_on(m.count(&Query::new())).unwrap_err().kind(),
        ErrorKind::Failed
    );
    assert_eq!(block_on(m.count(&Query::new())).unwrap(), 3);
}

#[test]
fn fail_all_until_switched_off() {
    let m = numbered(3);
    m.fail_all(VistaOp::Delete, true);
    for _ in 0..3 {
        assert_eq!(
            block_on(m.delete("i000")).unwrap_err().kind(),
            ErrorKind::Failed
        );
    }
    assert_eq!(m.len(), 3);
    m.fail_all(VistaOp::Delete, false);
    block_on(m.delete("i000")).unwrap();
    assert_eq!(m.len(), 2);

    m.fail_next(VistaOp::Get, 5);
    m.fail_all(VistaOp::List, true);
    m.clear_faults();
    assert!(block_on(m.get("i001")).is_ok());
    assert!(block_on(m.list(&Query::new())).is_ok());
}

#[test]
fn hold_keeps_calls_pending_until_release() {
    let m = numbered(3);
    m.hold();
    assert!(m.is_held());
    let q = Query::new();
    let mut list = pin!(m.list(&q));
    let mut insert = pin!(m.insert(Some("late".into()), record! {}));
    block_on(async {
        assert!(poll_once(list.as_mut()).await.is_none());
        assert!(poll_once(insert.as_mut()).await.is_none());
        // Still pending on a second poll; counted, in flight, not applied.
        assert!(poll_once(list.as_mut()).await.is_none());
    });
    assert_eq!(m.calls(VistaOp::List), 1);
    assert_eq!(m.calls(VistaOp::Insert), 1);
    assert_eq!(m.in_flight(), 2);
    assert_eq!(m.get_row("late"), None);

    m.release();
    assert!(!m.is_held());
    let (rows, id) = block_on(async { (list.await.unwrap(), insert.await.unwrap()) });
    assert_eq!(
        rows.len(),
        3,
        "the list passed the gate before the insert applied"
    );
    assert_eq!(id, "late");
    assert_eq!(m.in_flight(), 0);
    assert!(m.get_row("late").is_some());
}

#[test]
fn a_dropped_held_call_leaves_no_trace_but_its_count() {
    let m = numbered(3);
    m.hold();
    {
        let mut call = pin!(m.delete("i000"));
        assert!(block_on(poll_once(call.as_mut())).is_none());
        assert_eq!(m.in_flight(), 1);
    }
    assert_eq!(m.in_flight(), 0);
    m.release();
    assert_eq!(m.len(), 3, "the dropped delete never ran");
    assert_eq!(m.calls(VistaOp::Delete), 1);
}

#[test]
fn a_released_gate_wakes_a_waiting_task() {
    // A real waker: the call waits on another thread and is woken by release.
    let m = numbered(2);
    m.hold();
    let waiter = {
        let m = m.clone();
        std::thread::spawn(move || block_on(m.list(&Query::new())).map(|rows| rows.len()))
    };
    while m.in_flight() == 0 {
        std::thread::yield_now();
    }
    m.release();
    assert_eq!(waiter.join().unwrap().unwrap(), 2);
}

#[test]
fn clones_share_one_table() {
    let m = numbered(2);
    let other = m.clone();
    block_on(other.delete("i000")).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m.calls(VistaOp::Delete), 1);
    assert!(format!("{m:?}").contains("items"));
}
