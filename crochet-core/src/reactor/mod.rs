//! `Reactor`: one background event loop as blocking code sees it.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, OnceLock, PoisonError};
use std::time::Duration;

use crate::backend::{Backend, Driver};
use crate::completion::Completion;
use crate::config::Config;
use crate::context;
use crate::error::{SetupError, Unsupported, WaitError};
use crate::fork;
use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::spawner::{self, BoxFuture, LocalTask, Spawner};
use crate::sync::{Mutex, MutexGuard};

mod shutdown;
mod stash;

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
/// # Dropping
///
/// Dropping the last clone of a `Reactor` stops it, as
/// [`Reactor::shutdown`] with a bound of zero that does not wait for
/// threads: nothing is admitted any more, every pending operation is asked
/// to end, a managed runtime's threads are told to stop (and not joined),
/// an attached runtime is left to its application, and every result still
/// pending then completes with [`WaitError::ReactorStopped`] at once, its
/// waiters woken, even though its future may not be dropped yet (its
/// runtime drops it when it gets to it). The stash is emptied (its running
/// operations cancelled). Results and streams do not keep their reactor
/// alive: keep a clone (or a `static`, as the global one is) for as long
/// as work is submitted to it, and call `shutdown` to wait for the futures
/// to be gone.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::Reactor;
///
/// let reactor = Reactor::start(crochet_tokio::Tokio::builder())?;
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
    spawner: Arc<OnceLock<Arc<dyn Spawner>>>,
    /// The runtime the spawner runs on, when crochet spawns on it
    /// directly (set before `spawner`, so whoever sees one sees both).
    runtime: OnceLock<Option<Runtime>>,
    lifecycle: Mutex<Lifecycle>,
    registry: Registry,
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
pub(crate) enum Job {
    Send(BoxFuture),
    Local(LocalTask),
}

impl Job {
    fn run_on(self, spawner: &dyn Spawner) {
        match self {
            Job::Send(task) => spawner.spawn(task),
            Job::Local(task) => {
                if let Err(task) = spawner.spawn_local(task) {
                    task.fail(WaitError::Unsupported(Unsupported::new(
                        Unsupported::LOCAL,
                        spawner.name(),
                    )));
                }
            }
        }
    }
}

impl Reactor {
    /// An idle reactor: nothing runs until [`Reactor::setup`] or
    /// [`Reactor::attach`].
    pub fn new() -> Self {
        Reactor {
            inner: Arc::new(Inner {
                spawner: Arc::new(OnceLock::new()),
                runtime: OnceLock::new(),
                lifecycle: Mutex::new(Lifecycle::Idle),
                registry: Registry::new(),
            }),
        }
    }

    /// A new reactor, started on `backend`.
    ///
    /// # Errors
    ///
    /// [`SetupError::StartFailed`] when the backend cannot start.
    pub fn start(backend: impl Backend) -> Result<Self, SetupError> {
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

    /// The lifecycle's lock, for paths a forked child may take: a lock a
    /// parent thread held at the fork is never taken (see `fork`).
    fn lock_here(&self) -> Result<MutexGuard<'_, Lifecycle>, WaitError> {
        fork::lock(&self.inner.lifecycle, &self.config().fork)
    }

    fn record_pid(&self) {
        self.config().fork.record();
    }

    /// This reactor's settings and stash.
    pub(crate) fn config(&self) -> &Config {
        &self.inner.registry.config
    }

    /// [`Reactor::config`], for work that must not keep the reactor alive.
    pub(crate) fn shared_config(&self) -> Arc<Config> {
        Arc::clone(&self.inner.registry.config)
    }

