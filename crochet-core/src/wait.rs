//! What every blocking handle's wait does around the cell's own wait:
//! refuse (or hand off) on a thread that drives a reactor, count a
//! timeout, and show the handle's state in `Debug` without blocking.

use std::fmt;
use std::time::{Duration, Instant};

use crate::completion::Completion;
use crate::context;
use crate::error::WaitError;
use crate::outcome::Extract;

/// A blocking wait on one result: refused on reactor threads, then parked
/// until the deadline.
pub(crate) fn blocking_wait<T, E>(
    cell: &Completion<T, E>,
    deadline: Option<Instant>,
    timeout: Duration,
    extract: Extract<T, E>,
) -> Result<T, WaitError<E>> {
    context::blocking()
        .map_err(WaitError::widen)?
        .run(|| park_for(cell, deadline, timeout, extract))
}

/// The wait itself, for callers that already refused reactor threads.
pub(crate) fn park_for<T, E>(
    cell: &Completion<T, E>,
    deadline: Option<Instant>,
    timeout: Duration,
    extract: Extract<T, E>,
) -> Result<T, WaitError<E>> {
    cell.wait_until(deadline, extract)
        .unwrap_or_else(|| Err(timed_out(cell, timeout)))
}

/// The error of a wait on `cell` that timed out after `timeout`, counted
/// on its reactor.
pub(crate) fn timed_out<T, E, F>(cell: &Completion<T, E>, timeout: Duration) -> WaitError<F> {
    cell.note_timed_out_wait();
    WaitError::Timeout {
        after: timeout,
        state: cell.pending_state(),
    }
}

/// `Debug` fields of a handle, read without blocking.
pub(crate) fn debug_fields<T, E>(
    mut out: fmt::DebugStruct<'_, '_>,
    cell: &Completion<T, E>,
) -> fmt::Result {
    let origin = cell.origin();
    out.field("state", &format_args!("{}", cell.status().label()))
        .field("operation", &origin.operation())
        .field("location", &format_args!("{}", origin.location))
        .finish()
}
