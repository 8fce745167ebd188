//! crochet's errors: one per question, and [`Error`] for `?` across them.
//!
//! - a wait for a result: [`WaitError`] (generic over the operation's own
//!   error);
//! - setting up, attaching: [`SetupError`]; shutting down:
//!   [`ShutdownError`];
//! - the stash: [`NotStashed`](crate::NotStashed) (the result handed back),
//!   [`RetrieveError`], [`ParseStashIdError`].

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

mod setup;
mod stash;
mod try_next;
mod wait;

pub use crate::stash_id::ParseStashIdError;
pub use setup::{SetupError, ShutdownError};
pub use stash::RetrieveError;
pub use try_next::TryNextError;
pub use wait::{OperationState, WaitError};

/// Any of crochet's errors, for application code that propagates them all
/// with `?`.
///
/// Each question has its own error type, which says exactly what can
/// happen; this one wraps any of them (`From` each), keeps its `Display`,
/// and forwards `source()`. An operation's own error comes in as a
/// [`Failure`] (type-erased, still downcastable).
///
/// ```
/// # use std::time::Duration;
/// fn run() -> Result<u8, crochet_core::Error> {
///     let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
///     let value = reactor
///         .run_in_reactor_fallible(|| async { "42".parse::<u8>() })
///         .wait_timeout(Duration::from_secs(5))?;
///     reactor.shutdown(Duration::from_secs(5))?;
///     Ok(value)
/// }
/// assert_eq!(run()?, 42);
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// A wait did not give the value.
    Wait(WaitError<Failure>),
    /// A reactor could not be set up or attached.
    Setup(SetupError),
    /// A shutdown did not end cleanly.
    Shutdown(ShutdownError),
    /// The stash gave no result back.
    Retrieve(RetrieveError),
    /// A string was not a stash id.
    ParseStashId(ParseStashIdError),
    /// A stream read without waiting found no item
    /// ([`EventualStream::try_next`](crate::EventualStream::try_next)).
    TryNext(TryNextError),
    /// The stash was full, and the result that did not fit was dropped,
    /// which cancelled it ([`NotStashed`](crate::NotStashed) converted).
    StashFull {
        /// The stash's capacity.
        capacity: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Wait(error) => fmt::Display::fmt(error, f),
            Error::Setup(error) => fmt::Display::fmt(error, f),
            Error::Shutdown(error) => fmt::Display::fmt(error, f),
            Error::Retrieve(error) => fmt::Display::fmt(error, f),
            Error::ParseStashId(error) => fmt::Display::fmt(error, f),
            Error::TryNext(error) => fmt::Display::fmt(error, f),
            Error::StashFull { capacity } => write!(
                f,
                "the stash is full ({capacity} entries); retrieve results or raise the capacity"
            ),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        // Transparent: each wrapped error's own source.
        match self {
            Error::Wait(error) => error.source(),
            Error::Setup(error) => error.source(),
            Error::Shutdown(error) => error.source(),
            Error::Retrieve(error) => error.source(),
            Error::ParseStashId(error) => error.source(),
            Error::TryNext(error) => error.source(),
            Error::StashFull { .. } => None,
        }
    }
}

impl<E> From<WaitError<E>> for Error
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>>,
{
    fn from(error: WaitError<E>) -> Self {
        Error::Wait(error.map_failed(Failure::new))
    }
}

impl From<SetupError> for Error {
    fn from(error: SetupError) -> Self {
        Error::Setup(error)
    }
}

impl From<ShutdownError> for Error {
    fn from(error: ShutdownError) -> Self {
        Error::Shutdown(error)
    }
}

impl From<RetrieveError> for Error {
    fn from(error: RetrieveError) -> Self {
        Error::Retrieve(error)
    }
}

impl From<TryNextError> for Error {
    fn from(error: TryNextError) -> Self {
        Error::TryNext(error)
    }
}

impl From<ParseStashIdError> for Error {
    fn from(error: ParseStashIdError) -> Self {
        Error::ParseStashId(error)
    }
}

/// An operation's own error, type-erased: what [`Error`] and the failure
/// hook carry of it.
///
/// `Display` and `source()` are the operation error's own; get the typed
/// value back with [`Failure::downcast_ref`]. Shared: clones hold the same
/// error.
#[derive(Clone)]
pub struct Failure(Arc<dyn StdError + Send + Sync + 'static>);

impl Failure {
    /// Wraps an operation error.
    pub fn new<E: Into<Box<dyn StdError + Send + Sync + 'static>>>(error: E) -> Self {
        Failure(Arc::from(error.into()))
    }

    /// The operation error as `E`, if it is one.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }

    /// The operation error as a trait object.
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl StdError for Failure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// A capability the backend does not offer: `!Send` work
/// ([`run_in_reactor_local`](crate::run_in_reactor_local)) or a timer
/// ([`every`](crate::every)).
///
/// Boxed inside, so that it keeps [`WaitError`] small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(Box<UnsupportedInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct UnsupportedInner {
    capability: &'static str,
    backend: &'static str,
}

impl Unsupported {
    pub(crate) const LOCAL: &'static str = "!Send work (run_in_reactor_local)";
    pub(crate) const TIMER: &'static str = "a timer (periodic tasks)";
    pub(crate) const INLINE: &'static str =
        "running a future on the caller's thread (wait_for_ref)";

    pub(crate) fn new(capability: &'static str, backend: &'static str) -> Self {
        Unsupported(Box::new(UnsupportedInner {
            capability,
            backend,
        }))
    }

    /// What was asked for.
    pub fn capability(&self) -> &'static str {
        self.0.capability
    }

    /// The backend that does not offer it.
    pub fn backend(&self) -> &'static str {
        self.0.backend
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} backend does not support {}",
            self.0.backend, self.0.capability
        )
    }
}

impl StdError for Unsupported {}
