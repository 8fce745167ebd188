//! The backend trait: how crochet hands work to a runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use crate::error::WaitError;
use crate::runtime::Runtime;

/// A detached, boxed, `Send` unit of work, as crochet hands it to a backend.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A boxed future that must stay on the thread it was created on.
pub type LocalBoxFuture = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Something that runs crochet's work on an async runtime.
///
/// This is all a backend has to provide: crochet wraps every operation in a
/// future that catches panics, watches for cancellation, marks the reactor
/// thread and completes its result on its own, even when the runtime drops
/// it unfinished. A spawner therefore only detaches futures; it returns no
/// join handle and never blocks.
///
/// Implementations are held as `Arc<dyn Spawner>` by a
/// [`Reactor`](crate::Reactor).
pub trait Spawner: Send + Sync + fmt::Debug + 'static {
    /// Starts `task` on the runtime and detaches it.
    ///
    /// If the runtime cannot run it (it is shutting down), dropping `task`
    /// is the right answer: its result then completes with
    /// [`WaitError::ReactorStopped`].
    fn spawn(&self, task: BoxFuture);

    /// Runs a `!Send` task on a reactor thread, where it stays.
    ///
    /// `task` is `Send`; [`LocalTask::start`] builds the `!Send` future and
    /// must be called on the thread that will poll it.
    ///
    /// # Errors
    ///
    /// The default refuses, handing the task back, so that crochet can
    /// complete its result with [`WaitError::Unsupported`].
    fn spawn_local(&self, task: LocalTask) -> Result<(), LocalTask> {
        Err(task)
    }

    /// What a blocking wait may do on the calling thread, as this kind of
    /// runtime sees it (see [`BlockingHint`]).
    ///
    /// Crochet already refuses waits on the threads a backend marked with
    /// [`mark_reactor_thread`](crate::context::mark_reactor_thread), and on
    /// any thread while it polls a crochet task. The hint covers the
    /// threads a backend cannot mark: an attached runtime's, or a pool
    /// whose workers and blocking threads look alike. It says whether the
    /// thread *drives* the runtime right now (having the runtime's context,
    /// as a tokio `enter()` guard gives, is not driving it), and whether
    /// that work can be handed off while the thread blocks. It is a plain
    /// function, registered once per backend [`name`](Spawner::name) when
    /// a reactor starts and consulted on every blocking wait for the rest
    /// of the process, so it must be cheap and must not block. The default,
    /// `None`, is no hint.
    fn blocking_hint(&self) -> Option<fn() -> BlockingHint> {
        None
    }

    /// A future that completes at `deadline`, on the runtime's own timer.
    ///
    /// Called on a reactor thread, inside the runtime (so it may use the
    /// runtime's context). Crochet's periodic tasks
    /// ([`Reactor::every`](crate::Reactor::every)) sleep with it. The
    /// default, `None`, means the backend has no timer: periodic tasks then
    /// end with [`WaitError::Unsupported`].
    fn sleep_until(&self, deadline: Instant) -> Option<BoxFuture> {
        let _ = deadline;
        None
    }

    /// The runtime this spawner runs on, if it is one crochet spawns on
    /// directly: then each operation goes to it as its own type, in the
    /// runtime's task allocation, and [`Spawner::spawn`] is used only for
    /// work queued before an attach. The default, `None`, has every
    /// operation boxed and handed to [`Spawner::spawn`]: what a backend
    /// for another runtime does.
    fn runtime(&self) -> Option<Runtime> {
        None
    }

    /// Runs `body` on the calling thread inside the runtime's context, so
    /// that a future polled there finds the runtime's IO driver and timers,
    /// as inside the runtime's own `block_on`, and returns `true`; or
    /// returns `false` without calling it, which the default does: this
    /// runtime's futures cannot be polled on other threads. crochet's
    /// `wait_for` polls its future inside it, on the caller's thread
    /// ("inline"), while the runtime's own threads drive the IO; where this
    /// returns `false`, the future runs on the reactor. A runtime whose IO
    /// and timers need no context (async-io's are process-wide) just calls
    /// `body`.
    fn enter(&self, body: &mut dyn FnMut()) -> bool {
        let _ = body;
        false
    }

    /// A short name for the backend, for messages (`"tokio"`).
    fn name(&self) -> &'static str;
}

/// What a backend says of a blocking wait on the calling thread; see
/// [`Spawner::blocking_hint`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum BlockingHint {
    /// The thread drives none of this backend's runtimes: wait as usual.
    Allow,
    /// The thread drives this backend's runtime, and blocking it would
    /// stall that runtime: refuse with [`WaitError::WaitInReactor`](crate::WaitError::WaitInReactor).
    Refuse,
    /// The thread drives this backend's runtime, which can move that work
    /// to another thread while this one blocks: run the wait inside this
    /// function (tokio's `block_in_place`). It must call its argument once.
    HandOff(fn(&mut dyn FnMut())),
}

/// Spawns `operation` on `runtime` as its own type, or boxed on `spawner`
/// when the backend named no runtime crochet knows.
pub(crate) fn spawn_on<F>(runtime: Option<&Runtime>, spawner: &dyn Spawner, operation: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    match runtime {
        #[cfg(feature = "async-executor")]
        Some(Runtime::Executor(slots)) => slots.spawn(operation),
        #[cfg(feature = "async-std")]
        Some(Runtime::AsyncStd) => {
            drop(async_std::task::spawn(crate::compat::in_tokio_context(
                operation,
            )));
        }
        _ => spawner.spawn(Box::pin(operation)),
    }
}

/// A `!Send` operation on its way to a reactor thread.
///
/// Backends that support [`Spawner::spawn_local`] move it to the thread that
/// will run it and call [`LocalTask::start`] there. Dropping it unstarted
/// completes its result with [`WaitError::ReactorStopped`].
pub struct LocalTask(Box<dyn StartLocal>);

/// The type-erased inside of a [`LocalTask`].
pub(crate) trait StartLocal: Send {
    fn start(self: Box<Self>) -> LocalBoxFuture;
    fn fail(self: Box<Self>, error: WaitError);
}

impl LocalTask {
    pub(crate) fn new(inner: Box<dyn StartLocal>) -> Self {
        LocalTask(inner)
    }

    /// Builds the `!Send` future. Call it on the thread that will poll it.
    pub fn start(self) -> LocalBoxFuture {
        self.0.start()
    }

    pub(crate) fn fail(self, error: WaitError) {
        self.0.fail(error);
    }
}

impl fmt::Debug for LocalTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalTask").finish_non_exhaustive()
    }
}
