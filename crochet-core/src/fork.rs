//! After `fork()`: a child process has only the thread that forked, so a
//! lock another thread of the parent held at the fork stays taken for
//! ever, and nothing wakes a parked waiter.
//!
//! Two rules, kept here so that no path can skip them:
//! 1. Every lock crochet may take in a child (a wait, a cancel, dropping a
//!    handle, a stream read, the stash, the stats) is taken with [`lock`]:
//!    a free lock at once; a busy one only after asking whether this is a
//!    child forked after its reactor started (a `getpid` syscall, paid
//!    only when the lock is busy), which answers `Forked` instead.
//! 2. Every park asks first ([`ForkCheck::before_park`]), so that a wait in
//!    a child answers `Forked` instead of sleeping for threads that are not
//!    there. A thread asks at most every [`FORK_CHECK`]: one that asked
//!    moments ago skips the syscall and parks at most until it is due.

use std::sync::PoisonError;
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(not(all(test, loom)))]
use std::time::Duration;
use std::time::Instant;

use crate::error::WaitError;
use crate::sync::{Mutex, MutexGuard, TryLockError};

/// How long a thread's fork check stands: a thread that parks again within
/// it skips the syscall, and parks at most until it runs out. So a thread
/// in a round-trip loop asks ten times a second, not once a wait.
#[cfg(not(all(test, loom)))]
const FORK_CHECK: Duration = Duration::from_millis(100);

/// The process a reactor was set up in, to tell a forked child.
#[derive(Debug, Default)]
pub(crate) struct ForkCheck {
    /// 0 before the reactor is set up (nothing to tell apart yet).
    pid: AtomicU32,
}

impl ForkCheck {
    /// A reactor not set up yet: nothing to tell apart.
    pub(crate) const fn new() -> Self {
        ForkCheck {
            pid: AtomicU32::new(0),
        }
    }

    /// Remembers the process the reactor runs in.
    pub(crate) fn record(&self) {
        self.pid.store(std::process::id(), Ordering::Relaxed);
    }

    /// [`WaitError::Forked`] in a child forked after the reactor was set up
    /// in its parent. A syscall: only where one is paid anyway.
    pub(crate) fn forked(&self) -> Option<WaitError> {
        self.forked_from(std::process::id())
    }

    /// [`ForkCheck::forked`] without the syscall on the common path, for
    /// the reactor side: by the process id the calling thread saw when it
    /// last asked. A thread that runs tasks in a forked child was started
    /// in the child (the parent's threads are not copied), so what it saw
    /// is the child's id. Only when that differs from the reactor's is the
    /// id asked again: the one thread that is copied, the one that called
    /// `fork`, may remember its parent's id in a child that set up a
    /// reactor of its own.
    pub(crate) fn forked_per_thread(&self) -> Option<WaitError> {
        thread_local! {
            static PID: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let parent = self.pid.load(Ordering::Relaxed);
        if parent == 0 || PID.with(std::cell::Cell::get) == parent {
            return None;
        }
        let now = std::process::id();
        PID.with(|pid| pid.set(now));
        self.forked_from(now)
    }

    fn forked_from(&self, child: u32) -> Option<WaitError> {
        let parent = self.pid.load(Ordering::Relaxed);
        (parent != 0 && child != parent).then_some(WaitError::Forked { parent, child })
    }

    /// The check before a park: `Forked` in a forked child; else when the
    /// calling thread must ask again (it asked less than [`FORK_CHECK`]
    /// ago, and skipped the syscall), or `None` when it asked now.
    pub(crate) fn before_park(&self, now: Instant) -> Result<Option<Instant>, WaitError> {
        if let Some(next) = recent_check(now) {
            return Ok(Some(next));
        }
        match self.forked() {
            Some(forked) => Err(forked),
            None => {
                note_check(now);
                Ok(None)
            }
        }
    }
}

/// Takes `mutex`, unless it is busy in a forked child: there it may have
/// been held by a parent thread at the fork, and would never be released.
/// A poisoned lock is taken as it is: crochet keeps its state consistent
/// under its locks, and the only user code that runs under one (a
/// `SharedResult`'s `T::clone`) leaves it so when it panics.
///
/// # Errors
///
/// [`WaitError::Forked`] when the lock is busy in a child forked after the
/// reactor started.
pub(crate) fn lock<'a, T>(
    mutex: &'a Mutex<T>,
    fork: &ForkCheck,
) -> Result<MutexGuard<'a, T>, WaitError> {
    match mutex.try_lock() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => match fork.forked() {
            Some(forked) => Err(forked),
            None => Ok(mutex.lock().unwrap_or_else(PoisonError::into_inner)),
        },
    }
}

#[cfg(not(all(test, loom)))]
thread_local! {
    /// When this thread last asked whether it runs in a forked child.
    static CHECKED: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// When the calling thread must ask again, if it asked less than
/// [`FORK_CHECK`] ago. Under loom, which has no fork: never skipped.
#[cfg(not(all(test, loom)))]
fn recent_check(now: Instant) -> Option<Instant> {
    let checked = CHECKED.with(std::cell::Cell::get)?;
    let next = checked.checked_add(FORK_CHECK)?;
    (now < next).then_some(next)
}

#[cfg(all(test, loom))]
fn recent_check(_now: Instant) -> Option<Instant> {
    None
}

#[cfg(not(all(test, loom)))]
fn note_check(now: Instant) {
    CHECKED.with(|checked| checked.set(Some(now)));
}

#[cfg(all(test, loom))]
fn note_check(_now: Instant) {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_busy_lock_outside_a_fork_is_waited_for() {
        let fork = ForkCheck::default();
        fork.record();
        let mutex = std::sync::Arc::new(Mutex::new(0));
        let held = mutex.lock().unwrap();
        let other = std::sync::Arc::clone(&mutex);
        let waiter = std::thread::spawn(move || {
            let fork = ForkCheck::default();
            fork.record();
            *lock(&other, &fork).expect("not a fork") += 1;
        });
        std::thread::sleep(Duration::from_millis(20));
        drop(held);
        waiter.join().unwrap();
        assert_eq!(*mutex.lock().unwrap(), 1);
    }

    #[test]
    fn a_busy_lock_in_another_process_than_the_reactors_is_forked() {
        // A reactor "set up" in process 1, which this is not: what a child
        // sees of its parent's reactor.
        let fork = ForkCheck {
            pid: AtomicU32::new(1),
        };
        let mutex = Mutex::new(());
        let _held = mutex.lock().unwrap();
        let answer = lock(&mutex, &fork).map(drop);
        assert!(
            matches!(answer, Err(WaitError::Forked { parent: 1, .. })),
            "{answer:?}"
        );
    }

    #[test]
    fn a_thread_asks_again_once_its_check_is_due() {
        let fork = ForkCheck::default();
        let now = Instant::now();
        assert_eq!(fork.before_park(now).expect("not forked"), None);
        let due = fork.before_park(now).expect("not forked");
        assert_eq!(due, Some(now + FORK_CHECK), "skipped, and due then");
        assert_eq!(
            fork.before_park(now + FORK_CHECK).expect("not forked"),
            None
        );
    }
}
