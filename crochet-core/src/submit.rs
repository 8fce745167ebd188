//! Submitting work to a [`Reactor`]: the `run_in_reactor` family,
//! fire-and-forget, and `wait_for`.

use std::error::Error as StdError;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::context;

use crate::completion::Outcome;
use crate::error::WaitError;
use crate::eventual::EventualResult;
use crate::reactor::{Job, Reactor};
use crate::spawner::LocalTask;
use crate::task::{Completer, Fallible, Finish, LocalStart, Operation, Plain, caller_span};

impl Reactor {
    /// Runs `f` in the reactor and returns a handle to its result at once.
    ///
    /// `f` is called on a reactor thread, so it may use its runtime's
    /// context (spawn tasks, create timers and IO objects); the future it
    /// returns runs there to completion. A closure returning an
    /// already-ready future (`async { value }`) is fine. The caller's
    /// `tracing` span follows the work into the reactor.
    ///
    /// Submission problems are in the result, which is then ready at once:
    /// [`WaitError::NotSetUp`], [`WaitError::ReactorStopped`],
    /// [`WaitError::Forked`]. A panic in `f` or its future becomes
    /// [`WaitError::Panicked`]; the reactor keeps running.
    ///
    /// For a future that returns a `Result`, use
    /// [`Reactor::run_in_reactor_fallible`], whose waits give its error
    /// typed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// let result = reactor.run_in_reactor(|| async { "hello from the reactor" });
    /// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, "hello from the reactor");
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    #[track_caller]
    pub fn run_in_reactor<F, Fut>(&self, f: F) -> EventualResult<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.submit::<Plain, _, _, _, _>(f, Location::caller())
    }

    /// Runs a fallible operation in the reactor: as
    /// [`Reactor::run_in_reactor`], but the future's `Ok(value)` is the
    /// result's value and its `Err(e)` comes to the waiter as
    /// [`WaitError::Failed`]`(e)`, owned and typed. An `Err` that nobody
    /// waits for is reported (see
    /// [`set_failure_hook`](crate::set_failure_hook)), as a panic is.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// use crochet_core::WaitError;
    ///
    /// let result = reactor.run_in_reactor_fallible(|| async { "x".parse::<u8>() });
    /// let error = result.wait_timeout(Duration::from_secs(5)).unwrap_err();
    /// assert!(matches!(error, WaitError::Failed(std::num::ParseIntError { .. })));
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    #[track_caller]
    pub fn run_in_reactor_fallible<F, Fut, T, E>(&self, f: F) -> EventualResult<T, E>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
    {
        self.submit::<Fallible, _, _, _, _>(f, Location::caller())
    }

    /// Runs a `!Send` future pinned to a reactor thread.
    ///
    /// `f` is `Send` (it travels to the reactor thread); the future it
    /// builds there need not be, and never leaves that thread. Only
    /// managed runtimes offer this; on others the result is
    /// [`WaitError::Unsupported`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// use std::rc::Rc;
    ///
    /// let result = reactor.run_in_reactor_local(|| async {
    ///     let local = Rc::new(21); // Rc is !Send
    ///     *local * 2
    /// });
    /// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 42);
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    #[track_caller]
    pub fn run_in_reactor_local<F, Fut>(&self, f: F) -> EventualResult<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let cell = self.new_cell::<F, _, _>(Location::caller());
        let result = EventualResult::new(Arc::clone(&cell));
        match self.admit(&cell) {
            Ok(()) => {
                let start = LocalStart {
                    completer: Completer::new(cell),
                    start: f,
                    span: caller_span(),
                };
                self.dispatch(Job::Local(LocalTask::new(Box::new(start))));
            }
            Err(error) => {
                cell.complete(Outcome::fault(error));
            }
        }
        result
    }

    /// Fire-and-forget: runs `f` in the reactor with nobody waiting. A
    /// panic (or a submission error) is reported like any unobserved
    /// failure.
    #[track_caller]
    pub fn spawn<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        drop(self.submit::<Plain, _, _, _, _>(f, Location::caller()));
    }

    /// Fire-and-forget for fallible work: as [`Reactor::spawn`], and an
    /// `Err` is reported too.
    #[track_caller]
    pub fn spawn_fallible<F, Fut, E>(&self, f: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
    {
        drop(self.submit::<Fallible, _, _, _, _>(f, Location::caller()));
    }

    /// Runs `f` in the reactor and blocks until its result is there, for at
    /// most `timeout`; on timeout the operation is cancelled.
    ///
    /// On timeout it returns once the reactor has dropped the operation's
    /// future, so that what the future held is released by then (as after
    /// [`EventualResult::cancel`]): promptly, unless the future is blocking
    /// its thread, for which it waits at most one second more.
    ///
    /// # Errors
    ///
    /// [`WaitError::Timeout`] (with `cancelled: true`) when the time runs out;
    /// [`WaitError::WaitInReactor`] on a reactor thread, before anything is
    /// submitted; otherwise as [`EventualResult::wait`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`; never call it from
    /// async code.
    #[track_caller]
    pub fn wait_for<F, Fut>(&self, timeout: Duration, f: F) -> Result<Fut::Output, WaitError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let blocking = context::blocking()?;
        let result = self.submit::<Plain, _, _, _, _>(f, Location::caller());
        blocking.run(|| wait_or_cancel(&result, timeout))
    }

    /// [`Reactor::wait_for`] for a fallible operation: its `Err(e)` comes
    /// back as [`WaitError::Failed`]`(e)`, owned and typed.
    ///
    /// # Errors
    ///
    /// As [`Reactor::wait_for`], plus [`WaitError::Failed`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`.
    #[track_caller]
    pub fn wait_for_fallible<F, Fut, T, E>(
        &self,
        timeout: Duration,
        f: F,
    ) -> Result<T, WaitError<E>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
    {
        let blocking = context::blocking().map_err(WaitError::widen)?;
        let result = self.submit::<Fallible, _, _, _, _>(f, Location::caller());
        blocking.run(|| wait_or_cancel(&result, timeout))
    }

    /// Submits `f`; its result is named after `f`'s own type.
    pub(crate) fn submit<M, T, E, F, Fut>(
        &self,
        f: F,
        location: &'static Location<'static>,
    ) -> EventualResult<T, E>
    where
        M: Finish<Fut::Output, T, E>,
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
    {
        self.submit_as::<F, M, T, E, F, Fut>(f, location)
    }

    /// `submit`, for an operation that crochet wraps in a closure of its
    /// own: its result is named after `N`, the caller's closure.
    pub(crate) fn submit_as<N, M, T, E, F, Fut>(
        &self,
        f: F,
        location: &'static Location<'static>,
    ) -> EventualResult<T, E>
    where
        M: Finish<Fut::Output, T, E>,
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
    {
        let cell = self.new_cell::<N, _, _>(location);
        let result = EventualResult::new(Arc::clone(&cell));
        match self.admit(&cell) {
            Ok(()) => {
                let completer = Completer::new(cell);
                let operation = Operation::<T, E, M, F, Fut>::new(completer, f, caller_span());
                self.dispatch_send(operation);
            }
            Err(error) => {
                cell.complete(Outcome::fault(error));
            }
        }
        result
    }
}

/// How long `wait_for`, having timed out, waits for the reactor to drop the
/// cancelled operation's future: promptly done unless the future is
/// blocking its thread, which this bounds.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// `wait_for`'s wait: on timeout, cancel, and return once the operation's
/// future is dropped (or after [`CANCEL_GRACE`]); a value that won the race
/// against the cancel is still returned.
fn wait_or_cancel<T, E>(
    result: &EventualResult<T, E>,
    timeout: Duration,
) -> Result<T, WaitError<E>> {
    // The caller refused reactor threads before submitting anything.
    match result.wait_timeout_checked(timeout) {
        Err(WaitError::Timeout { after, .. }) => {
            result.cancel();
            result
                .cell()
                .wait_published(crate::completion::deadline_after(CANCEL_GRACE));
            match result.try_result() {
                None | Some(Err(WaitError::Cancelled)) => Err(WaitError::Timeout {
                    after,
                    cancelled: true,
                }),
                Some(outcome) => outcome,
            }
        }
        outcome => outcome,
    }
}
