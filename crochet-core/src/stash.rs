//! Each reactor's stash: park an `EventualResult` under an unguessable id
//! (for a web session's cookie) and retrieve it, once, later.
//!
//! Bounded by a [`StashPolicy`]: at most `capacity` entries (stashing into a
//! full stash hands the result back), and entries not retrieved within
//! `time_to_live` are dropped with a warning (a failure among them is
//! reported as unobserved). An entry that leaves unretrieved has its
//! operation cancelled. Ids are bearer secrets: logs and messages show
//! their first characters only.

use std::any::{Any, TypeId, type_name};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, ParseStashIdError, RetrieveError};
use crate::eventual::EventualResult;
use crate::reactor::Reactor;

/// The id of a stashed result: 128 random bits, printed as 32 lowercase
/// hexadecimal characters.
///
/// `Display` and `FromStr` round-trip, so an id fits in a cookie or a URL
/// and comes back typed.
///
/// # Examples
///
/// ```
/// use crochet_core::StashId;
///
/// let id: StashId = "00112233445566778899aabbccddeeff".parse()?;
/// assert_eq!(id.to_string(), "00112233445566778899aabbccddeeff");
/// assert!("not an id".parse::<StashId>().is_err());
/// # Ok::<(), crochet_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StashId(u128);

impl StashId {
    /// The length of an id's text form.
    pub const TEXT_LEN: usize = 32;

    /// A fresh id from the operating system's randomness.
    fn random() -> StashId {
        let mut bytes = [0_u8; 16];
        match getrandom::fill(&mut bytes) {
            Ok(()) => StashId(u128::from_le_bytes(bytes)),
            Err(error) => {
                // The OS refused randomness (a seccomp filter, say). Fall
                // back to std's per-process random SipHash keys, which are
                // secret too, rather than failing the caller.
                tracing::warn!(target: "crochet", %error, "getrandom failed; stash ids use std's hasher keys");
                StashId(fallback_random())
            }
        }
    }
}

fn fallback_random() -> u128 {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let at = Instant::now();
    let high = state.hash_one((at, 0_u8));
    let low = state.hash_one((at, 1_u8));
    (u128::from(high) << 64) | u128::from(low)
}

impl fmt::Display for StashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl StashId {
    /// The id's first characters, for logs and messages: enough to tell
    /// ids apart, not enough to retrieve with (an id is a bearer secret).
    pub(crate) fn prefix(&self) -> impl fmt::Display + use<> {
        IdPrefix(self.0)
    }
}

struct IdPrefix(u128);

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The top 32 bits: the first 8 of the 32 characters.
        write!(f, "{:08x}…", self.0 >> 96)
    }
}

/// Shows the id's first characters only, as logs and error messages do:
/// `Debug` output ends up in logs, and an id is a bearer secret.
impl fmt::Debug for StashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StashId({})", self.prefix())
    }
}

impl FromStr for StashId {
    type Err = ParseStashIdError;

    /// Parses the text form; anything but exactly 32 hexadecimal characters
    /// is a [`ParseStashIdError`].
    fn from_str(text: &str) -> Result<Self, ParseStashIdError> {
        let malformed = || ParseStashIdError {
            len: text.chars().count(),
        };
        if text.len() != Self::TEXT_LEN || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        u128::from_str_radix(text, 16)
            .map(StashId)
            .map_err(|_| malformed())
    }
}

/// How the stash is bounded.
///
/// The default holds at most 100,000 entries, each for at most one hour.
/// Built from the default with the `with_*` methods, so that later
/// versions may add settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::StashPolicy;
///
/// let policy = StashPolicy::default()
///     .with_capacity(10_000)
///     .with_time_to_live(Some(Duration::from_secs(600)));
/// assert_eq!(policy.capacity(), 10_000);
/// crochet_core::set_stash_policy(policy);
/// # crochet_core::set_stash_policy(StashPolicy::default());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StashPolicy {
    capacity: usize,
    time_to_live: Option<Duration>,
}

