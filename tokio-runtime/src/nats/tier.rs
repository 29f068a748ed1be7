//! The shared second tier: a JetStream key-value bucket in front of the
//! master, with leases so one replica, not all, reads a cold key from it
//! (the memcache lease idea).
//!
//! For a key: a value in the bucket is used as is. No entry: take a lease
//! (`create`, which only succeeds on an absent key), read the master, and
//! fill the key by `update` on the lease's revision, so the fill fails if
//! a writer dropped the key meanwhile (its value could predate that
//! write). A lease held by another replica: watch the key until the value
//! comes, at most until the lease expires; an expired lease is taken over
//! by `update` on its revision (one taker wins). A holder whose master
//! read fails deletes its lease (on its revision), so the next one tries.
//!
//! Leases expire by revision and clock, not by a per-message TTL: the 2.9
//! server has no per-key TTL (`create_with_ttl` needs 2.11), so a lease
//! names its expiry time and the bucket's `max_age` only collects old
//! entries. Every wait is bounded; any NATS failure makes the read go to
//! the master directly (counted, said once per outage).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::kv::{self, Operation};
use futures_lite::StreamExt;

use super::ReplicaInner;
use super::message::TierEntry;
use diorama_core::{Error, Result};

/// What one lookup did (counted in the replica's stats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Hit,
    Filled,
    Waited,
}

/// Read `key` through the tier: the bucket, else the master via a lease.
/// `decode` picks the value out of an entry (`None`: not this kind).
pub(crate) async fn read<T, F, Fut>(
    inner: &ReplicaInner,
    key: &str,
    fetch: F,
    wrap: fn(&T) -> TierEntry,
    unwrap: fn(TierEntry) -> Option<T>,
) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let stats = &inner.stats;
    if !inner.link.options.shared_tier {
        inner.stats.master_reads.fetch_add(1, Ordering::Relaxed);
        return fetch().await;
    }
    if !inner.link.connected() {
        inner.link.failed(
            "reading the shared tier",
            &Error::unavailable("not connected"),
        );
        return direct(inner, &fetch).await;
    }
    let handles = match inner.link.handles().await {
        Ok(handles) => handles,
        Err(error) => {
            inner.link.failed("opening the shared tier", &error);
            return direct(inner, &fetch).await;
        }
    };
    match leased(inner, &handles.kv, key, &fetch, wrap, unwrap).await {
        Ok((value, outcome)) => {
            inner.link.recovered();
            match outcome {
                Outcome::Hit => stats.tier_hits.fetch_add(1, Ordering::Relaxed),
                Outcome::Filled => stats.leases.fetch_add(1, Ordering::Relaxed),
                Outcome::Waited => stats.tier_waits.fetch_add(1, Ordering::Relaxed),
            };
            Ok(value)
        }
        Err(Failure::Master(error)) => Err(error),
        Err(Failure::Nats(error)) => {
            inner.link.failed("reading the shared tier", &error);
            direct(inner, &fetch).await
        }
    }
}

async fn direct<T, F, Fut>(inner: &ReplicaInner, fetch: &F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    inner.stats.fallbacks.fetch_add(1, Ordering::Relaxed);
    inner.stats.master_reads.fetch_add(1, Ordering::Relaxed);
    fetch().await
}

