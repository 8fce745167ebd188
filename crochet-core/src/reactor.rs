//! `Reactor`: one background event loop as blocking code sees it.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tracing::Span;

use crate::backend::{Backend, Driver};
use crate::completion::Completion;
use crate::context;
use crate::error::{Error, Failure};
use crate::eventual::EventualResult;
use crate::registry::{Registration, Registry};
use crate::report::Origin;
use crate::spawner::{BoxFuture, LocalTask, Spawner};
use crate::stash;
use crate::task::{Completer, Finish, LocalStart, Operation};

/// A reactor: an async runtime running in the background, and the way
/// blocking code submits work to it.
///
/// A `Reactor` is a cheap handle (clones share one reactor). The
/// process-wide functions ([`setup`](crate::setup_with),
/// [`run_in_reactor`](crate::run_in_reactor), ...) use a global one; build
/// your own where globals do not fit (tests, a library that keeps to
/// itself).
///
/// Its life: *idle* → started by [`Reactor::setup`] (a managed runtime on
/// crochet's threads), or [`Reactor::no_setup`] then [`Reactor::attach`]
/// (the application's runtime) → *stopped* by [`Reactor::shutdown`], for
/// good. Work submitted between `no_setup` and `attach` is queued and
/// starts on attach.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::Reactor;
///
/// let reactor = Reactor::start(crochet_core::doc_support::MiniBackend)?;
/// let answer = reactor.wait_for(Duration::from_secs(5), || async { 40 + 2 })?;
/// assert_eq!(answer, 42);
/// reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Reactor {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set once the reactor runs (managed or attached): the fast path of
    /// every submission reads only this.
    spawner: OnceLock<Arc<dyn Spawner>>,
    lifecycle: Mutex<Lifecycle>,
    registry: Registry,
    /// The process the reactor was set up in (0 before), to refuse work in
    /// a forked child.
    pid: AtomicU32,
    /// The global reactor empties the process-wide stash at shutdown.
    drains_stash: bool,
}

enum Lifecycle {
    Idle,
    AwaitingAttach(Vec<Job>),
    Managed(Box<dyn Driver>),
    Attached,
    Stopped,
}

impl Lifecycle {
    fn label(&self) -> &'static str {
        match self {
            Lifecycle::Idle => "idle",
            Lifecycle::AwaitingAttach(_) => "awaiting attach",
            Lifecycle::Managed(_) => "running (managed)",
            Lifecycle::Attached => "running (attached)",
            Lifecycle::Stopped => "stopped",
        }
    }
}

/// Work waiting for a runtime.
enum Job {
    Send(BoxFuture),
    Local(LocalTask),
}

impl Job {
    fn run_on(self, spawner: &dyn Spawner) {
        match self {
            Job::Send(task) => spawner.spawn(task),
            Job::Local(task) => {
                if let Err(unsupported) = spawner.spawn_local(task) {
                    unsupported.fail();
                }
            }
        }
    }
}

impl Reactor {
    /// An idle reactor: nothing runs until [`Reactor::setup`] or
    /// [`Reactor::attach`].
    pub fn new() -> Self {
        Self::with_stash_drain(false)
    }

    pub(crate) fn with_stash_drain(drains_stash: bool) -> Self {
        Reactor {
            inner: Arc::new(Inner {
                spawner: OnceLock::new(),
                lifecycle: Mutex::new(Lifecycle::Idle),
                registry: Registry::new(),
                pid: AtomicU32::new(0),
                drains_stash,
            }),
        }
    }

    /// A new reactor, started on `backend`.
    ///
    /// # Errors
    ///
    /// [`Error::StartFailed`] when the backend cannot start.
    pub fn start(backend: impl Backend) -> Result<Self, Error> {
        let reactor = Reactor::new();
        reactor.setup(backend)?;
        Ok(reactor)
    }

    fn lock(&self) -> MutexGuard<'_, Lifecycle> {
        self.inner
            .lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn record_pid(&self) {
        self.inner.pid.store(std::process::id(), Ordering::Relaxed);
    }

    /// Starts the reactor on `backend`, unless it already runs.
    ///
    /// Idempotent and thread-safe: only the first call starts anything;
    /// later calls, and calls after [`Reactor::no_setup`] or an attach, do
    /// nothing and return `Ok`. `backend` is dropped unused then.
    ///
    /// # Errors
    ///
    /// [`Error::StartFailed`] when the backend cannot start (the reactor
    /// stays idle, so a later call may retry); [`Error::ReactorStopped`]
    /// after [`Reactor::shutdown`].
    pub fn setup(&self, backend: impl Backend) -> Result<(), Error> {
        let mut lifecycle = self.lock();
        match &*lifecycle {
            Lifecycle::Idle => {}
            Lifecycle::Stopped => return Err(Error::ReactorStopped),
            _ => return Ok(()),
        }
        let started = backend.start()?;
        self.record_pid();
        // Only ever set here or in `attach`, both under the lifecycle lock
        // from the idle state, so it is set at most once.
        context::add_hint(&started.spawner);
        let _ = self.inner.spawner.set(started.spawner);
        tracing::trace!(target: "crochet", backend = self.backend_name(), "reactor started");
        *lifecycle = Lifecycle::Managed(started.driver);
        Ok(())
    }

