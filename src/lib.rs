//! Call async code from blocking threads: crochet runs an async runtime in
//! the background and gives blocking code a safe, typed handle to each
//! result.
//!
//! For the thread-per-request web server, the CLI, the GUI or worker
//! thread, the FFI callback, the test harness: `setup()` once, then hand
//! the reactor async work and wait for the answer, with a timeout, from any
//! thread. It is the Rust heir of Python's crochet (which does this for
//! Twisted).
//!
//! ```
//! use std::time::Duration;
//!
//! crochet::setup()?; // idempotent: any library may call it
//!
//! // Runs in the reactor; the caller gets a handle at once.
//! let result = crochet::run_in_reactor(|| async { "done" });
//! assert_eq!(result.wait_timeout(Duration::from_secs(5))?, "done");
//!
//! // Or run and wait in one call; on timeout the operation is cancelled.
//! let answer = crochet::wait_for(Duration::from_secs(5), || async { 6 * 7 })?;
//! assert_eq!(answer, 42);
//! # Ok::<(), crochet::Error>(())
//! ```
//!
//! # Choosing an approach
//!
//! crochet is one of four ways to call async code from blocking code. The
//! README's [choosing an
//! approach](https://github.com/crochet-rs/crochet#choosing-an-approach)
//! compares it with a crate's own `blocking` module (`reqwest::blocking`),
//! `Handle::block_on` on a shared runtime and a runtime per thread, with
//! figures measured on real requests, and says where each wins. A library
//! that offers a blocking API of its own can follow [its blocking
//! client](https://github.com/crochet-rs/crochet#a-blocking-client-for-your-library),
//! built on a [`Reactor`] of the library's own ([`default_backend`]); [the
//! classic bridge
//! failures](https://github.com/crochet-rs/crochet#the-classic-bridge-failures-side-by-side)
//! shows what goes wrong with the hand-written ones, and what crochet does
//! instead.
//!
//! # The pieces
//!
//! - [`setup`] starts the managed reactor; [`no_setup`] and an attach
//!   (`crochet::tokio::attach`, ...) let an application that runs its own runtime keep
//!   it. [`Reactor`] is the same thing as a value, for code that must not
//!   touch globals.
//! - [`run_in_reactor`](fn@run_in_reactor) returns an [`EventualResult`]:
//!   [`wait`], with a timeout that leaves it waitable, [`cancel`],
//!   [`stash`] it for a web session and [`retrieve_result`] it later, or
//!   `.await` it from async code. [`wait_for`](fn@wait_for) runs and waits
//!   in one call.
//! - `#[crochet::run_in_reactor]` and `#[crochet::wait_for(timeout = "5s")]`
//!   (feature `macros`, on by default) turn an `async fn` into a blocking
//!   fn that runs its body in the reactor, as Python crochet's decorators
//!   do.
//! - [`WaitError`] says what happened to a wait: a timeout, a
//!   cancellation, a panic (with its message), the operation's own error
//!   (typed: [`run_in_reactor_fallible`] and [`wait_for_fallible`] hand
//!   back the `E` of a future's `Result<T, E>`), a stopped reactor, or a
//!   wait on a reactor thread that would have deadlocked. Each other
//!   question has its error too ([`SetupError`], [`ShutdownError`],
//!   [`RetrieveError`]), and [`Error`] takes any of them for `?`.
//! - Failures nobody waited for are logged through `tracing` (target
//!   `crochet`), or passed to a hook ([`set_failure_hook`]).
//! - [`shutdown`] (or a [`shutdown_guard`] held by `main`) stops it all and
//!   wakes every waiter.
//!
//! Beyond Python crochet:
//!
//! - [`every`] runs a periodic task in the reactor (Twisted's
//!   `LoopingCall`), on whichever backend runs.
//! - [`stream_in_reactor`] runs an async stream in the reactor and hands
//!   blocking code an [`EventualStream`]: an iterator with bounded
//!   buffering, timeouts that lose no item, and cancellation.
//! - [`wait_any`] and [`wait_all`] wait on many results at once, without a
//!   thread per result; a [`WaitSet`] drains many as they finish.
//! - [`Reactor::stats`] is a cheap snapshot for a health page, and
//!   [`Reactor::set_slow_threshold`] logs slow operations.
//! - [`default_backend`] gives a library a [`Reactor`] of its own on the
//!   application's runtime choice, with its own failure hook and shutdown.
//!
//! # Backends
//!
//! Cargo features pick the runtime; they are additive, and any set of them
//! builds.
//!
//! | feature | backend | managed reactor ([`setup`]) | attach |
//! |---|---|---|---|
//! | `tokio` (default) | `crochet::tokio` | `current_thread` runtime on a `crochet-tokio` thread (`multi_thread` on request) | a `tokio::runtime::Handle` |
//! | `smol` | `crochet::smol` | an `async_executor::Executor` on `crochet-smol` thread(s) | an `Arc<Executor<'static>>` the application runs |
//! | `async-std` | `crochet::async_std` | async-std's global executor, plus a `crochet-async-std` thread for `!Send` work | async-std's global executor |
//!
//! The `macros` feature, on by default, adds the two attributes; it needs
//! no backend of its own, and without it crochet builds no proc-macro
//! crate (no `syn`).
//!
//! The `tokio-compat` feature (off by default) runs every operation on the
//! smol and async-std backends inside a tokio context (async-compat's), so futures of
//! tokio-based crates (reqwest, tonic, sqlx, ...) work there unchanged;
//! without it, such a future fails with [`WaitError::Panicked`], whose message
//! says to use the tokio backend or this feature. The README's [which
//! backend for which
//! crates](https://github.com/crochet-rs/crochet#which-backend-for-which-crates)
//! says more.
//!
//! async-std is deprecated upstream in favour of smol; its backend is still
//! supported, and off by default.
//!
//! [`setup`] uses one of the enabled backends, in this order of preference:
//! tokio, smol, async-std ([`DEFAULT_BACKEND`] names it). To choose
//! explicitly, whatever the features, call [`setup_with`] with a backend's
//! builder, for instance `setup_with(crochet::smol::Smol::builder())`.
//!
//! [`wait`]: EventualResult::wait
//! [`cancel`]: EventualResult::cancel
//! [`stash`]: EventualResult::stash

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub use crochet_core::{
    DEFAULT_STREAM_BUFFER, Error, EventualResult, EventualStream, Failure, MIN_PERIOD, NotStashed,
    Panic, ParseStashIdError, Periodic, Reactor, RetrieveError, SetupError, SharedResult,
    ShutdownError, ShutdownGuard, StashId, StashPolicy, Stats, TickOutcome, TryNextError,
    UnobservedFailure, Unsupported, WaitError, WaitHandle, WaitSet, attach, backend, every, global,
    no_setup, reset_failure_hook, retrieve_result, run_in_reactor, run_in_reactor_fallible,
    run_in_reactor_local, set_failure_hook, set_stash_policy, setup_with, shutdown, shutdown_guard,
    spawn, spawn_fallible, stash_len, stream_in_reactor, wait_all, wait_any, wait_for,
    wait_for_fallible,
};

