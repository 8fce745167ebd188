//! `SharedResult`: a cloneable handle where every waiter gets the value.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::completion::Completion;
use crate::error::WaitError;
use crate::outcome;
use crate::sync::deadline_after;
use crate::wait::{blocking_wait, debug_fields};

/// A cloneable handle to an operation's result, made with
/// [`EventualResult::shared`](crate::EventualResult::shared).
///
/// Every wait, on every clone, returns a clone of the same outcome, as
/// Python crochet's `wait()` does. Otherwise it behaves as
/// [`EventualResult`](crate::EventualResult): waits that time out leave it
/// waitable, waits on reactor threads are refused, `.await` works, and
/// dropping every clone does not cancel the operation.
///
/// Each wait clones the value while holding the result's internal lock
/// (that is what makes sharing sound for any `T: Clone`, `Sync` or not:
/// clones of the one value never race). This is the only user code crochet
/// runs under its lock, and it has two consequences: a `Clone` that is slow
/// serialises the waiters, and a `Clone` that waits on, reads
/// (`try_result`) or cancels this same result deadlocks; `is_finished` and
/// `Debug` are fine there. Share an `Arc<T>` when cloning `T` is not
/// trivial.
#[must_use = "dropping a SharedResult does not cancel the operation"]
pub struct SharedResult<T, E = Infallible> {
    cell: Arc<Completion<T, E>>,
    key: Option<u32>,
}

impl<T, E> SharedResult<T, E> {
    /// Takes over a handle that was already counted in the cell.
    pub(crate) fn from_cell(cell: Arc<Completion<T, E>>) -> Self {
        SharedResult { cell, key: None }
    }

    pub(crate) fn cell(&self) -> &Arc<Completion<T, E>> {
        &self.cell
    }

    /// Whether the outcome is decided. Never blocks.
    pub fn is_finished(&self) -> bool {
        self.cell.is_done()
    }

    /// Cancels the operation if it is still running; see
    /// [`EventualResult::cancel`](crate::EventualResult::cancel).
    pub fn cancel(&self) -> bool {
        self.cell.cancel()
    }
}

impl<T: Clone, E: Clone> SharedResult<T, E> {
    /// Blocks until the result is there and returns a clone of it.
    ///
    /// # Errors
    ///
    /// The operation's outcome, or [`WaitError::WaitInReactor`] at once on a
    /// reactor thread.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread without a bound; never call it from async
    /// code (use `.await`).
    pub fn wait(&self) -> Result<T, WaitError<E>> {
        blocking_wait(&self.cell, None, Duration::MAX, outcome::clone)
    }

    /// Blocks for at most `timeout` and returns a clone of the result.
    ///
    /// # Errors
    ///
    /// As [`SharedResult::wait`], plus [`WaitError::Timeout`]; the result then
    /// stays waitable.
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread for up to `timeout`.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<T, WaitError<E>> {
        let deadline = deadline_after(timeout);
        blocking_wait(&self.cell, deadline, timeout, outcome::clone)
    }

    /// Blocks until `deadline` at most and returns a clone of the result.
    ///
    /// # Errors
    ///
    /// As [`SharedResult::wait_timeout`].
    ///
    /// # Blocking
    ///
    /// Blocks the calling thread until `deadline`.
    pub fn wait_deadline(&self, deadline: Instant) -> Result<T, WaitError<E>> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        blocking_wait(&self.cell, Some(deadline), timeout, outcome::clone)
    }

    /// A clone of the result if it is there, without blocking.
    pub fn try_result(&self) -> Option<Result<T, WaitError<E>>> {
        self.cell.try_read(outcome::clone)
    }
}

impl<T, E> Clone for SharedResult<T, E> {
    fn clone(&self) -> Self {
        self.cell.add_handle();
        SharedResult::from_cell(Arc::clone(&self.cell))
    }
}

impl<T: Clone, E: Clone> Future for SharedResult<T, E> {
    type Output = Result<T, WaitError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.cell.poll_read(cx, &mut this.key, outcome::clone)
    }
}

impl<T, E> Drop for SharedResult<T, E> {
    fn drop(&mut self) {
        self.cell.drop_handle(self.key);
    }
}

impl<T, E> fmt::Debug for SharedResult<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_fields(f.debug_struct("SharedResult"), &self.cell)
    }
}
