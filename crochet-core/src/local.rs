//! A crochet-owned thread with a small executor of its own, for `!Send`
//! work on runtimes that cannot pin a task to one of their threads.
//!
//! Futures run on the thread they were started on; wakers are `Send` and
//! only push the task's key back onto the thread's queue.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use slab::Slab;

use crate::error::{SetupError, ShutdownError};
use crate::panic;
use crate::spawner::{BoxFuture, LocalBoxFuture, LocalTask};
use crate::threads::ReactorThreads;

enum Runnable {
    Spawn(BoxFuture),
    Start(LocalTask),
    Wake(usize),
    Stop,
}

#[derive(Default)]
struct Queue {
    runnable: Mutex<VecDeque<Runnable>>,
    ready: Condvar,
}

impl Queue {
    fn push(&self, runnable: Runnable) {
        self.runnable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(runnable);
        self.ready.notify_one();
    }

    /// The next runnable, waiting for one.
    fn pop(&self) -> Runnable {
        let mut runnable = self.runnable.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(next) = runnable.pop_front() {
                return next;
            }
            runnable = self
                .ready
                .wait(runnable)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn drain(&self) -> Vec<Runnable> {
        self.runnable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect()
    }
}

struct TaskWaker {
    key: usize,
    queue: Arc<Queue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.queue.push(Runnable::Wake(self.key));
    }
}

/// A thread named `crochet-…` that runs futures which never leave it.
///
/// Backends whose runtime has no way to pin a `!Send` future to one of its
/// threads give [`Spawner::spawn_local`](crate::backend::Spawner::spawn_local) work
/// to one of these. [`LocalThread::shutdown`] drops every future still
/// there, on the thread, and waits for it to exit.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::backend::LocalThread;
///
/// let thread = LocalThread::start("crochet-local-example")?;
/// let handle = thread.handle();
/// handle.spawn(Box::pin(async { println!("ran on the local thread") }));
/// thread.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub struct LocalThread {
    handle: LocalHandle,
    thread: ReactorThreads,
}

/// Submits work to a [`LocalThread`]; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct LocalHandle {
    queue: Arc<Queue>,
}

impl LocalThread {
    /// Starts the thread.
    ///
    /// # Errors
    ///
    /// [`SetupError::StartFailed`] when the thread cannot be created.
    pub fn start(name: impl Into<String>) -> Result<Self, SetupError> {
        let queue = Arc::new(Queue::default());
        let mut thread = ReactorThreads::new();
        let run_queue = Arc::clone(&queue);
        thread.spawn(name, move || run(&run_queue))?;
        Ok(LocalThread {
            handle: LocalHandle { queue },
            thread,
        })
    }

    /// A handle that submits work to this thread.
    pub fn handle(&self) -> LocalHandle {
        self.handle.clone()
    }

    /// Stops the thread: work still there is dropped on the thread, then
    /// the thread exits, within `timeout`.
    ///
    /// # Errors
    ///
    /// [`ShutdownError::TimedOut`] when a future is blocking the thread.
    pub fn shutdown(self, timeout: Duration) -> Result<(), ShutdownError> {
        self.handle.queue.push(Runnable::Stop);
        self.thread.join(timeout)
    }
}

impl LocalHandle {
    /// Runs a `Send` future on the thread.
    pub fn spawn(&self, future: BoxFuture) {
        self.queue.push(Runnable::Spawn(future));
    }

    /// Starts a `!Send` operation on the thread.
    pub fn spawn_local(&self, task: LocalTask) {
        self.queue.push(Runnable::Start(task));
    }
}

impl fmt::Debug for LocalThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalThread")
            .field("thread", &self.thread)
            .finish()
    }
}

impl fmt::Debug for LocalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalHandle").finish_non_exhaustive()
    }
}

fn run(queue: &Arc<Queue>) {
    let mut tasks: Slab<LocalBoxFuture> = Slab::new();
    let start = |tasks: &mut Slab<LocalBoxFuture>, future: LocalBoxFuture| {
        let key = tasks.insert(future);
        queue.push(Runnable::Wake(key));
    };
    loop {
        match queue.pop() {
            Runnable::Spawn(future) => start(&mut tasks, future),
            Runnable::Start(task) => start(&mut tasks, task.start()),
            Runnable::Wake(key) => {
                let waker = Waker::from(Arc::new(TaskWaker {
                    key,
                    queue: Arc::clone(queue),
                }));
                // A stale wake of a finished task (whose key may since have
                // been reused) costs one spurious poll, which futures allow.
                let Some(future) = tasks.get_mut(key) else {
                    continue;
                };
                // A panic in a future would end this thread and strand
                // every other task on it: contain it, and drop that task.
                let polled =
                    panic::catch(|| future.as_mut().poll(&mut Context::from_waker(&waker)));
                match polled {
                    Ok(std::task::Poll::Pending) => {}
                    Ok(std::task::Poll::Ready(())) => drop(tasks.remove(key)),
                    Err(panic) => {
                        tracing::error!(
                            target: "crochet",
                            panic = panic.message(),
                            "a task panicked on a local thread; it was dropped"
                        );
                        panic::drop_quietly(tasks.remove(key));
                    }
                }
            }
            Runnable::Stop => break,
        }
    }
    // Dropped here, on this thread: the futures' destructors run where the
    // futures lived. Work that arrives later is dropped by its sender's
    // queue once the last handle goes.
    panic::drop_quietly(tasks);
    panic::drop_quietly(queue.drain());
}
