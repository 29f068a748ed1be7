//! The Lens-wide event bus: every Dio's events, tagged with the Dio's name.
//!
//! Each Dio publishes on its own bus ([`Dio::subscribe_events`](super::Dio::subscribe_events));
//! while anyone listens Lens-wide, it publishes a [`LensEvent`] on the
//! Lens's bus too, so a reaction across Dios (an edited order refreshes the
//! client it belongs to) needs no wiring per Dio.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::DioEvent;
use crate::sync::broadcast::{BroadcastReceiver, BroadcastSender, RecvError, TryRecvError};

/// One event of one Dio, as the Lens-wide bus carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct LensEvent {
    /// The Dio's name: its cache table's (the master's name unless
    /// `make_dio_as` chose another).
    pub dio: Arc<str>,
    /// What the Dio published.
    pub event: DioEvent,
}

/// A subscription to the Lens-wide bus, from `Lens::subscribe_events`:
/// events published from the subscription on, by every Dio of the Lens or
/// only by those [`only`](LensEvents::only) names.
///
/// # Lagging
/// Like a Dio's bus, it retains `event_bus_capacity` events; a subscriber
/// that falls further behind is told how many it missed
/// ([`RecvError::Lagged`]) and goes on with the oldest retained. The count
/// includes events of Dios a filter would have skipped.
///
/// # Closing
/// The bus closes once the Lens and every Dio it made are gone: the
/// subscriber gets what is retained, then [`RecvError::Closed`].
///
/// # Thread safety
/// `Send` and `Sync`; receiving takes `&mut self`.
#[derive(Debug)]
pub struct LensEvents {
    receiver: BroadcastReceiver<LensEvent>,
    only: Option<Vec<String>>,
}

impl LensEvents {
    pub(crate) fn new(receiver: BroadcastReceiver<LensEvent>) -> Self {
        LensEvents {
            receiver,
            only: None,
        }
    }

    /// Keep only the events of the Dios named in `names`.
    pub fn only<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only = Some(names.into_iter().map(Into::into).collect());
        self
    }

    fn wanted(&self, event: &LensEvent) -> bool {
        self.only
            .as_ref()
            .is_none_or(|names| names.iter().any(|name| **name == *event.dio))
    }

    /// Wait for the next event (of the Dios kept by the filter).
    ///
    /// # Errors
    /// [`RecvError::Lagged`] when events were overwritten before this
    /// subscriber got them, [`RecvError::Closed`] once the Lens and its Dios
    /// are gone and every retained event was delivered.
    ///
    /// # Cancel safety
    /// Cancel safe: no event is lost by dropping the future.
    pub async fn recv(&mut self) -> Result<LensEvent, RecvError> {
        loop {
            let event = self.receiver.recv().await?;
            if self.wanted(&event) {
                return Ok(event);
            }
        }
    }

    /// Take the next event (of the Dios kept by the filter) if one is
    /// available right now.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when none is, `Lagged` and `Closed` as for
    /// [`recv`](LensEvents::recv).
    pub fn try_recv(&mut self) -> Result<LensEvent, TryRecvError> {
        loop {
            let event = self.receiver.try_recv()?;
            if self.wanted(&event) {
                return Ok(event);
            }
        }
    }
}

/// The sending side, held by the policy every Dio of a Lens shares.
pub(crate) type LensEventSender = BroadcastSender<LensEvent>;
