//! The primitives the completion cell and the registry synchronise with:
//! std's, or loom's in the unit tests under `--cfg loom`, so that a model
//! checker can explore every interleaving of completing, cancelling,
//! waiting, dropping the last handle and removing the registry entry.

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize};
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(all(test, loom)))]
pub(crate) use std::thread::{Thread, current, park, park_timeout};

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize};
#[cfg(all(test, loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(all(test, loom))]
pub(crate) use loom::thread::{Thread, current, park};

pub(crate) use std::sync::TryLockError;

/// The reactor task's waker slot: registered on every poll that returns
/// `Pending`, woken by cancellation and shutdown, without a lock.
#[cfg(not(all(test, loom)))]
pub(crate) use atomic_waker::AtomicWaker;

/// [`AtomicWaker`]'s contract on loom's primitives (the crate's own
/// atomics are invisible to loom): `register` then a check of the
/// condition never misses a `wake` that follows setting it.
#[cfg(all(test, loom))]
#[derive(Default)]
pub(crate) struct AtomicWaker(Mutex<Option<std::task::Waker>>);

#[cfg(all(test, loom))]
impl AtomicWaker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn register(&self, waker: &std::task::Waker) {
        let mut slot = self.0.lock().unwrap();
        match &*slot {
            Some(current) if current.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    pub(crate) fn wake(&self) {
        let waker = self.0.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
use std::time::Instant;

/// The current time.
#[cfg(not(all(test, loom)))]
pub(crate) fn now() -> Instant {
    Instant::now()
}

#[cfg(all(test, loom))]
loom::thread_local! {
    /// Model time: how far this thread's clock has been moved by timed
    /// parks.
    static ELAPSED: std::cell::Cell<std::time::Duration> =
        std::cell::Cell::new(std::time::Duration::ZERO);
}

/// Model time: a fixed epoch plus what timed parks have let pass.
#[cfg(all(test, loom))]
pub(crate) fn now() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now) + ELAPSED.with(std::cell::Cell::get)
}

/// A timed park, as the model sees it: the whole timeout passes while the
/// thread yields to the others, so the checker weighs a timeout against
/// every ordering of the other threads' steps.
#[cfg(all(test, loom))]
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    ELAPSED.with(|elapsed| elapsed.set(elapsed.get() + timeout));
    loom::thread::yield_now();
}

/// How many shards a reactor's registry has (and the sharded executor
/// references, `backend::ExecutorSlots`): threads that submit work spread
/// over them, so that no lock is shared by every submitting thread.
pub(crate) const SHARDS: usize = 16;

/// The calling thread's shard, assigned round-robin on first use.
pub(crate) fn shard_index() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    thread_local! {
        static SHARD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SHARD_INDEX.with(|index| {
        if index.get() == usize::MAX {
            index.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        index.get()
    })
}

/// A point in time to give up waiting; `None` is "never". An overflowing
/// timeout means "never" too, so no timeout can panic.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> Option<Instant> {
    now().checked_add(timeout)
}
