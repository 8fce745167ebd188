//! The smol backend of crochet: a managed [`async_executor::Executor`] on
//! crochet's own threads, or an application's executor attached.
//!
//! Built from the smol-rs crates directly (async-executor, async-io,
//! futures-lite): work runs on any of them, and IO and timers go through
//! async-io, as in any smol program.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use crochet_core::Reactor;
//! use crochet_smol::Smol;
//!
//! let reactor = Reactor::start(Smol::builder())?;
//! let result = reactor.run_in_reactor(|| async {
//!     async_io::Timer::after(Duration::from_millis(5)).await;
//!     "slept on the reactor"
//! });
//! assert_eq!(result.wait_timeout(Duration::from_secs(5))?, "slept on the reactor");
//! reactor.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), crochet_core::Error>(())
//! ```
//!
//! # Managed
//!
//! [`Smol::builder`] starts an executor on crochet's threads: one named
//! `crochet-smol` by default, more with [`Builder::threads`]. Unlike smol's
//! global executor, this one is dropped at shutdown, so the futures still
//! in it are dropped (their destructors run) on a reactor thread. `!Send`
//! work runs on a `LocalExecutor` on the first thread.
//!
//! Smol has no ambient runtime: to spawn more tasks on the reactor from
//! inside crochet work, use [`current_executor`].
//!
//! # Attached
//!
//! [`Smol::from_executor`] spawns onto an `Arc<Executor<'static>>` that the
//! application runs itself: the application must keep running it (with
//! `executor.run(...)` on some thread), or crochet's work never starts:
//! waits then time out, and shutdown still completes every result. Drive
//! it with [`run`] instead of `executor.run` to have blocking waits on its
//! threads refused instead of deadlocking.
//!
//! # Tokio-based crates
//!
//! Futures from crates built on tokio (reqwest, tonic, sqlx, ...) need a
//! tokio runtime's context to find their IO driver and timers. With the
//! `tokio-compat` cargo feature (off by default), every operation crochet
//! spawns here, `!Send` work included, is polled and dropped inside a tokio
//! context, as inside `async_compat::Compat`, so such futures work
//! unchanged. The threads of the managed reactor hold that context for
//! their whole run, so that an operation polled there enters nothing; on
//! an attached executor's threads, each poll enters it. The
//! context is the caller's tokio runtime if the thread is already in one,
//! else a current-thread runtime that async-compat keeps, one per process,
//! on its own thread (`async-compat/tokio-1`), started when the first
//! reactor starts (or attaches). That thread drives tokio's IO and timers,
//! and runs what the work `tokio::spawn`s; the work itself stays on smol's
//! threads. That runtime lives as long as the process: crochet's shutdown
//! does not stop it.
//!
//! Without the feature, such a future panics ("there is no reactor
//! running, must be called from the context of a Tokio 1.x runtime"), which
//! crochet reports as [`WaitError::Panicked`](crochet_core::WaitError::Panicked), and this backend builds no tokio.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::{Executor, LocalExecutor};
use crochet_core::backend::compat::{hold_tokio_context, in_tokio_context, start_tokio_context};
use crochet_core::backend::{
    self as context, Backend, BoxFuture, Driver, ExecutorSlots, LocalTask, ReactorThreads, Runtime,
    Spawner, Started,
};
use crochet_core::{SetupError, ShutdownError};

mod woken;
use woken::WhenWoken;

/// An async-executor that crochet runs work on.
pub struct Smol {
    /// Taken out at shutdown and handed to a reactor thread to drop there;
    /// spawning after that drops the task (its result is stopped). Sharded:
    /// no lock that every submitting thread shares.
    executor: Arc<ExecutorSlots>,
    /// The first managed thread's mailbox, for `!Send` work and stopping.
    mailbox: Option<async_channel::Sender<Message>>,
}

