//! The names of what the feed installs, all in the table's schema.

use diorama_core::{Error, Result};

use super::super::schema::{Schema, quote};

/// PostgreSQL's longest identifier, in bytes.
const MAX_IDENTIFIER: usize = 63;

/// The trigger names (on the fed table).
pub(crate) const TRIGGER_LOCK: &str = "diorama_feed_lock";
pub(crate) const TRIGGER_INSERT: &str = "diorama_feed_insert";
pub(crate) const TRIGGER_UPDATE: &str = "diorama_feed_update";
pub(crate) const TRIGGER_DELETE: &str = "diorama_feed_delete";
pub(crate) const TRIGGER_TRUNCATE: &str = "diorama_feed_truncate";
/// Every trigger, in creation order.
pub(crate) const TRIGGERS: [&str; 5] = [
    TRIGGER_LOCK,
    TRIGGER_INSERT,
    TRIGGER_UPDATE,
    TRIGGER_DELETE,
    TRIGGER_TRUNCATE,
];

/// The first key of the advisory locks the feed takes (`'dior'`); the
/// second is the table's oid.
pub(crate) const LOCK_CLASS: i32 = 0x6469_6F72;
/// The first key of the lock serialising trims (`'dios'`).
pub(crate) const TRIM_LOCK_CLASS: i32 = 0x6469_6F73;

/// The dollar quote of function bodies.
pub(crate) const BODY_QUOTE: &str = "$diorama$";

/// Names of the change log table, its index and the trigger functions.
#[derive(Clone, Debug)]
pub(crate) struct FeedNames {
    /// The log table's name, unquoted.
    pub(crate) log: String,
    /// `"schema"."log"`.
    pub(crate) log_qualified: String,
    /// The index on the log's `at`, quoted (indexes live in the table's schema).
    pub(crate) at_index: String,
    /// `"schema"."log_lock"()`'s qualified name, without the parentheses.
    pub(crate) lock_function: String,
    /// `"schema"."log_record"`.
    pub(crate) record_function: String,
    /// The log table's name as text for `'…'::regclass`.
    pub(crate) log_regclass: String,
}

impl FeedNames {
    /// The names for `schema`'s table, with the log called `log` (default
    /// `diorama_log_<table>`). `InvalidInput` when a name would pass
    /// PostgreSQL's 63-byte limit, or when a name holds the dollar quote.
    pub(crate) fn new(schema: &Schema, log: Option<&str>) -> Result<FeedNames> {
        let log = log.map_or_else(|| format!("diorama_log_{}", schema.table), str::to_owned);
        let longest = format!("{log}_record");
        if longest.len() > MAX_IDENTIFIER || log.is_empty() {
            return Err(Error::invalid_input(format!(
                "the change log \"{log}\" of \"{}\": names of at most {} bytes are needed \
                 (PostgreSQL's limit, with a suffix); name a shorter one with \
                 PgVistaBuilder::change_log",
                schema.table,
                MAX_IDENTIFIER - "_record".len()
            )));
        }
        let names = [
            log.as_str(),
            schema.namespace.as_str(),
            schema.table.as_str(),
            schema.id.name.as_str(),
        ];
        if names.iter().any(|name| name.contains(BODY_QUOTE)) {
            return Err(Error::invalid_input(format!(
                "the change feed of \"{}\" cannot be installed: a name holds \"{BODY_QUOTE}\"",
                schema.table
            )));
        }
        let namespace = quote(&schema.namespace);
        let log_qualified = format!("{namespace}.{}", quote(&log));
        Ok(FeedNames {
            at_index: quote(&format!("{log}_at")),
            lock_function: format!("{namespace}.{}", quote(&format!("{log}_lock"))),
            record_function: format!("{namespace}.{}", quote(&format!("{log}_record"))),
            log_regclass: log_qualified.clone(),
            log_qualified,
            log,
        })
    }

    /// The channel the triggers notify: unique per log table (by its oid).
    pub(crate) fn channel(log_oid: u32) -> String {
        format!("diorama_feed_{log_oid}")
    }
}
