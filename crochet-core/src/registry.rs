//! Every operation of one reactor that is not over yet, and its counters.
//!
//! This is how shutdown reaches every operation: an operation is
//! registered as it is admitted, under the lock of its shard, which also
//! holds whether the registry is closed; so an operation is either
//! registered before [`Registry::close`] (which then requests its end) or
//! refused (its submitter drops the work and publishes `ReactorStopped`).
//! Nothing is registered by a waiter: waiters wait on the cell, which its
//! task (or shutdown, at its bound) publishes.
//!
//! Sharded by submitting thread, so that no lock is shared by every
//! submitting thread. A registered entry leaves under its shard's lock,
//! taken by whichever comes last of the operation's end and its last
//! handle's drop (usually the latter, on the submitting thread: the
//! reactor thread that publishes takes no registry lock, unless every
//! handle is gone already, as for fire-and-forget work). Submissions and
//! outcomes are counted without a lock, on cache lines of each shard's
//! own, so `stats()` and `pending_operations()` cost O(shards).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::config::Config;
use crate::error::WaitError;
use crate::fork;
use crate::hook::Origin;
use crate::outcome::Status;
use crate::sync::{self, AtomicUsize, Mutex, MutexGuard, SHARDS};

/// A registered operation's cell, as shutdown sees it.
pub(crate) trait Member: Send + Sync {
    /// Requests the operation's end with `ReactorStopped`, if still
    /// pending: its task drops the future, then publishes.
    fn request_stop(&self);
    /// Waits until its outcome is published, or `deadline`; whether it
    /// was.
    fn wait_ended(&self, deadline: Option<Instant>) -> bool;
    /// Shutdown's bound ran out: publishes `ReactorStopped` now, with the
    /// future still alive (its runtime drops it when it gets to it).
    /// Whether it was still undecided.
    fn abandon(&self) -> bool;
    /// Whether its outcome is published.
    fn is_done(&self) -> bool;
}

/// How a shard's operations ended. Written as each operation is decided,
/// almost always by the reactor thread: on a cache line of its own, away
/// from the entries that submitting threads write.
#[derive(Default)]
#[repr(align(128))]
struct Ended {
    completed: AtomicU64,
    failed: AtomicU64,
    panicked: AtomicU64,
    cancelled: AtomicU64,
    stopped: AtomicU64,
    timed_out_waits: AtomicU64,
}

/// How many operations a shard admitted. Written by the submitting
/// threads of the shard, on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Submitted(AtomicU64);

impl Ended {
    /// How many operations ended, however.
    fn total(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
            + self.panicked.load(Ordering::Relaxed)
            + self.cancelled.load(Ordering::Relaxed)
            + self.stopped.load(Ordering::Relaxed)
    }
}

// Each shard on its own cache lines, so neighbours do not false-share.
#[repr(align(128))]
pub(crate) struct Shard {
    entries: Mutex<Entries>,
    submitted: Submitted,
    ended: Ended,
    epoch: Instant,
    pub(crate) config: Arc<Config>,
}

/// A registered operation, and since when it is aged (see [`Shard::now`];
/// 0: not yet): with its slab key, that names the registration, since keys
/// are reused.
struct Entry {
    cell: Arc<dyn Member>,
    at: u64,
}

#[derive(Default)]
struct Entries {
    /// Registered operations: pending ones, and finished ones whose last
    /// handle is still alive (they leave with it).
    live: Slab<Entry>,
    /// Aged entries by the time they were stamped (their key, and when),
    /// for the oldest pending one without a scan: finished or removed ones
    /// are dropped from the front as they are met.
    order: VecDeque<(u64, usize)>,
    /// Shutdown has begun: nothing is admitted any more.
    closed: bool,
}