impl StashPolicy {
    /// The most entries the stash holds; stashing beyond it fails with
    /// [`NotStashed`], which hands the result back.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// How long an entry may wait to be retrieved; older entries are
    /// dropped with a warning (and their operations cancelled). `None`
    /// keeps entries until retrieved or until the reactor shuts down.
    pub fn with_time_to_live(mut self, time_to_live: Option<Duration>) -> Self {
        self.time_to_live = time_to_live;
        self
    }

    /// The most entries the stash holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How long an entry may wait to be retrieved; `None` for ever.
    pub fn time_to_live(&self) -> Option<Duration> {
        self.time_to_live
    }
}

impl Default for StashPolicy {
    fn default() -> Self {
        StashPolicy {
            capacity: 100_000,
            time_to_live: Some(Duration::from_secs(3600)),
        }
    }
}

/// A result that could not be stashed because the stash is full; it is
/// handed back, nothing is lost.
///
/// Take the result back with [`NotStashed::into_result`] to keep it
/// running. Dropping a `NotStashed` drops the result, which nobody could
/// then ever wait for: its operation is cancelled, so that no work runs on
/// with no handle left; [`NotStashed::cancel`] does that explicitly and
/// gives the [`Error`] to propagate. It is not itself a
/// [`std::error::Error`], and converts into none, so that `?` never
/// cancels work unseen.
///
/// A result that belongs to no reactor has no stash to go to: it is
/// handed back the same way, with a capacity of 0.
pub struct NotStashed<T, E = Infallible> {
    result: Option<EventualResult<T, E>>,
    /// The full stash's capacity; `None` when there is no stash.
    capacity: Option<usize>,
}

