//! The runtime-independent core of crochet: the [`Reactor`], the
//! [`EventualResult`] that blocking code waits on, the stash, and the
//! [`Spawner`](backend::Spawner) trait that backends implement.
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
//! // A backend crate provides the runtime: crochet-tokio here.
//! let reactor = Reactor::start(crochet_tokio::Tokio::builder())?;
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
//! the backend's [`Spawner`](backend::Spawner). The caller gets an [`EventualResult`] at once
//! and may wait on it with a timeout, cancel it, stash it, or `.await` it.
//! Waiting on a reactor thread, where it would deadlock, is refused with
//! [`WaitError::WaitInReactor`].
//!
//! # Logging
//!
//! crochet logs through `tracing` under target `crochet` (visible to `log`
//! users through tracing's `log` compatibility). A failure that no caller
//! observed is reported once, at error level, unless a hook replaces the
//! report ([`set_failure_hook`]).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod backend;
mod compat;
mod completion;
mod context;
mod error;
mod eventual;
mod global;
mod local;
mod panic;
mod periodic;
mod reactor;
mod registry;
mod report;
mod runtime;
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

pub use error::{
    Error, Failure, ParseStashIdError, RetrieveError, SetupError, ShutdownError, TryNextError,
    Unsupported, WaitError,
};
pub use eventual::EventualResult;
pub use global::{
    attach, every, global, no_setup, run_in_reactor, run_in_reactor_fallible, run_in_reactor_local,
    setup_with, shutdown, shutdown_guard, spawn, spawn_fallible, stream_in_reactor, wait_for,
    wait_for_fallible,
};
pub use panic::Panic;
pub use periodic::{MIN_PERIOD, Periodic, TickOutcome};
pub use reactor::{Reactor, ShutdownGuard};
pub use report::{UnobservedFailure, reset_failure_hook, set_failure_hook};
pub use select::{wait_all, wait_any};
pub use shared::SharedResult;
pub use stash::{NotStashed, StashId, StashPolicy, retrieve_result, set_stash_policy, stash_len};
pub use stats::Stats;
pub use stream::{DEFAULT_STREAM_BUFFER, EventualStream};
pub use wait_set::{WaitHandle, WaitSet};
