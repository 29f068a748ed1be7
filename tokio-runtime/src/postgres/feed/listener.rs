//! The listener's own connection: `LISTEN` on the log's channel, with the
//! connection driven by a task that turns notifications into wake-ups.
//!
//! A notification only says "read the log": the listener never takes the
//! sequence it carries as the truth, so a notification lost, coalesced or
//! sent while disconnected costs nothing (the log is read after every
//! connect and on a timer too).

use std::time::Duration;

use diorama_core::{Error, Result};
use futures_lite::StreamExt;
use tokio::sync::watch;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::super::error::{no_answer, pg_error};
use super::super::schema::quote;
use super::names::FeedNames;

/// A connection listening on one change log's channel.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) client: Client,
    /// Changes (to the highest sequence notified) on every notification;
    /// closed when the connection is gone.
    pub(crate) notified: watch::Receiver<u64>,
    /// The log table's oid.
    pub(crate) log: u32,
}

impl Listener {
    /// Connect with `config`, find the log, and `LISTEN` on its channel.
    pub(crate) async fn connect(
        config: &tokio_postgres::Config,
        names: &FeedNames,
        timeout: Duration,
    ) -> Result<Listener> {
        let context = format!("connecting the change feed of {}", names.log_qualified);
        let (client, mut connection) = tokio::time::timeout(timeout, config.connect(NoTls))
            .await
            .map_err(|_| no_answer(&context, timeout, false))?
            .map_err(|e| pg_error(&context, &e))?;
        let (notify, notified) = watch::channel(0u64);
        // Ends when the connection does (the client dropped, or lost): the
        // sender goes with it, which the subscription sees as the loss.
        tokio::spawn(async move {
            let mut messages = futures_lite::stream::poll_fn(|cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(note)) => {
                        let seq = note.payload().parse::<u64>().unwrap_or(0);
                        notify.send_modify(|latest| *latest = (*latest).max(seq));
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        let log: i64 = within(
            timeout,
            &context,
            client.query_one(
                "SELECT to_regclass($1::text)::oid::int8",
                &[&names.log_regclass],
            ),
        )
        .await?
        .try_get::<_, Option<i64>>(0)
        .map_err(|e| pg_error(&context, &e))?
        .ok_or_else(|| {
            Error::not_found(format!(
                "{context}: the change log table does not exist (is the feed installed?)"
            ))
        })?;
        let log = log as u32;
        let listen = format!("LISTEN {}", quote(&FeedNames::channel(log)));
        within(timeout, &context, client.batch_execute(&listen)).await?;
        Ok(Listener {
            client,
            notified,
            log,
        })
    }
}

/// `call`'s answer within `timeout`, errors as Diorama errors.
pub(crate) async fn within<T>(
    timeout: Duration,
    context: &str,
    call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| no_answer(context, timeout, false))?
        .map_err(|e| pg_error(context, &e))
}
