//! [`TryNextError`]: what a non-blocking read of an
//! [`EventualStream`](crate::EventualStream) can return.

use std::fmt;

use super::WaitError;

/// Why [`EventualStream::try_next`](crate::EventualStream::try_next) returned no item, as
/// [`std::sync::mpsc::TryRecvError`] says for a channel.
///
/// Exhaustive, as `TryRecvError` is: a read finds an item, none yet, or the
/// end, and an end with an error carries its [`WaitError`].
#[derive(Clone, Debug)]
pub enum TryNextError {
    /// No item is buffered yet; the stream runs on.
    Empty,
    /// The stream has ended, and every item was read.
    Ended,
    /// The stream ended with this error (a panic, a cancellation, a
    /// stopped reactor); reported once, then [`TryNextError::Ended`].
    Failed(WaitError),
}

impl TryNextError {
    /// Whether no item is buffered yet, and the stream runs on.
    pub fn is_empty(&self) -> bool {
        matches!(self, TryNextError::Empty)
    }

    /// Whether the stream has ended, and every item was read.
    pub fn is_ended(&self) -> bool {
        matches!(self, TryNextError::Ended)
    }
}

impl fmt::Display for TryNextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryNextError::Empty => f.write_str(
                "no item is buffered yet; the stream is still running: read again later",
            ),
            TryNextError::Ended => f.write_str("the stream has ended; every item was read"),
            TryNextError::Failed(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl std::error::Error for TryNextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the stream's error speaks for itself.
            TryNextError::Failed(error) => error.source(),
            TryNextError::Empty | TryNextError::Ended => None,
        }
    }
}
