//! Replicas over NATS JetStream (feature `nats`): several processes, each
//! with its own Diorama cache over one master, kept coherent, with one
//! master read per cold key across all of them.
//!
//! ```no_run
//! # async fn example(master: diorama_core::Vista, lens: diorama_core::Lens) -> diorama_core::Result<()> {
//! use diorama_tokio::nats::{Replica, ReplicaOptions};
//!
//! let replica = Replica::connect(ReplicaOptions::new("nats://127.0.0.1:4222", "web-1").lens("shop")).await?;
//! let dio = replica.make_dio(&lens, master).await?; // a Dio whose cache the other replicas keep current
//! # Ok(()) }
//! ```
//!
//! # The coherence bridge
//! Every change a replica's Dio applies to its cache is published to one
//! JetStream stream, on a subject per Lens (the [`lens`](ReplicaOptions::lens)
//! name) and table (`diorama.<lens>.<table>`), with the row id, the op (the
//! new record or patched fields, a removal, an invalidation, a reset) and
//! the origin replica:
//!
//! - its own writes, observed at the master: the Dio's master is the
//!   replica's shell ([`share`](Replica::share)), which announces each
//!   write the master acknowledged (before the Dio applies it; the write
//!   waits, bounded, for the stream to store it, so a `200` from one
//!   replica is already on its way to the others);
//! - what it learned outside its queue (`handle_event`, `patched`,
//!   `removed`, `invalidate_record`, `invalidate_all`), through the core's
//!   change tap ([`Dio::set_change_tap`](diorama_core::Dio::set_change_tap)).
//!
//! Each replica follows the stream as a change feed
//! ([`Dio::follow`](diorama_core::Dio::follow)): the position is kept in
//! its cache meta, so after a disconnect, a restart or a `kill -9` it
//! resumes exactly there; a position the stream no longer holds is a gap
//! (the Dio invalidates and publishes `ChangesLost`). Changes from other
//! replicas are applied through `handle_event`, so open sceneries update in
//! place; the replica's own messages are skipped, and a change applied from
//! the stream is never published again (no echo). Per row, changes apply
//! in stream order, except that two replicas' writes of one row that
//! overlapped in time make every replica read that row from the master
//! (see the ordering rule in `order.rs`: the stream orders announcements,
//! not commits).
//!
//! # The shared tier
//! A cold read of a row ([`TableShell::get`](diorama_core::TableShell::get))
//! or a window ([`fetch_window`](diorama_core::TableShell::fetch_window))
//! goes first to a JetStream key-value bucket; on a miss one replica takes
//! a lease and reads the master, the others watch the key for its value.
//! Leases are revision-based (the 2.9 server has no per-key TTL: a lease
//! names its expiry and an expired one is taken over on its revision);
//! the bucket's `max_age` only collects old entries. A change drops its row
//! from the bucket before it is announced; windows are keyed by the stream
//! position the reader had applied, so a window is never older than the
//! changes its reader has seen (until the Dio's feed knows its position,
//! windows are read from the master directly). Facade reads, record
//! sceneries and chunk loads all go through it.
//!
//! # When NATS is away
//! Nothing waits on a dead server: reads go to the master directly
//! (counted in [`ReplicaStats::fallbacks`]); changes wait in an outbox and
//! are published when NATS is back (a full outbox collapses a table's
//! changes into one reset, so none is lost); the feed reports the outage
//! once (`FeedFailed`) and resumes from its position. The first failure of
//! each outage is printed once on stderr.

mod feed;
mod link;
mod message;
mod names;
mod order;
mod outbox;
mod shell;
mod table;
mod tap;
mod tier;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub use async_nats;
use diorama_core::{Dio, Error, Lens, Result, Vista};

use feed::ReplicaFeed;
use link::Link;
use names::Names;
use outbox::Outbox;
use shell::ReplicaShell;
use table::{TableState, lock};
use tap::BridgeTap;

