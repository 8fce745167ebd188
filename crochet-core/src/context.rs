//! Which threads are reactor threads, so that blocking waits there can be
//! refused instead of deadlocking.
//!
//! Three sources, cheapest first:
//! 1. a permanent mark that a backend puts on the threads it owns
//!    ([`mark_reactor_thread`]);
//! 2. a mark held while crochet polls one of its own tasks, on any runtime;
//! 3. the hints of the backends in use
//!    ([`Spawner::reactor_thread_hint`]), for threads a backend cannot
//!    mark: whether the thread is inside their runtime right now.
//!
//! Backends can also mark a scope ([`enter_reactor`]), for instance while
//! they drive an executor that the application owns.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::error::Error;
use crate::spawner::Spawner;

thread_local! {
    static OWNED: Cell<bool> = const { Cell::new(false) };
    static IN_TASK: Cell<u32> = const { Cell::new(0) };
    static DROVE_TASKS: Cell<bool> = const { Cell::new(false) };
}

// The hints of the backends in use, one per backend (by name), kept for
// the life of the process. Reading them is a few uncontended atomic loads:
// no lock on the path of every blocking wait.
const HINT_SLOTS: usize = 8;
type Hint = (&'static str, fn() -> bool);
static HINTS: [OnceLock<Hint>; HINT_SLOTS] = [const { OnceLock::new() }; HINT_SLOTS];

/// Marks the calling thread as a reactor thread for the rest of its life.
///
/// Backends call this on every thread that drives their runtime, so that a
/// blocking wait there fails with
/// [`Error::WaitInReactor`].
pub fn mark_reactor_thread() {
    OWNED.with(|owned| owned.set(true));
}

/// Whether a blocking wait on the calling thread would block a reactor.
///
/// True on threads a backend marked, inside a scope marked with
/// [`enter_reactor`] (crochet marks every poll of its own tasks), and where
/// the hint of a backend in use says the thread is inside its runtime.
pub fn is_reactor_thread() -> bool {
    if OWNED.with(Cell::get) || IN_TASK.with(Cell::get) > 0 {
        return true;
    }
    HINTS
        .iter()
        .map_while(OnceLock::get)
        .any(|(_, hint)| hint())
}

/// Whether the calling thread has ever polled a crochet task (or was
/// marked with [`mark_driver_thread`]).
///
/// Backends use it to narrow a hint: a thread inside a runtime's context
/// that has polled crochet tasks is one that drives the runtime, not, say,
/// one of its blocking-pool threads.
pub fn has_driven_tasks() -> bool {
    DROVE_TASKS.with(Cell::get)
}

/// Marks the calling thread as a reactor thread until the guard is dropped.
///
/// For backends that drive a runtime they do not own: mark each poll of
/// the executor, and every task it runs inline is recognised.
pub fn enter_reactor() -> ReactorGuard {
    IN_TASK.with(|depth| depth.set(depth.get() + 1));
    ReactorGuard(())
}

/// Keeps the calling thread marked as a reactor thread; see
/// [`enter_reactor`].
#[derive(Debug)]
#[must_use = "the thread is marked only while the guard lives"]
pub struct ReactorGuard(());

impl Drop for ReactorGuard {
    fn drop(&mut self) {
        IN_TASK.with(|depth| depth.set(depth.get() - 1));
    }
}

/// Marks the calling thread as one that drives crochet tasks, as if it had
/// polled one: used when an application attaches its runtime from that
/// runtime's own driver thread.
pub fn mark_driver_thread() {
    DROVE_TASKS.with(|drove| drove.set(true));
}

/// [`Error::WaitInReactor`] on a reactor thread, where a blocking wait would
/// block the reactor: every blocking wait checks this first.
pub(crate) fn refuse_blocking() -> Result<(), Error> {
    if is_reactor_thread() {
        return Err(Error::WaitInReactor {
            thread: thread_label(),
        });
    }
    Ok(())
}

/// A name for the calling thread, for error messages.
pub(crate) fn thread_label() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) => name.to_owned(),
        None => format!("{:?}", thread.id()),
    }
}

/// Marks a crochet task's poll (or drop): a reactor thread for the scope,
/// and one that drives crochet tasks from now on.
pub(crate) fn enter_task() -> ReactorGuard {
    DROVE_TASKS.with(|drove| drove.set(true));
    enter_reactor()
}

/// Registers a backend's hint (see [`Spawner::reactor_thread_hint`]),
/// once per backend name, for the rest of the process.
pub(crate) fn add_hint(spawner: &dyn Spawner) {
    let Some(hint) = spawner.reactor_thread_hint() else {
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
