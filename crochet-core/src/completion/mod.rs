//! The completion cell behind every result: the one protocol that every
//! party to an operation goes through.
//!
//! A cell holds the operation's outcome, the parties waiting for it, and
//! the operation's task's waker, under one short-lived mutex (waking
//! happens after it is released); a status byte mirrors where it stands
//! for lock-free checks (the task's "must I stop?" before every poll,
//! `is_finished`, `Debug`, which must never block).
//!
//! # The rules
//!
//! 1. **Admission.** The submitter registers the operation with its
//!    reactor ([`Completion::admit`]) before its task exists, under the
//!    lock that also says whether shutdown has begun: either shutdown
//!    finds it, or it is refused, and then the submitter drops the work
//!    and publishes the refusal ([`Completion::complete`]).
//! 2. **Only the holder of the future publishes.** The task (the wrapper
//!    around the operation's future) drops the future first, then
//!    publishes ([`Completion::complete`]): on its value, its error, its
//!    panic, a requested end, or when its runtime drops it. So whoever
//!    hears of an end knows that what the future held (a socket, a file, a
//!    lock) is released.
//! 3. **Ending is requested, not published.** `cancel` and shutdown call
//!    [`Completion::request`]: the first request wins, the status says
//!    cancelling or stopping, and the task is woken; it finds the request
//!    before its next poll (or in the re-check after registering its
//!    waker), drops the future and publishes the requested end, which wins
//!    over a value that arrived after it.
//! 4. **The one exception is shutdown's bound.** When it runs out,
//!    shutdown publishes `ReactorStopped` on what is still undecided
//!    ([`Completion::abandon`]), future alive or not, and says so in its
//!    return value. The bound is zero where shutdown cannot wait: called
//!    on a reactor thread, or as the reactor's last handle is dropped.
//! 5. **Waiters never publish.** A blocking wait, an `.await`, a wait set,
//!    a stream reader: each registers in the cell's one waiter list and
//!    waits for publication, which takes the list and wakes every entry
//!    (publish sets the outcome first, then wakes; a waiter registers
//!    first, then checks again).
//! 6. **In a forked child,** every lock here is taken only when free, or
//!    after the fork check ([`fork::lock`]), and every park asks first.
//! 7. **The registry entry** leaves with whichever comes last of the
//!    publication and the last handle's drop.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::task::Waker;

use crate::error::{Failure, OperationState, WaitError};
use crate::fork::{self, ForkCheck};
use crate::hook::{self, Origin};
use crate::outcome::{Outcome, Status, TAKEN};
use crate::panic;
use crate::registry::{Member, Shard};
use crate::sync::{AtomicU8, AtomicU32, AtomicUsize, AtomicWaker, Mutex, MutexGuard};
use crate::waiters::{Party, Waiters};

mod wait;

struct State<T, E> {
    outcome: Outcome<T, E>,
    waiters: Waiters,
    /// The key of the next waiter. Here rather than in `Waiters`, beside
    /// the flags, so that it fills padding instead of adding a word.
    next_key: u32,
    /// A wait returned the outcome (a timed-out wait does not count).
    observed: bool,
    /// The failure was reported as unobserved (at most once).
    reported: bool,
}

impl<T, E> State<T, E> {
    /// Adds a waiter and returns the key to remove or update it with.
    fn add_waiter(&mut self, party: Party) -> u32 {
        let key = self.next_key;
        // Wrapping: a cell would need four billion waits for a key to come
        // around while its first waiter still waits.
        self.next_key = key.wrapping_add(1);
        self.waiters.insert(key, party);
        key
    }
}

