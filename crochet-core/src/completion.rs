//! The completion cell behind every `EventualResult`: one slot for the
//! outcome, the threads and tasks waiting for it, and the reactor task's
//! waker for cancellation.
//!
//! Everything is guarded by one short-lived mutex; waking happens after it
//! is released. A `status` byte mirrors the state for lock-free checks (the
//! reactor task's "was I cancelled?" test on every poll, `is_ready`, and
//! `Debug`, which must never block).

use std::mem;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::panic;
use crate::registry::Shard;
use crate::report::{self, Origin};
use crate::sync::{self, AtomicU8, AtomicU32, Mutex, MutexGuard};
use crate::waiters::{Party, Waiters};

/// Where a result stands, as `Debug` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Pending = 0,
    Ready = 1,
    Failed = 2,
    Panicked = 3,
    Cancelled = 4,
    Stopped = 5,
    /// A consuming wait took the value (whatever it was).
    Taken = 6,
}

/// Set in the status byte once the value is taken; the low bits keep how
/// the operation ended.
const TAKEN: u8 = 0x80;

impl Status {
    fn of<T>(result: &Result<T, Error>) -> Status {
        match result {
            Ok(_) => Status::Ready,
            Err(Error::Cancelled) => Status::Cancelled,
            Err(Error::ReactorStopped) => Status::Stopped,
            Err(Error::Panicked(_)) => Status::Panicked,
            Err(_) => Status::Failed,
        }
    }

    fn from_u8(value: u8) -> Status {
        match value {
            0 => Status::Pending,
            1 => Status::Ready,
            2 => Status::Failed,
            3 => Status::Panicked,
            4 => Status::Cancelled,
            5 => Status::Stopped,
            _ => Status::Taken,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Failed | Status::Panicked => "failed",
            Status::Cancelled => "cancelled",
            Status::Stopped => "stopped",
            Status::Taken => "taken",
        }
    }
}

/// What the cell holds. Errors are boxed: they are rare, and an inline
/// `Error` would make every cell as large as the largest error.
pub(crate) enum Outcome<T> {
    Pending,
    Ready(Result<T, Box<Error>>),
    /// A consuming wait took the value.
    Taken,
}

/// How a wait reads a ready outcome: take it, or clone it.
pub(crate) type Extract<T> = fn(&mut Outcome<T>) -> Result<T, Error>;

/// Moves the result out, leaving [`Outcome::Taken`].
pub(crate) fn take<T>(outcome: &mut Outcome<T>) -> Result<T, Error> {
    match mem::replace(outcome, Outcome::Taken) {
        Outcome::Ready(result) => result.map_err(|error| *error),
        Outcome::Taken | Outcome::Pending => Err(Error::AlreadyRetrieved),
    }
}

/// Clones the result, leaving it in place for other waiters.
pub(crate) fn clone<T: Clone>(outcome: &mut Outcome<T>) -> Result<T, Error> {
    match outcome {
        Outcome::Ready(result) => result.clone().map_err(|error| *error),
        Outcome::Taken | Outcome::Pending => Err(Error::AlreadyRetrieved),
    }
}

/// A point in time to give up waiting; `None` is "never". An overflowing
/// timeout means "never" too, so no timeout can panic.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    sync::now().checked_add(timeout)
}

struct State<T> {
    outcome: Outcome<T>,
    waiters: Waiters,
    /// The reactor task's waker, woken by cancellation and shutdown.
    task: Option<Waker>,
    /// A wait returned the outcome (a timed-out wait does not count).
    observed: bool,
    /// The failure was reported as unobserved (at most once).
    reported: bool,
}

pub(crate) struct Completion<T> {
    state: Mutex<State<T>>,
    status: AtomicU8,
    /// Live user handles (`EventualResult`, `SharedResult` clones). Kept
    /// outside the lock so that dropping a handle whose value was taken,
    /// the common end, takes no lock; whoever sees both "no handles" and
    /// an unobserved failure under the lock reports it, once.
    handles: AtomicU32,
    origin: Origin,
    /// The reactor shard this operation belongs to, for its counters and
    /// settings (`None` when it was never admitted).
    shard: Option<Arc<Shard>>,
    /// The operation's entry in that shard, once registered (read and
    /// written under the shard's lock).
    key: AtomicUsize,
    /// When it was submitted, by the shard's clock.
    submitted_at: u64,
}

