//! The primitives the completion cell and the registry synchronise with:
//! std's, or loom's under `--cfg loom`, so that a model checker can explore
//! every interleaving of completing, cancelling, waiting, dropping the last
//! handle and removing the registry entry.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, current, park, park_timeout};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread::{Thread, current, park};

pub(crate) use std::sync::TryLockError;
use std::time::Instant;

/// The current time.
#[cfg(not(loom))]
pub(crate) fn now() -> Instant {
    Instant::now()
}

#[cfg(loom)]
loom::thread_local! {
    /// Model time: how far this thread's clock has been moved by timed
    /// parks.
    static ELAPSED: std::cell::Cell<std::time::Duration> =
        std::cell::Cell::new(std::time::Duration::ZERO);
}

/// Model time: a fixed epoch plus what timed parks have let pass.
#[cfg(loom)]
pub(crate) fn now() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now) + ELAPSED.with(std::cell::Cell::get)
}

/// A timed park, as the model sees it: the whole timeout passes while the
/// thread yields to the others, so the checker weighs a timeout against
/// every ordering of the other threads' steps.
#[cfg(loom)]
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    ELAPSED.with(|elapsed| elapsed.set(elapsed.get() + timeout));
    loom::thread::yield_now();
}
