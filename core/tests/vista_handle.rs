//! The `Vista` handle: narrowing split into pushed and residual, local
//! evaluation where it is correct, refusal where it is not.

use std::sync::{Arc, Mutex};

use diorama_core::Result;
use diorama_core::error::ErrorKind;
use diorama_core::record;
use diorama_core::runtime::BoxFuture;
use diorama_core::value::Record;
use diorama_core::vista::{
    Clause, CmpOp, Condition, Id, MemoryVista, Page, Query, Sort, SortDir, TableShell, Vista,
    VistaCapabilities, VistaOp,
};
use futures_lite::future::block_on;

/// A shell that forwards to a MemoryVista, records every query it receives,
/// and refuses sort and search (like a plain CSV with a filter).
#[derive(Debug, Clone)]
struct Recording {
    inner: MemoryVista,
    seen: Arc<Mutex<Vec<(&'static str, Query)>>>,
}

impl Recording {
    fn new(inner: MemoryVista) -> Self {
        Recording {
            inner,
            seen: Arc::default(),
        }
    }
    fn seen(&self) -> Vec<(&'static str, Query)> {
        self.seen.lock().unwrap().clone()
    }
    fn note(&self, op: &'static str, query: &Query) {
        self.seen.lock().unwrap().push((op, query.clone()));
    }
}

impl TableShell for Recording {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> VistaCapabilities {
        self.inner.capabilities()
    }
    fn accepts(&self, clause: Clause<'_>) -> bool {
        self.inner.accepts(clause)
    }
    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        self.note("list", query);
        self.inner.list(query)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        self.inner.get(id)
    }
    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        self.note("count", query);
        self.inner.count(query)
    }
    fn fetch_window<'a>(&'a self, q: &'a Query, o: usize, l: usize) -> BoxFuture<'a, Result<Page>> {
        self.note("fetch_window", q);
        self.inner.fetch_window(q, o, l)
    }
    fn insert<'a>(&'a self, id: Option<Id>, r: Record) -> BoxFuture<'a, Result<Id>> {
        self.inner.insert(id, r)
    }
    fn replace<'a>(&'a self, id: &'a str, r: Record) -> BoxFuture<'a, Result<()>> {
        self.inner.replace(id, r)
    }
    fn patch<'a>(&'a self, id: &'a str, r: Record) -> BoxFuture<'a, Result<()>> {
        self.inner.patch(id, r)
    }
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.inner.delete(id)
    }
    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        self.inner.delete_all()
    }
}

fn products() -> MemoryVista {
    MemoryVista::new("products").with_rows([
        (
            "p1",
            record! { "name" => "Desk lamp", "price" => 19.5, "cat" => "light" },
        ),
        (
            "p2",
            record! { "name" => "Desk", "price" => 120, "cat" => "furniture" },
        ),
        (
            "p3",
            record! { "name" => "Floor lamp", "price" => 89, "cat" => "light" },
        ),
        (
            "p4",
            record! { "name" => "Bulb", "price" => 3, "cat" => "light" },
        ),
        ("p5", record! { "name" => "Shade", "cat" => "light" }),
    ])
}

fn no_sort_no_search(m: MemoryVista) -> MemoryVista {
    m.with_capabilities(VistaCapabilities {
        can_order: false,
        can_search: false,
        ..VistaCapabilities::ALL
    })
}