/// How a replica joins the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOptions {
    /// The NATS server, e.g. `nats://127.0.0.1:4222` (plain connections:
    /// async-nats is built without a TLS provider here).
    pub url: String,
    /// This replica's name, unique among the replicas (its messages are
    /// tagged with it, and skipped by it).
    pub replica: String,
    /// The Lens's name: replicas of one service share it; subjects and
    /// keys are per Lens name and table. Default `diorama`.
    pub lens: String,
    /// The JetStream stream holding the changes. Default `DIORAMA`.
    pub stream: String,
    /// The subject prefix the stream holds (`<prefix>.>`). Default `diorama`.
    pub subject_prefix: String,
    /// The key-value bucket of the shared tier. Default `diorama`.
    pub bucket: String,
    /// Use the shared tier for cold reads. Default true.
    pub shared_tier: bool,
    /// How long a lease lasts before another replica may take it over.
    /// Default 2 s.
    pub lease_ttl: Duration,
    /// How long a read waits in the shared tier (for a lease's value)
    /// before reading the master itself. Default 5 s.
    pub lease_wait: Duration,
    /// Every single NATS operation's limit. Default 1 s.
    pub op_timeout: Duration,
    /// How long the stream keeps changes (a replica away longer sees a
    /// gap). Default 24 h.
    pub stream_max_age: Duration,
    /// How long the bucket keeps an entry. Default 10 min.
    pub tier_max_age: Duration,
    /// How far the replicas' clocks may differ (widens what counts as
    /// concurrent writes). Default 50 ms.
    pub clock_skew: Duration,
    /// How long a row's last change is remembered by the ordering rule.
    /// Default 60 s.
    pub order_window: Duration,
    /// Changes the outbox holds while NATS is away before a table's
    /// collapse into one reset. Default 10,000.
    pub outbox_capacity: usize,
}

impl ReplicaOptions {
    /// The defaults for replica `replica` of the server at `url`.
    pub fn new(url: impl Into<String>, replica: impl Into<String>) -> Self {
        ReplicaOptions {
            url: url.into(),
            replica: replica.into(),
            lens: "diorama".into(),
            stream: "DIORAMA".into(),
            subject_prefix: "diorama".into(),
            bucket: "diorama".into(),
            shared_tier: true,
            lease_ttl: Duration::from_secs(2),
            lease_wait: Duration::from_secs(5),
            op_timeout: Duration::from_secs(1),
            stream_max_age: Duration::from_secs(24 * 3600),
            tier_max_age: Duration::from_secs(600),
            clock_skew: Duration::from_millis(50),
            order_window: Duration::from_secs(60),
            outbox_capacity: 10_000,
        }
    }

    /// Set the Lens name.
    pub fn lens(mut self, lens: impl Into<String>) -> Self {
        self.lens = lens.into();
        self
    }

    /// Set the stream name.
    pub fn stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }

    /// Set the subject prefix.
    pub fn subject_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.subject_prefix = prefix.into();
        self
    }

    /// Set the bucket name.
    pub fn bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = bucket.into();
        self
    }

    /// Turn the shared tier on or off.
    pub fn shared_tier(mut self, on: bool) -> Self {
        self.shared_tier = on;
        self
    }

    pub(crate) fn names(&self) -> Names {
        Names::new(&self.subject_prefix, &self.lens)
    }

    fn check(&self) -> Result<()> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if self.replica.is_empty() {
            return Err(Error::invalid_input("a replica needs a name"));
        }
        for (what, name) in [
            ("stream", &self.stream),
            ("bucket", &self.bucket),
            ("subject prefix", &self.subject_prefix),
        ] {
            if !valid(name) {
                return Err(Error::invalid_input(format!(
                    "the {what} name {name:?} must be letters, digits, `_` or `-`"
                )));
            }
        }
        if self.lease_ttl.is_zero() || self.op_timeout.is_zero() {
            return Err(Error::invalid_input(
                "lease_ttl and op_timeout must be longer than zero",
            ));
        }
        Ok(())
    }
}