impl<T> Completion<T> {
    /// A pending cell with one handle.
    pub(crate) fn new(origin: Origin, shard: Option<Arc<Shard>>) -> Arc<Self> {
        Arc::new(Completion {
            state: Mutex::new(State {
                outcome: Outcome::Pending,
                waiters: Waiters::default(),
                task: None,
                observed: false,
                reported: false,
            }),
            status: AtomicU8::new(Status::Pending as u8),
            handles: AtomicU32::new(1),
            submitted_at: shard.as_ref().map_or(0, |shard| shard.now()),
            origin,
            shard,
            key: AtomicUsize::new(usize::MAX),
        })
    }

    pub(crate) fn submitted_at(&self) -> u64 {
        self.submitted_at
    }

    /// Where the operation's registry entry is kept.
    pub(crate) fn key_slot(&self) -> &AtomicUsize {
        &self.key
    }

    pub(crate) fn shard(&self) -> Option<&Arc<Shard>> {
        self.shard.as_ref()
    }

    /// Counts a timed-out wait on this result.
    pub(crate) fn note_timed_out_wait(&self) {
        if let Some(shard) = &self.shard {
            shard.note_timed_out_wait();
        }
    }

    fn report(&self, error: &Error) {
        let hook = self.shard.as_ref().map(|shard| &*shard.config);
        report::unobserved(error, &self.origin, hook);
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding this lock (user code runs outside
        // it), but a poisoned lock must not turn into a second panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> Status {
        let status = self.status.load(Ordering::Acquire);
        if status & TAKEN != 0 {
            Status::Taken
        } else {
            Status::from_u8(status)
        }
    }

    /// Whether the outcome is decided (value, error, cancelled, stopped).
    pub(crate) fn is_done(&self) -> bool {
        self.status() != Status::Pending
    }

    /// The reactor task's completion. Returns `false` (and drops `result`)
    /// when the cell was already decided, by cancellation or shutdown.
    pub(crate) fn complete(&self, result: Result<T, Error>) -> bool {
        self.finish(result, false)
    }

    /// Decides the outcome from outside the task (cancel, shutdown, a
    /// dropped task) and wakes the task so it drops its future promptly.
    pub(crate) fn interrupt(&self, error: Error) -> bool {
        self.finish(Err(error), true)
    }

    fn finish(&self, result: Result<T, Error>, wake_task: bool) -> bool {
        let mut state = self.lock();
        if !matches!(state.outcome, Outcome::Pending) {
            drop(state);
            // Dropped outside the lock: a user destructor runs here, and
            // must not unwind into the reactor.
            panic::drop_quietly(result);
            return false;
        }
        // Every handle is gone: nobody can observe this failure any more.
        let report = match &result {
            Err(error) if self.handles.load(Ordering::Acquire) == 0 && error.is_reportable() => {
                state.reported = true;
                Some(error.clone())
            }
            _ => None,
        };
        let status = Status::of(&result);
        // SeqCst, against `drop_handle`'s: of deciding and dropping the last
        // handle, whichever comes second sees the other, and takes the
        // operation off the registry.
        self.status.store(status as u8, Ordering::SeqCst);
        state.outcome = Outcome::Ready(result.map_err(Box::new));
        let waiters = state.waiters.take();
        let task = state.task.take();
        drop(state);

        // Counted before anyone is woken: a waiter that sees the outcome
        // sees it counted.
        if let Some(shard) = &self.shard {
            shard.ended(status, self.submitted_at, &self.origin);
            if self.handles.load(Ordering::SeqCst) == 0 {
                shard.remove(&self.key);
            }
        }
        waiters.wake();
        if let Some(task) = task.filter(|_| wake_task) {
            task.wake();
        }
        if let Some(error) = report {
            self.report(&error);
        }
        true
    }

    /// Remembers the reactor task's waker for [`Completion::interrupt`],
    /// while there is still something to interrupt.
    pub(crate) fn register_task(&self, waker: &Waker) {
        let mut state = self.lock();
        if !matches!(state.outcome, Outcome::Pending) {
            return;
        }
        match &state.task {
            Some(current) if current.will_wake(waker) => {}
            _ => state.task = Some(waker.clone()),
        }
    }

    /// Cancels a pending operation; `false` when it was already decided.
    pub(crate) fn cancel(&self) -> bool {
        self.interrupt(Error::Cancelled)
    }

    /// Reads the outcome if it is decided, without blocking.
    pub(crate) fn try_read(&self, extract: Extract<T>) -> Option<Result<T, Error>> {
        let mut state = self.lock();
        match state.outcome {
            Outcome::Pending => None,
            _ => Some(self.read(&mut state, extract)),
        }
    }

    fn read(&self, state: &mut State<T>, extract: Extract<T>) -> Result<T, Error> {
        state.observed = true;
        let result = extract(&mut state.outcome);
        if matches!(state.outcome, Outcome::Taken) {
            self.status.fetch_or(TAKEN, Ordering::AcqRel);
        }
        result
    }

    /// Blocks the calling thread until the outcome is decided or `deadline`
    /// passes; `Ok(None)` on timeout, with nothing consumed.
    pub(crate) fn wait_until(
        &self,
        deadline: Option<Instant>,
        extract: Extract<T>,
    ) -> Option<Result<T, Error>> {
        // Check → register → park → re-check: the waiter is registered under
        // the same lock that `finish` takes to publish the outcome, so the
        // unpark cannot be missed, and the park token absorbs an unpark that
        // lands between unlocking and parking.
        let mut state = self.lock();
        if !matches!(state.outcome, Outcome::Pending) {
            return Some(self.read(&mut state, extract));
        }
        if deadline.is_some_and(|deadline| deadline <= sync::now()) {
            return None;
        }
        let key = state.waiters.insert(Party::Thread(sync::current()));
        drop(state);

        loop {
            match deadline {
                None => sync::park(),
                Some(deadline) => {
                    let now = sync::now();
                    if now < deadline {
                        sync::park_timeout(deadline - now);
                    }
                }
            }
            let mut state = self.lock();
            if !matches!(state.outcome, Outcome::Pending) {
                // `finish` took every waiter, ours included.
                return Some(self.read(&mut state, extract));
            }
            if deadline.is_some_and(|deadline| deadline <= sync::now()) {
                state.waiters.remove(key);
                return None;
            }
            // A spurious wake-up, or an unpark meant for other code on this
            // thread: still registered, park again.
        }
    }

    /// Registers the calling thread to be unparked when the outcome is
    /// decided; `None` (nothing registered) when it already is.
    pub(crate) fn register_thread(&self) -> Option<u32> {
        let mut state = self.lock();
        match state.outcome {
            Outcome::Pending => Some(state.waiters.insert(Party::Thread(sync::current()))),
            _ => None,
        }
    }

    /// Removes a registration made by [`Completion::register_thread`]
    /// (a no-op once the outcome is decided, which removes them all).
    pub(crate) fn unregister_thread(&self, key: u32) {
        self.lock().waiters.remove(key);
    }

    /// The async side of a wait. `key` is the handle's waiter slot, kept
    /// across polls so that re-polling replaces the waker instead of adding
    /// one.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        key: &mut Option<u32>,
        extract: Extract<T>,
    ) -> Poll<Result<T, Error>> {
        let mut state = self.lock();
        if !matches!(state.outcome, Outcome::Pending) {
            if let Some(key) = key.take() {
                state.waiters.remove(key);
            }
            return Poll::Ready(self.read(&mut state, extract));
        }
        match key {
            Some(key) => state.waiters.update(*key, cx.waker()),
            None => *key = Some(state.waiters.insert(Party::Task(cx.waker().clone()))),
        }
        Poll::Pending
    }

