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
//! # Layers
//!
//! The modules, from the bottom up; each imports only from the layers
//! below it (CI checks every `use crate::…` against this list):
//!
//! 1. `sync`, `panic`, `stash_id`, `error`: primitives, panics, the ids
//!    and the errors;
//! 2. `fork`, `hook`, `store`, `config`: after a fork, the failure hook,
//!    the stash's store, a reactor's settings;
//! 3. `outcome`, `waiters`, `registry`: what a result holds, who waits
//!    for it, and every operation of a reactor not over yet;
//! 4. `completion`: the cell behind every result, whose module doc states
//!    the one protocol every party goes through;
//! 5. `compat`, `runtime`, `spawner`, `context`, `threads`, `local`,
//!    `mailbox`, `backend`: the runtimes, the backend trait, reactor
//!    threads;
//! 6. `task`: the wrapper around every operation's future;
//! 7. `wait`, `shared`, `eventual`, `wait_set`, `select`, `stream`,
//!    `periodic`, `stash`: the handles, and every kind of wait;
//! 8. `reactor`, `inline`, `submit`, `wait_for`, `stats`, `global`: the
//!    reactor, how it runs work (on its threads, or inline on the
//!    caller's), and the process-wide one.
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

// In layer order, bottom up (see "Layers" above).
pub mod backend;
mod compat;
mod completion;
mod config;
mod context;
mod error;
mod eventual;
mod fork;
mod global;
mod hook;
mod inline;
mod local;
mod mailbox;
mod outcome;
mod panic;
mod periodic;
mod reactor;
mod registry;
mod runtime;
mod select;
mod shared;
mod spawner;
mod stash;
mod stash_id;
mod stats;
mod store;
mod stream;
mod submit;
mod sync;
mod task;
mod threads;
mod wait;
mod wait_for;
mod wait_set;
mod waiters;

#[cfg(all(test, loom))]
mod loom_model;

pub use error::{
    Error, Failure, OperationState, ParseStashIdError, RetrieveError, SetupError, ShutdownError,
    TryNextError, Unsupported, WaitError,
};
pub use eventual::EventualResult;
pub use global::{
    attach, backend_name, every, global, is_running, no_setup, pending_operations, retrieve_result,
    run_in_reactor, run_in_reactor_fallible, run_in_reactor_local, set_slow_threshold,
    set_stash_policy, setup_with, shutdown, shutdown_guard, spawn, spawn_fallible, stash_len,
    stats, stream_in_reactor, stream_in_reactor_buffered, wait_for, wait_for_fallible,
    wait_for_fallible_ref, wait_for_ref,
};
pub use hook::{UnobservedFailure, reset_failure_hook, set_failure_hook};
pub use panic::Panic;
pub use periodic::{MIN_PERIOD, Periodic, TickOutcome};
pub use reactor::{Reactor, ShutdownGuard};
pub use select::{wait_all, wait_any};
pub use shared::SharedResult;
pub use stash::NotStashed;
pub use stash_id::StashId;
pub use stats::Stats;
pub use store::StashPolicy;
pub use stream::{DEFAULT_STREAM_BUFFER, EventualStream};
pub use wait_set::{WaitHandle, WaitSet};
