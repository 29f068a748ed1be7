//! Local evaluation semantics: the one definition of conditions, search and
//! sort that every in-memory path shares.

use diorama_core::record;
use diorama_core::value::{Int, Record, Value};
use diorama_core::vista::eval::{
    Filter, apply_query, compare_values, like_matches, lookup, matches_condition, matches_search,
    sort_rows, window,
};
use diorama_core::vista::{CmpOp, Condition, Id, Query, Sort, SortDir};
use std::cmp::Ordering;

fn ids(rows: &[(Id, Record)]) -> Vec<&str> {
    rows.iter().map(|(id, _)| id.as_str()).collect()
}

fn row(id: &str, record: Record) -> (Id, Record) {
    (id.to_string(), record)
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

#[test]
fn numbers_compare_numerically_across_int_and_float() {
    assert_eq!(compare_values(&1.into(), &1.0.into()), Ordering::Equal);
    assert_eq!(compare_values(&2.into(), &1.5.into()), Ordering::Greater);
    assert_eq!(compare_values(&(-2).into(), &(-1.5).into()), Ordering::Less);
    assert_eq!(compare_values(&10.into(), &9.into()), Ordering::Greater);
    // Text "10" < "9" by bytes, but numbers are not text.
    assert_eq!(compare_values(&"10".into(), &"9".into()), Ordering::Less);
    assert_eq!(compare_values(&(-0.0).into(), &0.0.into()), Ordering::Equal);
}

#[test]
fn big_integers_compare_exactly_with_floats() {
    let max = Value::Integer(Int::MAX); // 2^64 - 1
    let two_64 = Value::Float(18_446_744_073_709_551_616.0); // 2^64 exactly
    // As f64, 2^64 - 1 rounds to 2^64; the exact comparison does not.
    assert_eq!(compare_values(&max, &two_64), Ordering::Less);
    assert_eq!(compare_values(&two_64, &max), Ordering::Greater);
    let min = Value::Integer(Int::MIN); // -2^64, exactly representable
    assert_eq!(
        compare_values(&min, &Value::Float(-18_446_744_073_709_551_616.0)),
        Ordering::Equal
    );
    let big = Value::Integer(Int::from(9_007_199_254_740_993u64)); // 2^53 + 1
    assert_eq!(
        compare_values(&big, &Value::Float(9_007_199_254_740_992.0)),
        Ordering::Greater
    );
    assert_eq!(
        compare_values(&Value::from(3), &Value::Float(f64::INFINITY)),
        Ordering::Less
    );
    assert_eq!(
        compare_values(&Value::from(3), &Value::Float(f64::NEG_INFINITY)),
        Ordering::Greater
    );
}

#[test]
fn nan_is_ordered_consistently_after_every_number() {
    let nan = Value::Float(f64::NAN);
    assert_eq!(compare_values(&nan, &nan), Ordering::Equal);
    assert_eq!(
        compare_values(&nan, &Value::Float(f64::INFINITY)),
        Ordering::Greater
    );
    assert_eq!(
        compare_values(&Value::Integer(Int::MAX), &nan),
        Ordering::Less
    );
    // Still below the next kind.
    assert_eq!(compare_values(&nan, &"a".into()), Ordering::Less);
}

#[test]
fn kinds_order_by_fixed_rank() {
    let ladder = [
        Value::Null,
        Value::Undefined,
        Value::Bool(false),
        Value::Bool(true),
        Value::from(-5),
        Value::from(0.5),
        Value::from(""),
        Value::from("z"),
        Value::Bytes(vec![0]),
        Value::Array(vec![]),
        Value::Array(vec![1.into()]),
        map(&[]),
        Value::Tag(1, Box::new(0.into())),
        Value::Simple(16),
    ];
    for (i, a) in ladder.iter().enumerate() {
        for (j, b) in ladder.iter().enumerate() {
            assert_eq!(compare_values(a, b), i.cmp(&j), "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn dotted_paths_reach_into_nested_maps_and_arrays() {
    let r = record! {
        "address" => map(&[("city", "Riga".into()), ("geo", map(&[("lat", 56.9.into())]))]),
        "tags" => vec![Value::from("new"), Value::from("sale")],
        "a.b" => "literal",
        "a" => map(&[("b", "nested".into())]),
    };
    assert_eq!(lookup(&r, "address.city"), Some(&Value::from("Riga")));
    assert_eq!(lookup(&r, "address.geo.lat"), Some(&Value::from(56.9)));
    assert_eq!(lookup(&r, "tags.1"), Some(&Value::from("sale")));
    // The literal field name wins over the nested path.
    assert_eq!(lookup(&r, "a.b"), Some(&Value::from("literal")));
    assert_eq!(lookup(&r, "address.zip"), None);
    assert_eq!(lookup(&r, "tags.7"), None);
    assert_eq!(lookup(&r, "nope"), None);

    let dotted_key = record! { "meta" => map(&[("x.y", 1.into())]) };
    assert_eq!(lookup(&dotted_key, "meta.x.y"), Some(&Value::from(1)));
}

#[test]
fn eq_and_ne_semantics() {
    let r = record! { "n" => 1, "f" => 2.5, "s" => "Lamp", "z" => Value::Null };
    assert!(matches_condition(&r, &Condition::eq("n", 1.0)));
    assert!(matches_condition(&r, &Condition::eq("f", 2.5)));
    assert!(
        !matches_condition(&r, &Condition::eq("s", "lamp")),
        "Eq is case-sensitive"
    );
    assert!(
        !matches_condition(&r, &Condition::eq("n", "1")),
        "a number is not its text"
    );
    // Null: Eq null matches null and missing; nothing else equals null.
    assert!(matches_condition(&r, &Condition::eq("z", Value::Null)));
    assert!(matches_condition(
        &r,
        &Condition::eq("missing", Value::Null)
    ));
    assert!(!matches_condition(&r, &Condition::eq("n", Value::Null)));
    assert!(!matches_condition(&r, &Condition::eq("missing", 1)));
    // Ne is exactly the complement of Eq.
    assert!(matches_condition(&r, &Condition::ne("missing", 1)));
    assert!(matches_condition(&r, &Condition::ne("n", Value::Null)));
    assert!(!matches_condition(&r, &Condition::ne("z", Value::Null)));
    assert!(!matches_condition(&r, &Condition::ne("n", 1.0)));
}

#[test]
fn ordering_comparisons() {
    let r = record! { "price" => 19.99, "stock" => 3, "name" => "Lamp", "z" => Value::Null };
    assert!(matches_condition(&r, &Condition::gt("price", 19)));
    assert!(matches_condition(&r, &Condition::lt("price", 20)));
    assert!(matches_condition(&r, &Condition::gte("stock", 3.0)));
    assert!(matches_condition(&r, &Condition::lte("stock", 3)));
    assert!(!matches_condition(&r, &Condition::gt("stock", 3)));
    assert!(matches_condition(&r, &Condition::gt("name", "Desk")));
    // Null or missing on either side: false, in every direction.
    for op in [CmpOp::Gt, CmpOp::Gte, CmpOp::Lt, CmpOp::Lte] {
        assert!(!matches_condition(&r, &Condition::new("z", op, 1)));
        assert!(!matches_condition(&r, &Condition::new("missing", op, 1)));
        assert!(!matches_condition(
            &r,
            &Condition::new("stock", op, Value::Null)
        ));
        // Across kinds: neither above nor below.
        assert!(!matches_condition(&r, &Condition::new("name", op, 1)));
    }
}

#[test]
fn in_matches_any_element() {
    let r = record! { "status" => "open", "n" => 2 };
    assert!(matches_condition(
        &r,
        &Condition::is_in("status", ["open", "held"])
    ));
    assert!(!matches_condition(
        &r,
        &Condition::is_in("status", ["closed"])
    ));
    assert!(matches_condition(&r, &Condition::is_in("n", [1.0, 2.0])));
    assert!(matches_condition(
        &r,
        &Condition::is_in("missing", [Value::Null, Value::from(1)])
    ));
    assert!(!matches_condition(
        &r,
        &Condition::is_in("n", Vec::<Value>::new())
    ));
    // A non-array operand is a one-element list.
    assert!(matches_condition(&r, &Condition::new("n", CmpOp::In, 2)));
}

#[test]
fn like_patterns() {
    assert!(like_matches("Desk lamp", "%LAMP"));
    assert!(like_matches("Desk lamp", "desk%"));
    assert!(like_matches("Desk lamp", "%k l%"));
    assert!(like_matches("Desk lamp", "D_sk lamp"));
    assert!(!like_matches("Desk lamp", "D_sk"));
    assert!(!like_matches("Desk lamp", "lamp"));
    assert!(like_matches("", "%"));
    assert!(!like_matches("", "_"));
    assert!(like_matches("abcabc", "%a%c"));
    assert!(like_matches("mississippi", "%iss%ppi"));
    assert!(!like_matches("mississippi", "%iss%ppx"));
    assert!(like_matches("100%", "100\\%"));
    assert!(!like_matches("1000", "100\\%"));
    assert!(like_matches("a_b", "a\\_b"));
    assert!(!like_matches("axb", "a\\_b"));
    assert!(like_matches("back\\", "back\\"));
    assert!(like_matches("ÉCOLE", "%école"));
    assert!(like_matches("Ωmega", "_MEGA"));

    let r = record! { "name" => "Desk Lamp", "price" => 19.99, "n" => 42, "ok" => true,
    "tags" => vec![Value::from("x")] };
    assert!(matches_condition(&r, &Condition::like("name", "%lamp%")));
    assert!(matches_condition(&r, &Condition::like("price", "19.%")));
    assert!(matches_condition(&r, &Condition::like("n", "4_")));
    assert!(matches_condition(&r, &Condition::like("ok", "TRUE")));
    assert!(matches_condition(&r, &Condition::new("n", CmpOp::Like, 42)));
    assert!(!matches_condition(&r, &Condition::like("missing", "%")));
    assert!(!matches_condition(&r, &Condition::like("tags", "%")));
}

#[test]
fn search_covers_numbers_bools_and_nested_text_but_not_field_names() {
    let r = record! {
        "name" => "Desk Lamp",
        "price" => 19.99,
        "stock" => 42,
        "whole" => 7.0,
        "active" => true,
        "address" => map(&[("city", "Zürich".into())]),
        "tags" => vec![Value::from("Sale"), map(&[("deep", "NeEdLe".into())])],
        "blob" => Value::Bytes(b"hidden".to_vec()),
    };
    assert!(matches_search(&r, "lamp"));
    assert!(matches_search(&r, "DESK l"));
    assert!(matches_search(&r, "19.99"));
    assert!(matches_search(&r, "9.9"));
    assert!(matches_search(&r, "42"));
    assert!(matches_search(&r, "7"));
    assert!(
        !matches_search(&r, "7.0"),
        "a whole float renders without .0"
    );
    assert!(matches_search(&r, "TRUE"));
    assert!(matches_search(&r, "zürich"));
    assert!(matches_search(&r, "ZÜR"));
    assert!(matches_search(&r, "sale"));
    assert!(matches_search(&r, "needle"));
    assert!(matches_search(&r, ""));
    // Field names and map keys are not searched; bytes have no text.
    assert!(!matches_search(&r, "price"));
    assert!(!matches_search(&r, "city"));
    assert!(!matches_search(&r, "deep"));
    assert!(!matches_search(&r, "hidden"));
    assert!(!matches_search(&r, "absent"));
}

fn priced() -> Vec<(Id, Record)> {
    vec![
        row("e", record! { "price" => 10 }),
        row("b", record! { "price" => 2.5 }),
        row("d", record! { "price" => Value::Null }),
        row("a", record! { "price" => 10.0 }),
        row("c", record! {}),
        row("f", record! { "price" => -1 }),
    ]
}

#[test]
fn sort_asc_numeric_with_nulls_last_and_ties_by_id() {
    let mut rows = priced();
    sort_rows(&mut rows, &Sort::asc("price"));
    // 10 and 10.0 tie: broken by id; null and missing last, by id.
    assert_eq!(ids(&rows), ["f", "b", "a", "e", "c", "d"]);
}

#[test]
fn sort_desc_keeps_nulls_last_and_ties_by_id_ascending() {
    let mut rows = priced();
    sort_rows(&mut rows, &Sort::desc("price"));
    assert_eq!(ids(&rows), ["a", "e", "b", "f", "c", "d"]);
}

#[test]
fn sort_by_nested_path_and_text() {
    let mut rows = vec![
        row("1", record! { "a" => map(&[("city", "Riga".into())]) }),
        row("2", record! { "a" => map(&[("city", "Oslo".into())]) }),
        row("3", record! { "a" => map(&[]) }),
        row("4", record! { "a" => map(&[("city", "Bern".into())]) }),
    ];
    sort_rows(&mut rows, &Sort::new("a.city", SortDir::Asc));
    assert_eq!(ids(&rows), ["4", "2", "1", "3"]);
}

#[test]
fn sorting_many_rows_matches_a_reference_order() {
    // Deterministic pseudo-random values, some null, many ties.
    let mut state = 0x2545_f491_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rows: Vec<(Id, Record)> = (0..500)
        .map(|i| {
            let v = next() % 40;
            let value = match v % 5 {
                0 => Value::Null,
                1 => Value::from((v / 5) as f64 + 0.5),
                _ => Value::from((v / 5) as i64),
            };
            (
                format!("id{:03}", next() % 1000 + i * 1000),
                record! { "v" => value },
            )
        })
        .collect();
    let mut expected = rows.clone();
    sort_rows(&mut rows, &Sort::desc("v"));
    expected.sort_by(|(ia, ra), (ib, rb)| {
        let (a, b) = (ra.get("v").unwrap(), rb.get("v").unwrap());
        match (a.is_null(), b.is_null()) {
            (true, true) => ia.cmp(ib),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                y.partial_cmp(&x).unwrap().then(ia.cmp(ib))
            }
        }
    });
    assert_eq!(ids(&rows), ids(&expected));
}

#[test]
fn apply_query_filters_searches_then_sorts() {
    let rows = vec![
        row(
            "p1",
            record! { "name" => "Lamp", "price" => 19.5, "cat" => "light" },
        ),
        row(
            "p2",
            record! { "name" => "Desk", "price" => 120, "cat" => "furniture" },
        ),
        row(
            "p3",
            record! { "name" => "Floor lamp", "price" => 89, "cat" => "light" },
        ),
        row(
            "p4",
            record! { "name" => "Bulb", "price" => 3, "cat" => "light" },
        ),
    ];
    let query = Query::new()
        .with_condition(Condition::eq("cat", "light"))
        .with_search("LAMP")
        .with_sort(Sort::desc("price"));
    assert_eq!(ids(&apply_query(rows.clone(), &query)), ["p3", "p1"]);

    // Without a sort, input order is kept.
    let unsorted = Query::new().with_condition(Condition::lt("price", 100));
    assert_eq!(
        ids(&apply_query(rows.clone(), &unsorted)),
        ["p1", "p3", "p4"]
    );

    // The reusable filter agrees with the one-shot functions.
    let mut filter = Filter::new(&query);
    for (_, record) in &rows {
        let expected = query
            .conditions
            .iter()
            .all(|c| matches_condition(record, c))
            && matches_search(record, "LAMP");
        assert_eq!(filter.matches(record), expected);
    }
}

#[test]
fn window_slices_and_clamps() {
    let v: Vec<u32> = (0..10).collect();
    assert_eq!(window(v.clone(), 2, 3), [2, 3, 4]);
    assert_eq!(window(v.clone(), 8, 5), [8, 9]);
    assert!(window(v.clone(), 10, 5).is_empty());
    assert!(window(v.clone(), 3, 0).is_empty());
    assert_eq!(window(v, 0, usize::MAX).len(), 10);
}

/// Straightforward recursive LIKE, the reference the fast matcher must agree with.
fn like_reference(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|skip| like_reference(&text[skip..], rest)),
        Some(('_', rest)) => !text.is_empty() && like_reference(&text[1..], rest),
        Some((c, rest)) => {
            text.first().is_some_and(|t| t.eq_ignore_ascii_case(c))
                && like_reference(&text[1..], rest)
        }
    }
}

proptest::proptest! {
    #[test]
    fn like_agrees_with_reference(text in "[abAB]{0,8}", pattern in "[abB%_]{0,6}") {
        let t: Vec<char> = text.chars().collect();
        let p: Vec<char> = pattern.chars().collect();
        proptest::prop_assert_eq!(like_matches(&text, &pattern), like_reference(&t, &p));
    }
}
