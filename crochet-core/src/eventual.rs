//! `EventualResult`: the blocking (and awaitable) handle to an operation
//! running in the reactor.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::completion::{self, Completion};
use crate::context;
use crate::error::Error;
use crate::shared::SharedResult;
use crate::stash::{StashFull, StashId};

/// The result of an operation running in the reactor, to wait for from a
/// blocking thread or to `.await` from async code.
///
/// Returned at once by `run_in_reactor`. Waiting takes the value out: the
/// first wait that sees it gets it, and later waits get
/// [`Error::AlreadyRetrieved`]. A failure (a panic, the operation's error,
/// a cancellation, a stopped reactor) is not taken: every wait reports it.
/// To let several waiters each get the value, turn it into a
/// [`SharedResult`] with [`EventualResult::shared`].
///
/// A wait that times out consumes and cancels nothing: the result stays
/// waitable. Dropping an `EventualResult` does not cancel the operation
/// (call [`EventualResult::cancel`] for that); if the operation fails and
/// nobody looked, the failure is reported (see
/// [`set_failure_hook`](crate::set_failure_hook)).
///
/// `EventualResult<T>` is `Send + Sync` when `T: Send`: hand it to another
/// thread, or wait on it from several.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_core::doc_support::MiniBackend)?;
/// let result = reactor.run_in_reactor(|| async { 6 * 7 });
/// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 42);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[must_use = "dropping an EventualResult does not cancel the operation; wait for it, cancel it, or use spawn for fire-and-forget work"]
pub struct EventualResult<T> {
    cell: Arc<Completion<T>>,
    /// This handle's waker slot while it is being awaited.
    key: Option<u32>,
}

impl<T> EventualResult<T> {
    pub(crate) fn new(cell: Arc<Completion<T>>) -> Self {
        EventualResult { cell, key: None }
    }

    /// Blocks until the result is there, and takes it.
    ///
    /// # Errors
    ///
    /// The operation's outcome ([`Error::Panicked`], [`Error::Failed`],
    /// [`Error::Cancelled`], [`Error::ReactorStopped`], ...), to every wait;
    /// [`Error::AlreadyRetrieved`] when an earlier wait took the value;
    /// [`Error::WaitInReactor`] at once, when called on a thread that
    /// drives the reactor (a tokio `multi_thread` worker hands itself off
    /// and waits instead); [`Error::Forked`] before it would park, in a
    /// child process forked after the reactor started.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread without a bound; it must not be called from
    /// async code (use `.await`). Prefer [`EventualResult::wait_timeout`]
    /// where a hang would hurt.
    pub fn wait(&self) -> Result<T, Error> {
        self.wait_inner(None, Duration::MAX)
    }

    /// Blocks for at most `timeout` until the result is there, and takes it.
    ///
    /// A zero timeout checks once without blocking; a timeout too large to
    /// represent waits forever.
    ///
    /// # Errors
    ///
    /// As [`EventualResult::wait`], plus [`Error::Timeout`] when the time
    /// runs out; the result is then still pending and can be waited again.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`; it must not be called
    /// from async code (use `.await`).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<T, Error> {
        self.wait_inner(completion::deadline_after(timeout), timeout)
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
    pub fn wait_deadline(&self, deadline: Instant) -> Result<T, Error> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.wait_inner(Some(deadline), timeout)
    }

    pub(crate) fn cell(&self) -> &Completion<T> {
        &self.cell
    }

    /// [`EventualResult::wait_timeout`] for a caller that has already
    /// asked how it may block (and runs this inside that).
    pub(crate) fn wait_timeout_checked(&self, timeout: Duration) -> Result<T, Error> {
        park_for(
            &self.cell,
            completion::deadline_after(timeout),
            timeout,
            completion::take,
        )
    }

    fn wait_inner(&self, deadline: Option<Instant>, timeout: Duration) -> Result<T, Error> {
        blocking_wait(&self.cell, deadline, timeout, completion::take)
    }

    /// Takes the result if it is there, without blocking; `None` while the
    /// operation is still running.
    ///
    /// Unlike the waits, this is allowed on reactor threads.
    pub fn try_result(&self) -> Option<Result<T, Error>> {
        self.cell.try_read(completion::take)
    }

    /// Whether the outcome is decided (value, error, cancelled or stopped).
    /// Never blocks.
    pub fn is_ready(&self) -> bool {
        self.cell.is_done()
    }

    /// Cancels the operation if it is still running.
    ///
    /// Idempotent, callable from any thread (reactor threads included),
    /// and it never blocks: it decides the outcome, [`Error::Cancelled`],
    /// and wakes the operation's task, which drops its future on the
    /// reactor and only then publishes the outcome. So a waiter that hears
    /// `Cancelled` knows the future is gone, and what it held (a socket, a
    /// file, a lock) released, as tokio's `JoinHandle` promises for an
    /// aborted task; that is prompt, unless the future is blocking its
    /// thread. A result that is already decided keeps its outcome. Returns
    /// whether this call cancelled it.
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
    /// # let reactor = crochet_core::Reactor::start(crochet_core::doc_support::MiniBackend)?;
    /// let shared = reactor.run_in_reactor(|| async { String::from("hi") }).shared();
    /// let other = shared.clone();
    /// let thread = std::thread::spawn(move || other.wait_timeout(Duration::from_secs(5)));
    /// assert_eq!(shared.wait_timeout(Duration::from_secs(5))?, "hi");
    /// assert_eq!(thread.join().unwrap()?, "hi");
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn shared(self) -> SharedResult<T>
    where
        T: Clone,
    {
        // The new handle is counted before this one goes, so the count
        // never touches zero and nothing is reported in between.
        self.cell.add_handle();
        SharedResult::from_cell(Arc::clone(&self.cell))
    }
}