    /// Declares that the application will attach its own runtime: later
    /// [`Reactor::setup`] calls do nothing, and work submitted from now on
    /// is queued until [`Reactor::attach`].
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] when `setup` already started a managed
    /// runtime; [`Error::ReactorStopped`] after shutdown.
    pub fn no_setup(&self) -> Result<(), Error> {
        let mut lifecycle = self.lock();
        match &*lifecycle {
            Lifecycle::Idle => {
                self.record_pid();
                *lifecycle = Lifecycle::AwaitingAttach(Vec::new());
                Ok(())
            }
            Lifecycle::AwaitingAttach(_) | Lifecycle::Attached => Ok(()),
            Lifecycle::Managed(_) => Err(Error::AlreadyStarted),
            Lifecycle::Stopped => Err(Error::ReactorStopped),
        }
    }

    /// Attaches a runtime the application owns and drives. Work queued
    /// since [`Reactor::no_setup`] starts now. Calling `no_setup` first is
    /// not required.
    ///
    /// The application keeps running (and eventually stopping) its
    /// runtime; [`Reactor::shutdown`] completes crochet's pending results
    /// but leaves the runtime alone.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyAttached`] when a runtime is attached already,
    /// [`Error::AlreadyStarted`] after `setup`, [`Error::ReactorStopped`]
    /// after shutdown.
    pub fn attach(&self, spawner: Arc<dyn Spawner>) -> Result<(), Error> {
        let mut lifecycle = self.lock();
        let queued = match &mut *lifecycle {
            Lifecycle::Idle => {
                self.record_pid();
                Vec::new()
            }
            Lifecycle::AwaitingAttach(queue) => std::mem::take(queue),
            Lifecycle::Attached => return Err(Error::AlreadyAttached),
            Lifecycle::Managed(_) => return Err(Error::AlreadyStarted),
            Lifecycle::Stopped => return Err(Error::ReactorStopped),
        };
        let _ = self.inner.spawner.set(Arc::clone(&spawner));
        context::add_hint(&spawner);
        *lifecycle = Lifecycle::Attached;
        drop(lifecycle);
        tracing::trace!(target: "crochet", backend = spawner.name(), queued = queued.len(), "runtime attached");
        for job in queued {
            job.run_on(&*spawner);
        }
        Ok(())
    }

    /// Runs `f` in the reactor and returns a handle to its result at once.
    ///
    /// `f` is called on a reactor thread, so it may use its runtime's
    /// context (spawn tasks, create timers and IO objects); the future it
    /// returns runs there to completion. A closure returning an
    /// already-ready future (`async { value }`) is fine. The caller's
    /// `tracing` span follows the work into the reactor.
    ///
    /// Submission problems are in the result, which is then ready at once:
    /// [`Error::NotSetUp`], [`Error::ReactorStopped`], [`Error::Forked`].
    /// A panic in `f` or its future becomes [`Error::Panicked`]; the
    /// reactor keeps running.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_core::doc_support::MiniBackend)?;
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
        self.submit(f, Ok, Origin::of::<F>())
    }

    /// Runs a fallible operation in the reactor: as
    /// [`Reactor::run_in_reactor`], but an `Err(e)` from the future becomes
    /// [`Error::Failed`] (with `e` inside, for
    /// [`Failure::downcast_ref`](crate::Failure::downcast_ref)), and is
    /// reported if nobody waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_core::doc_support::MiniBackend)?;
    /// let result = reactor.try_run_in_reactor(|| async { "x".parse::<u8>() });
    /// let error = result.wait_timeout(Duration::from_secs(5)).unwrap_err();
    /// let parse = error.as_failure().and_then(|f| f.downcast_ref::<std::num::ParseIntError>());
    /// assert!(parse.is_some());
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    #[track_caller]
    pub fn try_run_in_reactor<F, Fut, T, E>(&self, f: F) -> EventualResult<T>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + 'static,
    {
        self.submit(f, into_failure::<T, E>, Origin::of::<F>())
    }

    /// Runs a `!Send` future pinned to a reactor thread.
    ///
    /// `f` is `Send` (it travels to the reactor thread); the future it
    /// builds there need not be, and never leaves that thread. Only
    /// managed runtimes offer this; on others the result is
    /// [`Error::Unsupported`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_core::doc_support::MiniBackend)?;
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
        let origin = Origin::of::<F>();
        let cell = Completion::new(origin);
        let result = EventualResult::new(Arc::clone(&cell));
        match self.admit(&cell) {
            Ok(registration) => {
                let start = LocalStart {
                    completer: Completer::new(cell, registration),
                    start: f,
                    span: Span::current(),
                    finish: Ok,
                };
                self.dispatch(Job::Local(LocalTask::new(Box::new(start))));
            }
            Err(error) => {
                cell.complete(Err(error));
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
        drop(self.submit(f, Ok, Origin::of::<F>()));
    }

    /// Fire-and-forget for fallible work: as [`Reactor::spawn`], and an
    /// `Err` is reported too.
    #[track_caller]
    pub fn try_spawn<F, Fut, E>(&self, f: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + 'static,
    {
        drop(self.submit(f, into_failure::<(), E>, Origin::of::<F>()));
    }

    /// Runs `f` in the reactor and blocks until its result is there, for at
    /// most `timeout`; on timeout the operation is cancelled.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] (with `cancelled: true`) when the time runs out;
    /// [`Error::WaitInReactor`] on a reactor thread, before anything is
    /// submitted; otherwise as [`EventualResult::wait`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`; never call it from
    /// async code.
    #[track_caller]
    pub fn wait_for<F, Fut>(&self, timeout: Duration, f: F) -> Result<Fut::Output, Error>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        refuse_in_reactor()?;
        wait_or_cancel(&self.submit(f, Ok, Origin::of::<F>()), timeout)
    }

    /// [`Reactor::wait_for`] for a fallible operation: an `Err(e)` becomes
    /// [`Error::Failed`].
    ///
    /// # Errors
    ///
    /// As [`Reactor::wait_for`], plus [`Error::Failed`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`.
    #[track_caller]
    pub fn try_wait_for<F, Fut, T, E>(&self, timeout: Duration, f: F) -> Result<T, Error>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync + 'static>> + 'static,
    {
        refuse_in_reactor()?;
        let result = self.submit(f, into_failure::<T, E>, Origin::of::<F>());
        wait_or_cancel(&result, timeout)
    }

    fn submit<T, O, F, Fut>(&self, f: F, finish: Finish<O, T>, origin: Origin) -> EventualResult<T>
    where
        T: Send + 'static,
        O: 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = O> + Send + 'static,
    {
        let cell = Completion::new(origin);
        let result = EventualResult::new(Arc::clone(&cell));
        match self.admit(&cell) {
            Ok(registration) => {
                let completer = Completer::new(cell, registration);
                let operation = Operation::new(completer, f, Span::current(), finish);
                self.dispatch(Job::Send(Box::pin(operation)));
            }
            Err(error) => {
                cell.complete(Err(error));
            }
        }
        result
    }

    /// Checks that work can be taken, and registers it for shutdown.
    fn admit<T: Send + 'static>(&self, cell: &Arc<Completion<T>>) -> Result<Registration, Error> {
        let parent = self.inner.pid.load(Ordering::Relaxed);
        if parent != 0 {
            let child = std::process::id();
            if child != parent {
                return Err(Error::Forked { parent, child });
            }
        }
        if self.inner.spawner.get().is_none() && matches!(*self.lock(), Lifecycle::Idle) {
            return Err(Error::NotSetUp);
        }
        let cell: Arc<Completion<T>> = Arc::clone(cell);
        self.inner
            .registry
            .register(cell)
            .ok_or(Error::ReactorStopped)
    }

    /// Hands admitted work to the runtime, or queues it until attach.
    fn dispatch(&self, job: Job) {
        if let Some(spawner) = self.inner.spawner.get() {
            return job.run_on(&**spawner);
        }
        let mut lifecycle = self.lock();
        if let Lifecycle::AwaitingAttach(queue) = &mut *lifecycle {
            queue.push(job);
            return;
        }
        drop(lifecycle);
        match self.inner.spawner.get() {
            // Attached (or set up) since `admit`.
            Some(spawner) => job.run_on(&**spawner),
            // Stopped since `admit`: dropping the job completes its result
            // with `ReactorStopped`.
            None => drop(job),
        }
    }

    /// Shuts the reactor down, for good.
    ///
    /// New submissions fail with [`Error::ReactorStopped`]; every pending
    /// result completes with `ReactorStopped` and every blocked waiter
    /// wakes, at once. Then a managed runtime is stopped on its own thread
    /// (its in-flight futures are dropped there, destructors run) and its
    /// threads are given until `timeout` to exit. An attached runtime is
    /// left to its application. A second call does nothing.
    ///
    /// On the global reactor, results left in the stash are dropped too
    /// (failures among them are reported as unobserved).
    ///
    /// # Errors
    ///
    /// [`Error::ShutdownTimedOut`] when a managed thread is still running
    /// at the deadline (a task is blocking it); results were completed
    /// regardless.
    ///
    /// # Blocking
    ///
    /// Blocks for up to `timeout`; call it from a thread that is not a
    /// reactor thread (from one, it cannot wait for itself and times out).
    pub fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let previous = std::mem::replace(&mut *self.lock(), Lifecycle::Stopped);
        self.inner.registry.stop_all();
        let outcome = match previous {
            Lifecycle::Idle | Lifecycle::Stopped => Ok(()),
            Lifecycle::AwaitingAttach(queue) => {
                // Dropping queued work completes its results (already
                // stopped) and runs user destructors, which may panic.
                crate::panic::drop_quietly(queue);
                Ok(())
            }
            Lifecycle::Managed(driver) => {
                driver.shutdown(timeout.saturating_sub(started.elapsed()))
            }
            Lifecycle::Attached => Ok(()),
        };
        if let Some(spawner) = self.inner.spawner.get() {
            context::remove_hint(spawner);
        }
        if self.inner.drains_stash {
            stash::drain();
        }
        tracing::trace!(target: "crochet", elapsed = ?started.elapsed(), "reactor stopped");
        outcome
    }

    /// A guard that shuts this reactor down, within `timeout`, when it is
    /// dropped: tie the reactor's life to a scope, such as `main`.
    pub fn shutdown_guard(&self, timeout: Duration) -> ShutdownGuard {
        ShutdownGuard {
            reactor: self.clone(),
            timeout,
        }
    }

    /// Whether the reactor runs (set up or attached, not stopped).
    pub fn is_running(&self) -> bool {
        matches!(*self.lock(), Lifecycle::Managed(_) | Lifecycle::Attached)
    }

    /// How many submitted operations have not finished yet.
    pub fn pending_operations(&self) -> usize {
        self.inner.registry.len()
    }

    /// The name of the backend this reactor runs on, once it runs.
    pub fn backend_name(&self) -> Option<&'static str> {
        self.inner.spawner.get().map(|spawner| spawner.name())
    }
}

