//! The change feed of a composition: both parts' feeds merged into one,
//! with a composite position and each change translated into what it does
//! to the composed rows.
//!
//! - A change of the top part is a change of the visible row, except that
//!   an overlay's tombstone reads as `Removed`, and a row leaving the top
//!   part reveals the bottom part's row of that id: it is read and
//!   reported as `Inserted` with it (or `Removed` when the bottom has none,
//!   `Updated` without fields, a refetch, when the read fails).
//! - A change of the bottom part whose id the top part claims changes
//!   nothing visible and is dropped (the top part is asked per change; when
//!   that read fails the change is reported as `Updated` without fields,
//!   a harmless refetch through the composition).
//! - Gaps and `Reset`s of either part pass through; errors pass through
//!   with the part named. The merged stream ends when either part's stream
//!   ends, so the consumer resubscribes and both resume from the composite
//!   position.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;

use futures_util::future::ready;
use futures_util::{StreamExt, stream};

use super::Layering;
use super::position::Positions;
use super::tombstone::{carries_marker, is_tombstone};
use crate::error::Result;
use crate::vista::{BoxStream, ChangeEvent, ChangeFeed, FeedItem, FeedPosition, TableShell};

/// Both parts' feeds as one (see the module notes).
#[derive(Debug)]
pub(super) struct ComposedFeed {
    pub(super) name: String,
    pub(super) layering: Layering,
    pub(super) top: Arc<dyn TableShell>,
    pub(super) bottom: Arc<dyn TableShell>,
    pub(super) top_feed: Option<Arc<dyn ChangeFeed>>,
    pub(super) bottom_feed: Option<Arc<dyn ChangeFeed>>,
}

impl ComposedFeed {
    /// The feed of a composition, when either part has one.
    pub(super) fn of(
        layering: Layering,
        top: &Arc<dyn TableShell>,
        bottom: &Arc<dyn TableShell>,
    ) -> Option<Self> {
        let top_feed = top.change_feed();
        let bottom_feed = bottom.change_feed();
        if top_feed.is_none() && bottom_feed.is_none() {
            return None;
        }
        let feed_name = |feed: &Option<Arc<dyn ChangeFeed>>| {
            feed.as_ref()
                .map_or_else(|| "-".to_string(), |f| f.name().to_string())
        };
        Some(ComposedFeed {
            name: format!(
                "{}({}+{})",
                layering.as_str(),
                feed_name(&bottom_feed),
                feed_name(&top_feed)
            ),
            layering,
            top: top.clone(),
            bottom: bottom.clone(),
            top_feed,
            bottom_feed,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Top,
    Bottom,
}

/// One item of a part, positions already advanced.
enum Step {
    Change(ChangeEvent, FeedPosition),
    Gap(String, FeedPosition),
    Error(crate::error::Error),
    End,
}

fn side_stream(
    side: Side,
    feed: Option<&Arc<dyn ChangeFeed>>,
    from: Option<FeedPosition>,
) -> BoxStream<'static, (Side, Option<Result<FeedItem>>)> {
    match feed {
        // `None` marks the end, so the merge can stop when either part stops.
        Some(feed) => feed
            .subscribe(from)
            .map(move |item| (side, Some(item)))
            .chain(stream::once(ready((side, None))))
            .boxed(),
        None => stream::pending().boxed(),
    }
}

impl ChangeFeed for ComposedFeed {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>> {
        let (start, unreadable) = match &from {
            None => (Positions::default(), false),
            Some(position) => match Positions::decode(position) {
                Some(positions) => (positions, false),
                None => (Positions::default(), true),
            },
        };
        let merged = stream::select(
            side_stream(
                Side::Bottom,
                self.bottom_feed.as_ref(),
                start.bottom.clone(),
            ),
            side_stream(Side::Top, self.top_feed.as_ref(), start.top.clone()),
        )
        .take_while(|(_, item)| ready(item.is_some()));
        let mut at = start;
        let (layering, top, bottom) = (self.layering, self.top.clone(), self.bottom.clone());
        let (top_name, bottom_name) = (self.top.name().to_string(), self.bottom.name().to_string());
        let translated = merged
            .then(move |(side, item)| {
                let step = match item {
                    Some(Ok(FeedItem::Change { event, position })) => {
                        at.advance(side, position);
                        Step::Change(event, at.encode())
                    }
                    Some(Ok(FeedItem::Gap { reason, position })) => {
                        at.advance(side, position);
                        let part = if side == Side::Top {
                            &top_name
                        } else {
                            &bottom_name
                        };
                        Step::Gap(format!("feed of \"{part}\": {reason}"), at.encode())
                    }
                    Some(Err(error)) => {
                        let part = if side == Side::Top {
                            &top_name
                        } else {
                            &bottom_name
                        };
                        Step::Error(error.context(&format!("feed of \"{part}\"")))
                    }
                    None => Step::End,
                };
                let (top, bottom) = (top.clone(), bottom.clone());
                async move {
                    match step {
                        Step::Change(event, position) => {
                            let event = match side {
                                Side::Top => Some(from_top(layering, bottom.as_ref(), event).await),
                                Side::Bottom => from_bottom(top.as_ref(), event).await,
                            };
                            event.map(|event| Ok(FeedItem::Change { event, position }))
                        }
                        Step::Gap(reason, position) => Some(Ok(FeedItem::Gap { reason, position })),
                        Step::Error(error) => Some(Err(error)),
                        Step::End => None,
                    }
                }
            })
            .filter_map(ready);
        if unreadable {
            let gap = FeedItem::Gap {
                reason: "the stored composite position could not be read; following both \
                         parts from now on"
                    .into(),
                position: Positions::default().encode(),
            };
            Box::pin(stream::once(ready(Ok(gap))).chain(translated))
        } else {
            Box::pin(translated)
        }
    }
}

impl Positions {
    fn advance(&mut self, side: Side, position: FeedPosition) {
        match side {
            Side::Top => self.top = Some(position),
            Side::Bottom => self.bottom = Some(position),
        }
    }
}

/// A change of the top part, as a change of the visible row.
async fn from_top(layering: Layering, bottom: &dyn TableShell, event: ChangeEvent) -> ChangeEvent {
    let overlay = layering == Layering::Overlay;
    match event {
        ChangeEvent::Inserted {
            id,
            record: Some(record),
        } if overlay && is_tombstone(&record) => ChangeEvent::Removed { id },
        ChangeEvent::Updated {
            id,
            fields: Some(fields),
        } if overlay && carries_marker(&fields) => {
            if is_tombstone(&fields) {
                ChangeEvent::Removed { id }
            } else {
                ChangeEvent::Updated { id, fields: None }
            }
        }
        ChangeEvent::Removed { id } => match bottom.get(&id).await {
            Ok(Some(record)) => ChangeEvent::Inserted {
                id,
                record: Some(record),
            },
            Ok(None) => ChangeEvent::Removed { id },
            Err(_) => ChangeEvent::Updated { id, fields: None },
        },
        other => other,
    }
}

/// A change of the bottom part, unless the top part hides its row.
async fn from_bottom(top: &dyn TableShell, event: ChangeEvent) -> Option<ChangeEvent> {
    let Some(id) = event.id() else {
        return Some(event);
    };
    match top.get(id).await {
        Ok(Some(_)) => None,
        Ok(None) => Some(event),
        Err(_) => Some(ChangeEvent::Updated {
            id: id.into(),
            fields: None,
        }),
    }
}
