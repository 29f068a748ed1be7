//! What the grid's message line says about the Dio's events: the failures
//! a person at the table must see (a disk that cannot keep what the
//! master said, a window that failed to load, a refresh or change feed
//! that failed, changes lost), as plain text. A plain function, tested on
//! its own; the model feeds it the events as they come.

use diorama_core::dio::DioEvent;

/// The message for `event`, when it is one to show; `view` is the id of
/// the grid's table scenery (another scenery's loads are not this one's).
pub fn notice(event: &DioEvent, view: u64) -> Option<String> {
    match event {
        DioEvent::CacheWriteFailed {
            id: Some(id),
            error,
        } => Some(format!(
            "saved at the source, but the cache could not keep {id} ({error}): it is read again"
        )),
        DioEvent::CacheWriteFailed { id: None, error } => Some(format!(
            "the cache could not keep rows it loaded ({error}): shown, and read again next time"
        )),
        DioEvent::LoadFailed {
            scenery,
            range,
            error,
        } if *scenery == view => Some(format!(
            "rows {}–{} could not be loaded ({error}); scroll to try again",
            range.start + 1,
            range.end
        )),
        DioEvent::RefreshFailed { error } => Some(format!("refresh failed: {error}")),
        DioEvent::FeedFailed { feed, error } => {
            Some(format!("changes from {feed} are not arriving: {error}"))
        }
        DioEvent::ChangesLost { feed, reason } => Some(format!(
            "changes from {feed} were lost ({reason}): rows are read again"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use diorama_core::Error;

    use super::*;

    #[test]
    fn failures_are_told_and_everything_else_is_not() {
        let disk = Error::unavailable("No space left on device");
        let told = notice(
            &DioEvent::CacheWriteFailed {
                id: Some("p7".into()),
                error: disk.clone(),
            },
            1,
        )
        .unwrap();
        assert!(
            told.contains("p7") && told.contains("No space left"),
            "{told}"
        );
        let chunk = notice(
            &DioEvent::CacheWriteFailed {
                id: None,
                error: disk,
            },
            1,
        )
        .unwrap();
        assert!(chunk.contains("shown"), "{chunk}");
        let load = DioEvent::LoadFailed {
            scenery: 1,
            range: 100..200,
            error: Error::unavailable("timed out"),
        };
        let told = notice(&load, 1).unwrap();
        assert!(
            told.contains("101–200") && told.contains("timed out"),
            "{told}"
        );
        assert_eq!(notice(&load, 2), None, "another view's load");
        assert_eq!(
            notice(&DioEvent::RecordChanged { id: "p1".into() }, 1),
            None
        );
        assert_eq!(notice(&DioEvent::Invalidated, 1), None);
    }
}
