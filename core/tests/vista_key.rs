//! `Query::key` / `QueryDescriptor::key`: stable, canonical, collision-free.

use diorama_core::value::{Int, Value};
use diorama_core::vista::{CmpOp, Condition, Query, QueryDescriptor, Sort, SortDir};
use proptest::prelude::*;

fn sample() -> Query {
    Query::new()
        .with_condition(Condition::eq("cat", "light"))
        .with_condition(Condition::gt("price", 10))
        .with_sort(Sort::desc("price"))
        .with_search("lamp")
}

#[test]
fn key_is_a_fixed_documented_string() {
    // Pinned: a change here breaks every persisted position and answered query.
    assert_eq!(
        sample().key(),
        r#"q1|c"cat" = s"light"|c"price" > i10|o-"price"|s"lamp""#
    );
    assert_eq!(Query::new().key(), "q1");
    let d = QueryDescriptor::new(sample()).with_window(100, 50);
    assert_eq!(d.key(), format!("{}|@100,50", sample().key()));
    assert_eq!(QueryDescriptor::for_id("p\"1").key(), r#"q1|#"p\"1""#);
    let floats = Query::new().with_condition(Condition::eq("x", 1.5));
    assert_eq!(floats.key(), r#"q1|c"x" = d3ff8000000000000"#);
}

#[test]
fn same_query_same_key() {
    assert_eq!(sample().key(), sample().key());
    assert_eq!(sample().clone().key(), sample().key());
    // A descriptor without window or id keys as its query.
    assert_eq!(QueryDescriptor::new(sample()).key(), sample().key());
}

#[test]
fn escaping_keeps_tricky_texts_apart() {
    let a = Query::new().with_condition(Condition::eq("a", r#"x" = s"y"#));
    let b = Query::new()
        .with_condition(Condition::eq("a", "x"))
        .with_condition(Condition::eq("", "y"));
    assert_ne!(a.key(), b.key());
    let c = Query::new().with_search(r#"a\"#);
    let d = Query::new().with_search(r#"a\\"#);
    assert_ne!(c.key(), d.key());
    let e = Query::new().with_search(r#"x"|o+"y"#);
    let f = Query::new().with_search("x").with_sort(Sort::asc("y"));
    assert_ne!(e.key(), f.key());
}

#[test]
fn distinct_parts_give_distinct_keys() {
    let base = Query::new().with_condition(Condition::eq("n", 1));
    let variants = [
        base.clone(),
        Query::new().with_condition(Condition::eq("n", 1.0)),
        Query::new().with_condition(Condition::eq("n", "1")),
        Query::new().with_condition(Condition::ne("n", 1)),
        Query::new().with_condition(Condition::eq("m", 1)),
        base.clone().with_sort(Sort::asc("n")),
        base.clone().with_sort(Sort::desc("n")),
        base.clone().with_search("1"),
    ];
    for (i, a) in variants.iter().enumerate() {
        for (j, b) in variants.iter().enumerate() {
            assert_eq!(a.key() == b.key(), i == j, "{a:?} vs {b:?}");
        }
    }
    // Condition order is part of the query.
    let ab = Query::new()
        .with_condition(Condition::eq("a", 1))
        .with_condition(Condition::eq("b", 1));
    let ba = Query::new()
        .with_condition(Condition::eq("b", 1))
        .with_condition(Condition::eq("a", 1));
    assert_ne!(ab.key(), ba.key());
    // Windows and ids.
    let q = QueryDescriptor::new(base.clone());
    let keys = [
        q.key(),
        q.clone().with_window(0, 10).key(),
        q.clone().with_window(1, 0).key(),
        QueryDescriptor {
            offset: Some(10),
            ..q.clone()
        }
        .key(),
        QueryDescriptor {
            limit: Some(10),
            ..q.clone()
        }
        .key(),
        QueryDescriptor {
            id: Some("x".into()),
            ..q.clone()
        }
        .key(),
    ];
    for (i, a) in keys.iter().enumerate() {
        for (j, b) in keys.iter().enumerate() {
            assert_eq!(a == b, i == j, "{a} vs {b}");
        }
    }
}

#[test]
fn zero_signs_and_nans_fold() {
    let pos = Query::new().with_condition(Condition::eq("x", 0.0));
    let neg = Query::new().with_condition(Condition::eq("x", -0.0));
    assert_eq!(pos.key(), neg.key());
    let nan1 = Query::new().with_condition(Condition::eq("x", f64::NAN));
    let nan2 =
        Query::new().with_condition(Condition::eq("x", f64::from_bits(0x7ff8_dead_0000_0001)));
    assert_eq!(nan1.key(), nan2.key());
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        Just(Value::Undefined),
        any::<bool>().prop_map(Value::Bool),
        (-(1i128 << 64)..=(u64::MAX as i128))
            .prop_map(|i| Value::Integer(Int::new(i).expect("in range"))),
        // NaN folds into one key while NaN != NaN, so keep floats non-NaN here.
        any::<f64>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(|f| Value::Float(if f == 0.0 { 0.0 } else { f })),
        "[a\"\\\\|:,{}()\\[\\] x]{0,6}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(Value::Bytes),
        any::<u8>().prop_map(Value::Simple),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..3).prop_map(Value::Map),
            (0u64..4, inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
        ]
    })
}

fn op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Gt),
        Just(CmpOp::Gte),
        Just(CmpOp::Lt),
        Just(CmpOp::Lte),
        Just(CmpOp::In),
        Just(CmpOp::Like),
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[ab\"\\\\|. ]{0,4}"
}

fn descriptor() -> impl Strategy<Value = QueryDescriptor> {
    let condition = (text(), op(), value()).prop_map(|(f, o, v)| Condition::new(f, o, v));
    let sort = proptest::option::of(
        (text(), any::<bool>())
            .prop_map(|(f, asc)| Sort::new(f, if asc { SortDir::Asc } else { SortDir::Desc })),
    );
    (
        proptest::collection::vec(condition, 0..3),
        sort,
        proptest::option::of(text()),
        proptest::option::of(0usize..3),
        proptest::option::of(0usize..3),
        proptest::option::of(text()),
    )
        .prop_map(
            |(conditions, sort, search, offset, limit, id)| QueryDescriptor {
                query: Query {
                    conditions,
                    sort,
                    search,
                },
                offset,
                limit,
                id,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn keys_equal_exactly_when_descriptors_equal(a in descriptor(), b in descriptor()) {
        prop_assert_eq!(a.key() == b.key(), a == b, "{} / {}", a.key(), b.key());
        prop_assert_eq!(a.key(), a.clone().key());
    }

    #[test]
    fn a_small_change_changes_the_key(a in descriptor(), extra in text()) {
        let mut b = a.clone();
        b.query.conditions.push(Condition::eq(extra.clone(), 0));
        prop_assert_ne!(a.key(), b.key());
        let mut c = a.clone();
        c.query.search = Some(format!("{}{}", c.query.search.clone().unwrap_or_default(), "x"));
        prop_assert_ne!(a.key(), c.key());
    }
}