pub(crate) struct Completion<T, E> {
    state: Mutex<State<T, E>>,
    status: AtomicU8,
    /// The task's waker, woken by a request to end; registered without the
    /// lock on every poll that returns `Pending`.
    task: AtomicWaker,
    /// Live user handles (`EventualResult`, `SharedResult` clones). Kept
    /// outside the lock so that dropping a handle whose value was taken,
    /// the common end, takes no lock; whoever sees both "no handles" and
    /// an unobserved failure under the lock reports it, once.
    handles: AtomicU32,
    /// How many of the two events that let the registry entry go have
    /// happened: the publication and the last handle's drop. Whichever
    /// makes it 2 removes the entry (one read-modify-write each, so that
    /// exactly one of them sees the other).
    ended_parts: AtomicU8,
    /// Where the operation was submitted.
    location: &'static Location<'static>,
    /// `type_name` of the submitted closure.
    name: fn() -> &'static str,
    /// The reactor shard this operation belongs to, for its registration,
    /// counters and settings (`None` only in the loom model).
    shard: Option<Arc<Shard>>,
    /// The operation's entry in that shard, once admitted (`usize::MAX`
    /// before, and once removed); the entry says when it was admitted.
    key: AtomicUsize,
}

/// The fork check of a cell that belongs to no reactor: never forked.
static NO_REACTOR: ForkCheck = ForkCheck::new();

impl<T: Send + 'static, E: Send + 'static> Completion<T, E> {
    /// A pending cell with one handle, for an operation submitted at
    /// `location` as closure `F`.
    pub(crate) fn new<F>(
        location: &'static Location<'static>,
        shard: Option<Arc<Shard>>,
    ) -> Arc<Self> {
        Arc::new(Completion {
            state: Mutex::new(State {
                outcome: Outcome::Pending,
                waiters: Waiters::default(),
                next_key: 0,
                observed: false,
                reported: false,
            }),
            status: AtomicU8::new(Status::Pending as u8),
            task: AtomicWaker::new(),
            handles: AtomicU32::new(1),
            ended_parts: AtomicU8::new(0),
            location,
            name: std::any::type_name::<F>,
            shard,
            key: AtomicUsize::new(usize::MAX),
        })
    }

    /// Rule 1: registers the operation with its reactor, so that shutdown
    /// reaches it. Called once, by the submitter, before the task exists.
    ///
    /// # Errors
    ///
    /// `ReactorStopped` once shutdown has begun; `Forked` in a forked child
    /// whose shard lock is busy. The submitter then drops the work and
    /// publishes the error.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<(), WaitError> {
        match &self.shard {
            Some(shard) => shard.admit(Arc::clone(self) as Arc<dyn Member>, &self.key),
            None => Ok(()),
        }
    }
}

impl<T, E> Completion<T, E> {
    pub(crate) fn shard(&self) -> Option<&Arc<Shard>> {
        self.shard.as_ref()
    }

    /// The fork check of this operation's reactor.
    pub(crate) fn fork(&self) -> &ForkCheck {
        self.shard
            .as_ref()
            .map_or(&NO_REACTOR, |shard| &shard.config.fork)
    }

