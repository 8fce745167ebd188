//! The tokio backend of crochet: a managed tokio runtime on its own thread,
//! or an application's runtime attached by its [`Handle`].
//!
//! Use it through the `crochet` crate (its default `tokio` feature), or
//! directly with a [`Reactor`](crochet_core::Reactor) of your own.
//!
//! ```
//! use std::time::Duration;
//! use crochet_core::Reactor;
//! use crochet_tokio::Tokio;
//!
//! let reactor = Reactor::start(Tokio::builder())?;
//! let result = reactor.run_in_reactor(|| async {
//!     // This closure runs on the reactor thread, inside the runtime.
//!     tokio::spawn(async { 21 * 2 }).await.unwrap()
//! });
//! assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 42);
//! reactor.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), crochet_core::Error>(())
//! ```
//!
//! # Managed
//!
//! [`Tokio::builder`] starts a `current_thread` runtime built, driven and
//! dropped on one thread named `crochet-tokio` (or a `multi_thread`
//! runtime with [`Builder::multi_thread`], whose workers are named
//! `crochet-tokio-worker`). `!Send` work
//! ([`run_in_reactor_local`](crochet_core::Reactor::run_in_reactor_local))
//! runs on a `LocalSet` on the `crochet-tokio` thread.
//!
//! # Attached
//!
//! [`Tokio::from_handle`] wraps the [`Handle`] of a runtime the application
//! runs; crochet spawns onto it and leaves its life to the application.
//! `!Send` work is not offered there.
//!
//! # Blocking waits inside a tokio runtime
//!
//! Crochet asks tokio which thread drives a runtime
//! ([`tokio::runtime::worker_index`]), rather than guessing from "this
//! thread has a runtime context":
//!
//! - On a `multi_thread` worker (in any task of such a runtime, attached
//!   or not), a blocking wait hands the worker's other tasks to another
//!   thread with [`tokio::task::block_in_place`] and waits: it completes.
//! - On a `current_thread` runtime's driver (inside its `block_on`, or any
//!   of its tasks), it returns `WaitInReactor` at once: the runtime has no
//!   other thread to run the work on.
//! - Elsewhere it waits as on any thread: a thread that only holds an
//!   `enter()` guard (GUI and CLI mains do, to build reqwest or tonic
//!   types), `spawn_blocking` threads, and the thread in a `multi_thread`
//!   runtime's `block_on`.
//! - Crochet's tasks always refuse, and so does the managed runtime's own
//!   `crochet-tokio` thread; a managed `multi_thread` runtime's workers
//!   hand off like any other.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use crochet_core::backend::{
    Backend, BlockingHint, BoxFuture, Driver, LocalTask, Mailbox, MailboxSender, ReactorThreads,
    Spawner, Started, mailbox,
};
use crochet_core::{SetupError, ShutdownError};
use tokio::runtime::{self, Handle, Runtime, RuntimeFlavor};
use tokio::task::LocalSet;

/// The longest a runtime is given to stop its blocking threads.
const MAX_GRACE: Duration = Duration::from_secs(365 * 24 * 3600);

/// A tokio runtime that crochet runs work on.
pub struct Tokio {
    handle: Handle,
    /// The managed reactor thread's mailbox, for `!Send` work.
    local: Option<MailboxSender<Message>>,
}

enum Message {
    Local(LocalTask),
    Stop(Option<Instant>),
}

impl Tokio {
    /// A builder for a managed tokio reactor (a `current_thread` runtime on
    /// one thread named `crochet-tokio`, by default).
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Wraps an application's runtime, to attach with
    /// [`Reactor::attach`](crochet_core::Reactor::attach).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use crochet_core::Reactor;
    /// use crochet_tokio::Tokio;
    ///
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// let reactor = Reactor::new();
    /// reactor.attach(Tokio::from_handle(runtime.handle().clone()))?;
    /// let answer = reactor.wait_for(Duration::from_secs(5), || async { 42 })?;
    /// assert_eq!(answer, 42);
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_handle(handle: Handle) -> Arc<Tokio> {
        Arc::new(Tokio {
            handle,
            local: None,
        })
    }

    /// The handle of the runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

/// Attaches an application's tokio runtime to the global reactor: the
/// short form of `crochet_core::attach(Tokio::from_handle(handle))`.
///
/// # Errors
///
/// As [`Reactor::attach`](crochet_core::Reactor::attach).
pub fn attach(handle: Handle) -> Result<(), SetupError> {
    crochet_core::attach(Tokio::from_handle(handle))
}

impl Spawner for Tokio {
    fn spawn(&self, task: BoxFuture) {
        // Detached: the join handle is dropped. A runtime that is shutting
        // down drops the task, which completes its result as stopped.
        drop(self.handle.spawn(task));
    }

