//! The process-wide stash: park an `EventualResult` under an unguessable
//! id (for a web session's cookie) and retrieve it, once, later.
//!
//! Bounded by a [`StashPolicy`]: at most `capacity` entries (stashing into a
//! full stash hands the result back), and entries not retrieved within
//! `time_to_live` are dropped with a warning (a failure among them is
//! reported as unobserved).

use std::any::{Any, type_name};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::eventual::EventualResult;

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

impl fmt::Debug for StashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StashId({self})")
    }
}

impl FromStr for StashId {
    type Err = Error;

    /// Parses the text form; anything but exactly 32 hexadecimal characters
    /// is [`Error::StashMalformedId`].
    fn from_str(text: &str) -> Result<Self, Error> {
        let malformed = || Error::StashMalformedId {
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
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use crochet_core::StashPolicy;
///
/// crochet_core::set_stash_policy(StashPolicy {
///     capacity: 10_000,
///     time_to_live: Some(Duration::from_secs(600)),
/// });
/// # crochet_core::set_stash_policy(StashPolicy::default());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StashPolicy {
    /// The most entries the stash holds; stashing beyond it fails with
    /// [`StashFull`], which hands the result back.
    pub capacity: usize,
    /// How long an entry may wait to be retrieved; older entries are
    /// dropped with a warning. `None` keeps entries until retrieved or
    /// until [`shutdown`](crate::shutdown).
    pub time_to_live: Option<Duration>,
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
pub struct StashFull<T> {
    result: EventualResult<T>,
    capacity: usize,
}

impl<T> StashFull<T> {
    /// The result that was not stashed.
    pub fn into_result(self) -> EventualResult<T> {
        self.result
    }

    /// The stash's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<T> fmt::Debug for StashFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StashFull")
            .field("capacity", &self.capacity)
            .field("result", &self.result)
            .finish()
    }
}

impl<T> fmt::Display for StashFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(
            &Error::StashFull {
                capacity: self.capacity,
            },
            f,
        )
    }
}

impl<T> std::error::Error for StashFull<T> {}

impl<T> From<StashFull<T>> for Error {
    /// Keeps the error, and cancels the handed-back result: once it is
    /// dropped here, nobody could ever see its outcome (`?` on a full stash
    /// takes the operation down with it). Use [`StashFull::into_result`]
    /// to keep it instead.
    fn from(full: StashFull<T>) -> Self {
        full.result.cancel();
        Error::StashFull {
            capacity: full.capacity,
        }
    }
}

struct Entry {
    result: Box<dyn Any + Send>,
    type_name: &'static str,
    stored_at: Instant,
}

struct Store {
    entries: HashMap<StashId, Entry>,
    /// Ids in the order they were stashed, for expiry. Retrieved ids stay
    /// until they reach the front or the queue is compacted.
    order: VecDeque<(Instant, StashId)>,
    policy: StashPolicy,
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

fn store() -> MutexGuard<'static, Option<Store>> {
    STORE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn with_store<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    let mut guard = store();
    let store = guard.get_or_insert_with(|| Store {
        entries: HashMap::new(),
        order: VecDeque::new(),
        policy: StashPolicy::default(),
    });
    f(store)
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

/// Drops expired entries outside the lock, with a warning each; their
/// `EventualResult`s report any failure nobody observed.
fn drop_expired(expired: Vec<(StashId, Entry)>, ttl: Option<Duration>) {
    for (id, entry) in expired {
        tracing::warn!(
            target: "crochet",
            %id,
            result_type = entry.type_name,
            "stashed result expired after {:?} without being retrieved",
            ttl.unwrap_or_default()
        );
        drop(entry);
    }
}

pub(crate) fn put<T: Send + 'static>(result: EventualResult<T>) -> Result<StashId, StashFull<T>> {
    let id = StashId::random();
    let now = Instant::now();
    let (outcome, expired, ttl) = with_store(|store| {
        let expired = store.expire(now);
        let ttl = store.policy.time_to_live;
        let capacity = store.policy.capacity;
        if store.entries.len() >= capacity {
            return (Err(StashFull { result, capacity }), expired, ttl);
        }
        let entry = Entry {
            result: Box::new(result),
            type_name: type_name::<T>(),
            stored_at: now,
        };
        store.entries.insert(id, entry);
        store.order.push_back((now, id));
        (Ok(id), expired, ttl)
    });
    drop_expired(expired, ttl);
    if let Err(full) = &outcome {
        tracing::warn!(target: "crochet", capacity = full.capacity, "the stash is full; a result was not stashed");
    }
    outcome
}

/// Takes a stashed result out of the stash.
///
/// Each id gives its result back once; the result may still be pending
/// (wait for it, or stash it again under a new id).
///
/// # Errors
///
/// [`Error::StashNotFound`] for an id that was already retrieved, that
/// expired or that never existed; [`Error::StashWrongType`] when the result
/// under `id` is not an `EventualResult<T>`, in which case it stays in the
/// stash.
///
/// # Examples
///
/// ```
/// # use std::time::Duration;
/// # let reactor = crochet_core::Reactor::start(crochet_core::doc_support::MiniBackend)?;
/// let id = reactor.run_in_reactor(|| async { 7 }).stash()?;
/// let cookie = id.to_string();
///
/// // ... a later request brings the cookie back:
/// let result = crochet_core::retrieve_result::<i32>(cookie.parse()?)?;
/// assert_eq!(result.wait_timeout(Duration::from_secs(5))?, 7);
/// assert!(crochet_core::retrieve_result::<i32>(cookie.parse()?).is_err());
/// # reactor.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), crochet_core::Error>(())
/// ```
pub fn retrieve_result<T: Send + 'static>(id: StashId) -> Result<EventualResult<T>, Error> {
    let now = Instant::now();
    let (outcome, expired, ttl) = with_store(|store| {
        let expired = store.expire(now);
        let ttl = store.policy.time_to_live;
        let Some(entry) = store.entries.remove(&id) else {
            return (Err(Error::StashNotFound { id }), expired, ttl);
        };
        let Entry {
            result,
            type_name: found,
            stored_at,
        } = entry;
        let outcome = match result.downcast::<EventualResult<T>>() {
            Ok(result) => Ok(*result),
            Err(result) => {
                // Wrong type: put it back as it was, nothing lost.
                store.entries.insert(
                    id,
                    Entry {
                        result,
                        type_name: found,
                        stored_at,
                    },
                );
                Err(Error::StashWrongType {
                    id,
                    expected: type_name::<T>(),
                    found,
                })
            }
        };
        (outcome, expired, ttl)
    });
    drop_expired(expired, ttl);
    outcome
}

/// Sets how the stash is bounded, process-wide. A smaller capacity does
/// not evict entries already stashed; a shorter time-to-live applies to
/// them at the next stash or retrieve.
pub fn set_stash_policy(policy: StashPolicy) {
    with_store(|store| store.policy = policy);
}

/// How many results are stashed (expired ones included until the next
/// stash or retrieve sweeps them).
pub fn stash_len() -> usize {
    with_store(|store| store.entries.len())
}

/// Empties the stash, dropping every entry outside the lock: failures
/// among them were never observed and are reported.
pub(crate) fn drain() {
    let entries: Vec<Entry> = with_store(|store| {
        store.order.clear();
        store.entries.drain().map(|(_, entry)| entry).collect()
    });
    if !entries.is_empty() {
        tracing::debug!(target: "crochet", count = entries.len(), "dropping results left in the stash");
    }
    drop(entries);
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
