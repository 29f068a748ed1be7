//! PgVista applies a Dio's keyed write once: the key is recorded in the
//! schema's `_diorama_applied` table in the same transaction as the write,
//! so a replay changes nothing and answers with the first answer; a write
//! that failed records no key. Skipped (one printed line) without a server,
//! unless `DIORAMA_REQUIRE_SERVICES=1`.
#![cfg(feature = "postgres")]

mod pg_support;

use diorama_core::vista::{TableShell, WriteKey, WriteOp};
use diorama_core::{ErrorKind, record};
use pg_support::Scratch;

async fn qty(db: &Scratch, id: i64) -> Option<i32> {
    db.client()
        .query_opt(
            &format!("SELECT qty FROM \"{}\".items WHERE id = $1", db.schema),
            &[&id],
        )
        .await
        .unwrap()
        .map(|row| row.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_key_is_applied_once() {
    let Some(db) = Scratch::new("keyed").await else {
        return;
    };
    db.exec("CREATE TABLE items (id bigserial PRIMARY KEY, qty integer NOT NULL)")
        .await;
    let items = db.vista("items").open().await.unwrap();
    let insert = WriteKey::new("items", 1, 1);
    let op = WriteOp::Insert {
        id: None,
        record: record! { "qty" => 1 },
    };
    let first = items.apply_write(&insert, op.clone()).await.unwrap();
    let again = items.apply_write(&insert, op).await.unwrap();
    assert_eq!(
        first, again,
        "the replay answers with the id first assigned"
    );
    let count: i64 = db
        .client()
        .query_one(
            &format!("SELECT count(*) FROM \"{}\".items", db.schema),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);

    let id: i64 = first.unwrap().parse().unwrap();
    let set = |n: i64| WriteOp::Patch {
        id: id.to_string(),
        fields: record! { "qty" => n },
    };
    let patch = WriteKey::new("items", 1, 2);
    items.apply_write(&patch, set(5)).await.unwrap();
    items
        .patch(&id.to_string(), record! { "qty" => 9 })
        .await
        .unwrap();
    // A second vista (another process, after a restart) sees the same keys.
    let reopened = db.vista("items").open().await.unwrap();
    reopened.apply_write(&patch, set(5)).await.unwrap();
    assert_eq!(qty(&db, id).await, Some(9), "the replay changed nothing");
    reopened
        .apply_write(&WriteKey::new("items", 2, 1), set(6))
        .await
        .unwrap();
    assert_eq!(qty(&db, id).await, Some(6), "a new key is applied");

    // A failed write records no key: the same key applies once it can.
    let missing = WriteKey::new("items", 2, 2);
    let later = WriteOp::Patch {
        id: "77".into(),
        fields: record! { "qty" => 3 },
    };
    let error = reopened
        .apply_write(&missing, later.clone())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    reopened
        .insert(Some("77".into()), record! { "qty" => 0 })
        .await
        .unwrap();
    reopened.apply_write(&missing, later).await.unwrap();
    assert_eq!(qty(&db, 77).await, Some(3));
    db.finish().await;
}

async fn applied_keys(db: &Scratch) -> Vec<String> {
    db.client()
        .query(
            &format!(
                "SELECT key FROM \"{}\"._diorama_applied ORDER BY key",
                db.schema
            ),
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

/// Keys older than the retention go, by hand or every 1,024 keyed writes;
/// a table made before `applied_at` existed gets it, its keys stamped then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_keys_older_than_the_retention_are_pruned() {
    use std::time::Duration;
    let Some(db) = Scratch::new("keyed_prune").await else {
        return;
    };
    db.exec(
        "CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL); \
         CREATE TABLE _diorama_applied (key text PRIMARY KEY, id text); \
         INSERT INTO _diorama_applied VALUES ('items/0/1', '1')",
    )
    .await;
    let items = db.vista("items").open().await.unwrap();
    let insert = |seq: u64| {
        let items = items.clone();
        async move {
            let op = WriteOp::Insert {
                id: Some(seq.to_string()),
                record: record! { "qty" => 1 },
            };
            items.apply_write(&WriteKey::new("items", 1, seq), op).await
        }
    };
    insert(2).await.unwrap();
    // The old key was kept and stamped: a replay of it changes nothing.
    let replay = WriteOp::Insert {
        id: Some("1".into()),
        record: record! { "qty" => 1 },
    };
    items
        .apply_write(&WriteKey::new("items", 0, 1), replay)
        .await
        .unwrap();
    assert_eq!(qty(&db, 1).await, None);
    assert_eq!(applied_keys(&db).await, ["items/0/1", "items/1/2"]);

    db.exec(
        "UPDATE _diorama_applied SET applied_at = applied_at - 8 * 86400 WHERE key = 'items/0/1'",
    )
    .await;
    let week = Duration::from_secs(7 * 86400);
    assert_eq!(items.prune_applied_keys(week).await.unwrap(), 1);
    assert_eq!(applied_keys(&db).await, ["items/1/2"]);

    // With the default retention, keyed write 1,024 prunes by itself.
    db.exec("UPDATE _diorama_applied SET applied_at = 0").await;
    for seq in 3..=1025 {
        insert(seq).await.unwrap();
    }
    let left = applied_keys(&db).await;
    assert!(!left.contains(&"items/1/2".to_string()), "pruned");
    assert!(left.len() < 1024, "{}", left.len());
    db.finish().await;
}
