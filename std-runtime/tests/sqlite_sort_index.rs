//! The sort indexes of `create_index` / `TableSpec::index`: every sort of
//! an indexed field, either way, walks its covering index (checked with
//! `EXPLAIN QUERY PLAN`), never sorts the table, and gives the rows local
//! evaluation gives (nulls last, ties by id as text).
#![cfg(feature = "sqlite")]

use diorama_core::value::Value;
use diorama_core::vista::{CmpOp, Condition, MemoryVista, Query, Sort, SortDir, TableShell};
use diorama_core::{Record, record};
use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};
use smol::block_on;

const FIELDS: [&str; 3] = ["price", "name", "stock"];

fn spec(id_type: IdType) -> TableSpec {
    FIELDS.iter().fold(
        TableSpec::new("items", "id", id_type)
            .column("price", ColumnType::Real)
            .column("name", ColumnType::Text)
            .column("stock", ColumnType::Integer),
        |spec, field| spec.index(*field),
    )
}

fn sorts() -> Vec<Sort> {
    FIELDS
        .iter()
        .flat_map(|f| [Sort::new(*f, SortDir::Asc), Sort::new(*f, SortDir::Desc)])
        .collect()
}

fn plan(vista: &SqliteVista, query: &Query) -> String {
    block_on(vista.explain_window(query)).unwrap().join(" | ")
}

fn rows(n: usize, id_type: IdType) -> Vec<(Option<String>, Record)> {
    (0..n)
        .map(|i| {
            // Ids whose text order differs from their numeric order, prices
            // with ties and nulls, names with case variants.
            let id = match id_type {
                IdType::Integer => (i * 7 % 101).to_string(),
                IdType::Text => format!("k{}", i * 7 % 101),
            };
            let price = match i % 5 {
                0 => Value::Null,
                k => Value::Float(k as f64 * 1.5),
            };
            let name = ["b", "A", "a", "B"][i % 4];
            let stock = if i % 3 == 0 {
                Value::Null
            } else {
                (i as i64 % 4).into()
            };
            (
                Some(id),
                record! { "price" => price, "name" => name, "stock" => stock },
            )
        })
        .collect()
}

#[test]
fn every_sort_walks_its_covering_index() {
    for id_type in [IdType::Integer, IdType::Text] {
        let vista = SqliteVista::open_in_memory(&spec(id_type)).unwrap();
        for sort in sorts() {
            let dir = match sort.dir {
                SortDir::Asc => "asc",
                SortDir::Desc => "desc",
            };
            let index = format!("USING COVERING INDEX items_{}_{dir}", sort.field);
            let query = Query::new().with_sort(sort.clone());
            let walked = plan(&vista, &query);
            assert!(walked.contains(&index), "{id_type:?} {sort:?}: {walked}");
            assert!(
                !walked.contains("TEMP B-TREE"),
                "{id_type:?} {sort:?}: {walked}"
            );
            // A numeric condition on the sorted column narrows the walk.
            let narrowed = query.with_condition(Condition::new(sort.field.clone(), CmpOp::Gt, 2));
            let walked = plan(&vista, &narrowed);
            assert!(
                walked.contains(&format!("items_{}_{dir}", sort.field)),
                "{walked}"
            );
            assert!(!walked.contains("TEMP B-TREE"), "{walked}");
        }
        // No sort: the table in rowid order, no sort either.
        let unsorted = plan(&vista, &Query::new());
        assert!(unsorted.starts_with("SCAN items"), "{unsorted}");
        assert!(!unsorted.contains("TEMP B-TREE"), "{unsorted}");
    }
}

#[test]
fn indexed_windows_equal_local_evaluation() {
    for id_type in [IdType::Integer, IdType::Text] {
        let vista = SqliteVista::open_in_memory(&spec(id_type)).unwrap();
        let rows = rows(101, id_type);
        block_on(vista.insert_many(rows.clone())).unwrap();
        let stored = block_on(vista.list(&Query::new())).unwrap();
        let memory = MemoryVista::new("items").with_rows(stored);
        for sort in sorts() {
            let query = Query::new().with_sort(sort.clone());
            for (offset, limit) in [(0, 10), (17, 30), (95, 10), (101, 5)] {
                let expected = block_on(memory.fetch_window(&query, offset, limit)).unwrap();
                let actual = block_on(vista.fetch_window(&query, offset, limit)).unwrap();
                assert_eq!(actual, expected, "{id_type:?} {sort:?} {offset}+{limit}");
            }
        }
    }
}

#[test]
fn create_index_adds_both_directions_once() {
    let spec = TableSpec::new("items", "id", IdType::Text).column("price", ColumnType::Real);
    let vista = SqliteVista::open_in_memory(&spec).unwrap();
    let desc = Query::new().with_sort(Sort::desc("price"));
    assert!(plan(&vista, &desc).contains("TEMP B-TREE"), "no index yet");
    block_on(vista.create_index("price")).unwrap();
    // Again: nothing to do, no error.
    block_on(vista.create_index("price")).unwrap();
    assert!(plan(&vista, &desc).contains("COVERING INDEX items_price_desc"));
    let asc = Query::new().with_sort(Sort::asc("price"));
    assert!(plan(&vista, &asc).contains("COVERING INDEX items_price_asc"));
    let error = block_on(vista.create_index("colour")).unwrap_err();
    assert_eq!(error.kind(), diorama_core::ErrorKind::InvalidInput);
}

#[test]
fn position_is_the_index_in_the_querys_order() {
    for id_type in [IdType::Integer, IdType::Text] {
        let vista = SqliteVista::open_in_memory(&spec(id_type)).unwrap();
        block_on(vista.insert_many(rows(101, id_type))).unwrap();
        let stored = block_on(vista.list(&Query::new())).unwrap();
        let memory = MemoryVista::new("items").with_rows(stored);
        let mut queries: Vec<Query> = sorts()
            .into_iter()
            .map(|s| Query::new().with_sort(s))
            .collect();
        queries.push(Query::new());
        queries.push(Query::new().with_condition(Condition::new("stock", CmpOp::Gt, 1)));
        queries.push(Query::new().with_search("a").with_sort(Sort::desc("price")));
        for query in queries {
            let expected = block_on(memory.list(&query)).unwrap();
            for (at, (id, _)) in expected.iter().enumerate() {
                let found = block_on(vista.position(&query, id)).unwrap();
                assert_eq!(found, Some(at), "{id_type:?} {query:?} {id}");
            }
        }
        let narrowed = Query::new().with_condition(Condition::new("stock", CmpOp::Gt, 100));
        let (id, _) = &block_on(memory.list(&Query::new())).unwrap()[0];
        assert_eq!(block_on(vista.position(&narrowed, id)).unwrap(), None);
    }
}