    fn spawn_local(&self, task: LocalTask) -> Result<(), LocalTask> {
        match &self.local {
            // If the reactor thread is gone, the message (and the task) is
            // dropped, which completes the result as stopped.
            Some(mailbox) => {
                drop(mailbox.send(Message::Local(task)));
                Ok(())
            }
            None => Err(task),
        }
    }

    fn blocking_hint(&self) -> Option<fn() -> BlockingHint> {
        Some(blocking_hint)
    }

    fn enter(&self, body: &mut dyn FnMut()) -> bool {
        // As `Handle::block_on` does: the runtime's threads drive the IO
        // and timers (the managed current_thread runtime parks on them on
        // its own thread).
        let _entered = self.handle.enter();
        body();
        true
    }

    fn sleep_until(&self, deadline: Instant) -> Option<BoxFuture> {
        // Needs the runtime's timer: managed runtimes enable it; an
        // attached runtime must be built with `enable_time()`.
        Some(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    fn name(&self) -> &'static str {
        "tokio"
    }
}

/// A blocking wait on a thread that drives a tokio runtime: handed off on
/// a `multi_thread` worker, refused on a `current_thread` driver; anywhere
/// else (an `enter()` guard, a blocking-pool thread, a multi-thread
/// runtime's `block_on`) not tokio's business. See the [crate
/// docs](crate#blocking-waits-inside-a-tokio-runtime).
fn blocking_hint() -> BlockingHint {
    if tokio::runtime::worker_index().is_none() {
        return BlockingHint::Allow;
    }
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => hand_off(),
        _ => BlockingHint::Refuse,
    }
}

/// On a `multi_thread` worker: handed off with `block_in_place`, which
/// tokio offers with its `rt-multi-thread` feature (this crate's
/// `multi-thread`); refused without it.
#[cfg(feature = "multi-thread")]
fn hand_off() -> BlockingHint {
    BlockingHint::HandOff(block_in_place)
}

#[cfg(not(feature = "multi-thread"))]
fn hand_off() -> BlockingHint {
    BlockingHint::Refuse
}

#[cfg(feature = "multi-thread")]
fn block_in_place(wait: &mut dyn FnMut()) {
    tokio::task::block_in_place(wait);
}

impl fmt::Debug for Tokio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokio")
            .field("flavor", &self.handle.runtime_flavor())
            .field("managed", &self.local.is_some())
            .finish()
    }
}

/// Configures a managed tokio reactor; pass it to
/// [`Reactor::setup`](crochet_core::Reactor::setup) or
/// [`setup_with`](crochet_core::setup_with).
#[derive(Clone, Debug)]
pub struct Builder {
    /// `Some` for a `multi_thread` runtime, with this many workers.
    #[cfg_attr(not(feature = "multi-thread"), allow(dead_code))]
    workers: Option<usize>,
    thread_name: String,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            workers: None,
            thread_name: "crochet-tokio".to_owned(),
        }
    }
}

impl Builder {
    /// A `current_thread` runtime: everything runs on the one reactor
    /// thread. The default, and the fastest for round trips.
    pub fn current_thread(mut self) -> Self {
        self.workers = None;
        self
    }

    /// A `multi_thread` runtime with `workers` worker threads (at least
    /// one), for CPU-heavy async work; the reactor thread still runs
    /// `!Send` work. With the `multi-thread` feature (the `crochet`
    /// crate's `tokio-multi-thread`), which turns on tokio's
    /// `rt-multi-thread`.
    #[cfg(feature = "multi-thread")]
    #[cfg_attr(docsrs, doc(cfg(feature = "multi-thread")))]
    pub fn multi_thread(mut self, workers: usize) -> Self {
        self.workers = Some(workers.max(1));
        self
    }

    /// The name of the reactor thread (workers get `-worker` appended).
    /// Defaults to `crochet-tokio`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    fn runtime(&self, id: u64, live: &Arc<AtomicUsize>) -> std::io::Result<Runtime> {
        let mut builder = self.runtime_builder();
        // Every thread the runtime starts (workers and blocking pool) knows
        // which runtime it belongs to, so that a shutdown called from one of
        // them does not wait for itself; and the live ones are counted, so
        // that a shutdown that leaves one behind says so.
        let started = Arc::clone(live);
        let stopped = Arc::clone(live);
        builder
            .on_thread_start(move || {
                started.fetch_add(1, Ordering::AcqRel);
                RUNTIME_ID.with(|current| current.set(id));
            })
            .on_thread_stop(move || {
                stopped.fetch_sub(1, Ordering::AcqRel);
            })
            .enable_all()
            .build()
    }
}

impl Builder {
    #[cfg(feature = "multi-thread")]
    fn runtime_builder(&self) -> runtime::Builder {
        match self.workers {
            None => runtime::Builder::new_current_thread(),
            Some(workers) => {
                let mut builder = runtime::Builder::new_multi_thread();
                // Workers are not marked: like any multi-thread worker, a
                // blocking wait there hands the worker off (see the hint).
                builder
                    .worker_threads(workers)
                    .thread_name(format!("{}-worker", self.thread_name));
                builder
            }
        }
    }

