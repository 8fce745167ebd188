//! Which threads are reactor threads, so that blocking waits there can be
//! refused (or handed off) instead of deadlocking.
//!
//! Explicit marks, not inference from "this thread has a runtime context"
//! (a GUI or CLI main holding a tokio `enter()` guard drives nothing, and
//! may wait). Three sources, cheapest first:
//! 1. a permanent mark that a backend puts on the threads it owns
//!    ([`mark_reactor_thread`]);
//! 2. a mark held while crochet polls one of its own tasks, on any runtime,
//!    and while a backend drives an executor it does not own
//!    ([`enter_reactor`]);
//! 3. the hints of the backends in use ([`Spawner::blocking_hint`]), for
//!    threads a backend cannot mark: whether the thread drives their
//!    runtime right now, and whether it can hand that work off while it
//!    blocks (tokio's `block_in_place` on a multi-thread worker).

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::OnceLock;

use crate::error::WaitError;
use crate::spawner::{BlockingHint, Spawner};

thread_local! {
    static OWNED: Cell<bool> = const { Cell::new(false) };
    static IN_TASK: Cell<u32> = const { Cell::new(0) };
}

// The hints of the backends in use, one per backend (by name), kept for
// the life of the process. Reading them is a few uncontended atomic loads:
// no lock on the path of every blocking wait.
const HINT_SLOTS: usize = 8;
type Hint = (&'static str, fn() -> BlockingHint);
static HINTS: [OnceLock<Hint>; HINT_SLOTS] = [const { OnceLock::new() }; HINT_SLOTS];

/// Marks the calling thread as a reactor thread for the rest of its life.
///
/// Backends call this on every thread that drives their runtime, so that a
/// blocking wait there fails with
/// [`WaitError::WaitInReactor`](crate::WaitError::WaitInReactor).
pub fn mark_reactor_thread() {
    OWNED.with(|owned| owned.set(true));
}

/// Whether a blocking wait on the calling thread is refused because it
/// would block a reactor.
///
/// True on threads a backend marked, inside a scope marked with
/// [`enter_reactor`] (crochet marks every poll of its own tasks), and where
/// the hint of a backend in use refuses. (A thread whose backend hands its
/// work off, a tokio multi-thread worker, may wait: not a reactor thread.)
pub fn is_reactor_thread() -> bool {
    blocking().is_err()
}

/// Marks the calling thread as a reactor thread until the guard is dropped.
///
/// For backends that drive a runtime they do not own: mark each poll of
/// the executor, and every task it runs inline is recognised.
pub fn enter_reactor() -> ReactorGuard {
    IN_TASK.with(|depth| depth.set(depth.get() + 1));
    ReactorGuard(PhantomData)
}

/// Keeps the calling thread marked as a reactor thread; see
/// [`enter_reactor`].
///
/// Not `Send`: dropping it unmarks the thread it is dropped on, which must
/// be the one it marked.
#[derive(Debug)]
#[must_use = "the thread is marked only while the guard lives"]
pub struct ReactorGuard(PhantomData<*const ()>);

impl Drop for ReactorGuard {
    fn drop(&mut self) {
        IN_TASK.with(|depth| depth.set(depth.get() - 1));
    }
}

/// How a blocking wait may block the calling thread.
pub(crate) enum Blocking {
    /// Park right here.
    Direct,
    /// Park inside a backend's hand-off (see [`BlockingHint::HandOff`]).
    HandOff(fn(&mut dyn FnMut())),
}

impl Blocking {
    /// Runs the blocking part of a wait, handed off if it must be.
    pub(crate) fn run<R>(self, wait: impl FnOnce() -> R) -> R {
        let hand_off = match self {
            Blocking::Direct => return wait(),
            Blocking::HandOff(hand_off) => hand_off,
        };
        let mut wait = Some(wait);
        let mut outcome = None;
        hand_off(&mut || {
            if let Some(wait) = wait.take() {
                outcome = Some(wait());
            }
        });
        // A hand-off that did not call the wait: wait here instead.
        match (outcome, wait) {
            (Some(outcome), _) => outcome,
            (None, Some(wait)) => wait(),
            (None, None) => unreachable!("the wait ran, and returned nothing"),
        }
    }
}

/// How a blocking wait on the calling thread may block, or
/// [`WaitError::WaitInReactor`] on a reactor thread, where it would block the
/// reactor: every blocking wait asks this first.
pub(crate) fn blocking() -> Result<Blocking, WaitError> {
    let refused = || WaitError::WaitInReactor {
        thread: thread_label().into(),
    };
    if OWNED.with(Cell::get) || IN_TASK.with(Cell::get) > 0 {
        return Err(refused());
    }
    let mut blocking = Blocking::Direct;
    for (_, hint) in HINTS.iter().map_while(OnceLock::get) {
        match hint() {
            BlockingHint::Allow => {}
            BlockingHint::Refuse => return Err(refused()),
            BlockingHint::HandOff(hand_off) => blocking = Blocking::HandOff(hand_off),
        }
    }
    Ok(blocking)
}

/// A name for the calling thread, for error messages.
pub(crate) fn thread_label() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) => name.to_owned(),
        None => format!("{:?}", thread.id()),
    }
}

/// Marks a crochet task's poll (or drop): a reactor thread for the scope.
pub(crate) fn enter_task() -> ReactorGuard {
    enter_reactor()
}

/// Registers a backend's hint (see [`Spawner::blocking_hint`]), once per
/// backend name, for the rest of the process.
pub(crate) fn add_hint(spawner: &dyn Spawner) {
    let Some(hint) = spawner.blocking_hint() else {
        return;
    };
    let name = spawner.name();
    for slot in &HINTS {
        let (registered, _) = slot.get_or_init(|| (name, hint));
        if *registered == name {
            return;
        }
    }
    tracing::warn!(target: "crochet", backend = name, "too many backends with hints; this one's is ignored");
}
