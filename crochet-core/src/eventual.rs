//! `EventualResult`: the blocking (and awaitable) handle to an operation
//! running in the reactor.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::completion::Completion;
use crate::error::WaitError;
use crate::outcome;
use crate::shared::SharedResult;
use crate::sync::deadline_after;
use crate::wait::{blocking_wait, debug_fields, park_for};

/// The result of an operation running in the reactor, to wait for from a
/// blocking thread or to `.await` from async code.
///
/// Returned at once by `run_in_reactor` (then `E` is [`Infallible`]: the
/// operation cannot fail by itself) or `run_in_reactor_fallible` (then `E`
/// is the error type of the operation's `Result`). Waiting takes the value
/// out: the first wait that sees it gets it, and later waits get
/// [`WaitError::AlreadyRetrieved`]. The operation's own error `E` is owned
/// too and moves out the same way (later waits get
/// [`WaitError::FailureTaken`]); crochet's own failures (a panic, a
/// cancellation, a stopped reactor) are not taken: every wait reports them.
/// To let several waiters each get the value (or the error), turn it into a
/// [`SharedResult`] with [`EventualResult::shared`].
///
/// A wait that times out consumes and cancels nothing: the result stays
/// waitable. Dropping an `EventualResult` does not cancel the operation
/// (call [`EventualResult::cancel`] for that); if the operation fails and
/// nobody looked, the failure is reported (see
/// [`set_failure_hook`](crate::set_failure_hook)).
///
/// `EventualResult<T, E>` is `Send + Sync` when `T` and `E` are `Send`:
/// hand it to another thread, or wait on it from several.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
/// let result = reactor.run_in_reactor(|| async { 6 * 7 });
/// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 42);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[must_use = "dropping an EventualResult does not cancel the operation; wait for it, cancel it, or use spawn for fire-and-forget work"]
pub struct EventualResult<T, E = Infallible> {
    cell: Arc<Completion<T, E>>,
    /// This handle's waker slot while it is being awaited.
    key: Option<u32>,
}

impl<T, E> EventualResult<T, E> {
    pub(crate) fn new(cell: Arc<Completion<T, E>>) -> Self {
        EventualResult { cell, key: None }
    }

    /// Blocks until the result is there, and takes it.
    ///
    /// # Errors
    ///
    /// The operation's own error, [`WaitError::Failed`] (to the first wait
    /// that reads it; [`WaitError::FailureTaken`] after); crochet's
    /// failures ([`WaitError::Panicked`], [`WaitError::Cancelled`],
    /// [`WaitError::ReactorStopped`], ...), to every wait;
    /// [`WaitError::AlreadyRetrieved`] when an earlier wait took the value;
    /// [`WaitError::WaitInReactor`] at once, when called on a thread that
    /// drives the reactor (a tokio `multi_thread` worker hands itself off
    /// and waits instead); [`WaitError::Forked`] before it would park, in a
    /// child process forked after the reactor started.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread without a bound; it must not be called from
    /// async code (use `.await`). Prefer [`EventualResult::wait_timeout`]
    /// where a hang would hurt.
    pub fn wait(&self) -> Result<T, WaitError<E>> {
        self.wait_inner(None, Duration::MAX)
    }

    /// Blocks for at most `timeout` until the result is there, and takes it.
    ///
    /// A zero timeout checks once without blocking; a timeout too large to
    /// represent waits forever.
    ///
    /// # Errors
    ///
    /// As [`EventualResult::wait`], plus [`WaitError::Timeout`] when the time
    /// runs out; the result is then still pending and can be waited again.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`; it must not be called
    /// from async code (use `.await`).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<T, WaitError<E>> {
        self.wait_inner(deadline_after(timeout), timeout)
    }

    /// Blocks until `deadline` at most until the result is there, and takes
    /// it.
    ///
    /// # Errors
    ///
    /// As [`EventualResult::wait_timeout`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread until `deadline`; it must not be called
    /// from async code (use `.await`).
    pub fn wait_deadline(&self, deadline: Instant) -> Result<T, WaitError<E>> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.wait_inner(Some(deadline), timeout)
    }

    pub(crate) fn cell(&self) -> &Arc<Completion<T, E>> {
        &self.cell
    }

    /// [`EventualResult::wait_timeout`] for a caller that has already
    /// asked how it may block (and runs this inside that).
    pub(crate) fn wait_timeout_checked(&self, timeout: Duration) -> Result<T, WaitError<E>> {
        park_for(&self.cell, deadline_after(timeout), timeout, outcome::take)
    }

    fn wait_inner(&self, deadline: Option<Instant>, timeout: Duration) -> Result<T, WaitError<E>> {
        blocking_wait(&self.cell, deadline, timeout, outcome::take)
    }

    /// Takes the result if it is there, without blocking; `None` while the
    /// operation is still running.
    ///
    /// Unlike the waits, this is allowed on reactor threads.
    pub fn try_result(&self) -> Option<Result<T, WaitError<E>>> {
        self.cell.try_read(outcome::take)
    }

    /// Whether the outcome is decided (value, error, cancelled or stopped).
    /// Never blocks.
    pub fn is_finished(&self) -> bool {
        self.cell.is_done()
    }

    /// Cancels the operation if it is still running.
    ///
    /// Idempotent, callable from any thread (reactor threads included),
    /// and it does not wait for the end (it takes the result's lock for a
    /// moment, longer only behind a `SharedResult`'s clone of the value):
    /// it asks for the end, [`WaitError::Cancelled`],
    /// and wakes the operation's task, which drops its future on the
    /// reactor and only then publishes the outcome. So a waiter that hears
    /// `Cancelled` knows the future is gone, and what it held (a socket, a
    /// file, a lock) released, as tokio's `JoinHandle` promises for an
    /// aborted task. That is prompt, unless the future is blocking its
    /// thread (it is dropped when its poll returns), or its runtime no
    /// longer runs it (an attached runtime the application stopped
    /// driving): then waiters wait for that runtime, or for the reactor's
    /// shutdown, whose bound ends every operation. A result that is
    /// already decided keeps its outcome, and so does one whose end was
    /// already asked for (by a cancel, or by shutdown). Returns whether
    /// this call asked for the end.
    pub fn cancel(&self) -> bool {
        self.cell.cancel()
    }

    /// Turns this handle into one that can be cloned, where every wait gets
    /// a clone of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// let shared = reactor.run_in_reactor(|| async { String::from("hi") }).shared();
    /// let other = shared.clone();
    /// let thread = std::thread::spawn(move || other.wait_timeout(Duration::from_secs(5)));
    /// assert_eq!(shared.wait_timeout(Duration::from_secs(5))?, "hi");
    /// assert_eq!(thread.join().unwrap()?, "hi");
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn shared(self) -> SharedResult<T, E>
    where
        T: Clone,
        E: Clone,
    {
        // The new handle is counted before this one goes, so the count
        // never touches zero and nothing is reported in between.
        self.cell.add_handle();
        SharedResult::from_cell(Arc::clone(&self.cell))
    }
}

impl<T, E> Future for EventualResult<T, E> {
    type Output = Result<T, WaitError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.cell.poll_read(cx, &mut this.key, outcome::take)
    }
}

impl<T, E> Drop for EventualResult<T, E> {
    fn drop(&mut self) {
        self.cell.drop_handle(self.key);
    }
}

impl<T, E> fmt::Debug for EventualResult<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_fields(f.debug_struct("EventualResult"), &self.cell)
    }
}