    /// The lock, for a party that may run in a forked child (rule 6).
    fn lock(&self) -> Result<MutexGuard<'_, State<T, E>>, WaitError> {
        fork::lock(&self.state, self.fork())
    }

    /// The lock, for the publishing side: a task, or shutdown, which never
    /// run in a forked child. User code runs outside this lock, except a
    /// shared handle's `T::clone`, which may panic: a poisoned lock must
    /// not turn into a second panic.
    fn lock_to_publish(&self) -> MutexGuard<'_, State<T, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What a wait that timed out on this pending result says of it:
    /// running, or waiting for a runtime to be attached.
    pub(crate) fn pending_state(&self) -> OperationState {
        match &self.shard {
            Some(shard) if !shard.config.has_runtime() => OperationState::AwaitingAttach,
            _ => OperationState::Running,
        }
    }

    /// Counts a timed-out wait on this result.
    pub(crate) fn note_timed_out_wait(&self) {
        if let Some(shard) = &self.shard {
            shard.note_timed_out_wait();
        }
    }

    pub(crate) fn origin(&self) -> Origin {
        Origin::new(self.location, (self.name)())
    }

    /// [`WaitError::Forked`] when the calling (reactor) thread runs in a
    /// child forked after the reactor started: work submitted there must
    /// not run as if nothing happened. No syscall on the common path.
    pub(crate) fn forked_here(&self) -> Option<WaitError> {
        self.fork().forked_per_thread()
    }

    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Acquire))
    }

    /// Whether the outcome is published (value, error, cancelled, stopped).
    pub(crate) fn is_done(&self) -> bool {
        self.status().is_published()
    }

    /// Rule 2, for the task: whether it must end (its outcome published,
    /// or an end requested). Checked before every poll; one load.
    pub(crate) fn should_stop(&self) -> bool {
        self.status.load(Ordering::Acquire) != Status::Pending as u8
    }

    /// The task's first poll did not finish the operation: it is aged from
    /// now (`Stats::oldest_pending`).
    pub(crate) fn note_pending(&self) {
        if let Some(shard) = &self.shard {
            shard.age(&self.key);
        }
    }

    /// Rule 3, for the task: remembers its waker, to wake it when its end
    /// is requested. The caller checks [`Completion::should_stop`] again
    /// after this: a request sets the status before it wakes the slot.
    pub(crate) fn register_task(&self, waker: &Waker) {
        self.task.register(waker);
    }

    /// Rule 2: the task's publication, once its future is dropped (and the
    /// submitter's, for work it refused). A requested end wins over
    /// `outcome`. Returns `false` (and drops `outcome`) when the outcome
    /// was already published.
    pub(crate) fn complete(&self, outcome: Outcome<T, E>) -> bool {
        self.publish(outcome, true)
    }

    /// Rule 3: requests the end of a pending operation, to be published as
    /// `error` by its task once it has dropped the future. `false` when the
    /// outcome was already published or another end requested, and in a
    /// forked child whose cell lock is busy (nothing of the operation runs
    /// there). It takes the cell's lock only for a moment (longer only
    /// behind a `SharedResult`'s `T::clone`, which runs under it).
    pub(crate) fn request(&self, error: &WaitError) -> bool {
        let requested = match error {
            WaitError::Cancelled => Status::Cancelling,
            _ => Status::Stopping,
        };
        // Under the lock that publication takes: a publication either
        // comes before (and this finds it) or sees the request.
        let Ok(state) = self.lock() else {
            return false;
        };
        if self.status.load(Ordering::Acquire) != Status::Pending as u8 {
            return false;
        }
        self.status.store(requested as u8, Ordering::SeqCst);
        drop(state);
        self.task.wake();
        true
    }

    /// Cancels a pending operation; `false` when it was already decided,
    /// and in a forked child (nothing of the operation runs there, and
    /// waking its task would reach into the parent's runtime, whose locks
    /// may have died with it: a `getpid`, on this path only).
    pub(crate) fn cancel(&self) -> bool {
        if self.fork().forked().is_some() {
            return false;
        }
        self.request(&WaitError::Cancelled)
    }

    /// Rule 4: publishes `ReactorStopped` without the task; whether the
    /// operation was still undecided.
    pub(crate) fn abandon(&self) -> bool {
        self.publish(Outcome::fault(WaitError::ReactorStopped), false)
    }

    /// The error a requested end publishes, if one was requested.
    fn requested(&self) -> Option<WaitError> {
        match self.status() {
            Status::Cancelling => Some(WaitError::Cancelled),
            Status::Stopping => Some(WaitError::ReactorStopped),
            _ => None,
        }
    }

    /// The one publication: store the outcome and the status, take the
    /// waiters, count it, then (outside the lock) wake them all.
    fn publish(&self, outcome: Outcome<T, E>, requested_wins: bool) -> bool {
        let mut state = self.lock_to_publish();
        if !state.outcome.is_pending() {
            drop(state);
            // Dropped outside the lock: a user destructor runs here, and
            // must not unwind into the reactor.
            panic::drop_quietly(outcome);
            return false;
        }
        let (published, unused) = match self.requested().filter(|_| requested_wins) {
            Some(end) => (Outcome::fault(end), Some(outcome)),
            None => (outcome, None),
        };
        let status = Status::of(&published);
        self.status.store(status as u8, Ordering::Release);
        // Every handle is gone: nobody can observe this outcome any more,
        // so a failure is reported now, and the outcome not kept.
        let report = if self.handles.load(Ordering::Acquire) == 0 {
            state.reported = true;
            state.outcome = Outcome::Taken;
            Some(published)
        } else {
            state.outcome = published;
            None
        };
        let waiters = state.waiters.take();
        drop(state);
        panic::drop_quietly(unused);

        // Counted before anyone is woken: a waiter that sees the outcome
        // sees it counted.
        if let Some(shard) = &self.shard {
            shard.ended(status, &self.key, || self.origin());
            self.leave_registry(shard);
        }
        waiters.wake();
        if !requested_wins {
            // Abandoned, its task not the publisher: it ends at its next
            // poll, if its runtime polls it again.
            self.task.wake();
        }
        if let Some(leftover) = report {
            self.report_leftover(leftover);
        }
        true
    }

    /// Reports an outcome that nobody read, if it is a failure, and drops
    /// it (quietly: a user destructor may run).
    fn report_leftover(&self, leftover: Outcome<T, E>) {
        match panic::catch(|| leftover.into_report()) {
            Ok(Some(error)) => self.report(&error),
            Ok(None) => {}
            Err(panic) => tracing::error!(
                target: "crochet",
                panic = panic.message(),
                "reporting an unobserved outcome panicked (converting its error, or dropping it); the panic was contained"
            ),
        }
    }

    fn report(&self, error: &WaitError<Failure>) {
        let hook = self.shard.as_ref().map(|shard| &shard.config.hook);
        hook::unobserved(error, &self.origin(), hook, self.fork());
    }

    /// Rule 7: one of the two events that let the registry entry go
    /// (publication, last handle's drop); the second removes it.
    fn leave_registry(&self, shard: &Shard) {
        if self.ended_parts.fetch_add(1, Ordering::AcqRel) == 1 {
            shard.remove(&self.key);
        }
    }

    /// A new handle to this cell (a `SharedResult` clone), made from a
    /// live one.
    pub(crate) fn add_handle(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// A handle went away (with its waiter registration, if it had one).
    /// The last one reports a failure nobody observed and frees the value
    /// early.
    pub(crate) fn drop_handle(&self, key: Option<u32>) {
        if let Some(key) = key {
            self.unregister(key);
        }
        if self.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The last handle. A published operation leaves the registry now
        // (on this, the submitting thread, usually); a pending one when it
        // is published.
        if let Some(shard) = &self.shard {
            self.leave_registry(shard);
        }
        // A taken value left nothing behind: no lock.
        if self.status.load(Ordering::Acquire) & TAKEN != 0 {
            return;
        }
        let Ok(mut state) = self.lock() else {
            return;
        };
        if !state.outcome.is_published_value() {
            return;
        }
        let leftover = std::mem::replace(&mut state.outcome, Outcome::Taken);
        let report = !state.observed && !state.reported;
        state.reported |= report;
        drop(state);
        if report {
            self.report_leftover(leftover);
        } else {
            panic::drop_quietly(leftover);
        }
    }
}

impl<T: Send, E: Send> Member for Completion<T, E> {
    fn request_stop(&self) {
        self.request(&WaitError::ReactorStopped);
    }

    fn wait_ended(&self, deadline: Option<std::time::Instant>) -> bool {
        Completion::wait_ended(self, deadline)
    }

    fn abandon(&self) -> bool {
        Completion::abandon(self)
    }

    fn is_done(&self) -> bool {
        Completion::is_done(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pending result costs its cell: 128 bytes, with the reference
    /// counts 144, which malloc serves from a 160-byte chunk.
    #[test]
    fn a_cell_fits_a_160_byte_chunk() {
        let size = std::mem::size_of::<Completion<(), std::convert::Infallible>>();
        eprintln!("a completion cell: {size} bytes");
        assert!(size <= 128, "{size} bytes");
    }
}
