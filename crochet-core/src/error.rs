//! The one error type of crochet, and its kinds.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::panic::Panic;
use crate::stash::StashId;

/// A specialised [`Result`](std::result::Result) whose error is crochet's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a blocking caller and the reactor.
///
/// Each variant is one outcome; the message says what happened and, where
/// there is something to do about it, what to do. [`Error::kind`] gives a
/// `Copy + PartialEq` summary for `assert_eq!` and `match` without payloads.
///
/// Errors are cheap to clone (payloads are shared), `Send + Sync + 'static`,
/// and the operation's own error ([`Error::Failed`]) passes through
/// transparently: its `Display` is the operation's, and `source()` forwards.
#[derive(Clone)]
#[non_exhaustive]
pub enum Error {
    /// A wait ran out of time before the result was there.
    Timeout {
        /// How long the caller waited.
        after: Duration,
        /// `true` when the operation was cancelled because of the timeout
        /// (`wait_for`); `false` when it is still running and can be waited
        /// again.
        cancelled: bool,
    },
    /// The operation was cancelled before it finished.
    Cancelled,
    /// The operation (its closure or its future) panicked.
    Panicked(Panic),
    /// The operation finished with its own error.
    Failed(Failure),
    /// The reactor was shut down (or its runtime went away) before the
    /// operation finished, or work was submitted after shutdown.
    ReactorStopped,
    /// Work was submitted before `setup()`, `no_setup()` or an attach.
    NotSetUp,
    /// A blocking wait was called on a reactor thread, where it would
    /// deadlock.
    WaitInReactor {
        /// The name (or id) of the thread that called it.
        thread: String,
    },
    /// The value of this result was already taken by an earlier wait.
    AlreadyRetrieved,
    /// `no_setup()` or an attach was called after the reactor was started
    /// by `setup()`.
    AlreadyStarted,
    /// A runtime was attached to a reactor that already has one.
    AlreadyAttached,
    /// Work was submitted in a child process created by `fork()` after the
    /// reactor started in the parent; its threads do not exist here.
    Forked {
        /// The process id the reactor was started in.
        parent: u32,
        /// The process id of this (child) process.
        child: u32,
    },
    /// The backend could not start its runtime or threads.
    StartFailed(Arc<std::io::Error>),
    /// The backend does not offer this capability.
    Unsupported {
        /// What was asked for.
        capability: &'static str,
        /// The backend that refused.
        backend: &'static str,
    },
    /// Reactor threads did not exit within the shutdown bound (a task is
    /// blocking its thread); pending results were still completed.
    ShutdownTimedOut {
        /// The bound that was given to shutdown.
        after: Duration,
    },
    /// No stashed result has this id: it was retrieved already, it
    /// expired, or it never existed.
    StashNotFound {
        /// The id that was asked for.
        id: StashId,
    },
    /// A string was not a stash id.
    StashMalformedId {
        /// How many characters the string had.
        len: usize,
    },
    /// The stashed result holds another type than the one asked for; the
    /// entry stays in the stash.
    StashWrongType {
        /// The id that was asked for.
        id: StashId,
        /// The type the caller asked for.
        expected: &'static str,
        /// The type that is stashed under this id.
        found: &'static str,
    },
    /// The stash holds its maximum number of entries.
    StashFull {
        /// The configured capacity.
        capacity: usize,
    },
}

/// The kind of an [`Error`], without its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // each kind is documented on the `Error` variant of the same name
pub enum ErrorKind {
    Timeout,
    Cancelled,
    Panicked,
    Failed,
    ReactorStopped,
    NotSetUp,
    WaitInReactor,
    AlreadyRetrieved,
    AlreadyStarted,
    AlreadyAttached,
    Forked,
    StartFailed,
    Unsupported,
    ShutdownTimedOut,
    StashNotFound,
    StashMalformedId,
    StashWrongType,
    StashFull,
}

