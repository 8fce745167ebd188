//! Who waits, and how a blocking wait parks.
//!
//! [`Waiters`] is the one list of parties waiting on a completion cell:
//! a parked thread, an async task, or a wait set ([`Party`]). Publication
//! takes the whole list and wakes each entry the way it asked. Almost
//! every result has at most one waiter, so the first lives inline and only
//! a second one allocates; keys are small, and kept inside the entries, so
//! that the whole list costs a cell 40 bytes.
//!
//! [`block_until`] is the one park loop of every blocking wait (a result,
//! a wait set, a stream read): check under the lock the publisher takes,
//! leaving the thread registered when the answer is not there (check →
//! listen), park, and check again (re-check); before each park it asks
//! whether this is a forked child, where nobody would ever unpark it.
//!
//! A wait set waits on many cells at once through a [`ReadyQueue`]: each
//! cell, when published, pushes the set's index for it to the queue and
//! unparks whichever thread waits on the set.

use std::collections::VecDeque;
use std::mem;
use std::sync::{Arc, PoisonError};
use std::task::Waker;
use std::time::Instant;

use crate::error::WaitError;
use crate::fork::{self, ForkCheck};
use crate::sync::{self, Mutex, MutexGuard, Thread};

/// One party waiting for an outcome, under the key it registered with.
pub(crate) enum Waiter {
    /// A thread parked in a blocking wait.
    Thread { key: u32, thread: Thread },
    /// An async task awaiting the result.
    Task { key: u32, waker: Waker },
    /// A wait set, which has this cell at `index`.
    Ready {
        key: u32,
        queue: Arc<ReadyQueue>,
        index: usize,
    },
}

impl Waiter {
    fn key(&self) -> u32 {
        match self {
            Waiter::Thread { key, .. } | Waiter::Task { key, .. } | Waiter::Ready { key, .. } => {
                *key
            }
        }
    }

    fn wake(self) {
        match self {
            Waiter::Thread { thread, .. } => thread.unpark(),
            Waiter::Task { waker, .. } => waker.wake(),
            Waiter::Ready { queue, index, .. } => queue.push(index),
        }
    }
}

/// What is waiting, before it has a key.
pub(crate) enum Party {
    Thread(Thread),
    Task(Waker),
    /// A wait set's queue, told `index` on publication.
    Ready {
        queue: Arc<ReadyQueue>,
        index: usize,
    },
}

#[derive(Default)]
pub(crate) struct Waiters {
    first: Option<Waiter>,
    // Boxed: a second waiter is rare, and the box keeps an empty list at
    // one word instead of a `Vec`'s three, in every cell.
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<Waiter>>>,
}

impl Waiters {
    /// Adds a waiter under `key`, to remove or update it with. The keys
    /// are the owner's to hand out (`Completion` keeps the counter beside
    /// its flags, where it takes no room of its own).
    pub(crate) fn insert(&mut self, key: u32, party: Party) {
        self.put(match party {
            Party::Thread(thread) => Waiter::Thread { key, thread },
            Party::Task(waker) => Waiter::Task { key, waker },
            Party::Ready { queue, index } => Waiter::Ready { key, queue, index },
        });
    }

    fn put(&mut self, waiter: Waiter) {
        if self.first.is_none() {
            self.first = Some(waiter);
        } else {
            self.rest.get_or_insert_default().push(waiter);
        }
    }

    /// Removes the waiter with `key`, if it is still there.
    pub(crate) fn remove(&mut self, key: u32) {
        if self
            .first
            .as_ref()
            .is_some_and(|waiter| waiter.key() == key)
        {
            self.first = None;
        } else if let Some(rest) = &mut self.rest {
            if let Some(index) = rest.iter().position(|waiter| waiter.key() == key) {
                rest.swap_remove(index);
            }
        }
    }

