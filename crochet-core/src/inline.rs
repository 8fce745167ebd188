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
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use crate::compat;
use crate::error::{OperationState, WaitError};
use crate::eventual::EventualResult;
use crate::reactor::Reactor;
use crate::sync;
use crate::task::{Completer, Finish, Operation, caller_span, refuse};

/// Unparks the thread it was made on: the waker of an inline operation.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// This thread's waker, made once.
    static WAKER: Waker = Waker::from(Arc::new(Unpark(std::thread::current())));
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
        if !inline {
            return Err(f);
        }
        let Some(spawner) = self.spawner().cloned() else {
            return Err(f);
        };
        // A child forked after the reactor started: the runtime the future
        // would run in is the parent's, its threads not here. Asked every
        // time (a `getpid`): a ready future would not park to ask later.
        if let Some(forked) = self.config().fork.forked() {
            return Ok(Err(forked.widen()));
        }
        let Some(context) = spawner.enter() else {
            return Err(f);
        };
        let cell = self.new_cell::<F, T, E>(location);
        let result = EventualResult::new(Arc::clone(&cell));
        if let Err(error) = self.admit(&cell) {
            drop(context);
            refuse(f, &cell, error);
            return Ok(result
                .try_result()
                .unwrap_or(Err(WaitError::ReactorStopped)));
        }
        let operation = Operation::<T, E, M, F, Fut>::new(Completer::new(cell), f, caller_span());
        // With `tokio-compat`, polled in a tokio context as on the reactor
        // (none is entered where the thread is in one already).
        let mut operation = pin!(compat::in_tokio_context(operation));
        let deadline = started.checked_add(timeout);
        let mut timed_out = false;
        let waker = WAKER.with(Waker::clone);
        let mut cx = Context::from_waker(&waker);
        // Ready once the operation's end is published, its future dropped.
        while operation.as_mut().poll(&mut cx).is_pending() {
            // Pending: its task waker (this thread's) is registered, and a
            // request to end (a cancel, shutdown) or the IO it waits for
            // unparks this thread.
            let now = sync::now();
            if !timed_out && deadline.is_some_and(|deadline| deadline <= now) {
                // The caller is the task: its next poll drops the future,
                // then publishes `Cancelled`.
                result.cell().request(&WaitError::Cancelled);
                timed_out = true;
                continue;
            }
            match result.cell().fork().before_park(now) {
                Ok(next_fork_check) => {
                    let wake_by = [deadline.filter(|_| !timed_out), next_fork_check]
                        .into_iter()
                        .flatten()
                        .min();
                    match wake_by {
                        None => sync::park(),
                        Some(wake_by) => sync::park_timeout(wake_by.saturating_duration_since(now)),
                    }
                }
                Err(forked) => {
                    // A forked child: the runtime's threads, which would
                    // wake this one, are not here. The operation, dropped
                    // on return (before the context), drops the future,
                    // then ends it.
                    return Ok(Err(forked.widen()));
                }
            }
        }
        drop(context);
        let outcome = result
            .try_result()
            .unwrap_or(Err(WaitError::ReactorStopped));
        Ok(match outcome {
            Err(WaitError::Cancelled) if timed_out => Err(WaitError::Timeout {
                after: started.elapsed(),
                state: OperationState::Cancelled,
            }),
            outcome => outcome,
        })
    }
}