enum Message {
    Local(LocalTask),
    Stop(Arc<Executor<'static>>),
}

impl Smol {
    /// A builder for a managed smol reactor (one thread named
    /// `crochet-smol`, by default).
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Wraps an executor the application runs, to attach with
    /// [`Reactor::attach`](crochet_core::Reactor::attach).
    ///
    /// The application must keep running `executor`; see the [crate
    /// docs](crate#attached).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use crochet_core::Reactor;
    /// use crochet_smol::Smol;
    ///
    /// let executor = Arc::new(Executor::new());
    /// let (stop, stopped) = async_channel::bounded::<()>(1);
    /// let runner = {
    ///     let executor = Arc::clone(&executor);
    ///     std::thread::spawn(move || {
    ///         async_io::block_on(crochet_smol::run(&executor, stopped.recv()))
    ///     })
    /// };
    /// let reactor = Reactor::new();
    /// reactor.attach(Smol::from_executor(executor))?;
    /// assert_eq!(reactor.wait_for(Duration::from_secs(5), || async { 42 })?, 42);
    /// reactor.shutdown(Duration::from_secs(5))?;
    /// drop(stop);
    /// # let _ = runner.join();
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn from_executor(executor: Arc<Executor<'static>>) -> Arc<Smol> {
        start_tokio_context();
        Arc::new(Smol {
            executor: Arc::new(ExecutorSlots::new(&executor)),
            mailbox: None,
        })
    }
}

/// Attaches an application's executor to the global reactor: the short
/// form of `crochet_core::attach(Smol::from_executor(executor))`. The
/// application must keep running it; see the [crate docs](crate#attached).
///
/// # Errors
///
/// As [`Reactor::attach`](crochet_core::Reactor::attach).
pub fn attach(executor: Arc<Executor<'static>>) -> Result<(), SetupError> {
    crochet_core::attach(Smol::from_executor(executor))
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
}

/// The executor running the current task, when called on a crochet smol
/// thread or inside [`run`]: spawn more tasks on the reactor with it.
///
/// # Examples
///
/// ```
/// # use std::time::{Duration, Instant};
/// # let reactor = crochet_core::Reactor::start(crochet_smol::Smol::builder())?;
/// let sum = reactor.wait_for(Duration::from_secs(5), || async {
///     let executor = crochet_smol::current_executor().expect("on the reactor");
///     let task = executor.spawn(async { 40 });
///     task.await + 2
/// })?;
/// assert_eq!(sum, 42);
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub fn current_executor() -> Option<Arc<Executor<'static>>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Makes `*executor` the calling thread's [`current_executor`] until the
/// guard is dropped, which puts it back into `*executor` and restores the
/// previous one. Swapping, not cloning, keeps the reference count still.
fn enter_executor<'a>(executor: &'a mut Option<Arc<Executor<'static>>>) -> Entered<'a> {
    let previous = CURRENT.with(|current| current.replace(executor.take()));
    Entered { executor, previous }
}

struct Entered<'a> {
    executor: &'a mut Option<Arc<Executor<'static>>>,
    previous: Option<Arc<Executor<'static>>>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        *self.executor = CURRENT.with(|current| current.replace(self.previous.take()));
    }
}

/// Runs `executor` until `future` completes, as `executor.run(future)`
/// does, and meanwhile marks the calling thread as a reactor thread (a
/// blocking wait in one of the executor's tasks is refused with
/// [`WaitError::WaitInReactor`](crochet_core::WaitError::WaitInReactor) instead of deadlocking) and makes `executor`
/// the [`current_executor`].
pub async fn run<T>(executor: &Arc<Executor<'static>>, future: impl Future<Output = T>) -> T {
    let mut running = pin!(executor.run(future));
    let mut executor = Some(Arc::clone(executor));
    poll_fn(|cx| {
        let _reactor = context::enter_reactor();
        let _current = enter_executor(&mut executor);
        running.as_mut().poll(cx)
    })
    .await
}

impl Spawner for Smol {
    fn spawn(&self, task: BoxFuture) {
        self.executor.spawn(task);
    }

    fn spawn_local(&self, task: LocalTask) -> Result<(), LocalTask> {
        match &self.mailbox {
            // A closed mailbox drops the task: its result is stopped.
            Some(mailbox) => {
                drop(mailbox.try_send(Message::Local(task)));
                Ok(())
            }
            None => Err(task),
        }
    }

    fn sleep_until(&self, deadline: Instant) -> Option<BoxFuture> {
        Some(Box::pin(async move {
            async_io::Timer::at(deadline).await;
        }))
    }

    fn runtime(&self) -> Option<Runtime> {
        Some(Runtime::Executor(Arc::clone(&self.executor)))
    }

    fn enter(&self, body: &mut dyn FnMut()) -> bool {
        // async-io's IO and timers are process-wide, driven by its own
        // thread: the one context to give a future polled on the caller's
        // thread is the executor, as `current_executor`.
        let mut executor = self.executor.executor();
        let _current = enter_executor(&mut executor);
        body();
        true
    }

