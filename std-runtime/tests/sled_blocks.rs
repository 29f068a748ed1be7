//! Rows stored in blocks (up to 64 per sled key, 8 where puts were
//! scattered among stored rows) behave exactly like one row per key:
//! random batches of puts and deletes over ids that land before, between,
//! inside and after the stored blocks, checked after each
//! batch against a plain map (count, every by-id read, scans in pages of
//! several sizes), and again after a reopen.

use std::collections::BTreeMap;

use diorama_core::cache::{CacheBackend, CacheBatch, CacheTable, CachedRow};
use diorama_core::record;
use diorama_std::SledBackend;

fn row(n: i64) -> CachedRow {
    CachedRow::complete(
        record! { "n" => n, "pad" => "x".repeat((n % 97) as usize) },
        None,
    )
}

fn check(table: &dyn CacheTable, model: &BTreeMap<String, i64>, ids: &[String], step: &str) {
    assert_eq!(table.count().unwrap(), model.len(), "{step}: count");
    for id in ids {
        let got = table.get(id).unwrap().map(|r| r.record);
        let want = model.get(id).map(|n| row(*n).record);
        assert_eq!(got, want, "{step}: get {id}");
    }
    let many: Vec<&str> = ids.iter().rev().step_by(7).map(String::as_str).collect();
    let got: Vec<bool> = table
        .get_many(&many)
        .unwrap()
        .iter()
        .map(Option::is_some)
        .collect();
    let want: Vec<bool> = many.iter().map(|id| model.contains_key(*id)).collect();
    assert_eq!(got, want, "{step}: get_many");
    // Ascending runs (a viewport's ids: read block by block), values too.
    for window in ids.chunks(150) {
        let run: Vec<&str> = window.iter().map(String::as_str).collect();
        let got: Vec<_> = table
            .get_many(&run)
            .unwrap()
            .into_iter()
            .map(|r| r.map(|r| r.record))
            .collect();
        let want: Vec<_> = run
            .iter()
            .map(|id| model.get(*id).map(|n| row(*n).record))
            .collect();
        assert_eq!(got, want, "{step}: get_many of an ascending run");
    }
    for page in [1, 63, 64, 65, 1000] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = table.scan(after.as_deref(), page).unwrap();
            assert!(rows.len() <= page);
            let done = rows.len() < page;
            after = rows.last().map(|(id, _)| id.clone());
            seen.extend(rows.into_iter().map(|(id, r)| (id, r.record)));
            if done {
                break;
            }
        }
        let want: Vec<_> = model
            .iter()
            .map(|(id, n)| (id.clone(), row(*n).record))
            .collect();
        assert_eq!(seen, want, "{step}: scan in pages of {page}");
    }
    // A scan starting after an id that is not stored.
    let probe = format!("{}~", &ids[ids.len() / 2]);
    let got: Vec<String> = table
        .scan(Some(&probe), 5)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let want: Vec<String> = model
        .range(probe.clone()..)
        .filter(|(id, _)| **id > probe)
        .take(5)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(got, want, "{step}: scan after an absent id");
}

#[test]
fn random_batches_match_a_map_across_splits_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let ids: Vec<String> = (0..1500).map(|i| format!("k{i:05}")).collect();
    let mut model = BTreeMap::new();
    let mut rng = fastrand::Rng::with_seed(12);
    for round in 0..4 {
        let backend = SledBackend::open(&path).unwrap();
        let table = backend.open_table("t").unwrap();
        check(&*table, &model, &ids, &format!("reopen {round}"));
        for batch_no in 0..25 {
            let mut batch = CacheBatch::new();
            // Runs of adjacent ids (chunks), scattered ids, and deletes;
            // an id may come several times (the stride wraps around).
            let start = rng.usize(0..ids.len());
            let len = rng.usize(1..300);
            let stride = [1, 1, 2, 9, 40][rng.usize(0..5)];
            let mut puts = Vec::new();
            for k in 0..len {
                let id = &ids[(start + k * stride) % ids.len()];
                if rng.u8(0..4) == 0 {
                    batch.delete(id.clone());
                } else {
                    let n = rng.i64(0..1_000_000);
                    batch.put(id.clone(), row(n));
                    puts.push((id.clone(), n));
                }
            }
            // A delete and a put of one id in one batch: the put wins.
            let twice = &ids[rng.usize(0..ids.len())];
            batch.delete(twice.clone());
            batch.put(twice.clone(), row(7));
            puts.push((twice.clone(), 7));
            // `CacheBatch` order: every delete, then the puts (the last put
            // of an id wins).
            for id in &batch.deletes {
                model.remove(id);
            }
            model.extend(puts);
            table.apply(batch).unwrap();
            if batch_no % 5 == 4 {
                check(
                    &*table,
                    &model,
                    &ids,
                    &format!("round {round} batch {batch_no}"),
                );
            }
        }
        let victim = ids[rng.usize(0..ids.len())].clone();
        assert_eq!(
            table.delete(&victim).unwrap(),
            model.remove(&victim).is_some()
        );
        assert!(!table.delete(&victim).unwrap(), "deleted twice");
        check(&*table, &model, &ids, &format!("round {round} end"));
        backend.flush_blocking().unwrap();
    }
    let backend = SledBackend::open(&path).unwrap();
    let table = backend.open_table("t").unwrap();
    table.clear().unwrap();
    model.clear();
    check(&*table, &model, &ids, "cleared");
}
