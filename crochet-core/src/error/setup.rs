//! [`SetupError`] and [`ShutdownError`]: what starting, attaching and
//! stopping a reactor can return.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why a reactor could not be set up, told it will attach a runtime, or
/// attached one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SetupError {
    /// The backend could not start its runtime or threads.
    StartFailed(Arc<std::io::Error>),
    /// A reactor runs on another backend than the one asked for.
    BackendMismatch {
        /// The backend that runs.
        running: &'static str,
        /// The backend that was asked for.
        requested: &'static str,
    },
    /// `no_setup()` or an attach was called after the reactor was started
    /// by `setup()`.
    AlreadyStarted,
    /// A runtime was attached to a reactor that already has one.
    AlreadyAttached,
    /// The reactor was shut down; it does not start again.
    ReactorStopped,
}

impl SetupError {
    /// [`SetupError::StartFailed`] for the IO error that kept a backend
    /// from starting. (There is no `From<io::Error>`: an unrelated IO error
    /// must not turn into "failed to start the reactor" by way of `?`.)
    pub fn start_failed(io: std::io::Error) -> Self {
        SetupError::StartFailed(Arc::new(io))
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::StartFailed(io) => write!(f, "failed to start the reactor: {io}"),
            SetupError::BackendMismatch { running, requested } => write!(
                f,
                "the reactor already runs on the {running} backend, not {requested}; a library that needs a backend of its own should start a Reactor of its own"
            ),
            SetupError::AlreadyStarted => f.write_str(
                "the reactor was already started by setup(); call no_setup() or attach before any setup()",
            ),
            SetupError::AlreadyAttached => {
                f.write_str("a runtime is already attached to this reactor")
            }
            SetupError::ReactorStopped => {
                f.write_str("the reactor was shut down; it does not start again")
            }
        }
    }
}

impl StdError for SetupError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            SetupError::StartFailed(io) => Some(&**io),
            _ => None,
        }
    }
}

/// Why a shutdown did not end cleanly: something it was given was still
/// running when it returned. Every pending result was completed either
/// way, so that no waiter is left hanging.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Operations were still running when the bound ran out (a future
    /// blocking its thread, or an attached runtime that no longer runs
    /// them): their results were completed with `ReactorStopped`, and
    /// their futures are dropped when their runtime gets to them.
    Abandoned {
        /// How many operations were still running.
        operations: usize,
        /// The bound that was given to shutdown.
        after: Duration,
    },
    /// Shutdown was called on a thread that drives the reactor (a task
    /// that shuts its reactor down), where it cannot wait for the futures
    /// to be dropped, its own among them: the results of the operations
    /// still running were completed with `ReactorStopped`, and their
    /// futures are dropped as the runtime gets to them.
    InReactor {
        /// How many operations were still running, the caller's included.
        operations: usize,
    },
    /// Reactor threads did not exit within the shutdown bound (a task that
    /// is not crochet's is blocking its thread), and were left running.
    TimedOut {
        /// The bound that was given to shutdown.
        after: Duration,
    },
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShutdownError::Abandoned { operations, after } => write!(
                f,
                "shutdown's bound of {after:?} ran out with {operations} operation(s) still running (a future blocking its thread, or a runtime that no longer runs them); their results were completed with ReactorStopped, and their futures are dropped when their runtime gets to them"
            ),
            ShutdownError::InReactor { operations } => write!(
                f,
                "shutdown was called on a reactor thread, where it cannot wait: {operations} operation(s) still running, the caller's included, were completed with ReactorStopped, and their futures are dropped as the runtime gets to them; shut down from a thread outside the reactor to wait for them"
            ),
            ShutdownError::TimedOut { after } => write!(
                f,
                "reactor threads did not exit within {after:?} of shutdown; a task is blocking its thread, which was left running"
            ),
        }
    }
}

impl StdError for ShutdownError {}
