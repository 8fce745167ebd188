//! The backend-author API: what a crate that runs crochet on another
//! runtime implements ([`Spawner`], and [`Backend`] with [`Driver`] for a
//! runtime that crochet starts and owns), and the helpers it may use.
//!
//! Applications never need this module: they pick a backend with the
//! `crochet` crate's features, or attach a runtime through a backend
//! crate's `attach`. It is covered by semver like the rest of the API,
//! except [`compat`], whose functions follow `async-compat`.
//!
//! A backend crate (see `crochet-tokio`, `crochet-smol` and
//! `crochet-async-std`, each a thin adapter) provides:
//! - a [`Spawner`] that detaches crochet's futures on its runtime (and,
//!   for the runtimes crochet spawns on directly, names it with
//!   [`Spawner::runtime`], so that no operation is boxed), and
//!   optionally runs `!Send` work ([`Spawner::spawn_local`] with a
//!   [`LocalTask`]), offers a timer ([`Spawner::sleep_until`]), and tells
//!   crochet how a blocking wait may block on the calling thread
//!   ([`Spawner::blocking_hint`], a [`BlockingHint`]);
//! - a builder implementing [`Backend`], whose [`Backend::start`] starts
//!   the runtime's threads (helped by [`ReactorThreads`], which marks them
//!   with [`mark_reactor_thread`]) and returns them as [`Started`], with a
//!   [`Driver`] that stops them;
//! - an `attach` for an application's own runtime, through
//!   [`Reactor::attach`](crate::Reactor::attach).
//!
//! Threads that drive an executor crochet does not own mark the scope with
//! [`enter_reactor`]; [`is_reactor_thread`] tells. [`LocalThread`] is a
//! thread that runs `!Send` tasks, for backends whose runtime has none;
//! [`mailbox`] a channel to a reactor thread that needs no runtime's.

pub mod compat {
    //! Tokio's context for work on other runtimes: with the `tokio-compat`
    //! feature, backends run each operation inside a tokio context, as
    //! `async_compat::Compat` does, so that futures of tokio-based crates
    //! (reqwest, tonic, sqlx, ...) find the tokio IO driver and timers they
    //! need. Threads of a managed reactor hold the context for their whole
    //! run ([`hold_tokio_context`]) instead of entering it on every poll.
    //! Without the feature, these functions do nothing, and no tokio is
    //! built.
    pub use crate::compat::{
        TokioContext, hold_tokio_context, in_tokio_context, start_tokio_context,
    };
}

pub use crate::context::{ReactorGuard, enter_reactor, is_reactor_thread, mark_reactor_thread};
pub use crate::local::{LocalHandle, LocalThread};
pub use crate::mailbox::{Mailbox, MailboxSender, mailbox};
#[cfg(feature = "async-executor")]
pub use crate::runtime::ExecutorSlots;
pub use crate::runtime::Runtime;
pub use crate::spawner::{BlockingHint, BoxFuture, LocalBoxFuture, LocalTask, Spawner};
pub use crate::threads::ReactorThreads;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{SetupError, ShutdownError};

/// A runtime that crochet starts and owns (a "managed reactor").
///
/// Implemented by each backend's builder; passed to
/// [`Reactor::setup`](crate::Reactor::setup) or
/// [`setup_with`](crate::setup_with).
pub trait Backend: Send + 'static {
    /// Starts the runtime's threads and returns how to spawn on it and how
    /// to stop it. Returns promptly; it does not wait for work.
    ///
    /// # Errors
    ///
    /// [`SetupError::StartFailed`] when threads or the runtime cannot be
    /// created. Nothing may be left running then.
    fn start(self) -> Result<Started, SetupError>;

    /// The backend's name, as its spawner gives it
    /// ([`Spawner::name`]): [`Reactor::setup`](crate::Reactor::setup)
    /// compares it with the running backend's.
    fn name(&self) -> &'static str;
}

/// A started runtime: its spawner and its driver.
#[derive(Debug)]
pub struct Started {
    pub(crate) spawner: Arc<dyn Spawner>,
    pub(crate) driver: Box<dyn Driver>,
}

impl Started {
    /// Bundles a spawner with the driver that stops it.
    pub fn new(spawner: Arc<dyn Spawner>, driver: Box<dyn Driver>) -> Self {
        Started { spawner, driver }
    }
}

/// Stops a managed runtime.
pub trait Driver: Send + fmt::Debug + 'static {
    /// Stops the runtime, dropping its remaining tasks on its own threads
    /// (never inside an async context), and waits up to `timeout` for those
    /// threads to exit.
    ///
    /// By the time this is called, crochet has asked every pending
    /// operation to end: a task the runtime polls or drops from now on
    /// drops its future and completes its result with
    /// [`WaitError::ReactorStopped`](crate::WaitError::ReactorStopped).
    /// Crochet then waits for those ends, within the same bound, and
    /// completes what is left itself.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::TimedOut`] when a thread is still running after
    /// `timeout` (a task blocking it); the thread is left to finish alone.
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), ShutdownError>;
}