enum Failure {
    /// The master's own error (returned as is; the lease was released).
    Master(Error),
    /// NATS failed or a wait ran out: read the master directly.
    Nats(Error),
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn leased<T, F, Fut>(
    inner: &ReplicaInner,
    kv: &kv::Store,
    key: &str,
    fetch: &F,
    wrap: fn(&T) -> TierEntry,
    unwrap: fn(TierEntry) -> Option<T>,
) -> std::result::Result<(T, Outcome), Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let link = &inner.link;
    let options = &link.options;
    let deadline = tokio::time::Instant::now() + options.lease_wait;
    let nats = Failure::Nats;
    let mut waited = false;
    loop {
        if tokio::time::Instant::now() >= deadline {
            return Err(nats(Error::unavailable(format!(
                "no value for {key:?} in the shared tier within {} ms",
                options.lease_wait.as_millis()
            ))));
        }
        let entry = link
            .bounded("reading the shared tier", kv.entry(key))
            .await
            .map_err(nats)?;
        let live = entry.filter(|entry| entry.operation == Operation::Put);
        let lease_revision = match live {
            None => {
                let lease = lease_entry(inner);
                match link
                    .bounded("taking a lease", kv.create(key, lease.into()))
                    .await
                {
                    Ok(revision) => Some(revision),
                    // Someone else took it (or filled it) first: look again.
                    Err(_) => continue,
                }
            }
            Some(entry) => match TierEntry::decode(&entry.value) {
                Ok(TierEntry::Lease { expires_ms, .. }) if expires_ms <= now_ms() => {
                    // Expired: take it over, on its revision (one taker wins).
                    match link
                        .bounded(
                            "taking over an expired lease",
                            kv.update(key, lease_entry(inner).into(), entry.revision),
                        )
                        .await
                    {
                        Ok(revision) => Some(revision),
                        Err(_) => continue,
                    }
                }
                Ok(TierEntry::Lease { expires_ms, .. }) => {
                    // Held: wait for its value, at most until it expires.
                    // The watch starts after the read above, so look once
                    // more after starting it: a fill in between is not missed.
                    waited = true;
                    let mut watch = link
                        .bounded("watching the shared tier", kv.watch(key))
                        .await
                        .map_err(nats)?;
                    let again = link
                        .bounded("reading the shared tier", kv.entry(key))
                        .await
                        .map_err(nats)?;
                    if again.as_ref().map(|e| e.revision) != Some(entry.revision) {
                        continue;
                    }
                    let until = deadline.min(
                        tokio::time::Instant::now()
                            + Duration::from_millis(expires_ms.saturating_sub(now_ms()) + 1),
                    );
                    if let Some(value) = wait_fill(&mut watch, until, unwrap).await {
                        return Ok((value, Outcome::Waited));
                    }
                    continue;
                }
                Ok(other) => match unwrap(other) {
                    Some(value) => {
                        return Ok((
                            value,
                            if waited {
                                Outcome::Waited
                            } else {
                                Outcome::Hit
                            },
                        ));
                    }
                    None => None,
                },
                // A damaged or foreign entry: read the master and replace it.
                Err(_) => None,
            },
        };
        let Some(revision) = lease_revision else {
            inner.stats.master_reads.fetch_add(1, Ordering::Relaxed);
            return fetch()
                .await
                .map(|v| (v, Outcome::Filled))
                .map_err(Failure::Master);
        };
        inner.stats.master_reads.fetch_add(1, Ordering::Relaxed);
        return match fetch().await {
            Ok(value) => {
                // A failed fill (a writer dropped the key, NATS went away)
                // only means the next reader asks the master again.
                let _ = link
                    .bounded(
                        "filling the shared tier",
                        kv.update(key, wrap(&value).encode().into(), revision),
                    )
                    .await;
                Ok((value, Outcome::Filled))
            }
            Err(error) => {
                let _ = link
                    .bounded(
                        "releasing a lease",
                        kv.delete_expect_revision(key, Some(revision)),
                    )
                    .await;
                Err(Failure::Master(error))
            }
        };
    }
}

fn lease_entry(inner: &ReplicaInner) -> Vec<u8> {
    let ttl = u64::try_from(inner.link.options.lease_ttl.as_millis()).unwrap_or(u64::MAX);
    TierEntry::Lease {
        holder: inner.link.options.replica.clone(),
        expires_ms: now_ms().saturating_add(ttl),
    }
    .encode()
}

/// The value the watch delivers before `until`; `None` when the lease was
/// released, taken over or expired, or the wait ran out.
async fn wait_fill<T>(
    watch: &mut kv::Watch,
    until: tokio::time::Instant,
    unwrap: fn(TierEntry) -> Option<T>,
) -> Option<T> {
    // The next change of the key decides: a value is used; anything else
    // (a release, a takeover) sends the caller back to read the key again.
    let next = tokio::time::timeout_at(until, watch.next()).await.ok()??;
    let entry = next.ok()?;
    if entry.operation != Operation::Put {
        return None;
    }
    match TierEntry::decode(&entry.value).ok()? {
        TierEntry::Lease { .. } => None,
        other => unwrap(other),
    }
}
