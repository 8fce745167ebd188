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
//! fn main() -> Result<(), crochet::Error> {
//!     crochet::setup()?; // idempotent: any library may call it
//!
//!     // Runs in the reactor, where the runtime's timers and IO work; the
//!     // caller gets a handle at once.
//!     let result = crochet::run_in_reactor(|| async { "done" });
//!     assert_eq!(result.wait_timeout(Duration::from_secs(5))?, "done");
//!
//!     // Or run and wait in one call; on timeout the operation is cancelled.
//!     let answer = crochet::wait_for(Duration::from_secs(5), || async { 6 * 7 })?;
//!     assert_eq!(answer, 42);
//!     Ok(())
//! }
//! ```
//!
//! # The pieces
//!
//! - [`setup`] starts the managed reactor; [`no_setup`] and an attach
//!   ([`backends::tokio::attach`], ...) let an application that runs its
//!   own runtime keep it. [`Reactor`] is the same thing as a value, for
//!   code that must not touch globals; every function here is a
//!   [`Reactor`] method on the global one ([`global`]).
//! - [`run_in_reactor`](fn@run_in_reactor) returns an [`EventualResult`]:
//!   [`wait`], with a timeout that leaves it waitable, [`cancel`],
//!   [`stash`] it for a web session and [`retrieve_result`] it later, or
//!   `.await` it from async code; its work runs in the background on the
//!   reactor's threads, started before anyone waits.
//!   [`wait_for`](fn@wait_for) runs and waits in one call, with a timeout
//!   that cancels: since the caller blocks anyway, the future runs on the
//!   caller's thread inside the reactor's runtime context, as
//!   `Handle::block_on` runs one (no hop to the reactor and back; a future
//!   that blocks its thread blocks this caller, not the reactor), and
//!   [`wait_for_ref`] lets it borrow from the caller
//!   (`wait_for_ref(timeout, || client.get(&url))`). The `_fallible` forms
//!   ([`run_in_reactor_fallible`], [`wait_for_fallible`],
//!   [`wait_for_fallible_ref`]) hand back the `E` of a future's
//!   `Result<T, E>`, owned and typed.
//! - `#[crochet::run_in_reactor]` and `#[crochet::wait_for(timeout = "5s")]`
//!   (feature `macros`) turn an `async fn` into a blocking fn, as Python
//!   crochet's decorators do; `#[wait_for]` takes `&self` and `&str`
//!   arguments. `#[crochet::blocking]` on an `impl` of async methods makes
//!   a blocking twin of the type: a library writes its API once, async,
//!   and ships the blocking one beside it.
//! - [`WaitError`] says what happened to a wait: a timeout (and what became
//!   of the operation: [`OperationState`]), a cancellation, a panic (with
//!   its message), the operation's own error, a stopped reactor, or a wait
//!   on a reactor thread that would have deadlocked. Each other question
//!   has its error too ([`SetupError`], [`ShutdownError`],
//!   [`RetrieveError`], [`NotStashed`], [`TryNextError`]).
//! - [`shutdown`] (or a [`shutdown_guard`] held by `main`) stops it all:
//!   every waiter wakes, and `Ok` means every future it was given has been
//!   dropped.
//!
//! Beyond Python crochet: [`every`] runs a periodic task (Twisted's
//! `LoopingCall`); [`stream_in_reactor`] hands blocking code an
//! [`EventualStream`], an iterator with bounded buffering and timeouts
//! that lose no item; [`wait_any`], [`wait_all`] and [`WaitSet`] wait on
//! many results at once; [`stats`] is a snapshot for a health page;
//! [`default_backend`] gives a library a [`Reactor`] of its own.
//!
//! # Errors and `?`
//!
//! `?` takes any wait's error into `anyhow::Error`, a
//! `Box<dyn Error + Send + Sync>`, or [`Error`], crochet's own, whatever
//! the operation's error type (`io::Error`, your own enum,
//! `anyhow::Error`, a boxed error). [`Error`] keeps every cause of the
//! operation's error (a refused connection under a failed request); the
//! others show its message, and the causes of a boxed one. A plain wait's
//! [`WaitError`] goes into a fallible one's with [`WaitError::widen`].
//!
//! # Failures nobody waited for
//!
//! A failure that no wait observed (a result dropped unread, a panicking
//! fire-and-forget [`spawn`], a failed periodic tick) is reported once:
//! through `tracing` (target `crochet`, at error level) when a subscriber
//! (or a `log` logger) listens, and otherwise as one line on stderr, so
//! that none is lost silently. [`set_failure_hook`] (or
//! [`Reactor::set_failure_hook`] for one reactor) replaces both.
//!
//! # Backends
//!
//! Cargo features pick the runtime; they are additive, and any set of them
//! builds, compiling no other runtime.
//!
//! | feature | managed reactor ([`setup`]) | attach an application's runtime |
//! |---|---|---|
//! | `tokio` (default) | a `current_thread` runtime on one `crochet-tokio` thread; `!Send` work on a `LocalSet` there | [`backends::tokio::attach`]`(handle)` |
//! | `tokio-multi-thread` | also `Tokio::builder().multi_thread(n)`; and a blocking wait on any `multi_thread` runtime's worker is handed off with `block_in_place` (without it: refused) | |
//! | `smol` | an `async_executor::Executor` on `crochet-smol` thread(s) (`Smol::builder().threads(n)`), dropped at shutdown | [`backends::smol::attach`]`(executor)`, driven with [`backends::smol::run`] |
//! | `async-std` | async-std's global executor, plus a `crochet-async-std` thread for `!Send` work | [`backends::async_std::attach`]`()` |
//!
//! `macros` adds the three attributes (it builds `syn`: off by default, as
//! tokio's are). `tokio-compat` runs every operation on the smol and
//! async-std backends inside a tokio context, as async-compat's `Compat`
//! does (see below). async-std is deprecated upstream in favour of smol;
//! its backend is still supported, and off by default.
//!
//! [`setup`] uses one of the enabled backends, tokio, then smol, then
//! async-std ([`DEFAULT_BACKEND`] names it); [`setup_with`] names one,
//! `setup_with(crochet::backends::smol::Smol::builder())`, and refuses to
//! run on another.
//!
//! ## Which backend for which crates
//!
//! A future runs on any runtime unless it touches the runtime's IO driver
//! or timers: those of tokio-based crates (reqwest, hyper, tonic, sqlx,
//! redis, aws-sdk, most of the ecosystem) panic without a tokio context
//! ("there is no reactor running, must be called from the context of a
//! Tokio 1.x runtime"), which crochet reports as [`WaitError::Panicked`],
//! with what to do.
//!
//! | the async code you call | backend |
//! |---|---|
//! | tokio-based crates, or a mix | `tokio`: they run natively |
//! | smol-rs crates (async-io, async-net, async-process, ...) | `smol`: tokio is never built |
//! | mostly smol-rs crates, plus a tokio-based one | `smol` with `tokio-compat` |
//! | an application already on async-std | `async-std`, with `tokio-compat` for tokio-based crates |
//! | runtime-agnostic futures only (channels, `futures` combinators) | any |
//!
//! With `tokio-compat`, each poll (and the drop) of an operation runs in a
//! tokio context: the runtime the thread is in already, or else one
//! current-thread runtime that async-compat keeps for the process on a
//! thread of its own (`async-compat/tokio-1`, built when the first smol or
//! async-std reactor starts). That thread runs tokio's IO driver and
//! timers for every such operation, and what they `tokio::spawn`; do not
//! block in a task spawned there. It lives until the process exits.
//!
//! ## Blocking waits inside a runtime
//!
//! A blocking wait (`wait*`, `wait_for`, `wait_any`, `wait_all`, a stream
//! read) on a thread that runs async tasks completes, or is refused with
//! [`WaitError::WaitInReactor`] at once; it never stalls until its
//! timeout.
//!
//! | where the wait is called | what happens |
//! |---|---|
//! | inside a crochet operation (its closure or future), on any backend | refused: use `.await` |
//! | a managed reactor's own thread (`crochet-tokio`, `crochet-smol…`, `crochet-async-std`) | refused |
//! | a task of a tokio `multi_thread` runtime, on its worker | with `tokio-multi-thread`, it completes: the worker is handed off with `block_in_place`; without, refused |
//! | a tokio `current_thread` runtime's driver (its `block_on`, or any of its tasks) | refused: it has no other thread to run the work on |
//! | a smol executor's thread driven with [`backends::smol::run`], an async-std task | refused |
//! | a thread that only holds a tokio `Runtime::enter()` guard (GUI and CLI mains), a `spawn_blocking` thread, a `multi_thread` runtime's `block_on` | it waits, as on any thread |
//!
//! tokio tells crochet which thread drives a runtime
//! (`tokio::runtime::worker_index`); crochet does not guess it from "this
//! thread has a runtime context". One case cannot be seen: an
//! application's own smol executor driven with plain `executor.run(…)`
//! instead of [`backends::smol::run`].
//!
//! ## After fork
//!
//! A child process forked after [`setup`] cannot use the reactor: its
//! threads stayed in the parent. A wait in the child returns
//! [`WaitError::Forked`] before it parks (or within 100 ms: a thread asks,
//! a `getpid`, at most that often); work that a runtime would start there
//! is refused; [`shutdown`] returns at once; and crochet's own locks are
//! taken there only when free, so that `cancel`, dropping a handle, a
//! stream read, the stash and the stats never block on one a parent
//! thread held at the fork. The runtime's own locks are the runtime's:
//! after a fork, `exec`, or use no crochet in the child.
//!
//! # Compared with the hand-written bridges
//!
//! Each row is a test in the repository's `tests/bridge_failures.rs`: the
//! hand-written bridge over tokio is run into the failure, then crochet in
//! the same situation.
//!
//! | the situation | hand-written bridge | crochet |
//! |---|---|---|
//! | a blocking wrapper (a runtime per call) called from async code | panics: "Cannot start a runtime from within a runtime" | [`WaitError::WaitInReactor`] at once, saying to use `.await` |
//! | a tokio-based future driven by another executor (`futures::executor::block_on`) | panics: "there is no reactor running" | runs: natively on tokio, with `tokio-compat` on the others |
//! | a wrapper owning a runtime, dropped in async code | panics: "Cannot drop a runtime in a context where blocking is not allowed" | a [`Reactor`] dropped there is fine (its runtime is dropped on its own thread) |
//! | `blocking_recv` (any blocking wait) in async code | panics: "Cannot block the current thread from within a runtime" | refused; `.await` on the same handle works |
//! | a task panics after its `JoinHandle` was dropped | lost | reported once (see above) |
//! | a blocking wait inside a current-thread runtime's task, for work spawned on that runtime | deadlock | refused at once |
//!
//! [`wait`]: EventualResult::wait
//! [`cancel`]: EventualResult::cancel
//! [`stash`]: EventualResult::stash

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub use crochet_core::{
    DEFAULT_STREAM_BUFFER, Error, EventualResult, EventualStream, Failure, MIN_PERIOD, NotStashed,
    OperationState, Panic, ParseStashIdError, Periodic, Reactor, RetrieveError, SetupError,
    SharedResult, ShutdownError, ShutdownGuard, StashId, StashPolicy, Stats, TickOutcome,
    TryNextError, UnobservedFailure, Unsupported, WaitError, WaitHandle, WaitSet, attach, backend,
    backend_name, every, global, is_running, no_setup, pending_operations, reset_failure_hook,
    retrieve_result, run_in_reactor, run_in_reactor_fallible, run_in_reactor_local,
    set_failure_hook, set_slow_threshold, set_stash_policy, setup_with, shutdown, shutdown_guard,
    spawn, spawn_fallible, stash_len, stats, stream_in_reactor, stream_in_reactor_buffered,
    wait_all, wait_any, wait_for, wait_for_fallible, wait_for_fallible_ref, wait_for_ref,
};