impl<T, E> NotStashed<T, E> {
    /// A result that has no stash to go to (its cell has no reactor).
    pub(crate) fn refused(result: EventualResult<T, E>) -> Self {
        NotStashed {
            result: Some(result),
            capacity: None,
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
        self.capacity.unwrap_or(0)
    }

    /// Cancels the result's operation, and gives [`Error::StashFull`] to
    /// propagate: `result.stash().map_err(NotStashed::cancel)?`.
    pub fn cancel(self) -> Error {
        // Dropping `self` cancels the operation.
        Error::StashFull {
            capacity: self.capacity(),
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
            .field("capacity", &self.capacity)
            .field("result", &self.result)
            .finish()
    }
}

impl<T, E> fmt::Display for NotStashed<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.capacity {
            None => f.write_str(
                "the result belongs to no reactor, so it has no stash to go to; it was handed back",
            ),
            Some(capacity) => write!(
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

/// A stashed result, whatever its type.
trait Stashed: Send {
    /// Cancels its operation if it is still running; whether it was.
    fn cancel(&self) -> bool;
    /// The `EventualResult<T>` itself, to downcast.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Send + 'static, E: Send + 'static> Stashed for EventualResult<T, E> {
    fn cancel(&self) -> bool {
        EventualResult::cancel(self)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

struct Entry {
    result: Box<dyn Stashed>,
    type_id: TypeId,
    type_name: &'static str,
    stored_at: Instant,
}

impl Entry {
    /// The entry leaves the stash unretrieved: its operation, if still
    /// running, is cancelled (nobody could wait for it any more), and a
    /// failure it ended with is reported as unobserved when it is dropped.
    fn leave(self, id: StashId, why: &str) {
        if self.result.cancel() {
            tracing::debug!(
                target: "crochet",
                id = %id.prefix(),
                result_type = self.type_name,
                "a stashed result left the stash unretrieved ({why}); its operation was cancelled"
            );
        }
        drop(self);
    }
}

#[derive(Default)]
struct Store {
    entries: HashMap<StashId, Entry>,
    /// Ids in the order they were stashed, for expiry. Retrieved ids stay
    /// until they reach the front or the queue is compacted.
    order: VecDeque<(Instant, StashId)>,
    policy: StashPolicy,
}

/// One reactor's stash.
#[derive(Default)]
pub(crate) struct Stash {
    store: Mutex<Store>,
}

impl Store {
    /// Removes expired entries and returns them, to be dropped outside the
    /// lock.
    fn expire(&mut self, now: Instant) -> Vec<(StashId, Entry)> {
        let mut expired = Vec::new();
        if let Some(ttl) = self.policy.time_to_live {
            while let Some(&(stored_at, id)) = self.order.front() {
                if now.saturating_duration_since(stored_at) < ttl {
                    break;
                }
                self.order.pop_front();
                if self.holds(id, stored_at) {
                    if let Some(entry) = self.entries.remove(&id) {
                        expired.push((id, entry));
                    }
                }
            }
        }
        // Keep the queue proportional to the live entries.
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order.retain(|(stored_at, id)| {
                entries.get(id).is_some_and(|e| e.stored_at == *stored_at)
            });
        }
        expired
    }

    fn holds(&self, id: StashId, stored_at: Instant) -> bool {
        self.entries
            .get(&id)
            .is_some_and(|entry| entry.stored_at == stored_at)
    }
}

/// Lets expired entries go, outside the lock, with a warning each.
fn drop_expired(expired: Vec<(StashId, Entry)>, ttl: Option<Duration>) {
    for (id, entry) in expired {
        tracing::warn!(
            target: "crochet",
            id = %id.prefix(),
            result_type = entry.type_name,
            "stashed result expired after {:?} without being retrieved",
            ttl.unwrap_or_default()
        );
        entry.leave(id, "expired");
    }
}

impl Stash {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `result` under a fresh id, or hands it back when full.
    pub(crate) fn put<T: Send + 'static, E: Send + 'static>(
        &self,
        result: EventualResult<T, E>,
    ) -> Result<StashId, NotStashed<T, E>> {
        let id = StashId::random();
        let now = Instant::now();
        let mut store = self.lock();
        let expired = store.expire(now);
        let ttl = store.policy.time_to_live;
        let capacity = store.policy.capacity;
        let outcome = if store.entries.len() >= capacity {
            Err(NotStashed {
                result: Some(result),
                capacity: Some(capacity),
            })
        } else {
            store.entries.insert(
                id,
                Entry {
                    result: Box::new(result),
                    type_id: TypeId::of::<EventualResult<T, E>>(),
                    type_name: result_type_name::<T, E>(),
                    stored_at: now,
                },
            );
            store.order.push_back((now, id));
            Ok(id)
        };
        drop(store);
        drop_expired(expired, ttl);
        if outcome.is_err() {
            tracing::warn!(target: "crochet", capacity, "the stash is full; a result was not stashed");
        }
        outcome
    }

    /// Takes the result stashed under `id` out.
    pub(crate) fn take<T: Send + 'static, E: Send + 'static>(
        &self,
        id: StashId,
    ) -> Result<EventualResult<T, E>, RetrieveError> {
        let now = Instant::now();
        let mut store = self.lock();
        let expired = store.expire(now);
        let ttl = store.policy.time_to_live;
        let outcome = match store.entries.get(&id) {
            None => Err(RetrieveError::NotFound { id }),
            Some(entry) if entry.type_id != TypeId::of::<EventualResult<T, E>>() => {
                // Wrong type: it stays where it is, nothing lost.
                Err(RetrieveError::WrongType {
                    id,
                    expected: result_type_name::<T, E>(),
                    found: entry.type_name,
                })
            }
            Some(_) => match store
                .entries
                .remove(&id)
                .map(|entry| entry.result.into_any())
            {
                Some(any) => any
                    .downcast::<EventualResult<T, E>>()
                    .map(|result| *result)
                    .map_err(|_| RetrieveError::NotFound { id }),
                None => Err(RetrieveError::NotFound { id }),
            },
        };
        drop(store);
        drop_expired(expired, ttl);
        outcome
    }

    pub(crate) fn set_policy(&self, policy: StashPolicy) {
        self.lock().policy = policy;
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Empties the stash, letting every entry go outside the lock: running
    /// operations are cancelled, failures among the finished ones were
    /// never observed and are reported.
    pub(crate) fn drain(&self) {
        let entries: Vec<(StashId, Entry)> = {
            let mut store = self.lock();
            store.order.clear();
            store.entries.drain().collect()
        };
        if !entries.is_empty() {
            tracing::debug!(target: "crochet", count = entries.len(), "dropping results left in the stash");
        }
        for (id, entry) in entries {
            entry.leave(id, "drained at shutdown");
        }
    }
}

impl Reactor {
    /// Takes a result stashed in this reactor's stash (by
    /// [`EventualResult::stash`] on one of its results) back out.
    ///
    /// Each id gives its result back once; the result may still be pending
    /// (wait for it, or stash it again under a new id).
    ///
    /// # Errors
    ///
    /// [`RetrieveError::NotFound`] for an id that was already retrieved,
    /// that expired or that never existed here;
    /// [`RetrieveError::WrongType`] when the result under `id` is not an
    /// `EventualResult<T, E>`, in which case it stays in the stash.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let reactor = crochet_core::Reactor::start(crochet_tokio::Tokio::builder())?;
    /// # use std::convert::Infallible;
    /// # use crochet_core::EventualResult;
    /// # use crochet_core::NotStashed;
    /// let id = reactor.run_in_reactor(|| async { 7 }).stash().map_err(NotStashed::cancel)?;
    /// let cookie = id.to_string();
    ///
    /// // ... a later request brings the cookie back:
    /// let result: EventualResult<i32> = reactor.retrieve_result(cookie.parse()?)?;
    /// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 7);
    /// assert!(reactor.retrieve_result::<i32, Infallible>(cookie.parse()?).is_err());
    /// # reactor.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), crochet_core::Error>(())
    /// ```
    pub fn retrieve_result<T: Send + 'static, E: Send + 'static>(
        &self,
        id: StashId,
    ) -> Result<EventualResult<T, E>, RetrieveError> {
        self.config().stash.take(id)
    }

    /// Sets how this reactor's stash is bounded. A smaller capacity does
    /// not evict entries already stashed; a shorter time-to-live applies to
    /// them at the next stash or retrieve.
    pub fn set_stash_policy(&self, policy: StashPolicy) {
        self.config().stash.set_policy(policy);
    }
}

/// Takes a result out of the global reactor's stash; see
/// [`Reactor::retrieve_result`].
///
/// # Errors
///
/// As [`Reactor::retrieve_result`].
pub fn retrieve_result<T: Send + 'static, E: Send + 'static>(
    id: StashId,
) -> Result<EventualResult<T, E>, RetrieveError> {
    crate::global().retrieve_result(id)
}

/// Sets how the global reactor's stash is bounded; see
/// [`Reactor::set_stash_policy`].
pub fn set_stash_policy(policy: StashPolicy) {
    crate::global().set_stash_policy(policy);
}

/// How many results the global reactor's stash holds (expired ones
/// included until the next stash or retrieve sweeps them).
pub fn stash_len() -> usize {
    crate::global().config().stash.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_ids_differ() {
        assert_ne!(fallback_random(), fallback_random());
    }

    #[test]
    fn from_str_rejects_signs_and_wrong_lengths() {
        assert!(StashId::from_str("+0112233445566778899aabbccddeeff").is_err());
        assert!(StashId::from_str("0112233445566778899aabbccddeeff").is_err());
        assert!(StashId::from_str("é0112233445566778899aabbccddeef").is_err());
        assert!(StashId::from_str("00112233445566778899AABBCCDDEEFF").is_ok());
    }
}
