//! What a completion cell holds ([`Outcome`]), how a wait reads it (take
//! it, or clone it), and its summary as a status byte ([`Status`]).

use std::mem;

use crate::error::{Failure, WaitError};

/// Where a result stands, as `Debug` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Pending = 0,
    Ready = 1,
    Failed = 2,
    Panicked = 3,
    Cancelled = 4,
    Stopped = 5,
    /// Cancellation was requested; the task has not dropped its future yet.
    Cancelling = 6,
    /// Shutdown requested the end; the task has not dropped its future yet.
    Stopping = 7,
    /// A consuming wait took the value. Not stored: the [`TAKEN`] bit
    /// beside a ready status.
    Taken = 0x80,
}

/// Set in the status byte once the value is taken; the low bits keep how
/// the operation ended.
pub(crate) const TAKEN: u8 = 0x80;

impl Status {
    pub(crate) fn of<T, E>(outcome: &Outcome<T, E>) -> Status {
        match outcome {
            Outcome::Value(_) => Status::Ready,
            Outcome::Fault(fault) => match **fault {
                WaitError::Cancelled => Status::Cancelled,
                WaitError::ReactorStopped => Status::Stopped,
                WaitError::Panicked(_) => Status::Panicked,
                _ => Status::Failed,
            },
            _ => Status::Failed,
        }
    }

    pub(crate) fn from_u8(value: u8) -> Status {
        if value & TAKEN != 0 {
            return Status::Taken;
        }
        match value {
            0 => Status::Pending,
            1 => Status::Ready,
            2 => Status::Failed,
            3 => Status::Panicked,
            4 => Status::Cancelled,
            5 => Status::Stopped,
            6 => Status::Cancelling,
            _ => Status::Stopping,
        }
    }

    /// Whether the outcome is published (a wait returns it).
    pub(crate) fn is_published(self) -> bool {
        !matches!(
            self,
            Status::Pending | Status::Cancelling | Status::Stopping
        )
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Failed | Status::Panicked => "failed",
            Status::Cancelled => "cancelled",
            Status::Stopped => "stopped",
            Status::Cancelling => "cancelling",
            Status::Stopping => "stopping",
            Status::Taken => "taken",
        }
    }
}

/// What the cell holds. crochet's own errors are boxed: they are rare,
/// and an inline one would make every cell as large as the largest error.
pub(crate) enum Outcome<T, E> {
    Pending,
    /// The operation's value.
    Value(T),
    /// The operation's own error, and how to report it if nobody reads it.
    Failed(E, ToFailure<E>),
    /// crochet's own outcome: cancelled, panicked, stopped, refused.
    Fault(Box<WaitError>),
    /// A consuming wait took the value.
    Taken,
    /// A consuming wait took the operation's own error.
    FailureTaken,
}

impl<T, E> Outcome<T, E> {
    /// crochet's own outcome.
    pub(crate) fn fault(error: WaitError) -> Self {
        Outcome::Fault(Box::new(error))
    }

    pub(crate) fn is_pending(&self) -> bool {
        matches!(self, Outcome::Pending)
    }

    /// Whether a wait has something to read: an outcome not taken yet.
    pub(crate) fn is_published_value(&self) -> bool {
        matches!(
            self,
            Outcome::Value(_) | Outcome::Failed(..) | Outcome::Fault(_)
        )
    }

    /// What the failure hook is given of an outcome nobody read; `None`
    /// for a value and for what is not worth a report.
    pub(crate) fn into_report(self) -> Option<WaitError<Failure>> {
        match self {
            Outcome::Failed(error, to_failure) => Some(WaitError::Failed(to_failure(error))),
            Outcome::Fault(fault) if fault.is_reportable() => Some(fault.widen()),
            _ => None,
        }
    }
}

/// Type-erases an operation's own error for the failure hook: set where
/// the error's bounds are known (the fallible entry points).
pub(crate) type ToFailure<E> = fn(E) -> Failure;

/// How a wait reads a published outcome: take it, or clone it.
pub(crate) type Extract<T, E> = fn(&mut Outcome<T, E>) -> Result<T, WaitError<E>>;

/// Moves a value (or the operation's own error) out, leaving
/// [`Outcome::Taken`] ([`Outcome::FailureTaken`]); crochet's own failures
/// stay, for every later wait to see.
pub(crate) fn take<T, E>(outcome: &mut Outcome<T, E>) -> Result<T, WaitError<E>> {
    match outcome {
        Outcome::Fault(fault) => Err((**fault).clone().widen()),
        Outcome::Value(_) => match mem::replace(outcome, Outcome::Taken) {
            Outcome::Value(value) => Ok(value),
            _ => unreachable!("matched a value"),
        },
        Outcome::Failed(..) => match mem::replace(outcome, Outcome::FailureTaken) {
            Outcome::Failed(error, _) => Err(WaitError::Failed(error)),
            _ => unreachable!("matched a failure"),
        },
        Outcome::FailureTaken => Err(WaitError::FailureTaken),
        Outcome::Taken | Outcome::Pending => Err(WaitError::AlreadyRetrieved),
    }
}

/// Clones the outcome, leaving it in place for other waiters.
///
/// The one piece of user code that runs under the cell's lock: `T`'s
/// (or `E`'s) `clone`. That is what makes sharing sound for a `T` that is
/// `Clone` but not `Sync` (clones of one value are never made
/// concurrently); it is documented on `SharedResult`.
pub(crate) fn clone<T: Clone, E: Clone>(outcome: &mut Outcome<T, E>) -> Result<T, WaitError<E>> {
    match outcome {
        Outcome::Value(value) => Ok(value.clone()),
        Outcome::Failed(error, _) => Err(WaitError::Failed(error.clone())),
        Outcome::Fault(fault) => Err((**fault).clone().widen()),
        Outcome::FailureTaken => Err(WaitError::FailureTaken),
        Outcome::Taken | Outcome::Pending => Err(WaitError::AlreadyRetrieved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_u8() {
        for status in [
            Status::Pending,
            Status::Ready,
            Status::Failed,
            Status::Panicked,
            Status::Cancelled,
            Status::Stopped,
            Status::Cancelling,
            Status::Stopping,
            Status::Taken,
        ] {
            assert_eq!(Status::from_u8(status as u8), status);
        }
        assert_eq!(Status::from_u8(Status::Ready as u8 | TAKEN), Status::Taken);
    }
}