    #[cfg(not(feature = "multi-thread"))]
    fn runtime_builder(&self) -> runtime::Builder {
        runtime::Builder::new_current_thread()
    }
}

impl Backend for Builder {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn start(self) -> Result<Started, SetupError> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let live = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = std_mpsc::sync_channel(1);
        let mut threads = ReactorThreads::new();
        let name = self.thread_name.clone();
        let counted = Arc::clone(&live);
        threads.spawn(name, move || {
            // This thread runs the runtime (its `block_on`) without being
            // one the runtime started: it belongs to it all the same.
            RUNTIME_ID.with(|current| current.set(id));
            let runtime = match self.runtime(id, &counted) {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                    return;
                }
            };
            let (mailbox, inbox) = mailbox();
            if ready_tx
                .send(Ok((runtime.handle().clone(), mailbox)))
                .is_ok()
            {
                drive(runtime, inbox);
            }
        })?;
        match ready_rx.recv() {
            Ok(Ok((handle, mailbox))) => Ok(Started::new(
                Arc::new(Tokio {
                    handle,
                    local: Some(mailbox.clone()),
                }),
                Box::new(TokioDriver {
                    id,
                    live,
                    mailbox,
                    threads,
                }),
            )),
            Ok(Err(error)) => {
                let _ = threads.join(Duration::from_secs(1));
                Err(SetupError::start_failed(error))
            }
            Err(_) => Err(SetupError::start_failed(std::io::Error::other(
                "the tokio reactor thread exited while starting",
            ))),
        }
    }
}

/// The reactor thread's life: run the runtime (and a `LocalSet` for `!Send`
/// work) until told to stop, then drop everything here, outside any async
/// context.
fn drive(runtime: Runtime, mut inbox: Mailbox<Message>) {
    // No `LocalSet` until the first `!Send` task: its bookkeeping on every
    // scheduler tick would otherwise cost every operation.
    let deadline = match runtime.block_on(serve(&mut inbox, Err)) {
        Ok(deadline) => deadline,
        Err(first) => {
            let local = LocalSet::new();
            let deadline = local.block_on(&runtime, async {
                spawn_local(first);
                serve(&mut inbox, |task| {
                    spawn_local(task);
                    Ok(())
                })
                .await
                .unwrap_or(None)
            });
            let _context = runtime.enter();
            drop(local);
            deadline
        }
    };
    let grace = deadline.map_or(MAX_GRACE, |deadline| {
        deadline.saturating_duration_since(Instant::now())
    });
    runtime.shutdown_timeout(grace.min(MAX_GRACE));
}

fn spawn_local(task: LocalTask) {
    drop(tokio::task::spawn_local(task.start()));
}

/// Serves the mailbox until told to stop (`Ok` with the deadline), or
/// until `local` hands a `!Send` task back (`Err`).
async fn serve(
    inbox: &mut Mailbox<Message>,
    mut local: impl FnMut(LocalTask) -> Result<(), LocalTask>,
) -> Result<Option<Instant>, LocalTask> {
    while let Some(message) = inbox.recv().await {
        match message {
            Message::Local(task) => local(task)?,
            Message::Stop(deadline) => return Ok(deadline),
        }
    }
    // Every sender is gone: nobody can reach this reactor any more.
    Ok(Some(Instant::now()))
}

/// Stops a managed tokio reactor.
#[derive(Debug)]
struct TokioDriver {
    id: u64,
    /// The runtime's own threads (workers, blocking pool) still running.
    live: Arc<AtomicUsize>,
    mailbox: MailboxSender<Message>,
    threads: ReactorThreads,
}

impl Driver for TokioDriver {
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), ShutdownError> {
        if RUNTIME_ID.with(Cell::get) == self.id {
            // Called from one of the runtime's own threads (a worker, or
            // `spawn_blocking`): it cannot wait for them, and the runtime
            // must not wait for it. Stop now, without a grace period.
            drop(self.mailbox.send(Message::Stop(Some(Instant::now()))));
            return Ok(());
        }
        let deadline = Instant::now().checked_add(timeout);
        drop(self.mailbox.send(Message::Stop(deadline)));
        self.threads.join(timeout)?;
        // The reactor thread has dropped the runtime, which waited for its
        // threads until the same deadline: one still running is stuck in a
        // task, and left behind.
        if self.live.load(Ordering::Acquire) > 0 {
            return Err(ShutdownError::TimedOut { after: timeout });
        }
        Ok(())
    }
}

thread_local! {
    /// The managed runtime the calling thread belongs to (0: none).
    static RUNTIME_ID: Cell<u64> = const { Cell::new(0) };
}
