//! [`WaitError`]: what a wait for an operation's result can return.

use std::any::Any;
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
/// `?` takes it into `anyhow::Error`, `Box<dyn Error + Send + Sync>` and
/// [`Error`](crate::Error), whatever `E` is (see the `Error`
/// implementation below). A plain wait's `WaitError` goes into a
/// `WaitError<E>` with [`WaitError::widen`]:
/// `reactor.wait_for(timeout, f).map_err(WaitError::widen)?` (Rust allows
/// no `From` for it, since `WaitError<Infallible>` is `WaitError` itself).
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
        /// What became of the operation: still running (wait again), not
        /// started yet, or cancelled by `wait_for`.
        state: OperationState,
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

/// What became of the operation when a wait for it timed out
/// ([`WaitError::Timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperationState {
    /// It still runs: the result can be waited for again, and the
    /// operation cancelled.
    Running,
    /// It has not started: [`no_setup`](crate::no_setup) was called, and
    /// no runtime is attached yet; it starts once one is.
    AwaitingAttach,
    /// `wait_for` cancelled it: its future is dropped.
    Cancelled,
    /// `wait_for` asked it to end, but its future blocks its thread (it
    /// cannot be dropped before its poll returns): it is dropped then.
    Cancelling,
}

impl OperationState {
    /// Whether the operation is over: cancelled, its future dropped.
    pub fn is_cancelled(self) -> bool {
        self == OperationState::Cancelled
    }
}

impl fmt::Display for OperationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OperationState::Running => {
                "the operation is still running: wait again, or cancel it"
            }
            OperationState::AwaitingAttach => {
                "the operation has not started: no_setup() was called and no runtime is attached yet; it starts once one is"
            }
            OperationState::Cancelled => "the operation was cancelled",
            OperationState::Cancelling => {
                "the operation was told to stop, but its future is blocking its thread: it is dropped when its poll returns"
            }
        })
    }
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
            WaitError::Timeout { after, state } => Err(WaitError::Timeout { after, state }),
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
            WaitError::Timeout { after, state } => WaitError::Timeout { after, state },
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
            WaitError::Failed(error) => write!(f, "the operation failed: {error}"),
            WaitError::FailureTaken => f.write_str(
                "the operation failed, and its error was taken by an earlier wait on this result",
            ),
            WaitError::Timeout { after, state } => {
                write!(f, "timed out after {after:?} waiting for the result; {state}")
            }
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
                "blocking wait called on thread `{thread}`, which runs async tasks (crochet's reactor, or a runtime's block_on or task), where it would deadlock; use `.await` there, or wait from another thread"
            ),
            WaitError::NotSetUp => f.write_str(
                "the reactor is not set up: call setup() (or no_setup() and attach a runtime) before submitting work",
            ),
            WaitError::Forked { parent, child } => write!(
                f,
                "the reactor was started in process {parent} and this is process {child}, a fork: its threads do not exist here; after a fork, exec, or use no crochet in the child"
            ),
            WaitError::Unsupported(unsupported) => fmt::Display::fmt(unsupported, f),
        }
    }
}

/// Any operation error will do (`E` need not be an `Error` itself:
/// `anyhow::Error` and `Box<dyn Error + Send + Sync>` are not), so that `?`
/// takes a wait's error into `anyhow::Error`, `Box<dyn Error + Send +
/// Sync>` and [`Error`](crate::Error) whatever the operation's error type.
///
/// The message of [`WaitError::Failed`] includes the operation error's own;
/// its causes follow as `source()` where crochet can reach them: for a
/// `Box<dyn Error + Send + Sync>`, and for the [`Failure`](crate::Failure)
/// that [`Error`](crate::Error) holds, so `?` into `crochet::Error` keeps
/// every cause of any operation error. (Rust cannot tell, in one
/// implementation for every `E`, whether `E` is an `Error`: for another
/// type, only its message is shown.)
impl<E: fmt::Debug + fmt::Display + 'static> StdError for WaitError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            WaitError::Failed(error) => causes_of(error),
            _ => None,
        }
    }
}

/// The causes of an operation error whose own message is already shown:
/// its `source()`, where its type is one crochet can look into.
fn causes_of<E: 'static>(error: &E) -> Option<&(dyn StdError + 'static)> {
    let error: &dyn Any = error;
    if let Some(failure) = error.downcast_ref::<super::Failure>() {
        return failure.source();
    }
    if let Some(boxed) = error.downcast_ref::<Box<dyn StdError + Send + Sync>>() {
        return boxed.source();
    }
    None
}
