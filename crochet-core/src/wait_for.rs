//! `wait_for`: run an operation and block for its result, cancelling it
//! on timeout. Where the caller's thread may run the reactor's futures (it
//! can enter the runtime's context), the future is polled right there
//! ([`inline`](crate::inline)); otherwise it runs on the reactor's thread,
//! and the caller waits for its result.

use std::error::Error as StdError;
use std::future::Future;
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::context;
use crate::error::{OperationState, Unsupported, WaitError};
use crate::eventual::EventualResult;
use crate::reactor::Reactor;
use crate::sync::deadline_after;
use crate::task::{Fallible, Finish, Plain};

impl Reactor {
    /// Runs `f`'s future and blocks until it ends, for at most `timeout`;
    /// on timeout the operation is cancelled: its future is dropped before
    /// this returns.
    ///
    /// # Where the future runs
    ///
    /// On the calling thread, inside the reactor's runtime context, as
    /// `Handle::block_on` runs a future ("inline"): `f` is called there,
    /// and may use the runtime's context (spawn tasks, create timers and IO
    /// objects) as on a reactor thread, while the runtime's own threads
    /// drive the IO and timers. Nothing hops to the reactor's thread and
    /// back, no caller queues behind another, and the timeout is exact: at
    /// the deadline this thread drops the future itself. A future that
    /// blocks its thread (a `std::thread::sleep`, a blocking call) blocks
    /// this caller, not the reactor; it cannot be dropped before its poll
    /// returns, so a timeout then comes late.
    ///
    /// It is the default on every backend crochet ships. On tokio the
    /// caller enters the runtime's handle (`Handle::enter`), and the
    /// runtime's threads drive the IO and timers: the managed runtime's own
    /// thread, or, for an attached current-thread runtime, the
    /// application's thread that drives it, which must keep doing so. On
    /// smol the reactor's executor is the caller's
    /// `crochet_smol::current_executor()` for the call, and async-io's
    /// thread drives the IO and timers; on async-std, its global runtime
    /// needs nothing entered. What changes from the reactor's thread: the
    /// closure and the future see the caller's thread (its name, its
    /// thread-locals); the future is not a runtime task, so what only a
    /// task has is not there (`tokio::task::id()`, async-std's
    /// `task::current()` and task-locals: they panic, and the call answers
    /// `Panicked`); and a future that blocks holds up this caller alone.
    /// Code that needs a task runs on the reactor's thread with
    /// [`Reactor::set_wait_for_inline`]`(false)`, or spawns one.
    ///
    /// The future runs on the reactor's thread instead, and the caller
    /// waits for its result, where it cannot run here: before a runtime is
    /// attached (after [`Reactor::no_setup`]), on a backend whose futures
    /// cannot be polled elsewhere ([`Spawner::enter`]), or when
    /// [`Reactor::set_wait_for_inline`]`(false)` asked for it. Then a
    /// timeout cancels the operation and waits for the reactor to drop its
    /// future: promptly, unless it blocks its thread, for which it waits
    /// one second more at most and returns with the cancel still
    /// requested.
    ///
    /// Either way, shutdown asks the operation to end and waits for it, a
    /// panic comes back as [`WaitError::Panicked`], and the caller's
    /// `tracing` span follows the work.
    ///
    /// # Errors
    ///
    /// [`WaitError::Timeout`] when the time runs out: its `after` is how
    /// long the call waited in all, and its `state`
    /// [`OperationState::Cancelled`] once the future was dropped,
    /// [`OperationState::Cancelling`] when it was still blocking its thread
    /// (on the reactor: it is dropped when its poll returns), or
    /// [`OperationState::AwaitingAttach`] when no runtime was attached to
    /// run it (it is dropped as one is, or at shutdown);
    /// [`WaitError::WaitInReactor`] on a reactor thread, before anything is
    /// submitted; otherwise as [`EventualResult::wait`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout` (longer only behind a
    /// future that blocks its thread); never call it from async code.
    ///
    /// [`Spawner::enter`]: crate::backend::Spawner::enter
    #[track_caller]
    pub fn wait_for<F, Fut>(&self, timeout: Duration, f: F) -> Result<Fut::Output, WaitError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.wait_for_as::<Plain, _, _, _, _>(timeout, f, Location::caller())
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
    /// As [`Reactor::wait_for`].
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
        self.wait_for_as::<Fallible, _, _, _, _>(timeout, f, Location::caller())
    }

    /// [`Reactor::wait_for`] for a future that borrows from the caller
    /// (`wait_for_ref(timeout, || client.get(&url))`), or is not `Send`:
    /// it always runs on the calling thread, which it never outlives.
    ///
    /// # Errors
    ///
    /// As [`Reactor::wait_for`]; and, since such a future cannot go to the
    /// reactor's thread, [`WaitError::NotSetUp`] before a runtime is
    /// attached (it does not wait for one), [`WaitError::ReactorStopped`]
    /// after shutdown, and [`WaitError::Unsupported`] on a backend whose
    /// futures cannot be polled elsewhere.
    ///
    /// # Blocking
    ///
    /// As [`Reactor::wait_for`].
    #[track_caller]
    pub fn wait_for_ref<'a, F, Fut>(
        &self,
        timeout: Duration,
        f: F,
    ) -> Result<Fut::Output, WaitError>
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future + 'a,
        Fut::Output: Send + 'static,
    {
        self.wait_for_ref_as::<Plain, _, _, _, _>(timeout, f, Location::caller())
    }

    /// [`Reactor::wait_for_ref`] for a fallible operation: its `Err(e)`
    /// comes back as [`WaitError::Failed`]`(e)`, owned and typed.
    ///
    /// # Errors
    ///
    /// As [`Reactor::wait_for_ref`], plus [`WaitError::Failed`].
    ///
    /// # Blocking
    ///
    /// As [`Reactor::wait_for`].
    #[track_caller]
    pub fn wait_for_fallible_ref<'a, F, Fut, T, E>(
        &self,
        timeout: Duration,
        f: F,
    ) -> Result<T, WaitError<E>>
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = Result<T, E>> + 'a,
        T: Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + Send + 'static,
    {
        self.wait_for_ref_as::<Fallible, _, _, _, _>(timeout, f, Location::caller())
    }

    /// Asks for runs of [`Reactor::wait_for`] (and `wait_for_fallible`) on
    /// the calling thread (`true`, the default) or on the reactor's thread
    /// (`false`, as `run_in_reactor` then a wait would). The borrowing
    /// forms (`wait_for_ref`) run on the calling thread whatever this says.
    pub fn set_wait_for_inline(&self, inline: bool) {
        self.config().set_wait_for_inline(inline);
    }

    /// `wait_for` and `wait_for_fallible`: inline where it may, else on
    /// the reactor's thread.
    fn wait_for_as<M, T, E, F, Fut>(
        &self,
        timeout: Duration,
        f: F,
        location: &'static Location<'static>,
    ) -> Result<T, WaitError<E>>
    where
        M: Finish<Fut::Output, T, E>,
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
    {
        let inline = self.config().wait_for_inline();
        self.wait_here_or::<M, _, _, _, _>(timeout, f, location, inline, |f, started| {
            let result = self.submit_as::<F, M, _, _, _, _>(f, location);
            wait_or_cancel(&result, started, timeout)
        })
    }

    /// The `_ref` forms: inline, or an error that says why not.
    fn wait_for_ref_as<M, T, E, F, Fut>(
        &self,
        timeout: Duration,
        f: F,
        location: &'static Location<'static>,
    ) -> Result<T, WaitError<E>>
    where
        M: Finish<Fut::Output, T, E>,
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        self.wait_here_or::<M, _, _, _, _>(timeout, f, location, true, |_, _| {
            Err(match self.backend_name() {
                None if self.is_stopped() => WaitError::ReactorStopped,
                None => WaitError::NotSetUp,
                Some(backend) => {
                    WaitError::Unsupported(Unsupported::new(Unsupported::INLINE, backend))
                }
            })
        })
    }

    /// Refuses a reactor thread, then runs `f` inline (when `inline`, and
    /// where it can), or hands it to `elsewhere` with the time the call
    /// began.
    fn wait_here_or<M, T, E, F, Fut>(
        &self,
        timeout: Duration,
        f: F,
        location: &'static Location<'static>,
        inline: bool,
        elsewhere: impl FnOnce(F, Instant) -> Result<T, WaitError<E>>,
    ) -> Result<T, WaitError<E>>
    where
        M: Finish<Fut::Output, T, E>,
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let started = Instant::now();
        let blocking = context::blocking().map_err(WaitError::widen)?;
        blocking.run(|| {
            match self.wait_inline::<M, _, _, _, _>(timeout, started, f, location, inline) {
                Ok(outcome) => outcome,
                Err(f) => elsewhere(f, started),
            }
        })
    }
}

