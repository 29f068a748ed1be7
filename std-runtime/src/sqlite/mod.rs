//! [`SqliteVista`]: a master table in SQLite (feature `sqlite`, off by
//! default: `diorama-std = { .., features = ["sqlite"] }`), through
//! `rusqlite` with SQLite compiled in, so nothing needs installing.
//!
//! # Rows and ids
//!
//! One table (or view) is one vista. One column holds the ids: declared
//! INTEGER (ids are canonical decimal texts such as `"42"`; an
//! `INTEGER PRIMARY KEY` lets SQLite assign them) or TEXT, and the primary
//! key or covered by a unique index. Every other column is a record field,
//! always present in a record read (`Null` for NULL), in table order. The
//! id column is not a field: a condition, sort or write naming it is
//! `InvalidInput`. An id that cannot exist in an INTEGER id column (`"x"`,
//! `"042"`) is `InvalidInput` too.
//!
//! Without a sort, rows come in rowid order (insertion order for rows
//! whose ids SQLite assigned), or id order for tables without a rowid and
//! views.
//!
//! # Values
//!
//! INTEGER ↔ `Integer`, REAL ↔ `Float`, TEXT ↔ `Text`, BLOB ↔ `Bytes`,
//! NULL ↔ `Null`. SQLite has no boolean: a `Bool` is stored as the integer
//! 0 or 1 and reads back as an `Integer`. Nested values (arrays, maps,
//! tags), simple values, NaN and integers beyond the 64-bit signed range
//! are refused on write with `InvalidInput` rather than stored in a form a
//! read would not give back. A column's declared type still applies its
//! affinity on write (text `"5"` into an INTEGER column is stored as 5;
//! integers into a REAL column become reals, and a REAL column may read
//! `-0.0` back as `0.0`); reads report what the table holds.
//!
//! # Queries
//!
//! Conditions, the sort and the search are pushed into SQL with bound
//! parameters only, and mean exactly what
//! [`diorama_core::vista::eval`] means over the rows SQLite returns (the
//! tests check this against `MemoryVista` on random queries):
//!
//! - comparisons without SQLite's type conversions: a text never equals a
//!   number, numbers compare numerically and exactly across INTEGER and
//!   REAL, text by bytes, ordering comparisons never cross kinds, `Eq null`
//!   finds NULLs and `Ne` matches NULLs;
//! - `Like` and search run the core's own matchers inside SQLite through
//!   two registered SQL functions, since SQLite's `LIKE` folds only ASCII
//!   case and renders floats differently (`7.0`, 15 digits);
//! - the sort puts NULLs last in both directions and breaks ties by id as
//!   text, bytewise.
//!
//! Field names must be columns of the table (case-sensitive, as records
//! are): an unknown one is `InvalidInput` from the read, not a local
//! "missing field". Two kinds of condition are refused by
//! [`accepts`](diorama_core::TableShell::accepts), so a
//! [`Vista`](diorama_core::Vista) evaluates them locally: an integer
//! operand beyond the 64-bit signed range, and an `In` list of more than
//! 1000 items. Given directly to a read, they are `Unsupported`.
//!
//! `fetch_window` reads `LIMIT ? OFFSET ?` and the total in one
//! transaction; totals of recent filters are cached per connection until
//! the table changes (seen through `PRAGMA data_version`, which moves when
//! any other connection, the vista's writer included, commits).
//!
//! # Sorted windows
//!
//! [`SqliteVista::create_index`] (or [`TableSpec::index`]) gives a field
//! two indexes, `(field, id)` and `(field, id DESC)`, written with the
//! sort's own expressions, so SQLite walks one of them for either sort
//! direction instead of sorting. A window reads the rowids of its rows
//! first (a covered walk that steps over the skipped rows) and then each
//! row by key, so a window sorted by the field costs a walk over the
//! index, not a sort. [`SqliteVista::explain_window`] shows the plan.
//!
//! SQLite's b-trees do not count their entries, so a plain `OFFSET`
//! 900,000 would still step over 900,000 index entries. With the indexes
//! comes the field's *rank table* `<table>_<field>_ranks`: how many rows
//! fall in each of a few thousand buckets of the sort order (numbers by
//! ranges of a power-of-two width, texts by their first characters, both
//! chosen from the rows when the index is built), kept by triggers through
//! every insert, update and delete, whoever makes it. A window of the
//! whole table sorted by the field sums the bucket counts to the bucket
//! holding its first row and walks the index from there, in either
//! direction; the table's row count is a sum over the buckets instead of
//! a scan. A rank table whose objects are not exactly as this crate writes
//! them (a trigger dropped or edited) is not used, and `create_index`
//! rebuilds it. Windows of filtered or searched queries still step over
//! their offset.
//!
//! # Search
//!
//! Without an index a search reads every row through the local matcher.
//! [`SqliteVista::create_search_index`] (or [`TableSpec::search_index`])
//! adds an FTS5 table with the trigram tokenizer over every field, kept in
//! step by triggers with every write, this vista's or another program's.
//! A search whose needle has at least three characters then reads only
//! the rows the index finds, and checks each with the local matcher, so
//! the answer stays exactly local evaluation's. The scan remains for
//! needles the index cannot answer exactly: shorter than three
//! characters, text that could be part of a number (`12`, `3.5`, `inf`:
//! SQLite writes reals otherwise than Rust, `7.0`, `1.0e+20`), and needles
//! with a character FTS5 folds apart from one local evaluation folds it
//! with. FTS5's folding follows an older Unicode than Rust's: Georgian
//! (Mkhedruli and Mtavruli), Cherokee, Latin and Cyrillic letters added
//! since Unicode 6, and cased scripts beyond the Basic Multilingual Plane
//! (Osage, Adlam and others) fold only locally. Where FTS5 folds more
//! (final `ς` with `σ`, long `ſ` with `s`), the index finds extra rows and
//! the local matcher drops them.
//!
//! A search the index answers alone (no conditions, a needle without odd
//! characters) reads no row to count: its matches come from the index and
//! are kept per read connection while no indexed text changes (a price
//! change keeps them), so paging through a search finds them once; its
//! sorted windows walk the sort's index and keep the matches, or sort the
//! matches by key when that is cheaper.
//!
//! [`SqliteVista::position`] says where a row is in a query's order (how
//! many rows of the set come before it), for keeping a selection across a
//! change of query.
//!
//! Opening never builds an index: a table without one (a database from
//! before, one made elsewhere) opens and searches by scanning until
//! `create_search_index` is called. An index the table has outgrown (a
//! column added since) is ignored, and `create_search_index` replaces it.
//!
//! # Writes
//!
//! `insert(None, ..)` leaves the id to SQLite and reads it back (an
//! `INTEGER PRIMARY KEY` gets the next rowid); a table that assigns none is
//! `InvalidInput`. Inserting an existing id is `Failed` ("already
//! exists"). `replace` sets every field (the ones the record lacks to
//! NULL) and `patch` only the given ones; both keep the row's rowid, and a
//! missing row is `NotFound`. `delete` of a missing row is fine. Views,
//! virtual tables and read-only connections offer no writes (capabilities
//! say so; the calls are `Unsupported`). For bulk loads use
//! [`SqliteVista::insert_many`] (one transaction) and
//! [`SqliteVista::create_table`].
//!
//! # Threads
//!
//! [`SqliteVista::open`] opens one writer and a pool of up to four read
//! connections ([`SqliteOptions::readers`] sets how many), and switches the
//! file to WAL mode, so reads see a snapshot while the writer commits: a
//! slow read (a long search) delays neither a write nor another read.
//!
//! - Writes run on a thread the vista owns along with the writer's
//!   connection, one at a time in the order issued. A write whose future
//!   is dropped still runs to completion (it is applied; its answer is
//!   discarded).
//! - Reads run on the `blocking` crate's thread pool, each on a pooled
//!   read connection (r2d2; a read waits up to 30 s for a free one). A
//!   read whose future is dropped is skipped if it has not started, and
//!   interrupted with SQLite's interrupt if it runs, so an abandoned
//!   search stops using a core; a read interrupted so is `Cancelled`.
//! - In-memory databases, [`SqliteVista::from_connection`] and
//!   `readers(0)` run every call on the writer's connection and thread,
//!   one at a time; abandoned reads are skipped or interrupted there too.
//!
//! Each call answers through a channel that wakes the waiting task: no
//! SQLite call blocks an executor thread, and any executor works (smol,
//! tokio).
//!
//! The deterministic simulator is not a fit: real I/O answers from outside
//! its virtual clock, and `SimRuntime::block_on` reports a stall when it
//! has no task or timer to run while a call is out. Simulation tests use
//! `MemoryVista`, whose answers equal this vista's (see the tests).

mod applied;
mod cancel;
mod convert;
mod error;
mod fold;
mod functions;
mod indexed_search;
mod ranks;
mod read;
mod readers;
mod schema;
mod search_index;
mod shell;
mod sort_index;
mod spec;
mod state;
mod translate;
mod vista;
mod worker;
mod write;

pub use spec::{ColumnType, IdType, TableSpec};
pub use vista::{SqliteOptions, SqliteVista};

/// The `rusqlite` this module is built with, for
/// [`SqliteVista::from_connection`].
pub use rusqlite;