/// Counters of one replica (since it connected).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicaStats {
    /// Reads the replica sent to the master (through a lease, directly,
    /// or to settle concurrent writes).
    pub master_reads: u64,
    /// Cold reads answered by the shared tier's stored value.
    pub tier_hits: u64,
    /// Cold reads answered by waiting for another replica's lease.
    pub tier_waits: u64,
    /// Leases taken (each one master read filling the tier).
    pub leases: u64,
    /// Reads that went to the master directly because NATS did not answer.
    pub fallbacks: u64,
    /// Changes published to the stream.
    pub published: u64,
    /// Failed publish attempts (retried).
    pub publish_retries: u64,
    /// Changes announced that the Dio learned outside its write queue.
    pub learned: u64,
    /// Changes of other replicas applied.
    pub applied: u64,
    /// Changes read and skipped (own ones, or overridden by own ones).
    pub skipped: u64,
    /// Rows read again from the master after concurrent writes.
    pub refetched: u64,
    /// Changes collapsed into a reset because the outbox was full.
    pub collapsed: u64,
    /// Outages of NATS seen.
    pub outages: u64,
    /// Changes waiting in the outbox now.
    pub unpublished: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) master_reads: AtomicU64,
    pub(crate) tier_hits: AtomicU64,
    pub(crate) tier_waits: AtomicU64,
    pub(crate) leases: AtomicU64,
    pub(crate) fallbacks: AtomicU64,
    pub(crate) published: AtomicU64,
    pub(crate) publish_retries: AtomicU64,
    pub(crate) learned: AtomicU64,
    pub(crate) applied: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) refetched: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct ReplicaInner {
    pub(crate) link: Link,
    pub(crate) outbox: Outbox,
    pub(crate) stats: Counters,
    shells: Mutex<Vec<Weak<ReplicaShell>>>,
}

/// One replica: its NATS connection, its outbox and the tables it shares.
/// Cheap to clone. See the [module docs](self).
#[derive(Clone)]
pub struct Replica {
    inner: Arc<ReplicaInner>,
}

