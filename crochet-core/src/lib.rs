//! The runtime-independent core of crochet: the [`Reactor`], the
//! [`EventualResult`] that blocking code waits on, the stash, and the
//! [`Spawner`] trait that backends implement.
//!
//! Applications use the `crochet` crate, which re-exports all of this and
//! picks a backend (`crochet-tokio`, ...) with cargo features. Depend on
//! `crochet-core` directly to write a backend, or a library that takes
//! whatever reactor its application gives it.
//!
//! ```
//! use std::time::Duration;
//! use crochet_core::Reactor;
//!
//! // A backend crate provides the runtime; this one is a documentation stand-in.
//! let reactor = Reactor::start(crochet_core::doc_support::MiniBackend)?;
//!
//! let result = reactor.run_in_reactor(|| async { 6 * 7 });
//! assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 42);
//!
//! reactor.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), crochet_core::Error>(())
//! ```
//!
//! # How work flows
//!
//! [`Reactor::run_in_reactor`] wraps the closure in a future that catches
//! panics, watches for cancellation and completes the result on every path
//! (including being dropped by a runtime that shuts down), then hands it to
//! the backend's [`Spawner`]. The caller gets an [`EventualResult`] at once
//! and may wait on it with a timeout, cancel it, stash it, or `.await` it.
//! Waiting on a reactor thread, where it would deadlock, is refused with
//! [`Error::WaitInReactor`].
//!
//! # Logging
//!
//! crochet logs through `tracing` under target `crochet` (visible to `log`
//! users through tracing's `log` compatibility). A failure that no caller
//! observed is reported once, at error level, unless a hook replaces the
//! report ([`set_failure_hook`]).

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod backend;
pub mod compat;
mod completion;
pub mod context;
#[doc(hidden)]
pub mod doc_support;
mod error;
mod eventual;
mod global;
mod local;
mod panic;
mod periodic;
mod reactor;
mod registry;
mod report;
mod select;
mod shared;
mod spawner;
mod stash;
mod stats;
mod stream;
mod submit;
mod sync;
mod task;
mod threads;
mod wait_set;
mod waiters;

#[cfg(all(test, loom))]
mod loom_model;

pub use backend::{Backend, Driver, Started};
pub use error::{Error, ErrorKind, Failure, Result};
pub use eventual::EventualResult;
pub use global::{
    attach, every, global, no_setup, run_in_reactor, run_in_reactor_local, setup_with, shutdown,
    shutdown_guard, spawn, stream_in_reactor, try_run_in_reactor, try_spawn, try_wait_for,
    wait_for,
};
pub use local::{LocalHandle, LocalThread};
pub use panic::Panic;
pub use periodic::{MIN_PERIOD, Periodic, TickOutcome};
pub use reactor::{Reactor, ShutdownGuard};
pub use report::{UnobservedFailure, reset_failure_hook, set_failure_hook};
pub use select::{wait_all, wait_any};
pub use shared::SharedResult;
pub use spawner::{BoxFuture, LocalBoxFuture, LocalTask, Spawner, Unsupported};
pub use stash::{StashFull, StashId, StashPolicy, retrieve_result, set_stash_policy, stash_len};
pub use stats::Stats;
pub use stream::{DEFAULT_STREAM_BUFFER, EventualStream, TryNextError};
pub use threads::ReactorThreads;
pub use wait_set::{WaitHandle, WaitSet};