fn into_failure<T, E>(output: Result<T, E>) -> Result<T, Error>
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>>,
{
    output.map_err(|error| Error::Failed(Failure::new(error)))
}

fn refuse_in_reactor() -> Result<(), Error> {
    if context::is_reactor_thread() {
        return Err(Error::WaitInReactor {
            thread: context::thread_label(),
        });
    }
    Ok(())
}

/// `wait_for`'s wait: on timeout, cancel; a value that won the race against
/// the cancel is still returned.
fn wait_or_cancel<T>(result: &EventualResult<T>, timeout: Duration) -> Result<T, Error> {
    match result.wait_timeout(timeout) {
        Err(Error::Timeout { after, .. }) => {
            result.cancel();
            match result.try_result() {
                None | Some(Err(Error::Cancelled)) => Err(Error::Timeout {
                    after,
                    cancelled: true,
                }),
                Some(outcome) => outcome,
            }
        }
        outcome => outcome,
    }
}

impl Default for Reactor {
    fn default() -> Self {
        Reactor::new()
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock().label();
        f.debug_struct("Reactor")
            .field("state", &state)
            .field("backend", &self.backend_name())
            .field("pending", &self.pending_operations())
            .finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle to a running reactor is gone: stop it without
        // waiting, so that its threads do not outlive every way to reach
        // them, and no waiter is left hanging.
        let lifecycle = std::mem::replace(
            self.lifecycle
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
            Lifecycle::Stopped,
        );
        self.registry.stop_all();
        if let Some(spawner) = self.spawner.get() {
            context::remove_hint(spawner);
        }
        match lifecycle {
            Lifecycle::Managed(driver) => {
                let _ = driver.shutdown(Duration::ZERO);
            }
            Lifecycle::AwaitingAttach(queue) => crate::panic::drop_quietly(queue),
            Lifecycle::Attached | Lifecycle::Idle | Lifecycle::Stopped => {}
        }
    }
}

/// Shuts a reactor down when dropped. Made by [`Reactor::shutdown_guard`]
/// and [`shutdown_guard`](crate::shutdown_guard).
///
/// Rust runs no destructors for statics at exit, so the global reactor is
/// never shut down on its own; hold a guard in `main` to shut it down (and
/// report failures left in the stash) when `main` returns.
#[must_use = "the reactor shuts down as soon as the guard is dropped"]
pub struct ShutdownGuard {
    reactor: Reactor,
    timeout: Duration,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        if let Err(error) = self.reactor.shutdown(self.timeout) {
            tracing::warn!(target: "crochet", %error, "shutdown at the end of the guard's scope");
        }
    }
}

impl fmt::Debug for ShutdownGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownGuard")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
