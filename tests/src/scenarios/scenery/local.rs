//! Local table sceneries: sorted and searched in memory over a warm cache
//! (issue 5, tests 11–12).

use diorama_core::scenery::LoadState;
use diorama_core::vista::{SortDir, VistaOp};
use diorama_core::{MemoryVista, TableScenery, Value, record};

use super::support::*;
use crate::harness::Harness;

fn order(view: &TableScenery) -> Vec<String> {
    (0..view.row_count())
        .map(|i| view.row(i).unwrap().id.clone())
        .collect()
}

/// Local sort is numeric across ints and floats, puts nulls and missing
/// fields last and breaks ties by id in both directions; search matches
/// text case-insensitively, nested values included. No window is fetched.
pub fn local_sort_is_numeric_nulls_last_ties_by_id_and_search_reaches_nested_text<H: Harness>(
    h: &H,
) {
    let master = MemoryVista::new("items").with_rows([
        ("a", record! { "price" => 10, "tags" => Value::Array(vec!["Garden".into()]) }),
        ("b", record! { "price" => 2.5 }),
        ("c", record! { "price" => Value::Null }),
        ("d", record! { "price" => 10.0 }),
        ("e", record! { "name" => "no price" }),
        ("f", record! { "price" => -1, "meta" => Value::Map(vec![("note".into(), "LAMP shade".into())]) }),
    ]);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().sort("price", SortDir::Asc).open())
        .unwrap();
    assert_eq!(view.load_state(), LoadState::Complete);
    assert_eq!(order(&view), ["f", "b", "a", "d", "c", "e"]);

    view.set_sort(Some("price".into()), SortDir::Desc).unwrap();
    h.settle();
    assert_eq!(
        order(&view),
        ["a", "d", "b", "f", "c", "e"],
        "nulls last and ties by id in both directions"
    );

    view.set_search(Some("lamp".into())).unwrap();
    h.settle();
    assert_eq!(order(&view), ["f"]);
    view.set_search(Some("GARD".into())).unwrap();
    h.settle();
    assert_eq!(order(&view), ["a"]);
    view.set_search(Some("2.5".into())).unwrap();
    h.settle();
    assert_eq!(order(&view), ["b"]);
    assert_eq!(master.calls(VistaOp::FetchWindow), 0);
}

/// A changed row moves to where the sort puts it; a removed row leaves.
pub fn local_views_re_place_a_changed_row_where_the_sort_puts_it<H: Harness>(h: &H) {
    let master = products(10);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().sort("price", SortDir::Asc).open())
        .unwrap();
    assert_eq!(view.row(0).unwrap().id, product_id(0));
    dio.patched(product_id(0), record! { "price" => 1000 })
        .unwrap();
    h.settle();
    assert_eq!(view.row(9).unwrap().id, product_id(0));
    assert_eq!(view.row(0).unwrap().id, product_id(1));
    dio.removed(product_id(5)).unwrap();
    h.settle();
    assert_eq!(view.row_count(), 9);
    assert_eq!(view.index_of(&product_id(5)), None);
}