    /// Replaces the waker of the task waiter with `key`. (An awaiting
    /// handle's waiter stays registered until the outcome is published,
    /// which takes every waiter and ends the awaiting too.)
    pub(crate) fn update(&mut self, key: u32, waker: &Waker) {
        let slot = match &mut self.first {
            Some(waiter) if waiter.key() == key => Some(waiter),
            _ => self
                .rest
                .as_mut()
                .and_then(|rest| rest.iter_mut().find(|waiter| waiter.key() == key)),
        };
        match slot {
            Some(Waiter::Task { waker: current, .. }) if current.will_wake(waker) => {}
            Some(slot) => {
                *slot = Waiter::Task {
                    key,
                    waker: waker.clone(),
                }
            }
            None => debug_assert!(false, "an awaiting handle lost its waiter"),
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
    first: Option<Waiter>,
    #[allow(clippy::box_collection)] // as in `Waiters`
    rest: Option<Box<Vec<Waiter>>>,
}

impl Woken {
    pub(crate) fn wake(self) {
        if let Some(waiter) = self.first {
            waiter.wake();
        }
        for waiter in self.rest.into_iter().flat_map(|rest| *rest) {
            waiter.wake();
        }
    }
}

/// The members of a wait set that were published and not yet handed out,
/// by index, in the order they were published; and the thread waiting for
/// the next one, if any.
///
/// Each member is pushed at most once (a cell publishes once, and takes
/// its waiters as it does), so a set of n members does O(n) work in all to
/// hand them out, however many waits it takes.
pub(crate) struct ReadyQueue {
    state: Mutex<Ready>,
}

#[derive(Default)]
struct Ready {
    indices: VecDeque<usize>,
    waiting: Option<Thread>,
}

impl ReadyQueue {
    pub(crate) fn new() -> Self {
        ReadyQueue {
            state: Mutex::new(Ready::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ready> {
        // No user code runs under this lock; a poisoned one is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds the member at `index` and unparks the set's waiting thread.
    /// Called by the member's cell as it publishes, outside its lock.
    pub(crate) fn push(&self, index: usize) {
        let mut ready = self.lock();
        ready.indices.push_back(index);
        let waiting = ready.waiting.take();
        drop(ready);
        if let Some(thread) = waiting {
            thread.unpark();
        }
    }

    /// The next published member, waiting until `deadline` at most
    /// (`None`: without a bound); `Ok(None)` when the deadline passes
    /// first, with nothing taken.
    ///
    /// # Errors
    ///
    /// `Forked` before it would park in a forked child.
    pub(crate) fn pop_until(
        &self,
        deadline: Option<Instant>,
        fork: &ForkCheck,
    ) -> Result<Option<usize>, WaitError> {
        let check = || {
            let mut ready = fork::lock(&self.state, fork)?;
            match ready.indices.pop_front() {
                Some(index) => {
                    ready.waiting = None;
                    Ok(Some(index))
                }
                None => {
                    // Listen: `push` unparks this thread from now on.
                    ready.waiting = Some(sync::current());
                    Ok(None)
                }
            }
        };
        let unlisten = || {
            if let Ok(mut ready) = fork::lock(&self.state, fork) {
                ready.waiting = None;
            }
        };
        block_listening(deadline, fork, check, unlisten)
    }

    /// The next published member, if any, without waiting.
    pub(crate) fn try_pop(&self, fork: &ForkCheck) -> Result<Option<usize>, WaitError> {
        Ok(fork::lock(&self.state, fork)?.indices.pop_front())
    }
}

/// [`block_until`] for a wait that listens in one place, where `check`
/// leaves its registration: `unlisten` takes it back when this returns
/// anything but an answer (the deadline passed, `Forked`). An answer needs
/// no unlisten: whoever published it took the registration, or `check`
/// found it without listening.
pub(crate) fn block_listening<R>(
    deadline: Option<Instant>,
    fork: &ForkCheck,
    check: impl FnMut() -> Result<Option<R>, WaitError>,
    unlisten: impl FnOnce(),
) -> Result<Option<R>, WaitError> {
    let outcome = block_until(deadline, fork, check);
    if !matches!(outcome, Ok(Some(_))) {
        unlisten();
    }
    outcome
}

/// Blocks the calling thread until `check` answers or `deadline` passes
/// (`Ok(None)`; `None` is no deadline): the park loop of every blocking
/// wait.
///
/// `check` looks for the answer under the lock its publisher takes; when it
/// is not there, it leaves the calling thread registered to be unparked
/// (check → listen) and returns `Ok(None)`. The loop then parks, and checks
/// again (re-check) whatever woke it: a wake-up may be spurious, or meant
/// for other code on this thread, and a park token absorbs an unpark that
/// lands between the check and the park. It checks once even when the
/// deadline has passed (a zero timeout checks once). The caller removes
/// its registration when this returns anything but an answer.
///
/// # Errors
///
/// What `check` returns, and `Forked` before a park in a child forked after
/// the reactor started, whose threads would never unpark it (see
/// [`ForkCheck::before_park`]).
pub(crate) fn block_until<R>(
    deadline: Option<Instant>,
    fork: &ForkCheck,
    mut check: impl FnMut() -> Result<Option<R>, WaitError>,
) -> Result<Option<R>, WaitError> {
    loop {
        if let Some(answer) = check()? {
            return Ok(Some(answer));
        }
        let now = sync::now();
        if deadline.is_some_and(|deadline| deadline <= now) {
            return Ok(None);
        }
        let next_fork_check = fork.before_park(now)?;
        match [deadline, next_fork_check].into_iter().flatten().min() {
            None => sync::park(),
            Some(wake_by) => sync::park_timeout(wake_by.saturating_duration_since(now)),
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
        let (a, b, c) = (0, 1, 2);
        waiters.insert(a, Party::Task(waker.clone()));
        waiters.insert(b, Party::Task(waker.clone()));
        waiters.insert(c, Party::Task(waker.clone()));
        waiters.remove(a);
        waiters.update(b, &waker);
        waiters.update(c, &Waker::from(Arc::clone(&count)));
        waiters.remove(c);
        waiters.take().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        waiters.take().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "taken once");
    }

    #[test]
    fn a_ready_queue_hands_out_what_publication_pushed_in_order() {
        let queue = Arc::new(ReadyQueue::new());
        let mut waiters = Waiters::default();
        waiters.insert(
            0,
            Party::Ready {
                queue: Arc::clone(&queue),
                index: 7,
            },
        );
        let fork = ForkCheck::default();
        let past = Some(sync::now());
        let pop = |deadline| queue.pop_until(deadline, &fork).expect("not forked");
        assert_eq!(pop(past), None, "nothing published yet");
        queue.push(3);
        waiters.take().wake();
        assert_eq!(pop(past), Some(3));
        assert_eq!(pop(None), Some(7));
        assert_eq!(pop(past), None);
    }

    #[test]
    fn the_list_stays_small() {
        assert!(std::mem::size_of::<Waiters>() <= 40);
    }
}
