//! The process-wide reactor and the functions that use it, for code that
//! wants Python crochet's shape: `setup()` once, then call from anywhere.
//! Every method of [`Reactor`] that acts on a running reactor has a
//! function of the same name here, on the global one (but
//! [`set_failure_hook`](crate::set_failure_hook), which is process-wide:
//! every reactor without a hook of its own uses it).

use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::backend::Backend;
use crate::error::{RetrieveError, SetupError, ShutdownError, WaitError};
use crate::eventual::EventualResult;
use crate::periodic::{Periodic, TickOutcome};
use crate::reactor::{Reactor, ShutdownGuard};
use crate::spawner::Spawner;
use crate::stash_id::StashId;
use crate::stats::Stats;
use crate::store::StashPolicy;
use crate::stream::EventualStream;

static GLOBAL: LazyLock<Reactor> = LazyLock::new(Reactor::new);

/// The process-wide reactor that the free functions use.
pub fn global() -> &'static Reactor {
    &GLOBAL
}

/// Starts the global reactor on `backend`; see [`Reactor::setup`].
///
/// Any number of libraries and threads may call it: only the first call
/// starts anything, and after [`no_setup`] it does nothing.
///
/// # Errors
///
/// As [`Reactor::setup`].
pub fn setup_with(backend: impl Backend) -> Result<(), SetupError> {
    GLOBAL.setup(backend)
}

/// Declares that the application will attach its own runtime to the
/// global reactor; see [`Reactor::no_setup`].
///
/// # Errors
///
/// As [`Reactor::no_setup`].
pub fn no_setup() -> Result<(), SetupError> {
    GLOBAL.no_setup()
}

/// Attaches an application's runtime to the global reactor; see
/// [`Reactor::attach`].
///
/// # Errors
///
/// As [`Reactor::attach`].
pub fn attach(spawner: Arc<dyn Spawner>) -> Result<(), SetupError> {
    GLOBAL.attach(spawner)
}

/// Runs `f` in the global reactor; see [`Reactor::run_in_reactor`].
#[track_caller]
pub fn run_in_reactor<F, Fut>(f: F) -> EventualResult<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    GLOBAL.run_in_reactor(f)
}

/// Runs a fallible operation in the global reactor; see
/// [`Reactor::run_in_reactor_fallible`].
#[track_caller]
pub fn run_in_reactor_fallible<F, Fut, T, E>(f: F) -> EventualResult<T, E>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
{
    GLOBAL.run_in_reactor_fallible(f)
}

/// Runs a `!Send` future on a thread of the global reactor; see
/// [`Reactor::run_in_reactor_local`].
#[track_caller]
pub fn run_in_reactor_local<F, Fut>(f: F) -> EventualResult<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    GLOBAL.run_in_reactor_local(f)
}

/// Fire-and-forget on the global reactor; see [`Reactor::spawn`].
#[track_caller]
pub fn spawn<F, Fut>(f: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    GLOBAL.spawn(f);
}

/// Fire-and-forget for fallible work on the global reactor; see
/// [`Reactor::spawn_fallible`].
#[track_caller]
pub fn spawn_fallible<F, Fut, E>(f: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
{
    GLOBAL.spawn_fallible(f);
}

/// Runs `f` in the global reactor and blocks for its result, cancelling it
/// on timeout; see [`Reactor::wait_for`].
///
/// # Errors
///
/// As [`Reactor::wait_for`].
///
/// # Blocking
///
/// Blocks the calling thread for up to `timeout`.
#[track_caller]
pub fn wait_for<F, Fut>(timeout: Duration, f: F) -> Result<Fut::Output, WaitError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    GLOBAL.wait_for(timeout, f)
}

/// [`wait_for`] for a fallible operation; see [`Reactor::wait_for_fallible`].
///
/// # Errors
///
/// As [`Reactor::wait_for_fallible`].
///
/// # Blocking
///
/// Blocks the calling thread for up to `timeout`.
#[track_caller]
pub fn wait_for_fallible<F, Fut, T, E>(timeout: Duration, f: F) -> Result<T, WaitError<E>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
{
    GLOBAL.wait_for_fallible(timeout, f)
}

/// [`wait_for`] for a future that borrows from the caller, or is not
/// `Send`; see [`Reactor::wait_for_ref`].
///
/// # Errors
///
/// As [`Reactor::wait_for_ref`].
///
/// # Blocking
///
/// Blocks the calling thread for up to `timeout`.
#[track_caller]
pub fn wait_for_ref<'a, F, Fut>(timeout: Duration, f: F) -> Result<Fut::Output, WaitError>
where
    F: FnOnce() -> Fut + 'a,
    Fut: Future + 'a,
    Fut::Output: Send + 'static,
{
    GLOBAL.wait_for_ref(timeout, f)
}

