//! The completion cell behind every `EventualResult`: one slot for the
//! outcome, the threads and tasks waiting for it, and the reactor task's
//! waker for cancellation.
//!
//! Everything is guarded by one short-lived mutex; waking happens after it
//! is released. A `status` byte mirrors the state for lock-free checks (the
//! reactor task's "was I cancelled?" test on every poll, `is_ready`, and
//! `Debug`, which must never block).
//!
//! An outcome is *published* only once the operation's future is gone:
//! cancellation and shutdown first *request* an end (the status says
//! cancelling or stopping, and the reactor task is woken); the task drops
//! its future and then publishes. So a waiter that hears `Cancelled` knows
//! that what the future held (a socket, a file, a lock) is released.
//! Publishing without the task (`force`) is kept for when the task is gone
//! or cannot be reached: a runtime that dropped it, or shutdown's bound.

use std::mem;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::error::{Failure, WaitError};
use crate::panic;
use crate::registry::{Interrupt, Registry, Shard};
use crate::report::{self, Origin};
use crate::sync::{self, AtomicU8, AtomicU32, AtomicUsize, AtomicWaker, Mutex, MutexGuard};
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
    /// Cancellation was requested; the task has not dropped its future yet.
    Cancelling = 6,
    /// Shutdown requested the end; the task has not dropped its future yet.
    Stopping = 7,
    /// A consuming wait took the value. Not stored: the [`TAKEN`] bit
    /// beside a ready status.
    Taken = 0x80,
}

/// Set in the status byte once the value is taken; the low bits keep how
/// the operation ended.
const TAKEN: u8 = 0x80;

impl Status {
    fn of<T, E>(outcome: &Outcome<T, E>) -> Status {
        match outcome {
            Outcome::Value(_) => Status::Ready,
            Outcome::Fault(fault) => match **fault {
                WaitError::Cancelled => Status::Cancelled,
                WaitError::ReactorStopped => Status::Stopped,
                WaitError::Panicked(_) => Status::Panicked,
                _ => Status::Failed,
            },
            _ => Status::Failed,
        }
    }

    fn from_u8(value: u8) -> Status {
        if value & TAKEN != 0 {
            return Status::Taken;
        }
        match value {
            0 => Status::Pending,
            1 => Status::Ready,
            2 => Status::Failed,
            3 => Status::Panicked,
            4 => Status::Cancelled,
            5 => Status::Stopped,
            6 => Status::Cancelling,
            _ => Status::Stopping,
        }
    }

    /// Whether the outcome is published (a wait returns it).
    pub(crate) fn is_published(self) -> bool {
        !matches!(
            self,
            Status::Pending | Status::Cancelling | Status::Stopping
        )
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Failed | Status::Panicked => "failed",
            Status::Cancelled => "cancelled",
            Status::Stopped => "stopped",
            Status::Cancelling => "cancelling",
            Status::Stopping => "stopping",
            Status::Taken => "taken",
        }
    }
}

/// What the cell holds. crochet's own errors are boxed: they are rare,
/// and an inline one would make every cell as large as the largest error.
pub(crate) enum Outcome<T, E> {
    Pending,
    /// The operation's value.
    Value(T),
    /// The operation's own error, and how to report it if nobody reads it.
    Failed(E, ToFailure<E>),
    /// crochet's own outcome: cancelled, panicked, stopped, refused.
    Fault(Box<WaitError>),
    /// A consuming wait took the value.
    Taken,
    /// A consuming wait took the operation's own error.
    FailureTaken,
}

impl<T, E> Outcome<T, E> {
    /// crochet's own outcome.
    pub(crate) fn fault(error: WaitError) -> Self {
        Outcome::Fault(Box::new(error))
    }

    fn is_pending(&self) -> bool {
        matches!(self, Outcome::Pending)
    }

    /// Whether a wait has something to read: an outcome not taken yet.
    fn is_published_value(&self) -> bool {
        matches!(
            self,
            Outcome::Value(_) | Outcome::Failed(..) | Outcome::Fault(_)
        )
    }

    /// What the failure hook is given of an outcome nobody read; `None`
    /// for a value and for what is not worth a report.
    fn into_report(self) -> Option<WaitError<Failure>> {
        match self {
            Outcome::Failed(error, to_failure) => Some(WaitError::Failed(to_failure(error))),
            Outcome::Fault(fault) if fault.is_reportable() => Some(fault.widen()),
            _ => None,
        }
    }
}