    /// Starts the reactor on `backend`, unless it already runs.
    ///
    /// Idempotent and thread-safe: only the first call starts anything.
    /// Later calls on a running reactor do nothing and return `Ok` when
    /// `backend` is of the backend that runs (by [`Backend::name`]), and
    /// refuse otherwise. After [`Reactor::no_setup`], before the attach, no
    /// backend runs yet: a call does nothing and returns `Ok`, as the
    /// application has said it will attach its own runtime. `backend` is
    /// dropped unused whenever nothing is started.
    ///
    /// # Errors
    ///
    /// [`SetupError::BackendMismatch`] when the reactor runs on another
    /// backend than `backend`'s (see [`Backend::name`]), naming both;
    /// [`SetupError::StartFailed`] when the backend cannot start (the reactor
    /// stays idle, so a later call may retry); [`SetupError::ReactorStopped`]
    /// after [`Reactor::shutdown`].
    pub fn setup(&self, backend: impl Backend) -> Result<(), SetupError> {
        let mut lifecycle = self.lock();
        match &*lifecycle {
            Lifecycle::Idle => {}
            Lifecycle::Stopped => return Err(SetupError::ReactorStopped),
            Lifecycle::AwaitingAttach(_) => return Ok(()),
            Lifecycle::Managed(_) | Lifecycle::Attached => {
                let running = self.backend_name().unwrap_or("unknown");
                let requested = backend.name();
                return if running == requested {
                    Ok(())
                } else {
                    Err(SetupError::BackendMismatch { running, requested })
                };
            }
        }
        let started = backend.start()?;
        self.record_pid();
        // Only ever set here or in `attach`, both under the lifecycle lock
        // from the idle state, so it is set at most once.
        context::add_hint(&*started.spawner);
        let _ = self.inner.runtime.set(started.spawner.runtime());
        let _ = self.inner.spawner.set(started.spawner);
        self.config().set_runtime();
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
    /// [`SetupError::AlreadyStarted`] when `setup` already started a managed
    /// runtime; [`SetupError::ReactorStopped`] after shutdown.
    pub fn no_setup(&self) -> Result<(), SetupError> {
        let mut lifecycle = self.lock();
        match &*lifecycle {
            Lifecycle::Idle => {
                self.record_pid();
                *lifecycle = Lifecycle::AwaitingAttach(Vec::new());
                Ok(())
            }
            Lifecycle::AwaitingAttach(_) | Lifecycle::Attached => Ok(()),
            Lifecycle::Managed(_) => Err(SetupError::AlreadyStarted),
            Lifecycle::Stopped => Err(SetupError::ReactorStopped),
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
    /// [`SetupError::AlreadyAttached`] when a runtime is attached already,
    /// [`SetupError::AlreadyStarted`] after `setup`, [`SetupError::ReactorStopped`]
    /// after shutdown.
    pub fn attach(&self, spawner: Arc<dyn Spawner>) -> Result<(), SetupError> {
        let mut lifecycle = self.lock();
        let queued = match &mut *lifecycle {
            Lifecycle::Idle => {
                self.record_pid();
                Vec::new()
            }
            Lifecycle::AwaitingAttach(queue) => std::mem::take(queue),
            Lifecycle::Attached => return Err(SetupError::AlreadyAttached),
            Lifecycle::Managed(_) => return Err(SetupError::AlreadyStarted),
            Lifecycle::Stopped => return Err(SetupError::ReactorStopped),
        };
        let _ = self.inner.runtime.set(spawner.runtime());
        let _ = self.inner.spawner.set(Arc::clone(&spawner));
        self.config().set_runtime();
        context::add_hint(&*spawner);
        *lifecycle = Lifecycle::Attached;
        drop(lifecycle);
        tracing::trace!(target: "crochet", backend = spawner.name(), queued = queued.len(), "runtime attached");
        for job in queued {
            job.run_on(&*spawner);
        }
        Ok(())
    }

    /// Checks that work can be taken, counts it, and registers it with
    /// the registry, which refuses it once shutdown has begun (so that
    /// shutdown reaches every operation it admitted).
    ///
    /// No fork check here (it is a syscall): a child forked after setup
    /// hears `Forked` from its first wait, before it parks, or from the
    /// registration if the lock it needs is busy (a parent thread may have
    /// held it at the fork).
    pub(crate) fn admit<T: Send + 'static, E: Send + 'static>(
        &self,
        cell: &Arc<Completion<T, E>>,
    ) -> Result<(), WaitError> {
        let shard = cell.shard().ok_or(WaitError::ReactorStopped)?;
        // Counted whatever follows: a refused operation ends (as stopped,
        // or failed) like any other, and `pending` is the difference.
        shard.count_submission();
        if self.inner.spawner.get().is_none() && matches!(*self.lock_here()?, Lifecycle::Idle) {
            return Err(WaitError::NotSetUp);
        }
        cell.admit()
    }

    /// Hands an admitted operation to the runtime: as its own type when
    /// crochet spawns on that runtime directly, boxed otherwise (and when
    /// it must wait for an attach).
    pub(crate) fn dispatch_send<F>(&self, operation: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self.inner.spawner.get() {
            Some(spawner) => {
                let runtime = self.inner.runtime.get().and_then(Option::as_ref);
                spawner::spawn_on(runtime, &**spawner, operation);
            }
            None => self.dispatch(Job::Send(Box::pin(operation))),
        }
    }

    /// Hands admitted work to the runtime, or queues it until attach.
    pub(crate) fn dispatch(&self, job: Job) {
        if let Some(spawner) = self.inner.spawner.get() {
            return job.run_on(&**spawner);
        }
        let Ok(mut lifecycle) = self.lock_here() else {
            // A forked child: nothing runs here; dropping the job
            // completes its result.
            return drop(job);
        };
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
        // In a forked child, with the lock held by a parent thread: no.
        self.lock_here().is_ok_and(|lifecycle| {
            matches!(*lifecycle, Lifecycle::Managed(_) | Lifecycle::Attached)
        })
    }

    /// Whether the reactor was shut down.
    pub(crate) fn is_stopped(&self) -> bool {
        self.lock_here()
            .is_ok_and(|lifecycle| matches!(*lifecycle, Lifecycle::Stopped))
    }

    /// How many submitted operations have not finished yet.
    pub fn pending_operations(&self) -> usize {
        self.inner.registry.len()
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// A new, pending cell for an operation submitted to this reactor at
    /// `location`, as closure `F`.
    pub(crate) fn new_cell<F, T: Send + 'static, E: Send + 'static>(
        &self,
        location: &'static Location<'static>,
    ) -> Arc<Completion<T, E>> {
        Completion::new::<F>(location, Some(self.inner.registry.shard()))
    }

    /// The reactor's spawner, set once it runs; shared so that long-lived
    /// work can reach it without keeping the reactor alive.
    pub(crate) fn spawner_slot(&self) -> Arc<OnceLock<Arc<dyn Spawner>>> {
        Arc::clone(&self.inner.spawner)
    }

    /// The reactor's spawner, once it runs.
    pub(crate) fn spawner(&self) -> Option<&Arc<dyn Spawner>> {
        self.inner.spawner.get()
    }

    /// The name of the backend this reactor runs on, once it runs.
    pub fn backend_name(&self) -> Option<&'static str> {
        self.inner.spawner.get().map(|spawner| spawner.name())
    }
}

impl Default for Reactor {
    fn default() -> Self {
        Reactor::new()
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never blocks: a busy lock shows as such.
        let state = self
            .inner
            .lifecycle
            .try_lock()
            .map_or("busy", |lifecycle| lifecycle.label());
        f.debug_struct("Reactor")
            .field("state", &state)
            .field("backend", &self.backend_name())
            .field("pending", &self.pending_operations())
            .finish()
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
