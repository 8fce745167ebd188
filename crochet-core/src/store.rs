//! A reactor's stash, as the reactor keeps it: entries of any result type
//! under unguessable ids, bounded by a [`StashPolicy`].
//!
//! Type-erased ([`Stashed`]): the typed side (`EventualResult::stash`,
//! `retrieve_result`) is the `stash` module's, above the handles. An
//! entry that leaves unretrieved (expired, drained at shutdown) has its
//! operation cancelled, so that no work runs on with no handle left. Ids
//! are bearer secrets: logs show their first characters only.

use std::any::{Any, TypeId};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::error::{RetrieveError, WaitError};
use crate::fork::{self, ForkCheck};
use crate::stash_id::StashId;
use crate::sync::{Mutex, MutexGuard};

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
    /// [`NotStashed`](crate::NotStashed), which hands the result back.
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

/// A stashed result, whatever its type.
pub(crate) trait Stashed: Send {
    /// Cancels its operation if it is still running; whether it was.
    fn cancel(&self) -> bool;
    /// The result itself, to downcast.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// What an entry is, for a retrieve to check and for messages.
#[derive(Clone, Copy)]
pub(crate) struct Kind {
    pub(crate) type_id: TypeId,
    /// The result's type as messages name it.
    pub(crate) type_name: &'static str,
}

struct Entry {
    result: Box<dyn Stashed>,
    kind: Kind,
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
                result_type = self.kind.type_name,
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
            result_type = entry.kind.type_name,
            "stashed result expired after {:?} without being retrieved",
            ttl.unwrap_or_default()
        );
        entry.leave(id, "expired");
    }
}

/// Why a result was not stashed; it is handed back with this.
pub(crate) enum Refused {
    /// The stash holds its capacity.
    Full { capacity: usize },
    /// A child forked after the reactor started, whose stash lock a
    /// parent thread held at the fork.
    Forked(WaitError),
}

/// One reactor's stash.
#[derive(Default)]
pub(crate) struct Stash {
    store: Mutex<Store>,
}

impl Stash {
    fn lock(&self, fork: &ForkCheck) -> Result<MutexGuard<'_, Store>, WaitError> {
        fork::lock(&self.store, fork)
    }

    /// Stores `result` under a fresh id, or hands it back when full.
    pub(crate) fn put<R: Stashed + 'static>(
        &self,
        result: R,
        kind: Kind,
        fork: &ForkCheck,
    ) -> Result<StashId, (R, Refused)> {
        let id = StashId::random();
        let now = Instant::now();
        let mut store = match self.lock(fork) {
            Ok(store) => store,
            Err(forked) => return Err((result, Refused::Forked(forked))),
        };
        let expired = store.expire(now);
        let ttl = store.policy.time_to_live;
        let capacity = store.policy.capacity;
        let outcome = if store.entries.len() >= capacity {
            Err((result, Refused::Full { capacity }))
        } else {
            store.entries.insert(
                id,
                Entry {
                    result: Box::new(result),
                    kind,
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

    /// Takes the result stashed under `id` out, if it is of `kind`; one
    /// of another kind stays where it is.
    pub(crate) fn take(
        &self,
        id: StashId,
        kind: Kind,
        fork: &ForkCheck,
    ) -> Result<Box<dyn Any + Send>, RetrieveError> {
        let now = Instant::now();
        let mut store = self.lock(fork).map_err(|forked| match forked {
            WaitError::Forked { parent, child } => RetrieveError::Forked { parent, child },
            _ => RetrieveError::NotFound { id },
        })?;
        let expired = store.expire(now);
        let ttl = store.policy.time_to_live;
        let outcome = match store.entries.get(&id) {
            None => Err(RetrieveError::NotFound { id }),
            Some(entry) if entry.kind.type_id != kind.type_id => {
                // Wrong type: it stays where it is, nothing lost.
                Err(RetrieveError::WrongType {
                    id,
                    expected: kind.type_name,
                    found: entry.kind.type_name,
                })
            }
            Some(_) => store
                .entries
                .remove(&id)
                .map(|entry| entry.result.into_any())
                .ok_or(RetrieveError::NotFound { id }),
        };
        drop(store);
        drop_expired(expired, ttl);
        outcome
    }

    pub(crate) fn set_policy(&self, policy: StashPolicy, fork: &ForkCheck) {
        if let Ok(mut store) = self.lock(fork) {
            store.policy = policy;
        }
    }

    /// How many entries it holds (0 in a forked child whose stash lock is
    /// busy).
    pub(crate) fn len(&self, fork: &ForkCheck) -> usize {
        self.lock(fork).map_or(0, |store| store.entries.len())
    }

    /// Empties the stash, letting every entry go outside the lock: running
    /// operations are cancelled, failures among the finished ones were
    /// never observed and are reported.
    pub(crate) fn drain(&self, fork: &ForkCheck) {
        let entries: Vec<(StashId, Entry)> = match self.lock(fork) {
            Ok(mut store) => {
                store.order.clear();
                store.entries.drain().collect()
            }
            Err(_) => return,
        };
        if !entries.is_empty() {
            tracing::debug!(target: "crochet", count = entries.len(), "dropping results left in the stash");
        }
        for (id, entry) in entries {
            entry.leave(id, "drained at shutdown");
        }
    }
}
