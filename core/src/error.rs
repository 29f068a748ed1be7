//! The one operational error type of the core, with a kind callers can branch on.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

/// What went wrong, coarsely enough to decide what to do next.
///
/// Callers branch on the kind (fall back when `Unsupported`, retry later when
/// `Failed` or `Unavailable`, stop when `ShuttingDown`); the message is for
/// people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operation is not offered by this source or handle. Not a failure:
    /// callers may fall back (evaluate locally, use another path).
    Unsupported,
    /// The operation was attempted and failed (network, master refused, callback error).
    Failed,
    /// The addressed record or table does not exist.
    NotFound,
    /// Input was malformed or out of range (bad bytes, unknown column, bad argument).
    InvalidInput,
    /// Stored data could not be decoded.
    Corrupt,
    /// The bounded write queue is full (`try_` operations only).
    WriteQueueFull,
    /// The Dio is shutting down and refuses new work.
    ShuttingDown,
    /// The other end of a channel, or the owner of a task, is gone.
    Closed,
    /// A task was aborted or lost before it produced its result.
    Cancelled,
    /// The source could not be reached: the connection was refused or lost,
    /// a connect or statement timeout passed, the server is shutting down.
    /// Transient by nature, so callers retry by their own policy; nothing
    /// the attempt read was cached. A write that fails this way was not
    /// applied, unless its message says the outcome is unknown (the
    /// connection broke after the statement was sent).
    Unavailable,
}

impl ErrorKind {
    /// A short lower-case name of the kind, as used in `Display`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Failed => "failed",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::WriteQueueFull => "write queue full",
            ErrorKind::ShuttingDown => "shutting down",
            ErrorKind::Closed => "closed",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Unavailable => "unavailable",
        }
    }
}

/// An error with a [`ErrorKind`] and a human-readable message.
///
/// Cheap to clone (events carry errors to many subscribers) and comparable,
/// so tests can assert on exact errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
}

/// `Result` with the core [`Error`] as its default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// `Unsupported`: `what` is not offered by this source or handle.
    pub fn unsupported(what: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unsupported, what)
    }

    /// `Failed` with `message`.
    pub fn failed(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }

    /// `NotFound` with `message`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// `InvalidInput` with `message`.
    pub fn invalid_input(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// `Corrupt` with `message`.
    pub fn corrupt(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }

    /// `Unavailable` with `message`: the source could not be reached.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the kind is [`ErrorKind::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        self.kind == ErrorKind::Unsupported
    }

    /// This error with `context` prepended to its message (`"context: message"`).
    pub fn context(self, context: &str) -> Self {
        let mut message = String::from(context);
        message.push_str(": ");
        message.push_str(&self.message);
        Error {
            kind: self.kind,
            message: Cow::Owned(message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl core::error::Error for Error {}