    /// A new handle to this cell (a `SharedResult` clone), made from a
    /// live one.
    pub(crate) fn add_handle(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// A handle went away. The last one reports a failure nobody observed
    /// and frees the value early.
    pub(crate) fn drop_handle(&self, key: Option<u32>) {
        if let Some(key) = key {
            self.lock().waiters.remove(key);
        }
        if self.handles.fetch_sub(1, Ordering::SeqCst) != 1 {
            return;
        }
        // The last handle. A decided operation leaves the registry now (on
        // this, the submitting thread, usually); a pending one when it is
        // decided.
        let status = self.status.load(Ordering::SeqCst);
        if status != Status::Pending as u8 {
            if let Some(shard) = &self.shard {
                shard.remove(&self.key);
            }
        }
        // A taken value left nothing behind: no lock.
        if status & TAKEN != 0 {
            return;
        }
        let mut state = self.lock();
        let leftover = match state.outcome {
            Outcome::Ready(_) => mem::replace(&mut state.outcome, Outcome::Taken),
            _ => return,
        };
        let report = !state.observed && !state.reported;
        state.reported |= report;
        drop(state);
        if let Outcome::Ready(Err(error)) = &leftover {
            if report && error.is_reportable() {
                self.report(error);
            }
        }
        panic::drop_quietly(leftover);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_after_overflow_means_never() {
        assert_eq!(deadline_after(Duration::MAX), None);
        assert!(deadline_after(Duration::ZERO).is_some());
    }

    #[test]
    fn status_round_trips_through_u8() {
        for status in [
            Status::Pending,
            Status::Ready,
            Status::Failed,
            Status::Panicked,
            Status::Cancelled,
            Status::Stopped,
            Status::Taken,
        ] {
            assert_eq!(Status::from_u8(status as u8), status);
        }
    }
}
