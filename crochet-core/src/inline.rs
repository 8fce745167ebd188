//! `wait_for` on the caller's thread ("inline"): the caller blocks until
//! the operation ends anyway, so it polls the future itself, inside the
//! reactor's runtime context ([`Spawner::enter`]), as `Handle::block_on`
//! does, while the runtime's own threads drive the IO and timers. No hop
//! to the reactor thread and back, no one thread that every caller queues
//! behind, and a timeout that is exact: at the deadline the caller drops
//! the future itself.
//!
//! It is one more kind of task, not a second protocol: the operation is
//! admitted to the registry as any other (shutdown asks it to end, and
//! waits for it), and the caller plays the task's part through the same
//! wrapper ([`Operation`]: panics caught, the caller's span, the future
//! dropped before its end is published), waking on the cell's task waker.

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use crate::compat;
use crate::error::{OperationState, WaitError};
use crate::eventual::EventualResult;
use crate::reactor::Reactor;
use crate::sync;
use crate::task::{Completer, Finish, Operation, caller_span, refuse};

/// The waker of an inline operation: it notes the wake, then unparks the
/// thread it was made on. The note, not the thread's park token, is what
/// the caller waits for: code inside a poll that parks the same thread (a
/// std channel's `recv`, a nested `block_on`) may use up the token, never
/// the note.
struct Unpark {
    thread: std::thread::Thread,
    woken: AtomicBool,
}

impl Unpark {
    fn new() -> Arc<Unpark> {
        Arc::new(Unpark {
            thread: std::thread::current(),
            woken: AtomicBool::new(false),
        })
    }

    /// Whether a wake came since the last call: taken, so that the next
    /// call answers for the wakes after it.
    fn take_wake(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

thread_local! {
    /// This thread's waker, made once.
    static UNPARK: Arc<Unpark> = Unpark::new();
}

/// This thread's waker, or a new one while its thread-locals are being
/// destroyed (a `wait_for` in another thread-local's destructor).
fn this_thread() -> Arc<Unpark> {
    UNPARK
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Unpark::new())
}

impl Reactor {
    /// Runs `f`'s future on the calling thread, inside the reactor's
    /// runtime context, for `timeout` at most (counted from `started`), or
    /// hands `f` back when it cannot run here: no runtime attached yet, a
    /// backend whose futures cannot be polled elsewhere, or not `inline`.
    pub(crate) fn wait_inline<M, T, E, F, Fut>(
        &self,
        timeout: Duration,
        started: Instant,
        f: F,
        location: &'static Location<'static>,
        inline: bool,
    ) -> Result<Result<T, WaitError<E>>, F>
    where
        M: Finish<Fut::Output, T, E>,
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let Some(spawner) = self.spawner().filter(|_| inline) else {
            return Err(f);
        };
        // A child forked after the reactor started: the runtime the future
        // would run in is the parent's, its threads not here. Asked at
        // every call (a `getpid`), and only then: a wait in progress does
        // not outlive a fork (its thread is not copied into the child).
        if let Some(forked) = self.config().fork.forked() {
            return Ok(Err(forked.widen()));
        }
        let mut f = Some(f);
        let mut outcome = None;
        spawner.enter(&mut || {
            if let Some(f) = f.take() {
                outcome = Some(self.run_here::<M, T, E, F, Fut>(timeout, started, f, location));
            }
        });
        match (outcome, f) {
            (Some(outcome), _) => Ok(outcome),
            (None, Some(f)) => Err(f),
            (None, None) => unreachable!("the body took `f` and set the outcome"),
        }
    }

    /// [`Reactor::wait_inline`] inside the runtime's context: admits the
    /// operation, then plays its task on this thread until it ends.
    fn run_here<M, T, E, F, Fut>(
        &self,
        timeout: Duration,
        started: Instant,
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
        let cell = self.new_cell::<F, T, E>(location);
        let result = EventualResult::new(Arc::clone(&cell));
        if let Err(error) = self.admit(&cell) {
            refuse(f, &cell, error);
            return result
                .try_result()
                .unwrap_or(Err(WaitError::ReactorStopped));
        }
        let operation = Operation::<T, E, M, F, Fut>::new(Completer::new(cell), f, caller_span());
        // With `tokio-compat`, polled in a tokio context as on the reactor
        // (none is entered where the thread is in one already).
        let mut operation = pin!(compat::in_tokio_context(operation));
        let deadline = started.checked_add(timeout);
        let mut timed_out = false;
        let unpark = this_thread();
        let waker = Waker::from(Arc::clone(&unpark));
        let mut cx = Context::from_waker(&waker);
        // Ready once the operation's end is published, its future dropped.
        while operation.as_mut().poll(&mut cx).is_pending() {
            // Pending: its task waker (this thread's) is registered, and a
            // request to end (a cancel, shutdown) or the IO it waits for
            // wakes it. Parks until a wake, or the deadline; a wake that
            // came during the poll polls again at once.
            while !unpark.take_wake() {
                match deadline.filter(|_| !timed_out) {
                    None => sync::park(),
                    Some(deadline) => {
                        let now = sync::now();
                        if deadline <= now {
                            // The caller is the task: its next poll drops
                            // the future, then publishes `Cancelled`.
                            result.cell().request(&WaitError::Cancelled);
                            timed_out = true;
                            break;
                        }
                        sync::park_timeout(deadline - now);
                    }
                }
            }
        }
        let outcome = result
            .try_result()
            .unwrap_or(Err(WaitError::ReactorStopped));
        match outcome {
            Err(WaitError::Cancelled) if timed_out => {
                result.cell().note_timed_out_wait();
                Err(WaitError::Timeout {
                    after: started.elapsed(),
                    state: OperationState::Cancelled,
                })
            }
            outcome => outcome,
        }
    }
}
