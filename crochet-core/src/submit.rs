//! Submitting work to a [`Reactor`]'s threads: the `run_in_reactor`
//! family, fire-and-forget, streams and periodic tasks.

use std::error::Error as StdError;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;

#[cfg(doc)]
use crate::error::WaitError;
use crate::eventual::EventualResult;
use crate::hook::Origin;
use crate::periodic::{self, Periodic, TickOutcome};
use crate::reactor::{Job, Reactor};
use crate::spawner::LocalTask;
use crate::stream::{self, DEFAULT_STREAM_BUFFER, EventualStream};
use crate::task::{
    Completer, Decided, Fallible, Finish, LocalStart, Operation, Plain, caller_span, refuse,
};

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
                    start: f,
                    span: caller_span(),
                    completer: Completer::new(cell),
                };
                self.dispatch(Job::Local(LocalTask::new(Box::new(start))));
            }
            Err(error) => refuse(f, &cell, error),
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

    /// Runs the stream that `f` builds in the reactor, buffering up to
    /// [`DEFAULT_STREAM_BUFFER`] items, and returns a blocking handle to
    /// it at once. See [`EventualStream`].
    #[track_caller]
    pub fn stream_in_reactor<F, S>(&self, f: F) -> EventualStream<S::Item>
    where
        F: FnOnce() -> S + Send + 'static,
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
    {
        self.stream_in_reactor_buffered(DEFAULT_STREAM_BUFFER, f)
    }

    /// As [`Reactor::stream_in_reactor`], with a buffer of `capacity`
    /// items (at least one).
    #[track_caller]
    pub fn stream_in_reactor_buffered<F, S>(&self, capacity: usize, f: F) -> EventualStream<S::Item>
    where
        F: FnOnce() -> S + Send + 'static,
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
    {
        let shared = stream::Shared::new(capacity);
        let producing = Arc::clone(&shared);
        let producer = self.submit_as::<F, Decided, _, _, _, _>(
            move || {
                let stream = f();
                async move {
                    stream::drive(stream, &producing).await;
                    Ok(())
                }
            },
            Location::caller(),
        );
        EventualStream::new(shared, producer)
    }

    /// Runs `tick` in the reactor now, then every `period`, until the
    /// returned [`Periodic`] is stopped or dropped, or the reactor shuts
    /// down: Twisted's `LoopingCall`, on whichever backend runs.
    ///
    /// Each call of `tick` runs on a reactor thread, after the previous
    /// tick has finished. A tick that fails (returns `Err`) or panics is an
    /// unobserved failure: it goes to the failure hook (see
    /// [`Reactor::set_failure_hook`]), or is logged at error level (target
    /// `crochet`); the task goes on with the next tick. A `period` too long
    /// for the clock means the first tick is the only one. Ticks that would have started while one was still
    /// running are skipped, not queued: after a slow tick the schedule
    /// resumes at the next multiple of `period` from the start. A `period`
    /// shorter than [`MIN_PERIOD`](crate::MIN_PERIOD) is raised to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    ///
    /// let refreshed = Arc::new(AtomicU32::new(0));
    /// let counter = Arc::clone(&refreshed);
    /// let refresher = reactor.every(Duration::from_millis(10), move || {
    ///     let counter = Arc::clone(&counter);
    ///     async move {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// });
    /// while refresher.ticks() < 3 {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// refresher.stop();
    /// assert!(refreshed.load(Ordering::SeqCst) >= 3);
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    #[track_caller]
    pub fn every<F, Fut>(&self, period: Duration, tick: F) -> Periodic
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TickOutcome,
    {
        let origin = Origin::of::<F>();
        let (schedule, looping) = periodic::looping(
            period,
            tick,
            origin,
            self.spawner_slot(),
            self.shared_config(),
        );
        let looping = self.submit_as::<F, Decided, _, _, _, _>(move || looping, origin.location);
        Periodic::new(looping, schedule)
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
            Err(error) => refuse(f, &cell, error),
        }
        result
    }
}
