//! Lifecycle of a managed runtime, kept apart from spawning: how a backend
//! starts its threads, and how it stops them within a bound.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::spawner::Spawner;

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
    /// [`Error::StartFailed`] when threads or the runtime cannot be
    /// created. Nothing may be left running then.
    fn start(self) -> Result<Started, Error>;
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
    /// By the time this is called, crochet has already completed every
    /// pending result with [`Error::ReactorStopped`].
    ///
    /// # Errors
    ///
    /// [`Error::ShutdownTimedOut`] when a thread is still running after
    /// `timeout` (a task blocking it); the thread is left to finish alone.
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), Error>;
}