/// Type-erases an operation's own error for the failure hook: set where
/// the error's bounds are known (the fallible entry points).
pub(crate) type ToFailure<E> = fn(E) -> Failure;

/// How a wait reads a published outcome: take it, or clone it.
pub(crate) type Extract<T, E> = fn(&mut Outcome<T, E>) -> Result<T, WaitError<E>>;

/// Moves a value (or the operation's own error) out, leaving
/// [`Outcome::Taken`] ([`Outcome::FailureTaken`]); crochet's own failures
/// stay, for every later wait to see.
pub(crate) fn take<T, E>(outcome: &mut Outcome<T, E>) -> Result<T, WaitError<E>> {
    match outcome {
        Outcome::Fault(fault) => Err((**fault).clone().widen()),
        Outcome::Value(_) => match mem::replace(outcome, Outcome::Taken) {
            Outcome::Value(value) => Ok(value),
            _ => unreachable!("matched a value"),
        },
        Outcome::Failed(..) => match mem::replace(outcome, Outcome::FailureTaken) {
            Outcome::Failed(error, _) => Err(WaitError::Failed(error)),
            _ => unreachable!("matched a failure"),
        },
        Outcome::FailureTaken => Err(WaitError::FailureTaken),
        Outcome::Taken | Outcome::Pending => Err(WaitError::AlreadyRetrieved),
    }
}

/// Clones the outcome, leaving it in place for other waiters.
///
/// The one piece of user code that runs under the cell's lock: `T`'s
/// (or `E`'s) `clone`. That is what makes sharing sound for a `T` that is
/// `Clone` but not `Sync` (clones of one value are never made
/// concurrently); it is documented on `SharedResult`.
pub(crate) fn clone<T: Clone, E: Clone>(outcome: &mut Outcome<T, E>) -> Result<T, WaitError<E>> {
    match outcome {
        Outcome::Value(value) => Ok(value.clone()),
        Outcome::Failed(error, _) => Err(WaitError::Failed(error.clone())),
        Outcome::Fault(fault) => Err((**fault).clone().widen()),
        Outcome::FailureTaken => Err(WaitError::FailureTaken),
        Outcome::Taken | Outcome::Pending => Err(WaitError::AlreadyRetrieved),
    }
}

/// How long a thread's fork check (a `getpid` syscall) stands: a thread
/// that parks again within it skips the syscall, and parks at most until
/// it runs out, then asks. So a thread in a round-trip loop asks ten times a
/// second, not once a wait, and a parked waiter is not woken for it.
#[cfg_attr(loom, allow(dead_code))]
const FORK_CHECK: Duration = Duration::from_millis(100);

/// How long a blocked wait parks before it registers its operation with
/// the reactor's shutdown registry (unless its task did), so that shutdown
/// reaches it even if the runtime never runs the task again. Most waits
/// end sooner, and never take the registry's lock. While the reactor shuts
/// down, a wait registers at once, or, refused, asks again this often
/// until shutdown is over.
const REGISTER_AFTER: Duration = Duration::from_millis(10);