fn ids(rows: &[(Id, Record)]) -> Vec<&str> {
    rows.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn accessors_report_the_shell() {
    let master = products();
    let vista = Vista::new(master.clone());
    assert_eq!(vista.name(), "products");
    assert_eq!(vista.capabilities(), master.capabilities());
    assert_eq!(vista.shell().name(), "products");
    assert!(vista.query().is_empty());
    let shared = Vista::from_shell(vista.shell().clone());
    assert_eq!(block_on(shared.count()).unwrap(), 5);
}

#[test]
fn narrowing_splits_refused_clauses_into_the_residual() {
    let vista = Vista::new(no_sort_no_search(products()))
        .where_eq("cat", "light")
        .with_sort("price", SortDir::Desc)
        .with_search("lamp")
        .where_op("price", CmpOp::Lt, 100);

    let pushed = Query::new()
        .with_condition(Condition::eq("cat", "light"))
        .with_condition(Condition::lt("price", 100));
    let residual = Query::new()
        .with_sort(Sort::desc("price"))
        .with_search("lamp");
    assert_eq!(vista.pushed(), &pushed);
    assert_eq!(vista.residual(), &residual);
    assert_eq!(
        vista.query(),
        &pushed
            .clone()
            .with_sort(Sort::desc("price"))
            .with_search("lamp")
    );
}

#[test]
fn an_accepting_shell_gets_everything_pushed() {
    let vista = Vista::new(products())
        .where_eq("cat", "light")
        .with_sort("price", SortDir::Asc)
        .with_search("lamp");
    assert!(vista.residual().is_empty());
    assert_eq!(vista.pushed(), vista.query());
}

#[test]
fn a_shell_refusing_conditions_leaves_them_residual() {
    let vista = Vista::new(products().with_accepts_conditions(false))
        .where_eq("cat", "light")
        .with_sort("price", SortDir::Asc);
    assert_eq!(vista.residual().conditions, [Condition::eq("cat", "light")]);
    assert_eq!(vista.pushed().sort, Some(Sort::asc("price")));
    let rows = block_on(vista.list()).unwrap();
    // Shell sorted, residual filtered locally: order survives filtering.
    assert_eq!(ids(&rows), ["p4", "p1", "p3", "p5"]);
}

#[test]
fn a_new_sort_or_search_replaces_the_old_one() {
    let vista = Vista::new(no_sort_no_search(products()))
        .with_sort("price", SortDir::Asc)
        .with_sort("name", SortDir::Desc)
        .with_search("a")
        .with_search("lamp");
    assert_eq!(vista.query().sort, Some(Sort::desc("name")));
    assert_eq!(vista.residual().sort, Some(Sort::desc("name")));
    assert_eq!(vista.query().search.as_deref(), Some("lamp"));
    let cleared = vista.with_search("");
    assert_eq!(cleared.query().search, None);
    assert_eq!(cleared.residual().search, None);
}

#[test]
fn list_evaluates_the_residual_locally_over_the_complete_set() {
    let shell = Recording::new(no_sort_no_search(products()));
    let vista = Vista::new(shell.clone())
        .where_eq("cat", "light")
        .with_sort("price", SortDir::Desc)
        .with_search("LAMP");
    let rows = block_on(vista.list()).unwrap();
    assert_eq!(ids(&rows), ["p3", "p1"]);
    // The shell saw only what it accepted.
    assert_eq!(
        shell.seen(),
        [(
            "list",
            Query::new().with_condition(Condition::eq("cat", "light"))
        )]
    );

    // Sort residual alone: nulls last, all rows kept.
    let sorted = Vista::new(no_sort_no_search(products())).with_sort("price", SortDir::Asc);
    assert_eq!(
        ids(&block_on(sorted.list()).unwrap()),
        ["p4", "p1", "p3", "p2", "p5"]
    );
}

#[test]
fn count_asks_the_shell_unless_the_residual_filters() {
    let shell = Recording::new(no_sort_no_search(products()));
    let master = shell.inner.clone();
    // A residual sort does not change a count: the shell counts.
    let sorted = Vista::new(shell.clone())
        .where_eq("cat", "light")
        .with_sort("price", SortDir::Asc);
    assert_eq!(block_on(sorted.count()).unwrap(), 4);
    assert_eq!(master.calls(VistaOp::Count), 1);
    assert_eq!(master.calls(VistaOp::List), 0);

    // A residual search does: counted over list().
    let searched = Vista::new(shell.clone()).with_search("lamp");
    assert_eq!(block_on(searched.count()).unwrap(), 2);
    assert_eq!(master.calls(VistaOp::Count), 1);
    assert_eq!(master.calls(VistaOp::List), 1);
}

#[test]
fn fetch_window_passes_through_without_residual() {
    let shell = Recording::new(products());
    let vista = Vista::new(shell.clone())
        .where_eq("cat", "light")
        .with_sort("price", SortDir::Desc);
    let page = block_on(vista.fetch_window(1, 2)).unwrap();
    assert_eq!(ids(&page.rows), ["p1", "p4"]);
    assert_eq!(page.total, Some(4));
    assert_eq!(shell.inner.windows(), [(vista.pushed().clone(), 1, 2)]);
}

#[test]
fn fetch_window_refuses_a_residual_naming_the_clauses() {
    let master = no_sort_no_search(products());
    let vista = Vista::new(master.clone())
        .with_sort("price", SortDir::Desc)
        .with_search("lamp");
    let err = block_on(vista.fetch_window(0, 10)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("sort price desc"), "{err}");
    assert!(err.message().contains("search \"lamp\""), "{err}");
    // Refused before reaching the shell: no sample was fetched.
    assert_eq!(master.calls(VistaOp::FetchWindow), 0);

    let conditions =
        Vista::new(products().with_accepts_conditions(false)).where_op("price", CmpOp::Gt, 10);
    let err = block_on(conditions.fetch_window(0, 10)).unwrap_err();
    assert!(err.is_unsupported());
    assert!(err.message().contains("condition price > i10"), "{err}");

    // A sort the shell accepts is no residual.
    let accepted = Vista::new(products()).with_sort("price", SortDir::Desc);
    assert!(block_on(accepted.fetch_window(0, 2)).is_ok());
}

#[test]
fn writes_and_get_pass_through() {
    let master = products();
    let vista = Vista::new(master.clone()).where_eq("cat", "light");
    // Reads by id ignore the narrowing.
    assert_eq!(
        block_on(vista.get("p2")).unwrap().unwrap().get("cat"),
        Some(&"furniture".into())
    );
    let id = block_on(vista.insert(None, record! { "name" => "New" })).unwrap();
    assert_eq!(master.get_row(&id), Some(record! { "name" => "New" }));
    block_on(vista.replace(&id, record! { "name" => "Newer" })).unwrap();
    block_on(vista.patch(&id, record! { "price" => 1 })).unwrap();
    assert_eq!(
        master.get_row(&id),
        Some(record! { "name" => "Newer", "price" => 1 })
    );
    block_on(vista.delete(&id)).unwrap();
    assert_eq!(master.get_row(&id), None);
    assert_eq!(master.calls(VistaOp::Insert), 1);
    assert_eq!(master.calls(VistaOp::Replace), 1);
    assert_eq!(master.calls(VistaOp::Patch), 1);
    assert_eq!(master.calls(VistaOp::Delete), 1);
}

#[test]
fn delete_all_is_refused_on_a_filtered_handle() {
    let master = products();
    let narrowed = Vista::new(master.clone()).where_eq("cat", "light");
    let err = block_on(narrowed.delete_all()).unwrap_err();
    assert!(err.is_unsupported());
    assert_eq!(master.len(), 5);
    assert_eq!(master.calls(VistaOp::DeleteAll), 0);

    let sorted = Vista::new(master.clone()).with_sort("price", SortDir::Asc);
    block_on(sorted.delete_all()).unwrap();
    assert!(master.is_empty());
}

#[test]
fn errors_of_the_shell_propagate() {
    let master = products();
    let vista = Vista::new(master.clone());
    master.fail_next(VistaOp::List, 1);
    assert_eq!(
        block_on(vista.list()).unwrap_err().kind(),
        ErrorKind::Failed
    );
    assert_eq!(block_on(vista.list()).unwrap().len(), 5);
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let vista = Vista::new(products());
    assert_send_sync(&vista);
    // Futures are Send (the shell's BoxFuture is Send, not Sync).
    assert_send(&vista.list());
    assert_send(&vista.count());
    assert_send(&vista.fetch_window(0, 1));
}
