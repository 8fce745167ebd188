//! The async-std backend of crochet.
//!
//! **async-std is deprecated upstream in favour of smol.** This backend is
//! still supported for applications that already run on async-std; new
//! code should use `crochet-smol` (the `smol` feature of `crochet`).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use crochet_core::Reactor;
//! use crochet_async_std::AsyncStd;
//!
//! let reactor = Reactor::start(AsyncStd::builder())?;
//! let result = reactor.run_in_reactor(|| async {
//!     async_std::task::sleep(Duration::from_millis(5)).await;
//!     "slept on async-std"
//! });
//! assert_eq!(result.wait_timeout(Duration::from_secs(5))?, "slept on async-std");
//! reactor.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), crochet_core::Error>(())
//! ```
//!
//! Work runs on async-std's global executor, whose threads (named
//! `async-std/runtime`) belong to async-std and live as long as the
//! process; a blocking wait inside one of its tasks is refused with
//! [`WaitError::WaitInReactor`](crochet_core::WaitError::WaitInReactor). At shutdown crochet completes every pending
//! result at once, and async-std drops the futures as it wakes them.
//!
//! `!Send` work runs on a thread that crochet owns, `crochet-async-std`,
//! started by the managed reactor ([`AsyncStd::builder`]) and stopped at
//! shutdown. [`AsyncStd::global_executor`] uses the global executor alone, as an
//! application that runs async-std already does, without that thread.
//!
//! # Tokio-based crates
//!
//! Futures from crates built on tokio (reqwest, tonic, sqlx, ...) need a
//! tokio runtime's context to find their IO driver and timers. With the
//! `tokio-compat` cargo feature (off by default), every `Send` operation
//! crochet spawns here is polled and dropped inside a tokio context, as
//! inside `async_compat::Compat`: each poll enters it (async-std's threads
//! are not crochet's to hold it on), so such futures work unchanged. The
//! context is
//! the caller's tokio runtime if the thread is already in one, else a
//! current-thread runtime that async-compat keeps, one per process, on its
//! own thread (`async-compat/tokio-1`), started when the first reactor
//! starts (or attaches). That thread drives tokio's IO and timers, and
//! runs what the work `tokio::spawn`s; the work itself stays on
//! async-std's threads. That runtime lives as long as the process:
//! crochet's shutdown does not stop it.
//!
//! `!Send` work (`run_in_reactor_local`) runs on crochet's own thread, whose
//! small executor lives in `crochet-core`, and is not wrapped: wrap such a
//! future yourself, `async_compat::Compat::new(future)`.
//!
//! Without the feature, a tokio-based future panics ("there is no reactor
//! running, must be called from the context of a Tokio 1.x runtime"), which
//! crochet reports as [`WaitError::Panicked`](crochet_core::WaitError::Panicked), and this backend builds no tokio.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use crochet_core::backend::compat::{in_tokio_context, start_tokio_context};
use crochet_core::backend::{
    Backend, BlockingHint, BoxFuture, Driver, LocalHandle, LocalTask, LocalThread, Runtime,
    Spawner, Started,
};
use crochet_core::{SetupError, ShutdownError};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// async-std's global executor, as crochet runs work on it.
pub struct AsyncStd {
    /// The crochet-owned thread for `!Send` work, when managed.
    local: Option<LocalHandle>,
}

impl AsyncStd {
    /// A builder for the managed reactor: async-std's global executor plus
    /// a `crochet-async-std` thread for `!Send` work.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// async-std's global executor, to attach with
    /// [`Reactor::attach`](crochet_core::Reactor::attach), without a thread
    /// of crochet's own (so without `!Send` work).
    pub fn global_executor() -> Arc<AsyncStd> {
        start_tokio_context();
        Arc::new(AsyncStd { local: None })
    }
}

/// Attaches async-std's global executor to the global reactor: the short
/// form of `crochet_core::attach(AsyncStd::global_executor())`.
///
/// # Errors
///
/// As [`Reactor::attach`](crochet_core::Reactor::attach).
pub fn attach() -> Result<(), SetupError> {
    crochet_core::attach(AsyncStd::global_executor())
}

impl Spawner for AsyncStd {
    fn spawn(&self, task: BoxFuture) {
        // Dropping an async-std join handle detaches the task.
        drop(async_std::task::spawn(in_tokio_context(task)));
    }

    fn spawn_local(&self, task: LocalTask) -> Result<(), LocalTask> {
        match &self.local {
            Some(local) => {
                local.spawn_local(task);
                Ok(())
            }
            None => Err(task),
        }
    }

    fn blocking_hint(&self) -> Option<fn() -> BlockingHint> {
        // Inside an async-std task (its executor threads, or `block_on`);
        // `spawn_blocking` closures are not tasks, and may block.
        Some(|| match async_std::task::try_current() {
            Some(_) => BlockingHint::Refuse,
            None => BlockingHint::Allow,
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Option<BoxFuture> {
        let duration = deadline.saturating_duration_since(Instant::now());
        Some(Box::pin(async_std::task::sleep(duration)))
    }

    fn runtime(&self) -> Option<Runtime> {
        Some(Runtime::AsyncStd)
    }

    fn enter(&self, body: &mut dyn FnMut()) -> bool {
        // async-std's IO and timers are async-io's, process-wide: a future
        // polled on the caller's thread needs no context of its own.
        body();
        true
    }

    fn name(&self) -> &'static str {
        "async-std"
    }
}

impl fmt::Debug for AsyncStd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStd")
            .field("managed", &self.local.is_some())
            .finish()
    }
}

/// Configures the managed async-std reactor; pass it to
/// [`Reactor::setup`](crochet_core::Reactor::setup) or
/// [`setup_with`](crochet_core::setup_with).
#[derive(Clone, Debug)]
pub struct Builder {
    thread_name: String,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            thread_name: "crochet-async-std".to_owned(),
        }
    }
}

impl Builder {
    /// The name of the thread for `!Send` work. Defaults to
    /// `crochet-async-std`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }
}

impl Backend for Builder {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn start(self) -> Result<Started, SetupError> {
        start_tokio_context();
        let local = LocalThread::start(self.thread_name)?;
        let spawner = Arc::new(AsyncStd {
            local: Some(local.handle()),
        });
        Ok(Started::new(spawner, Box::new(AsyncStdDriver(local))))
    }
}

/// Stops the managed reactor's own thread; async-std's executor outlives it.
#[derive(Debug)]
struct AsyncStdDriver(LocalThread);

impl Driver for AsyncStdDriver {
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), ShutdownError> {
        self.0.shutdown(timeout)
    }
}