/// An operation's own error, kept with its type.
///
/// Created when a fallible operation (see `try_run_in_reactor`) returns
/// `Err`. `Display` and `source()` are the operation error's own; get the
/// typed value back with [`Failure::downcast_ref`]. The error is shared: every
/// clone of an [`Error`] holds the same one.
#[derive(Clone)]
pub struct Failure(Arc<dyn StdError + Send + Sync + 'static>);

impl Failure {
    /// Wraps an operation error.
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
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

    /// The shared operation error.
    pub fn into_inner(self) -> Arc<dyn StdError + Send + Sync + 'static> {
        self.0
    }
}

impl Error {
    /// The kind of this error, without its payload.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Panicked(_) => ErrorKind::Panicked,
            Error::Failed(_) => ErrorKind::Failed,
            Error::ReactorStopped => ErrorKind::ReactorStopped,
            Error::NotSetUp => ErrorKind::NotSetUp,
            Error::WaitInReactor { .. } => ErrorKind::WaitInReactor,
            Error::AlreadyRetrieved => ErrorKind::AlreadyRetrieved,
            Error::AlreadyStarted => ErrorKind::AlreadyStarted,
            Error::AlreadyAttached => ErrorKind::AlreadyAttached,
            Error::Forked { .. } => ErrorKind::Forked,
            Error::StartFailed(_) => ErrorKind::StartFailed,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::ShutdownTimedOut { .. } => ErrorKind::ShutdownTimedOut,
            Error::StashNotFound { .. } => ErrorKind::StashNotFound,
            Error::StashMalformedId { .. } => ErrorKind::StashMalformedId,
            Error::StashWrongType { .. } => ErrorKind::StashWrongType,
            Error::StashFull { .. } => ErrorKind::StashFull,
        }
    }

    /// `true` for [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// `true` for [`Error::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled)
    }

    /// `true` for [`Error::Panicked`].
    pub fn is_panic(&self) -> bool {
        matches!(self, Error::Panicked(_))
    }

    /// `true` for [`Error::Failed`].
    pub fn is_failed(&self) -> bool {
        matches!(self, Error::Failed(_))
    }

    /// `true` for [`Error::ReactorStopped`].
    pub fn is_reactor_stopped(&self) -> bool {
        matches!(self, Error::ReactorStopped)
    }

    /// `true` for [`Error::WaitInReactor`].
    pub fn is_wait_in_reactor(&self) -> bool {
        matches!(self, Error::WaitInReactor { .. })
    }

    /// The panic, for [`Error::Panicked`].
    pub fn as_panic(&self) -> Option<&Panic> {
        match self {
            Error::Panicked(panic) => Some(panic),
            _ => None,
        }
    }

    /// The operation's own error, for [`Error::Failed`].
    pub fn as_failure(&self) -> Option<&Failure> {
        match self {
            Error::Failed(failure) => Some(failure),
            _ => None,
        }
    }

    /// Whether nobody seeing this error is worth a report: the operation's
    /// own failures, and submission errors the caller never looked at.
    /// Cancellation the caller asked for and shutdown are not failures.
    pub(crate) fn is_reportable(&self) -> bool {
        !matches!(
            self,
            Error::Cancelled | Error::ReactorStopped | Error::Timeout { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout {
                after,
                cancelled: false,
            } => write!(
                f,
                "timed out after {after:?} waiting for the result; the operation is still running: wait again or cancel it"
            ),
            Error::Timeout {
                after,
                cancelled: true,
            } => write!(
                f,
                "timed out after {after:?} waiting for the result; the operation was cancelled"
            ),
            Error::Cancelled => f.write_str("the operation was cancelled before it finished"),
            Error::Panicked(panic) => write!(f, "the operation panicked: {}", panic.message()),
            Error::Failed(failure) => fmt::Display::fmt(&failure.0, f),
            Error::ReactorStopped => f.write_str(
                "the reactor was shut down; the operation did not run to completion",
            ),
            Error::NotSetUp => f.write_str(
                "the reactor is not set up: call setup() (or no_setup() and attach a runtime) before submitting work",
            ),
            Error::WaitInReactor { thread } => write!(
                f,
                "blocking wait called on reactor thread `{thread}`, where it would deadlock; use `.await` on the result there instead"
            ),
            Error::AlreadyRetrieved => f.write_str(
                "the result was already taken by an earlier wait; use shared() to let several waiters see it",
            ),
            Error::AlreadyStarted => f.write_str(
                "the reactor was already started by setup(); call no_setup() or attach before any setup()",
            ),
            Error::AlreadyAttached => f.write_str("a runtime is already attached to this reactor"),
            Error::Forked { parent, child } => write!(
                f,
                "the reactor was started in process {parent} and this is process {child}, a fork: its threads do not exist here; set up crochet in the child after forking"
            ),
            Error::StartFailed(io) => write!(f, "failed to start the reactor: {io}"),
            Error::Unsupported {
                capability,
                backend,
            } => write!(f, "the {backend} backend does not support {capability}"),
            Error::ShutdownTimedOut { after } => write!(
                f,
                "reactor threads did not exit within {after:?} of shutdown; a task is blocking its thread, which was left running"
            ),
            Error::StashNotFound { id } => write!(
                f,
                "no stashed result with id {}: it was already retrieved, it expired, or it never existed",
                id.prefix()
            ),
            Error::StashMalformedId { len } => write!(
                f,
                "malformed stash id: expected {} hexadecimal characters, got {len} characters",
                StashId::TEXT_LEN
            ),
            Error::StashWrongType {
                id,
                expected,
                found,
            } => write!(
                f,
                "stashed result {} holds {found}, not {expected}; it stays stashed",
                id.prefix()
            ),
            Error::StashFull { capacity } => write!(
                f,
                "the stash is full ({capacity} entries); retrieve results or raise the capacity"
            ),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout { after, cancelled } => f
                .debug_struct("Timeout")
                .field("after", after)
                .field("cancelled", cancelled)
                .finish(),
            Error::Panicked(panic) => f.debug_tuple("Panicked").field(panic).finish(),
            Error::Failed(failure) => f.debug_tuple("Failed").field(failure).finish(),
            Error::WaitInReactor { thread } => f
                .debug_struct("WaitInReactor")
                .field("thread", thread)
                .finish(),
            Error::Forked { parent, child } => f
                .debug_struct("Forked")
                .field("parent", parent)
                .field("child", child)
                .finish(),
            Error::StartFailed(io) => f.debug_tuple("StartFailed").field(io).finish(),
            Error::Unsupported {
                capability,
                backend,
            } => f
                .debug_struct("Unsupported")
                .field("capability", capability)
                .field("backend", backend)
                .finish(),
            Error::ShutdownTimedOut { after } => f
                .debug_struct("ShutdownTimedOut")
                .field("after", after)
                .finish(),
            Error::StashNotFound { id } => f.debug_struct("StashNotFound").field("id", id).finish(),
            Error::StashMalformedId { len } => f
                .debug_struct("StashMalformedId")
                .field("len", len)
                .finish(),
            Error::StashWrongType {
                id,
                expected,
                found,
            } => f
                .debug_struct("StashWrongType")
                .field("id", id)
                .field("expected", expected)
                .field("found", found)
                .finish(),
            Error::StashFull { capacity } => f
                .debug_struct("StashFull")
                .field("capacity", capacity)
                .finish(),
            other => fmt::Debug::fmt(&other.kind(), f),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            // Transparent: the operation error's own source, so that a chain
            // printer does not show the same message twice.
            Error::Failed(failure) => failure.0.source(),
            Error::StartFailed(io) => Some(&**io),
            _ => None,
        }
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

impl Error {
    /// [`Error::StartFailed`] for the IO error that kept a backend from
    /// starting. (There is no `From<io::Error>`: an unrelated IO error
    /// must not turn into "failed to start the reactor" by way of `?`.)
    pub fn start_failed(io: std::io::Error) -> Self {
        Error::StartFailed(Arc::new(io))
    }
}
