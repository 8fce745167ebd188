//! The one error type of the library, async and blocking alike.

use std::fmt;
use std::time::Duration;

use crochet::{SetupError, WaitError};

/// What can go wrong with a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request failed: connect, send or read.
    Http(reqwest::Error),
    /// The server answered with a status that is not a success.
    Status(u16),
    /// The path does not make a URL with the client's base.
    BadPath(String),
    /// The blocking call got no answer in time (it waited this long); the
    /// request was cancelled.
    Timeout(Duration),
    /// The blocking call was made where blocking would stall an async
    /// runtime: crochet refused it ([`WaitError::WaitInReactor`]).
    InRuntime(WaitError),
    /// The library's reactor did not start.
    Start(SetupError),
    /// The library's reactor could not run the request: it was shut down,
    /// or the request panicked.
    Reactor(WaitError),
}

impl Error {
    /// `true` for [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// `true` for [`Error::InRuntime`].
    pub fn is_in_runtime(&self) -> bool {
        matches!(self, Error::InRuntime(_))
    }
}

/// What a blocking call's wait error means for this library: the request's
/// own error comes back as it is, typed, and crochet's are sorted. The
/// blocking client's methods return it (`error = "Error"`).
impl From<WaitError<Error>> for Error {
    fn from(error: WaitError<Error>) -> Error {
        match error.into_failed() {
            Ok(own) => own,
            Err(WaitError::Timeout { after, .. }) => Error::Timeout(after),
            Err(refused @ WaitError::WaitInReactor { .. }) => Error::InRuntime(refused),
            Err(other) => Error::Reactor(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(error) => fmt::Display::fmt(error, f),
            Error::Status(status) => write!(f, "the server answered {status}"),
            Error::BadPath(path) => write!(f, "{path:?} is not a path on this server"),
            Error::Timeout(after) => {
                write!(f, "no answer within {after:.0?}; the request was cancelled")
            }
            Error::InRuntime(error) => write!(
                f,
                "blocking call inside an async runtime, refused ({error}); \
                 use blocking_client::Client with .await there, or spawn_blocking"
            ),
            Error::Start(error) => write!(f, "the client's reactor did not start: {error}"),
            Error::Reactor(error) => write!(f, "the client's reactor failed: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Http(error) => error.source(),
            Error::InRuntime(error) | Error::Reactor(error) => Some(error),
            Error::Start(error) => Some(error),
            Error::Status(_) | Error::BadPath(_) | Error::Timeout(_) => None,
        }
    }
}