/// How long `wait_for` on the reactor's thread, having timed out, waits
/// for the reactor to drop the cancelled operation's future: promptly done
/// unless the future is blocking its thread, which this bounds.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// `wait_for`'s wait on the reactor's thread, begun at `started`: on
/// timeout, cancel, and wait for the operation's future to be dropped, for
/// [`CANCEL_GRACE`] at most. A value that won the race against the cancel
/// is still returned; the timeout says how long the call waited in all,
/// and whether the future was dropped by then.
fn wait_or_cancel<T, E>(
    result: &EventualResult<T, E>,
    started: Instant,
    timeout: Duration,
) -> Result<T, WaitError<E>> {
    // The caller refused reactor threads before submitting anything.
    match result.wait_timeout_checked(timeout) {
        Err(WaitError::Timeout { state, .. }) => {
            result.cancel();
            // Work that waits for an attach is dropped then (or at
            // shutdown): no runtime holds it to drop it sooner.
            if state == OperationState::Running {
                result.cell().wait_ended(deadline_after(CANCEL_GRACE));
            }
            let state = match result.try_result() {
                Some(Err(WaitError::Cancelled)) => OperationState::Cancelled,
                // Still in a poll that blocks its thread: the cancel stays
                // requested, and the future is dropped when the poll
                // returns. Nothing claims it was.
                None if state == OperationState::Running => OperationState::Cancelling,
                None => state,
                Some(outcome) => return outcome,
            };
            Err(WaitError::Timeout {
                after: started.elapsed(),
                state,
            })
        }
        outcome => outcome,
    }
}