/// [`wait_for_ref`] for a fallible operation; see
/// [`Reactor::wait_for_fallible_ref`].
///
/// # Errors
///
/// As [`Reactor::wait_for_fallible_ref`].
///
/// # Blocking
///
/// Blocks the calling thread for up to `timeout`.
#[track_caller]
pub fn wait_for_fallible_ref<'a, F, Fut, T, E>(timeout: Duration, f: F) -> Result<T, WaitError<E>>
where
    F: FnOnce() -> Fut + 'a,
    Fut: Future<Output = Result<T, E>> + 'a,
    T: Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
{
    GLOBAL.wait_for_fallible_ref(timeout, f)
}

/// Runs `tick` in the global reactor now and then every `period`; see
/// [`Reactor::every`].
#[track_caller]
pub fn every<F, Fut>(period: Duration, tick: F) -> Periodic
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: TickOutcome,
{
    GLOBAL.every(period, tick)
}

/// Runs the stream that `f` builds in the global reactor; see
/// [`Reactor::stream_in_reactor`].
#[track_caller]
pub fn stream_in_reactor<F, S>(f: F) -> EventualStream<S::Item>
where
    F: FnOnce() -> S + Send + 'static,
    S: futures_core::Stream + Send + 'static,
    S::Item: Send + 'static,
{
    GLOBAL.stream_in_reactor(f)
}

/// Runs the stream that `f` builds in the global reactor, with a buffer of
/// `capacity` items; see [`Reactor::stream_in_reactor_buffered`].
#[track_caller]
pub fn stream_in_reactor_buffered<F, S>(capacity: usize, f: F) -> EventualStream<S::Item>
where
    F: FnOnce() -> S + Send + 'static,
    S: futures_core::Stream + Send + 'static,
    S::Item: Send + 'static,
{
    GLOBAL.stream_in_reactor_buffered(capacity, f)
}

/// A snapshot of the global reactor's counters; see [`Reactor::stats`].
pub fn stats() -> Stats {
    GLOBAL.stats()
}

/// Logs the global reactor's operations slower than `threshold`; see
/// [`Reactor::set_slow_threshold`].
pub fn set_slow_threshold(threshold: Option<Duration>) {
    GLOBAL.set_slow_threshold(threshold);
}

/// Whether the global reactor runs; see [`Reactor::is_running`].
pub fn is_running() -> bool {
    GLOBAL.is_running()
}

/// How many of the global reactor's operations have not finished yet; see
/// [`Reactor::pending_operations`].
pub fn pending_operations() -> usize {
    GLOBAL.pending_operations()
}

/// The backend the global reactor runs on, once it runs; see
/// [`Reactor::backend_name`].
pub fn backend_name() -> Option<&'static str> {
    GLOBAL.backend_name()
}

/// Shuts the global reactor down and empties the stash; see
/// [`Reactor::shutdown`].
///
/// # Errors
///
/// As [`Reactor::shutdown`].
///
/// # Blocking
///
/// Blocks for up to `timeout`.
pub fn shutdown(timeout: Duration) -> Result<(), ShutdownError> {
    GLOBAL.shutdown(timeout)
}

/// A guard that shuts the global reactor down when dropped; hold it in
/// `main`. See [`ShutdownGuard`].
pub fn shutdown_guard(timeout: Duration) -> ShutdownGuard {
    GLOBAL.shutdown_guard(timeout)
}

/// Takes a result out of the global reactor's stash; see
/// [`Reactor::retrieve_result`].
///
/// # Errors
///
/// As [`Reactor::retrieve_result`].
pub fn retrieve_result<T: Send + 'static, E: Send + 'static>(
    id: StashId,
) -> Result<EventualResult<T, E>, RetrieveError> {
    GLOBAL.retrieve_result(id)
}

/// Sets how the global reactor's stash is bounded; see
/// [`Reactor::set_stash_policy`].
pub fn set_stash_policy(policy: StashPolicy) {
    GLOBAL.set_stash_policy(policy);
}

/// How many results the global reactor's stash holds (expired ones
/// included until the next stash or retrieve sweeps them).
pub fn stash_len() -> usize {
    GLOBAL.stash_len()
}
