//! The list of threads and tasks waiting on one completion cell.
//!
//! Almost every result has at most one waiter, so the first lives inline
//! and only a second one allocates.

use std::mem;
use std::task::Waker;

use crate::sync::Thread;

/// One party waiting for an outcome.
pub(crate) enum Waiter {
    /// A thread parked in a blocking wait.
    Thread(Thread),
    /// An async task awaiting the result.
    Task(Waker),
}

impl Waiter {
    fn wake(self) {
        match self {
            Waiter::Thread(thread) => thread.unpark(),
            Waiter::Task(waker) => waker.wake(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Waiters {
    next_key: u64,
    first: Option<(u64, Waiter)>,
    rest: Vec<(u64, Waiter)>,
}

impl Waiters {
    /// Adds a waiter and returns the key to remove or update it with.
    pub(crate) fn insert(&mut self, waiter: Waiter) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        self.reinsert(key, waiter);
        key
    }

    /// Removes the waiter with `key`, if it is still there.
    pub(crate) fn remove(&mut self, key: u64) {
        if self.first.as_ref().is_some_and(|(k, _)| *k == key) {
            self.first = None;
        } else if let Some(index) = self.rest.iter().position(|(k, _)| *k == key) {
            self.rest.swap_remove(index);
        }
    }

    /// Replaces the waker of the task waiter with `key`, or re-adds it
    /// under the same key if it was taken.
    pub(crate) fn update(&mut self, key: u64, waker: &Waker) {
        let slot = match &mut self.first {
            Some((k, waiter)) if *k == key => Some(waiter),
            _ => self
                .rest
                .iter_mut()
                .find(|(k, _)| *k == key)
                .map(|(_, waiter)| waiter),
        };
        match slot {
            Some(Waiter::Task(current)) if current.will_wake(waker) => {}
            Some(waiter) => *waiter = Waiter::Task(waker.clone()),
            None => self.reinsert(key, Waiter::Task(waker.clone())),
        }
    }

    fn reinsert(&mut self, key: u64, waiter: Waiter) {
        if self.first.is_none() {
            self.first = Some((key, waiter));
        } else {
            self.rest.push((key, waiter));
        }
    }

    /// Takes every waiter out, to wake them after the lock is released.
    pub(crate) fn take(&mut self) -> Woken {
        Woken {
            first: self.first.take(),
            rest: mem::take(&mut self.rest),
        }
    }
}

/// Waiters taken out of the list, woken once the lock is released.
pub(crate) struct Woken {
    first: Option<(u64, Waiter)>,
    rest: Vec<(u64, Waiter)>,
}

impl Woken {
    pub(crate) fn wake(self) {
        if let Some((_, waiter)) = self.first {
            waiter.wake();
        }
        for (_, waiter) in self.rest {
            waiter.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn removed_and_updated_waiters_are_woken_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut waiters = Waiters::default();
        let a = waiters.insert(Waiter::Task(waker.clone()));
        let b = waiters.insert(Waiter::Task(waker.clone()));
        let c = waiters.insert(Waiter::Task(waker.clone()));
        waiters.remove(a);
        waiters.update(b, &waker);
        waiters.remove(c);
        waiters.update(c, &waker);
        waiters.take().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        waiters.take().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }
}
