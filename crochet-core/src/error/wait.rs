//! [`WaitError`]: what a wait for an operation's result can return.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::panic::Panic;

use super::Unsupported;

/// Why a wait for an operation's result did not give its value.
///
/// `E` is the operation's own error type: [`WaitError::Failed`] carries it,
/// owned, for operations submitted with a `_fallible` entry point
/// ([`run_in_reactor_fallible`](crate::run_in_reactor_fallible), ...). It
/// is [`Infallible`] for plain operations, so a `match` needs no arm for
/// it.
///
/// The enum is exhaustive: every outcome of a wait is one of these, and a
/// `match` over them needs no wildcard. Every variant but `Failed` is
/// crochet's own and is cheap to clone; they are reported to every wait on
/// the same result. The operation's own error moves out to the first wait
/// that reads it, like a value; later waits get
/// [`WaitError::FailureTaken`].
///
/// # Examples
///
/// ```
/// # use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
/// use crochet_core::WaitError;
///
/// let result = reactor.run_in_reactor_fallible(|| async { "x".parse::<u8>() });
/// match result.wait_timeout(Duration::from_secs(5)) {
///     Ok(value) => println!("parsed {value}"),
///     Err(WaitError::Failed(parse)) => println!("the operation failed: {parse}"),
///     Err(other) => println!("crochet: {other}"),
/// }
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum WaitError<E = Infallible> {
    /// The operation finished with its own error.
    Failed(E),
    /// The operation finished with its own error, which an earlier wait on
    /// this result took (it is owned, and moves out once, like a value).
    FailureTaken,
    /// A wait ran out of time before the result was there.
    Timeout {
        /// How long the caller waited.
        after: Duration,
        /// `true` when the operation was cancelled because of the timeout
        /// (`wait_for`); `false` when it is still running and can be waited
        /// again.
        cancelled: bool,
    },
    /// The operation was cancelled before it finished; its future is
    /// dropped.
    Cancelled,
    /// The operation (its closure or its future) panicked.
    Panicked(Panic),
    /// The reactor was shut down (or its runtime went away) before the
    /// operation finished, or the work was submitted after shutdown.
    ReactorStopped,
    /// The value was already taken by an earlier wait.
    AlreadyRetrieved,
    /// A blocking wait was called on a thread that drives the reactor,
    /// where it would deadlock.
    WaitInReactor {
        /// The name (or id) of the thread that called it.
        thread: Arc<str>,
    },
    /// The work was submitted before `setup()`, `no_setup()` or an attach.
    NotSetUp,
    /// The work was submitted (or the wait called) in a child process
    /// created by `fork()` after the reactor started in its parent; the
    /// reactor's threads do not exist here.
    Forked {
        /// The process id the reactor was started in.
        parent: u32,
        /// The process id of this (child) process.
        child: u32,
    },
    /// The backend does not offer what the operation needs (`!Send` work,
    /// a timer).
    Unsupported(Unsupported),
}

impl<E> WaitError<E> {
    /// `true` for [`WaitError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::Timeout { .. })
    }

    /// `true` for [`WaitError::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, WaitError::Cancelled)
    }

    /// `true` for [`WaitError::Panicked`].
    pub fn is_panic(&self) -> bool {
        matches!(self, WaitError::Panicked(_))
    }

    /// `true` for [`WaitError::WaitInReactor`].
    pub fn is_wait_in_reactor(&self) -> bool {
        matches!(self, WaitError::WaitInReactor { .. })
    }

    /// `true` for [`WaitError::ReactorStopped`].
    pub fn is_reactor_stopped(&self) -> bool {
        matches!(self, WaitError::ReactorStopped)
    }

    /// The operation's own error, for [`WaitError::Failed`], and crochet's
    /// error otherwise: for code that handles the two apart.
    ///
    /// ```
    /// use crochet_core::WaitError;
    ///
    /// let failed: WaitError<&str> = WaitError::Failed("no such user");
    /// assert_eq!(failed.into_failed().ok(), Some("no such user"));
    /// let stopped: WaitError<&str> = WaitError::ReactorStopped;
    /// assert!(stopped.into_failed().unwrap_err().is_reactor_stopped());
    /// ```
    pub fn into_failed(self) -> Result<E, WaitError> {
        match self {
            WaitError::Failed(error) => Ok(error),
            WaitError::FailureTaken => Err(WaitError::FailureTaken),
            WaitError::Timeout { after, cancelled } => Err(WaitError::Timeout { after, cancelled }),
            WaitError::Cancelled => Err(WaitError::Cancelled),
            WaitError::Panicked(panic) => Err(WaitError::Panicked(panic)),
            WaitError::ReactorStopped => Err(WaitError::ReactorStopped),
            WaitError::AlreadyRetrieved => Err(WaitError::AlreadyRetrieved),
            WaitError::WaitInReactor { thread } => Err(WaitError::WaitInReactor { thread }),
            WaitError::NotSetUp => Err(WaitError::NotSetUp),
            WaitError::Forked { parent, child } => Err(WaitError::Forked { parent, child }),
            WaitError::Unsupported(unsupported) => Err(WaitError::Unsupported(unsupported)),
        }
    }

    /// Maps the operation's own error, leaving crochet's as they are.
    pub fn map_failed<F>(self, map: impl FnOnce(E) -> F) -> WaitError<F> {
        match self.into_failed() {
            Ok(error) => WaitError::Failed(map(error)),
            Err(own) => own.widen(),
        }
    }
}

