//! A minimal one-thread backend so that this crate's documentation examples
//! run without a runtime crate. Not part of the API; use a real backend
//! (`crochet-tokio`, ...) in programs.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use slab::Slab;

use crate::backend::{Backend, Driver, Started};
use crate::error::Error;
use crate::spawner::{BoxFuture, LocalBoxFuture, LocalTask, Spawner, Unsupported};
use crate::threads::ReactorThreads;

/// A one-thread executor for documentation examples.
#[derive(Clone, Copy, Debug, Default)]
pub struct MiniBackend;

enum Runnable {
    Send(Arc<SendTask>),
    Local(usize),
    StartLocal(LocalTask),
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
}

struct SendTask {
    future: Mutex<Option<BoxFuture>>,
    queue: Arc<Queue>,
}

impl Wake for SendTask {
    fn wake(self: Arc<Self>) {
        let queue = Arc::clone(&self.queue);
        queue.push(Runnable::Send(self));
    }
}

struct LocalWaker {
    key: usize,
    queue: Arc<Queue>,
}

impl Wake for LocalWaker {
    fn wake(self: Arc<Self>) {
        self.queue.push(Runnable::Local(self.key));
    }
}

/// The spawner of a [`MiniBackend`].
#[derive(Debug)]
pub struct MiniSpawner {
    queue: Arc<Queue>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

impl Spawner for MiniSpawner {
    fn spawn(&self, task: BoxFuture) {
        let task = Arc::new(SendTask {
            future: Mutex::new(Some(task)),
            queue: Arc::clone(&self.queue),
        });
        self.queue.push(Runnable::Send(task));
    }

    fn spawn_local(&self, task: LocalTask) -> Result<(), Unsupported> {
        self.queue.push(Runnable::StartLocal(task));
        Ok(())
    }

    fn name(&self) -> &'static str {
        "mini"
    }
}

#[derive(Debug)]
struct MiniDriver {
    queue: Arc<Queue>,
    threads: ReactorThreads,
}

impl Driver for MiniDriver {
    fn shutdown(self: Box<Self>, timeout: Duration) -> Result<(), Error> {
        self.queue.push(Runnable::Stop);
        self.threads.join(timeout)
    }
}

impl Backend for MiniBackend {
    fn start(self) -> Result<Started, Error> {
        let queue = Arc::new(Queue::default());
        let mut threads = ReactorThreads::new();
        let run_queue = Arc::clone(&queue);
        threads.spawn("crochet-mini", move || run(&run_queue))?;
        Ok(Started::new(
            Arc::new(MiniSpawner {
                queue: Arc::clone(&queue),
            }),
            Box::new(MiniDriver { queue, threads }),
        ))
    }
}

fn run(queue: &Arc<Queue>) {
    let mut locals: Slab<LocalBoxFuture> = Slab::new();
    loop {
        match queue.pop() {
            Runnable::Send(task) => {
                let waker = Waker::from(Arc::clone(&task));
                let mut slot = task.future.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(future) = slot.as_mut() {
                    if poll(future.as_mut(), &waker) {
                        *slot = None;
                    }
                }
            }
            Runnable::StartLocal(task) => {
                let key = locals.insert(task.start());
                queue.push(Runnable::Local(key));
            }
            Runnable::Local(key) => {
                let waker = Waker::from(Arc::new(LocalWaker {
                    key,
                    queue: Arc::clone(queue),
                }));
                if let Some(future) = locals.get_mut(key) {
                    if poll(future.as_mut(), &waker) {
                        drop(locals.remove(key));
                    }
                }
            }
            Runnable::Stop => break,
        }
    }
    // Dropping what is left runs the futures' destructors on this thread.
    drop(locals);
    let leftover: Vec<Runnable> = queue
        .runnable
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain(..)
        .collect();
    drop(leftover);
}

fn poll<F: Future<Output = ()> + ?Sized>(future: std::pin::Pin<&mut F>, waker: &Waker) -> bool {
    future.poll(&mut Context::from_waker(waker)).is_ready()
}