#[cfg(not(loom))]
thread_local! {
    /// When this thread last asked whether it runs in a forked child.
    static FORK_CHECKED: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// When the calling thread must ask again, if it asked less than
/// [`FORK_CHECK`] ago. Under loom, which has no fork: never skipped.
#[cfg(not(loom))]
fn recent_fork_check(now: Instant) -> Option<Instant> {
    let checked = FORK_CHECKED.with(std::cell::Cell::get)?;
    let next = checked.checked_add(FORK_CHECK)?;
    (now < next).then_some(next)
}

#[cfg(loom)]
fn recent_fork_check(_now: Instant) -> Option<Instant> {
    None
}

#[cfg(not(loom))]
fn note_fork_check(now: Instant) {
    FORK_CHECKED.with(|checked| checked.set(Some(now)));
}

#[cfg(loom)]
fn note_fork_check(_now: Instant) {}

/// A point in time to give up waiting; `None` is "never". An overflowing
/// timeout means "never" too, so no timeout can panic.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    sync::now().checked_add(timeout)
}

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
    /// The reactor task's waker, woken by cancellation and shutdown;
    /// registered without the lock on every poll that returns `Pending`.
    task: AtomicWaker,
    /// Live user handles (`EventualResult`, `SharedResult` clones). Kept
    /// outside the lock so that dropping a handle whose value was taken,
    /// the common end, takes no lock; whoever sees both "no handles" and
    /// an unobserved failure under the lock reports it, once.
    handles: AtomicU32,
    /// How many of the two events that let the registry entry go have
    /// happened: the outcome's publication and the last handle's drop.
    /// Whichever makes it 2 removes the entry (one read-modify-write each,
    /// so that exactly one of them sees the other).
    ended_parts: AtomicU8,
    /// Where the operation was submitted.
    location: &'static Location<'static>,
    kind: fn() -> Kind<T, E>,
    /// The reactor shard this operation belongs to, for its counters and
    /// settings (`None` when it was never admitted).
    shard: Option<Arc<Shard>>,
    /// The operation's entry in that shard, once registered (read and
    /// written under the shard's lock; registered only under this cell's
    /// lock, while pending).
    key: AtomicUsize,
    /// When it was submitted, by the shard's clock; 0 when operations are
    /// not timed (no slow threshold): no clock read per submission.
    submitted_at: u64,
}

/// What a cell needs to know of its operation's types: the submitted
/// closure's name, and how the registry holds the cell. One function per
/// operation type returns it, so that the cell carries a single pointer
/// for both.
pub(crate) struct Kind<T, E> {
    /// `type_name` of the submitted closure.
    name: &'static str,
    /// The cell, as the registry holds it. A function here rather than a
    /// `Send` bound on every method that may register: waiting on a
    /// handle needs no bound.
    erase: Erase<T, E>,
}

/// How a [`Kind`] gives the registry its cell.
type Erase<T, E> = fn(&Arc<Completion<T, E>>) -> Arc<dyn Interrupt>;

/// The [`Kind`] of a cell whose operation was submitted as closure `F`.
fn kind_of<F, T: Send + 'static, E: Send + 'static>() -> Kind<T, E> {
    Kind {
        name: std::any::type_name::<F>(),
        erase: |cell| Arc::clone(cell) as Arc<dyn Interrupt>,
    }
}

impl<T: Send + 'static, E: Send + 'static> Completion<T, E> {
    /// A pending cell with one handle, for an operation submitted at
    /// `location` as closure `F`.
    pub(crate) fn new<F>(
        location: &'static Location<'static>,
        shard: Option<Arc<Shard>>,
    ) -> Arc<Self> {
        let submitted_at = shard
            .as_ref()
            .filter(|shard| shard.config.times_operations())
            .map_or(0, |shard| shard.now().max(1));
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
            submitted_at,
            location,
            kind: kind_of::<F, T, E>,
            shard,
            key: AtomicUsize::new(usize::MAX),
        })
    }
}

impl<T, E> Completion<T, E> {
    /// Registers the operation with its reactor, once, so that shutdown
    /// reaches it: its task returned `Pending`, an async or multi-result
    /// wait registered, or a blocked wait outlasted [`REGISTER_AFTER`].
    /// Called under this cell's lock (`_state`), while the operation is
    /// pending. `me` is this cell, as its handles and its task hold it; a
    /// wait that passes `None` does not register (`wait_published`).
    ///
    /// # Errors
    ///
    /// `ReactorStopped` once shutdown has begun; `Forked` in a forked child
    /// whose shard lock is busy.
    fn ensure_registered(
        &self,
        _state: &State<T, E>,
        me: Option<&Arc<Self>>,
    ) -> Result<(), WaitError> {
        let (Some(shard), Some(me)) = (&self.shard, me) else {
            return Ok(());
        };
        if self.key.load(Ordering::Relaxed) != usize::MAX {
            return Ok(());
        }
        Registry::register(shard, ((self.kind)().erase)(me), &self.key)
    }

    /// Whether the reactor has begun to shut down: a task ends instead of
    /// being polled. One load.
    pub(crate) fn reactor_stopping(&self) -> bool {
        self.shard
            .as_ref()
            .is_some_and(|shard| shard.config.is_stopping())
    }

