//! A minimal one-thread backend so that this crate's documentation examples
//! run without a runtime crate. Not part of the API; use a real backend
//! (`crochet-tokio`, ...) in programs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{Backend, Driver, Started};
use crate::error::Error;
use crate::local::{LocalHandle, LocalThread};
use crate::spawner::{BoxFuture, LocalTask, Spawner, Unsupported};

/// A backend that runs everything on one [`LocalThread`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MiniBackend;

/// The spawner of a [`MiniBackend`].
#[derive(Debug)]
pub struct MiniSpawner(LocalHandle);

impl Spawner for MiniSpawner {
    fn spawn(&self, task: BoxFuture) {
        self.0.spawn(task);
    }

    fn spawn_local(&self, task: LocalTask) -> Result<(), Unsupported> {
        self.0.spawn_local(task);
        Ok(())
    }

    fn sleep_until(&self, deadline: Instant) -> Option<BoxFuture> {
        Some(self.0.sleep_until(deadline))
    }

    fn name(&self) -> &'static str {
        "mini"
    }
}

#[derive(Debug)]
struct MiniDriver(LocalThread);

impl Driver for MiniDriver {
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), Error> {
        self.0.shutdown(timeout)
    }
}

impl Backend for MiniBackend {
    fn start(self) -> Result<Started, Error> {
        let thread = LocalThread::start("crochet-mini")?;
        Ok(Started::new(
            Arc::new(MiniSpawner(thread.handle())),
            Box::new(MiniDriver(thread)),
        ))
    }
}

/// A started reactor on a [`MiniBackend`], for examples.
///
/// # Errors
///
/// As [`Reactor::start`](crate::Reactor::start).
pub fn timed_reactor() -> Result<crate::Reactor, Error> {
    crate::Reactor::start(MiniBackend)
}