impl fmt::Debug for Replica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replica")
            .field("replica", &self.inner.link.options.replica)
            .field("url", &self.inner.link.options.url)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Replica {
    /// Join the replicas of `options.url`. Call inside a tokio runtime.
    /// The connection is made in the background: a server that does not
    /// answer yet is no error (the replica reads the master directly and
    /// keeps its changes until it answers); the stream and bucket are
    /// created on first use.
    ///
    /// # Errors
    /// `InvalidInput` for a malformed address or option; `Failed` outside
    /// a tokio runtime.
    pub async fn connect(options: ReplicaOptions) -> Result<Replica> {
        options.check()?;
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::failed("a NATS replica must be started inside a tokio runtime"))?;
        let capacity = options.outbox_capacity;
        let link = Link::connect(options).await?;
        let inner = Arc::new(ReplicaInner {
            link,
            outbox: Outbox::new(capacity),
            stats: Counters::default(),
            shells: Mutex::new(Vec::new()),
        });
        handle.spawn(outbox::run(Arc::downgrade(&inner)));
        // Set the stream and bucket up now when the server answers; a
        // failure here is retried on first use.
        let _ = tokio::time::timeout(inner.link.options.op_timeout, async {
            for _ in 0..20 {
                if inner.link.connected() {
                    let _ = inner.link.handles().await;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        Ok(Replica { inner })
    }

    /// The options this replica was connected with.
    pub fn options(&self) -> &ReplicaOptions {
        &self.inner.link.options
    }

    /// `master` as this replica shares it: reads of rows and windows go
    /// through the shared tier; every write the master acknowledges is
    /// announced to the other replicas. Make the Dio over the result, then
    /// [`attach`](Replica::attach) it (or use [`make_dio`](Replica::make_dio)).
    /// Narrowing of `master` is kept.
    pub fn share(&self, master: Vista) -> Vista {
        let shell = master.shell().clone();
        let table = Arc::new(TableState::new(
            shell.name().to_string(),
            shell,
            self.inner.clone(),
        ));
        let shared = Arc::new(ReplicaShell { table });
        lock(&self.inner.shells).push(Arc::downgrade(&shared));
        let mut vista = Vista::from_shell(shared);
        for condition in &master.query().conditions {
            vista = vista.with_condition(condition.clone());
        }
        if let Some(sort) = &master.query().sort {
            vista = vista.with_sort(sort.field.clone(), sort.dir);
        }
        if let Some(search) = &master.query().search {
            vista = vista.with_search(search.clone());
        }
        vista
    }

    /// Keep `dio` coherent with the other replicas: announce what it
    /// learns outside its queue (its change tap) and follow the stream.
    /// Its master must come from [`share`](Replica::share).
    ///
    /// # Errors
    /// `InvalidInput` when the Dio's master was not shared by this replica,
    /// another Dio over the same shared master is attached, or the Dio has
    /// a change tap or a feed of this name already;
    /// `ShuttingDown` once the Dio shuts down.
    pub fn attach(&self, dio: &Dio) -> Result<()> {
        let master = Arc::as_ptr(dio.master().shell()).cast::<()>();
        let shell = {
            let mut shells = lock(&self.inner.shells);
            shells.retain(|weak| weak.strong_count() > 0);
            shells
                .iter()
                .filter_map(Weak::upgrade)
                .find(|shell| Arc::as_ptr(shell).cast::<()>() == master)
        };
        let Some(shell) = shell else {
            return Err(Error::invalid_input(format!(
                "the master of the Dio over {:?} was not shared by this replica \
                 (make the Dio over `Replica::share(master)`)",
                dio.master().name()
            )));
        };
        let table = shell.table.clone();
        if table.attached.swap(true, Ordering::AcqRel) {
            return Err(Error::invalid_input(format!(
                "a Dio over {:?} is attached already; share the master again for another Dio",
                dio.master().name()
            )));
        }
        dio.set_change_tap(Arc::new(BridgeTap {
            table: table.clone(),
        }))?;
        dio.follow(Arc::new(ReplicaFeed {
            table,
            name: self.feed_name(),
            since_ms: shell::now_ms(),
        }))
    }

    /// The name of the feed a Dio follows (its stored position is kept
    /// under it): `nats:<stream>`.
    pub fn feed_name(&self) -> String {
        format!("nats:{}", self.inner.link.options.stream)
    }

    /// [`share`](Replica::share) `master`, make the Dio with `lens`, and
    /// [`attach`](Replica::attach) it.
    ///
    /// # Errors
    /// Those of [`Lens::make_dio`] and [`attach`](Replica::attach).
    pub async fn make_dio(&self, lens: &Lens, master: Vista) -> Result<Dio> {
        let dio = lens.make_dio(self.share(master)).await?;
        self.attach(&dio)?;
        Ok(dio)
    }

    /// True while the NATS connection is up.
    pub fn is_connected(&self) -> bool {
        self.inner.link.connected()
    }

    /// Wait until every change announced so far is in the stream, at most
    /// `limit`; true when it is.
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits.
    pub async fn flush(&self, limit: Duration) -> bool {
        self.inner.outbox.drain(limit).await
    }

    /// The counters so far.
    pub fn stats(&self) -> ReplicaStats {
        let s = &self.inner.stats;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ReplicaStats {
            master_reads: get(&s.master_reads),
            tier_hits: get(&s.tier_hits),
            tier_waits: get(&s.tier_waits),
            leases: get(&s.leases),
            fallbacks: get(&s.fallbacks),
            published: get(&s.published),
            publish_retries: get(&s.publish_retries),
            learned: get(&s.learned),
            applied: get(&s.applied),
            skipped: get(&s.skipped),
            refetched: get(&s.refetched),
            collapsed: get(&self.inner.outbox.collapsed),
            outages: self.inner.link.outages(),
            unpublished: u64::try_from(self.inner.outbox.len()).unwrap_or(u64::MAX),
        }
    }

    /// The NATS client (to inspect or clean up the stream and bucket).
    pub fn client(&self) -> &async_nats::Client {
        &self.inner.link.client
    }
}