impl Entries {
    /// Since when the oldest aged operation that is still pending is
    /// aged. Amortised O(1): each entry leaves the front once.
    fn oldest_pending(&mut self) -> Option<u64> {
        while let Some(&(at, key)) = self.order.front() {
            match self.live.get(key) {
                Some(entry) if entry.at == at && !entry.cell.is_done() => return Some(at),
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }

    /// Whether `order`'s `(at, key)` is still a live registration.
    fn holds(&self, at: u64, key: usize) -> bool {
        self.live.get(key).is_some_and(|entry| entry.at == at)
    }

    /// Keeps `order` in proportion to the live entries: registrations of
    /// operations that left are dropped from the front as they are met,
    /// and all of them once the queue outgrows the live entries twice
    /// over (an operation registered early that stays pending would
    /// otherwise hold everything behind it). Amortised O(1).
    fn compact(&mut self) {
        while let Some(&(at, key)) = self.order.front() {
            if self.holds(at, key) {
                break;
            }
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.live.len() + 64 {
            let live = &self.live;
            self.order
                .retain(|&(at, key)| live.get(key).is_some_and(|entry| entry.at == at));
        }
    }
}

impl Shard {
    fn lock(&self) -> Result<MutexGuard<'_, Entries>, WaitError> {
        fork::lock(&self.entries, &self.config.fork)
    }

    /// Now, in nanoseconds since the shard's epoch: half the size of an
    /// `Instant` on every operation.
    pub(crate) fn now(&self) -> u64 {
        // Seconds and nanoseconds, not `as_nanos`: no 128-bit arithmetic on
        // every submission (and 584 years before it saturates).
        let elapsed = sync::now().saturating_duration_since(self.epoch);
        elapsed
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(elapsed.subsec_nanos()))
    }

    fn instant(&self, nanos: u64) -> Instant {
        self.epoch + Duration::from_nanos(nanos)
    }

    /// Counts a submission, admitted or not. No lock: a refused operation
    /// ends (as stopped, or failed) like any other, and `pending` is the
    /// difference.
    pub(crate) fn count_submission(&self) {
        self.submitted.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Admits a pending operation: registers `cell`, and its key in `key`,
    /// unless the registry is closed. Called once per operation, by its
    /// submitter, before its task exists.
    ///
    /// # Errors
    ///
    /// `ReactorStopped` once [`Registry::close`] ran; `Forked` in a child
    /// forked after the reactor started, when the shard's lock is busy
    /// there (a parent thread may have held it at the fork).
    pub(crate) fn admit(&self, cell: Arc<dyn Member>, key: &AtomicUsize) -> Result<(), WaitError> {
        // Aged from its submission only while operations are timed (a slow
        // threshold is set): otherwise from its first poll that does not
        // finish it (`age`), so that a round trip reads no clock.
        let timed = self.config.slow_threshold().is_some();
        let mut entries = self.lock()?;
        if entries.closed {
            return Err(WaitError::ReactorStopped);
        }
        let inserted = entries.live.insert(Entry { cell, at: 0 });
        if timed {
            self.stamp(&mut entries, inserted);
        }
        // Under the shard lock, like `remove`'s swap: a removal racing with
        // this registration finds the key.
        key.store(inserted, Ordering::Relaxed);
        Ok(())
    }

    /// Starts aging the operation registered under `key`, unless it is
    /// already: its task's first poll did not finish it.
    pub(crate) fn age(&self, key: &AtomicUsize) {
        if let Ok(mut entries) = self.lock() {
            let key = key.load(Ordering::Relaxed);
            if entries.live.get(key).is_some_and(|entry| entry.at == 0) {
                self.stamp(&mut entries, key);
            }
        }
    }

    /// Stamps entry `key` with the time, and queues it by that time: read
    /// under the lock, so that times grow along `order`.
    fn stamp(&self, entries: &mut Entries, key: usize) {
        let at = self.now().max(1);
        if let Some(entry) = entries.live.get_mut(key) {
            entry.at = at;
        }
        entries.compact();
        entries.order.push_back((at, key));
    }

    /// Records that a wait on one of this reactor's results timed out.
    pub(crate) fn note_timed_out_wait(&self) {
        self.ended.timed_out_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts how an operation ended (once, as it is decided), and, while a
    /// slow threshold is set, logs it if it took longer since it was
    /// admitted under `key`, naming it by `origin`, asked only then. Takes
    /// no lock unless a threshold is set.
    pub(crate) fn ended(&self, status: Status, key: &AtomicUsize, origin: impl FnOnce() -> Origin) {
        let counter = match status {
            Status::Ready | Status::Taken => &self.ended.completed,
            Status::Cancelled => &self.ended.cancelled,
            Status::Stopped | Status::Pending | Status::Cancelling | Status::Stopping => {
                &self.ended.stopped
            }
            Status::Panicked => &self.ended.panicked,
            Status::Failed => &self.ended.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let Some(threshold) = self.config.slow_threshold() else {
            return;
        };
        if let Some(admitted_at) = self.admitted_at(key) {
            let took = Duration::from_nanos(self.now().saturating_sub(admitted_at));
            if took > threshold {
                let origin = origin();
                tracing::warn!(
                    target: "crochet",
                    operation = origin.operation(),
                    location = %origin.location,
                    took = ?took,
                    "slow operation: it took {took:.1?}, over the {threshold:?} threshold"
                );
            }
        }
    }

    /// Since when the operation registered under `key` is aged (from its
    /// admission, when it was timed then), while it is registered.
    fn admitted_at(&self, key: &AtomicUsize) -> Option<u64> {
        let entries = self.lock().ok()?;
        entries
            .live
            .get(key.load(Ordering::Relaxed))
            .map(|entry| entry.at)
            .filter(|&at| at != 0)
    }

    /// Takes an operation's entry out, once: the first call with `key`
    /// removes it, later ones find nothing. Called by whichever comes last
    /// of its end and its last handle's drop.
    pub(crate) fn remove(&self, key: &AtomicUsize) {
        // Never registered (refused, or forked): no lock to take.
        if key.load(Ordering::Relaxed) == usize::MAX {
            return;
        }
        let removed = {
            let Ok(mut entries) = self.lock() else {
                return;
            };
            match key.swap(usize::MAX, Ordering::Relaxed) {
                usize::MAX => None,
                key => entries.live.try_remove(key).map(|entry| entry.cell),
            }
        };
        // Dropped outside the lock: it may be the cell's last reference.
        drop(removed);
    }
}

pub(crate) struct Registry {
    shards: Box<[Arc<Shard>]>,
    pub(crate) config: Arc<Config>,
}

/// How many are pending, of `submitted` operations of which `ended` ended.
/// The counters are read one after the other while operations end: an
/// operation submitted after its shard was read may already be counted as
/// ended, hence the saturation.
fn pending(submitted: u64, ended: u64) -> usize {
    usize::try_from(submitted.saturating_sub(ended)).unwrap_or(usize::MAX)
}

/// A snapshot of the counters of all shards.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) submitted: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) panicked: u64,
    pub(crate) cancelled: u64,
    pub(crate) stopped: u64,
    pub(crate) pending: usize,
    pub(crate) timed_out_waits: u64,
    pub(crate) oldest_pending: Option<Instant>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        let config = Arc::new(Config::default());
        let epoch = sync::now();
        Registry {
            shards: (0..SHARDS)
                .map(|_| {
                    Arc::new(Shard {
                        entries: Mutex::new(Entries::default()),
                        submitted: Submitted::default(),
                        ended: Ended::default(),
                        epoch,
                        config: Arc::clone(&config),
                    })
                })
                .collect(),
            config,
        }
    }

    /// The calling thread's shard.
    pub(crate) fn shard(&self) -> Arc<Shard> {
        Arc::clone(&self.shards[sync::shard_index()])
    }

    /// Closes the registry for good (nothing is admitted any more),
    /// requests the end of every operation still pending (its task drops
    /// its future, then publishes), and returns them, to wait for.
    /// Idempotent: a second call finds nothing new to stop.
    pub(crate) fn close(&self) -> Vec<Arc<dyn Member>> {
        let mut pending = Vec::new();
        for shard in self.shards.iter() {
            // A shard whose lock a parent thread held at a fork: nothing
            // of it runs here.
            let Ok(mut entries) = shard.lock() else {
                continue;
            };
            entries.closed = true;
            pending.extend(
                entries
                    .live
                    .iter()
                    .filter(|(_, entry)| !entry.cell.is_done())
                    .map(|(_, entry)| Arc::clone(&entry.cell)),
            );
        }
        // Outside the shard locks: requesting wakes tasks.
        for cell in &pending {
            cell.request_stop();
        }
        pending
    }

    /// How many entries the registry holds, pending or not (for the loom
    /// model's leak check).
    #[cfg(all(test, loom))]
    pub(crate) fn entries(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().expect("no fork under loom").live.len())
            .sum()
    }

    /// How many operations are pending: submitted and not ended, by the
    /// counters alone (O(shards), no lock).
    pub(crate) fn len(&self) -> usize {
        let (mut submitted, mut ended) = (0_u64, 0_u64);
        for shard in self.shards.iter() {
            submitted += shard.submitted.0.load(Ordering::Relaxed);
            ended += shard.ended.total();
        }
        pending(submitted, ended)
    }

    /// Adds up every shard's counters.
    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        let mut oldest: Option<Instant> = None;
        for shard in self.shards.iter() {
            let oldest_here = shard
                .lock()
                .ok()
                .and_then(|mut entries| entries.oldest_pending());
            let ended = &shard.ended;
            totals.submitted += shard.submitted.0.load(Ordering::Relaxed);
            totals.completed += ended.completed.load(Ordering::Relaxed);
            totals.failed += ended.failed.load(Ordering::Relaxed);
            totals.panicked += ended.panicked.load(Ordering::Relaxed);
            totals.cancelled += ended.cancelled.load(Ordering::Relaxed);
            totals.stopped += ended.stopped.load(Ordering::Relaxed);
            totals.timed_out_waits += ended.timed_out_waits.load(Ordering::Relaxed);
            if let Some(nanos) = oldest_here {
                let since = shard.instant(nanos);
                oldest = Some(oldest.map_or(since, |oldest| oldest.min(since)));
            }
        }
        let ended =
            totals.completed + totals.failed + totals.panicked + totals.cancelled + totals.stopped;
        totals.pending = pending(totals.submitted, ended);
        totals.oldest_pending = oldest;
        totals
    }
}