// Macros live in a namespace of their own, so these sit beside the functions
// of the same names (as `std::panic` is a module and a macro):
// `crochet::wait_for(…)` calls the fn, `#[crochet::wait_for(…)]` expands the
// attribute.
#[cfg(feature = "macros")]
pub use crochet_macros::{run_in_reactor, wait_for};

/// What the attribute macros' expansions name; not part of the API.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod __private {
    /// The two sides of a `Result`, so that the attributes can name them
    /// for a return type such as `io::Result<T>`, whose error type is not
    /// written out.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not `std::result::Result`, but its name ends in `Result`",
        label = "the attribute reads this as a fallible output",
        note = "add `plain` to the attribute to keep it as the value: `#[crochet::run_in_reactor(plain)]`, `#[crochet::wait_for(timeout = \"5s\", plain)]`"
    )]
    pub trait Fallible {
        /// The value's type, `T` of `Result<T, E>`.
        type Ok;
        /// The error's type, `E` of `Result<T, E>`.
        type Err;
    }

    impl<T, E> Fallible for Result<T, E> {
        type Ok = T;
        type Err = E;
    }
}

/// The tokio backend: [`tokio::Tokio`] and [`tokio::attach`].
#[cfg(feature = "tokio")]
pub use crochet_tokio as tokio;

