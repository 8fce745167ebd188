//! Rule 5: how every kind of wait waits on a cell, without ever
//! publishing. A party registers in the cell's waiter list ([`Party`]: a
//! parked thread, an async task's waker, a wait set's queue) and is woken
//! by the publication, which takes the list; the blocking waits park in
//! the one loop ([`block_until`]); each one reads the outcome as its
//! handle reads it ([`Extract`]: take it, or clone it).

use std::task::{Context, Poll};
use std::time::Instant;

use super::{Completion, State};
use crate::error::WaitError;
use crate::outcome::{Extract, Outcome, TAKEN};
use crate::sync;
use crate::waiters::{Party, block_listening};

use std::sync::atomic::Ordering;

impl<T, E> Completion<T, E> {
    /// Registers `party` to be woken when the outcome is published;
    /// `Ok(None)` (nothing registered) when it already is.
    ///
    /// # Errors
    ///
    /// `Forked` in a forked child whose cell lock is busy.
    pub(crate) fn register(&self, party: Party) -> Result<Option<u32>, WaitError> {
        let mut state = self.lock()?;
        if !state.outcome.is_pending() {
            return Ok(None);
        }
        Ok(Some(state.add_waiter(party)))
    }

    /// Removes a registration made by [`Completion::register`] (a no-op
    /// once the outcome is published, which removes them all, and in a
    /// forked child whose cell lock is busy).
    pub(crate) fn unregister(&self, key: u32) {
        if let Ok(mut state) = self.lock() {
            state.waiters.remove(key);
        }
    }

    /// Reads the outcome if it is published, without blocking.
    pub(crate) fn try_read(&self, extract: Extract<T, E>) -> Option<Result<T, WaitError<E>>> {
        let mut state = match self.lock() {
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
        let mut state = match self.lock() {
            Ok(state) => state,
            Err(forked) => return Some(Err(forked.widen())),
        };
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

    /// Blocks the calling thread until the outcome is published, and reads
    /// it; `None` at `deadline`, with nothing consumed. In a child forked
    /// after the reactor started, `Forked` instead of parking.
    pub(crate) fn wait_until(
        &self,
        deadline: Option<Instant>,
        extract: Extract<T, E>,
    ) -> Option<Result<T, WaitError<E>>> {
        match self.park_until(deadline, |state| self.read(state, extract)) {
            Ok(read) => read,
            Err(forked) => Some(Err(forked.widen())),
        }
    }

    /// Blocks until the outcome is published or `deadline` passes, reading
    /// nothing; whether it was published (shutdown, and `wait_for` after
    /// it cancelled, wait so for the future to be gone).
    pub(crate) fn wait_ended(&self, deadline: Option<Instant>) -> bool {
        matches!(self.park_until(deadline, |_| ()), Ok(Some(())))
    }

    /// The blocking wait: registers this thread, parks in the one loop
    /// until the publication takes the registration (or the deadline), and
    /// reads with `on_published` under the lock.
    fn park_until<R>(
        &self,
        deadline: Option<Instant>,
        mut on_published: impl FnMut(&mut State<T, E>) -> R,
    ) -> Result<Option<R>, WaitError> {
        let key = std::cell::Cell::new(None);
        let check = || {
            let mut state = self.lock()?;
            if !state.outcome.is_pending() {
                // The publication took every waiter, this one included.
                return Ok(Some(on_published(&mut state)));
            }
            if key.get().is_none() {
                key.set(Some(state.add_waiter(Party::Thread(sync::current()))));
            }
            Ok(None)
        };
        let unlisten = || {
            if let Some(key) = key.get() {
                self.unregister(key);
            }
        };
        block_listening(deadline, self.fork(), check, unlisten)
    }

    /// The async side of a wait. `key` is the handle's waiter slot, kept
    /// across polls so that re-polling replaces the waker instead of adding
    /// one.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        key: &mut Option<u32>,
        extract: Extract<T, E>,
    ) -> Poll<Result<T, WaitError<E>>> {
        let mut state = match self.lock() {
            Ok(state) => state,
            Err(forked) => return Poll::Ready(Err(forked.widen())),
        };
        if !state.outcome.is_pending() {
            if let Some(key) = key.take() {
                state.waiters.remove(key);
            }
            return Poll::Ready(self.read(&mut state, extract));
        }
        match key {
            Some(key) => state.waiters.update(*key, cx.waker()),
            None => *key = Some(state.add_waiter(Party::Task(cx.waker().clone()))),
        }
        Poll::Pending
    }
}
