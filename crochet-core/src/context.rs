//! Which threads are reactor threads, so that blocking waits there can be
//! refused instead of deadlocking.
//!
//! Three sources, cheapest first:
//! 1. a permanent mark that a backend puts on the threads it owns
//!    ([`mark_reactor_thread`]);
//! 2. a mark held while crochet polls one of its own tasks, on any runtime;
//! 3. on a thread that has polled crochet tasks before (so it drives some
//!    runtime), the hints of the running reactors' spawners
//!    ([`Spawner::is_reactor_thread`]): whether the thread is inside their
//!    runtime right now. Threads that never drove a crochet task (every
//!    ordinary blocking caller) skip this step and its lock.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use crate::spawner::Spawner;

thread_local! {
    static OWNED: Cell<bool> = const { Cell::new(false) };
    static IN_TASK: Cell<u32> = const { Cell::new(0) };
    static DROVE_TASKS: Cell<bool> = const { Cell::new(false) };
}

// The spawners of running reactors, whose hints are consulted; the count
// lets a process without reactors skip the lock.
static HINTS: RwLock<Vec<Weak<dyn Spawner>>> = RwLock::new(Vec::new());
static HINT_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Marks the calling thread as a reactor thread for the rest of its life.
///
/// Backends call this on every thread that drives their runtime, so that a
/// blocking wait there fails with
/// [`Error::WaitInReactor`](crate::Error::WaitInReactor).
pub fn mark_reactor_thread() {
    OWNED.with(|owned| owned.set(true));
}

/// Whether a blocking wait on the calling thread would block a reactor.
///
/// True on threads a backend marked, while a crochet task is being polled,
/// and on threads that drive crochet tasks where a running reactor's
/// spawner says they are inside its runtime.
pub fn is_reactor_thread() -> bool {
    if OWNED.with(Cell::get) || IN_TASK.with(Cell::get) > 0 {
        return true;
    }
    if !DROVE_TASKS.with(Cell::get) || HINT_COUNT.load(Ordering::Acquire) == 0 {
        return false;
    }
    HINTS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .any(|spawner| spawner.is_reactor_thread())
}

/// Marks the calling thread as one that drives crochet tasks, as if it had
/// polled one: used when an application attaches its runtime from that
/// runtime's own driver thread.
pub fn mark_driver_thread() {
    DROVE_TASKS.with(|drove| drove.set(true));
}

/// A name for the calling thread, for error messages.
pub(crate) fn thread_label() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) => name.to_owned(),
        None => format!("{:?}", thread.id()),
    }
}

/// Held while a crochet task is polled or dropped.
pub(crate) struct TaskGuard(());

pub(crate) fn enter_task() -> TaskGuard {
    IN_TASK.with(|depth| depth.set(depth.get() + 1));
    DROVE_TASKS.with(|drove| drove.set(true));
    TaskGuard(())
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        IN_TASK.with(|depth| depth.set(depth.get() - 1));
    }
}

/// Registers a running reactor's spawner as a source of hints.
pub(crate) fn add_hint(spawner: &Arc<dyn Spawner>) {
    let mut hints = HINTS.write().unwrap_or_else(PoisonError::into_inner);
    hints.retain(|weak| weak.strong_count() > 0);
    hints.push(Arc::downgrade(spawner));
    HINT_COUNT.store(hints.len(), Ordering::Release);
}

/// Removes a spawner registered with [`add_hint`] (and any that are gone).
pub(crate) fn remove_hint(spawner: &Arc<dyn Spawner>) {
    let mut hints = HINTS.write().unwrap_or_else(PoisonError::into_inner);
    let target = Arc::downgrade(spawner);
    hints.retain(|weak| weak.strong_count() > 0 && !Weak::ptr_eq(weak, &target));
    HINT_COUNT.store(hints.len(), Ordering::Release);
}