impl WaitError {
    /// The same error, for a result whose operation error is `E`: crochet's
    /// own errors fit every result type.
    pub fn widen<E>(self) -> WaitError<E> {
        match self {
            WaitError::Failed(never) => match never {},
            WaitError::FailureTaken => WaitError::FailureTaken,
            WaitError::Timeout { after, cancelled } => WaitError::Timeout { after, cancelled },
            WaitError::Cancelled => WaitError::Cancelled,
            WaitError::Panicked(panic) => WaitError::Panicked(panic),
            WaitError::ReactorStopped => WaitError::ReactorStopped,
            WaitError::AlreadyRetrieved => WaitError::AlreadyRetrieved,
            WaitError::WaitInReactor { thread } => WaitError::WaitInReactor { thread },
            WaitError::NotSetUp => WaitError::NotSetUp,
            WaitError::Forked { parent, child } => WaitError::Forked { parent, child },
            WaitError::Unsupported(unsupported) => WaitError::Unsupported(unsupported),
        }
    }

    /// Whether nobody seeing this outcome is worth a report: a panic and
    /// submission errors the caller never looked at. Cancellation the
    /// caller asked for and shutdown are not failures.
    pub(crate) fn is_reportable(&self) -> bool {
        !matches!(
            self,
            WaitError::Cancelled | WaitError::ReactorStopped | WaitError::Timeout { .. }
        )
    }
}

impl<E: fmt::Display> fmt::Display for WaitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Failed(error) => fmt::Display::fmt(error, f),
            WaitError::FailureTaken => f.write_str(
                "the operation failed, and its error was taken by an earlier wait on this result",
            ),
            WaitError::Timeout {
                after,
                cancelled: false,
            } => write!(
                f,
                "timed out after {after:?} waiting for the result; the operation is still running: wait again or cancel it"
            ),
            WaitError::Timeout {
                after,
                cancelled: true,
            } => write!(
                f,
                "timed out after {after:?} waiting for the result; the operation was cancelled"
            ),
            WaitError::Cancelled => f.write_str("the operation was cancelled before it finished"),
            WaitError::Panicked(panic) => write!(f, "the operation panicked: {}", panic.message()),
            WaitError::ReactorStopped => f.write_str(
                "the reactor was shut down; the operation did not run to completion",
            ),
            WaitError::AlreadyRetrieved => f.write_str(
                "the result was already taken by an earlier wait; use shared() to let several waiters see it",
            ),
            WaitError::WaitInReactor { thread } => write!(
                f,
                "blocking wait called on reactor thread `{thread}`, where it would deadlock; use `.await` on the result there instead"
            ),
            WaitError::NotSetUp => f.write_str(
                "the reactor is not set up: call setup() (or no_setup() and attach a runtime) before submitting work",
            ),
            WaitError::Forked { parent, child } => write!(
                f,
                "the reactor was started in process {parent} and this is process {child}, a fork: its threads do not exist here; set up crochet in the child after forking"
            ),
            WaitError::Unsupported(unsupported) => fmt::Display::fmt(unsupported, f),
        }
    }
}

impl<E: StdError + 'static> StdError for WaitError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            // Transparent: the operation error's own source, so that a
            // chain printer does not show the same message twice.
            WaitError::Failed(error) => error.source(),
            _ => None,
        }
    }
}
