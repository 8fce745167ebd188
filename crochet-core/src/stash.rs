//! Stashing a result: park an `EventualResult` in its reactor's stash
//! under an unguessable id (for a web session's cookie) and take it back,
//! once, later. The store itself, type-erased and bounded by a
//! [`StashPolicy`](crate::StashPolicy), is the reactor's (`store`).

use std::any::{Any, TypeId, type_name};
use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, RetrieveError, WaitError};
use crate::eventual::EventualResult;
use crate::stash_id::StashId;
use crate::store::{self, Refused, Stashed};

impl<T: Send + 'static, E: Send + 'static> EventualResult<T, E> {
    /// Stores this result in its reactor's stash and returns an id for
    /// it, to fit in a cookie or a URL;
    /// [`Reactor::retrieve_result`](crate::Reactor::retrieve_result) (or
    /// [`retrieve_result`](crate::retrieve_result) for the global reactor)
    /// gives it back, once.
    ///
    /// Ids are 128 random bits from the operating system, printed as 32
    /// hexadecimal characters: one user cannot guess another's. An entry
    /// that leaves the stash unretrieved (it expires, or is drained at
    /// shutdown) has its operation cancelled.
    ///
    /// # Errors
    ///
    /// [`NotStashed`] when the stash holds its maximum number of entries
    /// (see [`StashPolicy`](crate::StashPolicy)); it hands this result back,
    /// so nothing is lost (dropping it cancels the operation).
    pub fn stash(self) -> Result<StashId, NotStashed<T, E>> {
        let Some(config) = self.cell().shard().map(|shard| Arc::clone(&shard.config)) else {
            return Err(NotStashed::refused(self, Why::NoReactor));
        };
        config
            .stash
            .put(self, kind::<T, E>(), &config.fork)
            .map_err(|(result, refused)| {
                let why = match refused {
                    Refused::Full { capacity } => Why::Full { capacity },
                    Refused::Forked(forked) => Why::Forked(forked),
                };
                NotStashed::refused(result, why)
            })
    }
}

/// Takes the `EventualResult<T, E>` stashed under `id` out of `config`'s
/// stash.
pub(crate) fn retrieve<T: Send + 'static, E: Send + 'static>(
    config: &Config,
    id: StashId,
) -> Result<EventualResult<T, E>, RetrieveError> {
    let any: Box<dyn Any + Send> = config.stash.take(id, kind::<T, E>(), &config.fork)?;
    any.downcast::<EventualResult<T, E>>()
        .map(|result| *result)
        .map_err(|_| RetrieveError::NotFound { id })
}

/// What a stash entry of `EventualResult<T, E>` is.
fn kind<T: 'static, E: 'static>() -> store::Kind {
    store::Kind {
        type_id: TypeId::of::<EventualResult<T, E>>(),
        type_name: result_type_name::<T, E>(),
    }
}

/// A result that could not be stashed because the stash is full; it is
/// handed back, nothing is lost.
///
/// Take the result back with [`NotStashed::into_result`] to keep it
/// running. Otherwise it is an error like the others (as
/// [`std::sync::mpsc::TrySendError`] holds the message it did not send):
/// `?` converts it into [`Error`], and that, as dropping a `NotStashed`,
/// drops the result, which nobody could then ever wait for: its operation
/// is cancelled, so that no work runs on with no handle left.
///
/// (In a child forked after the reactor started, whose stash lock a
/// parent thread held at the fork, the result is handed back the same way,
/// with a capacity of 0.)
pub struct NotStashed<T, E = Infallible> {
    result: Option<EventualResult<T, E>>,
    why: Why,
}

/// Why a result was handed back.
#[derive(Clone, Debug)]
enum Why {
    /// The stash holds its capacity.
    Full { capacity: usize },
    /// The result belongs to no reactor.
    NoReactor,
    /// A forked child, whose stash lock a parent thread held at the fork.
    Forked(WaitError),
}

impl<T, E> NotStashed<T, E> {
    fn refused(result: EventualResult<T, E>, why: Why) -> Self {
        NotStashed {
            result: Some(result),
            why,
        }
    }

    /// The result that was not stashed, still running.
    pub fn into_result(mut self) -> EventualResult<T, E> {
        self.result
            .take()
            .expect("a NotStashed holds its result until it is taken or dropped")
    }

    /// The stash's capacity (0 when the result has no stash to go to).
    pub fn capacity(&self) -> usize {
        match self.why {
            Why::Full { capacity } => capacity,
            Why::NoReactor | Why::Forked(_) => 0,
        }
    }
}

impl<T, E> std::error::Error for NotStashed<T, E> {}

/// Drops the result, which cancels its operation: `result.stash()?`.
impl<T, E> From<NotStashed<T, E>> for Error {
    fn from(refused: NotStashed<T, E>) -> Self {
        match &refused.why {
            Why::Full { capacity } => Error::StashFull {
                capacity: *capacity,
            },
            Why::Forked(forked) => Error::Wait(forked.clone().widen()),
            Why::NoReactor => Error::Wait(WaitError::NotSetUp.widen()),
        }
    }
}

impl<T, E> Drop for NotStashed<T, E> {
    fn drop(&mut self) {
        if let Some(result) = self.result.take() {
            if result.cancel() {
                tracing::debug!(
                    target: "crochet",
                    capacity = self.capacity(),
                    "a result the full stash refused was dropped; its operation was cancelled"
                );
            }
        }
    }
}

impl<T, E> fmt::Debug for NotStashed<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotStashed")
            .field("why", &self.why)
            .field("result", &self.result)
            .finish()
    }
}

impl<T, E> fmt::Display for NotStashed<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.why {
            Why::NoReactor => f.write_str(
                "the result belongs to no reactor, so it has no stash to go to; it was handed back",
            ),
            Why::Forked(_) => f.write_str(
                "this is a forked child, where the stash's lock was held by a thread of the parent; the result was handed back: after a fork, exec, or use no crochet",
            ),
            Why::Full { capacity } => write!(
                f,
                "the stash is full ({capacity} entries); the result was handed back: retrieve results or raise the capacity"
            ),
        }
    }
}

/// How an error message names the type of an `EventualResult<T, E>`: its
/// value type `T` for a plain result, `Result<T, E>` for a fallible one.
fn result_type_name<T: 'static, E: 'static>() -> &'static str {
    if TypeId::of::<E>() == TypeId::of::<Infallible>() {
        type_name::<T>()
    } else {
        type_name::<Result<T, E>>()
    }
}

impl<T: Send + 'static, E: Send + 'static> Stashed for EventualResult<T, E> {
    fn cancel(&self) -> bool {
        EventualResult::cancel(self)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}