// Macros live in a namespace of their own, so these sit beside the functions
// of the same names (as `std::panic` is a module and a macro):
// `crochet::wait_for(…)` calls the fn, `#[crochet::wait_for(…)]` expands the
// attribute.
#[cfg(feature = "macros")]
pub use crochet_macros::{blocking, run_in_reactor, wait_for};

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

    /// The closure of a `#[crochet::blocking]` method that the reactor's
    /// thread may run: it and its future must be `Send`. Where they are
    /// not, mark the method `#[blocking(inline)]`, which runs it on the
    /// calling thread only.
    pub fn to_reactor_thread<F, Fut>(closure: F) -> F
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: core::future::Future + Send + 'static, // not Send? mark the method #[blocking(inline)]
    {
        closure
    }
}

/// The backends, each behind the feature of its name: their builders (for
/// [`setup_with`] or [`Reactor::start`]) and `attach` functions.
///
/// A module of their own, so that `use crochet::*` brings no `tokio` (or
/// `smol`) into scope beside the runtime crates of those names.
pub mod backends {
    /// The tokio backend: [`tokio::Tokio`] and [`tokio::attach`].
    #[cfg(feature = "tokio")]
    pub use crochet_tokio as tokio;

    /// The smol backend: [`smol::Smol`], [`smol::attach`] and
    /// [`smol::run`].
    #[cfg(feature = "smol")]
    pub use crochet_smol as smol;

    /// The async-std backend (deprecated upstream, like async-std itself):
    /// [`async_std::AsyncStd`] and [`async_std::attach`].
    #[cfg(feature = "async-std")]
    pub use crochet_async_std as async_std;
}

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
/// `setup_with(crochet::backends::tokio::Tokio::builder().multi_thread(4))`, which
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