    /// Whether the reactor's shutdown is over: what it did not end, a
    /// waiter ends.
    fn reactor_finished(&self) -> bool {
        self.shard
            .as_ref()
            .is_some_and(|shard| shard.config.is_finished())
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

    fn report(&self, error: &WaitError<Failure>) {
        let hook = self.shard.as_ref().map(|shard| &*shard.config);
        report::unobserved(error, &self.origin(), hook);
    }

    pub(crate) fn origin(&self) -> Origin {
        Origin::new(self.location, (self.kind)().name)
    }

    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        // User code runs outside this lock, except a shared handle's
        // `T::clone` (see `clone`), which may panic: a poisoned lock must
        // not turn into a second panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`Completion::lock`] for a thread about to wait: a lock that stays
    /// taken may be one that a thread of the parent held when this process
    /// was forked (it never will be released here), so a busy lock is
    /// checked against a fork first. The check is a syscall, paid only when
    /// the lock is busy.
    fn lock_to_wait(&self) -> Result<MutexGuard<'_, State<T, E>>, WaitError> {
        match self.state.try_lock() {
            Ok(state) => Ok(state),
            Err(sync::TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
            Err(sync::TryLockError::WouldBlock) => match self.forked() {
                Some(forked) => Err(forked),
                None => Ok(self.lock()),
            },
        }
    }

    /// [`WaitError::Forked`] in a child forked after this operation's reactor
    /// started in its parent. A syscall: called only before parking, where
    /// one is paid anyway.
    pub(crate) fn forked(&self) -> Option<WaitError> {
        self.shard.as_ref().and_then(|shard| shard.config.forked())
    }

    /// [`WaitError::Forked`] when the calling (reactor) thread runs in a child
    /// forked after the reactor started: work submitted there must not run
    /// as if nothing happened. No syscall (see `Config::forked_per_thread`).
    pub(crate) fn forked_here(&self) -> Option<WaitError> {
        self.shard
            .as_ref()
            .and_then(|shard| shard.config.forked_per_thread())
    }

    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Acquire))
    }

    /// Whether the outcome is published (value, error, cancelled, stopped).
    pub(crate) fn is_done(&self) -> bool {
        self.status().is_published()
    }

    /// Whether the operation must end: its outcome is published, or its
    /// end was requested (cancel, shutdown). The reactor task checks this
    /// on every poll, and drops its future when it holds.
    pub(crate) fn should_stop(&self) -> bool {
        self.status.load(Ordering::Acquire) != Status::Pending as u8
    }

    /// The reactor task's completion, once its future is dropped. Returns
    /// `false` (and drops `result`) when the outcome was already decided:
    /// published, or an end requested by cancellation or shutdown, which
    /// is published instead.
    pub(crate) fn complete(&self, outcome: Outcome<T, E>) -> bool {
        self.publish(Some(outcome), WaitError::ReactorStopped)
    }

    /// Publishes the requested end (or `default` when none was requested)
    /// without waiting for the task: it is gone (a runtime dropped it), it
    /// never started, or shutdown's bound ran out.
    pub(crate) fn force(&self, default: WaitError) -> bool {
        self.publish(None, default)
    }

    /// Requests the end of a pending operation: its outcome will be
    /// `error`, published by the reactor task once it has dropped the
    /// future, which it is woken to do. `false` when the outcome was
    /// already published or another end already requested.
    pub(crate) fn request(&self, error: &WaitError) -> bool {
        let requested = match error {
            WaitError::Cancelled => Status::Cancelling,
            _ => Status::Stopping,
        };
        let state = self.lock();
        if self.status.load(Ordering::Acquire) != Status::Pending as u8 {
            return false;
        }
        self.status.store(requested as u8, Ordering::SeqCst);
        drop(state);
        self.task.wake();
        true
    }

    /// Cancels a pending operation; `false` when it was already decided.
    pub(crate) fn cancel(&self) -> bool {
        self.request(&WaitError::Cancelled)
    }

    /// The error a requested end publishes, if one was requested.
    fn requested(&self) -> Option<WaitError> {
        match self.status() {
            Status::Cancelling => Some(WaitError::Cancelled),
            Status::Stopping => Some(WaitError::ReactorStopped),
            _ => None,
        }
    }

    fn publish(&self, outcome: Option<Outcome<T, E>>, default: WaitError) -> bool {
        let mut state = self.lock();
        if !state.outcome.is_pending() {
            drop(state);
            // Dropped outside the lock: a user destructor runs here, and
            // must not unwind into the reactor.
            panic::drop_quietly(outcome);
            return false;
        }
        // A requested end wins over a value that arrived after it.
        let (published, unused) = match (self.requested(), outcome) {
            (Some(end), outcome) => (Outcome::fault(end), outcome),
            (None, Some(outcome)) => (outcome, None),
            (None, None) => (Outcome::fault(default), None),
        };
        let ours = unused.is_none();
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
            shard.ended(status, self.submitted_at, || self.origin());
            self.leave_registry(shard);
        }
        waiters.wake();
        // A task still waiting to be told (a forced end): it drops its
        // future as soon as it runs.
        self.task.wake();
        if let Some(leftover) = report {
            self.report_leftover(leftover);
        }
        ours
    }

    /// Reports an outcome that nobody read, if it is a failure, and drops
    /// it (quietly: a user destructor may run).
    fn report_leftover(&self, leftover: Outcome<T, E>) {
        let report = panic::catch(|| leftover.into_report());
        match report {
            Ok(Some(error)) => self.report(&error),
            Ok(None) => {}
            Err(panic) => tracing::error!(
                target: "crochet",
                panic = panic.message(),
                "reporting an unobserved outcome panicked (converting its error, or dropping it); the panic was contained"
            ),
        }
    }

    /// Remembers the reactor task's waker, to wake it when its end is
    /// requested, while there is still something to end.
    ///
    /// The first time, the operation is registered with its reactor: it
    /// did not finish in its first poll.
    ///
    /// # Errors
    ///
    /// The end the task must publish, having dropped its future, when the
    /// registration is refused (shutdown has begun; a fork).
    pub(crate) fn register_task(self: &Arc<Self>, waker: &Waker) -> Result<(), WaitError> {
        if self.should_stop() {
            return Ok(());
        }
        // No lock: the caller checks `should_stop` again after this, and a
        // request sets the status before it wakes the slot.
        self.task.register(waker);
        if self.shard.is_some() && self.key.load(Ordering::Relaxed) == usize::MAX {
            // The first `Pending`: registered under the lock, while pending.
            let state = self.lock();
            if !self.should_stop() {
                self.ensure_registered(&state, Some(self))?;
            }
        }
        Ok(())
    }

    /// A waiter's registration was refused (shutdown has begun, a fork):
    /// the outcome is published as that end, and read.
    fn end_refused(
        &self,
        refused: WaitError,
        extract: Option<Extract<T, E>>,
    ) -> Option<Result<T, WaitError<E>>> {
        self.force(refused);
        let mut state = self.lock();
        extract.map(|extract| self.read(&mut state, extract))
    }

    /// Reads the outcome if it is published, without blocking.
    pub(crate) fn try_read(&self, extract: Extract<T, E>) -> Option<Result<T, WaitError<E>>> {
        // A lock a parent thread held at a fork is never released in the
        // child: this read must not hang there.
        let mut state = match self.lock_to_wait() {
            Ok(state) => state,
            Err(forked) => return Some(Err(forked.widen())),
        };
        match state.outcome {
            Outcome::Pending => None,
            _ => Some(self.read(&mut state, extract)),
        }
    }

    /// Reads the outcome if it is published and no wait has read it yet
    /// (`wait_any` hands each outcome out once, failures included).
    pub(crate) fn try_read_unobserved(
        &self,
        extract: Extract<T, E>,
    ) -> Option<Result<T, WaitError<E>>> {
        let mut state = self.lock();
        if !state.outcome.is_pending() && !state.observed {
            Some(self.read(&mut state, extract))
        } else {
            None
        }
    }

    fn read(&self, state: &mut State<T, E>, extract: Extract<T, E>) -> Result<T, WaitError<E>> {
        state.observed = true;
        let read = extract(&mut state.outcome);
        if matches!(state.outcome, Outcome::Taken | Outcome::FailureTaken) {
            self.status.fetch_or(TAKEN, Ordering::AcqRel);
        }
        read
    }

    /// Blocks the calling thread until the outcome is published or
    /// `deadline` passes; `None` on timeout, with nothing consumed.
    pub(crate) fn wait_until(
        self: &Arc<Self>,
        deadline: Option<Instant>,
        extract: Extract<T, E>,
    ) -> Option<Result<T, WaitError<E>>> {
        self.park_until(Some(self), deadline, Some(extract))
            .map(|read| read.unwrap_or(Err(WaitError::AlreadyRetrieved)))
    }

    /// Blocks until the outcome is published or `deadline` passes, reading
    /// nothing; whether it was published. It does not register the
    /// operation: its callers are the registry's shutdown, whose operations
    /// are registered, and `wait_for`'s bounded wait for a cancelled one.
    pub(crate) fn wait_published(&self, deadline: Option<Instant>) -> bool {
        self.park_until(None, deadline, None).is_some()
    }

    /// The wait itself: `Some` once published (with what `extract` read,
    /// if given), `None` at the deadline. In a child forked after the
    /// reactor started, the parent's threads, which would wake it, are not
    /// there: a wait gets `Forked` before it parks, or within
    /// [`FORK_CHECK`] when its thread asked moments before the fork (at
    /// once when a lock it needs is busy).
    fn park_until(
        &self,
        me: Option<&Arc<Self>>,
        deadline: Option<Instant>,
        extract: Option<Extract<T, E>>,
    ) -> Option<Option<Result<T, WaitError<E>>>> {
        // Check and register under one lock, the one `publish` takes, so
        // the unpark cannot be missed; the park token absorbs an unpark
        // that lands between unlocking and parking.
        let mut state = match self.lock_to_wait() {
            Ok(state) => state,
            Err(forked) => return Some(Some(Err(forked.widen()))),
        };
        if !state.outcome.is_pending() {
            return Some(extract.map(|extract| self.read(&mut state, extract)));
        }
        let mut now = sync::now();
        if deadline.is_some_and(|deadline| deadline <= now) {
            return None;
        }
        let key = state.add_waiter(Party::Thread(sync::current()));
        drop(state);

        // A child forked after the reactor started has no thread to wake
        // it: check before parking, unless this thread checked moments ago
        // (the check is a syscall); then park at most until the next check.
        let mut next_fork_check = match self.fork_check_before_park(now) {
            Ok(next) => next,
            Err(forked) => {
                self.lock().waiters.remove(key);
                return Some(Some(Err(forked.widen())));
            }
        };
        // When to register the operation, so that shutdown reaches this
        // wait (`REGISTER_AFTER`): at once when shutdown has begun.
        let mut refused = false;
        let mut register_at = me.map(|_| {
            if self.reactor_stopping() {
                now
            } else {
                now + REGISTER_AFTER
            }
        });
        loop {
            let wake_by = [deadline, next_fork_check, register_at]
                .into_iter()
                .flatten()
                .min();
            match wake_by {
                None => sync::park(),
                Some(wake_by) if now < wake_by => sync::park_timeout(wake_by - now),
                Some(_) => {}
            }
            let mut state = self.lock();
            if !state.outcome.is_pending() {
                // `publish` took every waiter, ours included.
                return Some(extract.map(|extract| self.read(&mut state, extract)));
            }
            now = sync::now();
            // Registration first: a wait that the finished shutdown refuses
            // says so, even when its deadline has passed too.
            if register_at.is_some_and(|at| at <= now) {
                register_at = None;
                // Once refused, the registry stays closed: only whether
                // shutdown is over is left to ask (one load, no lock).
                let registered = if refused {
                    Err(WaitError::ReactorStopped)
                } else {
                    self.ensure_registered(&state, me)
                };
                match registered {
                    Ok(()) => {}
                    // Shutdown has begun but is not over: the operation
                    // ends as its task is polled or dropped. Ask again,
                    // until shutdown is over.
                    Err(WaitError::ReactorStopped) if !self.reactor_finished() => {
                        refused = true;
                        register_at = Some(now + REGISTER_AFTER);
                    }
                    Err(end) => {
                        state.waiters.remove(key);
                        drop(state);
                        return Some(self.end_refused(end, extract));
                    }
                }
            }
            if deadline.is_some_and(|deadline| deadline <= now) {
                state.waiters.remove(key);
                return None;
            }
            if next_fork_check.is_some_and(|check| check <= now) {
                if let Some(forked) = self.forked() {
                    state.waiters.remove(key);
                    return Some(Some(Err(forked.widen())));
                }
                note_fork_check(now);
                next_fork_check = None;
            }
            // A spurious wake-up, or an unpark meant for other code on this
            // thread: still registered, park again.
        }
    }

    /// The fork check before a park: `Forked` in a forked child; else
    /// `None` when it was asked now, or when to ask, when this thread asked
    /// less than [`FORK_CHECK`] ago and the syscall is skipped.
    fn fork_check_before_park(&self, now: Instant) -> Result<Option<Instant>, WaitError> {
        if let Some(next) = recent_fork_check(now) {
            return Ok(Some(next));
        }
        match self.forked() {
            Some(forked) => Err(forked),
            None => {
                note_fork_check(now);
                Ok(None)
            }
        }
    }

    /// Registers `party` to be woken when the outcome is published; `None`
    /// (nothing registered) when it already is.
    pub(crate) fn register(self: &Arc<Self>, party: Party) -> Option<u32> {
        let mut state = self.lock();
        if !state.outcome.is_pending() {
            return None;
        }
        if let Err(refused) = self.ensure_registered(&state, Some(self)) {
            // Published now, as that end: nothing registered.
            drop(state);
            self.force(refused);
            return None;
        }
        Some(state.add_waiter(party))
    }

    /// Removes a registration made by [`Completion::register`] (a no-op
    /// once the outcome is published, which removes them all).
    pub(crate) fn unregister(&self, key: u32) {
        self.lock().waiters.remove(key);
    }

    /// The async side of a wait. `key` is the handle's waiter slot, kept
    /// across polls so that re-polling replaces the waker instead of adding
    /// one.
    pub(crate) fn poll_read(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        key: &mut Option<u32>,
        extract: Extract<T, E>,
    ) -> Poll<Result<T, WaitError<E>>> {
        let mut state = self.lock();
        if !state.outcome.is_pending() {
            if let Some(key) = key.take() {
                state.waiters.remove(key);
            }
            return Poll::Ready(self.read(&mut state, extract));
        }
        if let Err(refused) = self.ensure_registered(&state, Some(self)) {
            if let Some(key) = key.take() {
                state.waiters.remove(key);
            }
            drop(state);
            return Poll::Ready(
                self.end_refused(refused, Some(extract))
                    .unwrap_or(Err(WaitError::AlreadyRetrieved)),
            );
        }
        match key {
            Some(key) => state.waiters.update(*key, cx.waker()),
            None => *key = Some(state.add_waiter(Party::Task(cx.waker().clone()))),
        }
        Poll::Pending
    }

    /// One of the two events that let the registry entry go (publication,
    /// last handle's drop); the second removes it.
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

    /// A handle went away. The last one reports a failure nobody observed
    /// and frees the value early.
    pub(crate) fn drop_handle(&self, key: Option<u32>) {
        if let Some(key) = key {
            self.lock().waiters.remove(key);
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
        let status = self.status.load(Ordering::Acquire);
        // A taken value left nothing behind: no lock.
        if status & TAKEN != 0 {
            return;
        }
        let mut state = self.lock();
        if !state.outcome.is_published_value() {
            return;
        }
        let leftover = mem::replace(&mut state.outcome, Outcome::Taken);
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
            Status::Cancelling,
            Status::Stopping,
            Status::Taken,
        ] {
            assert_eq!(Status::from_u8(status as u8), status);
        }
        assert_eq!(Status::from_u8(Status::Ready as u8 | TAKEN), Status::Taken);
    }

    /// A pending result costs its cell: 136 bytes, with the reference
    /// counts 152, which malloc serves from a 160-byte chunk (the next is
    /// 176). The cell was 168 bytes (a 192-byte chunk) before its key
    /// counter moved beside its flags and its self-reference and
    /// registration time left it.
    #[test]
    fn a_cell_fits_a_160_byte_chunk() {
        let size = std::mem::size_of::<Completion<(), std::convert::Infallible>>();
        eprintln!("a completion cell: {size} bytes");
        assert!(size <= 136, "{size} bytes");
    }
}