    fn name(&self) -> &'static str {
        "smol"
    }
}

impl fmt::Debug for Smol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smol")
            .field("managed", &self.mailbox.is_some())
            .finish_non_exhaustive()
    }
}

/// Configures a managed smol reactor; pass it to
/// [`Reactor::setup`](crochet_core::Reactor::setup) or
/// [`setup_with`](crochet_core::setup_with).
#[derive(Clone, Debug)]
pub struct Builder {
    threads: usize,
    thread_name: String,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            threads: 1,
            thread_name: "crochet-smol".to_owned(),
        }
    }
}

impl Builder {
    /// How many threads run the executor (at least one; default one). The
    /// first also runs `!Send` work.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The name of the first thread; the others get `-1`, `-2`, ...
    /// appended. Defaults to `crochet-smol`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }
}

impl Backend for Builder {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn start(self) -> Result<Started, SetupError> {
        start_tokio_context();
        let executor = Arc::new(Executor::new());
        let (mailbox, inbox) = async_channel::unbounded();
        // Closed (by the first thread) to stop the others.
        let (halt, halted) = async_channel::bounded::<()>(1);
        let mut threads = ReactorThreads::new();
        let first = {
            let executor = Arc::clone(&executor);
            threads.spawn(self.thread_name.clone(), move || {
                drive_first(&executor, &inbox);
                halt.close();
            })
        };
        first?;
        for index in 1..self.threads {
            let runner = Arc::clone(&executor);
            let halted = halted.clone();
            let name = format!("{}-{index}", self.thread_name);
            if let Err(error) = threads.spawn(name, move || {
                // Held for the executor's run (what the executor still
                // holds when it goes enters the context for its own drop).
                let _tokio = hold_tokio_context();
                let mut current = Some(Arc::clone(&runner));
                let _current = enter_executor(&mut current);
                async_io::block_on(runner.run(halted.recv())).ok();
            }) {
                // Stop what started, then report.
                drop(mailbox.try_send(Message::Stop(executor)));
                let _ = threads.join(Duration::from_secs(1));
                return Err(error);
            }
        }
        let smol = Arc::new(Smol {
            executor: Arc::new(ExecutorSlots::new(&executor)),
            mailbox: Some(mailbox),
        });
        Ok(Started::new(
            Arc::clone(&smol) as Arc<dyn Spawner>,
            Box::new(SmolDriver { smol, threads }),
        ))
    }
}

/// The first thread: the executor, a local executor for `!Send` work, and
/// the mailbox, until told to stop. Everything left is dropped here.
fn drive_first(executor: &Arc<Executor<'static>>, inbox: &async_channel::Receiver<Message>) {
    // With `tokio-compat`, tokio's context for the thread's whole run: the
    // operations polled here enter none of their own.
    let tokio = hold_tokio_context();
    let mut current = Some(Arc::clone(executor));
    let entered = enter_executor(&mut current);
    let local = LocalExecutor::new();
    // Polled only when a local task or the mailbox woke it, not on every
    // wake-up of the thread.
    let local_part = WhenWoken::new(local.run(async {
        while let Ok(message) = inbox.recv().await {
            match message {
                Message::Local(task) => local.spawn(in_tokio_context(task.start())).detach(),
                Message::Stop(executor) => return Some(executor),
            }
        }
        None
    }));
    let last = async_io::block_on(executor.run(local_part));
    // `!Send` futures are dropped on the thread they ran on.
    drop(local);
    drop(entered);
    drop(current);
    // The spawner's reference, handed over so that the executor (and the
    // futures still in it) is dropped on a reactor thread: here, or on
    // whichever other executor thread lets go of it last.
    drop(last);
    drop(tokio);
}

/// Stops a managed smol reactor.
struct SmolDriver {
    smol: Arc<Smol>,
    threads: ReactorThreads,
}

impl fmt::Debug for SmolDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmolDriver")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl Driver for SmolDriver {
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), ShutdownError> {
        let executor = self.smol.executor.take();
        if let (Some(mailbox), Some(executor)) = (&self.smol.mailbox, executor) {
            drop(mailbox.try_send(Message::Stop(executor)));
        }
        self.threads.join(timeout)
    }
}