impl<T: Send + 'static> EventualResult<T> {
    /// Stores this result in its reactor's stash and returns an id for
    /// it, to fit in a cookie or a URL;
    /// [`Reactor::retrieve_result`](crate::Reactor::retrieve_result) (or
    /// [`retrieve_result`](crate::retrieve_result) for the global reactor)
    /// gives it back, once.
    ///
    /// Ids are 128 random bits from the operating system, printed as 32
    /// hexadecimal characters: one user cannot guess another's. An entry
    /// that leaves the stash unretrieved (it expires, or is drained at
    /// shutdown) has its operation cancelled.
    ///
    /// # Errors
    ///
    /// [`StashFull`] when the stash holds its maximum number of entries
    /// (see [`StashPolicy`](crate::StashPolicy)); it hands this result back,
    /// so nothing is lost (dropping it cancels the operation).
    pub fn stash(self) -> Result<StashId, StashFull<T>> {
        match self.cell.shard().map(|shard| Arc::clone(&shard.config)) {
            Some(config) => config.stash.put(self),
            None => Err(StashFull::refused(self)),
        }
    }
}

/// The blocking wait shared by both handle types: refuse on reactor
/// threads, then park until the deadline.
pub(crate) fn blocking_wait<T>(
    cell: &Completion<T>,
    deadline: Option<Instant>,
    timeout: Duration,
    extract: completion::Extract<T>,
) -> Result<T, Error> {
    context::blocking()?.run(|| park_for(cell, deadline, timeout, extract))
}

/// The wait itself, for callers that already refused reactor threads.
fn park_for<T>(
    cell: &Completion<T>,
    deadline: Option<Instant>,
    timeout: Duration,
    extract: completion::Extract<T>,
) -> Result<T, Error> {
    cell.wait_until(deadline, extract).unwrap_or_else(|| {
        cell.note_timed_out_wait();
        Err(Error::Timeout {
            after: timeout,
            cancelled: false,
        })
    })
}

impl<T> Future for EventualResult<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.cell.poll_read(cx, &mut this.key, completion::take)
    }
}

impl<T> Drop for EventualResult<T> {
    fn drop(&mut self) {
        self.cell.drop_handle(self.key);
    }
}

impl<T> fmt::Debug for EventualResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_fields(f.debug_struct("EventualResult"), &self.cell)
    }
}

/// `Debug` fields of a handle, read without blocking.
pub(crate) fn debug_fields<T>(
    mut out: fmt::DebugStruct<'_, '_>,
    cell: &Completion<T>,
) -> fmt::Result {
    let origin = cell.origin();
    out.field("state", &format_args!("{}", cell.status().label()))
        .field("operation", &origin.operation())
        .field("location", &format_args!("{}", origin.location))
        .finish()
}