/// The smol backend: [`smol::Smol`] and [`smol::run`].
#[cfg(feature = "smol")]
pub use crochet_smol as smol;

/// The async-std backend (deprecated upstream, like async-std itself):
/// [`async_std::AsyncStd`].
#[cfg(feature = "async-std")]
pub use crochet_async_std as async_std;

/// The backend that [`setup`] starts, among those enabled.
#[cfg(feature = "tokio")]
pub const DEFAULT_BACKEND: &str = "tokio";
/// The backend that [`setup`] starts, among those enabled.
#[cfg(all(not(feature = "tokio"), feature = "smol"))]
pub const DEFAULT_BACKEND: &str = "smol";
/// The backend that [`setup`] starts, among those enabled.
#[cfg(all(not(feature = "tokio"), not(feature = "smol"), feature = "async-std"))]
pub const DEFAULT_BACKEND: &str = "async-std";

/// Makes sure the global reactor runs: starts it on the default backend
/// ([`DEFAULT_BACKEND`]: tokio, else smol, else async-std, among the
/// enabled features) unless one runs already.
///
/// Idempotent and thread-safe: any number of libraries and threads may
/// call it; only the first starts anything, and a reactor that runs on
/// another backend (an application called [`setup_with`] first, or
/// attached its runtime) is kept as it is: [`Reactor::backend_name`] on
/// [`global()`] tells which backend runs. After [`no_setup`] it does
/// nothing. To choose the backend or its shape, call [`setup_with`] with a
/// builder instead, e.g.
/// `setup_with(crochet::tokio::Tokio::builder().multi_thread(4))`, which
/// refuses to run on another backend than the one it names.
///
/// A library whose work needs a particular backend must not rely on the
/// global reactor's: it takes a [`Reactor`] of its own (see
/// [`default_backend`]).
///
/// # Errors
///
/// [`SetupError::StartFailed`] when the runtime or its thread cannot be
/// created; [`SetupError::ReactorStopped`] after [`shutdown`].
#[cfg(any(feature = "tokio", feature = "smol", feature = "async-std"))]
pub fn setup() -> Result<(), SetupError> {
    match setup_with(default_backend()) {
        // Any backend will do: the one that runs is kept.
        Err(SetupError::BackendMismatch { .. }) => Ok(()),
        outcome => outcome,
    }
}

/// The builder of the default backend ([`DEFAULT_BACKEND`]), with its
/// default settings: for a [`Reactor`] of one's own on the application's
/// chosen runtime, such as a library that keeps its work apart from the
/// global reactor.
///
/// # Examples
///
/// ```
/// use std::sync::LazyLock;
/// use std::time::Duration;
///
/// // A library's own reactor: shutting it down, or its failure hook,
/// // touches nothing of the application's.
/// static MY_LIBRARY: LazyLock<crochet::Reactor> = LazyLock::new(|| {
///     crochet::Reactor::start(crochet::default_backend()).expect("start the library's reactor")
/// });
///
/// let answer = MY_LIBRARY.wait_for(Duration::from_secs(5), || async { 42 })?;
/// assert_eq!(answer, 42);
/// assert!(!crochet::global().is_running());
/// # Ok::<(), crochet::Error>(())
/// ```
#[cfg(any(feature = "tokio", feature = "smol", feature = "async-std"))]
pub fn default_backend() -> impl backend::Backend {
    #[cfg(feature = "tokio")]
    return crochet_tokio::Tokio::builder();
    #[cfg(all(not(feature = "tokio"), feature = "smol"))]
    return crochet_smol::Smol::builder();
    #[cfg(all(not(feature = "tokio"), not(feature = "smol"), feature = "async-std"))]
    return crochet_async_std::AsyncStd::builder();
}

// The README's code is compiled and run as a doctest, so it stays true. Its
// decorators section uses the attributes, hence the `macros` feature.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "macros"))]
pub struct ReadmeDoctests;
